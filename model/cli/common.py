"""Helpers shared by the CLI commands: common flags, JSON output, progress on stderr."""

from __future__ import annotations

import argparse
import codecs
import os
import sys
from typing import Any

from model.core.json_text import json_text
from model.nets.device import DEVICE_CHOICES


def add_device_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="auto", help=f"compute device: {', '.join(DEVICE_CHOICES)} (default: auto)")


def add_json_flag(parser: argparse.ArgumentParser, what: str = "results") -> None:
    parser.add_argument("--json", action="store_true", help=f"print {what} as JSON")


def print_json(obj: Any) -> None:
    print(json_text(obj), flush=True)


def _bytes_as_escapes(error: UnicodeError):
    """Codec error handler: an undecodable byte of a file name prints as ``\\xNN``."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    chunk = error.object[error.start:error.end]
    out = "".join(f"\\x{ord(c) - 0xDC00:02x}" if 0xDC80 <= ord(c) <= 0xDCFF else f"\\u{ord(c):04x}" for c in chunk)
    return out, error.end


codecs.register_error("studio-escape", _bytes_as_escapes)


def make_output_safe() -> None:
    """Let stdout/stderr print any file name: undecodable bytes are written as ``\\xNN``."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            try:
                stream.reconfigure(errors="studio-escape")
            except (ValueError, OSError):
                pass


def silence_stdout() -> None:
    """After the reader of stdout went away: send further output (and the final flush) nowhere."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


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
