"""Typed settings: defaults, round trips, versioning, and isolation in tmp_path."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from app.settings import VERSION, AppSettings


def test_settings_live_in_the_test_folder(isolated_settings):
    s = AppSettings()
    s.variant = "b3"
    s.sync()
    files = list(isolated_settings.rglob("*.ini"))
    assert len(files) == 1 and "b3" in files[0].read_text()


def test_defaults_for_a_fresh_user():
    s = AppSettings()
    assert s.version == VERSION
    assert (s.variant, s.weights, s.bundle, s.device, s.page) == ("b0", "imagenet", "", "auto", "classify")
    assert s.geometry is None
    assert s.last_folder("images") == str(Path.home())  # not "", which file dialogs read as the working folder
    assert s.models_selected == "b0"
    assert s.fast_decode is False


def test_values_survive_a_new_settings_object(tmp_path):
    s = AppSettings()
    s.variant, s.weights, s.device, s.page = "b7", "/w/b7.pth", "cpu", "models"
    s.bundle = str(tmp_path / "model.pt")
    s.geometry = QByteArray(b"\x01\x02geometry")
    s.set_last_folder("images", str(tmp_path))
    s.models_selected = "b5"
    s.fast_decode = True
    s.sync()
    again = AppSettings()
    assert (again.variant, again.weights, again.device, again.page) == ("b7", "/w/b7.pth", "cpu", "models")
    assert again.bundle == str(tmp_path / "model.pt")
    assert bytes(again.geometry) == b"\x01\x02geometry"
    assert again.last_folder("images") == str(tmp_path)
    assert again.models_selected == "b5"
    assert again.fast_decode is True


def test_a_remembered_folder_that_is_gone_opens_the_home_folder(tmp_path):
    s = AppSettings()
    gone = tmp_path / "moved away"
    gone.mkdir()
    s.set_last_folder("dataset", str(gone))
    assert s.last_folder("dataset") == str(gone)
    gone.rmdir()
    assert s.last_folder("dataset") == str(Path.home())


def test_unknown_values_fall_back_to_defaults():
    raw = QSettings()
    raw.setValue("model/variant", "b42")
    raw.setValue("models/selected", "resnet")
    raw.sync()
    s = AppSettings()
    assert s.variant == "b0" and s.models_selected == "b0"


def test_settings_from_a_newer_version_are_not_misread():
    raw = QSettings()
    raw.setValue("version", VERSION + 5)
    raw.setValue("model/variant", "b4")
    raw.sync()
    s = AppSettings()
    assert s.version == VERSION and s.variant == "b0"


def test_unknown_folder_kinds_are_programming_errors():
    import pytest

    with pytest.raises(KeyError):
        AppSettings().last_folder("music")
