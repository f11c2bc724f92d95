"""The registry of explanation methods: each registered once, read by the CLI, the GUI and the figures.

``METHODS`` maps a method's name to its instance, in the order the UI lists
them. ``get_method(name)`` raises a clear error for an unknown name.
"""

from __future__ import annotations

from model.explain.methods.base import ExplanationMethod
from model.explain.methods.baseline import RandomMap
from model.explain.methods.cam import GradCAM, GradCAMPlusPlus, ScoreCAM
from model.explain.methods.se import SEChange, SEMap

__all__ = ["METHODS", "ExplanationMethod", "get_method", "method_names"]

METHODS: dict[str, ExplanationMethod] = {
    m.name: m for m in (SEMap(), SEChange(), GradCAM(), GradCAMPlusPlus(), ScoreCAM(), RandomMap())
}


def method_names(*, per_block: bool | None = None) -> tuple[str, ...]:
    """Registered names in UI order; ``per_block`` keeps only the per-block (True) or whole-image (False) ones."""
    return tuple(n for n, m in METHODS.items() if per_block is None or m.per_block == per_block)


def get_method(name: str) -> ExplanationMethod:
    try:
        return METHODS[name]
    except KeyError:
        raise ValueError(f"unknown explanation method {name!r}: choose one of {', '.join(METHODS)}") from None
