"""Training that starts by itself once its dataset is scanned and the backend has loaded.

The Doctor's "Retrain", the UI benchmark and the screenshot's sample run hand the
Train page a folder and want a run. The scan and the backend both load in the
background, in either order, so the start waits for whichever comes last.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from PySide6.QtCore import QObject

from app.pages.train.train_form import TrainChoices

# The screenshot's run: tiny, from random weights, long enough for curves and a confusion matrix.
SAMPLE_CHOICES = TrainChoices(variant="b0", mode="full", epochs=5, image_size=64, weights="random", val_split=25,
                              batch_size=8)


class Autostart(QObject):
    """Starts ``page``'s run when ``check`` finds both the scan and the backend ready, once per request."""

    def __init__(self, page) -> None:
        super().__init__(page)
        self.page = page
        self.pending = False
        self.sample: tempfile.TemporaryDirectory | None = None  # the screenshot's folder, kept until the app exits

    def train_when_ready(self, folder: str) -> None:
        """Scan ``folder`` and start training with the form's choices as soon as the scan and the backend are ready."""
        self.pending = True
        self.page.set_dataset(folder)

    def sample_run(self) -> None:
        """Train a tiny sample run (generated shapes, random weights, 64 px) so the page shows real results;
        the user's folders and form choices are left as they were."""
        from app.pages.train.sample_data import make_sample_dataset

        self.sample = tempfile.TemporaryDirectory(prefix="efficientnet-studio-sample-")
        root = Path(self.sample.name)
        data = make_sample_dataset(root / "shapes", per_class=12, size=64)
        self.page.remember = False
        self.page.runs_root = str(root / "runs")
        self.page.form.set_choices(SAMPLE_CHOICES)
        self.train_when_ready(str(data))

    def check(self) -> None:
        """Start now if a start is pending and everything it needs is here."""
        page = self.page
        if self.pending and page.scan is not None and page.session.backend is not None:
            self.pending = False
            page.form.refresh_weights()
            page.start()

    def cancel(self) -> None:
        """The backend failed to load: no run will start by itself."""
        self.pending = False
