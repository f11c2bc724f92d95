"""OpenVINO on the CPU: the same ONNX graph, compiled by OpenVINO's CPU plugin, cached on disk.

OpenVINO reads the graph ``OnnxRunner`` exports (so it shares that cache and
its key: weights, input size, versions) and compiles it for this CPU. The
compiled blob is kept in OpenVINO's ``CACHE_DIR``, one folder per graph key,
precision and OpenVINO version: new weights get a new key and so a new folder,
exactly as they get a new ONNX graph, and a stale blob is never loaded. A
folder whose graph has left the bounded graph cache (``graph_cache``) goes too.

Precision is always set explicitly (``INFERENCE_PRECISION_HINT``): bf16 only
where ``model.inference.precision`` says the CPU computes it natively, f32
otherwise, because OpenVINO's own default would pick bf16 on some CPUs unasked.

Two compiled models serve the two ways ``Predictor`` classifies: one image on
every core (the LATENCY hint, batch fixed at 1; a batch of several images goes
to a dynamic-batch model compiled on first use), and many images as lanes, one
single-threaded stream per core (the THROUGHPUT hint), each running lane with an
infer request of its own from a pool of idle ones.
"""

from __future__ import annotations

import queue
import threading
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from model.nets.device import cpu_cores

OPENVINO_PRECISIONS = ("f32", "bf16")


def openvino_available() -> bool:
    try:
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


def openvino_version() -> str:
    import openvino

    return openvino.__version__.split("-")[0]


def compiled_cache_path(graph: Path, precision: str) -> Path:
    """The CACHE_DIR OpenVINO uses for the cached ONNX ``graph`` in ``precision``: beside the graph
    folder, named by the graph's key (new weights: a new key, a new folder)."""
    return graph.parent.parent / "openvino" / f"{graph.stem}-{precision}-{openvino_version()}"


def prune_compiled(cache: Path) -> list[Path]:
    """Remove compiled-model folders whose ONNX graph is no longer cached (the graph cache is
    bounded, least recently used first out; the compiled blobs follow it)."""
    import shutil

    removed = []
    for folder in (cache / "openvino").glob("*-*"):
        key = folder.name.split("-")[0]
        if folder.is_dir() and not (cache / "onnx" / f"{key}.onnx").exists():
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


class OpenVinoRunner:
    """OpenVINO's CPU plugin on a cached ONNX graph (``OnnxRunner.ensure_graph``), compiled models cached too."""

    name = "openvino"

    def __init__(self, graph: Path, image_size: int, precision: str = "f32", threads: int | None = None) -> None:
        import openvino as ov

        if precision not in OPENVINO_PRECISIONS:
            raise ValueError(f"OpenVINO precision must be one of {OPENVINO_PRECISIONS}, not {precision!r}")
        self.precision = precision
        self.image_size = image_size
        self.threads = threads or cpu_cores()
        self.graph = Path(graph)
        self.cache_folder = compiled_cache_path(self.graph, precision)
        prune_compiled(self.cache_folder.parent.parent)
        self.core = ov.Core()
        # Read once: the runner keeps working if a temporary graph folder goes away.
        self._graph_model = self.core.read_model(str(self.graph))
        self._single = self._compile("LATENCY", batch=1)
        self._single_request = self._single.create_infer_request()
        self._batch = None  # dynamic batch, compiled when a batch of several first arrives
        self._lock = threading.Lock()  # one infer request per compiled model: calls take turns
        self._lanes = None
        # Idle infer requests of the lanes' compiled model, taken and given back by each call. Not a
        # threading.local: a request kept there is destroyed while its thread's Python state is being
        # torn down, and OpenVINO's destructor then corrupts the interpreter's list of thread states
        # (a segfault when a QThread that ran a lane finishes: the app crashed at every launch once
        # "Measure on this machine" had chosen OpenVINO; tests/model/test_openvino_threads.py).
        self._idle_requests: queue.SimpleQueue = queue.SimpleQueue()

    def _compile(self, hint: str, batch: int | None, streams: int | None = None):
        graph = self._graph_model.clone()
        if batch is not None:
            graph.reshape([batch, 3, self.image_size, self.image_size])
        self.cache_folder.mkdir(parents=True, exist_ok=True)
        config = {
            "PERFORMANCE_HINT": hint,
            "INFERENCE_PRECISION_HINT": self.precision,
            "CACHE_DIR": str(self.cache_folder),
        }
        if streams is None:
            config["INFERENCE_NUM_THREADS"] = self.threads
        else:
            config["NUM_STREAMS"] = streams
            config["INFERENCE_NUM_THREADS"] = streams  # one thread per stream: a lane per core
        return self.core.compile_model(graph, "CPU", config)

    def __call__(self, batch: torch.Tensor) -> np.ndarray:
        x = batch.detach().cpu().numpy().astype(np.float32, copy=False)
        with self._lock:
            if len(x) == 1:
                request = self._single_request
            else:
                if self._batch is None:
                    self._batch = self._compile("LATENCY", batch=None)
                    self._batch_request = self._batch.create_infer_request()
                request = self._batch_request
            return np.array(request.infer({0: x})[0], copy=True)

    def lane(self) -> Callable[[torch.Tensor], np.ndarray]:
        """One image at a time on a single-threaded stream; concurrent calls each take a request of their own
        (as many requests are made as calls ever ran at once: one per lane thread)."""
        with self._lock:
            if self._lanes is None:
                self._lanes = self._compile("THROUGHPUT", batch=1, streams=self.threads)
        compiled, idle = self._lanes, self._idle_requests

        def run(batch: torch.Tensor) -> np.ndarray:
            try:
                request = idle.get_nowait()
            except queue.Empty:
                request = compiled.create_infer_request()
            try:
                x = batch.detach().cpu().numpy().astype(np.float32, copy=False)
                return np.array(request.infer({0: x})[0], copy=True)
            finally:
                idle.put(request)

        return run
