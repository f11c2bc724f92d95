"""ImageNet weights in torch's cache, the download (on a loopback server), and users' weights files."""

from __future__ import annotations

import functools
import hashlib
import http.server
import os
import pickle
import socket
import threading
import urllib.request

import pytest
import torch

from model.nets import weights as W
from model.nets.bundle import Bundle, save_bundle
from model.nets.classifier import load_classifier
from model.core.errors import DownloadCancelled, WeightsError, WeightsOfflineError
from model.nets.network import build_empty_model
from model.core.variants import VARIANT_NAMES, get_variant
from model.nets.weights_check import guess_variant, variant_signature


def fake_state(variant: str, num_classes: int = 1000, seed: int = 0) -> dict[str, torch.Tensor]:
    """A state dict with the variant's exact keys and shapes, filled with random numbers (no model built)."""
    g = torch.Generator().manual_seed(seed)
    out = {}
    for k, t in build_empty_model(variant, num_classes).state_dict().items():
        out[k] = torch.randn(t.shape, generator=g) if t.is_floating_point() else torch.zeros(t.shape, dtype=t.dtype)
    return out


# --- cache -------------------------------------------------------------------


def test_cache_path_is_torchvisions_file_name_under_torch_home(_isolated_torch_home):
    path = W.imagenet_cache_path("b0")
    assert path == _isolated_torch_home / "hub" / "checkpoints" / "efficientnet_b0_rwightman-7f5810bc.pth"
    assert W.imagenet_file_name("b1") == os.path.basename(W.imagenet_weights_enum(get_variant("b1")).url)
    assert W.hash_prefix_of(path.name) == "7f5810bc"
    assert not W.is_imagenet_cached("b0")


def test_cache_hit_loads_without_touching_the_network(monkeypatch):
    state = fake_state("b0")
    path = W.imagenet_cache_path("b0")
    path.parent.mkdir(parents=True)
    torch.save(state, path)

    def no_network(*args, **kwargs):
        raise AssertionError("the network must not be used on a cache hit")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    assert W.is_imagenet_cached("b0")
    assert W.download_imagenet("b0") == path
    clf = load_classifier("b0", "imagenet")
    assert clf.source == "ImageNet weights" and clf.variant.name == "b0"
    assert len(clf.class_names) == 1000 and clf.class_names[0] == "tench"
    assert clf.preprocessing == get_variant("b0").eval_preprocessing
    assert torch.equal(clf.model.features[0][0].weight, state["features.0.0.weight"])
    assert not clf.model.training and clf.model.features[0][0].weight.device.type == "cpu"


# --- download ----------------------------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture
def served(tmp_path):
    """(folder, base URL) of an HTTP server on 127.0.0.1 serving that folder."""
    folder = tmp_path / "served"
    folder.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _serve_file(folder, payload: bytes, hash_prefix: str | None = None) -> str:
    prefix = hash_prefix or hashlib.sha256(payload).hexdigest()[:8]
    name = f"efficientnet_b0_test-{prefix}.pth"
    (folder / name).write_bytes(payload)
    return name


def _cache_dir_is_empty() -> bool:
    folder = W.imagenet_cache_path("b0").parent
    return not folder.exists() or not any(folder.iterdir())


def test_download_reports_progress_checks_the_hash_and_lands_in_the_cache(served):
    folder, base = served
    payload = os.urandom(3 * W.CHUNK_BYTES + 1234)
    name = _serve_file(folder, payload)
    seen: list[tuple[int, int | None]] = []
    path = W.download_imagenet("b0", progress=lambda done, total: seen.append((done, total)), url=f"{base}/{name}")
    assert path == W.imagenet_cache_path("b0") and path.read_bytes() == payload
    assert seen[0] == (0, len(payload)) and seen[-1] == (len(payload), len(payload))
    assert len(seen) >= 4 and [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no .partial left
    assert W.is_imagenet_cached("b0")


def test_a_hash_mismatch_leaves_nothing_in_the_cache(served):
    folder, base = served
    name = _serve_file(folder, os.urandom(10_000), hash_prefix="deadbeef")
    with pytest.raises(WeightsError, match="corrupt"):
        W.download_imagenet("b0", url=f"{base}/{name}")
    assert _cache_dir_is_empty() and not W.is_imagenet_cached("b0")


def test_cancel_stops_the_download_and_leaves_nothing(served):
    folder, base = served
    name = _serve_file(folder, os.urandom(4 * W.CHUNK_BYTES))
    cancel = threading.Event()
    seen = []

    def progress(done, total):
        seen.append(done)
        if done > 0:
            cancel.set()

    with pytest.raises(DownloadCancelled, match="nothing was saved"):
        W.download_imagenet("b0", progress=progress, cancel=cancel, url=f"{base}/{name}")
    assert 0 < seen[-1] < 4 * W.CHUNK_BYTES
    assert _cache_dir_is_empty()


class _StallingHandler(http.server.BaseHTTPRequestHandler):
    """Sends the first chunk of a large file, then stalls until the test ends."""

    release = threading.Event()

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(10 * W.CHUNK_BYTES))
        self.end_headers()
        self.wfile.write(b"x" * W.CHUNK_BYTES)
        self.wfile.flush()
        self.release.wait(60)

    def log_message(self, *args):
        pass


