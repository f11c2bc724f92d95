"""Does training win by default? Held-out accuracy, macro F1 and calibration on real digits.

    python bench/train_quality.py                  # every variant (slow on a CPU: ~10 runs of 10 epochs)
    python bench/train_quality.py --only defaults today imbalanced
    python bench/train_quality.py --epochs 3       # a quick look
    python bench/train_quality.py --image-size 32  # 4× cheaper, for a crowded machine

The data are scikit-learn's handwritten digits as class folders
(``bench/make_real_dataset.py``) at 64 px, B0 from random weights, 10 epochs;
every model is evaluated on the held-out ``test/`` part it never saw. Variants:

- ``defaults``: no flags at all (auto mode → full, light augmentation, no flip,
  EMA, calibration); ``today``: the behaviour before issue 16 with ``--mode full``
  (standard augmentation with flips, no EMA, no balancing, no temperature).
- single parts switched off or changed: ``standard_aug``, ``flip``, ``no_ema``
  (calibration off is read from every run: ECE before and after the temperature).
- ``imbalanced``: five digits cut to 20 training images, five kept at ~145, with
  defaults; ``imbalanced_off`` (no balancing) and ``imbalanced_loss`` (weighted loss
  instead of the sampler).

Printed per variant: accuracy, macro F1, ECE with the fitted temperature and with
T = 1, mean epoch seconds, and the epoch-time ratio against ``today`` measured in
this same process. Results are also appended to ``--results`` as JSON lines.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.make_real_dataset import build  # noqa: E402
from model.core.events import EpochMetrics, Finished  # noqa: E402
from model.training.engine import TrainConfig, train  # noqa: E402

BASE = dict(variant="b0", weights="random", image_size=64, epochs=10, seed=0, tensorboard=False)
VARIANTS = {
    "defaults": ("digits", {}),
    "today": ("digits", dict(mode="full", augment="standard", flip=True, ema="off", balance="off", calibrate=False)),
    "imbalanced": ("imbalanced", {}),
    "imbalanced_off": ("imbalanced", dict(balance="off")),
    "imbalanced_loss": ("imbalanced", dict(balance="loss")),
    "no_ema": ("digits", dict(ema="off")),
    "flip": ("digits", dict(flip=True)),
    "standard_aug": ("digits", dict(augment="standard")),
    "strong_aug": ("digits", dict(augment="strong")),
}
RARE = ("0", "1", "2", "3", "4")


def make_data(root: Path) -> dict[str, Path]:
    """``digits`` (train/ and test/) and ``imbalanced`` (the same test/, five train classes cut to 20)."""
    digits = root / "digits"
    build(digits, size=64)
    imb = root / "imbalanced"
    shutil.copytree(digits, imb)
    for name in RARE:
        for extra in sorted((imb / "train" / name).iterdir())[20:]:
            extra.unlink()
    return {"digits": digits, "imbalanced": imb}


def run_variant(name: str, data: Path, out: Path, overrides: dict, epochs: int, image_size: int = 64) -> dict:
    from model.nets.bundle import load_bundle
    from model.training.evaluate import evaluate

    config = TrainConfig(data_dir=data / "train", out_dir=out, **{**BASE, "epochs": epochs, "image_size": image_size, **overrides})
    seconds, lines, started = [], [], time.perf_counter()
    for ev in train(config):
        if isinstance(ev, EpochMetrics):
            seconds.append(ev.seconds)
        elif isinstance(ev, Finished):
            lines.append(ev.reason)
        elif type(ev).__name__ == "TrainingStarted":
            lines += [ev.mode_reason, ev.augment, ev.balance]
    bundle = load_bundle(out / "model.pt")
    ev = evaluate(bundle, data / "test", device="cpu")
    temperature = bundle.temperature
    bundle.temperature = 1.0
    raw = evaluate(bundle, data / "test", device="cpu")
    return {
        "variant": name,
        "accuracy": ev.accuracy,
        "macro_f1": ev.macro_f1,
        "ece": ev.ece,
        "ece_without_temperature": raw.ece,
        "temperature": temperature,
        "ema_weights": bool(bundle.config.get("ema_weights")),
        "epoch_seconds": sum(seconds[1:]) / max(1, len(seconds) - 1) if len(seconds) > 1 else (seconds or [0])[0],
        "wall_seconds": time.perf_counter() - started,
        "notes": [line for line in lines if line],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--image-size", type=int, default=64, help="training resolution (default: 64, as the issue's figures)")
    ap.add_argument("--results", type=Path, default=Path("train_quality.jsonl"))
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="train_quality_"))
    try:
        data = make_data(work)
        results = {}
        for name in a.only:
            kind, overrides = VARIANTS[name]
            r = run_variant(name, data[kind], work / f"run_{name}", overrides, a.epochs, a.image_size)
            r["image_size"], r["epochs"] = a.image_size, a.epochs
            results[name] = r
            if "today" in results:
                r["epoch_ratio_vs_today"] = r["epoch_seconds"] / max(1e-9, results["today"]["epoch_seconds"])
            with a.results.open("a") as f:
                f.write(json.dumps(r) + "\n")
            print(
                f"{name:16s} acc {r['accuracy']:.4f}  macro F1 {r['macro_f1']:.3f}  ECE {r['ece']:.3f} "
                f"(T=1: {r['ece_without_temperature']:.3f}, T={r['temperature']:.2f})  "
                f"epoch {r['epoch_seconds']:.1f}s" + (f" ({r['epoch_ratio_vs_today']:.2f}× today)" if "epoch_ratio_vs_today" in r else "")
                + ("  [EMA weights kept]" if r["ema_weights"] else ""),
                flush=True,
            )
        if "today" in results:
            for r in results.values():
                r["epoch_ratio_vs_today"] = r["epoch_seconds"] / max(1e-9, results["today"]["epoch_seconds"])
            print("epoch time ÷ today's: " + ", ".join(f"{n} {r['epoch_ratio_vs_today']:.2f}" for n, r in results.items()))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
