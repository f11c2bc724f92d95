"""What the Train page says about a run, in words: the banner above the curves and the notices below it.

Plain functions of the backend's events and records (no widgets), so every
sentence the page shows about a run is written in one place.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

READY = "Choose a dataset, check the settings and press Start."
LOADING = "Loading the data and the network…"
FAILED = "Training stopped with an error; change what the message says and start again."


def started_banner(s) -> str:
    """The banner of a run that has started (``model.core.events.TrainingStarted``): what trains on what."""
    augment = f"augmentation {s.augment}" if s.augment else ("augmentation on" if s.augmentation else "augmentation off")
    precision = f" · {s.mixed_precision}" if s.mixed_precision else ""
    test = f" ({s.num_test} test images set aside)" if s.num_test else ""
    return (
        f"<b>{escape(s.variant.upper())} · {s.mode} mode · {escape(s.weights)}</b> · {len(s.class_names)} classes · "
        f"{s.num_train} train / {s.num_val} val images{test}"
        f" · batch {s.batch_size} · {s.image_size} px · {augment}"
        f"{precision} · {escape(s.device_name)} · run <i>{escape(Path(s.run_dir).name)}</i>"
    )


def reopened_banner(record) -> str:
    """The banner of an earlier run opened again (``model.training.runs.RunRecord``), from its saved settings."""
    c = record.config
    return (
        f"<b>{escape(str(c.get('variant', '?')).upper())} · {escape(str(c.get('mode', '?')))} mode · "
        f"{escape(str(c.get('weights_source', '')))}</b> · {len(record.class_names)} classes · "
        f"dataset <i>{escape(str(c.get('data_dir', 'unknown')))}</i>"
    )


def started_notices(s) -> list[tuple[str, str]]:
    """(level, sentence) for what the engine decided on its own when the run started: the mode, the balance."""
    notices = []
    if s.mode_reason:
        notices.append(("info", s.mode_reason[0].upper() + s.mode_reason[1:] + "."))
    if s.balance:
        notices.append(("warning", s.balance))
    return notices


def finished_notice(finished) -> str:
    """How a run ended (``model.core.events.Finished``), and whether there is a model to use."""
    where = Path(finished.bundle_path).parent
    if finished.epochs_done == 0:
        return (f"{finished.reason.capitalize()} before the first epoch ended, so there is "
                f"no trained model yet; press Resume to train the run {where.name}.")
    return (f"{finished.reason.capitalize()} after {finished.epochs_done} epochs; "
            f"the best model is saved in the run {where.name}.")


def paused_text(paused) -> str:
    """Where a run paused (``model.core.events.Paused``), for the progress row."""
    where = f"at epoch {paused.epoch}, step {paused.step}" if paused.epoch else "while preparing the images"
    return f"Paused {where}"


def skipped_notice(skipped) -> str:
    return f"Skipped {Path(skipped.path).name}: {skipped.reason}."


def batch_reduced_notice(e) -> str:
    return f"Out of memory: the batch size went from {e.old} to {e.new} ({e.reason})."


def best_epoch_message(saved) -> str:
    """The status bar's line when a checkpoint of the best epoch so far is written."""
    return f"Epoch {saved.epoch} is the best so far; its model is saved."
