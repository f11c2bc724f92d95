"""SE channel attention you can see: per-block gates, spatial maps and Grad-CAM for one image.

One call, ``analyse_image`` (or ``analyse_tensor`` for a preprocessed batch),
runs **one** forward pass with an ``SERecorder`` attached and returns an
``AttentionResult`` holding everything the views need. The views are then
computed on demand and cached, so a GUI slider can scrub through depth cheaply:

* ``result.gate_map()`` → ``GateMap``: blocks × channels matrix of the gates s.
* ``result.spatial_map(depth, kind="se")`` → ``SpatialMap``: M = ReLU(Σ_c s_c·U_c),
  the channel sum of the SE block's output; ``kind="change"`` uses (s_c − mean s)
  instead of s_c, showing where SE boosts responses relative to uniform gating.
* ``result.gradcam_map()`` → ``SpatialMap`` of Grad-CAM at ``result.cam_layer`` (the
  deepest stage whose grid is at least 4×4, or a chosen one) for the predicted
  (or a chosen) class; it matches the ``grad-cam`` package.

The other registered methods (Grad-CAM++, Score-CAM, the random baseline), their
faithfulness scores and SE ablation work on a result through
``model.explain.explainer.Explainer``.

All arrays are numpy; ``model.explain.render`` turns them into RGB images.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import torch
from PIL import Image
from torch import nn

from model.explain.attention_classes import ClassComparison, ClassExcitationStats, class_comparison, divergence_score
from model.explain.cams import gradient_cam, layer_pass
from model.explain.layers import CamLayer, cam_layers, choose_cam_layer
from model.explain.attention_views import GateCell, GateMap, SpatialMap, build_gate_map, make_spatial_map
from model.explain.se_recorder import BlockInfo, SERecorder, se_blocks
from model.core.variants import Preprocessing

__all__ = [
    "AttentionResult", "BlockInfo", "ClassComparison", "ClassExcitationStats", "ClassScore", "GateCell",
    "GateMap", "SERecorder", "SpatialMap", "analyse_image", "analyse_tensor", "class_comparison",
    "divergence_score", "grad_cam", "se_blocks", "se_spatial_map",
]

MAP_KINDS = ("se", "change")


class ClassifierLike(Protocol):
    """What ``analyse_image`` needs from ``model.nets.classifier.Classifier``."""

    model: nn.Module
    preprocessing: Preprocessing
    class_names: list[str]


@dataclass(frozen=True)
class ClassScore:
    """One class of a prediction: its index, label and softmax probability."""

    index: int
    label: str
    probability: float


def se_spatial_map(s: torch.Tensor, u: torch.Tensor, *, centred: bool = False) -> torch.Tensor:
    """M = ReLU(Σ_c w_c·U_c) per image, with w = s, or w = s − mean(s) when ``centred``.

    ``s`` is [N, C], ``u`` is [N, C, h, w]; the result is [N, h, w].
    """
    w = s - s.mean(dim=1, keepdim=True) if centred else s
    return torch.relu(torch.einsum("nc,nchw->nhw", w, u))


def _check_efficientnet(model: nn.Module) -> None:
    if not all(hasattr(model, part) for part in ("features", "avgpool", "classifier")):
        raise TypeError("expected a torchvision EfficientNet (with features, avgpool and classifier)")


def grad_cam(
    model: nn.Module, x: torch.Tensor, target_classes: list[int] | None = None, layer: int | None = None
) -> tuple[torch.Tensor, torch.Tensor, list[int]]:
    """Grad-CAM at stage ``layer`` of ``model.features`` (default: ``model.explain.layers``' rule):
    (cam [N, h, w] after ReLU, logits [N, K], classes).

    weights_k = mean over space of ∂score/∂A_k, cam = ReLU(Σ_k weights_k·A_k),
    as in Selvaraju et al. and the ``grad-cam`` package. Only the stages after
    ``layer`` are differentiated. ``x`` must be on the model's device.
    """
    _check_efficientnet(model)
    chosen = choose_cam_layer(model, tuple(x.shape[-2:]), layer)
    result = layer_pass(model, x, chosen.index, target_classes)
    return gradient_cam("gradcam", result.activations, result.gradients), result.logits, result.targets


@dataclass
class AttentionResult:
    """Everything one forward pass recorded for a batch of N images (usually N = 1).

    Views are computed on demand from these records and cached, so scrubbing
    through blocks costs only the view of the block asked for. Image index
    ``i`` selects the image in the batch.
    """

    blocks: list[BlockInfo]  # depth order; grid filled in
    excitations: list[np.ndarray]  # per block: [N, C] float32 gates s in (0, 1)
    inputs: list[np.ndarray] | None  # per block: SE input U [N, C, h, w] float32; None if not kept
    logits: np.ndarray  # [N, K]
    target_classes: list[int]  # the class Grad-CAM explains, per image
    gradcam: np.ndarray | None  # [N, h, w] Grad-CAM at ``cam_layer`` after ReLU, unnormalised
    input_size: tuple[int, int]  # (H, W) of the model input: maps are upsampled to this
    images: np.ndarray | None = None  # [N, H, W, 3] uint8: the crops the model saw, for overlays
    class_names: list[str] | None = None
    cam_layer: CamLayer | None = None  # the stage Grad-CAM was taken at
    cam_layers: list[CamLayer] = field(default_factory=list)  # every stage a CAM can be taken at, with its grid
    x: np.ndarray | None = None  # [N, 3, H, W] float32: the preprocessed input, for re-running perturbations
    temperature: float = 1.0  # the model's calibration: probabilities are softmax(logits / temperature)
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def batch_size(self) -> int:
        return int(self.logits.shape[0])

    @property
    def num_blocks(self) -> int:
        return len(self.blocks)

    def label(self, index: int) -> str:
        """Class name of ``index`` ("class 7" when the model has no names)."""
        if self.class_names and 0 <= index < len(self.class_names):
            return self.class_names[index]
        return f"class {index}"

    def probabilities(self, i: int = 0) -> np.ndarray:
        """Calibrated softmax of image ``i``'s logits, float64 [K]."""
        z = self.logits[i].astype(np.float64) / self.temperature
        e = np.exp(z - z.max())
        return e / e.sum()

    def top_classes(self, i: int = 0, k: int = 5) -> list[ClassScore]:
        """The ``k`` most probable classes of image ``i``, best first."""
        p = self.probabilities(i)
        order = np.argsort(-p, kind="stable")[: max(1, k)]
        return [ClassScore(int(c), self.label(int(c)), float(p[c])) for c in order]

    def excitation(self, depth: int, i: int = 0) -> np.ndarray:
        """Gate vector s of block ``depth`` for image ``i``: float32 [C] in (0, 1)."""
        return self.excitations[depth][i]

    def spatial_map(self, depth: int, i: int = 0, kind: str = "se") -> SpatialMap:
        """Spatial SE map of one block (cached): ``kind`` "se" uses s_c, "change" uses s_c − mean s."""
        if kind not in MAP_KINDS:
            raise ValueError(f"kind must be one of {MAP_KINDS}, not {kind!r}")
        key = (kind, depth, i)
        if key not in self._cache:
            if self.inputs is None:
                raise ValueError("spatial maps need the SE inputs: analyse with keep_inputs=True")
            s = torch.from_numpy(self.excitations[depth][i : i + 1])
            u = torch.from_numpy(self.inputs[depth][i : i + 1])
            raw = se_spatial_map(s, u, centred=kind == "change")[0]
            self._cache[key] = make_spatial_map(raw, self.input_size, kind, self.blocks[depth])
        return self._cache[key]

    def spatial_maps(self, i: int = 0, kind: str = "se") -> list[SpatialMap]:
        """``spatial_map`` of every block, in depth order."""
        return [self.spatial_map(d, i, kind) for d in range(self.num_blocks)]

    def gradcam_map(self, i: int = 0) -> SpatialMap:
        """Grad-CAM of image ``i`` for ``target_classes[i]``, upsampled and normalised (cached)."""
        if self.gradcam is None:
            raise ValueError("this result was analysed without Grad-CAM")
        key = ("gradcam", i)
        if key not in self._cache:
            raw = torch.from_numpy(self.gradcam[i])
            self._cache[key] = make_spatial_map(raw, self.input_size, "gradcam", None, self.cam_layer)
        return self._cache[key]

    def gate_map(self, i: int = 0, order: str = "sorted", width: int | None = None) -> GateMap:
        """Blocks × channels gate matrix of image ``i`` (see ``GateMap`` for the layout)."""
        key = ("gates", i, order, width)
        if key not in self._cache:
            self._cache[key] = build_gate_map([s[i] for s in self.excitations], self.blocks, order, width)
        return self._cache[key]


def analyse_tensor(
    model: nn.Module,
    x: torch.Tensor,
    *,
    target_classes: list[int] | None = None,
    class_names: list[str] | None = None,
    images: np.ndarray | None = None,
    keep_inputs: bool = True,
    with_gradcam: bool = True,
    cam_layer: int | None = None,
) -> AttentionResult:
    """Record SE gates (and inputs) and Grad-CAM for a preprocessed batch ``x`` [N, 3, H, W].

    One forward pass on the model's own device; the model is put in eval mode
    for the pass and its previous mode restored afterwards. Hooks are removed
    even if the pass raises. ``target_classes`` picks the class Grad-CAM
    explains per image (default: the predicted class); ``cam_layer`` the stage
    of ``model.features`` it is taken at (default: the deepest with a grid of
    at least 4×4, see ``model.explain.layers``).

    Memory: the kept SE inputs U take about 9 MiB per image for B0 at 224 px,
    75 MiB for B4 at 380 px and 470 MiB for B7 at 600 px. With
    ``keep_inputs=False`` only the gates are kept (spatial maps then raise).
    """
    _check_efficientnet(model)
    param = next(model.parameters())
    x = x.to(param.device, torch.float32)
    was_training = model.training
    if was_training:  # eval() walks every module: skip it when there is nothing to switch
        model.eval()
    layers = cam_layers(model, tuple(x.shape[-2:]))
    layer = choose_cam_layer(model, tuple(x.shape[-2:]), cam_layer)
    recorder = SERecorder(model, keep_inputs=keep_inputs)
    try:
        with recorder:
            recorded = layer_pass(model, x, layer.index, target_classes, gradients=with_gradcam)
        cam = gradient_cam("gradcam", recorded.activations, recorded.gradients) if with_gradcam else None
    finally:
        if was_training:
            model.train()
    if not recorder.complete:
        raise RuntimeError("not every SE block ran during the forward pass")
    return AttentionResult(
        blocks=list(recorder.blocks),
        excitations=[s.numpy() for s in recorder.excitations],
        inputs=[u.numpy() for u in recorder.inputs] if keep_inputs else None,
        logits=recorded.logits.float().cpu().numpy(),
        target_classes=recorded.targets,
        gradcam=cam.float().cpu().numpy() if cam is not None else None,
        input_size=(int(x.shape[-2]), int(x.shape[-1])),
        images=images,
        class_names=list(class_names) if class_names is not None else None,
        cam_layer=layer,
        cam_layers=layers,
        x=x.detach().float().cpu().numpy(),
    )


def analyse_image(
    source: ClassifierLike | nn.Module,
    image: Image.Image | str | os.PathLike,
    *,
    preprocessing: Preprocessing | None = None,
    class_names: list[str] | None = None,
    target_class: int | None = None,
    keep_inputs: bool = True,
    with_gradcam: bool = True,
    cam_layer: int | None = None,
) -> AttentionResult:
    """Analyse one image with a ``Classifier`` (or a bare model plus ``preprocessing``).

    ``image`` is a PIL image or a path (decoded with ``model.imaging.images.load_image``,
    so a bad file raises ``ImageError``). The image is preprocessed exactly as
    for classification; ``result.images[0]`` is the centre crop the model saw,
    on which the maps are overlaid.
    """
    from model.imaging.images import load_image
    from model.imaging.transforms import denormalize, eval_tensor

    model = getattr(source, "model", source)
    prep = preprocessing or getattr(source, "preprocessing", None)
    if prep is None:
        raise ValueError("analyse_image needs preprocessing for a bare model")
    names = class_names if class_names is not None else getattr(source, "class_names", None)
    pil = image if isinstance(image, Image.Image) else load_image(image, draft_size=(prep.resize_size, prep.resize_size))
    x = eval_tensor(pil.convert("RGB"), prep)
    crop = (denormalize(x, prep).permute(1, 2, 0).numpy() * 255.0 + 0.5).astype(np.uint8)
    result = analyse_tensor(
        model,
        x.unsqueeze(0),
        target_classes=None if target_class is None else [int(target_class)],
        class_names=names,
        images=crop[None],
        keep_inputs=keep_inputs,
        with_gradcam=with_gradcam,
        cam_layer=cam_layer,
    )
    result.temperature = float(getattr(source, "temperature", 1.0))
    return result
