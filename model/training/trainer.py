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
from dataclasses import asdict
from pathlib import Path
from typing import Iterator

import torch

from model.nets.bundle import Bundle, load_bundle, save_bundle
from model.training.checkpoint import (
    Checkpoint,
    RunPaths,
    load_checkpoint,
    save_checkpoint,
    split_from_dict,
    split_to_dict,
    write_json,
    write_metrics_csv,
)
from model.training.data import eval_preprocessing, scan_dataset, split_dataset
from model.nets.device import describe_device, resolve_device, speed_policy
from model.training.distributed import DistContext
from model.training.engine import DEFAULT_EPOCHS, TrainConfig, TrainControl, history_events, seed_everything, start_network
from model.training.epochs import FullModeData, HeadModeData
from model.core.errors import DatasetError, StudioError
from model.training.evaluate import evaluation_from_outputs
from model.core.events import CheckpointSaved, EpochMetrics, Finished, Notice, SkippedFile, TrainingStarted
from model.training.loaders import fits_in_cache, memory_budget_bytes
from model.training.loop import BatchSize, Stepper, cpu_threads_beside
from model.nets.network import set_backbone_trainable, set_head_dropout
from model.training.schedule import WarmupCosine, auto_batch_size, build_optimizer, default_lr
from model.core.variants import get_variant
from model.training.augment import preset_name
from model.training.auto import resolve_ema, resolve_mode
from model.training.quality import RunQuality, Validation, calibrate
from model.training.tensorboard_log import open_writer

RESUMABLE_OVERRIDES = ("epochs", "device", "num_workers", "patience", "batch_size")


