"""The ONNX Runtime path agrees with torch, and its graph cache is invalidated correctly."""

import numpy as np
import pytest
import torch

import model.export.formats as export_module
from model.nets.network import build_model
from model.inference.runtime import OnnxRunner, TorchRunner, cache_dir, graph_cache_key, make_runner


def _probs(logits):
    e = np.exp(logits - logits.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return build_model("b0", num_classes=10).eval()


def test_onnx_agrees_with_torch(net):
    x = torch.randn(4, 3, 64, 64)
    ref = TorchRunner(net, "b0", torch.device("cpu"))(x)
    got = OnnxRunner(net, 64)(x)
    assert np.abs(_probs(got) - _probs(ref)).max() < 1e-4


def test_graph_is_exported_once_then_reused(net, monkeypatch):
    calls = []
    real = export_module.write_onnx
    monkeypatch.setattr(export_module, "write_onnx", lambda *a, **k: calls.append(1) or real(*a, **k))
    first = OnnxRunner.ensure_graph(net, 64)
    second = OnnxRunner.ensure_graph(net, 64)
    assert first == second and first.parent == cache_dir() / "onnx" and len(calls) == 1


def test_cache_key_changes_with_weights_and_size(net):
    key = graph_cache_key(net, 64)
    assert graph_cache_key(net, 96) != key
    other = build_model("b0", num_classes=10).eval()
    other.load_state_dict(net.state_dict())
    assert graph_cache_key(other, 64) == key  # same weights, same graph
    with torch.no_grad():
        other.classifier[-1].bias[0] += 1.0
    assert graph_cache_key(other, 64) != key  # fine-tuned weights never reuse a stale graph


def test_auto_picks_onnx_on_cpu_and_torch_on_request(net):
    assert make_runner(net, "b0", torch.device("cpu"), 64).name == "onnxruntime"
    assert make_runner(net, "b0", torch.device("cpu"), 64, runtime="torch").name == "torch"


def test_failed_export_falls_back_to_torch(net, monkeypatch):
    def broken(*a, **k):
        raise export_module.ExportError("no")

    monkeypatch.setattr(export_module, "write_onnx", broken)
    assert make_runner(net, "b0", torch.device("cpu"), 48).name == "torch"
    with pytest.raises(export_module.ExportError):
        make_runner(net, "b0", torch.device("cpu"), 48, runtime="onnx")


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_runner_uses_autocast_and_agrees(net):
    x = torch.randn(8, 3, 64, 64)
    ref = TorchRunner(net, "b0", torch.device("cpu"))(x)
    got = make_runner(net, "b0", torch.device("cuda"), 64)(x)
    assert np.abs(_probs(got) - _probs(ref)).max() < 2e-2  # bf16/fp16 autocast
