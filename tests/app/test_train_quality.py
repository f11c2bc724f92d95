"""The Train page's training-quality tools: the augmentation strip, the LR finder, the reliability
diagram and the imbalance sentence in the dataset summary."""

from __future__ import annotations

import pytest
import torch

from model.core.events import LRFinderResult, LRFinderStep
from tests.app.test_train_page import make_dataset, open_train_page, scan


@pytest.fixture(autouse=True)
def user_data_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


@pytest.fixture
def page(window, tmp_path):
    return open_train_page(window, tmp_path)


def test_the_augmentation_strip_shows_eight_samples_and_follows_the_form(qtbot, page, tmp_path):
    scan(qtbot, page, make_dataset(tmp_path / "ds"))
    qtbot.waitUntil(lambda: page.strip.shown == 8, timeout=120_000)  # the first use imports torchvision
    assert "light augmentation" in page.strip.caption.text() and "no flips" in page.strip.caption.text()
    page.form.augment.setCurrentIndex(page.form.augment.findData("strong"))
    page.form.flip.setChecked(True)
    qtbot.waitUntil(lambda: "strong augmentation" in page.strip.caption.text() and "with flips" in page.strip.caption.text(),
                    timeout=20_000)
    assert "Mirror images" in page.form.flip_note.text() and "digits" in page.form.flip_note.text()
    page.form.mode.setCurrentIndex(page.form.mode.findData("head"))
    qtbot.waitUntil(lambda: "no augmentation" in page.strip.caption.text(), timeout=5_000)
    assert not page.form.augment.isEnabled()


def test_the_lr_finder_draws_the_curve_and_its_suggestion_goes_into_the_form(qtbot, page, tmp_path, monkeypatch):
    import model.training.lr_find as lr_find_module

    lrs = [10 ** (-6 + 6 * i / 29) for i in range(30)]
    losses = [2.3 - 0.05 * i if i < 20 else 1.3 + 0.5 * (i - 20) for i in range(30)]

    def fake_lr_find(config, control=None, num_steps=100):
        assert config.data_dir and config.augment == "light" and config.flip is False
        for i, (lr, loss) in enumerate(zip(lrs, losses)):
            yield LRFinderStep(i + 1, 30, lr, loss)
        yield LRFinderResult(tuple(lrs), tuple(losses), lrs[12], lrs[12], lrs[10])

    monkeypatch.setattr(lr_find_module, "lr_find", fake_lr_find)
    scan(qtbot, page, make_dataset(tmp_path / "ds"))
    page.form.find_lr_button.click()
    dialog = page.lr_finder
    assert dialog is not None
    with qtbot.waitSignal(dialog.result_shown, timeout=20_000):
        pass
    xs, ys = dialog.curve.getData()
    assert len(xs) == 30 and ys[0] == pytest.approx(2.3)
    assert dialog.marker.isVisible() and dialog.use_button.isEnabled() and dialog.use_button.text() == f"Use {lrs[12]:.1e}"
    dialog.use_button.click()
    assert page.form.lr.value() == pytest.approx(lrs[12], rel=0.05)
    assert page.form.choices().to_config("d").lr == pytest.approx(lrs[12], rel=0.05)


def test_the_reliability_diagram_sits_beside_the_confusion_matrix(qtbot, page):
    from model.training.evaluate import evaluation_from_outputs

    logits = torch.tensor([[3.0, 0.0], [0.0, 2.0], [1.0, 0.5], [0.2, 0.1]])
    ev = evaluation_from_outputs(["a", "b"], ["1", "2", "3", "4"], torch.tensor([0, 1, 1, 0]), logits, temperature=1.5)
    page.results.show_evaluation(ev)
    diagram = page.results.reliability
    assert len(diagram.bar_heights) >= 2 and "ECE" in diagram.title.text() and "1.50" in diagram.title.text()
    assert "calibration error" in page.results.summary.text()


def test_an_imbalanced_dataset_is_said_so_in_its_summary(qtbot, page, tmp_path):
    data = make_dataset(tmp_path / "ds", classes=("red",), per_class=2)
    make_dataset(data, classes=("blue",), per_class=9)
    scan(qtbot, page, data)
    text = page.summary.balance_text
    assert "imbalanced" in text and "'blue' has 9" in text and "'red' 2" in text
    assert "imbalanced" in page.summary.warnings.text()
