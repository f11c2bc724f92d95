"""Comparing earlier runs on the Train page: Compare needs two selected runs, reads them in a worker,
and opens a window with one curve per run and a table with a column per run; a run that cannot be
read is named and left out while the others are still compared."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.app.test_train_page import make_dataset, open_train_page, user_data_in_tmp  # noqa: F401 (autouse fixture)


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """Two tiny runs made by the engine: one epoch at one learning rate, two epochs at another."""
    from model.training.engine import TrainConfig, train
    from model.training.runs import new_run_dir

    root = tmp_path_factory.mktemp("compare")
    data = make_dataset(root / "data", classes=("red", "blue"), per_class=4)
    runs = []
    for epochs, lr in ((1, 0.01), (2, 0.003)):
        run = new_run_dir(root / "runs", data, "b0")
        list(train(TrainConfig(data, run, weights="random", mode="full", epochs=epochs, image_size=32, lr=lr,
                               num_workers=0, device="cpu", val_split=0.5)))
        runs.append(run)
    return runs


@pytest.fixture
def page(window, tmp_path, two_runs):
    page = open_train_page(window, tmp_path)
    for run in two_runs:
        shutil.copytree(run, Path(page.runs_root) / run.name)
    return page


def list_runs(qtbot, page, count: int) -> None:
    page.runs.refresh_runs()
    qtbot.waitUntil(lambda: page.runs_list.count() == count, timeout=20_000)


def select(page, rows) -> None:
    page.runs_list.clearSelection()
    for row in rows:
        page.runs_list.item(row).setSelected(True)


def compare(qtbot, page):
    assert page.runs.compare_button.isEnabled()
    page.runs.compare_button.click()
    dialog = page.runs.comparison
    assert dialog is not None and dialog.isVisible() and not dialog.isModal()
    qtbot.waitUntil(dialog.is_settled, timeout=30_000)
    return dialog


def test_compare_is_offered_only_for_two_or_more_selected_runs(qtbot, window, page):
    list_runs(qtbot, page, 2)
    action = page._menu_actions["compare"]
    select(page, [0])
    assert not page.runs.compare_button.isEnabled() and not action.isEnabled()
    assert page.runs.open_button.isEnabled()  # one run: Open, Rename and Delete act on it
    select(page, [0, 1])
    assert page.runs.compare_button.isEnabled() and action.isEnabled()
    assert not page.runs.open_button.isEnabled()  # two runs: nothing to say which one to open
    assert action.shortcut().toString() == "Ctrl+Shift+R"


def test_two_runs_are_compared_with_a_curve_each_and_a_column_each(qtbot, page, two_runs):
    list_runs(qtbot, page, 2)
    select(page, [0, 1])
    dialog = compare(qtbot, page)

    names = page.runs_list.selected_paths()
    names = [Path(p).name for p in names]
    assert sorted(names) == sorted(run.name for run in two_runs)
    assert dialog.curves.curve_names("val_acc") == names == dialog.curves.curve_names("val_loss")
    one_epoch = names.index(two_runs[0].name)
    assert dialog.curves.point_count("val_acc", one_epoch) == 1 and dialog.curves.point_count("val_acc", 1 - one_epoch) == 2
    for name in names:
        assert name in dialog.curves.legend.text()

    table = dialog.table
    assert table.run_names() == names
    labels = table.row_labels()
    for label in ("Variant", "Learning rate", "Augmentation", "EMA", "Best val accuracy", "Val macro F1", "Took"):
        assert label in labels
    assert {"Learning rate", "Epochs done / asked"} <= set(table.bold_labels())  # what changed between them
    assert "Variant" not in table.bold_labels()
    lr_row = labels.index("Learning rate")
    assert {table.item(lr_row, c).text() for c in range(2)} == {"0.01", "0.003"}
    assert table.item(labels.index("Test accuracy"), 0).text() == "—"  # no test/ folder: nothing to show
    assert "differ in" in dialog.status.text() and "learning rate" in dialog.status.text()
    assert page.is_settled()


def test_a_run_that_cannot_be_read_is_named_and_the_others_are_still_compared(qtbot, page):
    broken = Path(page.runs_root) / "0000-broken-run"
    broken.mkdir()
    (broken / "metrics.csv").write_bytes(b"epoch,train_loss\n\xff\xfe not a number\n")
    list_runs(qtbot, page, 3)
    page.runs_list.selectAll()
    dialog = compare(qtbot, page)

    assert len(dialog.table.run_names()) == 2 and "0000-broken-run" not in dialog.table.run_names()
    assert len(dialog.curves.curve_names()) == 2
    assert "0000-broken-run is left out" in dialog.status.text()
    assert "/0000-broken-run" not in dialog.status.text()  # named by its name, its path in the list's tooltip

    # A second Compare replaces the first window (closed, then deleted).
    from shiboken6 import isValid

    select(page, [0, 1])
    second = compare(qtbot, page)
    assert second is not dialog and second.isVisible()
    qtbot.waitUntil(lambda: not isValid(dialog), timeout=5_000)
