"""``python -m model lr-find DATA_DIR [the train flags]``: a short learning-rate sweep and a suggestion.

It trains the network ``train`` would train, with the same flags, for up to 100
steps while the learning rate grows from 1e-6 to 1, prints the loss curve (or
with ``--json`` one object per step and a final ``{"event": "lr_result", …}``)
and suggests a rate for ``train --lr`` (fastai's valley; the steepest point beside it).
Nothing is written.
"""

from __future__ import annotations

import argparse

from model.cli.common import ProgressBar, add_device_flag, add_json_flag, print_json


def add_parser(subparsers) -> None:
    from model.cli.train import add_training_flags

    p = subparsers.add_parser(
        "lr-find",
        help="sweep the learning rate on a dataset and suggest one for train --lr",
        description="Train briefly on DATA_DIR with a growing learning rate and suggest one (takes the flags of train).",
    )
    p.add_argument("data_dir", metavar="DATA_DIR", help="dataset folder: one sub-folder of images per class")
    add_training_flags(p)
    p.add_argument("--steps", type=int, default=100, help="sweep steps (default: 100; it stops early when the loss explodes)")
    add_device_flag(p)
    add_json_flag(p, "one JSON object per step, then the result")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from model.cli.train import config_from_args
    from model.core.events import LRFinderResult, LRFinderStep, Notice, event_to_dict
    from model.core.errors import StudioError
    from model.training.engine import check_config
    from model.training.lr_find import lr_find

    if args.steps < 5:
        raise StudioError("The sweep needs at least 5 steps (--steps).")
    config = config_from_args(args)
    check_config(config)
    bar: ProgressBar | None = None
    result = None
    for ev in lr_find(config, num_steps=args.steps):
        if args.json:
            print_json(event_to_dict(ev))
        elif isinstance(ev, LRFinderStep):
            if bar is None:
                bar = ProgressBar(ev.steps, "sweeping")
            bar.update(ev.step, f"lr {ev.lr:.1e} loss {ev.loss:.3f}")
        elif isinstance(ev, Notice):
            print(f"{'warning' if ev.level == 'warning' else 'note'}: {ev.message}")
        if isinstance(ev, LRFinderResult):
            result = ev
    if bar is not None:
        bar.close()
    if result is None or args.json:
        return 0
    print("      lr    loss")
    for lr, loss in list(zip(result.lrs, result.losses))[:: max(1, len(result.lrs) // 20)]:
        print(f"{lr:8.1e}  {loss:6.3f}")
    print(f"Suggested learning rate: {result.suggestion:.1e} (valley; steepest descent at {result.steepest:.1e}). "
          f"Use it with: train --lr {result.suggestion:.1e}")
    return 0
