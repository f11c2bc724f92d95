"""The Attention page's image view: the crop, the SE overlay of one block, Grad-CAM and the gate map.

It displays an ``AnalysedImage`` (see ``app.pages.attention.page.workers``) whose views
are all computed already, so moving the block slider or flipping the "what SE
changed" toggle only blends one cached map over the crop (a few ms) and turns
it into a QImage. Hovering the gate map or the SE overlay reports the block,
channel and value under the pointer.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from app.pages.attention.evidence_charts import AblationChart
from app.pages.attention.evidence_view import EvidenceView
from app.pages.attention.image_pane import ImagePane
from app.pages.attention.matrix_view import MatrixView
from model.explain.figures import attention_view_figure
from model.explain.methods import METHODS
from model.explain.render import DEFAULT_COLORMAP, DIVERGING, apply_colormap, colormap_lut, overlay

TOP_K = 5
EMPTY_HINT = "Drop a photo on this page, or press Open image… (Ctrl+Shift+A)"
GUIDE = (
    "<b>SE map</b>: where the channels that this block's gates favour respond. "
    "<b>What SE changed</b>: weights s − mean(s), so bright areas are boosted by the gating. "
    "<b>Grad-CAM</b>: the regions that raise the class's score. "
    "<b>Gate map</b>: every gate s of every block; hover for its channel and value, click a row to show that block. "
    "<b>Ablation</b>: how much the answer drops when one block's gates are replaced by their mean."
)


def describe_gate(cell) -> str:
    """One line for a gate-map cell: "stage 4 · block 2 · 480 ch · 14×14 — channel 17: gate s = 0.734"."""
    return f"{cell.block.name} — channel {cell.channel}: gate s = {cell.value:.3f}"


class AttentionPanel(QWidget):
    """Shows one analysis; ``depth`` and ``kind`` choose the SE overlay."""

    class_chosen = Signal(int)  # a class index: show Grad-CAM for it

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.analysed = None  # AnalysedImage
        self.cmap = DEFAULT_COLORMAP
        self._build()
        self.clear()

    # --- layout ---------------------------------------------------------------------
    def _build(self) -> None:
        self.crop_pane = ImagePane("Input crop", EMPTY_HINT)
        self.crop_pane.setToolTip("The centre crop the network saw, after resizing")
        self.se_pane = ImagePane("SE map")
        self.se_pane.setToolTip("M = ReLU(Σc sc·Uc): the channels of this block's input weighted by its SE gates")
        self.se_pane.view.hovered.connect(self._on_se_hovered)
        self.cam_pane = ImagePane("Grad-CAM")
        self.cam_pane.setToolTip("Grad-CAM at the last feature layer for the class named above")
        self.classes = QListWidget()
        self.classes.setToolTip("The most probable classes; click one to see Grad-CAM for it")
        self.classes.itemActivated.connect(self._on_class_item)
        self.classes.itemClicked.connect(self._on_class_item)
        self.classes.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.classes.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.classes.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        row = self.classes.fontMetrics().height() + 4
        self.classes.setFixedHeight(TOP_K * row + 2 * self.classes.frameWidth() + 4)
        classes_title = QLabel("Top-5 classes")
        classes_title.setFont(self.crop_pane.title.font())
        classes_box = QVBoxLayout()
        classes_box.setSpacing(4)
        classes_box.addWidget(classes_title)
        classes_box.addWidget(self.classes)
        guide = QLabel(GUIDE)
        guide.setWordWrap(True)
        guide.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        classes_box.addSpacing(8)
        classes_box.addWidget(guide)
        classes_box.addStretch(1)
        panes = QHBoxLayout()
        for pane in (self.crop_pane, self.se_pane, self.cam_pane):
            panes.addWidget(pane, 3)
        panes.addLayout(classes_box, 2)

        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setPageStep(1)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setToolTip("Scrub through the SE blocks from input to output (←/→, Page Up/Down, Home/End)")
        self.slider.valueChanged.connect(self._refresh_se)
        self.slider.valueChanged.connect(self._on_block_picked)
        self._block_picked = False  # the user chose a block: later analyses keep it
        self.block_label = QLabel()
        self.block_label.setMinimumWidth(340)
        self.change_toggle = QCheckBox("What SE changed")
        self.change_toggle.setToolTip(
            "Weight the channels by s − mean(s) instead of s: where this block's gating boosts the response "
            "compared with uniform gating (Ctrl+Shift+D)"
        )
        self.change_toggle.toggled.connect(self._refresh_se)
        slider_row = QHBoxLayout()
        slider_row.addWidget(QLabel("SE block"))
        slider_row.addWidget(self.slider, 1)
        slider_row.addWidget(self.block_label)
        slider_row.addWidget(self.change_toggle)

        gates_title = QLabel("SE gates per block (rows, input at the top) × channels")
        gates_title.setFont(self.crop_pane.title.font())
        self.channel_order = QCheckBox("Channel order")
        self.channel_order.setToolTip("Unchecked: each row sorted from the highest gate to the lowest, which "
                                      "shows how selective a block is. Checked: channels in their own order.")
        self.channel_order.toggled.connect(self._refresh_gates)
        self.centred = QCheckBox("Centred")
        self.centred.setToolTip("Gate minus its block's mean on a blue–red scale: the contrast within each block, "
                                "which the fixed 0–1 scale hides when most gates sit near 0.5")
        self.centred.toggled.connect(self._refresh_gates)
        self.gates_range = QLabel()
        self.gates_range.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        gates_row = QHBoxLayout()
        gates_row.addWidget(gates_title)
        gates_row.addWidget(self.gates_range, 1)
        gates_row.addWidget(self.centred)
        gates_row.addWidget(self.channel_order)
        self.gates = MatrixView()
        self.gates.setToolTip("")
        self.gates.describe = self._describe_gate
        self.gates.hovered.connect(self._on_gate_hovered)
        self.gates.row_clicked.connect(self.slider.setValue)
        self.gates.set_legend(colormap_lut(self.cmap), "0", "1")
        self.hover_line = QLabel()
        self.hover_line.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.ablation = AblationChart()
        self.ablation.block_clicked.connect(self.slider.setValue)
        self.evidence = EvidenceView()
        self.evidence.choice_changed.connect(self._refresh_cam)
        gates_and_ablation = QHBoxLayout()
        gates_and_ablation.addWidget(self.gates, 3)
        gates_and_ablation.addWidget(self.ablation, 2)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(panes, 5)
        layout.addLayout(slider_row)
        layout.addWidget(self.evidence)
        layout.addLayout(gates_row)
        layout.addLayout(gates_and_ablation, 3)
        layout.addWidget(self.hover_line)

    # --- state ------------------------------------------------------------------------
    @property
    def result(self):
        return self.analysed.result if self.analysed is not None else None

    @property
    def depth(self) -> int:
        return self.slider.value()

    @property
    def kind(self) -> str:
        return "change" if self.change_toggle.isChecked() else "se"

    @property
    def order(self) -> str:
        return "channel" if self.channel_order.isChecked() else "sorted"

    @Slot()
    def _on_block_picked(self) -> None:
        self._block_picked = True

    def clear(self) -> None:
        self.analysed = None
        self.crop_pane.clear(EMPTY_HINT)
        self.se_pane.clear()
        self.cam_pane.clear()
        self.classes.clear()
        self.slider.blockSignals(True)  # not a block the user picked
        self.slider.setRange(0, 0)
        self.slider.blockSignals(False)
        self.block_label.setText("")
        self.gates.clear("The gate map appears here once an image is analysed.")
        self.gates_range.setText("")
        self.hover_line.setText("")
        self.ablation.clear_data()
        self.evidence.clear()
        for w in (self.slider, self.change_toggle, self.channel_order, self.centred, self.evidence):
            w.setEnabled(False)

    def show_analysis(self, analysed) -> None:
        """Display a finished analysis, keeping the block and toggles the user had chosen. Until a block is
        chosen it opens on the one whose map is scored with the analysis (the deepest with a 4×4 grid)."""
        self.analysed = analysed
        result = analysed.result
        if self._block_picked or analysed.explainer is None:
            depth = min(self.depth, result.num_blocks - 1)
        else:
            depth = analysed.explainer.depth()
        for w in (self.slider, self.change_toggle, self.channel_order, self.centred, self.evidence):
            w.setEnabled(analysed.explainer is not None or w is not self.evidence)
        self.slider.blockSignals(True)
        self.slider.setRange(0, result.num_blocks - 1)
        self.slider.setValue(depth)
        self.slider.blockSignals(False)
        self.crop_pane.set_picture(result.images[0], "Input crop",
                                   f"{result.input_size[1]}×{result.input_size[0]} px, as the network saw it")
        self._fill_classes()
        if analysed.explainer is not None:
            self.evidence.set_explainer(analysed.explainer)
            self.ablation.show_ablation(analysed.explainer.ablation())  # cached by the worker
        self._refresh_cam()
        self._refresh_gates()
        self._refresh_se()

    def _fill_classes(self) -> None:
        result = self.result
        target = result.target_classes[0]
        self.classes.clear()
        for rank, score in enumerate(result.top_classes(0, TOP_K), start=1):
            item = QListWidgetItem(f"{rank}. {score.label} — {score.probability:.1%}")
            item.setData(Qt.ItemDataRole.UserRole, score.index)
            item.setSizeHint(QSize(0, self.classes.fontMetrics().height() + 4))
            if score.index == target:
                font = QFont(item.font())
                font.setBold(True)
                item.setFont(font)
                item.setToolTip(f"{score.label}: Grad-CAM shows this class")
            else:
                item.setToolTip(f"{score.label}: click to see Grad-CAM for this class")
            self.classes.addItem(item)

    # --- views ------------------------------------------------------------------------
    @Slot()
    def _refresh_se(self) -> None:
        result = self.result
        if result is None:
            return
        smap = result.spatial_map(self.depth, kind=self.kind)
        block = result.blocks[self.depth]
        what = "What SE changed" if self.kind == "change" else "SE map"
        if smap.vmax > smap.vmin:
            caption = f"Colours span {smap.vmin:.3g} … {smap.vmax:.3g} (scaled per block)"
        elif self.kind == "change":
            caption = "Flat: every gate of this block is alike, so SE changed nothing here"
        else:
            caption = "Flat: this block's weighted response is the same everywhere"
        self.se_pane.set_picture(overlay(result.images[0], smap.image, cmap=self.cmap), f"{what} · {block.short_name}",
                                 caption)
        self.block_label.setText(f"{self.depth + 1} of {result.num_blocks} · {block.name}")
        self.gates.set_highlight(self.depth)
        self.ablation.set_current(self.depth)
        self.evidence.show_block(self.depth, self.kind)

    @Slot()
    def _refresh_cam(self) -> None:
        """The right-hand pane: the chosen method at the chosen stage, once made (Grad-CAM until then)."""
        result = self.result
        if result is None:
            return
        target = result.target_classes[0]
        probability = result.probabilities(0)[target]
        cam, _ = self.evidence.cam_map()
        label = METHODS[cam.kind].label if cam is not None else "Grad-CAM"
        cam = cam or result.gradcam_map()
        self.cam_pane.set_picture(overlay(result.images[0], cam.image, cmap=self.cmap),
                                  f"{label} · {result.label(target)}",
                                  f"p = {probability:.1%} for this class · {cam.source}")

    def evidence_ready(self) -> None:
        """More maps or scores were made: redraw the pane and the scores."""
        self._refresh_cam()
        self.evidence.refresh()

    @Slot()
    def _refresh_gates(self) -> None:
        result = self.result
        if result is None:
            return
        gate_map = result.gate_map(order=self.order)
        labels = [(row, block.short_name) for row, block in enumerate(gate_map.blocks)]
        self.gates_range.setText(f"gates from {gate_map.values.min():.3f} to {gate_map.values.max():.3f}")
        if self.centred.isChecked():
            values = gate_map.centred()
            limit = float(abs(values).max()) or 1.0
            self.gates.set_matrix(apply_colormap(values, DIVERGING, -limit, limit), labels)
            self.gates.set_legend(colormap_lut(DIVERGING), f"−{limit:.2f}", f"+{limit:.2f}")
        else:
            self.gates.set_matrix(apply_colormap(gate_map.values, self.cmap, 0.0, 1.0), labels)
            self.gates.set_legend(colormap_lut(self.cmap), "0", "1")
        self.gates.set_highlight(self.depth)

    # --- export ---------------------------------------------------------------------------
    def picture_name(self) -> str | None:
        """A file name for ``picture()``; None while there is nothing to show."""
        if self.result is None:
            return None
        return f"{Path(self.analysed.path).stem}-{self.kind}-{self.result.blocks[self.depth].file_stem}.png"

    def picture(self) -> np.ndarray:
        """The view as an RGB picture: crop, overlay, Grad-CAM, top-5 and gate map (model.explain.figures)."""
        return attention_view_figure(self.result, self.depth, kind=self.kind, order=self.order, cmap=self.cmap,
                                     centred=self.centred.isChecked())

    # --- interaction ----------------------------------------------------------------------
    def step(self, delta: int) -> None:
        """Move the slider by ``delta`` blocks (clamped)."""
        self.slider.setValue(self.slider.value() + delta)

    @Slot(QListWidgetItem)
    def _on_class_item(self, item: QListWidgetItem) -> None:
        index = int(item.data(Qt.ItemDataRole.UserRole))
        if self.result is not None and index != self.result.target_classes[0]:
            self.class_chosen.emit(index)

    def gate_cell(self, x: float, y: float, width: int, height: int):
        """The gate-map cell under plot position (x, y), or None."""
        if self.result is None or x < 0:
            return None
        return self.result.gate_map(order=self.order).cell_at_pixel(x, y, width, height)

    def _describe_gate(self, x: float, y: float, width: int, height: int) -> str:
        cell = self.gate_cell(x, y, width, height)
        return describe_gate(cell) if cell is not None else ""

    @Slot(float, float, int, int)
    def _on_gate_hovered(self, x: float, y: float, width: int, height: int) -> None:
        self.hover_line.setText(self._describe_gate(x, y, width, height))

    @Slot(float, float)
    def _on_se_hovered(self, x: float, y: float) -> None:
        result = self.result
        if result is None or x < 0:
            self.hover_line.setText("")
            return
        smap = result.spatial_map(self.depth, kind=self.kind)
        row, col = smap.grid_cell(x, y)
        self.hover_line.setText(f"{smap.block.name} — cell ({row}, {col}) of {smap.raw.shape[0]}×{smap.raw.shape[1]}: "
                                f"M = {smap.value_at(x, y):.4g}")
