"""The random map: what a map without evidence scores, so other maps' scores can be read against it.

Its map is one draw of noise; its score is the mean of ``RANDOM_DRAWS`` draws (``random_faithfulness``).
"""

from __future__ import annotations

from model.explain.methods.base import ExplanationMethod

SEED = 0


class RandomMap(ExplanationMethod):
    name = "random"
    label = "Random (baseline)"
    description = "uniform noise on the CAM stage's grid: the score of a map that knows nothing (the mean of a few draws)"
    uses_layer = True

    def compute(self, explainer, target, *, depth=None, layer=None):
        from model.explain.faithfulness import random_grid  # torch: imported on use, like the CAMs

        layer = explainer.layer(layer)
        return explainer.make_map(random_grid(layer.grid, SEED), self.name, layer=layer)

    def score(self, explainer, smap, target):
        """The mean curves of several draws at the map's grid: one draw alone has its own spatial preferences."""
        from model.explain.faithfulness import random_faithfulness

        return random_faithfulness(explainer.model, explainer.x, smap.layer.grid, target, seed=SEED)
