"""The GPU path in one command (`make gpu-check`): tests, speed and the out-of-memory fallback on CUDA.

1. the `cuda`-marked tests (`pytest -m cuda`);
2. classification throughput per variant (random weights, each variant's native
   size, batches of ``BATCH``): fp32, autocast (bf16 where supported, else fp16)
   and autocast + channels_last, which is what classification uses on CUDA;
3. B0 full-mode training throughput at 224 px with AMP (the engine's own
   images/s over an epoch of generated images);
4. the out-of-memory fallback: B0 full-mode training asked for a batch far
   beyond the GPU's memory must halve it until it fits and finish the epoch;

then writes docs/gpu-check.md with the figures and the GPU's name. Without
CUDA it stops at once with one sentence and exit status 1, writing nothing.

Run: ``python bench/gpu_check.py [--quick] [--out docs/gpu-check.md]``.
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BATCH = 32
NO_CUDA = "No CUDA GPU is available here (torch.cuda.is_available() is False): run make gpu-check on a machine with an NVIDIA GPU and a CUDA build of torch."


def run_cuda_tests() -> tuple[int, str]:
    """Exit status and the summary line of ``pytest -m cuda``."""
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-m", "cuda", "-p", "no:cacheprovider"],
                       cwd=ROOT, capture_output=True, text=True)
    lines = [line for line in r.stdout.splitlines() if line.strip()]
    return r.returncode, lines[-1] if lines else r.stderr.strip()[-300:]


def classification_speed(variants: list[str], repeats: int) -> list[dict]:
    """Images/s per variant on CUDA: fp32, autocast, autocast + channels_last."""
    import torch

    from model.core.variants import get_variant
    from model.nets.network import build_model

    dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    rows = []
    for name in variants:
        v = get_variant(name)
        net = build_model(v).cuda().eval()
        x = torch.randn(BATCH, 3, v.resolution, v.resolution, device="cuda")
        row = {"variant": name, "size": v.resolution}
        for mode in ("fp32", "autocast", "autocast + channels_last"):
            m, inp = net, x
            if "channels_last" in mode:
                m, inp = net.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)

            def step(m=m, inp=inp, amp=mode != "fp32"):
                with torch.inference_mode(), torch.autocast("cuda", dtype=dtype, enabled=amp):
                    m(inp)
                torch.cuda.synchronize()

            for _ in range(3):
                step()
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                step()
                times.append(time.perf_counter() - start)
            row[mode] = BATCH / statistics.median(times)
        rows.append(row)
        del net
        torch.cuda.empty_cache()
    return rows


def make_images(folder: Path, per_class: int) -> Path:
    """Two classes of small generated images (the engine resizes them to the training size)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for c, colour in enumerate(((200, 40, 40), (40, 40, 200))):
        (folder / f"class{c}").mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            arr = np.clip(np.array(colour) + rng.normal(0, 30, (48, 48, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(arr).save(folder / f"class{c}" / f"{i}.png")
    return folder


def train_epoch(data: Path, out: Path, batch_size: int | None) -> dict:
    """One full-mode B0 epoch at 224 px on CUDA: images/s from the engine's step events, batch-size cuts."""
    from model.core.events import BatchSizeReduced, EpochMetrics, StepMetrics, TrainingStarted
    from model.engine import TrainConfig, train

    config = TrainConfig(data_dir=data, out_dir=out, variant="b0", weights="random", mode="full", epochs=1,
                         batch_size=batch_size, image_size=224, val_split=0.1, device="cuda", augment=True)
    speeds, cuts, started, finished = [], [], None, None
    for event in train(config):
        if isinstance(event, TrainingStarted):
            started = event
        elif isinstance(event, StepMetrics) and event.step > 2:  # the first steps pay for cudnn autotuning
            speeds.append(event.images_per_sec)
        elif isinstance(event, BatchSizeReduced):
            cuts.append((event.old, event.new))
        elif isinstance(event, EpochMetrics):
            finished = event
    return {"images_per_sec": statistics.median(speeds) if speeds else float("nan"), "cuts": cuts,
            "batch_size": started.batch_size if started else None,
            "amp": started.mixed_precision if started else None, "finished": finished is not None}


def write_report(path: Path, gpu: str, tests: tuple[int, str], speed: list[dict], training: dict, oom: dict) -> None:
    import torch

    lines = [
        "# GPU check", "",
        f"`make gpu-check` on **{gpu}**, {datetime.date.today().isoformat()}; torch {torch.__version__}, "
        f"CUDA {torch.version.cuda}.", "",
        f"- `cuda`-marked tests: {'passed' if tests[0] == 0 else 'FAILED'} ({tests[1]})",
        f"- B0 full-mode training at 224 px, AMP {training['amp']}, batch {training['batch_size']}: "
        f"**{training['images_per_sec']:.0f} images/s**",
        f"- Out-of-memory fallback (asked for a batch of {oom['asked']}): "
        + (f"halved {' → '.join(str(n) for n in [oom['asked']] + [new for _, new in oom['cuts']])}, "
           f"epoch {'finished' if oom['finished'] else 'NOT finished'}" if oom["cuts"]
           else "no out-of-memory error happened (the batch fitted): not exercised"),
        "", f"## Classification throughput (random weights, batches of {BATCH}, images/s)", "",
        "| variant | size | fp32 | autocast | autocast + channels_last |", "|---|---:|---:|---:|---:|",
    ]
    for r in speed:
        lines.append(f"| {r['variant']} | {r['size']} | {r['fp32']:.0f} | {r['autocast']:.0f} "
                     f"| {r['autocast + channels_last']:.0f} |")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="B0 and B3 only, fewer repeats and images")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "gpu-check.md")
    args = parser.parse_args(argv)
    import torch

    if not torch.cuda.is_available():
        print(NO_CUDA, file=sys.stderr)
        return 1
    gpu = torch.cuda.get_device_name(0)
    print(f"GPU: {gpu}", flush=True)
    tests = run_cuda_tests()
    print(f"cuda tests: {tests[1]}", flush=True)
    variants = ["b0", "b3"] if args.quick else [f"b{i}" for i in range(8)]
    speed = classification_speed(variants, 5 if args.quick else 20)
    for r in speed:
        print(r, flush=True)
    with tempfile.TemporaryDirectory(prefix="gpu-check-") as tmp:
        data = make_images(Path(tmp) / "data", 256 if args.quick else 1024)
        training = train_epoch(data, Path(tmp) / "run", None)
        print(f"training: {training}", flush=True)
        # A batch of every image at 224 px needs several hundred GB of activations: it must be cut down.
        asked = 2048 if args.quick else 8192
        big = make_images(Path(tmp) / "big", asked // 2 + asked // 16)
        oom = train_epoch(big, Path(tmp) / "oom", asked) | {"asked": asked}
        print(f"oom fallback: {oom}", flush=True)
    write_report(args.out, gpu, tests, speed, training, oom)
    print(f"wrote {args.out}")
    return 0 if tests[0] == 0 and training["finished"] and oom["finished"] else 1


if __name__ == "__main__":
    sys.exit(main())
