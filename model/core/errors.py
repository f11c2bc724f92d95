"""User-facing errors of the backend.

Every error a user can cause (a bad file, no weights offline, a folder with one
class, an unavailable device) is a ``StudioError`` whose message is one clear
sentence saying what happened and what to do next. The CLI prints it without a
traceback and the GUI shows it inline.
"""

from __future__ import annotations


class StudioError(Exception):
    """Base class for errors whose message is meant for the user.

    What to do next depends on where the user is: a flag on the command line, a
    button in the app. Such a message holds ``{advice}`` and ``advice`` maps each
    place ("cli", "app") to its words; ``str(e)`` is the command line's version.
    """

    def __init__(self, message: object = "", advice: dict[str, str] | None = None) -> None:
        self.advice = dict(advice or {})
        super().__init__(message)

    def for_place(self, place: str) -> str:
        """The message with the advice for ``place`` ("cli" or "app")."""
        text = super().__str__()
        if "{advice}" not in text:
            return text
        return text.replace("{advice}", self.advice.get(place) or self.advice.get("cli", ""))

    def __str__(self) -> str:
        return self.for_place("cli")


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
