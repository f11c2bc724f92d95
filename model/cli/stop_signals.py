"""Ctrl-C and SIGTERM during ``python -m model train``: stop cleanly first, abort on a second signal.

SIGTERM is what ``docker stop``, systemd and Slurm send; it is treated as a
Ctrl-C. The first signal asks the run to stop after the current step: both
checkpoints are saved, the finished event is emitted, and the command exits
with 128 + the signal (130 for SIGINT, 143 for SIGTERM). A second signal aborts,
but never in the middle of a file being written: the write completes first
(``model.core.interrupts``), then the command exits with 128 + that signal.

Under torchrun a second signal does not abort: torchrun passes its own Ctrl-C
on to every worker, and kills them itself if they take too long.
"""

from __future__ import annotations

import os
import signal
import sys

from model.core.interrupts import interrupt
from model.core.train_control import TrainControl

HANDLED = (signal.SIGINT, signal.SIGTERM)


class Aborted(KeyboardInterrupt):
    """The second stop signal: the run ends now (after any write in progress)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class StopSignals:
    """Installs the handlers for a training; ``first`` is the signal that asked it to stop, if any."""

    def __init__(self, control: TrainControl, distributed: bool = False) -> None:
        self.control = control
        self.distributed = distributed
        self.first: int | None = None
        self.previous: dict[int, object] = {}

    def __enter__(self) -> "StopSignals":
        for signum in HANDLED:
            self.previous[signum] = signal.signal(signum, self.handle)
        return self

    def __exit__(self, *exc) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)

    def handle(self, signum: int, frame) -> None:
        if self.first is not None or self.control.stopped:
            if not self.distributed:
                interrupt(Aborted(signum))
            return
        self.first = signum
        self.control.stop()
        if self.distributed:
            who, why = f"rank {os.environ.get('RANK', '?')}: ", ""
        else:
            who, why = "", " (Ctrl-C again to abort)" if signum == signal.SIGINT else f" ({signal.Signals(signum).name})"
        print(f"\n{who}Stopping after this step and saving checkpoints{why}.", file=sys.stderr, flush=True)

    def exit_status(self) -> int:
        """128 + the signal that stopped the run (what a shell reports for a command ended by it)."""
        return 128 + int(self.first if self.first is not None else signal.SIGINT)


__all__ = ["Aborted", "StopSignals"]
