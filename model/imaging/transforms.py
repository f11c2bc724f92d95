"""Eval preprocessing shared by classification, attention, evaluation and export.

``eval_tensor`` reproduces torchvision's ``ImageClassification`` preset (the
``weights.transforms()`` of the ImageNet weights) from a ``Preprocessing``
record, so a bundle made at another image size is preprocessed the same way.
``fast_eval_tensor`` gets (almost) the same pixels much faster: on x86 with
torch's vectorised resize (``model.imaging.vector_resize``), elsewhere by resizing only
the region the centre crop keeps, straight to the crop size
(``region_eval_tensor``, about 60 % of the recipe's cost).
"""

from __future__ import annotations

import math
from concurrent.futures import Executor

import numpy as np
import torch
import torchvision.transforms.functional as TF
from PIL import Image
from torchvision.transforms import InterpolationMode

from model.imaging import vector_resize
from model.core.variants import Preprocessing


# Below this many source rows per half, a second thread costs more than it saves.
MIN_BAND_ROWS = 64
# Half-width of the widest filter torchvision's interpolation modes map to (Lanczos), at scale 1.
_WIDEST_FILTER_SUPPORT = 3.0


def interpolation_mode(name: str) -> InterpolationMode:
    return InterpolationMode(name)


def eval_uint8(image: Image.Image, prep: Preprocessing) -> torch.Tensor:
    """RGB PIL image → uint8 tensor [3, crop, crop]: resize the short side, centre-crop.

    Training caches these and normalises whole batches on the device, which gives
    exactly the numbers ``eval_tensor`` gives (the same float operations, in order).
    """
    img = TF.resize(image, [prep.resize_size], interpolation=interpolation_mode(prep.interpolation), antialias=True)
    img = TF.center_crop(img, [prep.crop_size])
    return TF.pil_to_tensor(img)


def eval_tensor(image: Image.Image, prep: Preprocessing) -> torch.Tensor:
    """RGB PIL image → normalised float tensor [3, crop, crop]: resize short side, centre-crop, normalise."""
    return _normalize(eval_uint8(image, prep), prep)


def kept_region(width: int, height: int, prep: Preprocessing) -> tuple[float, float, float, float] | None:
    """The box of a ``width``×``height`` image that resize-then-centre-crop keeps, in its own pixels.

    Follows torchvision's arithmetic: the short side becomes ``resize_size``, the
    long side ``int(resize_size * long / short)``, and the crop's offset is
    ``round((resized - crop) / 2)``. None when the crop is larger than the
    resized image (torchvision then pads, which a box cannot express).
    """
    new_w, new_h = resized_size(width, height, prep.resize_size)
    offsets = crop_offsets(new_w, new_h, prep.crop_size)
    if offsets is None:
        return None
    left, top = offsets
    crop = prep.crop_size
    sx, sy = width / new_w, height / new_h
    return (left * sx, top * sy, (left + crop) * sx, (top + crop) * sy)


def resized_size(width: int, height: int, resize_size: int) -> tuple[int, int]:
    """(width, height) after torchvision's ``Resize(resize_size)``: the short side becomes ``resize_size``."""
    short, long = min(width, height), max(width, height)
    resized_long = int(resize_size * long / short)
    return (resize_size, resized_long) if width <= height else (resized_long, resize_size)


def crop_offsets(width: int, height: int, crop: int) -> tuple[int, int] | None:
    """(left, top) of torchvision's ``CenterCrop(crop)`` in a ``width``×``height`` image; None if it would pad."""
    if crop > width or crop > height:
        return None
    return int(round((width - crop) / 2.0)), int(round((height - crop) / 2.0))


def fast_eval_tensor(image: Image.Image, prep: Preprocessing, helper: Executor | None = None) -> torch.Tensor:
    """Like ``eval_tensor``, faster: torch's vectorised resize where it runs, else ``region_eval_tensor``.

    The vectorised resize makes the whole resized image and keeps the crop of
    it, on one thread (0.8 ms for a 1024×768 photo, against 1.9 ms for the
    region on two); about 1 value in 1,000 differs from the recipe's by one
    grey level. ``helper`` is only used by the fallback.
    """
    new_w, new_h = resized_size(image.width, image.height, prep.resize_size)
    offsets = crop_offsets(new_w, new_h, prep.crop_size)
    resized = None if offsets is None else vector_resize.resize(image, (new_w, new_h), prep.interpolation)
    if resized is None:
        return region_eval_tensor(image, prep, helper)
    left, top = offsets
    size = prep.crop_size
    out = np.empty((3, size, size), dtype=np.float32)
    _normalize_into(resized[top:top + size, left:left + size, :3], out, prep)
    return torch.from_numpy(out)


