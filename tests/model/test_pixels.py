import gc

import numpy as np
import pytest
from PIL import Image

from model.imaging.pixels import shared_rgbx, use_single_block_images

pytestmark = pytest.mark.skipif(not hasattr(Image.Image, "__arrow_c_array__"), reason="Pillow shares pixels from 11.2")


@pytest.fixture
def block_allocator():
    """Restores Pillow's process-wide allocator choice after a test changes it."""
    before = Image.core.get_use_block_allocator()
    yield
    Image.core.set_use_block_allocator(before)


def _photo(width=64, height=48) -> Image.Image:
    rng = np.random.default_rng(width * height)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8), "RGB")


def test_the_array_is_the_images_own_memory_not_a_copy():
    im = _photo()
    shared = shared_rgbx(im)
    assert shared.shape == (48, 64, 4) and shared.dtype == np.uint8
    assert np.array_equal(shared[..., :3], np.asarray(im))
    im.putpixel((5, 7), (1, 2, 3))  # a change to the image shows through: nothing was copied
    assert tuple(shared[7, 5, :3]) == (1, 2, 3)


def test_the_array_outlives_the_image():
    im = _photo()
    expected = np.asarray(im).copy()
    shared = shared_rgbx(im)
    del im
    gc.collect()
    others = [Image.new("RGB", (64, 48), (9, 9, 9)) for _ in range(20)]  # would reuse freed memory
    assert np.array_equal(shared[..., :3], expected)
    assert len(others) == 20


def test_other_modes_are_not_shared():
    assert shared_rgbx(Image.new("L", (8, 8))) is None
    assert shared_rgbx(Image.new("RGBA", (8, 8))) is None


def test_images_over_one_block_are_shared_only_with_the_single_block_allocator(block_allocator):
    Image.core.set_use_block_allocator(0)
    assert shared_rgbx(Image.new("RGB", (2400, 2000))) is None  # 19 MB: two of Pillow's 16 MB blocks
    use_single_block_images()
    big = Image.new("RGB", (2400, 2000), (4, 5, 6))
    shared = shared_rgbx(big)
    assert shared.shape == (2000, 2400, 4)
    assert tuple(shared[-1, -1, :3]) == (4, 5, 6)
