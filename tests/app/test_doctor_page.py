"""The Doctor page: diagnose a tiny folder with the real backend, go through the findings with the keyboard, undo."""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import replace

import pytest
from PySide6.QtCore import Qt

from tests.doctor_data import EXACT, MISLABELLED, make_doctor_dataset


def _digest(root):
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*.*") if ".studio" not in p.parts}


def _source():
    from model.doctor.features import FeatureSource

    return FeatureSource(None, "b0", "random", image_size=64)  # the real engine, small enough for a test


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A tiny data set diagnosed once by the backend (its features stay cached in its .studio/)."""
    from model.doctor.run import diagnose

    root = make_doctor_dataset(tmp_path_factory.mktemp("doctor-page") / "data")
    gen = diagnose(root, _source(), device="cpu")
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return root, stop.value


@pytest.fixture
def diagnosed_page(qtbot, window, tmp_path, made):
    """The Doctor page showing the report on a fresh copy of the data set (fixes move real files)."""
    root = tmp_path / "data"
    shutil.copytree(made[0], root, ignore=shutil.ignore_patterns(".studio"))
    page = window.page("doctor")
    page.set_folder(str(root))
    page._on_diagnosed(replace(made[1], root=root))
    qtbot.waitUntil(page.is_settled, timeout=30_000)
    return page, root


def test_diagnose_runs_in_a_worker_and_reuses_the_cached_features(qtbot, window, made, monkeypatch):
    page = window.page("doctor")
    monkeypatch.setattr(page, "_source", _source)
    page.set_folder(str(made[0]))
    with qtbot.waitSignal(page.diagnosed, timeout=300_000) as got:
        page.diagnose()
        assert page.cancel_button.isEnabled() and not page.run_button.isEnabled()
    assert [i.path for i in got.args[0].label_issues] == [i.path for i in made[1].label_issues]
    qtbot.waitUntil(page.is_settled, timeout=30_000)
    assert page.run_button.isEnabled() and not page.cancel_button.isEnabled()


def test_findings_are_listed_worst_first_with_thumbnails_and_a_detail_view(diagnosed_page):
    page, _ = diagnosed_page
    labels = page.findings.lists["labels"]
    assert labels.count() >= 1
    assert labels.item(0).text().startswith("probably red, labelled blue\n" + MISLABELLED)
    assert not labels.item(0).icon().isNull()
    assert page.findings.tabText(1).startswith("Duplicates (")
    assert page.detail.index == page.findings.current().index
    assert "red" in page.keys.text() and "Random weights" in page.message.text()
    assert page.map.dots.data.shape[0] == page.report.images


def test_keyboard_fixes_are_real_moves_and_undo_all_restores_every_byte(qtbot, diagnosed_page):
    page, root = diagnosed_page
    before = _digest(root)
    labels = page.findings.lists["labels"]
    labels.setFocus()
    qtbot.keyClick(labels, Qt.Key.Key_Return)  # move to the suggested class
    assert (root / "train/red/oops.png").is_file() and not (root / MISLABELLED).exists()
    assert labels.item(0).text().startswith("✓ moved to red")
    assert page.undo_button.isEnabled()

    qtbot.keyClick(labels, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert (root / MISLABELLED).is_file() and not (root / "train/red/oops.png").exists()
    assert not labels.item(0).text().startswith("✓")

    assert page.findings.select_image(next(i for i, it in enumerate(page.report.items) if it.rel == EXACT[1]))
    dup_view = page.findings.view
    qtbot.keyClick(dup_view, Qt.Key.Key_Delete)  # exclude the copy
    assert (root / ".studio/excluded/green/green0_copy.png").is_file() and not (root / EXACT[1]).exists()

    page.findings.select_image(next(i for i, it in enumerate(page.report.items) if it.rel == MISLABELLED))
    qtbot.keyClick(page.findings.view, Qt.Key.Key_1)  # digit 1: "green"
    assert (root / "train/green/oops.png").is_file()

    page.undo_all_button.click()
    qtbot.waitUntil(lambda: page._undoing is None, timeout=20_000)
    assert _digest(root) == before
    assert not page.undo_button.isEnabled()


def test_keep_marks_the_row_and_moves_on_without_touching_the_file(qtbot, diagnosed_page):
    page, root = diagnosed_page
    before = _digest(root)
    labels = page.findings.lists["labels"]
    qtbot.keyClick(labels, Qt.Key.Key_K)
    assert labels.item(0).text().startswith("✓ kept")
    assert _digest(root) == before


def test_a_click_on_the_map_selects_the_image_and_retrain_hands_the_folder_to_the_train_page(qtbot, window, diagnosed_page, monkeypatch):
    page, root = diagnosed_page
    index = next(i for i, it in enumerate(page.report.items) if it.rel == EXACT[1])
    page.map.picked.emit(index)
    assert page.findings.current().index == index and page.detail.index == index
    started = []
    monkeypatch.setattr(window.page("train"), "train_when_ready", started.append)
    page.retrain_button.click()
    assert started == [str(root)]
    assert window.tabs.currentWidget() is window.page("train")
