"""The GPU path in one command (`make gpu-check`): tests, speed and the out-of-memory fallback on CUDA.

1. the `cuda`-marked tests (`pytest -m cuda`);
2. classification throughput per variant (random weights, each variant's native
   size, batches of ``BATCH``): fp32, autocast (bf16 where supported, else fp16)
   and autocast + channels_last, which is what classification uses on CUDA;
3. B0 full-mode training at 224 px with AMP: the engine's first epoch in
   seconds and its steady images/s (epoch 2), beside the bare step's ceiling
   (``bench/gpu_training.py``);
4. the out-of-memory fallback: with the process held to a few GiB of the GPU,
   B0 full-mode training asked for a batch beyond that must halve it until it
   fits and finish the epoch;
5. a real run through the command line: scikit-learn's digits trained from
   scratch on CUDA, evaluated on the held-out test images on CUDA and on the
   CPU, and classified with ``predict`` on both (top-1 agreement);

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
sys.path.insert(0, str(ROOT / "bench"))

from gpu_training import bare_steps, engine_epochs, make_images  # noqa: E402

BATCH = 32
NO_CUDA = "No CUDA GPU is available here (torch.cuda.is_available() is False): run make gpu-check on a machine with an NVIDIA GPU and a CUDA build of torch."


def cuda_test_files() -> tuple[list[str], list[str]]:
    """The test files that hold ``cuda``-marked tests, and those left out because Qt is not installed
    (a GPU machine may carry torch but not PySide6 and pytest-qt; the app's files need both)."""
    import importlib.util

    has_qt = all(importlib.util.find_spec(name) for name in ("PySide6", "pytestqt"))
    marked = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").rglob("test_*.py")
                    if "pytest.mark.cuda" in p.read_text(encoding="utf-8"))
    left_out = [f for f in marked if f.startswith("tests/app") and not has_qt]
    return [f for f in marked if f not in left_out], left_out


def run_cuda_tests() -> tuple[int, str]:
    """Exit status and the summary line of ``pytest -m cuda`` over the files that hold such tests."""
    files, left_out = cuda_test_files()
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-m", "cuda", "-p", "no:cacheprovider", *files],
                       cwd=ROOT, capture_output=True, text=True)
    print(r.stdout[-3000:], r.stderr[-2000:], flush=True)
    lines = [line for line in r.stdout.splitlines() if line.strip()]
    summary = lines[-1] if lines else r.stderr.strip()[-300:]
    if left_out:
        summary += f"; not run, PySide6/pytest-qt not installed: {', '.join(left_out)}"
    return r.returncode, summary


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
        elif isinstance(event, StepMetrics):
            speeds.append(event.images_per_sec)
        elif isinstance(event, BatchSizeReduced):
            cuts.append((event.old, event.new))
        elif isinstance(event, EpochMetrics):
            finished = event
    return {"images_per_sec": statistics.median(speeds) if speeds else float("nan"), "cuts": cuts,
            "batch_size": started.batch_size if started else None,
            "amp": started.mixed_precision if started else None, "finished": finished is not None}


def out_of_memory_fallback(data: Path, out: Path, cap_gib: float, asked: int) -> dict:
    """Train with the process held to ``cap_gib`` of the GPU and a batch that cannot fit in it."""
    import torch

    total = torch.cuda.get_device_properties(0).total_memory
    torch.cuda.set_per_process_memory_fraction(min(1.0, cap_gib * 2**30 / total))
    try:
        return train_epoch(data, out, asked) | {"asked": asked, "cap_gib": cap_gib}
    finally:
        torch.cuda.set_per_process_memory_fraction(1.0)
        torch.cuda.empty_cache()


def cli(*args: str) -> list[dict]:
    """Run ``python -m model ARGS --json`` and return its JSON lines."""
    import json

    r = subprocess.run([sys.executable, "-m", "model", *args, "--json"], cwd=ROOT, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"python -m model {' '.join(args)} failed: {r.stderr.strip()[-800:]}")
    return [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]


