"""What a finished run learned: accuracy, the confusion matrix, per-class scores and the mistakes.

A run whose data set had a test/ folder was also scored on it at the end; then
a menu switches between the test images (shown first: held out from training
and from choosing the best epoch, they are the honest figure) and the
validation images. Clicking a cell of the matrix lists the images of the shown
split behind it that were misclassified, worst first. The thumbnails are decoded elsewhere (a worker):
this panel asks for them with ``thumbnails_wanted(paths, batch)`` and takes
them with ``set_thumbnail``; a thumbnail of an earlier cell (older batch) is dropped.

"Full height" (``full_height_button``) asks the page for all of its height, the
curves hidden; it turns itself on when a newly shown matrix would not fit whole
otherwise (many classes), until the user chooses for that run.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.pages.train.class_metrics import ClassMetricsModel
from app.pages.train.confusion_matrix import ConfusionMatrixView
from app.pages.train.mistakes_list import MistakesList
from app.pages.train.reliability_diagram import ReliabilityDiagram

NO_RESULTS = "The confusion matrix and per-class scores appear here when a run has validated its model."
SPLITS = {
    "test": ("Test images (held out)", "Test accuracy",
             "Images of the data set's test/ folder: never trained on and not used to choose the best epoch"),
    "validation": ("Validation images", "Validation accuracy",
                   "The images each epoch was validated on; the best epoch was chosen by them, so they flatter it a little"),
}


class TrainResults(QWidget):
    """Shows one ``model.training.evaluate.Evaluation``; empty with a hint when there is none."""

    thumbnails_wanted = Signal(list, int)  # paths, batch
    full_height_toggled = Signal(bool)  # True: the results want the page's whole height (the curves hidden)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.evaluation = None
        self.evaluations: dict = {}  # "validation" / "test" → the run's Evaluation of that split
        self.note = ""
        self.batch = 0  # bumped whenever the listed images change
        self._auto_height = False  # the matrix shown may still take the full height by itself
        self.summary = QLabel(NO_RESULTS)
        self.summary.setWordWrap(True)
        self.split = QComboBox()
        self.split.setToolTip("Which images the results below are of")
        self.split.currentIndexChanged.connect(self._on_split_chosen)
        self.split.hide()

        self.matrix = ConfusionMatrixView()
        self.matrix.cell_selected.connect(self.show_cell)
        self.matrix.room_wanted.connect(self._on_room_wanted)
        self.full_height_button = QToolButton()
        self.full_height_button.setText("Full height")
        self.full_height_button.setCheckable(True)
        self.full_height_button.setAutoRaise(True)
        self.full_height_button.setToolTip("Give the results the page's whole height, the curves hidden; click again "
                                           "to bring the curves back")
        self.full_height_button.toggled.connect(self.full_height_toggled)
        self.full_height_button.clicked.connect(self._on_full_height_clicked)
        matrix_title = QWidget()
        title_row = QHBoxLayout(matrix_title)
        title_row.setContentsMargins(0, 0, 0, 0)
        title_row.addWidget(QLabel("Confusion matrix (rows: true class, columns: predicted)"), 1)
        title_row.addWidget(self.full_height_button)
        matrix_box = self._titled(matrix_title, self.matrix)

        self.metrics_model = ClassMetricsModel(self)
        self.metrics = QTableView()
        self.metrics.setModel(self.metrics_model)
        self.metrics.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.metrics.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.metrics.verticalHeader().hide()
        self.metrics.setAlternatingRowColors(True)
        header = self.metrics.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        metrics_box = self._titled(QLabel("Per class"), self.metrics)

        self.mistakes_title = QLabel("Click a cell of the matrix to list its images.")
        self.mistakes_title.setWordWrap(True)
        self.mistakes = MistakesList()
        mistakes_box = self._titled(self.mistakes_title, self.mistakes)

        # The matrix gets the whole height (10 classes fit whole at 1280×800); beside it the reliability
        # diagram, the per-class table and the images of the chosen cell. Both splitters can be dragged.
        self.reliability = ReliabilityDiagram()
        details = QSplitter(Qt.Orientation.Vertical)
        details.addWidget(self.reliability)
        details.addWidget(metrics_box)
        details.addWidget(mistakes_box)
        details.setChildrenCollapsible(False)
        details.setSizes([180, 220, 260])
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(matrix_box)
        splitter.addWidget(details)
        splitter.setChildrenCollapsible(False)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([520, 340])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        summary_row = QHBoxLayout()
        summary_row.addWidget(self.summary, 1)
        summary_row.addWidget(self.split, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(summary_row)
        layout.addWidget(splitter, 1)
        self.show_evaluation(None)

    @staticmethod
    def _titled(title: QWidget, body: QWidget) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(title)
        layout.addWidget(body, 1)
        return box

    def show_evaluations(self, validation, test=None, note: str = "") -> None:
        """A run's results: its validation ``Evaluation`` and, when its data set had a test/ folder, the test one
        (shown first). With neither, ``note`` says why there is nothing to show."""
        self.evaluations = {name: ev for name, ev in (("test", test), ("validation", validation)) if ev is not None}
        self.note = note
        self.split.blockSignals(True)
        self.split.clear()
        for name in self.evaluations:
            label, _, tooltip = SPLITS[name]
            self.split.addItem(label, name)
            self.split.setItemData(self.split.count() - 1, tooltip, Qt.ItemDataRole.ToolTipRole)
        self.split.blockSignals(False)
        self.split.setVisible(len(self.evaluations) > 1)
        self._show(next(iter(self.evaluations), None))

    def show_evaluation(self, evaluation, note: str = "") -> None:
        """Show one validation ``Evaluation`` (None: nothing validated yet, and ``note`` says why)."""
        self.show_evaluations(evaluation, None, note)

    @property
    def shown_split(self) -> str | None:
        """"test" or "validation": whose results are shown (None: none)."""
        return next((name for name, ev in self.evaluations.items() if ev is self.evaluation), None)

    @Slot()
    def _on_split_chosen(self) -> None:
        self._show(self.split.currentData())

    def _show(self, split: str | None) -> None:
        evaluation = self.evaluations.get(split) if split else None
        note = self.note
        self.evaluation = evaluation
        self.batch += 1
        self.mistakes.clear()
        self._auto_height = evaluation is not None
        if evaluation is None:
            self.full_height_button.setChecked(False)  # training, or nothing to show: the curves matter more
            self.full_height_button.hide()
            self.summary.setText(note or NO_RESULTS)
            self.matrix.set_matrix([], [])
            self.reliability.show_bins(None)
            self.metrics_model.set_metrics({})
            self.mistakes_title.setText("Click a cell of the matrix to list its images.")
            return
        wrong = len(evaluation.mistakes)
        self.summary.setText(
            f"<b>{SPLITS[split][1]} {100 * evaluation.accuracy:.1f} %</b> on {evaluation.num_images} images "
            f"· macro F1 {100 * evaluation.macro_f1:.1f} % · loss {evaluation.loss:.3f} · {wrong} misclassified"
            + (f" · calibration error (ECE) {evaluation.ece:.3f}" if evaluation.reliability else "")
            + (f" · {note}" if note else "")
        )
        self.full_height_button.show()
        self.matrix.set_matrix(evaluation.class_names, evaluation.confusion_matrix)
        self.reliability.show_bins(evaluation.reliability, evaluation.ece, evaluation.temperature)  # None: an older run
        self.metrics_model.set_metrics(evaluation.per_class)
        self.mistakes_title.setText("Click a cell of the matrix to list its misclassified images.")

    @Slot()
    def _on_room_wanted(self) -> None:
        if self._auto_height:
            self._auto_height = False
            self.full_height_button.setChecked(True)

    @Slot()
    def _on_full_height_clicked(self) -> None:
        self._auto_height = False  # the user chose: no more automatic changes for this run

    def worst_cell(self) -> tuple[int, int] | None:
        """The off-diagonal cell with the most images, or None when nothing is misclassified."""
        if self.evaluation is None:
            return None
        cm = self.evaluation.confusion_matrix
        cells = [(cm[r][c], r, c) for r in range(len(cm)) for c in range(len(cm)) if r != c and cm[r][c]]
        return max(cells)[1:] if cells else None

    @Slot(int, int)
    def show_cell(self, true: int, predicted: int) -> None:
        """List the misclassified images of one cell and ask for their thumbnails."""
        ev = self.evaluation
        if ev is None:
            return
        self.batch += 1
        names = ev.class_names
        count = ev.confusion_matrix[true][predicted]
        if true == predicted:
            self.mistakes.clear()
            self.mistakes_title.setText(
                f"{count} images of '{names[true]}' were classified correctly; the off-diagonal cells hold the mistakes."
            )
            return
        found = [m for m in ev.mistakes if m.true_label == names[true] and m.predicted_label == names[predicted]]
        self.mistakes.set_mistakes(found)
        self.mistakes_title.setText(f"'{names[true]}' predicted as '{names[predicted]}': {len(found)} images, worst first")
        if found:
            self.thumbnails_wanted.emit([m.path for m in found], self.batch)

    @Slot(int, int, QImage)
    def set_thumbnail(self, batch: int, row: int, image: QImage) -> None:
        if batch == self.batch:  # a thumbnail for a cell shown earlier is no longer wanted
            self.mistakes.set_thumbnail(row, image)
