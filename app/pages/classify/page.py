"""The Classify page: drop, open or paste images and folders; top-5 labels stream in.

Dropped paths queue up; one ClassifyWorker at a time lists their image files
and streams predictions, while a ThumbnailWorker decodes the thumbnails. Both
run off the UI thread; their results are applied to the list ten times a
second, so a thousand fast predictions cost the UI ten repaints per second.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QModelIndex, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QGuiApplication, QImage, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListView,
    QMenu,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
)

from app.context import StudioContext
from app.pages import Page, add_action
from app.state import ActiveModel
from app.widgets.drop_zone import DropZone, PathDropTarget, local_paths, save_pasted_image
from app.widgets.job_bar import JobBar
from app.pages.classify.first_download import FirstDownload
from app.pages.classify.model_banner import ModelBanner
from app.pages.classify.results_delegate import ResultDelegate
from app.pages.models.weights_actions import WeightsActions
from app.pages.classify.results_model import ResultsModel, RowState, summary_text, write_csv
from app.pages.classify.workers import ClassifyWorker
from app.workers.thumbnails import ThumbnailWorker

IMAGE_FILTER = "Images (*.jpg *.jpeg *.png *.webp *.bmp *.gif *.tif *.tiff);;All files (*)"
FLUSH_INTERVAL_MS = 100


class ClassifyPage(PathDropTarget, Page):
    key = "classify"
    title = "Classify"
    tooltip = "Drop photos to get their top-5 labels"

    analyse_requested = Signal(str)  # a classified image to show on the Attention page

    def __init__(self, context: StudioContext) -> None:
        super().__init__(context)
        self.setAcceptDrops(True)  # the whole page takes drops, also once results are shown
        self.results = ResultsModel(self)
        self._queue: list[str] = []
        self._worker: ClassifyWorker | None = None
        self._thumbnailers: list[ThumbnailWorker] = []
        self._pending: list[tuple[int, object]] = []
        self._first_row = 0
        self._clears = 0  # bumped by clear(): thumbnails still on their way belong to old rows
        self.fast_decode_action: QAction | None = None  # made by fill_menu
        self._job_started = 0.0
        self._busy_seconds = 0.0  # wall-clock time spent classifying the rows shown
        self._build()
        self._flush_timer = QTimer(self)
        self._flush_timer.setInterval(FLUSH_INTERVAL_MS)
        self._flush_timer.timeout.connect(self._flush)

        session = self.session
        session.model_loading.connect(self._on_model_loading)
        session.model_changed.connect(self._on_model_changed)
        session.model_failed.connect(self._on_model_failed)
        session.backend_failed.connect(self._on_backend_failed)
        session.online_checked.connect(self._on_online_checked)
        # After the page's own slots, so the banner says "downloading" once the download starts.
        session.model_changed.connect(self.first_download.check)
        session.online_checked.connect(self.first_download.check)

    # --- layout -------------------------------------------------------------------
    def _build(self) -> None:
        self.banner = ModelBanner()
        self.banner.can_train = self._can_train
        self.banner.download_requested.connect(self.download_weights)
        self.banner.import_requested.connect(self.import_weights)
        self.banner.train_requested.connect(self._go_train)
        self.weights = WeightsActions(self.context, self.banner.job, self)
        self.weights.failed.connect(self._show_message)
        self.first_download = FirstDownload(self.session, self.weights, self.banner.job, self)
        self.first_download.started.connect(self._show_banner)
        self.first_download.wait_over.connect(self._on_download_wait_over)

        self.open_button = QPushButton("Open images…")
        self.open_button.setToolTip("Choose image files to classify (Ctrl+O)")
        self.open_button.clicked.connect(self.open_files)
        self.folder_button = QPushButton("Open folder…")
        self.folder_button.setToolTip("Classify every image in a folder and its sub-folders (Ctrl+Shift+O)")
        self.folder_button.clicked.connect(self.open_folder)
        self.paste_button = QPushButton("Paste")
        self.paste_button.setToolTip("Classify an image or image files from the clipboard (Ctrl+V)")
        self.paste_button.clicked.connect(self.paste)
        self.summary = QLabel()
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setToolTip("Save every result as a CSV table (Ctrl+E)")
        self.export_button.clicked.connect(self.export_csv)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Remove all results from the list")
        self.clear_button.clicked.connect(self.clear)
        tools = QHBoxLayout()
        for w in (self.open_button, self.folder_button, self.paste_button):
            tools.addWidget(w)
        tools.addSpacing(12)
        tools.addWidget(self.summary, 1)
        tools.addWidget(self.export_button)
        tools.addWidget(self.clear_button)

        self.drop_zone = DropZone()
        self.drop_zone.paths_dropped.connect(self.classify_paths)
        self.drop_zone.open_files_requested.connect(self.open_files)
        self.drop_zone.open_folder_requested.connect(self.open_folder)
        self.list_view = QListView()
        self.list_view.setModel(self.results)
        self.list_view.setItemDelegate(ResultDelegate(self.list_view))
        self.list_view.setUniformItemSizes(True)  # fast layout for thousands of rows
        self.list_view.setAlternatingRowColors(True)
        self.list_view.setVerticalScrollMode(QListView.ScrollMode.ScrollPerPixel)
        if self.context.has_page("attention"):
            self.list_view.setToolTip("Double-click or press Enter on a result to see its SE attention")
            self.list_view.activated.connect(self._on_result_activated)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.drop_zone)
        self.stack.addWidget(self.list_view)

        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.hide()
        self.job = JobBar()
        self.job.finished.connect(self._update_summary)

        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addLayout(tools)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.message)
        layout.addWidget(self.job)
        self._update_summary()

    def fill_menu(self, menu: QMenu) -> None:
        Key = QKeySequence.StandardKey
        add_action(menu, self, "&Open images…", self.open_files, Key.Open, "Choose image files to classify")
        add_action(menu, self, "Open &folder…", self.open_folder, "Ctrl+Shift+O", "Classify every image in a folder")
        add_action(menu, self, "&Paste", self.paste, Key.Paste, "Classify the clipboard's image or files")
        menu.addSeparator()
        add_action(menu, self, "&Export results as CSV…", self.export_csv, "Ctrl+E", "Save the results as a CSV table")
        add_action(menu, self, "&Cancel", self.cancel, "Esc", "Stop classifying; results so far are kept")
        add_action(menu, self, "C&lear results", self.clear, "Ctrl+Shift+Backspace", "Remove all results from the list")
        menu.addSeparator()
        self.fast_decode_action = add_action(
            menu, self, "Fast &JPEG decoding", self._set_fast_decode, None,
            "Decode JPEG photos at a reduced scale: about 1.2× faster, but the lower-ranked labels can change order",
        )
        self.fast_decode_action.setCheckable(True)
        self.fast_decode_action.setChecked(self.context.settings.fast_decode)

    # --- input ----------------------------------------------------------------------
    def take_paths(self, paths: list[str]) -> None:
        """Files and folders dropped anywhere on the page (PathDropTarget) are classified."""
        self.classify_paths(paths)

    @Slot()
    def open_files(self) -> None:
        self.context.show_page(self.key)
        files, _ = QFileDialog.getOpenFileNames(self, "Open images", self.settings.last_folder("images"), IMAGE_FILTER)
        if files:
            self.settings.set_last_folder("images", str(Path(files[0]).parent))
            self.classify_paths(files)

    @Slot()
    def open_folder(self) -> None:
        self.context.show_page(self.key)
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of images", self.settings.last_folder("images"))
        if folder:
            self.settings.set_last_folder("images", folder)
            self.classify_paths([folder])

    @Slot()
    def paste(self) -> None:
        self.context.show_page(self.key)
        mime = QGuiApplication.clipboard().mimeData()  # None when the clipboard has never held anything
        paths = local_paths(mime) if mime is not None else []
        if not paths and mime is not None and mime.hasImage():
            try:
                paths = [save_pasted_image(mime.imageData())]
            except OSError as e:
                self._show_message(f"The pasted image could not be saved for classifying ({e}).")
                return
        if not paths:
            self._show_message("The clipboard holds no image and no image files; copy one and paste again.")
            return
        self.classify_paths(paths)

    # --- classifying --------------------------------------------------------------
    @Slot(list)
    def classify_paths(self, paths: list[str]) -> None:
        """Queue files and folders for classification; they start as soon as a model is ready."""
        self._show_message("")
        self._queue.extend(str(p) for p in paths)
        self._start_next()

    def _start_next(self) -> None:
        if self._worker is not None or not self._queue:
            return
        predictor = self.session.predictor
        if predictor is None:
            self._show_message("Waiting for the model to load; the images are classified as soon as it is ready.")
            return
        if self.first_download.images_must_wait():
            self._show_message("Waiting for the ImageNet weights; the images are classified as soon as they are here.")
            self._show_banner()
            return
        paths, self._queue = self._queue, []
        self._show_message("")
        worker = ClassifyWorker(predictor, paths, fast_decode=self.context.settings.fast_decode)
        worker.files_listed.connect(self._on_files_listed)
        worker.prediction_ready.connect(self._on_prediction_ready)
        worker.failed.connect(self._on_failed)
        worker.finished.connect(self._on_finished)
        self._worker = worker
        self._job_started = time.monotonic()
        active = self.session.active
        self.job.track(worker, f"Classifying with {active.title}" if active else "Classifying")
        self.context.pool.start(worker)  # after every connection, so no early signal is lost
        self._flush_timer.start()
        self._update_buttons()

    @Slot(list)
    def _on_files_listed(self, files: list[str]) -> None:
        if not files:
            self._show_message("No image files were found there (looked for JPEG, PNG, WebP, BMP, GIF and TIFF).")
            return
        self._first_row = self.results.add_files(files)
        self.stack.setCurrentWidget(self.list_view)
        # New results below older ones would arrive out of sight: bring the first of them into view.
        self.list_view.scrollTo(self.results.index(self._first_row, 0), QListView.ScrollHint.PositionAtTop)
        thumbnailer = ThumbnailWorker(files, self._first_row, batch=self._clears)
        thumbnailer.thumbnail_ready.connect(self._on_thumbnail_ready)
        thumbnailer.ended.connect(self._on_thumbnailer_ended)
        self._thumbnailers.append(thumbnailer)
        self.context.pool.start(thumbnailer)

    @Slot(int, object)
    def _on_prediction_ready(self, index: int, prediction) -> None:
        self._pending.append((self._first_row + index, prediction))

    @Slot()
    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        self.results.set_predictions(pending)
        if pending:
            self._update_summary()

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._show_message(message)

    @Slot()
    def _on_finished(self) -> None:
        worker, self._worker = self._worker, None
        self._busy_seconds += time.monotonic() - self._job_started
        self._flush()
        self._flush_timer.stop()
        if worker is not None and worker.stop_requested:
            cancelled = self.results.mark_cancelled(self._first_row)
            if cancelled:
                self._show_message(f"Cancelled: {cancelled} images were not classified; the results so far are kept.")
            for t in self._thumbnailers:
                t.stop()
        self._update_summary()
        self._update_buttons()
        self._start_next()

    @Slot(int, int, QImage)
    def _on_thumbnail_ready(self, batch: int, row: int, image: QImage) -> None:
        if batch == self._clears:  # rows cleared since then are gone; new rows may have their indices
            self.results.set_thumbnail(row, image)

    @Slot(object)
    def _on_thumbnailer_ended(self, thumbnailer) -> None:
        self._thumbnailers = [t for t in self._thumbnailers if t is not thumbnailer]

    @Slot(QModelIndex)
    def _on_result_activated(self, index: QModelIndex) -> None:
        row = self.results.rows()[index.row()]
        if row.state is RowState.DONE:
            self.analyse_requested.emit(row.path)

    @Slot(bool)
    def _set_fast_decode(self, on: bool) -> None:
        self.context.settings.fast_decode = on  # applies from the next drop

    @Slot()
    def cancel(self) -> None:
        self._queue.clear()
        if self._worker is not None:
            self.job.cancel()

    @Slot()
    def clear(self) -> None:
        if self._worker is not None:
            self._show_message("Cancel or wait for the running batch before clearing the results.")
            return
        for t in self._thumbnailers:
            t.stop()
        self._clears += 1
        self._busy_seconds = 0.0
        self.results.clear()
        self.stack.setCurrentWidget(self.drop_zone)
        self._show_message("")
        self._update_summary()
        self._update_buttons()

    @Slot()
    def export_csv(self) -> None:
        self.context.show_page(self.key)
        rows = self.results.rows()
        if not any(r.state is not RowState.WAITING for r in rows):
            self._show_message("There are no results to export yet: drop some images first.")
            return
        start = str(Path(self.settings.last_folder("export") or Path.home()) / "predictions.csv")
        path, _ = QFileDialog.getSaveFileName(self, "Export results as CSV", start, "CSV files (*.csv)")
        if not path:
            return
        try:
            count = write_csv(path, rows)
        except OSError as e:
            self._show_message(f"The CSV could not be written to {path} ({e.strerror or e}); choose another folder.")
            return
        self.settings.set_last_folder("export", str(Path(path).parent))
        self.context.show_message(f"Exported {count} results to {path}")

    # --- the model banner -----------------------------------------------------------
    @Slot(object)
    def _on_model_loading(self, choice) -> None:
        if self.session.predictor is None:
            self.banner.show_loading(choice)

    @Slot(object)
    def _on_model_changed(self, active: ActiveModel) -> None:
        self._show_banner()
        self._start_next()

    @Slot()
    def _show_banner(self) -> None:
        download = self.first_download
        self.banner.show_active(self.session.active, self.session.online,
                                downloading_mb=download.download_mb() if download.running else None)

    @Slot()
    def _on_download_wait_over(self) -> None:
        if self.session.active is not None:
            self._show_banner()
        self._start_next()  # weights failed or cancelled: what waits is classified with what there is

    @Slot(str)
    def _on_model_failed(self, message: str) -> None:
        if self.session.predictor is None:
            self.banner.show_failed(message)
        else:
            self._show_message(message)
        self._start_next()

    @Slot(str)
    def _on_backend_failed(self, message: str) -> None:
        self.banner.show_failed(message, backend=True)
        if self._queue:
            self._queue.clear()
            self._show_message("The dropped images cannot be classified without the backend.")

    @Slot(bool)
    def _on_online_checked(self, online: bool) -> None:
        if self.session.active is not None:
            self._show_banner()
        if not online:
            self._start_next()  # no download is coming

    @Slot()
    def download_weights(self) -> None:
        if self.session.active is not None and self.weights.download(self.session.active.variant):
            self.first_download.follow()  # dropped images wait for this one too

    @Slot()
    def import_weights(self) -> None:
        if self.session.active is not None:
            self.weights.import_file(self.session.active.variant)

    def _can_train(self) -> bool:
        return self.context.has_page("train")

    @Slot()
    def _go_train(self) -> None:
        self.context.show_page("train")

    # --- state --------------------------------------------------------------------------
    @Slot(str)
    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def _update_buttons(self) -> None:
        self.clear_button.setEnabled(self._worker is None and self.results.rowCount() > 0)
        self.export_button.setEnabled(self.results.rowCount() > 0)

    @Slot()
    def _update_summary(self) -> None:
        self.summary.setText(summary_text(self.results.rows(), self._worker is not None, self._busy_seconds))
        self._update_buttons()

    def is_settled(self) -> bool:
        return self._worker is None and not self._queue and not self._thumbnailers
