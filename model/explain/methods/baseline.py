"""The random map: what a map without evidence scores, so other maps' scores can be read against it."""

from __future__ import annotations

from model.explain.methods.base import ExplanationMethod

SEED = 0


class RandomMap(ExplanationMethod):
    name = "random"
    label = "Random (baseline)"
    description = "uniform noise on the CAM stage's grid: the score of a map that knows nothing"
    uses_layer = True

    def compute(self, explainer, target, *, depth=None, layer=None):
        from model.explain.faithfulness import random_grid  # torch: imported on use, like the CAMs

        layer = explainer.layer(layer)
        return explainer.make_map(random_grid(layer.grid, SEED), self.name, layer=layer)
