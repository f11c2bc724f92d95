"""Helpers shared by the CLI commands: common flags, JSON output, progress on stderr."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from model.nets.device import DEVICE_CHOICES


def add_device_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="auto", help=f"compute device: {', '.join(DEVICE_CHOICES)} (default: auto)")


def add_runtime_flag(parser: argparse.ArgumentParser) -> None:
    from model.inference.runtime import RUNTIME_CHOICES

    parser.add_argument(
        "--runtime", choices=RUNTIME_CHOICES, default="auto",
        help="inference runtime (default: auto: the one `Measure on this machine` found fastest for the "
        "variant, else OpenVINO bf16 on a CPU with native bf16, ONNX Runtime on other CPUs, torch on a GPU)",
    )


def add_json_flag(parser: argparse.ArgumentParser, what: str = "results") -> None:
    parser.add_argument("--json", action="store_true", help=f"print {what} as JSON")


def print_json(obj: Any) -> None:
    print(json.dumps(obj, ensure_ascii=False), flush=True)


class ProgressBar:
    """A one-line text progress bar on stderr, shown only when stderr is a terminal."""

    def __init__(self, total: int, label: str = "", min_total: int = 2, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.total = max(1, total)
        self.label = label
        self.enabled = total >= min_total and getattr(self.stream, "isatty", lambda: False)()

    def update(self, done: int, suffix: str = "") -> None:
        if not self.enabled:
            return
        width = 30
        filled = int(width * min(done, self.total) / self.total)
        bar = "█" * filled + "·" * (width - filled)
        self.stream.write(f"\r{self.label} {bar} {done}/{self.total} {suffix}".rstrip() + "\033[K")
        self.stream.flush()

    def clear(self) -> None:
        """Erase the bar's line so other output on the same terminal starts clean; the next update redraws it."""
        if self.enabled:
            self.stream.write("\r\033[K")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


class DownloadReporter:
    """Says on stderr that weights are being downloaded, with a bar on a terminal."""

    def __init__(self, variant: str) -> None:
        from model.core.variants import get_variant

        self.variant = get_variant(variant)
        self.bar: ProgressBar | None = None

    def __call__(self, done: int, total: int | None) -> None:
        mb = 2**20
        if self.bar is None:
            size = f" ({total / mb:.0f} MB)" if total else ""
            print(f"Downloading the ImageNet weights of {self.variant.title}{size}…", file=sys.stderr, flush=True)
            self.bar = ProgressBar(max(1, round(total / mb)) if total else 0, "Downloading", min_total=1)
        self.bar.update(int(done / mb), "MB")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
