"""Training images/s of one process against ``torchrun --nproc_per_node N`` on this machine.

    python bench/distributed.py --quick             # 64 px, 2 × 24 images, about a minute on 2 cores
    python bench/distributed.py --nproc 4 --device cuda   # on a machine with 4 GPUs

Both runs are ``python -m model train`` in full mode on the same generated data,
with the same global batch and seed; the figure is the training throughput of
the last epoch (the engine's own ``images_per_sec`` of its last step event: all
ranks' images, decoding into the cache and validation excluded). The runs
alternate ``--repeats`` times and each keeps its best, so a busy machine skews less.
On the CPU torchrun gives each process one thread (OMP_NUM_THREADS=1) while the single
process uses every core: the ratio says what splitting the cores between
processes costs or gains, not what more machines would give.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def make_data(root: Path, per_class: int, size: int) -> Path:
    rng = np.random.default_rng(0)
    for c, color in enumerate(((200, 40, 40), (40, 60, 200))):
        (root / f"class{c}").mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            arr = np.clip(np.array(color)[None, None] + rng.normal(0, 30, (size, size, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(arr).save(root / f"class{c}" / f"{i}.png")
    return root


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def images_per_sec(nproc: int, data: Path, out: Path, args: argparse.Namespace) -> float:
    train = ["-m", "model", "train", str(data), "--out", str(out), "--json", "--weights", "random", "--mode", "full",
             "--image-size", str(args.image_size), "--batch-size", str(args.batch_size), "--epochs", str(args.epochs),
             "--device", args.device, "--workers", "0"]
    launcher = [] if nproc == 1 else ["-m", "torch.distributed.run", "--nproc_per_node", str(nproc),
                                      "--master_addr", "127.0.0.1", "--master_port", str(free_port())]
    done = subprocess.run([sys.executable, *launcher, *train], cwd=ROOT, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    steps = [e for e in map(json.loads, filter(None, done.stdout.splitlines())) if e["event"] == "step"]
    return steps[-1]["images_per_sec"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="64 px, 2 × 24 images, 2 epochs")
    ap.add_argument("--nproc", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--per-class", type=int, default=None)
    ap.add_argument("--image-size", type=int, default=None)
    ap.add_argument("--batch-size", type=int, default=None)
    ap.add_argument("--epochs", type=int, default=None)
    a = ap.parse_args()
    a.per_class = a.per_class or (24 if a.quick else 128)
    a.image_size = a.image_size or (64 if a.quick else 224)
    a.batch_size = a.batch_size or (16 if a.quick else 32)
    a.epochs = a.epochs or 2
    with tempfile.TemporaryDirectory() as tmp:
        data = make_data(Path(tmp) / "data", a.per_class, a.image_size + a.image_size // 4)
        best = {1: 0.0, a.nproc: 0.0}
        for r in range(a.repeats):
            for n in best:
                best[n] = max(best[n], images_per_sec(n, data, Path(tmp) / f"run-{n}-{r}", a))
    print(f"{a.device}, B0 full mode, {a.image_size} px, global batch {a.batch_size}, best of {a.repeats}:")
    print(f"  1 process:            {best[1]:8.1f} images/s")
    print(f"  {a.nproc} processes (torchrun): {best[a.nproc]:8.1f} images/s")
    print(f"  ratio {a.nproc}-process / 1-process: {best[a.nproc] / best[1]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
