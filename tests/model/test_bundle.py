import os
import pickle

import pytest
import torch

from model.nets.bundle import Bundle, atomic_torch_save, load_bundle, save_bundle
from model.core.errors import BundleError
from model.nets.network import build_model
from model.core.variants import get_variant


def _bundle(classes=("cat", "dog")):
    net = build_model("b0", num_classes=len(classes))
    return Bundle(
        state_dict=net.state_dict(),
        variant="b0",
        class_names=list(classes),
        image_size=64,
        preprocessing=get_variant("b0").eval_preprocessing.at_size(64),
        config={"epochs": 1},
        history=[{"epoch": 1, "val_acc": 0.5}],
    )


def test_round_trip(tmp_path):
    b = _bundle()
    path = save_bundle(b, tmp_path / "m.pt")
    back = load_bundle(path)
    assert back.class_names == ["cat", "dog"] and back.variant == "b0" and back.image_size == 64
    assert back.preprocessing == b.preprocessing
    assert back.history == b.history and back.versions["torch"] == torch.__version__
    net = back.build_model()
    assert torch.equal(net.classifier[-1].weight, b.state_dict["classifier.1.weight"])


def test_crash_mid_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = save_bundle(_bundle(("a", "b")), tmp_path / "m.pt")
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(OSError):
        save_bundle(_bundle(("x", "y")), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]  # no temp file left behind


class _Evil:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def test_a_pickle_with_code_is_refused_without_running(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"format": "x", "payload": _Evil()}, path)
    with pytest.raises(BundleError, match="refused"):
        load_bundle(path)
    # A legacy (non-zip) pickle with code is refused too.
    with open(tmp_path / "legacy.pt", "wb") as f:
        pickle.dump({"payload": _Evil()}, f, protocol=2)
    with pytest.raises(BundleError):
        load_bundle(tmp_path / "legacy.pt")
    assert not os.path.exists("PWNED")


def test_not_a_bundle_and_damaged_file(tmp_path):
    atomic_torch_save({"weight": torch.zeros(1)}, tmp_path / "plain.pt")
    with pytest.raises(BundleError, match="not an EfficientNet Studio model bundle"):
        load_bundle(tmp_path / "plain.pt")
    (tmp_path / "junk.pt").write_bytes(b"garbage")
    with pytest.raises(BundleError, match="not a readable"):
        load_bundle(tmp_path / "junk.pt")
    with pytest.raises(BundleError, match="no such"):
        load_bundle(tmp_path / "missing.pt")


def test_weights_that_do_not_fit_are_a_clear_error(tmp_path):
    b = _bundle()
    b.class_names = ["a", "b", "c"]  # head has 2 outputs
    with pytest.raises(BundleError, match="do not fit"):
        load_bundle(save_bundle(b, tmp_path / "m.pt")).build_model()
