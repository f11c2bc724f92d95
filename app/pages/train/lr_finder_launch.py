"""The page's side of the learning-rate finder: when it may open, and where its suggestion goes.

It opens on the scanned dataset with the form's settings, only while no run
trains (both would want the same device); an accepted rate goes into the form's
learning-rate box, and a notice says where the number came from.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QWidget

from app.pages.train.lr_finder import LRFinderDialog
from app.pages.train.train_form import TrainForm

NOT_READY = "Choose a dataset (and wait for the backend to load) before finding a learning rate."
BUSY = "A run is training: find a learning rate before starting or after it ends."


class LRFinderLauncher(QObject):
    """Opens an ``LRFinderDialog`` over ``parent`` for ``form``'s settings; ``dialog`` is the latest one."""

    notice_posted = Signal(str, str)  # level ("info" | "warning"), one sentence

    def __init__(self, pool, form: TrainForm, parent: QWidget) -> None:
        super().__init__(parent)
        self.pool = pool
        self.form = form
        self.dialog: LRFinderDialog | None = None

    def open(self, data_dir: str | None, backend_ready: bool, training: bool) -> None:
        """Open the finder on ``data_dir`` (None: no dataset scanned yet), or say why it cannot open now."""
        if data_dir is None or not backend_ready:
            self.notice_posted.emit("warning", NOT_READY)
            return
        if training:
            self.notice_posted.emit("warning", BUSY)
            return
        config = self.form.choices().to_config(data_dir)
        self.dialog = LRFinderDialog(self.pool, config, self.parent())
        self.dialog.rate_accepted.connect(self._on_rate_accepted)
        self.dialog.show()

    @Slot(float)
    def _on_rate_accepted(self, rate: float) -> None:
        self.form.lr.setValue(rate)
        self.notice_posted.emit("info", f"Learning rate set to {rate:.1e} from the finder's suggestion.")
