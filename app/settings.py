"""Typed access to what the app remembers between runs (QSettings underneath).

Every key, its type and its default live here, so no other module spells a
settings key. ``VERSION`` is stored with the values: when a future version
changes what a key means, ``_migrate`` converts (or drops) the old values
instead of misreading them.
"""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths

from model.core.variants import VARIANT_NAMES

VERSION = 1
FOLDER_KINDS = ("images", "weights", "export", "bundle", "dataset")


# model.inference.runtime.RUNTIME_CHOICES, spelt out so that settings load without torch.
RUNTIMES = ("auto", "onnxruntime", "openvino", "torch")


class AppSettings:
    """The app's persistent choices: window geometry, last folders, active model, device, page."""

    def __init__(self, qsettings: QSettings | None = None) -> None:
        # QSettings() follows the organisation/application names set in app.main
        # and the default format, which tests point at a temporary folder.
        self._s = qsettings if qsettings is not None else QSettings()
        self._migrate()

    def _migrate(self) -> None:
        stored = self._s.value("version", 0, type=int)
        if stored > VERSION:
            # Written by a newer version whose keys we may misread: start from defaults.
            self._s.clear()
        if stored != VERSION:
            self._s.setValue("version", VERSION)

    @property
    def version(self) -> int:
        return self._s.value("version", 0, type=int)

    def sync(self) -> None:
        self._s.sync()

    # --- window -------------------------------------------------------------
    @property
    def geometry(self) -> QByteArray | None:
        value = self._s.value("window/geometry")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    @geometry.setter
    def geometry(self, value: QByteArray) -> None:
        self._s.setValue("window/geometry", value)

    @property
    def page(self) -> str:
        return self._s.value("window/page", "classify", type=str)

    @page.setter
    def page(self, key: str) -> None:
        self._s.setValue("window/page", key)

    # --- folders --------------------------------------------------------------
    def last_folder(self, kind: str) -> str:
        """The folder last used for ``kind`` (see FOLDER_KINDS), or the home folder when none is remembered or
        it is gone: a file dialog given "" opens in the process's working folder, which means nothing to a user
        who double-clicked the app."""
        if kind not in FOLDER_KINDS:
            raise KeyError(kind)
        folder = self._s.value(f"folders/{kind}", "", type=str)
        return folder if folder and Path(folder).is_dir() else str(Path.home())

    def set_last_folder(self, kind: str, folder: str) -> None:
        if kind not in FOLDER_KINDS:
            raise KeyError(kind)
        self._s.setValue(f"folders/{kind}", str(folder))

    # --- the active classifier ------------------------------------------------
    @property
    def variant(self) -> str:
        value = self._s.value("model/variant", "b0", type=str).lower()
        return value if value in VARIANT_NAMES else "b0"

    @variant.setter
    def variant(self, name: str) -> None:
        self._s.setValue("model/variant", name)

    @property
    def weights(self) -> str:
        """"imagenet", "random" or the path of a weights file."""
        return self._s.value("model/weights", "imagenet", type=str) or "imagenet"

    @weights.setter
    def weights(self, value: str) -> None:
        self._s.setValue("model/weights", str(value))

    @property
    def bundle(self) -> str:
        """Path of the fine-tuned bundle in use; "" when an ImageNet-style model is active."""
        return self._s.value("model/bundle", "", type=str)

    @bundle.setter
    def bundle(self, path: str) -> None:
        self._s.setValue("model/bundle", str(path or ""))

    @property
    def device(self) -> str:
        return self._s.value("model/device", "auto", type=str) or "auto"

    @device.setter
    def device(self, value: str) -> None:
        self._s.setValue("model/device", value)

    @property
    def runtime(self) -> str:
        """The inference runtime: "auto" (the fastest measured here) or one of RUNTIMES."""
        value = self._s.value("model/runtime", "auto", type=str) or "auto"
        return value if value in RUNTIMES else "auto"  # a value from another version falls back

    @runtime.setter
    def runtime(self, value: str) -> None:
        self._s.setValue("model/runtime", value if value in RUNTIMES else "auto")

    # --- the Classify page -------------------------------------------------------------
    @property
    def fast_decode(self) -> bool:
        """Decode JPEGs at a reduced scale when classifying (faster; lower-ranked labels may move)."""
        return self._s.value("classify/fast_decode", False, type=bool)

    @fast_decode.setter
    def fast_decode(self, value: bool) -> None:
        self._s.setValue("classify/fast_decode", bool(value))

    # --- the Train page ----------------------------------------------------------------
    @property
    def runs_folder(self) -> str:
        """Where training runs are kept: ``runs`` in the user's data folder unless set."""
        value = self._s.value("train/runs_folder", "", type=str)
        if value:
            return value
        data = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
        return str(Path(data) / "runs")

    @runs_folder.setter
    def runs_folder(self, folder: str) -> None:
        self._s.setValue("train/runs_folder", str(folder or ""))

    @property
    def train_form(self) -> dict:
        """The Train page's last choices (the form validates each value when it reads them)."""
        try:
            value = json.loads(self._s.value("train/form", "{}", type=str) or "{}")
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    @train_form.setter
    def train_form(self, choices: dict) -> None:
        self._s.setValue("train/form", json.dumps(choices))

    # --- the Models page ----------------------------------------------------------
    @property
    def models_selected(self) -> str:
        value = self._s.value("models/selected", "b0", type=str)
        return value if value in VARIANT_NAMES else "b0"

    @models_selected.setter
    def models_selected(self, name: str) -> None:
        self._s.setValue("models/selected", name)

    def speed_measurements(self, device: str) -> list[dict]:
        """The Models page's last measurements on ``device`` ("cpu", "cuda:0", …), as stored dicts."""
        try:
            stored = json.loads(self._s.value("models/speed", "{}", type=str) or "{}")
        except ValueError:
            return []
        rows = stored.get(device, {}) if isinstance(stored, dict) else {}
        return [r for r in rows.values() if isinstance(r, dict)] if isinstance(rows, dict) else []

    def remember_speed(self, device: str, variant: str, measurement: dict) -> None:
        """Keep one variant's measurement on ``device``: a restart shows it again, another device does not."""
        try:
            stored = json.loads(self._s.value("models/speed", "{}", type=str) or "{}")
        except ValueError:
            stored = {}
        stored = stored if isinstance(stored, dict) else {}
        stored.setdefault(device, {})[variant] = measurement
        self._s.setValue("models/speed", json.dumps(stored))

    # --- the Attention page ---------------------------------------------------------
    @property
    def attention_change(self) -> bool:
        """Whether the Attention page shows "what SE changed" instead of the plain SE map."""
        return self._s.value("attention/show_change", False, type=bool)

    @attention_change.setter
    def attention_change(self, on: bool) -> None:
        self._s.setValue("attention/show_change", bool(on))
