"""The choices ``auto`` makes for a run: the mode, EMA, and how each is explained to the user.

``mode="auto"`` (the default) trains only a new head when the backbone starts
pretrained (ImageNet or the user's weights file: its features are already
useful and a head trains in seconds) and fine-tunes everything when it starts
from random weights (a random backbone's features are noise: a head on them
stays at chance). ``ema="auto"`` averages the weights in full mode only: head
mode trains a linear layer on fixed features, which has no noisy tail to smooth.
"""

from __future__ import annotations

MODES = ("auto", "head", "full")
EMA_CHOICES = ("auto", "on", "off")


def resolve_mode(mode: str, pretrained: bool, source: str) -> tuple[str, str]:
    """(the mode to train in, one sentence saying which and why)."""
    if mode == "head":
        return "head", "head mode as asked: a new classifier on the frozen backbone"
    if mode == "full":
        return "full", "full mode as asked: every layer trains"
    if pretrained:
        return "head", f"auto chose head mode: the backbone starts from {source}, so its features are already useful"
    return "full", "auto chose full mode: the backbone starts from random weights, so every layer has to learn"


def resolve_ema(ema: str, mode: str) -> bool:
    """Whether to keep an EMA of the weights."""
    if ema == "on":
        return True
    if ema == "off":
        return False
    return mode == "full"


__all__ = ["EMA_CHOICES", "MODES", "resolve_ema", "resolve_mode"]
