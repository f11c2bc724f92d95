"""The page's side of the augmentation strip: which images to augment, and only the latest answer shown.

Whenever the dataset or the form's augmentation changes, a few of the dataset's
images (the first of each class, for variety) go to an ``AugmentSamplesWorker``
with the form's preset, flip and image size; a request overtaken by a newer one
is stopped and its samples, should they still arrive, are dropped.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Slot

from app.pages.train.augment_strip import AugmentStrip
from app.pages.train.quality_workers import STRIP_SAMPLES, AugmentSamplesWorker
from app.pages.train.train_form import TrainChoices

HEAD_MODE = "Head mode trains on the plain images: no augmentation."


def strip_files(files, count: int = STRIP_SAMPLES) -> list[str]:
    """The first image of each class in turn, ``count`` at most, so the strip shows the dataset's variety."""
    firsts: dict[int, str] = {}
    for path, label in files:
        firsts.setdefault(label, str(path))
    return list(firsts.values())[:count]


class StripFeed(QObject):
    """Fills ``strip`` from a worker on ``pool``; ``refresh`` for each change of the dataset or the form."""

    def __init__(self, pool, strip: AugmentStrip, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = pool
        self.strip = strip
        self._sampler: AugmentSamplesWorker | None = None
        self._key = 0  # bumped per request: only the latest request's samples are shown
        self._caption = ""

    def refresh(self, scan, choices: TrainChoices) -> None:
        """Augment a few of ``scan``'s images as ``choices`` would in training (nothing before a scan)."""
        if scan is None:
            return
        if self._sampler is not None:
            self._sampler.stop()
        self._key += 1  # also in head mode: late samples of a stopped request must not cover its message
        if choices.mode == "head":
            self.strip.show_message(HEAD_MODE)
            return
        from model.core.variants import VARIANTS

        size = choices.image_size or VARIANTS[choices.variant].resolution
        flip = "with flips" if choices.flip else "no flips"
        self._caption = f"Your images as the {choices.augment} augmentation shows them ({flip}); every epoch draws new ones."
        worker = AugmentSamplesWorker(strip_files(scan.files), int(size), choices.augment, choices.flip, self._key)
        worker.samples_ready.connect(self._on_samples)
        self._sampler = worker
        self.pool.start(worker)

    @Slot(object, object)
    def _on_samples(self, samples, key) -> None:
        if key != self._key:
            return  # a request the form has changed since
        self._sampler = None
        self.strip.show_samples(samples, self._caption)