def digits_run(folder: Path, epochs: int) -> dict:
    """Digits trained from scratch on CUDA by the CLI; test accuracy and predictions on CUDA and on the CPU."""
    sys.path.insert(0, str(ROOT / "bench"))
    from make_real_dataset import build

    data = folder / "digits"
    build(data, size=32)
    run = folder / "digits-run"
    start = time.perf_counter()
    events = cli("train", str(data), "--out", str(run), "--weights", "random", "--mode", "full",
                 "--image-size", "64", "--epochs", str(epochs), "--device", "cuda")
    train_s = time.perf_counter() - start
    started = next(e for e in events if e.get("event") == "started")
    finished = events[-1]
    result = {"epochs": finished.get("epochs_done"), "train_s": train_s, "device": started.get("device"),
              "amp": started.get("mixed_precision"), "reason": finished.get("reason")}
    for device in ("cuda", "cpu"):
        result[f"test_acc_{device}"] = cli("evaluate", str(run / "model.pt"), str(data), "--device", device)[0]["accuracy"]
    top1 = {}
    for device in ("cuda", "cpu"):
        lines = cli("predict", "--model", str(run / "model.pt"), "--top-k", "1", "--device", device, str(data / "test"))
        top1[device] = {line["path"]: line["predictions"][0]["index"] for line in lines if not line["error"]}
    result["predicted"] = len(top1["cuda"])
    result["top1_agreement"] = (sum(top1["cuda"][p] == top1["cpu"].get(p) for p in top1["cuda"]) / len(top1["cuda"])
                                if top1["cuda"] else float("nan"))
    return result


def write_report(path: Path, gpu: str, tests: tuple[int, str], speed: list[dict], training: dict, oom: dict,
                 digits: dict) -> None:
    import torch

    lines = [
        "# GPU check", "",
        f"`make gpu-check` on **{gpu}**, {datetime.date.today().isoformat()}; torch {torch.__version__}, "
        f"CUDA {torch.version.cuda}.", "",
        f"- `cuda`-marked tests: {'passed' if tests[0] == 0 else 'FAILED'} ({tests[1]})",
        f"- B0 full-mode training at 224 px, batch {training['batch_size']}, {training['workers']} loader workers: "
        f"first epoch {training['epochs'][0]['seconds']:.1f} s, then **{training['epochs'][-1]['images_per_sec']:.0f} "
        f"images/s**; the bare training step (no data loading) reaches {training['bare']['images_per_sec']:.0f} images/s",
        f"- Out-of-memory fallback (process held to {oom['cap_gib']:g} GiB, asked for a batch of {oom['asked']}): "
        + (f"halved {' → '.join(str(n) for n in [oom['asked']] + [new for _, new in oom['cuts']])}, "
           f"epoch {'finished' if oom['finished'] else 'NOT finished'}" if oom["cuts"]
           else "no out-of-memory error happened (the batch fitted): not exercised"),
        f"- Digits from scratch via `python -m model train … --device {digits['device']}` (B0, full mode, 64 px, "
        f"AMP {digits['amp']}): {digits['epochs']} epochs in {digits['train_s']:.0f} s ({digits['reason']}); "
        f"test accuracy **{digits['test_acc_cuda']:.3f}** evaluated on CUDA, {digits['test_acc_cpu']:.3f} on the CPU; "
        f"`predict` top-1 agrees between CUDA and CPU on {digits['top1_agreement']:.1%} of {digits['predicted']} images",
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
        training = engine_epochs(data, Path(tmp) / "run", 2, None)
        training["bare"] = bare_steps(training["batch_size"], 224, 20, autotune=False)
        print(f"training: {training}", flush=True)
        # Held to 4 GiB, a B0 batch of 512 at 224 px (about 10 GB of activations with AMP) must be cut down.
        asked = 512
        big = make_images(Path(tmp) / "big", asked // 2 + asked // 8)
        oom = out_of_memory_fallback(big, Path(tmp) / "oom", 4, asked)
        print(f"oom fallback: {oom}", flush=True)
        digits = digits_run(Path(tmp), 4 if args.quick else 10)
        print(f"digits: {digits}", flush=True)
    write_report(args.out, gpu, tests, speed, training, oom, digits)
    print(f"wrote {args.out}")
    ok = tests[0] == 0 and len(training["epochs"]) == 2 and oom["finished"] and digits["reason"] == "completed"
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
