"""Every action of the menu bar can be triggered without an exception, and check marks
track the check boxes they stand for (issue 13, bug 2)."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import QApplication, QFileDialog, QMenu, QMessageBox

from tests.app.conftest import stop_background_work


@pytest.fixture
def no_dialogs(monkeypatch):
    """(Ask for it before ``window``.) Every dialog a menu action may open answers "cancelled" at once, so no action blocks."""
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: ("", "")))
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", staticmethod(lambda *a, **k: ([], "")))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: ("", "")))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: ""))
    for name in ("about", "aboutQt"):
        monkeypatch.setattr(QMessageBox, name, staticmethod(lambda *a, **k: None))
    for name in ("question", "warning", "information", "critical"):
        monkeypatch.setattr(QMessageBox, name, staticmethod(lambda *a, **k: QMessageBox.StandardButton.Cancel))
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda *a, **k: True))
    monkeypatch.setattr(QApplication, "aboutQt", staticmethod(lambda *a, **k: None))  # connected at window build


@pytest.fixture
def raised(monkeypatch):
    """Exceptions that reach sys.excepthook (PySide reports errors in slots there)."""
    seen: list[BaseException] = []
    monkeypatch.setattr(sys, "excepthook", lambda kind, value, tb: seen.append(value))
    return seen


def menu_actions(menu: QMenu):
    for action in menu.actions():
        if action.menu() is not None:
            yield from menu_actions(action.menu())
        elif not action.isSeparator():
            yield action


def all_actions(window) -> list[QAction]:
    found = []
    for top in window.menuBar().actions():
        found.extend(menu_actions(top.menu()))
    return found


def test_every_menu_action_triggers_without_an_exception(qtbot, no_dialogs, raised, window):
    window.show()
    actions = [a for a in all_actions(window) if a.text() != "&Quit"]
    assert len(actions) > 20
    for action in actions:
        # Enabled or not: a disabled action that becomes enabled later runs the same slot.
        action.setEnabled(True)
        action.trigger()
        qtbot.wait(1)
        assert not raised, f"{action.text()!r} raised {raised[0]!r}"
    stop_background_work(window)


def test_quit_in_the_file_menu_closes_the_window(qtbot, no_dialogs, raised, window):
    window.show()
    quit_action = next(a for a in all_actions(window) if a.text() == "&Quit")
    quit_action.trigger()
    qtbot.waitUntil(lambda: not window.isVisible())
    assert not raised


def test_what_se_changed_menu_and_checkbox_stay_in_step(qtbot, no_dialogs, raised, window):
    page = window.page("attention")
    box, action = page.panel.change_toggle, page.change_action
    assert action.isCheckable() and action.isChecked() == box.isChecked() is False
    action.trigger()  # the menu entry (and Ctrl+Shift+D) turns the check box on...
    assert box.isChecked() and action.isChecked()
    assert window.settings.attention_change
    box.setChecked(False)  # ...and the check box moves the menu's check mark
    assert not action.isChecked() and not window.settings.attention_change
    action.trigger()
    action.trigger()
    assert not box.isChecked() and not action.isChecked()
    assert not raised


def test_fast_jpeg_decoding_menu_check_mark_is_the_setting(qtbot, no_dialogs, raised, window):
    action = window.page("classify").fast_decode_action
    assert action.isCheckable() and action.isChecked() == window.settings.fast_decode
    action.trigger()
    assert action.isChecked() and window.settings.fast_decode
    action.trigger()
    assert not action.isChecked() and not window.settings.fast_decode
    assert not raised
