"""At launch, fetch the active variant's ImageNet weights when they are missing and the network is there.

Without this a first launch classified with random weights until the user found
the Download button. The download runs once per launch, in the banner's job bar
(progress and Cancel); images dropped meanwhile wait for it and are classified
with the real weights. Random weights remain for who chooses them (Cancel, or
random weights picked on the Models page) and for a computer that is offline.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal, Slot

from app.pages.models.weights_actions import WeightsActions
from app.session import ModelSession
from app.widgets.job_bar import JobBar


class FirstDownload(QObject):
    """Starts the download on its own and tells the page when dropped images must wait for it."""

    started = Signal()  # the download began: dropped images wait from now on
    wait_over = Signal()  # the weights arrived, or the download failed or was cancelled

    def __init__(self, session: ModelSession, weights: WeightsActions, job: JobBar, parent: QObject) -> None:
        super().__init__(parent)
        self.session = session
        self.weights = weights
        self.job = job
        self.tried = False  # once per launch: after a Cancel the banner's Download button is the way
        self.running = False
        job.finished.connect(self._on_job_finished)

    @Slot()
    def check(self) -> None:
        """Start the download if the active model stands in for missing ImageNet weights and we are online."""
        active = self.session.active
        if self.tried or active is None or not active.imagenet_missing or self.session.online is not True:
            return
        self.tried = True
        if self.weights.download(active.variant):
            self.follow()

    def follow(self) -> None:
        """The banner's download has started (on its own or by the Download button): images wait for it."""
        self.running = True
        self.started.emit()

    def images_must_wait(self) -> bool:
        """True while classifying now would use random weights that are about to be replaced."""
        session, active = self.session, self.session.active
        if active is None or not active.imagenet_missing:
            return False
        if self.running:
            return True
        if session.online is None and session.probing and not self.tried:
            return True  # the download may start as soon as the online check answers
        loading = session.loading  # the weights arrived and the real model is being built
        return loading is not None and loading.variant == active.variant and loading.weights == "imagenet"

    def download_mb(self) -> float | None:
        active = self.session.active
        return next((f.download_mb for f in self.session.facts if active and f.name == active.variant), None)

    @Slot()
    def _on_job_finished(self) -> None:
        if self.running:
            self.running = False
            self.wait_over.emit()
