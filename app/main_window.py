"""The main window: composes the pages, menus and status bar; wiring and shutdown only."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QTabWidget,
)

from app.context import StudioContext
from app.pages import Page
from app.pages.attention.page import AttentionPage
from app.pages.classify.page import ClassifyPage
from app.pages.doctor.page import DoctorPage
from app.pages.models.page import ModelsPage
from app.pages.train.page import TrainPage
from app.session import ModelSession
from app.settings import AppSettings
from app.state import ActiveModel, BackendInfo
from app.workers import WorkerPool

# The window's pages in tab order; a new page is one more line here.
PAGES: tuple[type[Page], ...] = (
    ClassifyPage,
    ModelsPage,
    TrainPage,
    DoctorPage,
    AttentionPage,
)
PAGE_KEYS: tuple[str, ...] = tuple(p.key for p in PAGES)
SCREENSHOT_SIZE = (1280, 800)


class MainWindow(QMainWindow):
    """EfficientNet Studio's window. ``start()`` begins loading the backend in the background."""

    settled = Signal()  # the backend, the model and every page's work are done (for screenshots)

    def __init__(self, settings: AppSettings | None = None, page: str | None = None, remember: bool = True) -> None:
        super().__init__()
        self.setWindowTitle("EfficientNet Studio")
        self.settings = settings or AppSettings()
        self.remember = remember  # False for screenshots: leave the user's saved geometry alone
        self.pool = WorkerPool(self)
        self.session = ModelSession(self.settings, self.pool, self)
        self._closing = False
        self._close_when_idle = False

        self.context = StudioContext(
            settings=self.settings,
            session=self.session,
            pool=self.pool,
            show_page=self.show_page,
            has_page=self.has_page,
            show_message=self._show_message,
            page_named=lambda key: self.pages.get(key),
        )
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.pages: dict[str, Page] = {}
        for page_type in PAGES:
            widget = page_type(self.context)
            self.pages[widget.key] = widget
            index = self.tabs.addTab(widget, widget.title)
            self.tabs.setTabToolTip(index, widget.tooltip)
        self.setCentralWidget(self.tabs)
        self._build_menus()
        self._build_status_bar()

        self.session.backend_loaded.connect(self._on_backend_loaded)
        self.session.backend_failed.connect(self._on_backend_failed)
        self.session.model_changed.connect(self._on_model_changed)
        self.session.model_loading.connect(self._on_model_loading)
        self.session.model_failed.connect(self._show_message)
        self.pool.busy_changed.connect(self._on_busy_changed)
        self.pool.all_finished.connect(self._check_settled)
        self.tabs.currentChanged.connect(self._on_tab_changed)
        if self.has_page("attention"):
            self.pages["classify"].analyse_requested.connect(self.pages["attention"].analyse_path)
        if self.has_page("doctor"):
            self.pages["train"].run_shown.connect(self.pages["doctor"].use_run)

        self.resize(*SCREENSHOT_SIZE)
        if remember and self.settings.geometry is not None:
            self.restoreGeometry(self.settings.geometry)
        self.show_page(page or self.settings.page)

    # --- composition ------------------------------------------------------------------
    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        open_bundle = QAction("Open fine-tuned &model…", self)
        open_bundle.setShortcut(QKeySequence("Ctrl+Shift+M"))
        open_bundle.setStatusTip("Classify with a model bundle made by training (model.pt)")
        open_bundle.triggered.connect(self.open_bundle)
        file_menu.addAction(open_bundle)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        for page in self.pages.values():
            page.fill_menu(bar.addMenu(f"&{page.title}"))

        view_menu = bar.addMenu("&View")
        for number, page in enumerate(self.pages.values(), start=1):
            action = QAction(page.title, self)
            action.setShortcut(QKeySequence(f"Ctrl+{number}"))
            action.setData(page.key)
            action.triggered.connect(self._on_view_action)
            view_menu.addAction(action)

        help_menu = bar.addMenu("&Help")
        about = QAction("&About EfficientNet Studio", self)
        about.setMenuRole(QAction.MenuRole.AboutRole)
        about.triggered.connect(self.show_about)
        help_menu.addAction(about)
        about_qt = QAction("About &Qt", self)
        about_qt.setMenuRole(QAction.MenuRole.AboutQtRole)
        about_qt.triggered.connect(QApplication.aboutQt)
        help_menu.addAction(about_qt)

    def _build_status_bar(self) -> None:
        status = self.statusBar()
        self.busy_label = QLabel()
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setMaximumWidth(120)
        self.busy_bar.setMaximumHeight(14)
        self.busy_bar.hide()
        self.model_label = QLabel("No model yet")
        self.model_label.setToolTip("The active classifier and its weights")
        self.device_label = QLabel("Device: loading PyTorch…")
        self.device_label.setToolTip("Where the models run")
        status.addWidget(self.busy_bar)
        status.addWidget(self.busy_label, 1)
        status.addPermanentWidget(self.model_label)
        status.addPermanentWidget(self.device_label)
        self._on_busy_changed(self.pool.busy_text())

    # --- start-up and navigation -----------------------------------------------------
    def start(self, check_online: bool = True) -> None:
        """Load torch and the backend in a worker; the window stays responsive meanwhile."""
        self.session.start(check_online=check_online)

    def has_page(self, key: str) -> bool:
        # PAGE_KEYS too, not only self.pages: pages ask while the window is still making the later ones.
        return key in PAGE_KEYS or key in self.pages

    def page(self, key: str) -> Page:
        return self.pages[key]

    @Slot(str)
    def show_page(self, key: str) -> None:
        if key in self.pages:
            self.tabs.setCurrentWidget(self.pages[key])

    @Slot()
    def _on_view_action(self) -> None:
        self.show_page(self.sender().data())

    @Slot(int)
    def _on_tab_changed(self, index: int) -> None:
        page = self.tabs.widget(index)
        if isinstance(page, Page) and self.remember:
            self.settings.page = page.key

    @Slot()
    def open_bundle(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a fine-tuned model", self.settings.last_folder("bundle"), "Model bundles (*.pt);;All files (*)"
        )
        if path:
            self.settings.set_last_folder("bundle", str(Path(path).parent))
            self.session.activate_bundle(path)

    @Slot()
    def show_about(self) -> None:
        QMessageBox.about(
            self,
            "About EfficientNet Studio",
            "<h3>EfficientNet Studio</h3><p>Classify photos, compare EfficientNet B0–B7 on your own machine, "
            "fine-tune on your folders and see what the squeeze-and-excitation blocks attend to.</p>"
            "<p>Models and ImageNet weights by torchvision (PyTorch).</p>",
        )

    # --- status bar -------------------------------------------------------------------------
    @Slot(str)
    def _show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    @Slot(str)
    def _on_busy_changed(self, text: str) -> None:
        self.busy_label.setText(f"{text}…" if text else "Ready")
        self.busy_bar.setVisible(bool(text))

    @Slot(object)
    def _on_backend_loaded(self, info: BackendInfo) -> None:
        self.device_label.setText(f"Device: {info.device_name}")
        if info.note:
            self._show_message(info.note)

    @Slot(str)
    def _on_backend_failed(self, message: str) -> None:
        self.device_label.setText("Device: unavailable")
        self._show_message(message)
        self._check_settled()

    @Slot(object)
    def _on_model_loading(self, choice) -> None:
        self.model_label.setText(f"Loading {self.session.describe_choice(choice)}…")

    @Slot(object)
    def _on_model_changed(self, active: ActiveModel) -> None:
        self.model_label.setText(active.summary())
        self.device_label.setText(f"Device: {active.device_name}")

    # --- settling (screenshots) and closing --------------------------------------------------
    def is_settled(self) -> bool:
        session_done = self.session.backend_error != "" or (self.session.active is not None and self.session.loading is None)
        return session_done and self.pool.idle and all(p.is_settled() for p in self.pages.values())

    @Slot()
    def _check_settled(self) -> None:
        # Pages react to a worker's last signals in the same event-loop turn; look again after them.
        # With the window as context, the call is dropped if the window is deleted meanwhile.
        QTimer.singleShot(0, self, self._emit_if_settled)

    @Slot()
    def _emit_if_settled(self) -> None:
        if self.is_settled():
            self.settled.emit()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._closing:
            self._closing = True
            if self.remember:
                self.settings.geometry = self.saveGeometry()
                self.settings.sync()
        if not self.pool.idle:
            # Ask every worker to stop and close once they have; the UI keeps running meanwhile.
            self.pool.stop_all()
            if not self._close_when_idle:
                self._close_when_idle = True
                self.pool.all_finished.connect(self.close)
            self.busy_label.setText("Stopping background work…")
            self.hide()
            event.ignore()
            return
        event.accept()
