"""Models ▸ Inference runtime: Auto, ONNX Runtime, OpenVINO or PyTorch, remembered in the settings.

Auto uses, per variant, the runtime and precision "Measure on this machine"
found fastest among those that agree with fp32 (before any measurement: ONNX
Runtime on a CPU, PyTorch on a GPU). Choosing another entry loads the active
classifier again with it; the status bar names what it then really runs on.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu

from app.settings import RUNTIMES

TITLES = {
    "auto": "&Auto (the fastest measured here)",
    "onnxruntime": "&ONNX Runtime (CPU)",
    "openvino": "Open&VINO (CPU)",
    "torch": "&PyTorch",
}


class RuntimeMenu(QObject):
    """Fills ``menu`` with one checkable action per runtime and tells the session about a choice."""

    def __init__(self, menu: QMenu, session) -> None:
        super().__init__(menu)
        self.session = session
        self.group = QActionGroup(self)
        current = session.settings.runtime
        for runtime in RUNTIMES:
            action = QAction(TITLES[runtime], menu)
            action.setCheckable(True)
            action.setData(runtime)
            action.setChecked(runtime == current)
            action.triggered.connect(self._on_chosen)
            self.group.addAction(action)
            menu.addAction(action)
        menu.setToolTipsVisible(True)

    def actions(self) -> list[QAction]:
        return self.group.actions()

    @Slot()
    def _on_chosen(self) -> None:
        self.session.set_runtime(self.sender().data())
