"""The safe decoder: every odd mode becomes upright RGB, every bad file one clear ImageError."""

import numpy as np
import pytest
from PIL import Image

from model.core.errors import ImageError
from model.imaging.images import iter_image_files, load_image


def _save(im, path, **kw):
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path, **kw)
    return path


@pytest.mark.parametrize("ext", [".jpg", ".png", ".webp", ".bmp", ".gif", ".tif"])
def test_every_format_decodes_to_rgb(tmp_path, ext):
    p = _save(Image.new("RGB", (20, 10), (10, 200, 30)), tmp_path / f"im{ext}")
    im = load_image(p)
    assert im.mode == "RGB" and im.size == (20, 10)


def test_cmyk_jpeg(tmp_path):
    p = _save(Image.new("CMYK", (8, 8), (0, 255, 255, 0)), tmp_path / "cmyk.jpg")
    r, g, b = load_image(p).getpixel((4, 4))
    assert r > 200 and g < 60 and b < 60  # pure red in CMYK


def test_16_bit_greyscale_keeps_its_range(tmp_path):
    arr = np.full((6, 6), 65535 // 2, dtype=np.uint16)
    p = _save(Image.fromarray(arr), tmp_path / "grey16.png")
    assert Image.open(p).mode.startswith("I")
    r, g, b = load_image(p).getpixel((0, 0))
    assert r == g == b and 120 <= r <= 135


def test_palette_with_transparency_is_composited_over_white(tmp_path):
    im = Image.new("P", (4, 4), 0)
    im.putpalette([0, 0, 0] * 256)
    im.info["transparency"] = 0
    p = _save(im, tmp_path / "p.png", transparency=0)
    assert load_image(p).getpixel((1, 1)) == (255, 255, 255)


def test_rgba_over_white(tmp_path):
    p = _save(Image.new("RGBA", (4, 4), (255, 0, 0, 0)), tmp_path / "clear.png")
    assert load_image(p).getpixel((0, 0)) == (255, 255, 255)
    p = _save(Image.new("RGBA", (4, 4), (255, 0, 0, 255)), tmp_path / "opaque.png")
    assert load_image(p).getpixel((0, 0)) == (255, 0, 0)


def test_greyscale_and_la(tmp_path):
    assert load_image(_save(Image.new("L", (4, 4), 77), tmp_path / "l.png")).getpixel((0, 0)) == (77, 77, 77)
    assert load_image(_save(Image.new("LA", (4, 4), (77, 255)), tmp_path / "la.png")).mode == "RGB"


def test_first_frame_of_animated_gif(tmp_path):
    frames = [Image.new("RGB", (6, 6), c) for c in [(255, 0, 0), (0, 0, 255)]]
    p = tmp_path / "anim.gif"
    frames[0].save(p, save_all=True, append_images=frames[1:], duration=50, loop=0)
    r, g, b = load_image(p).getpixel((3, 3))
    assert r > 200 and b < 50


def test_exif_orientation_is_applied(tmp_path):
    im = Image.new("RGB", (30, 10), (0, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    p = _save(im, tmp_path / "rot.jpg", exif=exif.tobytes())
    assert load_image(p).size == (10, 30)


def test_unicode_file_name(tmp_path):
    p = _save(Image.new("RGB", (5, 5)), tmp_path / "фото 猫 ☕.png")
    assert load_image(p).size == (5, 5)


@pytest.mark.parametrize(
    "content, reason",
    [(b"", "file is empty"), (b"this is text, not pixels", "not an image")],
)
def test_bad_files_give_one_clear_reason(tmp_path, content, reason):
    p = tmp_path / "bad.jpg"
    p.write_bytes(content)
    with pytest.raises(ImageError, match=reason) as info:
        load_image(p)
    assert info.value.path == str(p)


def test_truncated_file(tmp_path):
    p = _save(Image.new("RGB", (64, 64), (1, 2, 3)), tmp_path / "t.png")
    p.write_bytes(p.read_bytes()[:60])
    with pytest.raises(ImageError):
        load_image(p)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ImageError, match="not found"):
        load_image(tmp_path / "nope.png")
    with pytest.raises(ImageError, match="folder"):
        load_image(tmp_path)


def test_pixel_limit_names_the_size(tmp_path):
    p = _save(Image.new("L", (400, 300)), tmp_path / "big.png")
    with pytest.raises(ImageError, match="image is 400×300 = 0.12 MP; the limit is 0.1 MP"):
        load_image(p, max_pixels=100_000)


def test_jpeg_draft_decodes_smaller_but_not_below_target(tmp_path):
    p = _save(Image.new("RGB", (1024, 768), (9, 9, 9)), tmp_path / "photo.jpg")
    im = load_image(p, draft_size=(256, 256))
    assert 256 <= min(im.size) < 768


def test_iter_image_files_walks_folders_skips_hidden_and_survives_loops(tmp_path):
    _save(Image.new("RGB", (2, 2)), tmp_path / "a" / "x.png")
    _save(Image.new("RGB", (2, 2)), tmp_path / "a" / "b" / "y.jpg")
    _save(Image.new("RGB", (2, 2)), tmp_path / "a" / ".hidden.png")
    (tmp_path / "a" / "notes.txt").write_text("hi")
    (tmp_path / "a" / "b" / "loop").symlink_to(tmp_path / "a", target_is_directory=True)
    found = sorted(p.name for p in iter_image_files([tmp_path / "a"]))
    assert found == ["x.png", "y.jpg"]
