"""User-facing errors of the backend.

Every error a user can cause (a bad file, no weights offline, a folder with one
class, an unavailable device) is a ``StudioError`` whose message is one clear
sentence saying what happened and what to do next. The CLI prints it without a
traceback and the GUI shows it inline.
"""

from __future__ import annotations


class StudioError(Exception):
    """Base class for errors whose message is meant for the user."""


class ImageError(StudioError):
    """A file could not be used as an image; ``path`` names the file and ``reason`` says why."""

    def __init__(self, path: object, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class DeviceError(StudioError):
    """The requested compute device is not available on this machine."""


class WeightsError(StudioError):
    """Weights could not be found, downloaded, verified or loaded."""


class WeightsOfflineError(WeightsError):
    """ImageNet weights are not on disk and the network cannot be reached."""


class DownloadCancelled(WeightsError):
    """The user cancelled a download; nothing was left in the cache."""


class DatasetError(StudioError):
    """A dataset folder cannot be used for training or evaluation."""


class BundleError(StudioError):
    """A model bundle file is missing, damaged or not a bundle."""
