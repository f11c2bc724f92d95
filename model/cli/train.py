"""``python -m model train DATA_DIR --out RUN_DIR``: fine-tune an EfficientNet on class folders.

Prints one line per epoch (and a progress bar on a terminal), or with ``--json``
one JSON object per event and line, the last being ``{"event": "finished", …}``.
The first Ctrl-C (or SIGTERM) stops cleanly after the current step and still writes
the best bundle and the last checkpoint; ``--resume`` continues from there
(``model.cli.stop_signals``).

Under ``torchrun`` the same command trains on every process (``model.training.distributed``);
only rank 0 prints.
"""

from __future__ import annotations

import argparse
import tempfile
import sys
import time

from model.cli.arg_types import fraction, image_size, learning_rate, non_negative_int, positive_int, seed_value
from model.cli.common import ProgressBar, add_device_flag, add_json_flag, print_json, silence_stdout
from model.core.variants import VARIANT_NAMES


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "train",
        help="fine-tune on a folder with one sub-folder of images per class",
        description="Fine-tune an EfficientNet on DATA_DIR (one sub-folder per class, optionally train/ and val/).",
    )
    p.add_argument("data_dir", metavar="DATA_DIR", help="dataset folder: one sub-folder of images per class")
    p.add_argument("--out", required=True, metavar="RUN_DIR", help="run folder for model.pt, last.pt, metrics.csv")
    add_training_flags(p)
    p.add_argument("--resume", action="store_true", help="continue the run in RUN_DIR from its last checkpoint")
    p.add_argument(
        "--tensorboard",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="write TensorBoard event files to RUN_DIR/tensorboard (default: when tensorboard is installed)",
    )
    add_device_flag(p)
    add_json_flag(p, "one JSON object per event and line")
    p.set_defaults(run=run)


def add_training_flags(p: argparse.ArgumentParser) -> None:
    """The flags ``train`` and ``lr-find`` share: what to train and how."""
    from model.training.augment import DEFAULT_PRESET, PRESET_HELP

    p.add_argument("--variant", default="b0", choices=VARIANT_NAMES, help="EfficientNet variant (default: b0)")
    p.add_argument(
        "--weights",
        default="auto",
        help="starting weights: imagenet, random, a .pth/.pt file, or auto = imagenet when on disk else random",
    )
    p.add_argument(
        "--mode",
        default="auto",
        choices=("auto", "head", "full"),
        help="auto (default): head when the backbone is pretrained, full when random; "
        "head: train a new classifier on frozen features (fast); full: fine-tune everything",
    )
    p.add_argument("--epochs", type=positive_int, default=None, help="epochs (default: 10; with --resume, more extends the run)")
    p.add_argument("--batch-size", type=positive_int, default=None, help="batch size (default: what fits the device)")
    p.add_argument("--lr", type=learning_rate, default=None, help="peak learning rate (default: 3e-3 head, 1e-3 full)")
    p.add_argument("--image-size", type=image_size, default=None, help="training resolution (default: the variant's native one)")
    val = p.add_mutually_exclusive_group()
    val.add_argument("--val-dir", default=None, metavar="DIR", help="separate validation folder with the same classes")
    val.add_argument("--val-split", type=fraction, default=0.2, help="fraction held out for validation (default: 0.2)")
    p.add_argument("--seed", type=seed_value, default=0, help="random seed (default: 0)")
    p.add_argument("--patience", type=positive_int, default=None, help="stop after N epochs without a better val accuracy")
    p.add_argument("--warmup-epochs", type=non_negative_int, default=None, help="full mode: first train N epochs with the backbone frozen")
    p.add_argument(
        "--augment",
        default=DEFAULT_PRESET,
        choices=tuple(PRESET_HELP),
        help=("full mode's augmentation: " + "; ".join(f"{k}: {v}" for k, v in PRESET_HELP.items())).replace("%", "%%")
        + f" (default: {DEFAULT_PRESET})",
    )
    p.add_argument("--no-augment", dest="augment", action="store_const", const="none", help="the same as --augment none")
    p.add_argument(
        "--flip",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="random horizontal flips (default: off; turn on for photos, keep off for digits, text or anything with a handedness)",
    )
    p.add_argument(
        "--balance",
        default="auto",
        choices=("auto", "sampler", "loss", "off"),
        help="when the largest class has over 3× the images of the smallest: a class-balanced sampler or a "
        "class-weighted loss (default: auto = the sampler)",
    )
    p.add_argument(
        "--ema",
        default="auto",
        choices=("auto", "on", "off"),
        help="average the weights over the last steps (default: auto = on in full mode); the better-validating weights are kept",
    )
    p.add_argument("--no-calibrate", dest="calibrate", action="store_false", help="do not fit a temperature to calibrate the confidence")
    p.add_argument("--dropout", type=float, default=None, help="dropout before the classifier while training (default: the variant's, 0.2 for B0)")
    p.add_argument("--workers", type=non_negative_int, default=None, help="image-loading worker processes (default: by device)")


