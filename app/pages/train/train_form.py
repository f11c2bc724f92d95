"""The Train page's settings: the choices most runs need, and an Advanced section for the rest.

``TrainChoices`` is what the form holds, in plain values ("0" means automatic
where the engine has a good default); ``to_config`` turns it into the engine's
``TrainConfig`` (from the torch-free ``model.core``, so the UI thread builds it). The form knows which ImageNet weights
are on disk: without them it trains from random weights and says so plainly.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Callable

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.pages.train.collapsible import Collapsible
from model.core.train_config import TrainConfig
from model.core.variants import VARIANTS

MODES = {
    "auto": ("Auto", "Head only when the backbone starts pretrained (its features are already useful), "
             "the full network when it starts from random weights (every layer has to learn)."),
    "head": ("Head only (fast)", "Only a new classifier trains, on features of the frozen backbone computed once. "
             "Augmentation is off in this mode (the features are of the plain images)."),
    "full": ("Full network", "Every layer trains, with the augmentation below. "
             "Slower, and better when your images differ from everyday photos."),
}
AUGMENTS = {
    "none": "None",
    "light": "Light (default)",
    "standard": "Standard",
    "strong": "Strong",
}
FLIP_NOTE = ("Mirror images at random while training. Good for photos of things that look the same mirrored; "
             "wrong for digits, text, or anything with a left and a right.")
WEIGHTS = {"imagenet": "ImageNet (pretrained)", "random": "Random (from scratch)"}
CPU_SIZE_HINT = 128  # pixels suggested for training on a CPU


@dataclass
class TrainChoices:
    """The form's values. 0 (or -1 for warm-up) means "let the engine choose"."""

    variant: str = "b0"
    mode: str = "auto"
    epochs: int = 10
    batch_size: int = 0
    lr: float = 0.0
    image_size: int = 0
    val_split: int = 20  # percent
    weights: str = "imagenet"
    seed: int = 0
    patience: int = 0  # 0: no early stopping
    warmup_epochs: int = -1
    val_dir: str = ""
    device: str = "auto"
    augment: str = "light"
    flip: bool = False

    @classmethod
    def from_dict(cls, d: dict) -> "TrainChoices":
        """Remembered choices; values of the wrong type or out of range fall back to the defaults."""
        out = cls()
        for f in fields(cls):
            value = d.get(f.name, getattr(out, f.name))
            if isinstance(value, type(getattr(out, f.name))) or (f.type == "float" and isinstance(value, int)):
                setattr(out, f.name, value)
        if out.variant not in VARIANTS:
            out.variant = "b0"
        if out.mode not in MODES:
            out.mode = "auto"
        if out.augment not in AUGMENTS:
            out.augment = "light"
        if out.weights not in WEIGHTS:
            out.weights = "imagenet"
        return out

    def to_dict(self) -> dict:
        return asdict(self)

    def to_config(self, data_dir: str, out_dir: str = "") -> TrainConfig:
        """The engine's settings for a run on ``data_dir``; without ``out_dir`` the TrainWorker makes a new run folder."""
        return TrainConfig(
            data_dir=data_dir, out_dir=out_dir, variant=self.variant, mode=self.mode, epochs=self.epochs, weights=self.weights,
            batch_size=self.batch_size or None, lr=self.lr or None, image_size=self.image_size or None,
            val_split=self.val_split / 100.0, seed=self.seed, patience=self.patience or None,
            warmup_epochs=None if self.warmup_epochs < 0 else self.warmup_epochs,
            val_dir=self.val_dir or None, device=self.device, augment=self.augment, flip=self.flip,
        )


def _note() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setEnabled(False)  # the theme's dimmed text: an explanation, not a control
    return label


