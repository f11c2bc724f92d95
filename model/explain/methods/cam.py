"""Class-activation maps as registered methods: Grad-CAM, Grad-CAM++ and Score-CAM at a chosen stage."""

from __future__ import annotations

from model.explain.methods.base import ExplanationMethod

# model.explain.cams (torch) is imported inside compute: the registry itself stays torch-free, so the
# GUI can list the methods before torch has loaded.


class GradCAM(ExplanationMethod):
    name = "gradcam"
    label = "Grad-CAM"
    description = "the stage's channels weighted by the mean gradient of the class score"
    needs_gradients = True
    uses_layer = True

    def compute(self, explainer, target, *, depth=None, layer=None):
        from model.explain.cams import gradient_cam

        layer = explainer.layer(layer)
        layer_pass = explainer.layer_pass(layer, target)
        raw = gradient_cam(self.name, layer_pass.activations, layer_pass.gradients)[0]
        return explainer.make_map(raw, self.name, layer=layer)


class GradCAMPlusPlus(GradCAM):
    name = "gradcam++"
    label = "Grad-CAM++"
    description = "Grad-CAM with per-pixel weights of the positive gradients (better for several objects)"


class ScoreCAM(ExplanationMethod):
    name = "scorecam"
    label = "Score-CAM"
    description = "each channel masks the image; channels weighted by the class score of their masked image"
    uses_layer = True

    def default_layer(self, explainer):
        """Of the stages with the default grid, the one with the fewest channels: Score-CAM runs the network
        once per channel, and B0's 1×1 head conv (1280 ch) sees the same grid as stage 7 (320 ch)."""
        chosen = explainer.layer(None)
        same = [layer for layer in explainer.result.cam_layers if layer.grid == chosen.grid] or [chosen]
        return min(same, key=lambda layer: (layer.channels, -layer.index))

    def compute(self, explainer, target, *, depth=None, layer=None):
        from model.explain.cams import score_cam

        layer = explainer.layer(layer)
        activations = explainer.layer_pass(layer, target).activations
        raw = score_cam(explainer.model, explainer.x, layer.index, target, activations=activations)
        return explainer.make_map(raw, self.name, layer=layer)
