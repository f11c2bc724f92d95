"""Photo-sized JPEGs for benchmarks, made from real photographs shipped in a package.

scikit-learn ships two photographs (``china.jpg`` and ``flower.jpg``, 640×427;
it is installed with the test extra). ``make_photos`` cuts, flips and rescales
them into distinct ~1024×768 JPEGs at camera-like quality, so benchmarks decode
real photographic content at a realistic size without any download.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageOps


def source_photos() -> list[Image.Image]:
    import sklearn.datasets

    folder = Path(sklearn.datasets.__file__).parent / "images"
    return [Image.open(folder / name).convert("RGB") for name in ("china.jpg", "flower.jpg")]


def make_photos(out: Path, count: int, size: tuple[int, int] = (1024, 768), quality: int = 90) -> list[Path]:
    """Write ``count`` distinct JPEGs of ``size`` into ``out`` and return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    sources = source_photos()
    paths = []
    for i in range(count):
        src = sources[i % len(sources)]
        if (i // 2) % 2:
            src = ImageOps.mirror(src)
        # A different crop window for each image, then scaled to the photo size.
        w, h = src.size
        frac = 0.6 + 0.4 * ((i * 7919) % 97) / 96
        cw, ch = int(w * frac), int(h * frac)
        left = ((i * 31) % max(1, w - cw + 1))
        top = ((i * 17) % max(1, h - ch + 1))
        photo = src.crop((left, top, left + cw, top + ch)).resize(size, Image.BICUBIC)
        path = out / f"photo_{i:04d}.jpg"
        photo.save(path, quality=quality)
        paths.append(path)
    return paths