def test_cancel_of_a_stalled_download_takes_effect_at_once_not_after_the_timeout():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _StallingHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    cancel, got_bytes, outcome = threading.Event(), threading.Event(), []

    def download():
        try:
            W.download_imagenet("b0", progress=lambda done, total: done and got_bytes.set(), cancel=cancel,
                                url=f"http://127.0.0.1:{server.server_address[1]}/efficientnet_b0_x-12345678.pth")
        except Exception as e:  # noqa: BLE001 - the test inspects it
            outcome.append(e)

    thread = threading.Thread(target=download, daemon=True)
    try:
        thread.start()
        assert got_bytes.wait(10)  # the first chunk arrived; the server now stalls
        cancel.set()
        thread.join(W.TIMEOUT_SECONDS / 3)  # without the watcher the read blocks for the whole timeout
        assert not thread.is_alive()
        assert len(outcome) == 1 and isinstance(outcome[0], DownloadCancelled)
        assert _cache_dir_is_empty()
    finally:
        _StallingHandler.release.set()
        server.shutdown()
        server.server_close()


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/efficientnet_b0_rwightman-7f5810bc.pth"


def test_offline_is_one_clear_sentence_saying_what_to_do(monkeypatch):
    url = _closed_port_url()
    with pytest.raises(WeightsOfflineError) as err:
        W.download_imagenet("b0", url=url)
    message = str(err.value)
    assert "import a weights file" in message and "--weights random" in message and "\n" not in message
    in_app = err.value.for_place("app")
    assert "Import weights file… on the Models page" in in_app and "random weights" in in_app
    assert "--" not in in_app and "File menu" not in in_app
    assert _cache_dir_is_empty()
    # The same through load_classifier, which downloads from torchvision's address.
    monkeypatch.setattr(W, "imagenet_url", lambda variant: url)
    with pytest.raises(WeightsOfflineError):
        load_classifier("b0", "imagenet")


def test_a_missing_file_on_the_server_is_a_weights_error(served):
    _, base = served
    with pytest.raises(WeightsError, match="HTTP 404"):
        W.download_imagenet("b0", url=f"{base}/efficientnet_b0-00000000.pth")
    assert _cache_dir_is_empty()


# --- users' files ------------------------------------------------------------


def test_a_users_state_dict_loads_even_when_wrapped(tmp_path):
    state = fake_state("b0")
    path = tmp_path / "mine.pth"
    torch.save({"state_dict": {f"module.{k}": v for k, v in state.items()}, "epoch": 3}, path)
    clf = load_classifier("b0", path)
    assert clf.source == "weights file mine.pth" and len(clf.class_names) == 1000
    assert torch.equal(clf.model.classifier[1].weight, state["classifier.1.weight"])


def test_a_state_dict_with_another_class_count_gets_numbered_classes(tmp_path):
    path = tmp_path / "ten.pt"
    torch.save({"model": fake_state("b0", num_classes=10)}, path)
    clf = load_classifier("b0", str(path))
    assert clf.class_names == [f"class {i}" for i in range(10)]
    assert clf.model.classifier[1].out_features == 10


def test_weights_of_another_variant_name_that_variant(tmp_path):
    path = tmp_path / "b1.pth"
    torch.save(fake_state("b1"), path)
    with pytest.raises(WeightsError, match=r"EfficientNet-B1, not EfficientNet-B0; choose variant b1"):
        load_classifier("b0", path)
    path7 = tmp_path / "b0.pth"
    torch.save(fake_state("b0", num_classes=5), path7)
    with pytest.raises(WeightsError, match="EfficientNet-B0, not EfficientNet-B7"):
        load_classifier("b7", path7)


def test_every_variant_has_its_own_signature():
    signatures = {frozenset(variant_signature(v).items()) for v in VARIANT_NAMES}
    assert len(signatures) == len(VARIANT_NAMES)
    assert guess_variant(fake_state("b3")) == ("b3", 1.0)


