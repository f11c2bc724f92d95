"""Safe decoding of any image file a user might drop on the app.

``load_image`` is the one way the backend opens user images. It honours EXIF
orientation, converts every Pillow mode to 8-bit RGB (alpha composited over
white), takes the first frame of animations, enforces a pixel limit against
decompression bombs and turns every failure into one ``ImageError`` whose
reason a user understands.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from model.core.errors import ImageError

IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".jpe", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"}
)
# Real cameras reach 200 MP (phones sell with 108 and 200 MP sensors); beyond that a
# file is a decompression bomb more often than a photo.
MAX_PIXELS = 200_000_000
# Above this many pixels an image is decoded at a reduced scale: no caller needs
# more (everything is resized to at most 2048 px), and a full 200 MP decode takes 600 MB.
REDUCE_ABOVE_PIXELS = 48_000_000
# load_image checks every header against MAX_PIXELS itself, before any pixel is
# decoded, and names the size and the limit; Pillow's own check would refuse
# first, inside Image.open, where the size is not known to the message.
Image.MAX_IMAGE_PIXELS = None
# Modes Image.reduce does not take: converted to RGB first (1 byte per channel, so bounded).
_NO_REDUCE_MODES = frozenset({"1", "P", "I;16", "I;16B", "I;16L", "I;16N"})


def is_image_file(path: str | os.PathLike) -> bool:
    """True for a visible file whose extension is an image type we decode."""
    p = Path(path)
    return not p.name.startswith(".") and p.suffix.lower() in IMAGE_EXTENSIONS


# Told about a folder that could not be listed (permission denied, I/O error), with the error.
UnreadableCallback = Callable[[Path, OSError], None]


def iter_image_files(
    paths: Iterable[str | os.PathLike], on_unreadable: UnreadableCallback | None = None
) -> Iterator[Path]:
    """Yield image files from files and folders (recursively, sorted, hidden skipped).

    Files named explicitly are yielded even without an image extension, so the
    decoder can explain why they are not images. Symlink loops are cut by
    remembering the real path of every folder visited. A folder that cannot be
    listed is passed to ``on_unreadable`` (when given) and skipped.
    """
    seen_dirs: set[str] = set()
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            yield from _walk(p, seen_dirs, on_unreadable)
        else:
            yield p


def _walk(folder: Path, seen_dirs: set[str], on_unreadable: UnreadableCallback | None) -> Iterator[Path]:
    real = os.path.realpath(folder)
    if real in seen_dirs:
        return
    seen_dirs.add(real)
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as e:
        if on_unreadable is not None:
            on_unreadable(folder, e)
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        try:
            if entry.is_dir():
                yield from _walk(path, seen_dirs, on_unreadable)
            elif entry.is_file() and is_image_file(path):
                yield path
        except OSError:
            continue


def _megapixels(pixels: int) -> str:
    mp = pixels / 1e6
    return f"{mp:.0f}" if mp >= 10 else f"{mp:.2g}"


def _describe_size_error(path, width: int, height: int, max_pixels: int) -> ImageError:
    return ImageError(
        path, f"image is {width}×{height} = {_megapixels(width * height)} MP; the limit is {_megapixels(max_pixels)} MP"
    )


def _reduced(size: tuple[int, int], factor: float) -> tuple[int, int]:
    return max(1, math.ceil(size[0] * factor)), max(1, math.ceil(size[1] * factor))


def load_image(
    path: str | os.PathLike,
    *,
    draft_size: tuple[int, int] | None = None,
    max_pixels: int = MAX_PIXELS,
) -> Image.Image:
    """Open ``path`` and return an upright 8-bit RGB ``PIL.Image``.

    ``draft_size`` lets JPEGs decode at a reduced scale (DCT scaling) when the
    caller will shrink the image to about that size anyway: much faster for
    photos, and the result is never smaller than ``draft_size``.

    Images above ``max_pixels`` are refused by their header alone. Images above
    ``REDUCE_ABOVE_PIXELS`` come back at a reduced scale of about that many
    pixels: JPEGs are decoded that way (memory stays bounded), other formats are
    reduced right after decoding.
    """
    p = Path(path)
    try:
        size = p.stat().st_size
    except FileNotFoundError:
        raise ImageError(p, "file not found") from None
    except OSError as e:
        raise ImageError(p, f"cannot be read ({e.strerror or e})") from None
    if p.is_dir():
        raise ImageError(p, "is a folder, not an image")
    if size == 0:
        raise ImageError(p, "file is empty")
    try:
        with Image.open(p) as im:
            width, height = im.size
            if width * height > max_pixels:
                raise _describe_size_error(p, width, height, max_pixels)
            shrink = min(1.0, math.sqrt(REDUCE_ABOVE_PIXELS / (width * height)))
            if im.format == "JPEG" and (draft_size is not None or shrink < 1.0):
                wanted = _reduced(im.size, shrink)
                if draft_size is not None:
                    wanted = min(wanted[0], draft_size[0]), min(wanted[1], draft_size[1])
                im.draft("RGB", wanted)
            im.seek(0)  # first frame of animated GIF/WebP/TIFF
            im.load()
            # exif_transpose copies the image even when it is already upright
            # (1.8 ms for a 1024×768 photo, as much as decoding it at reduced scale).
            if im.getexif().get(ExifTags.Base.Orientation, 1) != 1:
                im = ImageOps.exif_transpose(im)
            factor = math.ceil(math.sqrt(im.size[0] * im.size[1] / REDUCE_ABOVE_PIXELS))
            if factor > 1:  # not a JPEG (or one draft could not shrink enough): reduce now
                im = im.reduce(factor) if im.mode not in _NO_REDUCE_MODES else _to_rgb(im).reduce(factor)
            return _to_rgb(im)
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError(p, "not an image (or a format we cannot read)") from None
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        raise ImageError(p, f"image is damaged or truncated ({e})") from None
    except Exception as e:  # any decoder bug must still be one clear sentence
        raise ImageError(p, f"could not decode the image ({type(e).__name__})") from None


def _to_rgb(im: Image.Image) -> Image.Image:
    """Convert any Pillow mode to RGB; transparency is composited over white."""
    if im.mode == "RGB":
        return im
    if im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # 16/32-bit integer greyscale: scale the used range to 8 bits instead of clipping.
        arr = np.asarray(im, dtype=np.float64)
        hi = arr.max() if arr.size else 0
        scale = 255.0 / (65535.0 if hi > 255 else 255.0)
        im = Image.fromarray(np.clip(arr * scale, 0, 255).astype(np.uint8), "L")
    if im.mode == "F":
        arr = np.asarray(im, dtype=np.float64)
        lo, hi = (float(arr.min()), float(arr.max())) if arr.size else (0.0, 1.0)
        arr = (arr - lo) / (hi - lo) * 255.0 if hi > lo else np.zeros_like(arr)
        im = Image.fromarray(arr.astype(np.uint8), "L")
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = im.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return im.convert("RGB")
