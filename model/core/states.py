"""The named states of a training run: its mode, how it ended, what a checkpoint event saved.

Each is a string enum, so an event or a saved config holding one still prints,
compares and turns into JSON as the plain text it always was ("head",
"stopped by user", "best"), while code compares members instead of string literals.
"""

from __future__ import annotations

from enum import Enum


class StrEnum(str, Enum):
    """A ``str`` whose ``str()`` and f-string form is its value (``enum.StrEnum`` before Python 3.11)."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


class TrainMode(StrEnum):
    """``head``: a new classifier on the frozen backbone; ``full``: everything trains."""

    HEAD = "head"
    FULL = "full"


class FinishReason(StrEnum):
    """How a run ended. ``Finished.reason`` is this text; early stopping adds its detail after a colon."""

    COMPLETED = "completed"
    STOPPED_BY_USER = "stopped by user"
    EARLY_STOPPING = "early stopping"

    def describe(self, detail: str = "") -> str:
        """The reason as the run reports it: the value, then ``: detail`` when there is one."""
        return f"{self.value}: {detail}" if detail else self.value

    @classmethod
    def of(cls, reason: str) -> "FinishReason":
        """The member a reason text (``describe``'s output) was made from."""
        for member in cls:
            if reason == member.value or reason.startswith(member.value + ":"):
                return member
        raise ValueError(f"Not a finish reason: {reason!r}")


class CheckpointKind(StrEnum):
    """What a ``CheckpointSaved`` event wrote: the best bundle, the last checkpoint, or the evaluation."""

    BEST = "best"
    LAST = "last"
    EVALUATION = "evaluation"


__all__ = ["CheckpointKind", "FinishReason", "StrEnum", "TrainMode"]
