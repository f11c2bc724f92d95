"""Issue 15: camera-sized images decode with bounded memory, bigger ones are refused by name;
unreadable folders are reported, not skipped silently."""

from __future__ import annotations

import os
import struct
import zlib

import pytest
from PIL import Image

import model.imaging.images as images
from model.core.errors import ImageError
from model.imaging.images import iter_image_files, load_image


def _png_header(path, width: int, height: int):
    """A PNG whose header declares ``width``×``height`` (the pixel data is a token)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))
    return path


def test_a_bomb_is_refused_with_its_size_and_the_limit(tmp_path):
    p = _png_header(tmp_path / "bomb.png", 40000, 40000)
    with pytest.raises(ImageError, match="image is 40000×40000 = 1600 MP; the limit is 200 MP"):
        load_image(p)


def test_a_108_megapixel_phone_photo_is_within_the_limit(tmp_path):
    # The header passes the limit; only the token pixel data then fails to decode.
    p = _png_header(tmp_path / "phone.png", 12000, 9000)
    with pytest.raises(ImageError) as e:
        load_image(p)
    assert "limit" not in str(e.value)


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_large_images_come_back_reduced_to_the_budget(tmp_path, monkeypatch, suffix):
    monkeypatch.setattr(images, "REDUCE_ABOVE_PIXELS", 50_000)
    p = tmp_path / f"big{suffix}"
    Image.new("RGB", (800, 600), (200, 30, 30)).save(p)
    im = load_image(p)
    assert im.mode == "RGB"
    assert im.size[0] * im.size[1] <= 50_000
    assert im.size[0] * im.size[1] >= 50_000 / 16  # reduced, not thumbnailed
    assert abs(im.size[0] / im.size[1] - 800 / 600) < 0.05
    assert im.getpixel((im.size[0] // 2, im.size[1] // 2))[0] > 150


def test_small_images_keep_their_size(tmp_path):
    p = tmp_path / "small.png"
    Image.new("RGB", (64, 48)).save(p)
    assert load_image(p).size == (64, 48)


@pytest.fixture
def folder_3_unreadable(monkeypatch):
    """Listing any folder named "3" fails with EACCES (tests run as root, which chmod does not stop)."""
    real_scandir = os.scandir

    def scandir(path="."):
        if os.path.basename(os.fspath(path)) == "3":
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)


def test_an_unreadable_sub_folder_is_reported(tmp_path, folder_3_unreadable):
    for name in ("1", "3"):
        (tmp_path / "photos" / name).mkdir(parents=True)
        Image.new("RGB", (4, 4)).save(tmp_path / "photos" / name / "x.png")
    told = []
    found = list(iter_image_files([tmp_path / "photos"], on_unreadable=lambda p, e: told.append((p, e))))
    assert [p.parent.name for p in found] == ["1"]
    assert [(p.name, type(e)) for p, e in told] == [("3", PermissionError)]


def test_predict_says_which_folder_it_could_not_read(tmp_path, monkeypatch, capsys, folder_3_unreadable):
    from model.cli import main

    (tmp_path / "photos" / "3").mkdir(parents=True)
    Image.new("RGB", (4, 4)).save(tmp_path / "photos" / "3" / "x.png")
    monkeypatch.chdir(tmp_path)
    assert main(["predict", "photos", "--weights", "random"]) == 1  # nothing else to classify
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "photos/3: permission denied, not read"
    assert err[1].startswith("error: No image files found in photos")
