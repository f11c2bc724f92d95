"""Measure on this machine: candidates timed and checked; one that flips answers is never chosen."""

import numpy as np
import pytest
import torch

import model.inference.runtime as runtime_module
import model.inference.runtime_trials as trials_module
from model.core.events import Progress
from model.inference.agreement import agreement
from model.inference.runtime_choice import RuntimeChoice, remembered_choice
from model.inference.runtime_trials import RuntimeTrial, RuntimeVerdict, inputs_from_photos, measure_runtimes
from model.nets.network import build_model

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def confident_net():
    """Random weights whose head spreads the logits like a trained classifier's, so fp32 runtimes agree exactly."""
    torch.manual_seed(0)
    net = build_model("b0", num_classes=10).eval()
    with torch.no_grad():
        net.classifier[-1].weight.mul_(2000.0)
    return net


def test_agreement_counts_top1_top5_and_the_largest_difference():
    rng = np.random.default_rng(0)
    ref = rng.normal(size=(100, 10)) * 3
    assert agreement(ref, ref).passed and agreement(ref, ref).max_prob_diff == 0
    flipped = ref.copy()
    rows = np.arange(2)
    flipped[rows, ref[rows].argmax(1)] = ref[rows].min(1) - 1  # two images of 100 lose their best class
    a = agreement(ref, flipped)
    assert a.top1 == pytest.approx(0.98) and not a.passed and a.max_prob_diff > 0.1
    assert agreement(ref, ref + 1e-9).passed  # a shift of every logit changes nothing


class PerturbingRunner:
    """A runtime that answers fast and wrong: it swaps each image's best and worst class."""

    name, precision = "openvino", "f32"

    def __init__(self, inner):
        self.inner = inner

    def lane(self):
        return None

    def __call__(self, batch):
        out = self.inner(batch).copy()
        rows = np.arange(len(out))
        best, worst = out.argmax(1), out.argmin(1)
        out[rows, best], out[rows, worst] = out[rows, worst], out[rows, best]
        return out


def test_a_runtime_that_flips_answers_is_refused_even_when_fastest(confident_net, image_factory, monkeypatch):
    real_build = runtime_module.build_runner

    def build(choice, net, variant, device, size, cache=None):
        runner = real_build(RuntimeChoice("torch", "f32") if choice.runtime == "openvino" else choice, net, variant,
                            device, size, cache)
        return PerturbingRunner(runner) if choice.runtime == "openvino" else runner

    def timings(runner, single, batch, repeats, lane=None):
        yield None
        return (0.001, 1000.0, 1) if isinstance(runner, PerturbingRunner) else (0.01, 100.0, 1)

    monkeypatch.setattr(trials_module, "build_runner", build)
    monkeypatch.setattr(trials_module, "time_runner", timings)
    monkeypatch.setattr(trials_module, "candidate_choices",
                        lambda device: [RuntimeChoice("openvino", "f32"), RuntimeChoice("onnxruntime", "f32")])
    photo = image_factory("photo.jpg", size=(80, 60))
    events = list(measure_runtimes(
        ["b0"], "cpu", lambda variant, size: inputs_from_photos([photo], variant, size, count=16),
        repeats=1, image_size=32, network=lambda v: (confident_net, "test weights"),
    ))
    trials = [e for e in events if isinstance(e, RuntimeTrial)]
    [verdict] = [e for e in events if isinstance(e, RuntimeVerdict)]
    by_runtime = {t.choice.runtime: t for t in trials}
    assert not by_runtime["openvino"].agreement.passed and not by_runtime["openvino"].usable
    assert by_runtime["onnxruntime"].agreement.passed and by_runtime["onnxruntime"].agreement.top1 == 1.0
    assert verdict.chosen == RuntimeChoice("onnxruntime", "f32")
    assert remembered_choice(CPU, "b0") == RuntimeChoice("onnxruntime", "f32")
    progress = [e for e in events if isinstance(e, Progress)]
    assert progress[-1].done <= progress[-1].total and progress[0].done == 0


