"""Choosing a runtime: OpenVINO where it pays, fallbacks when it is missing or fails, bf16 only where native."""

import numpy as np
import pytest
import torch

import model.inference.openvino_runtime as ov_module
from model.core.cpu_features import native_bf16, parse_cpu_flags
from model.core.errors import StudioError
from model.inference.runtime import TorchRunner, build_runner, make_runner, runtime_plan
from model.inference.runtime_choice import RuntimeChoice, remember_choice, remembered_choice
from model.nets.network import build_model

CPU = torch.device("cpu")
needs_openvino = pytest.mark.skipif(not ov_module.openvino_available(), reason="needs openvino")


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return build_model("b0", num_classes=10).eval()


def _probs(logits):
    e = np.exp(logits - logits.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def test_capability_flags_are_read_from_cpuinfo_not_the_name():
    intel = "processor\t: 0\nmodel name\t: Intel Xeon Platinum 8480+\nflags\t\t: fpu sse avx2 avx512f\n"
    assert not native_bf16(parse_cpu_flags(intel))  # a server name is no promise of bf16
    assert native_bf16(parse_cpu_flags(intel.replace("avx512f", "avx512f amx_bf16")))
    assert native_bf16(parse_cpu_flags("model name : AMD EPYC\nflags : avx512_bf16\n"))
    assert not native_bf16(parse_cpu_flags("Features : fp asimd\n"))


def test_bf16_is_never_planned_without_native_support():
    plan = runtime_plan(CPU, "b0")
    assert all(c.precision == "f32" for c in plan)
    assert plan[0] == RuntimeChoice("onnxruntime", "f32")
    # Asked for by name, OpenVINO still computes in f32 here.
    assert runtime_plan(CPU, "b0", "openvino") == [RuntimeChoice("openvino", "f32")]


def test_bf16_is_refused_rather_than_emulated(net):
    with pytest.raises(StudioError, match="natively"):
        build_runner(RuntimeChoice("openvino", "bf16"), net, "b0", CPU, 48)


def test_a_remembered_bf16_choice_is_dropped_on_a_cpu_without_it(with_cpu_flags):
    with_cpu_flags("avx512_bf16")
    remember_choice(CPU, "b0", RuntimeChoice("openvino", "bf16"))
    assert remembered_choice(CPU, "b0") == RuntimeChoice("openvino", "bf16")
    assert remembered_choice(CPU, "b3") is None  # per variant
    with_cpu_flags()  # the same cache folder, now on a CPU without bf16
    assert all(c.precision == "f32" for c in runtime_plan(CPU, "b0"))


@needs_openvino
def test_native_bf16_is_offered_to_measure_but_never_a_default(with_cpu_flags):
    from model.inference.runtime_trials import candidate_choices

    with_cpu_flags("fpu", "amx_bf16")
    assert RuntimeChoice("openvino", "bf16") in candidate_choices(CPU)
    assert all(c.precision == "f32" for c in runtime_plan(CPU, "b0"))  # bf16 does not keep every network's answers
    assert runtime_plan(CPU, "b0", "openvino") == [RuntimeChoice("openvino", "f32")]
    remember_choice(CPU, "b0", RuntimeChoice("openvino", "bf16"))  # a measurement found it agrees
    assert runtime_plan(CPU, "b0")[0] == RuntimeChoice("openvino", "bf16")
    with_cpu_flags("fpu")
    assert RuntimeChoice("openvino", "bf16") not in candidate_choices(CPU)


@needs_openvino
def test_auto_falls_back_when_openvino_is_missing(net, with_cpu_flags, monkeypatch):
    with_cpu_flags("avx512_bf16")
    remember_choice(CPU, "b0", RuntimeChoice("openvino", "bf16"))
    monkeypatch.setattr(ov_module, "openvino_available", lambda: False)
    assert make_runner(net, "b0", CPU, 48).name == "onnxruntime"
    with pytest.raises(StudioError, match="OpenVINO is not installed"):
        make_runner(net, "b0", CPU, 48, runtime="openvino")


@needs_openvino
def test_auto_falls_back_when_the_model_fails_to_compile(net, with_cpu_flags, monkeypatch):
    with_cpu_flags("avx512_bf16")
    remember_choice(CPU, "b0", RuntimeChoice("openvino", "bf16"))

    def fails(self, *a, **k):
        raise RuntimeError("Cannot compile: unsupported operation")

    monkeypatch.setattr(ov_module.OpenVinoRunner, "_compile", fails)
    assert make_runner(net, "b0", CPU, 48).name == "onnxruntime"
    remember_choice(CPU, "b0", RuntimeChoice("openvino", "f32"))  # in f32 it falls back the same way
    assert make_runner(net, "b0", CPU, 48).name == "onnxruntime"
    with pytest.raises(RuntimeError):
        make_runner(net, "b0", CPU, 48, runtime="openvino")


@needs_openvino
def test_auto_uses_the_remembered_choice(net):
    remember_choice(CPU, "b0", RuntimeChoice("torch", "f32"))
    assert make_runner(net, "b0", CPU, 48).name == "torch"
    remember_choice(CPU, "b0", RuntimeChoice("openvino", "f32"))
    runner = make_runner(net, "b0", CPU, 48)
    assert (runner.name, runner.precision) == ("openvino", "f32")


@needs_openvino
def test_openvino_agrees_with_torch_single_batch_and_lanes(net):
    x = torch.randn(3, 3, 48, 48)
    ref = _probs(TorchRunner(net, "b0", CPU)(x))
    runner = build_runner(RuntimeChoice("openvino", "f32"), net, "b0", CPU, 48)
    lane = runner.lane()
    assert np.abs(_probs(runner(x)) - ref).max() < 1e-4
    assert np.abs(_probs(runner(x[:1])) - ref[:1]).max() < 1e-4
    assert np.abs(_probs(lane(x[1:2])) - ref[1:2]).max() < 1e-4


@needs_openvino
def test_compiled_model_cache_is_invalidated_by_new_weights(net):
    f32 = RuntimeChoice("openvino", "f32")
    first = build_runner(f32, net, "b0", CPU, 48)
    assert any(first.cache_folder.iterdir())  # OpenVINO wrote its compiled blob there
    again = build_runner(f32, net, "b0", CPU, 48)
    assert again.cache_folder == first.cache_folder  # same weights: the blob is reused
    tuned = build_model("b0", num_classes=10).eval()
    tuned.load_state_dict(net.state_dict())
    with torch.no_grad():
        tuned.classifier[-1].bias[0] += 5.0
    second = build_runner(f32, tuned, "b0", CPU, 48)
    assert second.cache_folder != first.cache_folder
    x = torch.zeros(1, 3, 48, 48)
    assert np.argmax(second(x)) == 0 and not np.allclose(second(x), first(x))  # never the stale blob
    first.graph.unlink()  # the graph cache let the first graph go: its compiled blob follows
    assert ov_module.prune_compiled(first.cache_folder.parent.parent) == [first.cache_folder]
    assert second.cache_folder.is_dir()