def region_eval_tensor(image: Image.Image, prep: Preprocessing, helper: Executor | None = None) -> torch.Tensor:
    """Like ``eval_tensor``, but resizes only the kept region, straight to the crop size.

    Each output pixel samples the same source position with the same filter
    width as the two-step recipe, so pixels match it to within two grey levels
    at about 60 % of the cost of resizing the whole photo. Pillow takes the box
    in float32, which moves the samples by up to ~3e-5 pixels: about 1 pixel in
    1,000 differs with bicubic, up to 2 in 100 with bilinear near a 1:1 scale,
    and none where the box's corners are whole pixels.

    The crop is made as two halves of its rows, each from only the source rows
    it reads. They are independent, so with a ``helper`` thread the top half
    runs there while this thread makes the bottom half (for a lone image); the
    pixels are the same either way.
    """
    box = kept_region(image.width, image.height, prep)
    if box is None or prep.interpolation.startswith("nearest"):  # nearest picks pixels, it has no filter width
        return eval_tensor(image, prep)
    resample = TF.pil_modes_mapping[interpolation_mode(prep.interpolation)]
    size = prep.crop_size
    out = np.empty((3, size, size), dtype=np.float32)
    middle = size // 2
    upper = None
    if helper is not None and image.height >= 2 * MIN_BAND_ROWS:
        upper = helper.submit(_resize_rows, image, box, resample, range(0, middle), out, prep)
    else:
        _resize_rows(image, box, resample, range(0, middle), out, prep)
    _resize_rows(image, box, resample, range(middle, size), out, prep)
    if upper is not None:
        upper.result()
    return torch.from_numpy(out)


def _resize_rows(
    image: Image.Image, box: tuple[float, float, float, float], resample: int, rows: range,
    out: np.ndarray, prep: Preprocessing,
) -> None:
    """Output rows ``rows`` of the kept region ``box`` resized to ``out``'s size, normalised into ``out``."""
    left, top, right, bottom = box
    size = out.shape[-1]
    scale_x, scale_y = (right - left) / size, (bottom - top) / size
    first, end = top + rows.start * scale_y, top + rows.stop * scale_y
    # Only the source pixels these rows' filters reach. Windows clipped by the
    # photo's own edges stay clipped, so every weight is the full resize's.
    x0, x1 = _reach(left, right, scale_x, image.width)
    y0, y1 = _reach(first, end, scale_y, image.height)
    source = image.crop((x0, y0, x1, y1))
    # Two one-axis calls, horizontal first as in Pillow's full resize: given a
    # box on both axes, Pillow may run the vertical pass first, and the 8-bit
    # rounding between the passes then differs by up to ~15 grey levels.
    resized_rows = source.resize((size, y1 - y0), resample, box=(left - x0, 0, right - x0, y1 - y0))
    piece = resized_rows.resize((size, len(rows)), resample, box=(0, first - y0, size, end - y0))
    _normalize_into(piece, out[:, rows.start:rows.stop, :], prep)


def _reach(start: float, end: float, scale: float, limit: int) -> tuple[int, int]:
    """Source pixels read when resampling ``start``..``end`` with a filter scaled by ``scale``."""
    margin = _WIDEST_FILTER_SUPPORT * max(scale, 1.0) + 2  # + rounding of each window's ends
    return max(0, math.floor(start - margin)), min(limit, math.ceil(end + margin))


def _normalize_into(pixels: Image.Image | np.ndarray, out: np.ndarray, prep: Preprocessing) -> None:
    """``_normalize`` of uint8 RGB ``pixels`` [h, w, 3] in numpy, into ``out`` [3, h, w]: the same
    float32 operations in the same order.

    Decode threads run this while the inference runtime wants every core. A
    torch op this size runs on torch's OpenMP team, whose threads then
    busy-wait for more work on the cores the runtime needs (measured: +1.7 ms
    on B0's next ONNX Runtime call, which takes 5 ms).
    """
    out[...] = (np.asarray(pixels, dtype=np.float32) / np.float32(255.0)).transpose(2, 0, 1)
    out -= np.asarray(prep.mean, dtype=np.float32).reshape(3, 1, 1)
    out /= np.asarray(prep.std, dtype=np.float32).reshape(3, 1, 1)


def _normalize(uint8: torch.Tensor, prep: Preprocessing) -> torch.Tensor:
    t = uint8.to(torch.float32).div_(255.0)
    return TF.normalize(t, list(prep.mean), list(prep.std))


def normalize_batch(x: torch.Tensor, prep: Preprocessing, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """uint8 batch [N, 3, H, W] (any device, any memory format) → normalised float batch."""
    mean = torch.tensor(prep.mean, dtype=torch.float32, device=x.device).view(1, -1, 1, 1)
    std = torch.tensor(prep.std, dtype=torch.float32, device=x.device).view(1, -1, 1, 1)
    return x.to(torch.float32).div_(255.0).sub_(mean).div_(std).to(dtype)


def denormalize(t: torch.Tensor, prep: Preprocessing) -> torch.Tensor:
    """Undo the normalisation of ``eval_tensor``: back to [0, 1] RGB for display."""
    mean = torch.tensor(prep.mean, dtype=t.dtype).view(-1, 1, 1)
    std = torch.tensor(prep.std, dtype=t.dtype).view(-1, 1, 1)
    return (t * std + mean).clamp_(0, 1)
