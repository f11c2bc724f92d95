"""The Doctor page: diagnose a data set, go through what is wrong with the keyboard, fix it safely, retrain.

A folder (chosen, dropped, or the last training's) is diagnosed in a
``DoctorWorker`` with the last run's model when there is one (its features are
the best), else the B0's ImageNet or random weights, with a warning for random
ones. The findings fill three lists, worst first; the selected one is shown
beside its nearest neighbours from each candidate class and on the embedding
map. Keys: arrows move, Enter moves to the suggested class, a digit moves to
that class, Del excludes, K keeps, M asks, Ctrl+Z undoes. Every fix is a real,
journalled file move (``model.doctor.journal``); Undo all runs in a worker.
"Retrain with fixes" starts a training on the corrected folder with the Train
page's last settings.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, Signal, Slot
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage, QKeyEvent
from PySide6.QtWidgets import (
    QFileDialog, QHBoxLayout, QInputDialog, QLabel, QMenu, QProgressBar, QPushButton, QSplitter, QVBoxLayout,
)

from app.pages import Page, StudioContext, add_action
from app.pages.doctor.detail import DetailPanel
from app.pages.doctor.embedding import EmbeddingMap
from app.pages.doctor.findings import Finding, FindingsTabs, findings_of
from app.pages.doctor.workers import DoctorWorker, UndoAllWorker
from app.widgets.drop_zone import local_paths
from app.workers.thumbnails import ThumbnailWorker

THUMB = 64


class DoctorPage(Page):
    key = "doctor"
    title = "Doctor"
    tooltip = "Find wrong labels, duplicates, train/val leaks and outliers in a data set, and fix them"

    diagnosed = Signal(object)  # model.doctor.report.DoctorReport, once it is on screen
    fixed = Signal(object)  # model.doctor.journal.FixResult of every fix and undo

    def __init__(self, context: StudioContext) -> None:
        super().__init__(context)
        self.setAcceptDrops(True)
        self.folder = ""
        self.bundle: str | None = None  # the model whose features are used; None: the variant's weights
        self.report = None
        self.fixes = None
        self.thumbs: dict[int, QImage] = {}
        self._thumb_batches: list[list[int]] = []
        self._pending: set[int] = set()
        self._worker: DoctorWorker | None = None
        self._undoing: UndoAllWorker | None = None
        self._sample = None
        self._build()
        self._update_buttons()

    # --- layout --------------------------------------------------------------------------------
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.folder_label = QLabel("No folder: choose or drop a data set (one sub-folder per class).")
        self.choose_button = QPushButton("Choose folder…")
        self.choose_button.clicked.connect(self.choose_folder)
        self.model_button = QPushButton("Model…")
        self.model_button.setToolTip("Use a trained model bundle (model.pt) for the features")
        self.model_button.clicked.connect(self.choose_model)
        self.run_button = QPushButton("Diagnose")
        self.run_button.clicked.connect(self.diagnose)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(180)
        for w in (self.folder_label, self.choose_button, self.model_button, self.run_button, self.cancel_button, self.progress):
            bar.addWidget(w, 1 if w is self.folder_label else 0)
        outer.addLayout(bar)
        self.message = QLabel()
        self.message.setWordWrap(True)
        outer.addWidget(self.message)

        split = QSplitter()
        self.findings = FindingsTabs()
        self.findings.selected.connect(self._on_selected)
        for view in self.findings.lists.values():
            view.installEventFilter(self)
        self.detail = DetailPanel(self.thumbs.get)
        self.detail.move_suggested.connect(self.move_to_suggested)
        self.detail.move_to.connect(self.move_to_chosen)
        self.detail.exclude.connect(self.exclude)
        self.detail.keep.connect(self.keep)
        self.map = EmbeddingMap(self.thumbs.get)
        self.map.picked.connect(self.select_image)
        self.map.hovered.connect(self._on_hovered)
        for w in (self.findings, self.detail, self.map):
            split.addWidget(w)
        split.setSizes([380, 420, 480])
        outer.addWidget(split, 1)

        foot = QHBoxLayout()
        self.keys = QLabel()
        self.undo_button = QPushButton("Undo")
        self.undo_button.clicked.connect(self.undo)
        self.undo_all_button = QPushButton("Undo all")
        self.undo_all_button.clicked.connect(self.undo_all)
        self.retrain_button = QPushButton("Retrain with fixes")
        self.retrain_button.setToolTip("Train on the corrected folder with the Train page's last settings")
        self.retrain_button.clicked.connect(self.retrain)
        foot.addWidget(self.keys, 1)
        for b in (self.undo_button, self.undo_all_button, self.retrain_button):
            foot.addWidget(b)
        outer.addLayout(foot)

    def fill_menu(self, menu: QMenu) -> None:
        add_action(menu, self, "Choose &folder…", self.choose_folder, tip="Pick a data set to diagnose")
        add_action(menu, self, "&Diagnose", self.diagnose, "Ctrl+Shift+L", "Look for wrong labels, duplicates, leaks and outliers")
        add_action(menu, self, "&Undo fix", self.undo, "Ctrl+Z", "Move the last fixed file back")
        add_action(menu, self, "&Retrain with fixes", self.retrain, tip="Train on the corrected folder")

    # --- choosing what to diagnose -------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(Path(p).is_dir() for p in local_paths(event.mimeData())):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        folders = [p for p in local_paths(event.mimeData()) if Path(p).is_dir()]
        if folders:
            event.acceptProposedAction()
            self.set_folder(folders[0])

    def _start_folder(self) -> str:
        return self.folder or self.context.settings.last_folder("dataset")

    @Slot()
    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Data set to diagnose", self._start_folder())
        if folder:
            self.set_folder(folder)

    @Slot()
    def choose_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Model bundle", self._start_folder(), "Model bundles (*.pt)")
        if path:
            self.bundle = path
            self._update_buttons()

    def set_folder(self, folder: str, bundle: str | None = None) -> None:
        self.folder = folder
        if bundle is not None:
            self.bundle = bundle
        self._update_buttons()

    @Slot(object)
    def use_run(self, record) -> None:
        """After a training (or reopening a run): its folder and its model, unless a folder is chosen already."""
        data_dir = str(record.config.get("data_dir") or "")
        model = record.path / "model.pt"
        if data_dir and model.is_file() and (not self.folder or self.folder == data_dir):
            self.set_folder(data_dir, str(model))

    def _source(self):
        from model.doctor.features import FeatureSource

        if self.bundle:
            return FeatureSource(self.bundle)
        return FeatureSource(None, "b0", "imagenet" if self.session.weights_cached("b0") else "random")

    # --- diagnosing ----------------------------------------------------------------------------
    @Slot()
    def diagnose(self) -> None:
        if not self.folder or self._worker is not None:
            return
        source = self._source()
        self._worker = DoctorWorker(self.folder, source)
        self._worker.progressed.connect(self._on_progress)
        self._worker.diagnosed.connect(self._on_diagnosed)
        self._worker.failed.connect(self._on_failed)
        self._worker.finished.connect(self._on_worker_done)
        self.message.setText("Diagnosing… (the data set is only read)")
        self.context.pool.start(self._worker)
        self._update_buttons()

    @Slot()
    def cancel(self) -> None:
        if self._worker is not None:
            self._worker.stop()

    @Slot(object)
    def _on_progress(self, p) -> None:
        self.progress.setRange(0, max(p.total, 0))
        self.progress.setValue(p.done)
        if p.message:
            self.progress.setFormat(f"{p.message[:28]} %p%")

    @Slot(object)
    def _on_diagnosed(self, report) -> None:
        from app.pages.doctor.fixes import Fixes

        self.report, self.fixes = report, Fixes(report)
        self.thumbs.clear()
        self._pending.clear()
        self.findings.show_findings(findings_of(report))
        self.map.show_report(report)
        digits = " ".join(f"{d}={escape(c)}" for d, c in enumerate(report.classes[:10]))
        self.keys.setText(f"<small>↑↓ go · Enter: suggested · digit: class ({digits}) · Del: exclude · K: keep · M: move to… · Ctrl+Z: undo</small>")
        leaks = sum(d.across_splits for d in report.duplicates)
        lines = [
            f"{report.images} images, {len(report.classes)} classes, features from {escape(report.model)}: "
            f"{len(report.label_issues)} label issues, {len(report.duplicates)} duplicate groups "
            f"({leaks} across splits), {len(report.outliers)} outliers, {len(report.unreadable)} unreadable."
        ] + [f"⚠ {escape(w)}" for w in report.warnings]
        self.message.setText("<br>".join(lines))
        flagged = [f.index for rows in self.findings.rows.values() for f in rows]
        self._want_thumbnails(list(dict.fromkeys(flagged)))
        self._update_buttons()
        self.findings.focus_list()
        self.diagnosed.emit(report)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.message.setText(f"⚠ {escape(message)}")

    @Slot()
    def _on_worker_done(self) -> None:
        self._worker = None
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("")
        self._update_buttons()

    # --- thumbnails ------------------------------------------------------------------------------
    def _want_thumbnails(self, indices: list[int]) -> None:
        todo = [i for i in indices if i not in self.thumbs and i not in self._pending]
        if not todo or self.report is None:
            return
        self._pending.update(todo)
        self._thumb_batches.append(todo)
        paths = [str(self.report.root / self.fixes.where[i]) for i in todo]
        worker = ThumbnailWorker(paths, 0, batch=len(self._thumb_batches) - 1, size=THUMB)
        worker.thumbnail_ready.connect(self._on_thumbnail)
        self.context.pool.start(worker)

    @Slot(int, int, QImage)
    def _on_thumbnail(self, batch: int, row: int, image: QImage) -> None:
        index = self._thumb_batches[batch][row]
        self._pending.discard(index)
        self.thumbs[index] = image
        self.findings.set_thumbnail(index, image)
        if index in self.detail.wanted:
            self.detail.refresh()

    # --- selection ------------------------------------------------------------------------------
    @Slot(object)
    def _on_selected(self, finding: Finding | None) -> None:
        if finding is None or self.report is None:
            self.detail.show_image(None, None)
            self.map.mark(None)
            return
        self.detail.show_image(self.report, finding.index, finding.suggested, finding.text.split("\n")[0])
        self._want_thumbnails(self.detail.wanted)
        self.map.mark(finding.index)
        self._update_buttons()

    @Slot(int)
    def select_image(self, index: int) -> None:
        """Select image ``index`` in the lists (a click on the map); unflagged images are shown alone."""
        if not self.findings.select_image(index) and self.report is not None:
            self.detail.show_image(self.report, index, None, "Not flagged by the doctor.")
            self._want_thumbnails(self.detail.wanted)
            self.map.mark(index)

    @Slot(int)
    def _on_hovered(self, index: int) -> None:
        self._want_thumbnails([index])

    # --- fixes ---------------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and watched in self.findings.lists.values():
            return self._on_key(event)
        return super().eventFilter(watched, event)

    def _on_key(self, event: QKeyEvent) -> bool:
        key, text = event.key(), event.text()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.move_to_suggested()
        elif key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.exclude()
        elif key == Qt.Key.Key_K:
            self.keep()
        elif key == Qt.Key.Key_M:
            self.move_to_chosen()
        elif key == Qt.Key.Key_Z and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.undo()
        elif text.isdigit() and self.report is not None and int(text) < len(self.report.classes):
            self.move_to_class(int(text))
        else:
            return False
        return True

    def _current(self) -> Finding | None:
        return self.findings.current() if self.fixes is not None else None

    def _apply(self, finding: Finding, result) -> None:
        if result.note:
            self.message.setText(escape(result.note))
        if result.done:
            self.findings.mark(finding, self.fixes.status_of(finding.index))
            self.findings.advance()
        self.fixed.emit(result)
        self._update_buttons()

    @Slot()
    def move_to_suggested(self) -> None:
        f = self._current()
        if f is not None and f.suggested is not None:
            self.move_to_class(f.suggested)

    def move_to_class(self, class_index: int) -> None:
        f = self._current()
        if f is not None:
            self._apply(f, self.fixes.move(f.index, class_index))

    @Slot()
    def move_to_chosen(self) -> None:
        f = self._current()
        if f is None:
            return
        name, ok = QInputDialog.getItem(self, "Move to…", "Class folder:", self.report.classes, 0, False)
        if ok:
            self.move_to_class(self.report.classes.index(name))

    @Slot()
    def exclude(self) -> None:
        f = self._current()
        if f is not None:
            self._apply(f, self.fixes.exclude(f.index))

    @Slot()
    def keep(self) -> None:
        f = self._current()
        if f is not None:
            self.fixes.keep(f.index)
            self.findings.mark(f, "kept")
            self.findings.advance()

    @Slot()
    def undo(self) -> None:
        if self.fixes is None:
            return
        index, result = self.fixes.undo()
        if result.note:
            self.message.setText(escape(result.note))
        if index is not None:
            self.findings.mark(Finding("", index, "", 0.0), self.fixes.status_of(index))
            self.findings.select_image(index)
        self.fixed.emit(result)
        self._update_buttons()

    @Slot()
    def undo_all(self) -> None:
        if self.fixes is None or self._undoing is not None:
            return
        self._undoing = UndoAllWorker(str(self.report.root))
        self._undoing.undone.connect(self._on_undone_all)
        self._undoing.failed.connect(self._on_failed)
        self._undoing.finished.connect(self._on_undo_all_done)
        self.context.pool.start(self._undoing)
        self._update_buttons()

    @Slot(list)
    def _on_undone_all(self, results: list) -> None:
        for index in self.fixes.undone_all(results):
            self.findings.mark(Finding("", index, "", 0.0), self.fixes.status_of(index))
        notes = [r.note for r in results if r.note]
        done = sum(r.done for r in results)
        self.message.setText(escape(f"Undid {done} fix(es)." + (" " + " ".join(notes[:3]) if notes else "")))
        for r in results:
            self.fixed.emit(r)

    @Slot()
    def _on_undo_all_done(self) -> None:
        self._undoing = None
        self._update_buttons()

    @Slot()
    def retrain(self) -> None:
        """Train on the corrected folder with the Train page's last settings (its form keeps them)."""
        if not self.folder or not self.context.has_page("train"):
            return
        train = self.context.page_named("train")
        train.train_when_ready(self.folder)
        self.context.show_page("train")

    def _update_buttons(self) -> None:
        busy = self._worker is not None
        if self.bundle:
            model = f"features of {Path(self.bundle).parent.name}/{Path(self.bundle).name}"
        else:
            model = "features of B0 (ImageNet weights when on disk, else random: train first for better ones)"
        self.folder_label.setText(f"<b>{escape(self.folder)}</b> · {escape(model)}" if self.folder else self.folder_label.text())
        self.run_button.setEnabled(bool(self.folder) and not busy)
        self.cancel_button.setEnabled(busy)
        self.choose_button.setEnabled(not busy)
        has_fixes = self.fixes is not None and bool(self.fixes.journal.active()) and self._undoing is None
        self.undo_button.setEnabled(has_fixes)
        self.undo_all_button.setEnabled(has_fixes)
        self.retrain_button.setEnabled(bool(self.folder) and not busy and self.context.has_page("train"))

    # --- screenshots ---------------------------------------------------------------------------
    def prepare_screenshot(self) -> None:
        """Diagnose a generated shapes data set with a few labels flipped on purpose."""
        import tempfile

        from app.pages.train.sample_data import make_sample_dataset

        self._sample = tempfile.TemporaryDirectory(prefix="efficientnet-studio-doctor-")
        data = make_sample_dataset(Path(self._sample.name) / "shapes", per_class=30, size=64)
        classes = sorted(p.name for p in data.iterdir() if p.is_dir())
        for n, path in enumerate(sorted((data / classes[0]).glob("*"))[:3]):
            path.rename(data / classes[1 + n % (len(classes) - 1)] / f"flipped-{path.name}")
        self.set_folder(str(data))
        self.diagnose()

    def is_settled(self) -> bool:
        return self._worker is None and self._undoing is None and not self._pending
