"""What every explanation method is: a name, a label for the UI, its needs, and one call that makes its map."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from model.explain.attention_views import SpatialMap
    from model.explain.explainer import Explainer
    from model.explain.faithfulness import Faithfulness
    from model.explain.layers import CamLayer


class ExplanationMethod:
    """One way of drawing where the evidence for a class lies in an image.

    Subclasses set the class attributes and implement ``compute``; they are
    registered once in ``model.explain.methods.METHODS``, which the CLI's
    ``--map`` choices, the GUI's selector and the figures read.
    """

    name: ClassVar[str]  # stable key: CLI choice, JSON key, file name
    label: ClassVar[str]  # what the UI shows
    description: ClassVar[str]  # one sentence for tooltips and help
    needs_gradients: ClassVar[bool] = False
    per_block: ClassVar[bool] = False  # one map per SE block (the ``depth`` argument matters)
    uses_layer: ClassVar[bool] = False  # taken at a feature stage (the ``layer`` argument matters)

    def default_layer(self, explainer: "Explainer") -> "CamLayer | None":
        """The stage used when none is chosen: the explainer's (the deepest with a grid of at least 4×4)."""
        return explainer.layer(None) if self.uses_layer else None

    def compute(self, explainer: "Explainer", target: int, *, depth: int | None = None,
                layer: "CamLayer | None" = None) -> "SpatialMap":
        """The map of ``explainer``'s image for class ``target`` (SE block ``depth`` / stage ``layer``
        when the method has them; ``None`` takes the explainer's default)."""
        raise NotImplementedError

    def score(self, explainer: "Explainer", smap: "SpatialMap", target: int) -> "Faithfulness":
        """Deletion and insertion curves of this method's map ``smap`` for class ``target``."""
        from model.explain.faithfulness import faithfulness  # torch: imported on use

        return faithfulness(explainer.model, explainer.x, smap.image, target)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"
