"""Issue 15: a cut-short cached ONNX graph is exported again; the graph cache stays bounded."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

import model.export.formats as export_module
from model.inference import graph_cache
from model.inference.runtime import OnnxRunner, TorchRunner
from model.nets.network import build_model


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return build_model("b0", num_classes=3).eval()


def test_a_truncated_cached_graph_is_exported_again(net, monkeypatch):
    path = OnnxRunner.ensure_graph(net, 32)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])  # a full disk or a kill mid-copy
    calls = []
    real = export_module.write_onnx
    monkeypatch.setattr(export_module, "write_onnx", lambda *a, **k: calls.append(1) or real(*a, **k))
    runner = OnnxRunner(net, 32)
    assert len(calls) == 1 and runner.path == path and path.stat().st_size == len(data)
    x = torch.randn(2, 3, 32, 32)
    assert np.abs(runner(x) - TorchRunner(net, "b0", torch.device("cpu"))(x)).max() < 1e-3
    OnnxRunner(net, 32)  # and the repaired graph is reused from then on
    assert len(calls) == 1


def _graph(folder, name: str, size: int, age: int):
    p = folder / f"{name}.onnx"
    p.write_bytes(b"\0" * size)
    t = 1_700_000_000 + age
    os.utime(p, (t, t))
    return p


def test_prune_removes_least_recently_used_beyond_the_bound(tmp_path):
    old, mid, new = (_graph(tmp_path, n, 400, age) for n, age in (("old", 1), ("mid", 2), ("new", 3)))
    (tmp_path / "notes.txt").write_bytes(b"x" * 5000)  # not a graph: never touched
    assert graph_cache.prune(tmp_path, keep=new, limit=900) == [old]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mid.onnx", "new.onnx", "notes.txt"]
    graph_cache.touch(mid)  # used now: the newest
    assert graph_cache.prune(tmp_path, keep=mid, limit=500) == [new]


def test_the_graph_in_use_is_kept_even_alone_over_the_bound(tmp_path):
    big = _graph(tmp_path, "big", 2000, 1)
    assert graph_cache.prune(tmp_path, keep=big, limit=1000) == []
    assert big.exists()


def test_a_new_export_prunes_the_cache(net, monkeypatch, tmp_path):
    folder = tmp_path / "cache" / "onnx"
    folder.mkdir(parents=True)
    stale = _graph(folder, "stale", 1000, 1)
    monkeypatch.setattr(graph_cache, "MAX_CACHE_BYTES", 1)
    path = OnnxRunner.ensure_graph(net, 32, cache=tmp_path / "cache")
    assert path.exists() and not stale.exists()
