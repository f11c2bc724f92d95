"""argparse types for the CLI's flags: an absurd value is refused while parsing.

argparse prints the usage and one sentence naming the flag, and exits with
status 2, before anything slow starts: ``--workers -1``, ``--seed`` beyond
2^63-1, ``--image-size 100000`` (which grew to 21 GB), ``--lr inf`` (a NaN
run saved as "best"), ``--out`` naming an existing file.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from model.core.variants import MAX_IMAGE_SIZE, MIN_IMAGE_SIZE

MAX_SEED = 2**63 - 1  # torch.manual_seed takes a signed 64-bit integer
MAX_LEARNING_RATE = 10.0  # beyond it every optimiser we use diverges at once


def _parsed(text: str, convert, what: str):
    try:
        return convert(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, not {text!r}") from None


def _whole_number(text: str) -> int:
    return _parsed(text, int, "a whole number")


def _real_number(text: str) -> float:
    return _parsed(text, float, "a number")


def positive_int(text: str) -> int:
    value = _whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def non_negative_int(text: str) -> int:
    value = _whole_number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def seed_value(text: str) -> int:
    value = _whole_number(text)
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be between 0 and 2^63-1, not {value}")
    return value


def image_size(text: str) -> int:
    value = _whole_number(text)
    if not MIN_IMAGE_SIZE <= value <= MAX_IMAGE_SIZE:
        raise argparse.ArgumentTypeError(f"must be between {MIN_IMAGE_SIZE} and {MAX_IMAGE_SIZE} pixels, not {value}")
    return value


def learning_rate(text: str) -> float:
    value = _real_number(text)
    if not math.isfinite(value) or not 0 < value <= MAX_LEARNING_RATE:
        raise argparse.ArgumentTypeError(f"must be a number above 0 and at most {MAX_LEARNING_RATE:g}, not {text}")
    return value


def fraction(text: str) -> float:
    value = _real_number(text)
    if not math.isfinite(value) or not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 0 and below 1, not {text}")
    return value


def output_folder(text: str) -> str:
    """A folder to write into: anything but an existing file."""
    if Path(text).exists() and not Path(text).is_dir():
        raise argparse.ArgumentTypeError(f"{text} is an existing file; give a folder")
    return text
