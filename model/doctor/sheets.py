"""Contact sheets: PNG grids of the worst cases, so a report can be looked at without the app."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from PIL import Image, ImageDraw

from model.core.errors import ImageError
from model.doctor.report import DoctorReport
from model.imaging.images import load_image

THUMB = 96
CAPTION = 28
COLUMNS = 8
MAX_TILES = 64


def _tile(path: Path, lines: Sequence[str]) -> Image.Image:
    tile = Image.new("RGB", (THUMB, THUMB + CAPTION), "white")
    try:
        im = load_image(path)
        im.thumbnail((THUMB, THUMB))
        tile.paste(im, ((THUMB - im.width) // 2, (THUMB - im.height) // 2))
    except ImageError:
        ImageDraw.Draw(tile).text((4, THUMB // 2), "unreadable", fill="red")
    draw = ImageDraw.Draw(tile)
    for n, line in enumerate(lines[:2]):
        draw.text((3, THUMB + 2 + 13 * n), line[:17], fill="black")
    return tile


def contact_sheet(tiles: Sequence[tuple[Path, Sequence[str]]], columns: int = COLUMNS) -> Image.Image:
    """A grid of thumbnails with up to two caption lines each."""
    tiles = list(tiles)[:MAX_TILES]
    rows = max(1, -(-len(tiles) // columns))
    sheet = Image.new("RGB", (columns * (THUMB + 4) + 4, rows * (THUMB + CAPTION + 4) + 4), (230, 230, 230))
    for n, (path, lines) in enumerate(tiles):
        r, c = divmod(n, columns)
        sheet.paste(_tile(path, lines), (4 + c * (THUMB + 4), 4 + r * (THUMB + CAPTION + 4)))
    return sheet


def write_sheets(report: DoctorReport, folder: str | Path) -> list[Path]:
    """label_issues.png, duplicates.png and outliers.png (those with something to show) in ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    root = report.root
    sheets = {
        "label_issues.png": [
            (root / i.path, [f"probably {i.suggested}", f"labelled {i.given} {i.score:.2f}"]) for i in report.label_issues
        ],
        "duplicates.png": [
            (root / p, [f"group {g + 1}" + (" LEAK" if d.across_splits else ""), p.rsplit("/", 1)[-1]])
            for g, d in enumerate(report.duplicates[: MAX_TILES // 2])
            for p in d.paths[:COLUMNS]
        ],
        "outliers.png": [(root / o.path, [f"score {o.score:.2f}", o.reason]) for o in report.outliers],
    }
    written = []
    for name, tiles in sheets.items():
        if tiles:
            path = folder / name
            contact_sheet(tiles).save(path)
            written.append(path)
    return written
