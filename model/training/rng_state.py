"""The random number generators of a run, saved in ``last.pt`` so a resume continues exactly.

Dropout, stochastic depth and (without loader workers) augmentation draw from
torch's global generator; other libraries may draw from Python's ``random`` and
numpy's. A resumed run restores all of them (and the CUDA generators) to where
the checkpoint left them, so it draws the same numbers an uninterrupted run
would have. Loader workers carry no state worth saving: each training sample is
augmented from a seed made of the run's seed, the epoch and the sample
(``model.training.loaders``), the same in any worker, before or after a resume.

The states are stored as tensors, ints and lists only, which
``torch.load(weights_only=True)`` reads back.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch


def capture_rng() -> dict[str, Any]:
    """The current state of every generator, as plain data."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    version, internal, gauss = random.getstate()
    state: dict[str, Any] = {
        "python": [version, list(internal), gauss],
        "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss), float(cached)],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any]) -> bool:
    """Put every generator back as ``state`` had it; False when the state is not usable (nothing changed then)."""
    try:
        version, internal, gauss = state["python"]
        kind, keys, pos, has_gauss, cached = state["numpy"]
        py = (int(version), tuple(int(x) for x in internal), gauss)
        nps = (str(kind), keys.numpy().astype(np.uint32), int(pos), int(has_gauss), float(cached))
        torch_state = state["torch"]
        if not isinstance(torch_state, torch.Tensor) or torch_state.dtype != torch.uint8:
            return False
        random.setstate(py)
        np.random.set_state(nps)
        torch.set_rng_state(torch_state)
    except (KeyError, TypeError, ValueError, AttributeError, RuntimeError):
        return False
    cuda = state.get("cuda")
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)
    return True


def sample_seed(run_seed: int, epoch: int, index: int) -> int:
    """The augmentation seed of one training sample in one epoch (fits torch's 64-bit seeds)."""
    return (run_seed * 1_000_003 + epoch * 100_003 + index) % (2**63 - 1)


__all__ = ["capture_rng", "restore_rng", "sample_seed"]
