"""Recording what every squeeze-and-excitation (SE) block of an EfficientNet does.

torchvision's ``SqueezeExcitation`` computes ``s = sigmoid(fc2(relu(fc1(avgpool(U)))))``
and returns ``s * U``. ``SERecorder`` hooks every SE module of a model and, for
each forward pass, keeps per block:

* the excitation vector ``s`` (the output of the SE's ``scale_activation``),
  shape ``[N, C]``, values in (0, 1);
* optionally the SE's input ``U``, shape ``[N, C, h, w]``, from which the
  spatial maps of ``model.explain.attention`` are formed.

Everything recorded is a detached float32 *copy* on the CPU: torchvision's
MBConv adds its residual in place (``result += input``), so a recorded view
could otherwise change after the hook ran. Hooks live only inside a ``with``
block (or between ``attach()`` and ``remove()``) and are removed even when the
forward pass raises.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, replace
from functools import partial

import torch
from torch import nn
from torchvision.ops.misc import SqueezeExcitation

# torchvision names SE modules "features.<stage>.<block>.block.<k>".
_PATH = re.compile(r"^features\.(\d+)\.(\d+)\.")


@dataclass(frozen=True)
class BlockInfo:
    """One SE block of a network, in depth order.

    ``stage`` is the index into ``model.training.features`` (stage 1 is the first MBConv
    stage; 0 is the stem, which has no SE). ``index`` counts blocks within the
    stage from 1. ``grid`` is the (height, width) of the SE input U, known only
    after a forward pass (it depends on the image size); ``None`` before.
    """

    depth: int  # 0-based position among all SE blocks, input side first
    stage: int
    index: int
    channels: int  # C: length of the excitation vector
    grid: tuple[int, int] | None
    module_name: str  # e.g. "features.4.1.block.2"

    @property
    def name(self) -> str:
        """Readable name, e.g. "stage 4 · block 2 · 480 ch · 14×14"."""
        text = f"stage {self.stage} · block {self.index} · {self.channels} ch"
        if self.grid is not None:
            text += f" · {self.grid[0]}×{self.grid[1]}"
        return text

    @property
    def short_name(self) -> str:
        """Compact label for axes and lists, e.g. "s4 b2"."""
        return f"s{self.stage} b{self.index}"

    @property
    def file_stem(self) -> str:
        """File-name stem that sorts in depth order, e.g. "00_stage1_block1"."""
        return f"{self.depth:02d}_stage{self.stage}_block{self.index}"

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "depth": self.depth,
            "stage": self.stage,
            "index": self.index,
            "channels": self.channels,
            "grid": list(self.grid) if self.grid is not None else None,
        }


def se_modules(model: nn.Module) -> list[tuple[str, SqueezeExcitation]]:
    """Every ``SqueezeExcitation`` in ``model`` with its qualified name, in forward order."""
    return [(name, m) for name, m in model.named_modules() if isinstance(m, SqueezeExcitation)]


def se_blocks(model: nn.Module) -> list[BlockInfo]:
    """The SE blocks of ``model`` without running it (``grid`` is ``None``).

    Works on a model built on the ``meta`` device too, so the block count of B7
    can be read without allocating its weights.
    """
    blocks = []
    for depth, (name, se) in enumerate(se_modules(model)):
        match = _PATH.match(name)
        if match:
            stage, index = int(match.group(1)), int(match.group(2)) + 1
        else:  # not torchvision's layout: one pseudo-stage 0, numbered in depth order
            stage, index = 0, depth + 1
        blocks.append(BlockInfo(depth, stage, index, int(se.fc1.in_channels), None, name))
    return blocks


def _snapshot(t: torch.Tensor) -> torch.Tensor:
    """A detached float32 copy on the CPU that later in-place ops cannot touch."""
    return t.detach().to(device="cpu", dtype=torch.float32, copy=True)


class SERecorder:
    """Hooks every SE block of ``model`` and records ``s`` (and ``U``) of each forward pass.

    Use it as a context manager::

        with SERecorder(model) as rec, torch.no_grad():
            model(x)
        rec.excitations[3]   # Tensor[N, C] of block 3
        rec.inputs[3]        # Tensor[N, C, h, w] (None with keep_inputs=False)
        rec.blocks[3].name   # "stage 2 · block 2 · 144 ch · 56×56"

    A later forward pass overwrites the previous one's records. Only forward
    passes run by the thread that attached the hooks are recorded, so another
    thread using the same model meanwhile (e.g. a classifier) cannot mix its
    tensors into these records.
    """

    def __init__(self, model: nn.Module, *, keep_inputs: bool = True) -> None:
        self.model = model
        self.keep_inputs = keep_inputs
        self._modules = se_modules(model)
        if not self._modules:
            raise ValueError("the model has no SqueezeExcitation blocks to record")
        self.blocks: list[BlockInfo] = se_blocks(model)
        self.excitations: list[torch.Tensor | None] = [None] * len(self._modules)
        self.inputs: list[torch.Tensor | None] = [None] * len(self._modules)
        self._handles: list[torch.utils.hooks.RemovableHandle] = []
        self._thread: int | None = None

    def __len__(self) -> int:
        return len(self._modules)

    @property
    def attached(self) -> bool:
        return bool(self._handles)

    def attach(self) -> "SERecorder":
        """Register the hooks (two per SE block)."""
        if self._handles:
            raise RuntimeError("SERecorder is already attached")
        self._thread = threading.get_ident()
        try:
            for depth, (_, se) in enumerate(self._modules):
                self._handles.append(se.register_forward_pre_hook(partial(self._record_input, depth)))
                self._handles.append(se.scale_activation.register_forward_hook(partial(self._record_gate, depth)))
        except BaseException:
            self.remove()
            raise
        return self

    def remove(self) -> None:
        """Remove every hook this recorder registered (safe to call twice)."""
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def clear(self) -> None:
        """Forget the recorded tensors (the hooks stay as they are)."""
        self.excitations = [None] * len(self._modules)
        self.inputs = [None] * len(self._modules)

    def __enter__(self) -> "SERecorder":
        return self.attach()

    def __exit__(self, *exc) -> None:
        self.remove()

    @property
    def complete(self) -> bool:
        """True once every block has recorded its excitation in this recorder."""
        return all(s is not None for s in self.excitations)

    def _record_input(self, depth: int, module: nn.Module, args: tuple) -> None:
        if threading.get_ident() != self._thread:
            return
        u = args[0]
        grid = (int(u.shape[-2]), int(u.shape[-1]))
        if self.blocks[depth].grid != grid:
            self.blocks[depth] = replace(self.blocks[depth], grid=grid)
        if self.keep_inputs:
            self.inputs[depth] = _snapshot(u)

    def _record_gate(self, depth: int, module: nn.Module, args: tuple, output: torch.Tensor) -> None:
        if threading.get_ident() != self._thread:
            return
        self.excitations[depth] = _snapshot(output.flatten(1))
