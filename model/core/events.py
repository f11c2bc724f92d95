"""Events the backend yields to its callers (GUI workers, the CLI, tests).

Long work in the backend is a generator of these frozen dataclasses. They hold
plain Python numbers, strings and fresh numpy arrays only, so they can cross
threads safely and be turned into JSON by the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass

from model.core.states import FinishReason


@dataclass(frozen=True)
class Progress:
    """Generic progress of a slow, cancellable job: ``done`` of ``total`` units."""

    done: int
    total: int
    message: str = ""


# --- training (model.engine) -------------------------------------------------------------


@dataclass(frozen=True)
class EpochMetrics:
    """One finished epoch. ``val_*`` are None when there is no validation set.

    ``train_loss`` includes label smoothing; ``val_loss`` is plain cross-entropy.
    """

    epoch: int  # 1-based
    epochs: int
    train_loss: float
    train_acc: float
    val_loss: float | None
    val_acc: float | None
    lr: float
    seconds: float
    is_best: bool = False
    backbone_frozen: bool = False
    val_macro_f1: float | None = None  # beside accuracy: what counts when classes are imbalanced
    ema: bool = False  # the val figures are of the averaged (EMA) weights, which validated better


@dataclass(frozen=True)
class TrainingStarted:
    """Everything decided before the first step: what trains, where, how fast, and the past curves on resume."""

    device: str  # "cuda", "cpu", …
    device_name: str  # e.g. "CPU · 8 cores"
    variant: str
    mode: str  # "head" or "full"
    weights: str  # human text: "ImageNet weights", "random weights", …
    class_names: tuple[str, ...]
    num_train: int
    num_val: int
    epochs: int
    start_epoch: int  # 1-based epoch the run starts (or resumes) at
    batch_size: int
    image_size: int
    augmentation: bool
    mixed_precision: str | None  # "bfloat16", "float16" or None
    channels_last: bool
    loader_workers: int
    run_dir: str
    history: tuple[EpochMetrics, ...] = ()  # epochs done before a resume
    num_test: int = 0  # images in the dataset's test/ folder: never trained or validated on
    mode_reason: str = ""  # why this mode ("auto" chose it because …)
    augment: str = ""  # the augmentation preset, with ", no flip" when flips are off
    balance: str = ""  # one sentence on the class balance and what is done about it
    ema_decay: float | None = None  # EMA of the weights, when on


@dataclass(frozen=True)
class Notice:
    """Something the user should read (dataset warnings, "augmentation is off in head mode", …)."""

    message: str
    level: str = "info"  # "info" or "warning"


@dataclass(frozen=True)
class PreparingImages:
    """Decoding and caching images before the first epoch."""

    done: int
    total: int


@dataclass(frozen=True)
class FeatureCaching:
    """Head mode: computing the frozen backbone's features once."""

    done: int
    total: int


@dataclass(frozen=True)
class StepMetrics:
    """Throttled progress inside an epoch (``step`` is 1-based); loss and accuracy are running means."""

    epoch: int
    step: int
    steps_per_epoch: int
    loss: float
    acc: float
    lr: float
    images_per_sec: float


@dataclass(frozen=True)
class SkippedFile:
    """An image that failed to decode; it is left out of training from now on."""

    path: str
    reason: str


@dataclass(frozen=True)
class BatchSizeReduced:
    """The device ran out of memory; training goes on with a smaller batch."""

    old: int
    new: int
    reason: str


@dataclass(frozen=True)
class Paused:
    epoch: int
    step: int


@dataclass(frozen=True)
class Resumed:
    epoch: int
    step: int


@dataclass(frozen=True)
class CheckpointSaved:
    """``kind`` is a ``CheckpointKind``: "best" (the bundle, model.pt), "last" (last.pt) or "evaluation" (evaluation.json)."""

    path: str
    kind: str
    epoch: int = 0


@dataclass(frozen=True)
class Finished:
    """The run is over. ``best_val_acc`` is None when nothing was validated."""

    best_val_acc: float | None
    bundle_path: str
    stopped_early: bool
    reason: str  # a FinishReason's text: "completed", "stopped by user", "early stopping: …"
    last_path: str = ""
    epochs_done: int = 0

    @property
    def outcome(self) -> FinishReason:
        """How the run ended, to compare against ``FinishReason`` members rather than texts."""
        return FinishReason.of(self.reason)


@dataclass(frozen=True)
class LRFinderStep:
    """One step of the learning-rate sweep: its rate and the smoothed loss so far."""

    step: int
    steps: int
    lr: float
    loss: float


@dataclass(frozen=True)
class LRFinderResult:
    """The finished sweep: the loss-against-LR curve and the suggested rate (fastai's valley; steepest beside)."""

    lrs: tuple[float, ...]
    losses: tuple[float, ...]
    suggestion: float
    valley: float
    steepest: float


EVENT_NAMES = {
    LRFinderStep: "lr_step",
    LRFinderResult: "lr_result",
    TrainingStarted: "started",
    Notice: "notice",
    PreparingImages: "preparing",
    FeatureCaching: "caching_features",
    StepMetrics: "step",
    EpochMetrics: "epoch",
    SkippedFile: "skipped_file",
    BatchSizeReduced: "batch_size_reduced",
    Paused: "paused",
    Resumed: "resumed",
    CheckpointSaved: "checkpoint",
    Finished: "finished",
    Progress: "progress",
}
_JSON_RENAMES = {"bundle_path": "bundle"}


def event_name(event: object) -> str:
    return EVENT_NAMES.get(type(event), type(event).__name__)


def event_to_dict(event: object) -> dict:
    """``{"event": name, **fields}`` with JSON-ready values (the CLI's --json lines)."""
    from dataclasses import fields

    out: dict = {"event": event_name(event)}
    for f in fields(event):
        value = getattr(event, f.name)
        if isinstance(value, tuple):
            value = [asdict_event(v) if hasattr(v, "__dataclass_fields__") else v for v in value]
        out[_JSON_RENAMES.get(f.name, f.name)] = value
    return out


def asdict_event(event: object) -> dict:
    from dataclasses import asdict

    return asdict(event)
