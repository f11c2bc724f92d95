"""Class-folder datasets: scanning, refusing unusable folders, splitting, transforms.

A dataset is a folder with one sub-folder per class (torchvision's ImageFolder
convention), optionally split into ``train/``, ``val/`` and ``test/`` sub-folders
laid out the same way; ``test/`` is set aside: never trained or validated on,
only used to score the final model. ``scan_dataset`` finds the classes and images, reports files that
are not readable images, refuses folders nobody can train on with one clear
sentence, and warns about what would make training go badly. ``split_dataset``
makes a seeded, stratified train/val split when there is no val folder.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from PIL import Image, UnidentifiedImageError

from model.core.errors import DatasetError
from model.imaging.images import IMAGE_EXTENSIONS, is_image_file, iter_image_files
from model.core.variants import Preprocessing, get_variant

if TYPE_CHECKING:
    import torch

SPLIT_FOLDERS = ("train", "val", "valid", "validation", "test")
VAL_FOLDERS = ("val", "valid", "validation")
TINY_CLASS = 10  # fewer images than this in a class deserves a warning
IMBALANCE_RATIO = 10.0  # largest / smallest class beyond this is "heavy"


@dataclass
class DatasetScan:
    """What a dataset folder holds: classes, counts, usable files and what was skipped."""

    root: Path
    class_names: list[str]
    counts: dict[str, int]  # training images per class (all images when there is no val folder)
    files: list[tuple[Path, int]]  # (path, class index), sorted
    skipped: list[tuple[Path, str]] = field(default_factory=list)  # (path, reason)
    warnings: list[str] = field(default_factory=list)
    val_files: list[tuple[Path, int]] | None = None  # from a val/ folder or an explicit val_dir
    train_dir: Path | None = None  # the folder the class sub-folders were found in
    test_dir: Path | None = None  # a test/ folder beside train/: held out, scored only at the end
    num_test: int = 0  # images in test_dir

    def test_note(self) -> str:
        """"40 test images set aside" (or "" without a test/ folder)."""
        if self.test_dir is None:
            return ""
        return f"{self.num_test} test image{'s' if self.num_test != 1 else ''} set aside"

    @property
    def num_images(self) -> int:
        return len(self.files) + len(self.val_files or [])


def _visible_subfolders(folder: Path) -> list[Path]:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as e:
        raise DatasetError(f"{folder}: the folder cannot be read ({e.strerror or e}).") from None
    out = []
    for e in entries:
        try:
            if not e.name.startswith(".") and e.is_dir():
                out.append(Path(e.path))
        except OSError:
            continue
    return out


def _probe(path: Path) -> str | None:
    """Why ``path`` is not a readable image, or None. Reads the header only, so scanning stays fast;
    a file damaged further in is caught (and skipped) when training decodes it."""
    try:
        if path.stat().st_size == 0:
            return "file is empty"
        with Image.open(path) as im:
            im.size  # noqa: B018 - forces the header to be parsed
    except UnidentifiedImageError:
        return "not an image (or a format we cannot read)"
    except OSError as e:
        return f"cannot be read ({e.strerror or e})"
    except Exception as e:  # a decoder bug on a hostile header is still just a skipped file
        return f"could not be opened ({type(e).__name__})"
    return None


def _find_layout(root: Path) -> tuple[Path, Path | None, Path | None]:
    """(folder holding the training classes, the val classes or None, the test classes or None)."""
    subs = _visible_subfolders(root)
    names = {p.name.lower(): p for p in subs}
    if "train" in names and all(p.name.lower() in SPLIT_FOLDERS for p in subs):
        val = next((names[n] for n in VAL_FOLDERS if n in names), None)
        return names["train"], val, names.get("test")
    return root, None, None


def held_out_test_dir(root: str | os.PathLike) -> Path | None:
    """The ``test/`` folder of a train/val/test dataset, or None."""
    return _find_layout(Path(root).expanduser())[2]


def _scan_classes(folder: Path, skipped: list[tuple[Path, str]], verify: bool) -> dict[str, list[Path]]:
    classes: dict[str, list[Path]] = {}
    for class_dir in _visible_subfolders(folder):
        good = []
        for p in iter_image_files([class_dir]):
            reason = _probe(p) if verify else None
            if reason is None:
                good.append(p)
            else:
                skipped.append((p, reason))
        classes[class_dir.name] = good
    return classes


@dataclass
class ClassFolders:
    """The class sub-folders found under a dataset folder, before any rule about what is usable."""

    train_dir: Path  # the folder the class sub-folders were found in (``root`` or its ``train/``)
    classes: dict[str, list[Path]]  # class name → readable images, in folder-name order
    val_dir: Path | None = None
    val_classes: dict[str, list[Path]] | None = None
    skipped: list[tuple[Path, str]] = field(default_factory=list)  # (path, reason)
    test_dir: Path | None = None  # a test/ folder beside train/: held out, never scanned for training

    def all_classes(self) -> dict[str, list[Path]]:
        """Training and validation images together, per class name (sorted)."""
        merged = {name: list(paths) for name, paths in self.classes.items()}
        for name, paths in (self.val_classes or {}).items():
            merged.setdefault(name, []).extend(paths)
        return dict(sorted(merged.items()))


def find_class_folders(root: Path, val_dir: str | os.PathLike | None = None, *, verify: bool = True) -> ClassFolders:
    """Discover the classes of a folder (``root`` is an existing folder): one sub-folder per class, or
    ``train/`` and ``val/`` folders laid out that way. ``verify`` reads every image header so unreadable
    files are reported up front instead of at decode time."""
    train_dir, found_val, test_dir = _find_layout(root)
    val_root = Path(val_dir).expanduser() if val_dir is not None else found_val
    if val_root is not None and not val_root.is_dir():
        raise DatasetError(f"{val_root}: no such validation folder.")
    skipped: list[tuple[Path, str]] = []
    classes = _scan_classes(train_dir, skipped, verify)
    val_classes = _scan_classes(val_root, skipped, verify) if val_root is not None else None
    return ClassFolders(train_dir, classes, val_root, val_classes, skipped, test_dir)


def scan_dataset(
    root: str | os.PathLike, val_dir: str | os.PathLike | None = None, *, verify: bool = True, min_classes: int = 2
) -> DatasetScan:
    """Scan a class-folder dataset; raise ``DatasetError`` when it cannot be trained on.

    ``val_dir`` names a separate validation folder with the same class sub-folders.
    ``verify`` reads every image header so unreadable files are reported up front.
    """
    root = Path(root).expanduser()
    if not root.is_dir():
        raise DatasetError(f"{root}: no such folder; choose a folder with one sub-folder of images per class.")
    found = find_class_folders(root, val_dir, verify=verify)
    train_dir, val_root, classes, skipped = found.train_dir, found.val_dir, found.classes, found.skipped
    test_dir = found.test_dir
    loose = [p for p in train_dir.iterdir() if p.is_file() and is_image_file(p)]
    if not any(classes.values()):
        raise DatasetError(
            f"{train_dir} holds no images in class sub-folders: put them in one sub-folder per class "
            f"(e.g. {train_dir / 'cats' / '1.jpg'})."
        )
    if len(classes) < min_classes:
        only = ", ".join(classes) or "none"
        raise DatasetError(
            f"{train_dir} has only {len(classes)} class ({only}): training needs at least {min_classes} class sub-folders."
        )
    empty = [name for name, files in classes.items() if not files]
    if empty:
        raise DatasetError(
            f"The class folder '{empty[0]}' in {train_dir} has no readable images: add some or remove the folder."
        )

    class_names = list(classes)
    index = {name: i for i, name in enumerate(class_names)}
    files = [(p, index[name]) for name, paths in classes.items() for p in paths]
    counts = {name: len(paths) for name, paths in classes.items()}

    val_files = None
    warnings: list[str] = []
    if found.val_classes is not None:
        val_classes = found.val_classes
        unknown = [c for c in val_classes if c not in index]
        if unknown:
            raise DatasetError(
                f"The validation folder {val_root} has a class '{unknown[0]}' that the training folder lacks: "
                "use the same class sub-folder names in both."
            )
        val_files = [(p, index[name]) for name, paths in val_classes.items() for p in paths]
        if not val_files:
            raise DatasetError(f"The validation folder {val_root} holds no images in class sub-folders.")
        missing = [c for c in class_names if not val_classes.get(c)]
        if missing:
            warnings.append(f"The validation folder has no images of {', '.join(repr(c) for c in missing)}.")

    if loose:
        warnings.append(
            f"{len(loose)} image(s) directly in {train_dir} are ignored: images must be inside a class sub-folder."
        )
    warnings.extend(_balance_warnings(counts))
    if skipped:
        warnings.append(f"{len(skipped)} file(s) are not readable images and will be skipped.")
    num_test = 0
    if test_dir is not None:
        # Only counted here (no header is read): the test images are opened once, at the end.
        num_test = sum(1 for class_dir in _visible_subfolders(test_dir) for _ in iter_image_files([class_dir]))
    return DatasetScan(root, class_names, counts, files, skipped, warnings, val_files, train_dir, test_dir, num_test)


def _balance_warnings(counts: dict[str, int]) -> list[str]:
    out = []
    tiny = [f"'{c}' ({n})" for c, n in counts.items() if n < TINY_CLASS]
    if tiny:
        out.append(
            f"Tiny classes: {', '.join(tiny)} image(s); aim for at least {TINY_CLASS}, better 50+, images per class."
        )
    big = max(counts, key=counts.get)
    small = min(counts, key=counts.get)
    if counts[big] >= IMBALANCE_RATIO * counts[small]:
        out.append(
            f"Classes are heavily imbalanced: '{big}' has {counts[big]} images but '{small}' only {counts[small]}; "
            f"the model may favour '{big}'."
        )
    return out


@dataclass
class Split:
    """Training and validation samples as (path, class index)."""

    train: list[tuple[Path, int]]
    val: list[tuple[Path, int]]
    warnings: list[str] = field(default_factory=list)


def split_dataset(scan: DatasetScan, val_split: float = 0.2, seed: int = 0) -> Split:
    """The scan's val folder when it has one; otherwise a stratified split seeded by ``seed``.

    Every class with at least two images gives at least one image to validation,
    and always keeps at least one for training.
    """
    if scan.val_files is not None:
        return Split(list(scan.files), list(scan.val_files))
    if not 0.0 <= val_split < 1.0:
        raise DatasetError(f"The validation split must be between 0 and 1 (got {val_split}).")
    rng = random.Random(seed)
    train: list[tuple[Path, int]] = []
    val: list[tuple[Path, int]] = []
    lonely = []
    for label, name in enumerate(scan.class_names):
        items = sorted(p for p, y in scan.files if y == label)
        rng.shuffle(items)
        n_val = 0
        if val_split > 0:
            if len(items) < 2:
                lonely.append(name)
            else:
                n_val = min(len(items) - 1, max(1, round(len(items) * val_split)))
        val += [(p, label) for p in items[:n_val]]
        train += [(p, label) for p in items[n_val:]]
    warnings = []
    if lonely:
        warnings.append(f"{', '.join(repr(c) for c in lonely)} has a single image: it is not validated.")
    return Split(sorted(train), sorted(val), warnings)


def eval_preprocessing(variant: str, image_size: int | None = None) -> Preprocessing:
    """The variant's own eval recipe, scaled to ``image_size`` (default: its native resolution)."""
    prep = get_variant(variant).eval_preprocessing
    return prep if image_size is None or image_size == prep.crop_size else prep.at_size(int(image_size))


def train_transform(image_size: int, augment: bool = True) -> Callable[[Image.Image], "torch.Tensor"]:
    """RGB PIL image → uint8 tensor [3, S, S]: the ``standard`` preset with flips, or ``none``.

    The presets themselves live in ``model.training.augment``.
    """
    from model.training.augment import train_transform as preset_transform

    return preset_transform(image_size, "standard" if augment else "none", flip=True)


__all__ = [
    "DatasetScan",
    "IMAGE_EXTENSIONS",
    "Split",
    "eval_preprocessing",
    "scan_dataset",
    "split_dataset",
    "held_out_test_dir",
    "train_transform",
]
