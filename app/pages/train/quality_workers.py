"""Background work for the Train page's training-quality tools: augmented samples and the LR sweep.

``AugmentSamplesWorker`` decodes a few of the user's images and augments them with
the chosen preset (the strip above the settings). ``LRFindWorker`` iterates
``model.training.lr_find.lr_find`` and emits each step and the result. Both are
``app.workers.Worker``s: the backend is imported in the worker thread.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace

from PySide6.QtCore import Signal

from app.workers import Worker

STRIP_SAMPLES = 8


class AugmentSamplesWorker(Worker):
    """Eight augmented samples of the first images of a few classes, as HxWx3 uint8 arrays."""

    samples_ready = Signal(object, object)  # list of numpy arrays, the request key they answer

    def __init__(self, files: list[str], image_size: int, preset: str, flip: bool, key: object = None) -> None:
        super().__init__("Showing augmented samples")
        self.files = list(files)
        self.image_size = image_size
        self.preset = preset
        self.flip = flip
        self.key = key

    def work(self) -> None:
        from model.core.errors import ImageError
        from model.imaging.images import load_image
        from model.training.augment import augmented_samples

        images = []
        for path in self.files:
            if self.stop_requested:
                return
            try:
                images.append(load_image(path, draft_size=(2 * self.image_size, 2 * self.image_size)))
            except ImageError:
                continue  # the strip shows the images that decode; training reports the others
        if not images or self.stop_requested:
            return
        samples = augmented_samples(images, self.image_size, self.preset, self.flip, STRIP_SAMPLES)
        if not self.stop_requested:
            self.samples_ready.emit(samples, self.key)


class LRFindWorker(Worker):
    """The learning-rate sweep on the form's settings: ``step_done`` per step, ``result_ready`` at the end."""

    step_done = Signal(object)  # model.core.events.LRFinderStep
    result_ready = Signal(object)  # model.core.events.LRFinderResult
    notice_posted = Signal(object)  # model.core.events.Notice

    def __init__(self, config) -> None:
        """``config``: a ``model.core.train_config.TrainConfig``; nothing is written to its run folder."""
        super().__init__("Finding a learning rate")
        self.config = config

    def work(self) -> None:
        from model.core.events import LRFinderResult, LRFinderStep, Notice
        from model.training.engine import TrainControl, check_config
        from model.training.lr_find import lr_find

        config = replace(self.config, out_dir=tempfile.gettempdir())  # the sweep writes nothing
        check_config(config)
        control = TrainControl()
        self.control = control
        for ev in lr_find(config, control):
            if self.stop_requested:
                control.stop()
                return
            if isinstance(ev, LRFinderStep):
                self.step_done.emit(ev)
            elif isinstance(ev, LRFinderResult):
                self.result_ready.emit(ev)
            elif isinstance(ev, Notice):
                self.notice_posted.emit(ev)


__all__ = ["AugmentSamplesWorker", "LRFindWorker", "STRIP_SAMPLES"]