def config_from_args(args: argparse.Namespace):
    from model.core.train_config import TrainConfig

    return TrainConfig(
        data_dir=args.data_dir,
        out_dir=getattr(args, "out", None) or tempfile.gettempdir(),  # lr-find writes nothing
        variant=args.variant,
        weights=args.weights,
        mode=args.mode,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        image_size=args.image_size,
        val_dir=args.val_dir,
        val_split=args.val_split,
        seed=args.seed,
        device=args.device,
        resume=getattr(args, "resume", False),
        patience=args.patience,
        warmup_epochs=args.warmup_epochs,
        augment=args.augment,
        flip=args.flip,
        balance=args.balance,
        ema=args.ema,
        calibrate=args.calibrate,
        tensorboard=getattr(args, "tensorboard", None),
        num_workers=args.workers,
        dropout=args.dropout,
    )


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def finished_line(ev) -> str:
    """The last line of a run: where its model is, or that there is none yet."""
    if ev.epochs_done == 0:
        return (f"{ev.reason.capitalize()} before the first epoch ended: there is no trained model yet. "
                f"Run the same command with --resume to train it.")
    best = "no validation" if ev.best_val_acc is None else f"best val accuracy {_pct(ev.best_val_acc)}"
    return f"{ev.reason.capitalize()} after {ev.epochs_done} epoch(s): {best}. Model: {ev.bundle_path}"


