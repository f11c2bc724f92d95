import os
import threading

import numpy as np
import pytest
import torch
import torchvision.models as tvm
from PIL import Image

from model.imaging import vector_resize
from model.imaging.transforms import denormalize, eval_tensor, fast_eval_tensor, kept_region, region_eval_tensor
from model.core.variants import VARIANTS, Preprocessing


def test_eval_tensor_equals_torchvision_weights_transforms(tmp_path):
    rng = torch.Generator().manual_seed(0)
    arr = (torch.rand(300, 410, 3, generator=rng) * 255).to(torch.uint8).numpy()
    im = Image.fromarray(arr, "RGB")
    for name, weights in [("b0", tvm.EfficientNet_B0_Weights.DEFAULT), ("b1", tvm.EfficientNet_B1_Weights.DEFAULT)]:
        ours = eval_tensor(im, VARIANTS[name].eval_preprocessing)
        ref = weights.transforms()(im)
        assert ours.shape == ref.shape
        assert torch.allclose(ours, ref, atol=1e-5)


def test_denormalize_inverts_normalisation():
    prep = VARIANTS["b0"].eval_preprocessing.at_size(32)
    im = Image.new("RGB", (40, 32), (255, 0, 128))
    back = denormalize(eval_tensor(im, prep), prep)
    assert back.shape == (3, 32, 32)
    assert torch.allclose(back[:, 5, 5], torch.tensor([1.0, 0.0, 128 / 255]), atol=1e-5)


def _noise(size: tuple[int, int]) -> Image.Image:
    rng = np.random.default_rng(sum(size))
    return Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8), "RGB")


def _grey_levels(a: torch.Tensor, b: torch.Tensor, prep) -> torch.Tensor:
    """|a - b| of two normalised tensors, in 8-bit grey levels."""
    return ((a - b) * torch.tensor(prep.std).view(3, 1, 1) * 255).abs()


@pytest.mark.parametrize("size", [(410, 300), (300, 410), (1024, 768), (333, 517), (56, 48), (640, 640)])
@pytest.mark.parametrize("variant", ["b0", "b1", "b3", "b7"])
def test_the_region_resize_keeps_the_recipes_pixels_to_within_two_grey_levels(size, variant):
    # Textured noise: the hardest case for a resampling filter to get the same answer.
    im = _noise(size)
    prep = VARIANTS[variant].eval_preprocessing
    ref, fast = eval_tensor(im, prep), region_eval_tensor(im, prep)
    diff = _grey_levels(ref, fast, prep)
    assert fast.shape == ref.shape == (3, prep.crop_size, prep.crop_size)
    assert diff.max() <= 2.0 + 1e-3
    # Pillow takes the box in float32, which moves each sample by up to ~3e-5
    # pixels and flips a few roundings: almost none with bicubic, but b1's
    # bilinear triangle is steeper near a 1:1 scale (2.2 % of these noise pixels
    # at 410×300, 0.1 % at 1024×768).
    assert (diff > 0.5).float().mean() < (3e-2 if prep.interpolation == "bilinear" else 2e-3)


@pytest.mark.parametrize(("size", "variant"), [((1536, 1024), "b0"), ((696, 510), "b1"), ((640, 640), "b3")])
def test_where_the_box_is_exact_in_float32_the_region_resize_gives_the_recipes_pixels(size, variant):
    # Each of these kept regions has whole-pixel corners (1536×1024 → 384×256,
    # crop from x = 80, y = 16: the box is 320, 64, 1216, 960), so any
    # difference would be a misplaced sample or a clipped filter window.
    im = Image.fromarray(np.random.default_rng(3).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8), "RGB")
    prep = VARIANTS[variant].eval_preprocessing
    assert all(float(c).is_integer() for c in kept_region(*size, prep))
    assert torch.equal(region_eval_tensor(im, prep), eval_tensor(im, prep))


def test_the_kept_region_is_the_centre_crop_of_the_resized_image():
    prep = VARIANTS["b0"].eval_preprocessing  # resize 256, crop 224
    # 1024×768 → 341×256; torchvision crops from x = round(117 / 2) = 58 (58 is even: banker's rounding), y = 16.
    left, top, right, bottom = kept_region(1024, 768, prep)
    sx, sy = 1024 / 341, 768 / 256
    assert (left, top) == pytest.approx((58 * sx, 16 * sy))
    assert (right - left, bottom - top) == pytest.approx((224 * sx, 224 * sy))
    assert kept_region(768, 1024, prep) == pytest.approx((16 * sy, 58 * sx, 240 * sy, 282 * sx))


