"""Getting weights for a variant: torchvision's ImageNet weights or a user's file.

ImageNet weights live in torch's hub cache (``$TORCH_HOME/hub/checkpoints``)
under the exact file name the installed torchvision uses, so torchvision, timm
users and this app share one copy. When the file is missing it is downloaded
with a progress callback and a cancel flag into ``<name>.partial``, checked
against the SHA-256 prefix embedded in the file name (torchvision's
``-7f5810bc.pth`` convention, as ``torch.hub`` checks it) and renamed into
place atomically. A user's file is read with ``weights_only=True`` and checked
key by key against the chosen variant; a file made for another variant is named.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import re
import socket
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import urlparse

import torch

from model.core.atomic import atomic_path
from model.nets.bundle import bundle_from_dict, is_bundle_dict, read_torch_file
from model.core.errors import DownloadCancelled, StudioError, WeightsError, WeightsOfflineError
from model.core.variants import Preprocessing, Variant, get_variant
from model.nets.weights_check import check_state_dict, head_shape

ProgressCallback = Callable[[int, "int | None"], None]

# Same pattern as torch.hub: the hex digits between the last "-" and the extension.
HASH_REGEX = re.compile(r"-([a-f0-9]+)\.")
CHUNK_BYTES = 256 * 1024
TIMEOUT_SECONDS = 30

# What to do without ImageNet weights, in the words of each place the user can be (StudioError.advice).
_WHAT_TO_DO = {
    "cli": "import a weights file with --weights FILE (copied from a machine that is online), "
           "or train from random weights (--weights random)",
    "app": "import a weights file (Import weights file… on the Models page), or choose random weights",
}
_OPEN_AS_MODEL = {
    "cli": "use it as a model with --model FILE instead",
    "app": "open it with File ▸ Open fine-tuned model… instead",
}


def _variant(variant: str | Variant) -> Variant:
    return variant if isinstance(variant, Variant) else get_variant(variant)


def imagenet_weights_enum(variant: str | Variant):
    """torchvision's default ImageNet-1k weights entry for ``variant`` (its URL, categories, transforms)."""
    import torchvision.models as tvm

    return getattr(tvm, f"EfficientNet_{_variant(variant).name.upper()}_Weights").DEFAULT


def imagenet_url(variant: str | Variant) -> str:
    """The download address of torchvision's default ImageNet weights for ``variant``."""
    return imagenet_weights_enum(variant).url


def imagenet_file_name(variant: str | Variant) -> str:
    """The file name torchvision expects in the hub cache, e.g. ``efficientnet_b0_rwightman-7f5810bc.pth``."""
    return os.path.basename(urlparse(imagenet_url(variant)).path)


def imagenet_cache_path(variant: str | Variant) -> Path:
    """Where torchvision looks for (and this app stores) the ImageNet weights of ``variant``."""
    return Path(torch.hub.get_dir()) / "checkpoints" / imagenet_file_name(variant)


def is_imagenet_cached(variant: str | Variant) -> bool:
    return imagenet_cache_path(variant).is_file()


def hash_prefix_of(file_name: str) -> str | None:
    """The SHA-256 prefix a torchvision-style file name promises, or None when it has none."""
    m = HASH_REGEX.search(file_name)
    return m.group(1) if m else None


def download_imagenet(
    variant: str | Variant,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    url: str | None = None,
) -> Path:
    """Make sure the ImageNet weights of ``variant`` are in the cache; return their path.

    Downloads from ``url`` (torchvision's address by default) when the file is
    not there yet. ``progress(bytes_done, bytes_total_or_None)`` is called as
    data arrives; setting ``cancel`` stops the download. The SHA-256 prefix in
    the downloaded file's name is checked before the file is renamed into the
    cache, so on a mismatch, a cancel or any failure nothing is left behind.
    """
    v = _variant(variant)
    dest = imagenet_cache_path(v)
    if dest.is_file():
        return dest
    url = url or imagenet_url(v)
    expected = hash_prefix_of(os.path.basename(urlparse(url).path)) or hash_prefix_of(dest.name)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise WeightsError(f"Cannot create the weights cache folder {dest.parent} ({e.strerror or e}).") from None
    try:
        # Cancelled, corrupt or failed: the temporary file goes, and no half file is left in the cache.
        with atomic_path(dest) as partial:
            digest = _fetch(url, partial, v, progress, cancel)
            if expected and not digest.startswith(expected):
                raise WeightsError(
                    f"The downloaded weights for {v.title} are corrupt (SHA-256 {digest[:8]}… does not match "
                    f"{expected}) and were discarded; try again, or {{advice}}.", _WHAT_TO_DO
                )
    except OSError as e:  # the cache folder refused the temporary file or the rename
        raise WeightsError(f"Cannot write to the weights cache {dest.parent} ({e.strerror or e}).") from None
    return dest


