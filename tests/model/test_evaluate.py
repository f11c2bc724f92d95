"""Evaluation numbers on a case computed by hand, and ``evaluate`` on a real bundle and folder."""

import math
import threading

import pytest
import torch
from tests.model.train_helpers import make_dataset, truncate

from model.nets.bundle import Bundle, save_bundle
from model.training.data import eval_preprocessing
from model.core.errors import DatasetError, StudioError
from model.training.evaluate import evaluate, evaluation_from_outputs
from model.imaging.images import load_image
from model.nets.network import build_model
from model.imaging.transforms import eval_tensor


def test_numbers_on_a_hand_computed_case():
    # true:      0  0  1  1  2  2
    # predicted: 0  1  1  1  2  0     (the logit `a` sits on the predicted class, 0 elsewhere)
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    logits = torch.tensor(
        [[2.0, 0, 0, 0], [0, 3.0, 0, 0], [0, 2.0, 0, 0], [0, 1.0, 0, 0], [0, 0, 2.0, 0], [1.0, 0, 0, 0]]
    )
    paths = [f"img{i}.png" for i in range(6)]
    ev = evaluation_from_outputs(["cat", "dog", "fox", "owl"], paths, labels, logits)
    assert ev.accuracy == pytest.approx(4 / 6) and ev.num_images == 6
    assert ev.confusion_matrix == [[1, 1, 0, 0], [0, 2, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]]
    assert ev.per_class["cat"] == pytest.approx({"precision": 1 / 2, "recall": 1 / 2, "f1": 1 / 2, "support": 2})
    assert ev.per_class["dog"] == pytest.approx({"precision": 2 / 3, "recall": 1.0, "f1": 0.8, "support": 2})
    assert ev.per_class["fox"] == pytest.approx({"precision": 1.0, "recall": 1 / 2, "f1": 2 / 3, "support": 2})
    assert ev.per_class["owl"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert ev.macro_f1 == pytest.approx((0.5 + 0.8 + 2 / 3 + 0) / 4)
    # Mistakes, worst first: img1 (cat → dog, a=3) then img5 (fox → cat, a=1).
    ce = lambda a, true_logit=0.0: math.log(math.exp(a) + 3) - true_logit  # noqa: E731 (4 classes, 3 zeros)
    assert [(m.path, m.true_label, m.predicted_label) for m in ev.mistakes] == [
        ("img1.png", "cat", "dog"),
        ("img5.png", "fox", "cat"),
    ]
    assert ev.mistakes[0].loss == pytest.approx(ce(3.0)) and ev.mistakes[1].loss == pytest.approx(ce(1.0))
    assert ev.mistakes[0].confidence == pytest.approx(math.exp(3) / (math.exp(3) + 3))
    right = [ce(2.0, 2.0), ce(2.0, 2.0), ce(1.0, 1.0), ce(2.0, 2.0)]
    assert ev.loss == pytest.approx((sum(right) + ce(3.0) + ce(1.0)) / 6)
    assert ev.files_in_cell(1, 1) == ["img3.png", "img2.png"]  # worst first: a=1 loses more than a=2
    assert ev.files_in_cell(2, 0) == ["img5.png"] and ev.files_in_cell(3, 3) == []
    d = ev.to_dict()
    assert set(d) >= {"accuracy", "classes", "confusion_matrix", "per_class", "mistakes"}
    assert d["classes"] == ["cat", "dog", "fox", "owl"] and d["mistakes"][0]["true_label"] == "cat"


def _bundle(tmp_path, classes=("blue", "green", "red")):
    torch.manual_seed(0)
    net = build_model("b0", num_classes=len(classes)).eval()
    prep = eval_preprocessing("b0", 32)
    b = Bundle(net.state_dict(), "b0", list(classes), 32, prep)
    return save_bundle(b, tmp_path / "model.pt"), net, prep


def test_evaluate_a_bundle_on_a_folder(tmp_path):
    path, net, prep = _bundle(tmp_path)
    data = make_dataset(tmp_path / "ds", classes=("blue", "red"), per_class=3)  # a folder may lack classes
    bad = truncate(data / "red" / "1.png")
    seen = []
    ev = evaluate(path, data, device="cpu", progress=lambda d, t: seen.append((d, t)), batch_size=2)
    assert ev.num_images == 5 and ev.class_names == ["blue", "green", "red"]
    assert [p for p, _ in ev.skipped] == [str(bad)]
    assert seen[-1] == (6, 6)
    # The same numbers as running the network by hand on the same preprocessing.
    files = sorted(p for p in data.rglob("*.png") if p != bad)
    x = torch.stack([eval_tensor(load_image(p, draft_size=(prep.resize_size,) * 2), prep) for p in files])
    labels = torch.tensor([0 if p.parent.name == "blue" else 2 for p in files])
    with torch.no_grad():
        by_hand = evaluation_from_outputs(ev.class_names, [str(p) for p in files], labels, net(x))
    assert ev.confusion_matrix == by_hand.confusion_matrix
    assert ev.loss == pytest.approx(by_hand.loss, abs=1e-4)


def test_evaluate_refuses_unknown_classes_and_can_be_cancelled(tmp_path):
    path, _, _ = _bundle(tmp_path, classes=("blue", "green"))
    data = make_dataset(tmp_path / "ds", classes=("blue", "zebra"), per_class=1)
    with pytest.raises(DatasetError, match="class 'zebra' the model does not know"):
        evaluate(path, data, device="cpu")
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(StudioError, match="cancelled"):
        evaluate(path, make_dataset(tmp_path / "ok", classes=("blue",), per_class=2), device="cpu", cancel=cancel)
