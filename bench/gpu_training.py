"""Where GPU training time goes: the bare step's ceiling against the engine's epochs.

    python bench/gpu_training.py [--images 2048] [--epochs 3]

1. the bare B0 full-mode step (forward, backward, AdamW; bf16/fp16 autocast,
   channels_last) at 224 px and the engine's automatic batch, on random tensors:
   the first step's seconds and the steady images/s, with cuDNN's autotuning
   (``torch.backends.cudnn.benchmark``) on and off;
2. the engine (``model.engine.train``) over a generated two-class data set:
   every epoch's seconds and its images/s from the step events, so the first
   epoch's one-off costs (autotuning, worker start-up) show apart from the
   steady ones; once with autotuning forced on (what the engine did before),
   once as the engine leaves it (off).

Without CUDA it stops at once with one sentence.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


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


def bare_steps(batch: int, size: int, steps: int, autotune: bool) -> dict:
    """The first step's seconds and the median steady step's images/s of a bare B0 training step."""
    import torch
    import torch.nn.functional as F

    from model.core.variants import get_variant
    from model.nets.network import build_model

    torch.backends.cudnn.benchmark = autotune
    dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    net = build_model(get_variant("b0"), num_classes=2).cuda().to(memory_format=torch.channels_last).train()
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3)
    x = torch.randn(batch, 3, size, size, device="cuda").contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 2, (batch,), device="cuda")

    def step() -> float:
        start = time.perf_counter()
        with torch.autocast("cuda", dtype=dtype):
            loss = F.cross_entropy(net(x).float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        torch.cuda.synchronize()
        return time.perf_counter() - start

    first = step()
    times = [step() for _ in range(steps)]
    return {"autotune": autotune, "first_step_s": first, "images_per_sec": batch / statistics.median(times)}


def engine_epochs(data: Path, out: Path, epochs: int, autotune: bool | None) -> dict:
    """Every epoch's seconds and last step-event images/s from the engine; ``autotune`` None keeps the engine's choice."""
    import torch

    from model.core.events import EpochMetrics, StepMetrics, TrainingStarted
    from model.engine import TrainConfig, train

    config = TrainConfig(data_dir=data, out_dir=out, variant="b0", weights="random", mode="full", epochs=epochs,
                         image_size=224, val_split=0.1, device="cuda")
    rows, last_speed, started, t0 = [], {}, None, time.perf_counter()
    previous = torch.backends.cudnn.benchmark
    if autotune is not None:  # the engine leaves the setting alone (off since this bench found its cost)
        torch.backends.cudnn.benchmark = autotune
    try:
        for event in train(config):
            if isinstance(event, TrainingStarted):
                started = event
            elif isinstance(event, StepMetrics):
                last_speed[event.epoch] = event.images_per_sec
            elif isinstance(event, EpochMetrics):
                rows.append({"epoch": event.epoch, "seconds": event.seconds, "images_per_sec": last_speed.get(event.epoch)})
    finally:
        torch.backends.cudnn.benchmark = previous
    return {"autotune": autotune, "batch_size": started.batch_size, "workers": started.loader_workers,
            "epochs": rows, "wall_s": time.perf_counter() - t0}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=2048, help="generated images per class (default: 2048)")
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args(argv)
    import torch

    if not torch.cuda.is_available():
        print("No CUDA GPU is available here: run this on a machine with an NVIDIA GPU.", file=sys.stderr)
        return 1
    from model.core.variants import get_variant
    from model.training.schedule import auto_batch_size

    print(f"GPU: {torch.cuda.get_device_name(0)}", flush=True)
    batch = auto_batch_size("b0", get_variant("b0").resolution, torch.device("cuda"), 10**6)
    for autotune in (True, False):
        print("bare step:", bare_steps(batch, 224, 20, autotune), flush=True)
    with tempfile.TemporaryDirectory(prefix="gpu-training-") as tmp:
        data = make_images(Path(tmp) / "data", args.images)
        for autotune in (True, None):  # forced on (the engine before the fix), then the engine's own choice
            print("engine:", engine_epochs(data, Path(tmp) / f"run-{autotune}", args.epochs, autotune), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
