"""The Attention page's class-comparison view: divergence per block, the class-mean gates and,
when asked for, each class's mean SE ablation curve.

It displays a ``ClassComparison`` (``model.explain.attention_classes``): the curve says
where in depth the SE gates become class-specific; the heat map shows each
class's mean gate vector per block (a band of one row per class), so the
channels that differ can be found by hovering; the ablation chart says which
blocks' gating each class's predictions depend on. Clicking a point of either
chart, or a band of the heat map, selects that block (outlined in the heat map).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.pages.attention.class_ablation_chart import ClassAblationChart
from app.pages.attention.divergence_chart import DivergenceChart
from app.pages.attention.matrix_view import MatrixView
from app.widgets.job_bar import JobBar
from model.explain.figures import class_comparison_figure, stretch
from model.explain.render import DEFAULT_COLORMAP, apply_colormap, colormap_lut

INTRO = ("Pick a folder with one sub-folder of images per class. For every SE block, the curve shows how "
         "differently it gates the classes: early blocks usually treat every class alike, late ones are "
         "class-specific.")
ABLATION_MODE = "mean"  # the gates replaced by their mean: the block still scales, but favours no channel


@dataclass(frozen=True)
class ClassMeanCell:
    """What a class-mean heat-map cell shows."""

    block: object  # BlockInfo
    class_name: str
    channel: int
    value: float


def class_mean_matrix(comparison) -> np.ndarray:
    """[blocks·K, width] mean gates: per block a band of K class rows, channels resampled to ``width``."""
    width = max(m.shape[1] for m in comparison.class_means)
    k = len(comparison.class_names)
    return np.concatenate([stretch(m, k, width) for m in comparison.class_means], axis=0)


def class_mean_cell(comparison, x: float, y: float, width: int, height: int) -> ClassMeanCell | None:
    """The block, class, channel and mean gate under plot pixel (x, y) of the heat map."""
    if not (0 <= x < width and 0 <= y < height):
        return None
    k = len(comparison.class_names)
    rows = k * len(comparison.blocks)
    columns = max(m.shape[1] for m in comparison.class_means)
    row = min(rows - 1, int(y * rows / height))
    col = min(columns - 1, int(x * columns / width))
    block, klass = divmod(row, k)
    means = comparison.class_means[block]
    channel = int((col + 0.5) * means.shape[1] / columns)  # the column sampling of figures.stretch
    return ClassMeanCell(comparison.blocks[block], comparison.class_names[klass], channel, float(means[klass, channel]))


def ablation_summary(comparison) -> str:
    """One sentence: the block whose ablation lowers the predictions most, over all images."""
    counts = np.asarray(comparison.counts, np.float64)
    overall = (np.asarray(comparison.ablation, np.float64) * counts[:, None]).sum(axis=0) / counts.sum()
    best = int(np.argmax(overall))
    return (f"Ablating {comparison.blocks[best].name}'s gates lowers the predictions most "
            f"(mean drop {overall[best]:.3f}).")


class ComparisonPanel(QWidget):
    """Folder choice, job progress, the divergence curve, the class-mean gates and the ablation per class."""

    ablation_wanted = Signal(str)  # the ablation option was ticked while this folder's comparison lacks it

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.comparison = None
        self.folder = ""
        self.cmap = DEFAULT_COLORMAP
        self.folder_button = QPushButton("Choose folder…")
        self.folder_button.setToolTip("A folder with one sub-folder of images per class (Ctrl+Shift+C)")
        self.folder_label = QLabel()
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(self.folder_button)
        top.addWidget(self.folder_label, 1)
        self.ablation_box = QCheckBox("Measure SE ablation per class (slower)")
        self.ablation_box.setToolTip("Also run every image once more per SE block with that block's gates replaced "
                                     "by their mean, and plot each class's mean drop in the prediction's probability")
        self.ablation_box.toggled.connect(self._on_ablation_toggled)
        top.addWidget(self.ablation_box)
        intro = QLabel(INTRO)
        intro.setWordWrap(True)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.hide()
        self.job = JobBar()
        self.job.cancel_button.setToolTip("Stop comparing; nothing is kept from a cancelled run")

        self.chart = DivergenceChart()
        self.chart.setToolTip("Class divergence of the gates: mean distance between class means over the "
                              "within-class spread. Click a point to select its block.")
        self.chart.block_clicked.connect(self.select_block)
        self.ablation_chart = ClassAblationChart()
        self.ablation_chart.block_clicked.connect(self.select_block)
        charts = QHBoxLayout()
        charts.addWidget(self.chart, 1)
        charts.addWidget(self.ablation_chart, 1)
        means_title = QLabel("Mean gate per class (one row per class within each block) × channels")
        font = means_title.font()
        font.setBold(True)
        means_title.setFont(font)
        self.means = MatrixView()
        self.means.describe = self._describe
        self.means.hovered.connect(self._on_hovered)
        self.means.row_clicked.connect(self._on_row_clicked)
        self.means.set_legend(colormap_lut(self.cmap), "0", "1")
        self.hover_line = QLabel()
        self.hover_line.setForegroundRole(QPalette.ColorRole.PlaceholderText)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(intro)
        layout.addWidget(self.message)
        layout.addWidget(self.job)
        layout.addWidget(self.summary)
        layout.addLayout(charts, 3)
        layout.addWidget(means_title)
        layout.addWidget(self.means, 3)
        layout.addWidget(self.hover_line)
        self.clear()

    def clear(self) -> None:
        self.comparison = None
        self.summary.setText("")
        self.chart.clear_data()
        self.ablation_chart.clear_data()
        self.ablation_chart.hide()
        self.means.clear("The class-mean gates appear here after a comparison.")
        self.hover_line.setText("")

    def set_folder(self, folder: str) -> None:
        self.folder = folder
        self.folder_label.setText(folder)

    def ablation_mode(self) -> str | None:
        """The SE ablation the next comparison measures ("mean"), or None when the option is off."""
        return ABLATION_MODE if self.ablation_box.isChecked() else None

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def show_comparison(self, comparison, model_summary: str = "") -> None:
        self.comparison = comparison
        names = [b.short_name for b in comparison.blocks]
        self.chart.show_divergence(comparison.divergence, names)
        k = len(comparison.class_names)
        # Each block's label sits at the middle of its band of k class rows.
        labels = [(depth * k + (k - 1) / 2, block.short_name) for depth, block in enumerate(comparison.blocks)]
        self.means.set_matrix(apply_colormap(class_mean_matrix(comparison), self.cmap, 0.0, 1.0), labels)
        if comparison.ablation is not None:
            self.ablation_chart.show_class_ablation(comparison.ablation, comparison.class_names, names,
                                                    comparison.ablation_mode)
        else:
            self.ablation_chart.clear_data()
        self.ablation_chart.setVisible(comparison.ablation is not None)
        classes = ", ".join(f"{name} ({count})" for name, count in zip(comparison.class_names, comparison.counts))
        parts = [f"{sum(comparison.counts)} images in {k} classes: {classes}.",
                 f"Most class-specific: {comparison.most_class_specific.name}."]
        if comparison.ablation is not None:
            parts.append(ablation_summary(comparison))
        if comparison.skipped:
            parts.append(f"{len(comparison.skipped)} files could not be read and were skipped.")
        if model_summary:
            parts.append(f"Model: {model_summary}.")
        self.summary.setText(" ".join(parts))

    @Slot(int)
    def select_block(self, depth: int) -> None:
        """Outline block ``depth``'s band in the heat map and mark it in both charts."""
        if self.comparison is None or not 0 <= depth < len(self.comparison.blocks):
            return
        k = len(self.comparison.class_names)
        self.means.set_highlight(depth * k, k)
        self.chart.mark_block(depth)
        self.ablation_chart.mark_block(depth)
        self.hover_line.setText(f"Selected {self.comparison.blocks[depth].name}.")

    def picture_name(self) -> str | None:
        """A file name for ``picture()``; None while there is nothing to show."""
        return "class-comparison.png" if self.comparison is not None else None

    def picture(self) -> np.ndarray:
        """The divergence curve above the class-mean gates as an RGB picture (model.explain.figures)."""
        return class_comparison_figure(self.comparison, cmap=self.cmap)

    def _describe(self, x: float, y: float, width: int, height: int) -> str:
        if self.comparison is None:
            return ""
        cell = class_mean_cell(self.comparison, x, y, width, height)
        if cell is None:
            return ""
        return f"{cell.block.name} — class {cell.class_name!r}, channel {cell.channel}: mean gate {cell.value:.3f}"

    @Slot(int)
    def _on_row_clicked(self, row: int) -> None:
        if self.comparison is not None:
            self.select_block(row // len(self.comparison.class_names))

    @Slot(bool)
    def _on_ablation_toggled(self, on: bool) -> None:
        if on and self.comparison is not None and self.comparison.ablation is None and self.folder:
            self.ablation_wanted.emit(self.folder)

    @Slot(float, float, int, int)
    def _on_hovered(self, x: float, y: float, width: int, height: int) -> None:
        self.hover_line.setText(self._describe(x, y, width, height))
