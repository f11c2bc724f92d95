"""Taking a run folder for one training, and reading what an earlier one left in it.

``lock_run_folder`` holds an OS lock on the folder for the whole run, so a second
training or a resume of a run that is still going stops at once with one sentence
instead of writing over it. ``open_resume`` decides what a new or resumed run
starts from. No state on disk may trap a user: a run killed (or out of disk
space) before its first ``last.pt`` leaves at most ``metrics.csv`` and a
``model.pt``; such a folder can be resumed (it starts from the beginning) and
restarted, and the run says which it did. A ``last.pt`` that cannot be read is
no run worth keeping either: a new run may start over it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from model.core.errors import BundleError, StudioError
from model.core.file_lock import FolderLock
from model.training.checkpoint import Checkpoint, RunPaths, load_checkpoint


class RunFolderInUse(StudioError):
    """Another process holds the run folder's lock."""


def lock_run_folder(paths: RunPaths) -> FolderLock:
    """The run folder's lock, held until released (or the process ends); refuses a folder in use."""
    lock = FolderLock(paths.root)
    try:
        holder = lock.acquire()
    except OSError:
        return lock  # a folder that cannot even hold a lock file fails at its first write, with its own sentence
    if holder is not None:
        who = f" (pid {holder})" if holder else ""
        raise RunFolderInUse(
            f"{paths.root} is in use by another training{who}: wait for it to finish or choose another output folder."
        )
    return lock


@dataclass
class RunStart:
    """What a run starts from: a checkpoint (None: from the beginning) and what to tell the user about it."""

    checkpoint: Checkpoint | None
    notices: list[str] = field(default_factory=list)


def _partial_run(paths: RunPaths) -> bool:
    """Files of a run that never wrote last.pt (killed or out of space in its first epoch)."""
    return paths.model.exists() or paths.metrics.exists()


def open_resume(resume: bool, paths: RunPaths) -> RunStart:
    """The checkpoint to continue from, or a fresh start over what an interrupted first epoch left.

    Refuses a resume of a folder with nothing in it and a new run over a run that can be resumed."""
    if paths.last.is_file():
        try:
            ckpt = load_checkpoint(paths.last)
        except BundleError as e:
            if resume:
                raise
            return RunStart(None, [f"{e} A new run starts in {paths.root} and replaces it."])
        if resume:
            return RunStart(ckpt)
        raise StudioError(f"{paths.root} already holds a training run: resume it or choose another output folder.")
    if not _partial_run(paths):
        if resume:
            raise StudioError(f"{paths.root} has no last.pt to resume from: start without resume.")
        return RunStart(None)
    why = "the run there stopped before saving its first checkpoint (last.pt)"
    return RunStart(None, [f"{paths.root}: {why}, so it starts again from epoch 1 and replaces model.pt and metrics.csv."])




def best_model_is_behind(paths: RunPaths, ckpt: Checkpoint) -> bool:
    """Whether ``last.pt`` holds the best epoch's weights but ``model.pt`` does not: the run was cut off
    between the two writes of that epoch (last.pt is written first), or model.pt was lost."""
    if ckpt.best_epoch == 0 or ckpt.best_epoch != ckpt.epochs_done:
        return False
    from model.nets.bundle import load_bundle

    try:
        return len(load_bundle(paths.model).history) != ckpt.best_epoch
    except BundleError:
        return True


__all__ = ["RunFolderInUse", "RunStart", "best_model_is_behind", "lock_run_folder", "open_resume"]
