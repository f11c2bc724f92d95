"""The Attention page: what each squeeze-and-excitation block of the active classifier emphasises.

"Image" tab: open or drop a photo; an ``AnalysisWorker`` runs one forward pass
with the SE blocks recorded, and the panel shows the crop, the spatial SE map of
the block chosen with the slider (or what SE changed there), Grad-CAM for the
predicted class and the blocks × channels gate map. "Compare classes" tab:
for a folder with one sub-folder per class, a ``ClassComparisonWorker`` finds
where in depth the gates become class-specific. Both run in the background with
progress and Cancel; the current view exports to PNG.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QMenu, QPushButton, QTabWidget, QVBoxLayout

from app.pages.attention.workers import AnalysedImage, AnalysisNetworks
from app.context import StudioContext
from app.pages import Page
from app.pages.attention.jobs import ClassComparisonJob, EvidenceJob, ImageAnalysisJob
from app.pages.classify.page import IMAGE_FILTER
from app.platform.resources import RESOURCES
from app.state import ActiveModel
from app.pages.attention.attention_panel import AttentionPanel
from app.pages.attention.comparison_panel import ComparisonPanel
from app.widgets.drop_zone import PathDropTarget
from app.widgets.job_bar import JobBar

SAMPLE_IMAGE = RESOURCES / "samples" / "summer-palace.jpg"  # analysed for --screenshot (see its README)


class AttentionPage(PathDropTarget, Page):
    key = "attention"
    title = "Attention"
    tooltip = "See what each squeeze-and-excitation block emphasises in an image, and where classes differ"

    image_analysed = Signal(object)  # AnalysedImage, once it is on screen
    classes_compared = Signal(object)  # ClassComparison, once it is on screen

    def __init__(self, context: StudioContext) -> None:
        super().__init__(context)
        self.setAcceptDrops(True)
        self.networks = AnalysisNetworks()
        self._stale = False  # the image shown was analysed with a model that is no longer active
        self._scoring_cut = False  # a new analysis stopped the scoring of the image on show
        self.change_action: QAction | None = None  # made by fill_menu
        self._build()
        session = self.session
        session.model_changed.connect(self._on_model_changed)
        session.model_failed.connect(self._on_model_unavailable)
        session.backend_failed.connect(self._on_model_unavailable)

    # --- layout ---------------------------------------------------------------------
    def _build(self) -> None:
        self.open_button = QPushButton("Open image…")
        self.open_button.setToolTip("Choose a photo to analyse (Ctrl+Shift+A); you can also drop one on this page")
        self.open_button.clicked.connect(self.open_image)
        self.file_label = QLabel()
        self.export_button = QPushButton("Export PNG…")
        self.export_button.setToolTip("Save the current view as a PNG picture (Ctrl+Shift+E)")
        self.export_button.clicked.connect(self.export_png)
        tools = QHBoxLayout()
        tools.addWidget(self.open_button)
        tools.addWidget(self.file_label, 1)
        tools.addWidget(self.export_button)

        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.hide()
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.hide()
        self.job = JobBar()
        self.job.cancel_button.setToolTip("Stop the analysis; the view shown stays as it is")

        self.panel = AttentionPanel()
        self.panel.class_chosen.connect(self._on_class_chosen)
        self.comparison_panel = ComparisonPanel()
        self.comparison_panel.folder_button.clicked.connect(self.choose_folder)
        self.analysis = ImageAnalysisJob(self.job, self.session, self.context.pool, self.networks, self)
        self.analysis.analysed.connect(self._on_analysed)
        self.analysis.failed.connect(self._on_failed)
        self.analysis.waiting.connect(self._on_waiting)
        self.analysis.finished.connect(self._on_analysis_finished)
        self.evidence = EvidenceJob(self.job, self.context.pool, self)
        self.evidence.scored.connect(self._on_scored)
        self.evidence.finished.connect(self._finish_cut_scoring)
        self.evidence.failed.connect(self._show_message)
        self.panel.evidence.wanted.connect(self._on_evidence_wanted)
        self.comparison = ClassComparisonJob(self.comparison_panel, self.session, self.context.pool, self.networks, self)
        self.comparison.compared.connect(self.classes_compared)
        self.comparison.finished.connect(self._update_buttons)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.panel, "Image")
        self.tabs.setTabToolTip(0, "SE maps, Grad-CAM and gates for one image")
        self.tabs.addTab(self.comparison_panel, "Compare classes")
        self.tabs.setTabToolTip(1, "Where in depth the SE gates tell the classes of a folder apart")
        self.tabs.currentChanged.connect(self._update_buttons)

        layout = QVBoxLayout(self)
        layout.addLayout(tools)
        layout.addWidget(self.note)
        layout.addWidget(self.message)
        layout.addWidget(self.job)
        layout.addWidget(self.tabs, 1)
        self.panel.change_toggle.setChecked(self.settings.attention_change)
        self.panel.change_toggle.toggled.connect(self._on_change_toggled)
        self._update_buttons()

    def fill_menu(self, menu: QMenu) -> None:
        def action(text: str, slot, shortcut, tip: str, page_only: bool = False) -> QAction:
            a = QAction(text, self)
            a.setShortcut(QKeySequence(shortcut))
            a.setStatusTip(tip)
            a.triggered.connect(slot)
            if page_only:  # keys other pages may use for themselves: only while this page has focus
                a.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
                self.addAction(a)
            menu.addAction(a)
            return a

        action("&Analyse image…", self.open_image, "Ctrl+Shift+A", "Choose a photo and see its SE attention")
        action("&Compare classes in a folder…", self.choose_folder, "Ctrl+Shift+C",
               "Find where the SE gates tell the classes of a folder apart")
        menu.addSeparator()
        action("&Previous block", self.previous_block, QKeySequence.StandardKey.MoveToPreviousPage,
               "Show the SE block before this one", page_only=True)
        action("&Next block", self.next_block, QKeySequence.StandardKey.MoveToNextPage,
               "Show the SE block after this one", page_only=True)
        # A bound slot reading the action's own state: connected straight to QCheckBox.setChecked,
        # PySide chose triggered()'s no-argument form and the call failed.
        self.change_action = action("What SE c&hanged", self._on_change_action, "Ctrl+Shift+D",
                                    "Weight channels by s − mean(s): where SE boosts the response")
        self.change_action.setCheckable(True)
        self.change_action.setChecked(self.panel.change_toggle.isChecked())
        menu.addSeparator()
        action("&Export view as PNG…", self.export_png, "Ctrl+Shift+E", "Save the current view as a picture")
        stop = QAction("&Stop analysing", self)
        stop.setStatusTip("Stop the analysis and the class comparison; what is shown stays")
        stop.triggered.connect(self.cancel)
        menu.addAction(stop)

    # --- input ----------------------------------------------------------------------------
    def take_paths(self, paths: list[str]) -> None:
        """A dropped folder compares its classes; a dropped image is analysed (the first of several)."""
        if Path(paths[0]).is_dir():
            self.compare_folder(paths[0])
        else:
            self.analyse_path(paths[0])
            if len(paths) > 1:
                self.context.show_message(f"Analysing {Path(paths[0]).name}, the first of {len(paths)} dropped files.")

    @Slot()
    def open_image(self) -> None:
        self.context.show_page(self.key)
        path, _ = QFileDialog.getOpenFileName(self, "Analyse an image", self.settings.last_folder("images"), IMAGE_FILTER)
        if path:
            self.settings.set_last_folder("images", str(Path(path).parent))
            self.analyse_path(path)

    @Slot()
    def choose_folder(self) -> None:
        self.context.show_page(self.key)
        folder = QFileDialog.getExistingDirectory(
            self, "Compare classes: a folder with one sub-folder per class", self.settings.last_folder("dataset")
        )
        if folder:
            self.settings.set_last_folder("dataset", folder)
            self.compare_folder(folder)

    def prepare_screenshot(self) -> None:
        self.analyse_path(str(SAMPLE_IMAGE))

    # --- analysing one image -----------------------------------------------------------------
    @Slot(str)
    def analyse_path(self, path: str, target_class: int | None = None) -> None:
        """Analyse ``path`` with the active classifier as soon as it is ready (the newest request wins)."""
        self.context.show_page(self.key)
        self._show_message("")
        self.tabs.setCurrentWidget(self.panel)
        self._stale = False
        if not self.evidence.idle:  # the scores of the image on show: the new analysis needs the processor more
            self.evidence.cancel()
            self._scoring_cut = True
        self.analysis.request(path, target_class)
        self._update_buttons()

    @Slot(str)
    def _on_waiting(self, path: str) -> None:
        self.file_label.setText(f"{Path(path).name} · waiting for the model to load…")

    @Slot(object)
    def _on_analysed(self, analysed: AnalysedImage) -> None:
        self.panel.show_analysis(analysed)
        self._describe_image()
        if self.isVisible():
            self.panel.slider.setFocus()  # ←/→ and Page Up/Down scrub at once
        self.image_analysed.emit(analysed)

    @Slot()
    def _on_analysis_finished(self) -> None:
        self._update_buttons()
        self._finish_cut_scoring()

    @Slot()
    def _finish_cut_scoring(self) -> None:
        """When a new analysis cut the scoring of the image on show short and then failed or was stopped,
        that image stays on show: score what it still lacks (a new image asks for its own scores)."""
        if self._scoring_cut and self.analysis.idle and self.evidence.idle:
            self._scoring_cut = False
            self.panel.evidence.ask_again()

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._show_message(message)
        self._describe_image()

    def _describe_image(self) -> None:
        """The file label names the image on show, the model that analysed it and how long it took."""
        analysed = self.panel.analysed
        if analysed is None:
            self.file_label.setText("")
            self.file_label.setToolTip("")
            return
        self.file_label.setText(f"{Path(analysed.path).name} · {analysed.model_summary} · "
                                f"analysed in {analysed.seconds:.1f} s")
        self.file_label.setToolTip(analysed.path)

    @Slot(object)
    def _on_evidence_wanted(self, requests: list) -> None:
        explainer = self.panel.evidence.explainer
        if explainer is not None:
            self.evidence.request(explainer, requests)

    @Slot(object)
    def _on_scored(self, requests: list) -> None:
        self.panel.evidence_ready()

    @Slot(int)
    def _on_class_chosen(self, index: int) -> None:
        if self.panel.analysed is not None:
            self.analyse_path(self.panel.analysed.path, target_class=index)

    @Slot()
    def previous_block(self) -> None:
        self.panel.step(-1)

    @Slot()
    def next_block(self) -> None:
        self.panel.step(1)

    @Slot()
    def _on_change_action(self) -> None:
        self.panel.change_toggle.setChecked(self.change_action.isChecked())  # comes back via _on_change_toggled

    @Slot(bool)
    def _on_change_toggled(self, on: bool) -> None:
        self.settings.attention_change = on
        if self.change_action is not None:
            self.change_action.setChecked(on)

    # --- comparing classes ----------------------------------------------------------------
    @Slot(str)
    def compare_folder(self, folder: str) -> None:
        """Compare the SE gates of the classes in ``folder`` (one sub-folder per class)."""
        self.tabs.setCurrentWidget(self.comparison_panel)
        self.comparison.request(folder)
        self._update_buttons()

    @Slot()
    def cancel(self) -> None:
        """Stop both jobs of this page (nothing half-done is shown)."""
        self.analysis.cancel()
        self.evidence.cancel()
        self.comparison.cancel()

    # --- the active model ---------------------------------------------------------------------
    @Slot(object)
    def _on_model_changed(self, active: ActiveModel) -> None:
        self._show_note(active)
        if self.panel.analysed is not None and self.panel.analysed.model_summary != active.summary():
            self._stale = True
        if self._stale and self.analysis.idle and self.isVisible():
            self._reanalyse()
        self.analysis.start_pending()
        self.comparison.start_pending()

    def _reanalyse(self) -> None:
        # Grad-CAM's class may not exist in the new model: explain the predicted one.
        self._stale = False
        self.analyse_path(self.panel.analysed.path)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale and self.analysis.idle:
            self._reanalyse()

    @Slot(str)
    def _on_model_unavailable(self, message: str) -> None:
        if self.session.predictor is None and not (self.analysis.idle and self.comparison.idle):
            self.analysis.drop_pending()
            self.comparison.drop_pending()
            self._describe_image()
            self._show_message(f"Nothing can be analysed without a model: {message}")

    def _show_note(self, active: ActiveModel) -> None:
        if active.uses_random_weights:
            why = " (its ImageNet weights are not on this computer; get them on the Models page)" \
                if active.imagenet_missing else ""
            self.note.setText(f"{active.title} has random weights{why}: the maps show how an untrained network "
                              "responds, not what it has learned.")
        self.note.setVisible(active.uses_random_weights)

    # --- export -------------------------------------------------------------------------------
    @Slot()
    def export_png(self) -> None:
        """Save the current tab's view as a PNG (composed with model.explain.figures, whatever the window size)."""
        from model.explain.render import save_png

        self.context.show_page(self.key)
        view = self.tabs.currentWidget()  # both panels offer picture() and picture_name()
        if view.picture_name() is None:
            what = "open or drop an image" if view is self.panel else "compare the classes of a folder"
            self._show_message(f"There is nothing to export yet: {what} first.")
            return
        start = str(Path(self.settings.last_folder("export") or Path.home()) / view.picture_name())
        path, _ = QFileDialog.getSaveFileName(self, "Export the view as PNG", start, "PNG images (*.png)")
        if not path:
            return
        if not path.lower().endswith(".png"):
            path += ".png"
        try:
            save_png(view.picture(), path)
        except OSError as e:
            self._show_message(f"The picture could not be saved to {path} ({e.strerror or e}); choose another folder.")
            return
        self.settings.set_last_folder("export", str(Path(path).parent))
        self.context.show_message(f"Saved the view to {path}")

    # --- state ----------------------------------------------------------------------------------
    @Slot(str)
    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    @Slot()
    def _update_buttons(self) -> None:
        self.export_button.setEnabled(self.tabs.currentWidget().picture_name() is not None)

    def is_settled(self) -> bool:
        return self.analysis.idle and self.evidence.idle and self.comparison.idle
