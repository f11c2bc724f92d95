"""One analysed image with its network: any registered map, its faithfulness, and SE ablation.

``Explainer(model, result)`` wraps an ``AttentionResult`` (which keeps the
preprocessed input) and the model that made it. It makes the map of any method
in ``model.explain.methods`` at any SE block or feature stage, scores maps with
deletion/insertion curves against the random map, and ablates the SE blocks;
everything is cached, so the GUI can ask again for free. Work runs on the
model's device with the model in eval mode (its previous mode is restored).
"""

from __future__ import annotations

from contextlib import contextmanager

import torch
from torch import nn

from model.explain.ablation import Ablation, ablate_blocks
from model.explain.attention import AttentionResult
from model.explain.attention_views import SpatialMap, make_spatial_map
from model.explain.cams import LayerPass, layer_pass
from model.explain.faithfulness import Faithfulness, faithfulness
from model.explain.layers import MIN_GRID, CamLayer, choose_cam_layer
from model.explain.methods import METHODS, get_method


@contextmanager
def eval_mode(model: nn.Module):
    """``model`` in eval mode inside the block, its own mode afterwards."""
    was_training = model.training
    if was_training:
        model.eval()
    try:
        yield model
    finally:
        if was_training:
            model.train()


class Explainer:
    """Maps, scores and ablations of image ``i`` of ``result``, made with ``model``."""

    def __init__(self, model: nn.Module, result: AttentionResult, i: int = 0) -> None:
        if result.x is None:
            raise ValueError("the result keeps no input: analyse it with analyse_image or analyse_tensor")
        self.model = model
        self.result = result
        self.index = i
        device = next(model.parameters()).device
        self.x = torch.from_numpy(result.x[i : i + 1]).to(device)
        self._cache: dict = {}

    # --- where maps are taken -------------------------------------------------------------
    @property
    def target(self) -> int:
        """The class the result explains (its prediction unless another was chosen)."""
        return self.result.target_classes[self.index]

    def layer(self, layer: CamLayer | int | None = None) -> CamLayer:
        """A CAM stage: the given one, the one at this ``model.features`` index, or the result's (default rule)."""
        if isinstance(layer, CamLayer):
            return layer
        if layer is None and self.result.cam_layer is not None:
            return self.result.cam_layer
        return choose_cam_layer(self.model, self.result.input_size, layer)

    def depth(self, depth: int | None = None) -> int:
        """An SE block: the given one, else the deepest whose grid is at least 4×4 (as for CAMs)."""
        if depth is not None:
            return int(depth)
        fine = [b.depth for b in self.result.blocks if b.grid is not None and min(b.grid) >= MIN_GRID]
        return fine[-1] if fine else 0

    def layer_pass(self, layer: CamLayer, target: int) -> LayerPass:
        """Activations and gradients at ``layer`` for ``target`` (cached)."""
        key = ("pass", layer.index, target)
        if key not in self._cache:
            with eval_mode(self.model):
                self._cache[key] = layer_pass(self.model, self.x, layer.index, [target])
        return self._cache[key]

    def make_map(self, raw: torch.Tensor, kind: str, *, layer: CamLayer | None = None) -> SpatialMap:
        return make_spatial_map(raw, self.result.input_size, kind, None, layer)

    # --- maps and their evidence ------------------------------------------------------------
    def _map_key(self, method: str, target: int | None, depth: int | None, layer) -> tuple:
        m = get_method(method)
        target = self.target if target is None else int(target)
        depth = self.depth(depth) if m.per_block else None
        chosen = (self.layer(layer) if layer is not None else m.default_layer(self)) if m.uses_layer else None
        return ("map", method, None if m.per_block else target, depth, chosen), target

    def map(self, method: str, *, target: int | None = None, depth: int | None = None,
            layer: CamLayer | int | None = None) -> SpatialMap:
        """The map of registered ``method`` (cached); ``depth`` for per-block methods, ``layer`` for CAMs."""
        key, target = self._map_key(method, target, depth, layer)
        if key not in self._cache:
            with eval_mode(self.model):
                self._cache[key] = get_method(method).compute(self, target, depth=key[3], layer=key[4])
        return self._cache[key]

    def _score_key(self, smap: SpatialMap, target: int) -> tuple:
        # Random maps depend only on their grid: stages with the same grid share one (costly) score.
        where = smap.grid if smap.kind == "random" else (smap.layer.index if smap.layer else None)
        return ("score", smap.kind, smap.block.depth if smap.block else None, where, target)

    def score(self, smap: SpatialMap, target: int | None = None) -> Faithfulness:
        """Deletion and insertion curves of ``smap`` for ``target`` (default: the explained class), cached."""
        target = self.target if target is None else int(target)
        key = self._score_key(smap, target)
        if key not in self._cache:
            with eval_mode(self.model):
                method = METHODS.get(smap.kind)
                self._cache[key] = (method.score(self, smap, target) if method is not None
                                    else faithfulness(self.model, self.x, smap.image, target))
        return self._cache[key]

    def cached(self, method: str, *, depth: int | None = None,
               layer: CamLayer | int | None = None) -> tuple[SpatialMap | None, Faithfulness | None]:
        """The map and score of ``method`` if already made, without computing anything (for the UI thread)."""
        key, target = self._map_key(method, None, depth, layer)
        smap = self._cache.get(key)
        if smap is None and get_method(method).per_block and self.result.inputs is None:
            smap = self.result._cache.get((method, key[3], self.index))  # made by the analysis itself
        score = self._cache.get(self._score_key(smap, target)) if smap is not None else None
        return smap, score

    def cached_ablation(self, mode: str = "mean") -> Ablation | None:
        return self._cache.get(("ablation", mode, self.target))

    def score_method(self, method: str, *, target: int | None = None, depth: int | None = None,
                     layer: CamLayer | int | None = None) -> Faithfulness:
        """``score`` of ``map(method, …)``."""
        return self.score(self.map(method, target=target, depth=depth, layer=layer), target)

    def ablation(self, mode: str = "mean", target: int | None = None) -> Ablation:
        """Every SE block's ablation for ``target`` (default: the explained class), cached."""
        target = self.target if target is None else int(target)
        key = ("ablation", mode, target)
        if key not in self._cache:
            with eval_mode(self.model):
                self._cache[key] = ablate_blocks(self.model, self.x, target, mode=mode, blocks=self.result.blocks)
        return self._cache[key]