class Trainer:
    """One training run; ``run()`` yields its events."""

    def __init__(self, config: TrainConfig, control: TrainControl) -> None:
        self.config = config
        self.control = control
        self.paths = RunPaths(Path(config.out_dir).expanduser())
        self.history: list[dict] = []
        self.best_val_acc: float | None = None
        self.best_score: tuple[float, float] | None = None  # (macro F1 or accuracy, −loss) of the best epoch
        self.best_ema = False  # the best weights are the EMA's
        self.tensorboard = None
        self.best_val_loss: float | None = None
        self.best_epoch = 0
        self.stale_epochs = 0  # epochs since the best one, for early stopping
        self.best_outputs = None  # (paths, labels, logits) of the best epoch's validation
        self.epochs_done = 0
        self.finish_reason = "completed"
        self.dist = DistContext()  # joined in setup, once the device is known

    # --- setup -------------------------------------------------------------------------
    def _resolve(self) -> tuple[dict, Checkpoint | None]:
        """Every setting with its default filled in; on resume, the saved ones with a few overrides."""
        cfg = self.config
        if cfg.resume:
            if not self.paths.last.is_file():
                raise StudioError(f"{self.paths.root} has no last.pt to resume from: start without resume.")
            ckpt = load_checkpoint(self.paths.last)
            settings = dict(ckpt.bundle.config)
            for name in RESUMABLE_OVERRIDES:
                if getattr(cfg, name) is not None:
                    settings[name] = getattr(cfg, name)
            settings["data_dir"] = str(cfg.data_dir)
            if cfg.val_dir is not None:
                settings["val_dir"] = str(cfg.val_dir)
            return settings, ckpt
        if self.paths.holds_a_run():
            raise StudioError(
                f"{self.paths.root} already holds a training run: resume it or choose another output folder."
            )
        settings = cfg.to_dict()
        settings["variant"] = get_variant(cfg.variant).name
        settings["epochs"] = cfg.epochs or DEFAULT_EPOCHS
        settings["image_size"] = cfg.image_size or get_variant(cfg.variant).resolution
        return settings, None

    def _setup(self) -> Iterator[object]:
        s, ckpt = self._resolve()
        self.settings = s
        seed_everything(int(s["seed"]) + (ckpt.epochs_done if ckpt else 0))
        scan = scan_dataset(s["data_dir"], s.get("val_dir"))
        for path, reason in scan.skipped:
            yield SkippedFile(str(path), reason)
        for w in scan.warnings:
            yield Notice(w, "warning")
        self.class_names = scan.class_names
        root = Path(s["data_dir"])
        if ckpt is not None:
            if ckpt.bundle.class_names != scan.class_names:
                raise DatasetError(
                    f"The classes in {root} changed since this run started ({', '.join(ckpt.bundle.class_names)}): "
                    "start a new run instead of resuming."
                )
            train, val = split_from_dict(ckpt.split, root)
            net, pretrained, source = ckpt.bundle.build_model(), bool(s["pretrained"]), str(s["weights_source"])
        else:
            split = split_dataset(scan, float(s["val_split"]), int(s["seed"]))
            for w in split.warnings:
                yield Notice(w, "warning")
            train, val = split.train, split.val
            net, variant, pretrained, source, notices = start_network(s["variant"], s["weights"], scan.class_names)
            for n in notices:
                yield Notice(n, "warning")
            s.update(variant=variant, pretrained=pretrained, weights_source=source)
        self.split_record = split_to_dict(train, val, root)
        self.train_samples, self.val_samples = train, val

        # On resume the mode is already resolved: resolve_mode keeps it and says so.
        s["mode"], self.mode_reason = resolve_mode(s["mode"], pretrained, source)
        s["augment"] = preset_name(s.get("augment", "standard"))
        s.setdefault("flip", True)  # runs from before the flip setting always flipped
        mode = s["mode"]
        if s.get("lr") is None:
            s["lr"] = default_lr(mode, pretrained)
        if s.get("warmup_epochs") is None:
            s["warmup_epochs"] = 1 if (pretrained and mode == "full" and int(s["epochs"]) >= 3) else 0
        if s.get("backbone_lr_scale") is None:
            s["backbone_lr_scale"] = 0.1 if pretrained else 1.0
        if mode == "head" and not pretrained:
            yield Notice("Head mode on random weights learns little: the frozen backbone knows nothing yet; use full mode.", "warning")
        if mode == "head":
            yield Notice("Head mode trains on features of the unaugmented images: augmentation is off (full mode augments).")

        self.device = resolve_device(s["device"])
        self.dist = DistContext.from_env(self.device.type)
        self.device = self.dist.device_for(self.device)
        self.policy = speed_policy(self.device)
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # fixed input size: let cuDNN pick the fastest kernels
        self.workers = self.policy.loader_workers if s.get("num_workers") is None else int(s["num_workers"])
        if s.get("num_workers") is None and self.device.type == "cpu" and mode == "full":
            # Images decoded once into memory need no worker processes, which would only take cores from compute.
            if fits_in_cache(len(train), len(val), int(s["image_size"]), memory_budget_bytes()):
                self.workers = 0
        self.prep = eval_preprocessing(s["variant"], int(s["image_size"]))
        bs = s.get("batch_size") or (ckpt.batch_size if ckpt else 0)
        # --batch-size is the global batch; the automatic one is what fits one device, on each rank.
        bs = bs or auto_batch_size(s["variant"], int(s["image_size"]), self.device, len(train)) * self.dist.world_size
        if mode == "full" and bs < 2 * self.dist.world_size:
            raise StudioError(
                f"With {self.dist.world_size} processes the batch size must be at least {2 * self.dist.world_size} "
                "in full mode (batch norm needs two images on each process)."
            )
        s["batch_size"] = int(bs)
        if self.dist.enabled:
            n = self.dist.world_size
            yield Notice(
                f"Distributed training on {n} process{'es' if n > 1 else ''} ({self.dist.backend}): "
                f"each takes its share of every batch of {bs} images; rank 0 writes the run folder."
            )
        self.batch_size = BatchSize(int(bs))
        steps = -(-len(train) // int(bs)) if mode == "full" else 1
        self.quality = RunQuality(s, [y for _, y in train], list(scan.class_names), steps)

        if s.get("dropout") is not None:
            set_head_dropout(net, float(s["dropout"]))
        self.net = net.to(self.device)
        if self.policy.channels_last:
            self.net = self.net.to(memory_format=torch.channels_last)
        self.optimizer = build_optimizer(self.net, float(s["lr"]), float(s["backbone_lr_scale"]), float(s["weight_decay"]))
        self.schedule = WarmupCosine(self.optimizer, float(s["lr"]), int(s["epochs"]))
        module = self.net if mode == "full" else self.net.classifier
        # A backbone frozen for warm-up epochs has parameters that stop getting gradients.
        wrapped = self.dist.wrap(module, self.device, find_unused_parameters=mode == "full" and int(s["warmup_epochs"]) > 0)
        self.stepper = Stepper(
            module, self.device, self.policy, self.prep, self.optimizer, float(s["label_smoothing"]), train_module=wrapped,
            class_weights=self.quality.loss_weights(),
            mixer=self.quality.mixer(s["augment"], int(s["seed"])) if mode == "full" else None,
        )
        self.ema_decay = self.quality.start_ema(self.net) if resolve_ema(s.get("ema", "off"), mode) else None
        if ckpt is not None:
            self._restore(ckpt)
        else:
            self._check_trainable()

    def _restore(self, ckpt: Checkpoint) -> None:
        self.optimizer.load_state_dict(ckpt.optimizer)
        self.schedule.load_state_dict(ckpt.scheduler)
        if ckpt.scaler:
            self.stepper.scaler.load_state_dict(ckpt.scaler)
        self.history = list(ckpt.bundle.history)
        self.epochs_done = ckpt.epochs_done
        self.best_val_acc, self.best_val_loss = ckpt.best_val_acc, ckpt.best_val_loss
        self.best_epoch, self.stale_epochs = ckpt.best_epoch, ckpt.epochs_without_improvement

    def _check_trainable(self) -> None:
        if not self.train_samples:
            raise DatasetError("No images are left for training after the validation split: add images.")

    def stop_requested(self) -> bool:
        """Whether to stop now. Distributed, a stop on any rank is a stop on all, agreed at the same step."""
        if self.dist.any(self.control.stopped):
            self.control.stop()
            return True
        return False

    # --- the run -----------------------------------------------------------------------
    def run(self) -> Iterator[object]:
        try:
            yield from self._run()
        finally:
            self.stepper = None  # holds the DDP wrapper, which must go before the process group
            self.dist.close()

    def _run(self) -> Iterator[object]:
        yield from self._setup()
        s = self.settings
        yield TrainingStarted(
            device=self.device.type,
            device_name=describe_device(self.device),
            variant=s["variant"],
            mode=s["mode"],
            weights=s["weights_source"],
            class_names=tuple(self.class_names),
            num_train=len(self.train_samples),
            num_val=len(self.val_samples),
            epochs=int(s["epochs"]),
            start_epoch=self.epochs_done + 1,
            batch_size=self.batch_size.value,
            image_size=int(s["image_size"]),
            augmentation=s["mode"] == "full" and s["augment"] != "none",
            mixed_precision=str(self.stepper.amp_dtype).removeprefix("torch.") if self.stepper.amp_dtype else None,
            channels_last=self.policy.channels_last,
            loader_workers=self.workers,
            run_dir=str(self.paths.root),
            history=history_events(self.history),
            mode_reason=self.mode_reason,
            augment=(s["augment"] + ("" if s["flip"] else ", no flip")) if s["mode"] == "full" else "none (head mode)",
            balance=self.quality.balance.describe() if self.quality.balance.imbalanced else "",
            ema_decay=self.ema_decay,
        )
        if self.dist.is_main:
            self.tensorboard = open_writer(self.paths.root, s.get("tensorboard"))
        self.data = (HeadModeData if s["mode"] == "head" else FullModeData)(self)
        try:
            with cpu_threads_beside(self.device, self.workers):
                yield from self._epochs()
        finally:
            self.data.close()
            if self.tensorboard is not None:
                self.tensorboard.close()
        yield from self._finish()

    def _epochs(self) -> Iterator[object]:
        yield from self.data.prepare()
        while not self.stop_requested() and self.epochs_done < int(self.settings["epochs"]):
            epoch = self.epochs_done + 1
            yield from self._unfreeze_if_due(epoch)
            started = time.perf_counter()
            result = yield from self.data.train_epoch(epoch)
            if result is None:  # stopped mid-epoch: not counted, redone on resume
                return
            val = yield from self._validate()
            if val is None:
                return
            yield from self._end_epoch(epoch, result, val, time.perf_counter() - started)
            patience = self.settings.get("patience")
            if patience and self.stale_epochs >= int(patience):
                self.finish_reason = f"early stopping: no better val accuracy in {self.stale_epochs} epochs"
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
        if self.settings["mode"] != "full":
            return
        frozen = epoch <= int(self.settings["warmup_epochs"])
        set_backbone_trainable(self.net, not frozen)
        if epoch == int(self.settings["warmup_epochs"]) + 1 and epoch > 1:
            scale = float(self.settings["backbone_lr_scale"])
            yield Notice(f"Epoch {epoch}: the backbone is unfrozen and trains at {scale:g}× the head's learning rate.")

    def backbone_frozen(self, epoch: int) -> bool:
        return self.settings["mode"] == "head" or epoch <= int(self.settings["warmup_epochs"])

    def _end_epoch(self, epoch: int, train: tuple[float, float], val: Validation, seconds: float) -> Iterator[object]:
        val_loss, val_acc, outputs = val.loss, val.acc, val.outputs
        score = self.quality.score(val)
        # A resumed run has no stored score: the first epoch after it sets one.
        improved = val_acc is None or self.best_score is None or score > self.best_score
        if self.best_score is None and self.best_val_acc is not None and val_acc is not None:
            improved = val_acc > self.best_val_acc or (val_acc == self.best_val_acc and val_loss < (self.best_val_loss or math.inf))
        metrics = EpochMetrics(
            epoch, int(self.settings["epochs"]), train[0], train[1], val_loss, val_acc,
            self.schedule.lr, seconds, improved, self.backbone_frozen(epoch), val.macro_f1, val.ema,
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
        if improved:
            save_bundle(self._bundle(best=True), self.paths.model)
            yield CheckpointSaved(str(self.paths.model), "best", epoch)
        save_checkpoint(self._checkpoint(), self.paths.last)
        yield CheckpointSaved(str(self.paths.last), "last", epoch)

    def _finish(self) -> Iterator[object]:
        stopped = self.control.stopped
        if stopped:
            self.finish_reason = "stopped by user"
        if self.dist.is_main:
            yield from self._write_final(stopped)
        self.dist.barrier()  # no rank exits (and makes torchrun stop the others) before rank 0 has written
        yield Finished(
            best_val_acc=self.best_val_acc,
            bundle_path=str(self.paths.model),
            stopped_early=self.finish_reason != "completed",
            reason=self.finish_reason,
            last_path=str(self.paths.last),
            epochs_done=self.epochs_done,
        )

    def _write_final(self, stopped: bool) -> Iterator[object]:
        if stopped or not self.paths.last.exists():
            save_checkpoint(self._checkpoint(), self.paths.last)
            yield CheckpointSaved(str(self.paths.last), "last", self.epochs_done)
        if not self.paths.model.exists():
            # Nothing validated yet: the current weights are the best there is, and the user keeps them.
            save_bundle(self._bundle(), self.paths.model)
            yield CheckpointSaved(str(self.paths.model), "best", self.epochs_done)
        write_metrics_csv(self.history, self.paths.metrics)
        if self.best_outputs is not None:
            paths, labels, logits = self.best_outputs
            temperature = 1.0
            if self.settings.get("calibrate", True) and len(labels) >= 2:
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
            yield CheckpointSaved(str(self.paths.evaluation), "evaluation", self.best_epoch)

    # --- what gets saved ---------------------------------------------------------------
    def _bundle(self, best: bool = False) -> Bundle:
        """The run as a bundle: with ``best``, the weights that validated best (raw or EMA), else the raw ones."""
        net = self.quality.ema.module if best and self.best_ema and self.quality.ema is not None else self.net
        config = dict(self.settings, ema_weights=bool(best and self.best_ema))
        return Bundle(
            state_dict={k: v.detach().to("cpu", copy=True).contiguous() for k, v in net.state_dict().items()},
            variant=self.settings["variant"],
            class_names=list(self.class_names),
            image_size=int(self.settings["image_size"]),
            preprocessing=self.prep,
            config=config,
            history=list(self.history),
        )

    def _checkpoint(self) -> Checkpoint:
        return Checkpoint(
            bundle=self._bundle(),
            optimizer=self.optimizer.state_dict(),
            scheduler=self.schedule.state_dict(),
            scaler=self.stepper.scaler.state_dict() if self.stepper.scaler.is_enabled() else None,
            epochs_done=self.epochs_done,
            best_val_acc=self.best_val_acc,
            best_val_loss=self.best_val_loss,
            best_epoch=self.best_epoch,
            epochs_without_improvement=self.stale_epochs,
            batch_size=self.batch_size.value,
            split=self.split_record,
        )