def test_partial_and_foreign_state_dicts_are_clear_errors(tmp_path):
    state = fake_state("b0")
    del state["features.8.1.running_var"]
    torch.save(state, tmp_path / "partial.pth")
    with pytest.raises(WeightsError, match="do not fit EfficientNet-B0 .*1 missing"):
        load_classifier("b0", tmp_path / "partial.pth")
    torch.save({"fc.weight": torch.zeros(10, 512), "fc.bias": torch.zeros(10)}, tmp_path / "resnet.pth")
    with pytest.raises(WeightsError, match="not EfficientNet B0-B7 weights"):
        load_classifier("b0", tmp_path / "resnet.pth")
    torch.save([1, 2, 3], tmp_path / "list.pth")
    with pytest.raises(WeightsError, match="not a weights file"):
        load_classifier("b0", tmp_path / "list.pth")


def test_a_damaged_cached_file_says_to_delete_it():
    path = W.imagenet_cache_path("b0")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"half a download")
    with pytest.raises(WeightsError, match="cached ImageNet weights are unusable .*delete"):
        load_classifier("b0", "imagenet")


def test_a_damaged_or_missing_file_is_a_clear_error(tmp_path):
    good = tmp_path / "good.pth"
    torch.save(fake_state("b0"), good)
    damaged = tmp_path / "damaged.pth"
    damaged.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(WeightsError, match="not a readable"):
        load_classifier("b0", damaged)
    with pytest.raises(WeightsError, match="no such"):
        load_classifier("b0", tmp_path / "nope.pth")


class _RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_a_pickle_that_would_run_code_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "evil.pth"
    torch.save({"features.0.0.weight": torch.zeros(1), "x": _RunsCode(marker)}, path)
    with pytest.raises(WeightsError, match="refused"):
        load_classifier("b0", path)
    legacy = tmp_path / "legacy.pth"
    with open(legacy, "wb") as f:
        pickle.dump({"x": _RunsCode(marker)}, f, protocol=2)
    with pytest.raises(WeightsError):
        W.import_weights_file(legacy, "b0")
    assert not marker.exists()
    assert _cache_dir_is_empty()


def test_a_bundle_as_weights_brings_its_classes_and_must_match_the_variant(tmp_path):
    prep = get_variant("b0").eval_preprocessing.at_size(64)
    bundle = Bundle(fake_state("b0", num_classes=3), "b0", ["cat", "dog", "owl"], 64, prep)
    path = save_bundle(bundle, tmp_path / "pets.pt")
    clf = load_classifier("b0", path)
    assert clf.class_names == ["cat", "dog", "owl"] and clf.preprocessing == prep
    assert clf.source == "bundle pets.pt"
    with pytest.raises(WeightsError, match="EfficientNet-B0, not an EfficientNet-B2; choose variant b0"):
        load_classifier("b2", path)


def test_import_puts_a_valid_file_in_the_cache_and_refuses_others(tmp_path):
    state = fake_state("b0", seed=7)
    src = tmp_path / "downloaded elsewhere.pth"
    torch.save({"state_dict": state}, src)
    dest = W.import_weights_file(src, "b0")
    assert dest == W.imagenet_cache_path("b0") and W.is_imagenet_cached("b0")
    clf = load_classifier("b0", "imagenet")
    assert torch.equal(clf.model.features[1][0].block[0][0].weight, state["features.1.0.block.0.0.weight"])

    ten = tmp_path / "ten.pth"
    torch.save(fake_state("b1", num_classes=10), ten)
    with pytest.raises(WeightsError, match="10 classes, not ImageNet's 1000"):
        W.import_weights_file(ten, "b1")
    with pytest.raises(WeightsError, match="EfficientNet-B0, not EfficientNet-B1"):
        W.import_weights_file(src, "b1")
    bundle = Bundle(fake_state("b0"), "b0", [f"c{i}" for i in range(1000)], 64, get_variant("b0").eval_preprocessing)
    with pytest.raises(WeightsError, match="fine-tuned model bundle") as as_weights:
        W.import_weights_file(save_bundle(bundle, tmp_path / "b.pt"), "b0")
    assert not W.is_imagenet_cached("b1")
    # Each message names the place where the user is: a flag on the command line, the menu in the app.
    assert "--model FILE" in str(as_weights.value)
    in_app = as_weights.value.for_place("app")
    assert "File ▸ Open fine-tuned model…" in in_app and "--" not in in_app