class TextReport:
    """Human-readable output: a line per epoch, notices, and progress bars on a terminal."""

    def __init__(self, clock=time.monotonic) -> None:
        self.bar: ProgressBar | None = None
        self.clock = clock
        self._epoch_began: float | None = None  # wall clock at the start of the live epoch
        self._first_step: tuple[int, int, float] | None = None  # (epoch, step, time) the ETA counts from

    def _close_bar(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def _progress(self, label: str, done: int, total: int, suffix: str = "") -> None:
        if self.bar is None or self.bar.label != label:
            self._close_bar()
            self.bar = ProgressBar(total, label)
        self.bar.total = max(1, total)
        self.bar.update(done, suffix)

    def show(self, ev) -> None:
        from model.core import events as E

        if isinstance(ev, E.StepMetrics):
            suffix = f"loss {ev.loss:.3f} acc {_pct(ev.acc)} {ev.images_per_sec:.0f} img/s{self._eta(ev)}"
            self._progress(f"epoch {ev.epoch}", ev.step, ev.steps_per_epoch, suffix)
            return
        if isinstance(ev, E.PreparingImages):
            self._progress("decoding images", ev.done, ev.total)
            return
        if isinstance(ev, E.FeatureCaching):
            self._progress("computing features", ev.done, ev.total)
            return
        self._close_bar()
        if isinstance(ev, E.TrainingStarted):
            print(
                f"Training EfficientNet-{ev.variant.upper()} ({ev.mode} mode, {ev.weights}) on {ev.device_name}: "
                f"{len(ev.class_names)} classes, {ev.num_train} train / {ev.num_val} val images, "
                f"{ev.image_size}px, batch {ev.batch_size}, epochs {ev.start_epoch}-{ev.epochs}"
                + (f", {ev.mixed_precision} mixed precision" if ev.mixed_precision else "")
                + (f"; {ev.num_test} test images set aside" if ev.num_test else "")
            )
            if ev.mode_reason:
                print(f"Mode: {ev.mode_reason}.")
            details = [f"augmentation {ev.augment}" if ev.augment else "", f"EMA of the weights (decay {ev.ema_decay:.4f})" if ev.ema_decay else ""]
            if any(details):
                print("With " + ", ".join(d for d in details if d) + ".")
            if ev.balance:
                print(ev.balance)
            for past in ev.history:
                self._epoch_line(past, past.seconds)
            self._epoch_began = self.clock()
        elif isinstance(ev, E.EpochMetrics):
            # The wall time since the last epoch line: with the feature pass and validation, which the
            # engine's own figure (the training steps only: a fraction of a second in head mode) leaves out.
            now = self.clock()
            began = self._epoch_began if self._epoch_began is not None else now - ev.seconds
            self._epoch_line(ev, max(ev.seconds, now - began))
            self._epoch_began = now
        elif isinstance(ev, E.Notice):
            print(f"{'warning' if ev.level == 'warning' else 'note'}: {ev.message}")
        elif isinstance(ev, E.SkippedFile):
            print(f"skipped {ev.path}: {ev.reason}")
        elif isinstance(ev, E.BatchSizeReduced):
            print(f"out of memory: batch size {ev.old} → {ev.new}")
        elif isinstance(ev, E.Finished):
            print(finished_line(ev))

    def _eta(self, ev) -> str:
        """" ETA 0:42" for the rest of the epoch, from the pace since its first step shown."""
        now = self.clock()
        if self._first_step is None or self._first_step[0] != ev.epoch or ev.step <= self._first_step[1]:
            self._first_step = (ev.epoch, ev.step, now)
            return ""
        _, step0, t0 = self._first_step
        left = (now - t0) / (ev.step - step0) * (ev.steps_per_epoch - ev.step)
        return f" ETA {int(left // 60)}:{int(left % 60):02d}"

    def _epoch_line(self, m, seconds: float) -> None:
        val = "" if m.val_acc is None else f"  val loss {m.val_loss:.3f} acc {_pct(m.val_acc)}"
        if m.val_acc is not None and getattr(m, "val_macro_f1", None) is not None:
            val += f" macro F1 {m.val_macro_f1:.3f}" + (" (EMA)" if getattr(m, "ema", False) else "")
        print(
            f"epoch {m.epoch}/{m.epochs}  train loss {m.train_loss:.3f} acc {_pct(m.train_acc)}{val}"
            f"  lr {m.lr:.2e}  {_duration(seconds)}{'  *best' if m.is_best else ''}",
            flush=True,
        )


def _duration(seconds: float) -> str:
    """"0.04s", "12.3s", "2m05s": short times keep their digits, long ones read as minutes."""
    if seconds < 10:
        return f"{seconds:.2f}s"
    if seconds < 60:
        return f"{seconds:.1f}s"
    return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"


def run(args: argparse.Namespace) -> int:
    from model.core.output_folder import check_output_folder
    from model.training.checkpoint import checkpoint_bytes
    from model.training.distributed import is_main_process, launched_by_torchrun
    from model.core.train_control import TrainControl
    from model.training.engine import train
    from model.core.events import Finished, event_to_dict
    from model.core.states import FinishReason
    from model.cli.stop_signals import Aborted, StopSignals

    config = config_from_args(args)
    control = TrainControl()
    distributed, main_process = launched_by_torchrun(), is_main_process()
    check_output_folder(args.out, checkpoint_bytes(args.variant, args.mode))  # before a minute of decoding, not after

    report = TextReport()
    finished = None
    printing = main_process
    signals = StopSignals(control, distributed)
    try:
        with signals:
            for ev in train(config, control):
                if printing:
                    try:
                        print_json(event_to_dict(ev)) if args.json else report.show(ev)
                    except BrokenPipeError:
                        # The reader went away (`| head -3`): the run is worth more than its log,
                        # so keep training and saving, silently.
                        silence_stdout()
                        printing = False
                if isinstance(ev, Finished):
                    finished = ev
    except Aborted as e:
        report._close_bar()
        print(f"Aborted: {args.out} keeps the checkpoints saved before the second stop signal; "
              "continue with --resume.", file=sys.stderr, flush=True)
        return 128 + e.signum
    finally:
        report._close_bar()
    stopped = finished is not None and finished.outcome is FinishReason.STOPPED_BY_USER
    return signals.exit_status() if stopped else 0
