"""The SE maps of one block: where the channels its gates favour respond, and what its gating changed."""

from __future__ import annotations

from model.explain.methods.base import ExplanationMethod


class SEMap(ExplanationMethod):
    name = "se"
    label = "SE map"
    description = "M = ReLU(Σc sc·Uc): the block's input channels weighted by its SE gates"
    per_block = True

    def compute(self, explainer, target, *, depth=None, layer=None):
        return explainer.result.spatial_map(explainer.depth(depth), explainer.index, kind=self.name)


class SEChange(SEMap):
    name = "change"
    label = "What SE changed"
    description = "channels weighted by s − mean(s): where the block's gating boosts the response"
