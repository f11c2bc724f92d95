"""Does a state dict fit an EfficientNet variant, and if not, which one is it?

Each variant's *signature* (parameter name → shape) is read from a network
built on the meta device, so no memory or random init is spent, and cached.
The classifier head may have any number of classes; every other key must match
exactly. On a mismatch the file's keys are compared with all of B0-B7 (stem
width, depth and head width all show up in the signature) to name the variant
the file was most likely made for.
"""

from __future__ import annotations

from functools import lru_cache

import torch

from model.core.errors import WeightsError
from model.core.variants import VARIANTS, Variant

HEAD_WEIGHT = "classifier.1.weight"
HEAD_BIAS = "classifier.1.bias"
_HEAD_KEYS = (HEAD_WEIGHT, HEAD_BIAS)


@lru_cache(maxsize=None)
def variant_signature(name: str) -> dict[str, tuple[int, ...]]:
    """Parameter/buffer name → shape for ``name`` with a 1000-class head."""
    from model.nets.network import build_empty_model

    return {k: tuple(t.shape) for k, t in build_empty_model(name).state_dict().items()}


def _body(shapes: dict[str, tuple[int, ...]]) -> dict[str, tuple[int, ...]]:
    return {k: s for k, s in shapes.items() if k not in _HEAD_KEYS}


def head_shape(state: dict[str, torch.Tensor]) -> tuple[int, int]:
    """(num_classes, feature width) of the classifier head in ``state``."""
    w = state[HEAD_WEIGHT]
    return int(w.shape[0]), int(w.shape[1])


def _shapes(state: dict[str, torch.Tensor]) -> dict[str, tuple[int, ...]]:
    return {k: tuple(t.shape) for k, t in state.items()}


def _similarity(a: dict[str, tuple[int, ...]], b: dict[str, tuple[int, ...]]) -> float:
    """Share of keys present in both with the same shape, over all keys in either."""
    same = sum(1 for k, s in a.items() if b.get(k) == s)
    return same / max(1, len(a.keys() | b.keys()))


def _head_fits(shapes: dict[str, tuple[int, ...]], width: int) -> bool:
    w, b = shapes.get(HEAD_WEIGHT), shapes.get(HEAD_BIAS)
    return w is not None and b is not None and len(w) == 2 and w[1] == width and w[0] >= 1 and b == (w[0],)


def guess_variant(state: dict[str, torch.Tensor]) -> tuple[str | None, float]:
    """The variant whose signature is closest to ``state`` and how close (1.0 = exact).

    Returns (None, 0.0) when nothing resembles an EfficientNet at all.
    """
    shapes = _shapes(state)
    body = _body(shapes)
    scored = [(_similarity(body, _body(variant_signature(name))), name) for name in VARIANTS]
    score, name = max(scored)
    if score == 0.0:
        return None, 0.0
    return name, score


def check_state_dict(state: dict[str, torch.Tensor], variant: Variant, source: str = "weights") -> None:
    """Raise ``WeightsError`` unless ``state`` loads into ``variant`` (with any head size).

    The message says which variant the weights seem to belong to, or that
    they are not EfficientNet weights, or what is missing/different.
    """
    shapes = _shapes(state)
    expected = variant_signature(variant.name)
    width = expected[HEAD_WEIGHT][1]
    body, want = _body(shapes), _body(expected)
    if body == want and _head_fits(shapes, width):
        return
    guess, score = guess_variant(state)
    if guess is None or score < 0.5:
        example = next((k for k in body if k not in want), None) or next(iter(shapes), "")
        raise WeightsError(
            f"{source}: these are not EfficientNet B0-B7 weights (for example the key {example!r} "
            f"is not part of an {variant.title})."
        )
    if guess != variant.name and score == 1.0 and _head_fits(shapes, variant_signature(guess)[HEAD_WEIGHT][1]):
        g = VARIANTS[guess]
        raise WeightsError(f"{source}: these weights are for {g.title}, not {variant.title}; choose variant {g.name}.")
    missing = [k for k in want if k not in body]
    unexpected = [k for k in body if k not in want]
    reshaped = [k for k in want if k in body and body[k] != want[k]]
    if not (missing or unexpected or reshaped) and not _head_fits(shapes, width):
        problem = f"the classifier head does not fit (expected {HEAD_WEIGHT} of shape [classes, {width}])"
    else:
        parts = [f"{n} {what}" for n, what in ((len(missing), "missing"), (len(unexpected), "unexpected"), (len(reshaped), "with another shape")) if n]
        first = (missing or unexpected or reshaped)[0]
        problem = f"{', '.join(parts)} keys, e.g. {first!r}"
    hint = f"; they look closest to {VARIANTS[guess].title}" if guess != variant.name else ""
    raise WeightsError(f"{source}: these weights do not fit {variant.title} ({problem}){hint}.")