def test_a_runtime_that_fails_to_build_is_reported_not_chosen(confident_net, image_factory, monkeypatch):
    real_build = runtime_module.build_runner

    def broken(choice, *a, **k):
        if choice.runtime != "torch":  # the fp32 torch reference still builds
            raise RuntimeError("compile failed")
        return real_build(choice, *a, **k)

    monkeypatch.setattr(trials_module, "build_runner", broken)
    monkeypatch.setattr(trials_module, "candidate_choices",
                        lambda device: [RuntimeChoice("openvino", "f32"), RuntimeChoice("onnxruntime", "f32")])
    photo = image_factory("photo.png", size=(64, 64))
    events = list(measure_runtimes(["b0"], "cpu", lambda v, s: inputs_from_photos([photo], v, s, count=4),
                                   repeats=1, image_size=32, network=lambda v: (confident_net, "test")))
    trials = [e for e in events if isinstance(e, RuntimeTrial)]
    assert trials and all(t.error and "could not run" in t.error for t in trials)
    assert not any(isinstance(e, RuntimeVerdict) for e in events)
    assert remembered_choice(CPU, "b0") is None


def test_real_candidates_are_timed_checked_and_remembered(confident_net, image_factory):
    photo = image_factory("photo.jpg", size=(64, 48))
    events = list(measure_runtimes(["b0"], "cpu", lambda v, s: inputs_from_photos([photo], v, s, count=8),
                                   batch_size=2, repeats=1, image_size=32, network=lambda v: (confident_net, "t")))
    trials = [e for e in events if isinstance(e, RuntimeTrial)]
    [verdict] = [e for e in events if isinstance(e, RuntimeVerdict)]
    assert {t.choice.runtime for t in trials} >= {"onnxruntime", "torch"}
    assert all(t.usable and t.measurement.images_per_sec > 0 for t in trials)
    assert remembered_choice(CPU, "b0") == verdict.chosen
    assert make_runner_name(confident_net) == verdict.chosen.runtime  # auto uses it from now on


def make_runner_name(net):
    return runtime_module.make_runner(net, "b0", CPU, 32).name


def test_reduced_precision_is_not_chosen_on_the_word_of_random_weights(confident_net, image_factory, monkeypatch):
    # bf16 agreed with fp32 on random B0 weights but flipped 3 of 96 answers of a trained network:
    # measured on random weights, it must not even be tried (and so never chosen), however fast.
    real_build = runtime_module.build_runner
    built = []

    def build(choice, net, variant, device, size, cache=None):
        built.append(choice)
        return real_build(RuntimeChoice("torch", "f32"), net, variant, device, size, cache)

    def timings(runner, single, batch, repeats, lane=None):
        yield None
        return 0.01, 100.0, 1

    monkeypatch.setattr(trials_module, "build_runner", build)
    monkeypatch.setattr(trials_module, "time_runner", timings)
    monkeypatch.setattr(trials_module, "candidate_choices",
                        lambda device: [RuntimeChoice("openvino", "bf16"), RuntimeChoice("onnxruntime", "f32")])
    photo = image_factory("photo.png", size=(64, 64))
    inputs = lambda v, s: inputs_from_photos([photo], v, s, count=4)  # noqa: E731

    events = list(measure_runtimes(["b0"], "cpu", inputs, repeats=1, image_size=32,
                                   network=lambda v: (confident_net, trials_module.RANDOM_WEIGHTS)))
    by_precision = {t.choice.precision: t for t in events if isinstance(t, RuntimeTrial)}
    assert RuntimeChoice("openvino", "bf16") not in built
    assert not by_precision["bf16"].usable and "trained weights" in by_precision["bf16"].error
    [verdict] = [e for e in events if isinstance(e, RuntimeVerdict)]
    assert verdict.chosen == RuntimeChoice("onnxruntime", "f32")

    # On trained weights the same candidate is tried and, agreeing and as fast, may be chosen.
    built.clear()
    list(measure_runtimes(["b0"], "cpu", inputs, repeats=1, image_size=32,
                          network=lambda v: (confident_net, "ImageNet weights")))
    assert RuntimeChoice("openvino", "bf16") in built
