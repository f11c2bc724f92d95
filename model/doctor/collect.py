"""What the doctor looks at: every image of a class-folder data set, with its split, size and fingerprint.

Unlike training's scanner, the doctor looks at every split (``train/``, ``val/``,
``test/`` …) at once, because a leak is an image in two of them. A folder
without split folders is all "train". Files that are not readable images are
listed with the reason, never a failure of the whole run. The fingerprint
(size, modification time, SHA-256) is what lets a fix later tell that a file
changed since the report, and finds exact duplicates.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from PIL import Image

from model.core.errors import DatasetError
from model.imaging.images import iter_image_files
from model.training.data import SPLIT_FOLDERS

STUDIO_FOLDER = ".studio"  # the app's own files inside a data set; every scanner skips it (it is hidden)


@dataclass(frozen=True)
class Fingerprint:
    """Enough of a file's state to tell whether it changed: size, mtime and content hash."""

    size: int
    mtime_ns: int
    sha256: str

    def to_dict(self) -> dict:
        return {"size": self.size, "mtime_ns": self.mtime_ns, "sha256": self.sha256}

    @classmethod
    def from_dict(cls, d: dict) -> "Fingerprint":
        return cls(int(d["size"]), int(d["mtime_ns"]), str(d["sha256"]))


def fingerprint(path: Path) -> Fingerprint:
    """The file's current fingerprint (raises OSError when it cannot be read)."""
    st = path.stat()
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return Fingerprint(st.st_size, st.st_mtime_ns, h.hexdigest())


@dataclass(frozen=True)
class Item:
    """One readable image: where it is, its given class, its split, pixel size and fingerprint."""

    path: Path
    rel: str  # as found under DATA_DIR, with "/" separators
    label: int
    split: str  # "train", "val", "test", …
    width: int
    height: int
    print: Fingerprint


@dataclass
class Collection:
    """The images of a data set and the files that could not be read."""

    root: Path
    class_names: list[str]
    items: list[Item]
    unreadable: list[tuple[str, str]]  # (rel path, reason)


def _subfolders(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError as e:
        raise DatasetError(f"{folder}: the folder cannot be read ({e.strerror or e}).") from None


def split_folders(root: Path) -> dict[str, Path]:
    """split name → folder holding its class sub-folders; {"train": root} without split folders."""
    subs = _subfolders(root)
    names = {p.name.lower(): p for p in subs}
    if "train" in names and all(p.name.lower() in SPLIT_FOLDERS for p in subs):
        return {name: names[name] for name in sorted(names, key=SPLIT_FOLDERS.index)}
    return {"train": root}


def _probe(path: Path) -> tuple[int, int]:
    with Image.open(path) as im:
        return im.size


def collect(root: str | os.PathLike, progress: Callable[[int, int], None] | None = None) -> Collection:
    """Every image under ``root``'s class folders; ``DatasetError`` when there are none."""
    root = Path(root).expanduser()
    if not root.is_dir():
        raise DatasetError(f"{root}: no such folder; choose a folder with one sub-folder of images per class.")
    found: list[tuple[Path, str, str]] = []  # (path, class name, split)
    for split, folder in split_folders(root).items():
        for class_dir in _subfolders(folder):
            found += [(p, class_dir.name, split) for p in iter_image_files([class_dir])]
    class_names = sorted({c for _, c, _ in found})
    if not found:
        raise DatasetError(f"{root} holds no images in class sub-folders: put them in one sub-folder per class.")
    index = {c: i for i, c in enumerate(class_names)}
    items, unreadable = [], []
    for n, (path, cls, split) in enumerate(found):
        rel = path.relative_to(root).as_posix()
        try:
            w, h = _probe(path)
            items.append(Item(path, rel, index[cls], split, w, h, fingerprint(path)))
        except OSError as e:
            unreadable.append((rel, f"cannot be read ({e.strerror or e})" if e.strerror else "not an image (or a format we cannot read)"))
        except Exception as e:  # a decoder bug on a hostile header is still just an unreadable file
            unreadable.append((rel, f"could not be opened ({type(e).__name__})"))
        if progress is not None and (n % 64 == 0 or n == len(found) - 1):
            progress(n + 1, len(found))
    if not items:
        raise DatasetError(f"{root}: none of the {len(found)} image files could be read.")
    return Collection(root, class_names, items, unreadable)