def _fetch(
    url: str,
    partial: Path,
    v: Variant,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> str:
    """Stream ``url`` into ``partial`` (fsynced); return the SHA-256 hex digest."""

    def offline(reason: object) -> WeightsOfflineError:
        return WeightsOfflineError(f"Cannot download the ImageNet weights for {v.title} ({reason}): {{advice}}.",
                                   _WHAT_TO_DO)

    def check_cancel() -> None:
        if cancel is not None and cancel.is_set():
            raise DownloadCancelled(f"Download of the {v.title} weights was cancelled; nothing was saved.")

    check_cancel()
    sha = hashlib.sha256()
    request = urllib.request.Request(url, headers={"User-Agent": "efficientnet-studio"})
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS)
    except urllib.error.HTTPError as e:
        raise WeightsError(f"The server refused the {v.title} weights (HTTP {e.code}): {{advice}}.", _WHAT_TO_DO) from None
    except urllib.error.URLError as e:
        raise offline(f"network unreachable: {getattr(e.reason, 'strerror', None) or e.reason}") from None
    except (OSError, http.client.HTTPException) as e:  # timeouts, resets, bad status lines
        raise offline(f"network error: {e}") from None
    with response, _closed_on_cancel(response, cancel):
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        done = 0
        if progress:
            progress(0, total)
        try:
            out = open(partial, "wb")
        except OSError as e:
            raise WeightsError(f"Cannot write to the weights cache {partial.parent} ({e.strerror or e}).") from None
        with out:
            while True:
                check_cancel()
                try:
                    chunk = response.read(CHUNK_BYTES)
                except (OSError, http.client.HTTPException, ValueError) as e:
                    check_cancel()  # the cancel watcher shut the connection: a cancel, not a broken network
                    raise offline(f"the connection broke after {done} bytes: {e or type(e).__name__}") from None
                if not chunk:
                    check_cancel()  # a connection shut by the cancel watcher also reads as the end
                    break
                try:
                    out.write(chunk)
                except OSError as e:
                    raise WeightsError(f"Cannot write the weights to {partial.parent} ({e.strerror or e}).") from None
                sha.update(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total)
            out.flush()
            os.fsync(out.fileno())
    if total is not None and done != total:
        raise offline(f"the connection broke after {done} of {total} bytes")
    return sha.hexdigest()