class TrainForm(QWidget):
    """Variant, mode, epochs, batch size, learning rate, image size, validation split; Advanced below."""

    changed = Signal()
    find_lr_requested = Signal()
    augmentation_changed = Signal()  # preset, flip or image size: the sample strip is out of date

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.weights_cached: Callable[[str], bool] = lambda variant: False
        self._has_val_folder = False
        self.backend_device = ""  # the device "auto" resolves to, once the backend knows

        self.variant = QComboBox()
        for v in VARIANTS.values():
            self.variant.addItem(f"{v.title} ({v.resolution} px)", v.name)
        self.variant.setToolTip("Bigger variants are more accurate and much slower to train")
        self.mode = QComboBox()
        for key, (text, tip) in MODES.items():
            self.mode.addItem(text, key)
            self.mode.setItemData(self.mode.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.mode_note = _note()
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 1000)
        self.epochs.setToolTip("Passes over the training images")
        self.batch_size = QSpinBox()
        self.batch_size.setRange(0, 1024)
        self.batch_size.setSpecialValueText("Auto")
        self.batch_size.setToolTip("Images per step; Auto sizes it for the device (halved if memory runs out)")
        self.lr = QDoubleSpinBox()
        self.lr.setDecimals(6)
        self.lr.setRange(0.0, 1.0)
        self.lr.setSingleStep(0.0005)
        self.lr.setSpecialValueText("Auto")
        self.lr.setToolTip("Peak learning rate. Auto: 0.003 in head mode, 0.001 for a pretrained full network")
        self.find_lr_button = QPushButton("Find learning rate…")
        self.find_lr_button.setToolTip("A short sweep on your data with these settings; it suggests a rate you can accept")
        self.find_lr_button.clicked.connect(self.find_lr_requested)
        lr_row = QHBoxLayout()
        lr_row.setContentsMargins(0, 0, 0, 0)
        lr_row.addWidget(self.lr, 1)
        lr_row.addWidget(self.find_lr_button)
        self.augment = QComboBox()
        for key, text in AUGMENTS.items():
            self.augment.addItem(text, key)
        from model.training.augment import PRESET_HELP  # torch-free: the presets' descriptions

        for i, key in enumerate(AUGMENTS):
            self.augment.setItemData(i, PRESET_HELP[key].capitalize(), Qt.ItemDataRole.ToolTipRole)
        self.augment_note = _note()
        self.flip = QCheckBox("Flip images horizontally")
        self.flip.setToolTip(FLIP_NOTE)
        self.flip_note = _note()
        self.flip_note.setText(FLIP_NOTE)
        self.image_size = QSpinBox()
        self.image_size.setRange(0, 1024)
        self.image_size.setSingleStep(16)
        self.image_size.setSuffix(" px")
        self.image_size.setToolTip("Training and evaluation resolution; Native is the variant's own")
        self.size_note = _note()
        self.val_split = QSpinBox()
        self.val_split.setRange(0, 50)
        self.val_split.setSuffix(" %")
        self.val_split.setToolTip("Share of each class held out to validate (unless the folder has a val/ part)")
        self.weights_note = QLabel()
        self.weights_note.setWordWrap(True)
        self.weights_note.hide()

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Variant:", self.variant)
        form.addRow("Mode:", self.mode)
        form.addRow("", self.mode_note)
        form.addRow("Epochs:", self.epochs)
        form.addRow("Batch size:", self.batch_size)
        form.addRow("Learning rate:", lr_row)
        form.addRow("Augmentation:", self.augment)
        form.addRow("", self.augment_note)
        form.addRow("", self.flip)
        form.addRow("", self.flip_note)
        form.addRow("Image size:", self.image_size)
        form.addRow("", self.size_note)
        form.addRow("Validation split:", self.val_split)

        self.weights = QComboBox()
        for key, text in WEIGHTS.items():
            self.weights.addItem(text, key)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("Fixes the split, the initial head and the shuffling: the same seed repeats a run")
        self.patience = QSpinBox()
        self.patience.setRange(0, 1000)
        self.patience.setSpecialValueText("Off")
        self.patience.setSuffix(" epochs")
        self.patience.setToolTip("Stop early after this many epochs without a better validation accuracy")
        self.warmup = QSpinBox()
        self.warmup.setRange(-1, 1000)
        self.warmup.setSpecialValueText("Auto")
        self.warmup.setToolTip("Full mode: epochs with the backbone frozen first (Auto: 1 when pretrained)")
        self.val_dir = QLineEdit()
        self.val_dir.setPlaceholderText("none: split the dataset")
        self.val_dir.setClearButtonEnabled(True)
        self.val_dir.setToolTip("A separate folder with the same class sub-folders, used to validate")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._choose_val_dir)
        val_row = QHBoxLayout()
        val_row.setContentsMargins(0, 0, 0, 0)
        val_row.addWidget(self.val_dir, 1)
        val_row.addWidget(browse)
        self.device = QComboBox()
        self.device.addItem("Auto (best available)", "auto")
        self.device.setToolTip("Where to train: CUDA first, then Apple MPS, then the CPU")
        advanced = QWidget()
        advanced_form = QFormLayout(advanced)
        advanced_form.setContentsMargins(0, 0, 0, 0)
        advanced_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        advanced_form.addRow("Start from:", self.weights)
        advanced_form.addRow("Seed:", self.seed)
        advanced_form.addRow("Early stopping:", self.patience)
        advanced_form.addRow("Warm-up:", self.warmup)
        advanced_form.addRow("Validation folder:", val_row)
        advanced_form.addRow("Device:", self.device)
        self.advanced = Collapsible("Advanced", advanced)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(self.weights_note)
        layout.addWidget(self.advanced)

        self.set_choices(TrainChoices())
        self.variant.currentIndexChanged.connect(self._on_variant_changed)
        self.mode.currentIndexChanged.connect(self._update_notes)
        self.weights.currentIndexChanged.connect(self._on_weights_changed)
        self.device.currentIndexChanged.connect(self._update_notes)
        self.image_size.valueChanged.connect(self._update_notes)  # the hint compares with the size chosen
        self.val_dir.textChanged.connect(self._update_val_split)
        for w in (self.variant, self.mode, self.weights, self.device, self.augment):
            w.currentIndexChanged.connect(self.changed)
        self.augment.currentIndexChanged.connect(self._update_notes)
        self.flip.toggled.connect(self.changed)
        for signal in (self.augment.currentIndexChanged, self.flip.toggled, self.image_size.valueChanged,
                       self.variant.currentIndexChanged, self.mode.currentIndexChanged):
            signal.connect(self.augmentation_changed)
        for w in (self.epochs, self.batch_size, self.image_size, self.val_split, self.seed, self.patience, self.warmup):
            w.valueChanged.connect(self.changed)
        self.lr.valueChanged.connect(self.changed)
        self.val_dir.textChanged.connect(self.changed)

    # --- values ----------------------------------------------------------------------------------
    def choices(self) -> TrainChoices:
        return TrainChoices(
            variant=self.variant.currentData(), mode=self.mode.currentData(), epochs=self.epochs.value(),
            batch_size=self.batch_size.value(), lr=self.lr.value(), image_size=self.image_size.value(),
            val_split=self.val_split.value(), weights=self.weights.currentData(), seed=self.seed.value(),
            patience=self.patience.value(), warmup_epochs=self.warmup.value(), val_dir=self.val_dir.text().strip(),
            device=self.device.currentData() or "auto", augment=self.augment.currentData(), flip=self.flip.isChecked(),
        )

    def set_choices(self, c: TrainChoices) -> None:
        self.variant.setCurrentIndex(max(0, self.variant.findData(c.variant)))
        self.mode.setCurrentIndex(max(0, self.mode.findData(c.mode)))
        self.epochs.setValue(c.epochs)
        self.batch_size.setValue(c.batch_size)
        self.lr.setValue(c.lr)
        self.image_size.setValue(c.image_size)
        self.val_split.setValue(c.val_split)
        self.weights.setCurrentIndex(max(0, self.weights.findData(c.weights)))
        self.seed.setValue(c.seed)
        self.patience.setValue(c.patience)
        self.warmup.setValue(c.warmup_epochs)
        self.val_dir.setText(c.val_dir)
        self.augment.setCurrentIndex(max(0, self.augment.findData(c.augment)))
        self.flip.setChecked(c.flip)
        index = self.device.findData(c.device)
        if index < 0 and c.device != "auto":
            self.device.addItem(c.device.upper(), c.device)  # kept until the backend lists the real devices
            index = self.device.count() - 1
        self.device.setCurrentIndex(max(0, index))
        self._on_variant_changed()

    # --- what the backend knows ------------------------------------------------------------------
    def set_backend(self, device: str, available: tuple[str, ...], weights_cached: Callable[[str], bool]) -> None:
        """Fill in the devices and which ImageNet weights are on disk (after the backend loaded)."""
        self.backend_device = device
        self.weights_cached = weights_cached
        wanted = self.device.currentData()
        self.device.blockSignals(True)
        self.device.clear()
        self.device.addItem("Auto (best available)", "auto")
        for d in available:
            self.device.addItem("CPU" if d == "cpu" else d.upper(), d)
        self.device.setCurrentIndex(max(0, self.device.findData(wanted)))
        self.device.blockSignals(False)
        self.refresh_weights()

    def refresh_weights(self) -> None:
        """ImageNet is offered only when its weights are on disk; otherwise the run starts from random."""
        variant = self.variant.currentData()
        cached = self.weights_cached(variant)
        item = self.weights.model().item(self.weights.findData("imagenet"))
        item.setEnabled(cached)
        if not cached and self.weights.currentData() == "imagenet":
            self.weights.setCurrentIndex(self.weights.findData("random"))
        self._update_notes()

    def set_has_val_folder(self, has: bool) -> None:
        self._has_val_folder = has
        self._update_val_split()

    # --- reactions -------------------------------------------------------------------------------
    @Slot()
    def _on_variant_changed(self) -> None:
        native = VARIANTS[self.variant.currentData()].resolution
        self.image_size.setSpecialValueText(f"Native ({native} px)")
        self.refresh_weights()

    @Slot()
    def _on_weights_changed(self) -> None:
        # A frozen random backbone has nothing to offer a new head: train the whole network instead.
        if self.weights.currentData() == "random" and self.mode.currentData() == "head":
            self.mode.setCurrentIndex(self.mode.findData("full"))
        self._update_notes()

    @Slot()
    def _update_val_split(self) -> None:
        external = self._has_val_folder or bool(self.val_dir.text().strip())
        self.val_split.setEnabled(not external)
        self.val_split.setToolTip(
            "The validation images come from the validation folder" if external
            else "Share of each class held out to validate (unless the folder has a val/ part)"
        )

    @Slot()
    def _update_notes(self) -> None:
        self.mode_note.setText(MODES[self.mode.currentData()][1])
        from model.training.augment import PRESET_HELP

        head_only = self.mode.currentData() == "head"
        self.augment_note.setText(
            "Off in head mode: the features are of the plain images." if head_only
            else PRESET_HELP[self.augment.currentData()].capitalize() + "."
        )
        self.augment.setEnabled(not head_only)
        self.flip.setEnabled(not head_only)
        variant = VARIANTS[self.variant.currentData()]
        device = self.device.currentData() if self.device.currentData() != "auto" else self.backend_device
        size = self.image_size.value() or variant.resolution  # 0 is "Native"
        if device.startswith("cpu") and size > CPU_SIZE_HINT:
            speedup = (size / CPU_SIZE_HINT) ** 2  # the work grows with the pixels
            which = f"the native {size} px" if size == variant.resolution else f"{size} px"
            self.size_note.setText(f"On the CPU, {CPU_SIZE_HINT} px trains about {speedup:.0f}× faster than {which}.")
            self.size_note.show()
        else:
            self.size_note.hide()
        missing = self.backend_device and not self.weights_cached(variant.name)
        if missing:
            self.weights_note.setText(
                f"ImageNet weights for {variant.title} are not on disk, so training starts from random weights: "
                "expect to need many more images and epochs. Download or import them on the Models page to fine-tune."
            )
        elif self.weights.currentData() == "random":
            self.weights_note.setText("Training from random weights: expect to need many more images and epochs.")
        self.weights_note.setVisible(bool(missing) or self.weights.currentData() == "random")

    @Slot()
    def _choose_val_dir(self) -> None:
        start = self.val_dir.text() or str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Choose a validation folder", start)
        if folder:
            self.val_dir.setText(folder)