def test_a_crop_larger_than_the_resized_image_falls_back_to_the_padded_recipe():
    prep = Preprocessing(resize_size=64, crop_size=80, interpolation="bilinear", mean=(0.5,) * 3, std=(0.25,) * 3)
    im = Image.fromarray(np.random.default_rng(1).integers(0, 256, (60, 90, 3), dtype=np.uint8), "RGB")
    assert kept_region(90, 60, prep) is None
    assert torch.equal(fast_eval_tensor(im, prep), eval_tensor(im, prep))
    assert torch.equal(region_eval_tensor(im, prep), eval_tensor(im, prep))


@pytest.mark.parametrize("size", [(1024, 768), (333, 517), (100, 90)])
def test_sharing_the_region_resize_with_a_helper_thread_gives_the_same_pixels(size):
    from concurrent.futures import ThreadPoolExecutor

    im = Image.fromarray(np.random.default_rng(2).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8), "RGB")
    prep = VARIANTS["b0"].eval_preprocessing
    with ThreadPoolExecutor(max_workers=1) as helper:
        assert torch.equal(region_eval_tensor(im, prep, helper), region_eval_tensor(im, prep))


needs_vector_kernel = pytest.mark.skipif(
    not vector_resize.available() or not hasattr(Image.Image, "__arrow_c_array__"),
    reason="torch's vectorised resize is x86 only; Pillow shares its pixels from 11.2",
)


@needs_vector_kernel
@pytest.mark.parametrize("size", [(410, 300), (300, 410), (1024, 768), (333, 517), (56, 48), (640, 640)])
@pytest.mark.parametrize("variant", ["b0", "b1", "b3", "b7"])
def test_the_vectorised_resize_keeps_the_recipes_pixels_to_within_two_grey_levels(size, variant, monkeypatch):
    im = _noise(size)
    prep = VARIANTS[variant].eval_preprocessing
    used = []
    resize = vector_resize.resize
    monkeypatch.setattr(vector_resize, "resize", lambda *a: used.append(resize(*a)) or used[-1])
    ref, fast = eval_tensor(im, prep), fast_eval_tensor(im, prep)
    assert used and used[0] is not None  # the vector kernel made these pixels, not the fallback
    diff = _grey_levels(ref, fast, prep)
    assert fast.shape == ref.shape == (3, prep.crop_size, prep.crop_size)
    assert diff.max() <= 2.0 + 1e-3
    # 16-bit filter weights flip roundings: up to 0.8 % of these noise values
    # (about 0.1 % of a photo's), against 0.2 % for Pillow on the same region.
    assert (diff > 0.5).float().mean() < 1e-2


def test_without_the_vector_kernel_the_fast_path_is_the_region_resize(monkeypatch):
    im, prep = _noise((1024, 768)), VARIANTS["b0"].eval_preprocessing
    monkeypatch.setattr(vector_resize, "available", lambda: False)
    assert torch.equal(fast_eval_tensor(im, prep), region_eval_tensor(im, prep))


@needs_vector_kernel
def test_modes_the_kernel_lacks_take_the_region_resize():
    im = _noise((410, 300))
    prep = Preprocessing(resize_size=256, crop_size=224, interpolation="lanczos", mean=(0.5,) * 3, std=(0.25,) * 3)
    assert vector_resize.resize(im, (341, 256), "lanczos") is None
    assert torch.equal(fast_eval_tensor(im, prep), region_eval_tensor(im, prep))


@needs_vector_kernel
@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads through /proc")
def test_the_vectorised_resize_starts_no_openmp_threads():
    # Decode threads run it while ONNX Runtime wants every core: torch's OpenMP
    # team, once started from a thread, spins after each op (+1.7 ms on B0).
    im, prep = _noise((1024, 768)), VARIANTS["b0"].eval_preprocessing
    counts = []

    def resize_in_a_new_thread():
        before = len(os.listdir("/proc/self/task"))
        fast_eval_tensor(im, prep)
        counts.append(len(os.listdir("/proc/self/task")) - before)

    worker = threading.Thread(target=resize_in_a_new_thread)
    worker.start()
    worker.join()
    assert counts == [0]
