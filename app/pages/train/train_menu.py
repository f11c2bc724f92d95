"""The Train menu: the page's buttons again, with shortcuts, enabled exactly when their buttons are."""

from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QPushButton

from app.pages import add_action


def fill_train_menu(menu: QMenu, page) -> dict[str, QAction]:
    """Add the Train page's actions to ``menu``; the page enables each like its button (by name)."""
    actions: dict[str, QAction] = {}

    def add(name: str, text: str, slot, shortcut, tip: str) -> None:
        actions[name] = add_action(menu, page, text, slot, shortcut, tip)

    runs = page.runs
    add("choose", "Choose &dataset folder…", page.choose_dataset, "Ctrl+Shift+F", "A folder with one sub-folder per class")
    menu.addSeparator()
    add("start", "&Start training", page.start, "Ctrl+T", "Start a new run with the page's settings")
    add("pause", "&Pause", page.pause, "Ctrl+P", "Pause after the current step")
    add("resume", "&Resume", page.resume, "Ctrl+R", "Continue a paused run, or a stopped one from its checkpoint")
    add("stop", "S&top", page.stop, "Ctrl+Shift+T", "Stop after the current step; the model and a checkpoint are saved")
    menu.addSeparator()
    add("use", "&Use this model", runs.use_model, "Ctrl+U", "Classify with the fine-tuned model")
    add("save", "Save model &as…", runs.save_model, "Ctrl+Shift+S", "Save a copy of the model file")
    add("export", "E&xport model…", runs.export_model, "Ctrl+Shift+X", "Export to ONNX or TorchScript")
    add("int8", "Export &INT8…", runs.export_int8_model, "Ctrl+Shift+8",
        "Quantise to INT8 (OpenVINO IR) on the run's training images; keep it after seeing the accuracy")
    menu.addSeparator()
    add("compare", "&Compare runs…", runs.compare_selected, "Ctrl+Shift+R",
        "Compare the runs selected in Earlier runs: curves overlaid, settings and results side by side")
    add_action(menu, page, "Show runs &folder", runs.show_runs_folder, None, "Open the folder that holds every run")
    return actions


def follow_buttons(actions: dict[str, QAction], buttons: dict[str, QPushButton]) -> None:
    """Enable each action exactly when its button (same name) is: a shortcut never does what a button cannot."""
    for name, button in buttons.items():
        if name in actions:
            actions[name].setEnabled(button.isEnabled())
