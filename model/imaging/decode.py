"""Turning image files into model-ready tensors, off the inference thread.

``decode_file`` turns one file into a tensor (or a one-sentence error).
``ThreadedDecoder`` runs it on a small thread pool (Pillow and numpy release the
GIL while they work) and hands the results back in input order, a bounded
number ahead of the consumer so memory stays flat; on a GPU decoding overlaps
inference, on a CPU the two take turns. ``Predictor`` only relies on ``decode(paths, cancel, lookahead)``
yielding ``DecodedImage``s in order, so a faster backend (GPU JPEG decode, a
process pool) can replace this class without touching the predictor.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Iterator, Protocol, Sequence

import torch

from model.core.errors import StudioError
from model.imaging.images import load_image
from model.core.ordered_pool import ordered_map
from model.imaging.pixels import use_single_block_images
from model.imaging.transforms import fast_eval_tensor
from model.core.variants import Preprocessing


@dataclass(frozen=True)
class DecodedImage:
    """One input file, preprocessed (``tensor``) or with the reason it could not be (``error``)."""

    path: str
    tensor: torch.Tensor | None
    error: str | None
    seconds: float  # time spent decoding and preprocessing this file


class Decoder(Protocol):
    """What ``Predictor`` needs from an image decoding backend."""

    def decode(
        self, paths: Sequence[str | os.PathLike], cancel: threading.Event | None = None, lookahead: int = 16,
        draft: bool | None = None,
    ) -> Iterator[DecodedImage]: ...


def decode_file(
    path: str | os.PathLike, prep: Preprocessing, draft: bool = False, helper: Executor | None = None
) -> DecodedImage:
    """Decode one file and preprocess it; a bad file becomes an error, never an exception.

    The resize is ``fast_eval_tensor``: torch's vectorised resize on x86, else
    only the region the centre crop keeps, straight to the crop size; pixels
    within two grey levels of torchvision's recipe. ``draft`` also decodes JPEGs
    at a reduced DCT scale (never below the resize target): 1.7× faster for a
    1024×768 photo, but the pixels are blurred a little differently, which can
    reorder a classifier's lower-ranked classes. A ``helper`` thread shares the region resize.
    """
    start = time.perf_counter()
    try:
        draft_size = (prep.resize_size, prep.resize_size) if draft else None
        tensor, error = fast_eval_tensor(load_image(path, draft_size=draft_size), prep, helper), None
    except StudioError as e:
        tensor, error = None, str(e)
    except Exception as e:  # a decoder bug must still only cost this one file
        tensor, error = None, f"{path}: could not be prepared ({type(e).__name__}: {e})"
    return DecodedImage(str(path), tensor, error, time.perf_counter() - start)


class ThreadedDecoder:
    """Decode files on ``workers`` threads, yielding results in input order.

    With ``overlap`` (the default) the pool keeps decoding ahead while the
    consumer works, which pays off when inference runs elsewhere (a GPU). On a
    CPU whose cores the inference runtime already uses, overlapping only makes
    the two fight: a descheduled runtime thread stalls every other one at the
    next barrier. Without ``overlap`` the pool decodes ``lookahead`` files on
    all its threads, then stays idle until the consumer has taken all of them.
    """

    def __init__(self, preprocessing: Preprocessing, workers: int = 1, draft: bool = False, overlap: bool = True) -> None:
        self.preprocessing = preprocessing
        self.workers = max(1, workers)
        self.draft = draft
        self.overlap = overlap
        # So that the vectorised resize reads phone photos (over 16 MB decoded) in place, as it does smaller ones.
        use_single_block_images()
        # A lone image decodes on the caller's thread; this one shares its resize where it is the region resize.
        self._helper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="resize") if self.workers > 1 else None

    def decode(
        self, paths: Sequence[str | os.PathLike], cancel: threading.Event | None = None, lookahead: int = 16,
        draft: bool | None = None,
    ) -> Iterator[DecodedImage]:
        """Yield one ``DecodedImage`` per path, in order; stops early when ``cancel`` is set.

        ``draft`` overrides the decoder's own choice for this call.
        """
        draft = self.draft if draft is None else draft
        if len(paths) == 1 and not (cancel is not None and cancel.is_set()):
            yield decode_file(paths[0], self.preprocessing, draft, self._helper)  # nothing to overlap
            return
        yield from ordered_map(
            functools.partial(decode_file, prep=self.preprocessing, draft=draft),
            paths, self.workers, lookahead, cancel, overlap=self.overlap, name="decode",
        )
