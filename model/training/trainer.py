"""The training run behind ``model.engine.train``: setup, data, epochs, checkpoints, finish.

``Trainer.run`` is the generator the engine hands out. Setup resolves every
default once (and, on resume, takes them from ``last.pt``) so a run's config in
its bundle says exactly what was trained. The epoch loops of the two modes live
in ``model.training.epochs``; this module decides what happens between epochs.

Under torchrun (``model.training.distributed``) every rank runs the same ``Trainer``;
only rank 0 writes the run folder, and all ranks wait for it before they finish.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Iterator

from model.core.events import CheckpointSaved, EpochMetrics, Finished, Notice, TrainingStarted
from model.core.states import CheckpointKind, FinishReason
from model.core.train_config import TrainConfig
from model.core.train_control import TrainControl
from model.nets.bundle import Bundle, save_bundle
from model.nets.device import describe_device
from model.nets.network import set_backbone_trainable
from model.core.output_folder import check_output_folder
from model.training.checkpoint import (
    Checkpoint,
    RunPaths,
    checkpoint_bytes,
    history_events,
    save_checkpoint,
    write_json,
    write_metrics_csv,
)
from model.training.context import RunContext
from model.training.data import eval_preprocessing
from model.training.distributed import DistContext, is_main_process
from model.training.epochs import FullModeData, HeadModeData, LossNotFinite
from model.training.evaluate import evaluation_from_outputs
from model.training.loop import BatchSize, cpu_threads_beside
from model.training.settings import RunSettings, new_request, resumed
from model.training.rng_state import capture_rng, restore_rng
from model.training.run_folder import best_model_is_behind, lock_run_folder, open_resume
from model.training.setup import (
    build_optimisation,
    mode_notices,
    place,
    read_data,
    restore,
    seed_everything,
    start_run_network,
)
from model.core.errors import DatasetError, StudioError
from model.nets.bundle import load_bundle
from model.training.auto import resolve_ema, resolve_mode
from model.training.quality import RunQuality, Validation, calibrate
from model.training.tensorboard_log import open_writer


class Trainer:
    """One training run; ``run()`` yields its events."""

    def __init__(self, config: TrainConfig, control: TrainControl) -> None:
        self.config = config
        self.control = control
        self.paths = RunPaths(Path(config.out_dir).expanduser())
        self.history: list[dict] = []
        self.best_val_acc: float | None = None
        self.best_score: tuple[float, float] | None = None  # (macro F1 or accuracy, −loss) of the best epoch
        self.best_ema = False  # the best weights so far are the EMA's
        self.tensorboard = None
        self.mode_reason = ""
        self.ema_decay: float | None = None
        self.best_val_loss: float | None = None
        self.best_epoch = 0
        self.stale_epochs = 0  # epochs since the best one, for early stopping
        self.best_outputs = None  # (paths, labels, logits) of the best epoch's validation
        self.epochs_done = 0
        self.finish_reason = FinishReason.COMPLETED.describe()
        self.dist = DistContext()  # joined in setup, once the device is known
        self.ctx: RunContext | None = None
        self.data_ready = False  # the images (or features) are prepared, so validation can run
        self.session_start = 0  # epochs done before this session

    # --- setup -------------------------------------------------------------------------
    def _setup(self) -> Iterator[object]:
        """Resolve everything the run needs (see ``model.training.setup``) into ``self.ctx``."""
        start = open_resume(self.config.resume, self.paths)
        ckpt = start.checkpoint
        for message in start.notices:
            yield Notice(message, "warning")
        if ckpt is not None and is_main_process() and best_model_is_behind(self.paths, ckpt):
            save_bundle(ckpt.bundle, self.paths.model)
            yield Notice(
                f"model.pt did not hold the best epoch ({ckpt.best_epoch}): the run was cut off while saving it, "
                "so it was written again from last.pt.",
                "warning",
            )
        saved = resumed(RunSettings.from_dict(ckpt.bundle.config), self.config) if ckpt else None
        request = saved or new_request(self.config)
        seed_everything(request.seed + (ckpt.epochs_done if ckpt else 0))
        data = yield from read_data(request.data_dir, request.val_dir, request.val_split, request.seed, ckpt)
        self.class_names, self.split_record = data.class_names, data.split_record
        self.test_dir, self.num_test = data.test_dir, data.num_test
        if ckpt is not None:
            net, settings = ckpt.bundle.build_model(), saved
            self.mode_reason = f"{settings.mode} mode, as the run was started"
        else:
            net, settings = yield from start_run_network(request, data.class_names)
            self.mode_reason = resolve_mode(request.mode, settings.pretrained, settings.weights_source)[1]
        yield from mode_notices(settings)
        where = yield from place(settings, ckpt, len(data.train), len(data.val))
        self.dist = where.dist
        self.settings = settings = replace(settings, batch_size=where.batch_size)
        prep = eval_preprocessing(settings.variant, settings.image_size)
        steps = -(-len(data.train) // max(1, where.batch_size)) if settings.trains_backbone else 1
        self.quality = RunQuality(settings, [y for _, y in data.train], list(data.class_names), steps)
        opt = build_optimisation(settings, net, where, prep, self.quality)
        if resolve_ema(settings.ema, str(settings.mode)):
            self.ema_decay = self.quality.start_ema(opt.net)
        self.optimizer = opt.optimizer
        self.ctx = RunContext(
            settings=settings, control=self.control, dist=where.dist, device=where.device, policy=where.policy,
            prep=prep, net=opt.net, stepper=opt.stepper, schedule=opt.schedule, batch_size=BatchSize(where.batch_size),
            workers=where.workers, train_samples=data.train, val_samples=data.val,
            feature_cache=self.config.feature_cache, cache_dir=self.paths.cache, quality=self.quality,
        )
        if ckpt is not None:
            restore(opt, ckpt)
            self._restore_progress(ckpt)
            if self.quality.ema is not None and ckpt.ema is not None:
                self.quality.ema.load_state_dict(ckpt.ema)
            # Last: building the network above drew random numbers an uninterrupted run never drew.
            if ckpt.rng is None or not restore_rng(ckpt.rng):
                yield Notice("last.pt holds no random generator states (an older run): the resumed epochs are not "
                             "bit-identical to an uninterrupted run.")
        elif not data.train:
            raise DatasetError("No images are left for training after the validation split: add images.")

    def _restore_progress(self, ckpt: Checkpoint) -> None:
        self.history = list(ckpt.bundle.history)
        self.epochs_done = self.session_start = ckpt.epochs_done
        self.best_val_acc, self.best_val_loss = ckpt.best_val_acc, ckpt.best_val_loss
        self.best_epoch, self.stale_epochs = ckpt.best_epoch, ckpt.epochs_without_improvement

    # --- the run -----------------------------------------------------------------------
    def run(self) -> Iterator[object]:
        # Only rank 0 writes the folder; the other ranks of a distributed run are its own processes.
        lock = lock_run_folder(self.paths) if is_main_process() else None
        try:
            if lock is not None:  # a folder that will not take a checkpoint says so now, not after an epoch
                check_output_folder(self.paths.root, checkpoint_bytes(self.config.variant, self.config.mode))
            yield from self._run()
        finally:
            if self.ctx is not None:
                self.ctx.stepper = None  # holds the DDP wrapper, which must go before the process group
            self.dist.close()
            if lock is not None:
                lock.release()

    def _run(self) -> Iterator[object]:
        yield from self._setup()
        ctx, s = self.ctx, self.settings
        yield TrainingStarted(
            device=ctx.device.type,
            device_name=describe_device(ctx.device),
            variant=s.variant,
            mode=s.mode.value,
            weights=s.weights_source,
            class_names=tuple(self.class_names),
            num_train=len(ctx.train_samples),
            num_val=len(ctx.val_samples),
            epochs=s.epochs,
            start_epoch=self.epochs_done + 1,
            batch_size=ctx.batch_size.value,
            image_size=s.image_size,
            augmentation=s.augments,
            mixed_precision=str(ctx.stepper.amp_dtype).removeprefix("torch.") if ctx.stepper.amp_dtype else None,
            channels_last=ctx.policy.channels_last,
            loader_workers=ctx.workers,
            run_dir=str(self.paths.root),
            history=history_events(self.history),
            num_test=self.num_test,
            mode_reason=self.mode_reason,
            augment=(s.augment + ("" if s.flip else ", no flip")) if s.trains_backbone else "none (head mode)",
            balance=self.quality.balance.describe() if self.quality.balance.imbalanced else "",
            ema_decay=self.ema_decay,
        )
        if self.dist.is_main:
            self.tensorboard = open_writer(self.paths.root, s.tensorboard)
        self.data = (FullModeData if s.trains_backbone else HeadModeData)(ctx)
        try:
            with cpu_threads_beside(ctx.device, ctx.workers):
                yield from self._epochs()
        finally:
            self.data.close()
            if self.tensorboard is not None:
                self.tensorboard.close()
        yield from self._finish()

    def _epochs(self) -> Iterator[object]:
        yield from self.data.prepare()
        self.data_ready = not self.control.stopped
        s = self.settings
        while not self.ctx.stop_requested() and self.epochs_done < s.epochs:
            epoch = self.epochs_done + 1
            yield from self._unfreeze_if_due(epoch)
            started = time.perf_counter()
            try:
                result = yield from self.data.train_epoch(epoch)
            except LossNotFinite as e:
                raise self._diverged(e.value, f"epoch {e.epoch}, step {e.step}") from None
            if result is None:  # stopped mid-epoch: not counted, redone on resume
                return
            val = yield from self._validate()
            if val is None:
                return
            if val.loss is not None and not math.isfinite(val.loss):
                raise self._diverged(val.loss, f"epoch {epoch}'s validation")
            yield from self._end_epoch(epoch, result, val, time.perf_counter() - started)
            if s.patience and self.stale_epochs >= s.patience:
                self.finish_reason = FinishReason.EARLY_STOPPING.describe(
                    f"no better val accuracy in {self.stale_epochs} epochs"
                )
                return

    def _validate(self):
        """The raw weights' validation, or the EMA's when it is better (then the bundle keeps the EMA)."""
        raw = yield from self.data.validate()
        if raw is None:
            return None
        raw = self.quality.scored(Validation(*raw))
        averaged = None
        if self.quality.ema is not None and raw.outputs is not None:
            ema = yield from self.data.validate(self.quality.ema.module)
            if ema is None:
                return None
            averaged = self.quality.scored(Validation(*ema))
        return self.quality.better_of(raw, averaged)

    def _unfreeze_if_due(self, epoch: int) -> Iterator[object]:
        s = self.settings
        if not s.trains_backbone:
            return
        set_backbone_trainable(self.ctx.net, not s.backbone_frozen(epoch))
        if epoch == s.warmup_epochs + 1 and epoch > 1:
            yield Notice(f"Epoch {epoch}: the backbone is unfrozen and trains at {s.backbone_lr_scale:g}× the head's learning rate.")

    def _end_epoch(self, epoch: int, train: tuple[float, float], val: Validation, seconds: float) -> Iterator[object]:
        """Record the epoch; the best epoch is chosen by macro F1 when the classes are imbalanced, else by accuracy."""
        val_loss, val_acc, outputs = val.loss, val.acc, val.outputs
        score = self.quality.score(val)
        improved = val_acc is None or self.best_score is None or score > self.best_score
        if self.best_score is None and self.best_val_acc is not None and val_acc is not None:
            # Just resumed: no score was stored, so compare as runs always did.
            improved = val_acc > self.best_val_acc or (val_acc == self.best_val_acc and val_loss < (self.best_val_loss or math.inf))
        metrics = EpochMetrics(
            epoch, self.settings.epochs, train[0], train[1], val_loss, val_acc,
            self.ctx.schedule.lr, seconds, improved, self.settings.backbone_frozen(epoch), val.macro_f1, val.ema,
        )
        self.history.append(asdict(metrics))
        self.epochs_done = epoch
        if improved:
            self.best_val_acc, self.best_val_loss, self.best_epoch, self.stale_epochs = val_acc, val_loss, epoch, 0
            self.best_outputs, self.best_score, self.best_ema = outputs, score, val.ema
        else:
            self.stale_epochs += 1
        if self.dist.is_main:
            write_metrics_csv(self.history, self.paths.metrics)
            if self.tensorboard is not None:
                self.tensorboard.epoch(metrics)
        yield metrics
        if not self.dist.is_main:
            return
        # last.pt first: cut off before model.pt, the folder still resumes (and model.pt is then rewritten).
        save_checkpoint(self._checkpoint(), self.paths.last)
        yield CheckpointSaved(str(self.paths.last), CheckpointKind.LAST, epoch)
        if improved:
            save_bundle(self._bundle(best=True), self.paths.model)
            yield CheckpointSaved(str(self.paths.model), CheckpointKind.BEST, epoch)

    def _finish(self) -> Iterator[object]:
        stopped = self.control.stopped
        if stopped:
            self.finish_reason = FinishReason.STOPPED_BY_USER.describe()
        if self.dist.is_main:
            yield from self._write_final(stopped)
        self.dist.barrier()  # no rank exits (and makes torchrun stop the others) before rank 0 has written
        yield Finished(
            best_val_acc=self.best_val_acc,
            bundle_path=str(self.paths.model),
            stopped_early=FinishReason.of(self.finish_reason) is not FinishReason.COMPLETED,
            reason=self.finish_reason,
            last_path=str(self.paths.last),
            epochs_done=self.epochs_done,
        )

    def _write_final(self, stopped: bool) -> Iterator[object]:
        if stopped or not self.paths.last.exists():
            save_checkpoint(self._checkpoint(), self.paths.last)
            yield CheckpointSaved(str(self.paths.last), CheckpointKind.LAST, self.epochs_done)
        if not self.paths.model.exists():
            # Nothing validated yet: the current weights are the best there is, and the user keeps them.
            save_bundle(self._bundle(), self.paths.model)
            yield CheckpointSaved(str(self.paths.model), CheckpointKind.BEST, self.epochs_done)
        write_metrics_csv(self.history, self.paths.metrics)
        best_in_earlier_session = 0 < self.best_epoch <= self.session_start
        if best_in_earlier_session and self.data_ready and (not stopped or not self.paths.evaluation.exists()):
            # The best epoch was in an earlier session: its outputs are gone, model.pt has its weights.
            self.best_outputs = yield from self._outputs_of_best_model()
        if self.best_outputs is not None:
            paths, labels, logits = self.best_outputs
            temperature = 1.0
            if self.settings.calibrate and len(labels) >= 2:
                temperature, before, after = calibrate(self.best_outputs, self.class_names)
                best = load_bundle(self.paths.model)
                best.temperature = temperature
                save_bundle(best, self.paths.model)
                yield Notice(
                    f"Confidence calibrated on the validation images: temperature {temperature:.2f} takes the "
                    f"calibration error (ECE) from {before:.3f} to {after:.3f}."
                )
            ev = evaluation_from_outputs(self.class_names, paths, labels, logits, temperature)
            write_json(ev.to_dict(), self.paths.evaluation)
            yield CheckpointSaved(str(self.paths.evaluation), CheckpointKind.EVALUATION, self.best_epoch)
        # Not on a stop (quitting must stay quick): a stopped run is scored when it completes.
        if not stopped and self.test_dir is not None and self.num_test and self.best_outputs is not None:
            yield from self._score_test_set()

    def _score_test_set(self) -> Iterator[object]:
        """The best model on the images set aside in test/: the one score nothing was tuned on."""
        from model.training.evaluate import evaluate

        ev = evaluate(self.paths.model, self.test_dir, device=str(self.ctx.device))
        write_json(ev.to_dict(), self.paths.test_evaluation)
        yield Notice(f"Test set: {100 * ev.accuracy:.1f} % accuracy on the {ev.num_images} test images set aside "
                     f"(best epoch {self.best_epoch}); saved in {self.paths.test_evaluation.name}.")

    def _outputs_of_best_model(self) -> Iterator[object]:
        """Validate model.pt's weights (in this process alone); returns (paths, labels, logits) or None."""
        self.ctx.net.load_state_dict(load_bundle(self.paths.model).state_dict)
        val = yield from self.data.validate(alone=True)
        return None if val is None else val[2]

    # --- what gets saved ---------------------------------------------------------------
    def _bundle(self, best: bool = False) -> Bundle:
        """The run as a bundle: with ``best``, the weights that validated best (raw or EMA), else the raw ones."""
        ctx = self.ctx
        use_ema = best and self.best_ema and self.quality.ema is not None
        net = self.quality.ema.module if use_ema else ctx.net
        return Bundle(
            state_dict={k: v.detach().to("cpu", copy=True).contiguous() for k, v in net.state_dict().items()},
            variant=self.settings.variant,
            class_names=list(self.class_names),
            image_size=self.settings.image_size,
            preprocessing=ctx.prep,
            config=dict(self.settings.to_dict(), ema_weights=bool(use_ema)),
            history=list(self.history),
        )

    def _checkpoint(self) -> Checkpoint:
        ctx = self.ctx
        return Checkpoint(
            bundle=self._bundle(),
            optimizer=self.optimizer.state_dict(),
            scheduler=ctx.schedule.state_dict(),
            scaler=ctx.stepper.scaler.state_dict() if ctx.stepper.scaler.is_enabled() else None,
            epochs_done=self.epochs_done,
            best_val_acc=self.best_val_acc,
            best_val_loss=self.best_val_loss,
            best_epoch=self.best_epoch,
            epochs_without_improvement=self.stale_epochs,
            batch_size=ctx.batch_size.value,
            split=self.split_record,
            rng=capture_rng(),
            ema=self._ema_state(),
        )

    def _ema_state(self) -> dict | None:
        """The weight average on the CPU, so a resume continues it instead of restarting it from the weights."""
        if self.quality.ema is None:
            return None
        state = self.quality.ema.state_dict()
        state["module"] = {k: v.detach().to("cpu", copy=True) for k, v in state["module"].items()}
        return state

    def _diverged(self, value: float, where: str) -> StudioError:
        """The sentence for a loss that stopped being a number; nothing of the diverged weights is saved."""
        kept = (
            f"{self.paths.root} keeps model.pt and last.pt from epoch {self.epochs_done}"
            if self.epochs_done else "nothing was saved"
        )
        what = "NaN" if math.isnan(value) else "infinite"
        return StudioError(
            f"The loss became {what} at {where}: lower the learning rate (it was {self.settings.lr:g}) "
            f"and start a new run; {kept}."
        )
