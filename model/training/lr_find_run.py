"""What the learning-rate sweep trains on: the user's data, network and settings, as ``train`` would.

``SweepRun.setup`` scans and splits the data set, builds the starting network,
resolves the mode as ``train`` does (``model.training.auto``) and decodes the
training images lazily; ``SweepRun.step(lr)`` trains one batch at ``lr``. Nothing
is written: the sweep's weights are thrown away.
"""

from __future__ import annotations

from functools import partial
from typing import Iterator

from model.core.errors import DatasetError
from model.core.events import Notice


class SweepRun:
    def __init__(self, config, control=None) -> None:
        self.config = config
        self.control = control
        self._batches: Iterator | None = None

    def stopped(self) -> bool:
        return self.control is not None and self.control.stopped

    def setup(self) -> Iterator[object]:
        from model.core.variants import get_variant
        from model.nets.device import resolve_device, speed_policy
        from model.nets.network import set_backbone_trainable
        from model.training.augment import train_transform
        from model.training.auto import resolve_mode
        from model.training.data import eval_preprocessing, scan_dataset, split_dataset
        from model.training.setup import seed_everything, start_network
        from model.training.loaders import ImageSamples, SubsetSampler, decode_for_training, make_loader
        from model.training.loop import Stepper
        from model.training.schedule import auto_batch_size, build_optimizer

        c = self.config
        seed_everything(int(c.seed))
        scan = scan_dataset(c.data_dir, c.val_dir)
        split = split_dataset(scan, float(c.val_split), int(c.seed))
        if not split.train:
            raise DatasetError("No images are left for training after the validation split: add images.")
        variant = get_variant(c.variant).name
        size = int(c.image_size or get_variant(variant).resolution)
        net, variant, pretrained, source, notices = start_network(variant, c.weights, scan.class_names)
        for n in notices:
            yield Notice(n, "warning")
        mode, why = resolve_mode(c.mode, pretrained, source)
        yield Notice(f"Learning-rate sweep in {mode} mode ({why}).")
        device = resolve_device(c.device)
        policy = speed_policy(device)
        prep = eval_preprocessing(variant, size)
        net = net.to(device).train()
        set_backbone_trainable(net, mode == "full")
        if mode == "head":
            net.features.eval()
        if c.dropout is not None:
            from model.nets.network import set_head_dropout

            set_head_dropout(net, float(c.dropout))
        bs = int(c.batch_size or auto_batch_size(variant, size, device, len(split.train)))
        self.optimizer = build_optimizer(net, 1e-6, 1.0, float(c.weight_decay))
        self.stepper = Stepper(net, device, policy, prep, self.optimizer, float(c.label_smoothing))
        augment = c.augment if isinstance(c.augment, str) else ("standard" if c.augment else "none")
        dataset = ImageSamples(
            split.train,
            partial(decode_for_training, image_size=size),
            train_transform(size, augment if mode == "full" else "none", bool(getattr(c, "flip", True))),
        )
        self.loader = make_loader(
            dataset, SubsetSampler(list(range(len(dataset))), True, int(c.seed)), bs, 0, False, drop_last=len(dataset) > bs
        )

    def _next_batch(self):
        for _ in range(3):
            if self._batches is None:
                self._batches = iter(self.loader)
            for b in self._batches:
                if len(b) >= 2:
                    return b
            self._batches = None  # an epoch is over: start another
        raise DatasetError("None of the training images could be decoded: check the dataset folder.")

    def step(self, lr: float) -> float:
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        b = self._next_batch()
        out = self.stepper.train_step(b.images, b.labels)
        return float(out.loss_sum) / max(1, out.count)


__all__ = ["SweepRun"]