@contextlib.contextmanager
def _closed_on_cancel(response, cancel: threading.Event | None, poll_seconds: float = 0.1):
    """While the body streams, shut the connection down as soon as ``cancel`` is set.

    A stalled server leaves ``response.read`` blocked for up to ``TIMEOUT_SECONDS``; shutting the
    socket from this watcher thread makes that read return at once, so Cancel takes effect in
    a fraction of a second instead of half a minute."""
    if cancel is None:
        yield
        return
    done = threading.Event()

    def watch() -> None:
        while not done.wait(poll_seconds):
            if cancel.is_set():
                try:
                    # A duplicate of the connection's descriptor: shutting it down shuts the connection.
                    with socket.socket(fileno=os.dup(response.fileno())) as sock:
                        sock.shutdown(socket.SHUT_RDWR)
                except (OSError, ValueError):
                    pass  # already closed: the read has ended anyway
                return

    watcher = threading.Thread(target=watch, name="download-cancel", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()


# --- loading ---------------------------------------------------------------


@dataclass
class WeightsFile:
    """A state dict checked against a variant, plus what a bundle adds to it."""

    path: Path
    state_dict: dict[str, torch.Tensor]
    num_classes: int
    class_names: list[str] | None = None  # only bundles know their class names
    preprocessing: Preprocessing | None = None  # only bundles carry their own
    is_bundle: bool = False


def _unwrap(obj: object, path: Path, v: Variant) -> WeightsFile:
    """Find the state dict in what ``torch.load`` returned (plain, wrapped or a bundle)."""
    if is_bundle_dict(obj):
        bundle = bundle_from_dict(obj, str(path))
        if bundle.variant != v.name:
            b = get_variant(bundle.variant)
            raise WeightsError(f"{path}: this model bundle is an {b.title}, not an {v.title}; choose variant {b.name} or open it as a model.")
        return WeightsFile(path, bundle.state_dict, bundle.num_classes, bundle.class_names, bundle.preprocessing, True)
    state = obj
    if isinstance(obj, dict):
        for key in ("state_dict", "model", "model_state_dict"):
            if isinstance(obj.get(key), dict):
                state = obj[key]
                break
    if not isinstance(state, dict) or not state or not all(isinstance(t, torch.Tensor) for t in state.values()):
        raise WeightsError(f"{path}: not a weights file (expected a PyTorch state dict of an EfficientNet).")
    state = {str(k): t for k, t in state.items()}
    # Saved from DataParallel / a wrapper module: every key carries the same prefix.
    for prefix in ("module.", "model."):
        if all(k.startswith(prefix) for k in state):
            state = {k[len(prefix):]: t for k, t in state.items()}
    return WeightsFile(path, state, 0)


def load_weights_file(path: str | os.PathLike, variant: str | Variant) -> WeightsFile:
    """Read a user's ``.pth``/``.pt`` state dict or bundle and check it fits ``variant``.

    Refuses pickles that would run code (``weights_only=True``). Any number of
    output classes is accepted; everything else must match the variant exactly,
    and when it does not, the error names the variant the file seems made for.
    """
    v = _variant(variant)
    p = Path(path)
    try:
        obj = read_torch_file(p, "weights file", v.name)
    except StudioError as e:
        raise WeightsError(str(e)) from None
    wf = _unwrap(obj, p, v)
    check_state_dict(wf.state_dict, v, source=str(p))
    wf.num_classes = head_shape(wf.state_dict)[0]
    # fp16/bf16 files: the network computes in float32.
    wf.state_dict = {k: (t.float() if t.is_floating_point() else t) for k, t in wf.state_dict.items()}
    return wf


def load_imagenet_weights(
    variant: str | Variant,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> WeightsFile:
    """The ImageNet weights of ``variant`` from the cache, downloading them first when needed."""
    v = _variant(variant)
    path = download_imagenet(v, progress=progress, cancel=cancel)
    try:
        wf = load_weights_file(path, v)
    except WeightsError as e:
        raise WeightsError(f"The cached ImageNet weights are unusable ({str(e).rstrip('.')}); delete {path} to download them again.") from None
    if wf.num_classes != 1000:
        raise WeightsError(f"The cached ImageNet weights {path} have {wf.num_classes} classes, not 1000; delete the file to download it again.")
    return wf


def import_weights_file(path: str | os.PathLike, variant: str | Variant) -> Path:
    """Check a user's ImageNet weights file and store it in the cache as ``variant``'s weights.

    Afterwards the variant counts as "weights on disk" here and for torchvision.
    The file must have the 1000-class ImageNet head; a fine-tuned model is
    opened as a model instead. The cache gets a plain state dict, written atomically.
    """
    from model.nets.bundle import atomic_torch_save

    v = _variant(variant)
    wf = load_weights_file(path, v)
    if wf.is_bundle:
        raise WeightsError(f"{path}: is a fine-tuned model bundle, not ImageNet weights; {{advice}}.", _OPEN_AS_MODEL)
    if wf.num_classes != 1000:
        raise WeightsError(
            f"{path}: has {wf.num_classes} classes, not ImageNet's 1000, so it cannot stand in for the ImageNet "
            "weights; {advice}.",
            {"cli": "use it with --weights FILE instead",
             "app": "choose weights made for ImageNet's 1000 classes, or open a fine-tuned model with File ▸ Open "
                    "fine-tuned model…"},
        )
    dest = imagenet_cache_path(v)
    try:
        return atomic_torch_save(wf.state_dict, dest)
    except OSError as e:
        raise WeightsError(f"Cannot write to the weights cache {dest.parent} ({e.strerror or e}).") from None
