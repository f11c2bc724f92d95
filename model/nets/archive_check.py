"""Refuse zip bombs before ``torch.load`` reads a user's ``.pt`` file.

``torch.save`` writes a zip archive whose records are stored, not compressed,
but ``torch.load`` also inflates compressed records, and it allocates each
record's declared size before anything checks it against the tensor it belongs
to: a 3 MB file declaring a 3 GB record took 3.65 GB before the refusal. Here
the archive's central directory is read (a few KB) and the file is refused when
a record is compressed far beyond what real weights compress, or when the sizes
it declares add up to more than a model of this kind can hold.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

from model.core.errors import BundleError
from model.core.variants import VARIANTS, get_variant

# Real weights deflate to at best ~1.1:1 (they are noise in the low bits); zeros go past 1000:1.
MAX_COMPRESSION_RATIO = 20
# Small records (the pickle, version strings) may compress well and do no harm.
RATIO_CHECK_ABOVE_BYTES = 1 << 20
# The largest file we write is last.pt of a full fine-tune: the weights, AdamW's two
# moments of each, and the bundle. A factor of 4 over the weights covers it, and
# the margin covers a classifier head of many thousands of classes.
WEIGHT_COPIES = 4
MARGIN_BYTES = 256 << 20


def max_archive_bytes(variant: str | None = None) -> int:
    """How many bytes a file of ``variant`` (or of any variant) may declare in all."""
    params = get_variant(variant).params if variant else max(v.params for v in VARIANTS.values())
    return WEIGHT_COPIES * 4 * params + MARGIN_BYTES


def _mb(n: int) -> str:
    return f"{n / 2**20:,.0f} MB" if n >= 2**20 else f"{n / 2**10:,.0f} KB"


def check_archive(path: str | os.PathLike, max_bytes: int | None = None) -> None:
    """Raise ``BundleError`` if the zip archive at ``path`` declares too much; other files pass.

    Files that are not zip archives (torch's legacy format) are left to ``torch.load``.
    """
    p = Path(path)
    limit = max_archive_bytes() if max_bytes is None else max_bytes
    try:
        if not zipfile.is_zipfile(p):
            return
        with zipfile.ZipFile(p) as archive:
            records = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # torch.load reports a damaged file in its own words (see read_torch_file)
    size = p.stat().st_size
    declared = 0
    for r in records:
        declared += r.file_size
        if r.compress_size > size:
            raise BundleError(f"{p}: refused to load, the file is damaged (a record claims to be larger than the file).")
        if r.file_size > RATIO_CHECK_ABOVE_BYTES and r.file_size > MAX_COMPRESSION_RATIO * max(1, r.compress_size):
            raise BundleError(
                f"{p}: refused to load, a record of {_mb(r.compress_size)} unpacks to {_mb(r.file_size)} "
                f"({r.file_size // max(1, r.compress_size):,}:1); real weights do not compress like that, "
                "so this is a damaged or hostile file."
            )
    if declared > limit:
        raise BundleError(
            f"{p}: refused to load, it declares {_mb(declared)} of data, more than a model of this kind can hold "
            f"({_mb(limit)}); it is damaged or hostile."
        )
