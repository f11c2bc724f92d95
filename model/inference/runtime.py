"""Inference runtimes behind ``Predictor``: ONNX Runtime on the CPU, torch elsewhere.

On a CPU, ONNX Runtime runs EfficientNet's graph about twice as fast as eager
torch (fused conv+BN+activation, better depthwise kernels), so classification
uses it there. The exported graph is cached on disk, keyed by a hash of the
weights, the input size and the versions that shaped the graph, so a new
fine-tune, another variant or an upgrade never reuses a stale file. Torch stays
the runtime for CUDA/MPS, for attention and for training, and the fallback when
ONNX Runtime is missing or the export fails. A cached graph that does not load
(cut short) is exported again, and the cache is bounded (``graph_cache``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from pathlib import Path
from typing import Callable, Protocol

import numpy as np
import torch
from torch import nn

from model.inference import graph_cache
from model.nets.device import cpu_cores, speed_policy

log = logging.getLogger(__name__)

RUNTIME_CHOICES = ("auto", "torch", "onnx")
# Bump when the way we export changes, so old cached graphs are not reused.
GRAPH_FORMAT_VERSION = 1


class Runner(Protocol):
    """Turns a float32 batch [N, 3, H, W] (normalised) into logits [N, classes]."""

    name: str

    def __call__(self, batch: torch.Tensor) -> np.ndarray: ...

    def lane(self) -> Callable[[torch.Tensor], np.ndarray] | None:
        """The same, computed on the calling thread alone (None if the runtime cannot):
        several threads can then each classify their own images at once."""


def cache_dir() -> Path:
    """Where exported graphs are kept: $EFFICIENTNET_STUDIO_CACHE, else the user cache folder."""
    env = os.environ.get("EFFICIENTNET_STUDIO_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "efficientnet-studio"


def placed_copy(model: nn.Module, variant: str, device: torch.device, channels_last: bool) -> nn.Module:
    """``model`` on ``device`` in the wanted memory format, as a module of its own.

    The copy is built on the meta device and takes the weights by assignment,
    so it shares every tensor that needs no conversion; moving it, or hooks
    that other code puts on ``model``, never affect the caller's module.
    """
    from model.nets.network import build_empty_model, num_classes_of

    if device.type == "cpu" and not channels_last:
        return model.eval()
    net = build_empty_model(variant, num_classes_of(model))
    net.load_state_dict(model.state_dict(), assign=True)
    fmt = torch.channels_last if channels_last else torch.preserve_format
    return net.to(device=device, memory_format=fmt).eval()


class TorchRunner:
    """Eager torch under inference_mode, channels_last and autocast where the device likes it."""

    name = "torch"

    def __init__(self, model: nn.Module, variant: str, device: torch.device) -> None:
        self.device = device
        self.policy = speed_policy(device)
        self.model = placed_copy(model, variant, device, self.policy.channels_last)

    def lane(self) -> None:
        return None  # torch's thread count is global to the process: no per-thread runs

    def __call__(self, batch: torch.Tensor) -> np.ndarray:
        try:
            with torch.inference_mode():
                if self.policy.pin_memory:
                    batch = batch.pin_memory()
                x = batch.to(self.device, non_blocking=self.policy.pin_memory)
                if self.policy.channels_last:
                    x = x.contiguous(memory_format=torch.channels_last)
                if self.policy.amp_dtype is not None:
                    with torch.autocast(self.device.type, dtype=self.policy.amp_dtype):
                        logits = self.model(x)
                else:
                    logits = self.model(x)
                return logits.float().cpu().numpy()
        except torch.OutOfMemoryError:
            from model.core.errors import StudioError

            raise StudioError(
                f"Out of memory on {self.device} for a batch of {len(batch)} images; "
                "use a smaller batch size or the CPU."
            ) from None


def weights_fingerprint(model: nn.Module) -> str:
    """SHA-256 over every parameter and buffer (names, shapes and bytes)."""
    h = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        t = tensor.detach().cpu().contiguous()
        h.update(name.encode())
        h.update(str(tuple(t.shape)).encode())
        h.update(t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.float().numpy().tobytes())
    return h.hexdigest()


def graph_cache_key(model: nn.Module, image_size: int) -> str:
    """Everything that changes the exported graph: weights, input size, torch/onnx versions."""
    import onnx

    h = hashlib.sha256()
    h.update(weights_fingerprint(model).encode())
    h.update(f"{image_size}|{torch.__version__}|{onnx.__version__}|{GRAPH_FORMAT_VERSION}".encode())
    return h.hexdigest()[:24]


class OnnxRunner:
    """ONNX Runtime session on the exported graph of ``model``, cached on disk."""

    name = "onnx"
    _export_lock = threading.Lock()  # two predictors exporting the same graph at once would race

    def __init__(self, model: nn.Module, image_size: int, threads: int | None = None, cache: Path | None = None) -> None:
        self.path = self.ensure_graph(model, image_size, cache)
        try:
            self.session = self._session(threads or cpu_cores())
        except Exception as e:
            # A graph cut short (a full disk, a killed process, a bad copy) would otherwise
            # fail here on every later run, sending them all to torch: export it again, once.
            log.warning("cached ONNX graph %s does not load (%s); exporting it again", self.path, e)
            with self._export_lock:
                self.path.unlink(missing_ok=True)
            self.path = self.ensure_graph(model, image_size, cache)
            self.session = self._session(threads or cpu_cores())
        self.input_name = self.session.get_inputs()[0].name
        self._lane_session = None  # single-threaded, made on first use (it holds its own copy of the weights)
        self._lane_lock = threading.Lock()

    def _session(self, threads: int):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle pool threads spin for a while after each run, taking the cores the
        # decode threads need between batches: stop them as soon as a run ends.
        options.add_session_config_entry("session.force_spinning_stop", "1")
        return ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])

    def lane(self) -> Callable[[torch.Tensor], np.ndarray]:
        """Runs on a single-threaded session, shared by every lane (ONNX Runtime sessions
        are safe to run from several threads at once)."""
        with self._lane_lock:
            if self._lane_session is None:
                self._lane_session = self._session(1)
        session = self._lane_session
        return lambda batch: session.run(None, {self.input_name: _as_input(batch)})[0]

    @staticmethod
    def graph_path(model: nn.Module, image_size: int, cache: Path | None = None) -> Path:
        """Where the cached graph of ``model`` at ``image_size`` lives (whether or not it exists yet)."""
        return (cache or cache_dir()) / "onnx" / f"{graph_cache_key(model, image_size)}.onnx"

    @classmethod
    def ensure_graph(cls, model: nn.Module, image_size: int, cache: Path | None = None) -> Path:
        """Path of the cached graph for ``model``; exported first if it is not there yet."""
        from model.export.formats import write_onnx

        path = cls.graph_path(model, image_size, cache)
        with cls._export_lock:
            if path.is_file():
                graph_cache.touch(path)
            else:
                log.info("exporting ONNX graph to %s", path)
                write_onnx(model, path, image_size, {"producer": "EfficientNet Studio cache"})
                graph_cache.prune(path.parent, keep=path)
        return path

    def __call__(self, batch: torch.Tensor) -> np.ndarray:
        return self.session.run(None, {self.input_name: _as_input(batch)})[0]


def _as_input(batch: torch.Tensor) -> np.ndarray:
    return batch.detach().cpu().numpy().astype(np.float32, copy=False)


def onnxruntime_available() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def wants_onnx(device: torch.device, runtime: str = "auto") -> bool:
    """Whether ``make_runner`` tries ONNX Runtime: asked for, or "auto" on a CPU where it is installed."""
    return runtime == "onnx" or (runtime == "auto" and device.type == "cpu" and onnxruntime_available())


def make_runner(
    model: nn.Module, variant: str, device: torch.device, image_size: int, runtime: str = "auto",
    cache: Path | None = None,
) -> Runner:
    """Pick the fastest runtime for ``device``: ONNX Runtime on CPU when available, else torch.

    ``cache`` overrides the folder of exported graphs (benchmarks of throwaway weights use a temporary one).
    """
    if runtime not in RUNTIME_CHOICES:
        from model.core.errors import StudioError

        raise StudioError(f"Unknown runtime {runtime!r}: use one of {', '.join(RUNTIME_CHOICES)}.")
    if wants_onnx(device, runtime):
        try:
            return OnnxRunner(model, image_size, cache=cache)
        except Exception as e:  # a graph that will not export must not stop classification
            if runtime == "onnx":
                raise
            log.warning("ONNX Runtime unavailable for this model (%s); using torch", e)
    return TorchRunner(model, variant, device)
