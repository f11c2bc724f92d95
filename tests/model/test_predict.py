"""Predictor: order, bad files, top-k, batching, bundles, cancel, and the device path."""

from __future__ import annotations

import threading

import pytest
import torch

from model.nets.bundle import Bundle, save_bundle
from model.nets.classifier import Classifier, imagenet_class_names
from model.core.errors import StudioError
from model.imaging.images import load_image
from model.nets.network import build_model, replace_head
from model.inference.predict import Prediction, Predictor
from model.imaging.transforms import fast_eval_tensor
from model.core.variants import get_variant

PREP = get_variant("b0").eval_preprocessing.at_size(64)


def calibrated_b0(num_classes: int = 1000) -> torch.nn.Module:
    """A random b0 whose BatchNorm statistics were measured on noise.

    Freshly initialised EfficientNets output near-identical logits in eval mode
    (the activations shrink to ~1e-13), which would make order and batching
    checks meaningless; measured statistics give distinct, input-dependent scores.
    """
    torch.manual_seed(0)
    net = build_model("b0")
    if num_classes != 1000:
        replace_head(net, num_classes)
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None  # a plain average over the calibration batches
    net.train()
    with torch.no_grad():
        net(torch.randn(8, 3, 64, 64))
    return net.eval()


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier(calibrated_b0(), get_variant("b0"), imagenet_class_names("b0"), PREP, "test weights")


@pytest.fixture(scope="module")
def predictor(classifier) -> Predictor:
    return Predictor.from_classifier(classifier, device="cpu")


def _images(image_factory, n: int) -> list:
    colors = [(200, 30, 30), (30, 200, 30), (30, 30, 200), (220, 220, 40), (90, 40, 160), (10, 10, 10)]
    return [image_factory(f"img/{i}.png", size=(56, 48), color=colors[i % len(colors)], seed=i) for i in range(n)]


def test_results_keep_input_order_and_a_bad_file_only_costs_itself(predictor, image_factory, tmp_path):
    good = _images(image_factory, 5)
    bad = tmp_path / "notes.jpg"
    bad.write_text("not a picture")
    missing = tmp_path / "gone.png"
    paths = [good[0], bad, good[1], good[2], missing, good[3], good[4]]
    results = list(predictor.predict_iter(paths, top_k=3, batch_size=2))
    assert [r.path for r in results] == [str(p) for p in paths]
    assert all(isinstance(r, Prediction) for r in results)
    assert results[1].error and "not an image" in results[1].error and results[1].labels == []
    assert results[4].error and "file not found" in results[4].error
    ok = [r for i, r in enumerate(results) if i not in (1, 4)]
    assert all(r.error is None and len(r.labels) == 3 and r.seconds > 0 for r in ok)
    # Different inputs give different scores (the model is not degenerate).
    assert len({tuple(r.scores) for r in ok}) == len(ok)


def test_top_k_is_sorted_probabilities_with_matching_labels(predictor, classifier, image_factory):
    (result,) = predictor.predict(_images(image_factory, 1), top_k=5)
    assert len(result.scores) == 5 and result.scores == sorted(result.scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in result.scores) and sum(result.scores) <= 1.0 + 1e-6
    assert result.labels == [classifier.class_names[i] for i in result.indices]
    with pytest.raises(StudioError, match="top_k"):
        predictor.predict(_images(image_factory, 1), top_k=0)


def test_scores_are_the_runtime_on_the_predictors_preprocessing(predictor, image_factory):
    # The same pixels in, the same scores out: decoding, batching and top-k add
    # nothing. (Pixels against torchvision's recipe: test_transforms; ONNX
    # Runtime against torch on a well-conditioned net: test_fast_path. This
    # random net's logits reach ~1000, so the two runtimes differ visibly.)
    path = _images(image_factory, 1)[0]
    (result,) = predictor.predict([path], top_k=3)
    logits = predictor.runner(fast_eval_tensor(load_image(path), PREP)[None])
    top = torch.from_numpy(logits).softmax(1)[0].topk(3)
    assert result.indices == top.indices.tolist()
    assert result.scores == pytest.approx(top.values.tolist(), abs=1e-6)


def test_a_batch_equals_one_by_one(predictor, image_factory):
    paths = _images(image_factory, 6)
    # All 1000 classes, compared class by class: near-equal scores may swap places in a top-5.
    batched = list(predictor.predict_iter(paths, top_k=1000, batch_size=6))
    single = list(predictor.predict_iter(paths, top_k=1000, batch_size=1))
    for a, b in zip(batched, single, strict=True):
        by_class = dict(zip(b.indices, b.scores))
        assert sorted(a.indices) == list(range(1000))
        assert max(abs(s - by_class[i]) for i, s in zip(a.indices, a.scores)) < 1e-5
        assert a.scores == sorted(a.scores, reverse=True)


def test_the_predictor_leaves_the_classifier_untouched(classifier, predictor):
    weight = classifier.model.features[0][0].weight
    assert weight.device.type == "cpu" and weight.is_contiguous()
    assert predictor.class_names is classifier.class_names and predictor.device == torch.device("cpu")
    assert predictor.runner.name == "onnxruntime"  # the fast CPU runtime is the default there


