"""Events the backend yields to its callers (GUI workers, the CLI, tests).

Long work in the backend is a generator of these frozen dataclasses. They hold
plain Python numbers, strings and fresh numpy arrays only, so they can cross
threads safely and be turned into JSON by the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    """Generic progress of a slow, cancellable job: ``done`` of ``total`` units."""

    done: int
    total: int
    message: str = ""
