"""Speed measurement per variant: event order, cancel, and a sane Measurement."""

import threading

import pytest

from model.inference.benchmark import Measurement, measure_variant, measure_variants, passes_per_variant
from model.core.errors import StudioError
from model.core.events import Progress


def test_measure_variant_reports_latency_and_throughput():
    m = measure_variant("b0", "cpu", batch_size=2, repeats=1, image_size=32)
    assert isinstance(m, Measurement)
    assert m.variant == "b0" and m.device == "cpu" and m.image_size == 32 and m.batch_size == 2
    assert m.latency_ms_median > 0 and m.images_per_sec > 0


def test_single_image_throughput_is_the_inverse_of_latency():
    m = measure_variant("B0", "cpu", batch_size=1, repeats=2, image_size=32)
    assert m.images_per_sec == pytest.approx(1000.0 / m.latency_ms_median)


def test_measure_variants_yields_progress_then_one_measurement_per_variant():
    events = list(measure_variants(["b0", "b1"], "cpu", batch_size=1, repeats=1, image_size=32))
    measurements = [e for e in events if isinstance(e, Measurement)]
    assert [m.variant for m in measurements] == ["b0", "b1"]
    progress = [e for e in events if isinstance(e, Progress)]
    total = 2 * passes_per_variant(1, 1)
    assert all(p.total == total for p in progress)
    assert [p.done for p in progress] == sorted(p.done for p in progress)
    assert progress[-1].done == total
    # Each variant's measurement comes after all of its passes.
    assert events.index(measurements[0]) < events.index(next(p for p in progress if p.done > total // 2))


def test_cancel_stops_between_passes():
    cancel = threading.Event()
    events = []
    for event in measure_variants(["b0", "b1"], "cpu", cancel=cancel, repeats=3, image_size=32):
        events.append(event)
        if isinstance(event, Progress) and event.done == 1:
            cancel.set()
    assert not any(isinstance(e, Measurement) for e in events)
    assert max(e.done for e in events) == 1


def test_bad_arguments_are_clear_errors():
    with pytest.raises(StudioError, match="at least 1"):
        measure_variant("b0", "cpu", repeats=0, image_size=32)
    with pytest.raises(StudioError, match="Unknown variant"):
        list(measure_variants(["b9"], "cpu"))


def test_the_cpu_measures_the_runtime_classification_uses():
    m = measure_variant("b0", "cpu", batch_size=1, repeats=1, image_size=32)
    assert m.runtime == "onnxruntime"
    assert measure_variant("b0", "cpu", batch_size=1, repeats=1, image_size=32, runtime="torch").runtime == "torch"


def test_benchmark_graphs_do_not_fill_the_users_cache():
    from model.inference.runtime import cache_dir

    measure_variant("b0", "cpu", batch_size=1, repeats=1, image_size=32)
    assert not (cache_dir() / "onnx").exists() or not any((cache_dir() / "onnx").iterdir())


def test_bench_cli_json(capsys):
    import json

    from model.cli import main

    assert main(["bench", "--variants", "b0,b1", "--device", "cpu", "--repeats", "1", "--batch-size", "2",
                 "--image-size", "32", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["variant"] for r in rows] == ["b0", "b1"]
    assert all(r["latency_ms"] > 0 and r["images_per_sec"] > 0 and r["runtime"] == "onnxruntime" for r in rows)


def test_bench_cli_rejects_an_unknown_variant(capsys):
    from model.cli import main

    with pytest.raises(SystemExit) as info:
        main(["bench", "--variants", "b0,b9"])
    assert info.value.code == 2 and "b9" in capsys.readouterr().err


def test_cpu_throughput_runs_one_lane_per_core_as_classification_does(monkeypatch):
    from model.inference import benchmark
    from model.inference.runtime import OnnxRunner

    monkeypatch.setattr(benchmark, "cpu_cores", lambda: 2)  # CI has 2 cores; say so on any machine
    threads = set()
    real_lane = OnnxRunner.lane

    def lane(self):
        run = real_lane(self)

        def call(x):
            assert x.shape[0] == 1  # single images, as in Predictor's lanes
            threads.add(threading.current_thread().name)
            return run(x)
        return call

    monkeypatch.setattr(OnnxRunner, "lane", lane)
    m = measure_variant("b0", "cpu", batch_size=4, repeats=1, image_size=32)
    assert m.lanes == 2 and m.images_per_sec > 0
    assert threads and all(name.startswith("bench-lane") for name in threads)
    # torch has no per-thread runs: whole batches, one lane.
    assert measure_variant("b0", "cpu", batch_size=2, repeats=1, image_size=32, runtime="torch").lanes == 1