def test_from_bundle_uses_the_bundles_classes_and_preprocessing(tmp_path, image_factory):
    names = ["cat", "dog", "owl"]
    bundle = Bundle(calibrated_b0(3).state_dict(), "b0", names, 64, PREP)
    path = save_bundle(bundle, tmp_path / "pets.pt")
    p = Predictor.from_bundle(path, device="cpu")
    assert p.class_names == names and p.classifier.preprocessing == PREP
    assert p.classifier.source == "bundle pets.pt"
    (result,) = p.predict(_images(image_factory, 1), top_k=5)
    assert sorted(result.labels) == sorted(names)  # top_k is capped at the number of classes
    assert sum(result.scores) == pytest.approx(1.0, abs=1e-5)


def test_cancel_stops_early(predictor, image_factory):
    paths = _images(image_factory, 6)
    cancel = threading.Event()
    seen = []
    for result in predictor.predict_iter(paths, batch_size=1, cancel=cancel):
        seen.append(result)
        cancel.set()
    assert len(seen) == 1 and seen[0].path == str(paths[0])


def test_predictor_loads_random_weights_by_itself(image_factory):
    p = Predictor("b0", "random", device="cpu")
    assert p.classifier.source == "random weights" and len(p.class_names) == 1000
    (result,) = p.predict(_images(image_factory, 1), top_k=2)
    assert result.error is None and len(result.labels) == 2


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_agrees_with_the_cpu(classifier, predictor, image_factory):
    paths = _images(image_factory, 4)
    gpu = Predictor.from_classifier(classifier, device="cuda")
    assert gpu.runner.name == "torch"
    assert next(gpu.runner.model.parameters()).device.type == "cuda"
    assert gpu.runner.model.features[0][0].weight.is_contiguous(memory_format=torch.channels_last)
    assert next(classifier.model.parameters()).device.type == "cpu"
    for a, b in zip(gpu.predict(paths), predictor.predict(paths), strict=True):
        assert a.indices[0] == b.indices[0]
        assert a.scores == pytest.approx(b.scores, abs=1e-3)


def test_warm_up_runs_one_blank_image_through_the_runtime_and_its_lane(classifier):
    predictor = Predictor.from_classifier(classifier, device="cpu")
    real, shapes = predictor.runner, []

    def recording(run, label):
        def call(batch):
            shapes.append((label, tuple(batch.shape)))
            return run(batch)
        return call

    class Spy:
        name = real.name
        __call__ = staticmethod(recording(real, "all cores"))

        def lane(self):
            return recording(real.lane(), "lane")

    predictor.runner = Spy()
    assert predictor.warm_up() > 0
    blank = (1, 3, PREP.crop_size, PREP.crop_size)
    assert shapes == [("all cores", blank), ("lane", blank)]


def test_many_images_on_a_cpu_go_through_lanes_in_order_with_their_errors(classifier, image_factory, tmp_path):
    predictor = Predictor.from_classifier(classifier, device="cpu")
    if predictor.lanes < 2:
        pytest.skip("a single core has no lanes")
    good = _images(image_factory, 5)
    bad = tmp_path / "bad.jpg"
    bad.write_text("not a picture")
    paths = [good[0], good[1], bad, good[2], good[3], good[4]]
    threads = set()
    real_lane = predictor.runner.lane

    def lane():
        run = real_lane()

        def call(batch):
            threads.add(threading.current_thread().name)
            return run(batch)
        return call

    predictor.runner.lane = lane
    by_lanes = predictor.predict(paths, top_k=1000)
    batched = list(predictor.predict_iter(paths, top_k=1000, batch_size=4))
    assert threads and all(name.startswith("classify") for name in threads)  # not the caller's thread
    assert [r.path for r in by_lanes] == [str(p) for p in paths]
    assert by_lanes[2].error and "not an image" in by_lanes[2].error
    for a, b in zip(by_lanes, batched, strict=True):
        assert a.error == b.error
        if a.ok:  # the single-threaded session computes what the batched one does
            assert a.seconds > 0
            by_class = dict(zip(b.indices, b.scores))
            assert [by_class[i] for i in a.indices] == pytest.approx(a.scores, abs=1e-5)


def test_cancel_stops_the_lanes(classifier, image_factory):
    predictor = Predictor.from_classifier(classifier, device="cpu")
    cancel = threading.Event()
    seen = []
    for result in predictor.predict_iter(_images(image_factory, 12), cancel=cancel):
        seen.append(result)
        cancel.set()
    assert len(seen) == 1


@pytest.mark.parametrize("batch_size", [None, 2])  # lanes, batches
def test_fast_decode_can_be_chosen_per_call(classifier, image_factory, monkeypatch, batch_size):
    import model.imaging.decode
    import model.inference.predict

    drafts = []
    for module in (model.imaging.decode, model.inference.predict):
        real = module.decode_file

        def spy(path, prep, draft=False, helper=None, _real=real):
            drafts.append(draft)
            return _real(path, prep, draft, helper)

        monkeypatch.setattr(module, "decode_file", spy)
    predictor = Predictor.from_classifier(classifier, device="cpu")  # fast_decode off
    paths = _images(image_factory, 3)
    assert all(r.ok for r in predictor.predict_iter(paths, batch_size=batch_size, fast_decode=True))
    assert drafts == [True] * 3
    drafts.clear()
    assert all(r.ok for r in predictor.predict_iter(paths, batch_size=batch_size))
    assert drafts == [False] * 3
