"""The Models page: B0–B7 side by side, their weights, their speed here, and compound scaling.

Downloading, importing, switching the active classifier and measuring all run
in workers; one job at a time runs from this page, with its progress and Cancel
in the job bar.
"""

from __future__ import annotations

from dataclasses import asdict, fields

from PySide6.QtCore import QItemSelectionModel, Qt, Slot
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
)

from app.context import StudioContext
from app.pages import Page, add_action
from app.state import ActiveModel, BackendInfo
from app.pages.models.runtime_menu import RuntimeMenu
from app.pages.models.weights_actions import WeightsActions
from app.widgets.job_bar import JobBar
from app.pages.models.scaling_chart import ScalingChart
from app.pages.models.scaling_explainer import ScalingExplainer
from app.pages.models.variant_table import VariantTableModel
from app.pages.models.workers import MeasureWorker
from model.core.variants import VARIANT_NAMES


def measure_plan(device: str) -> tuple[int, int]:
    """(batch size, repeats) for measuring: single images on a CPU, where a batch of B7 takes
    many seconds; batches of 16 on a GPU, where throughput needs batches to show."""
    return (1, 5) if device.startswith("cpu") else (16, 10)


def verdict_summary(verdict) -> str:
    """"B0: ONNX Runtime f32 (OpenVINO bf16 changed answers)": the runtime chosen for a variant, and why
    faster candidates were not (``model.inference.runtime_trials.RuntimeVerdict``)."""
    from model.inference.runtime_trials import UNCHECKED_REDUCED

    refused = [t.choice.label for t in verdict.trials if t.agreement is not None and not t.agreement.passed]
    unchecked = [t.choice.label for t in verdict.trials if t.error == UNCHECKED_REDUCED]
    notes = ([f"{', '.join(refused)} changed answers"] if refused else []) + (
        [f"{', '.join(unchecked)} not tried without ImageNet weights"] if unchecked else [])
    return f"{verdict.variant.upper()}: {verdict.chosen.label}" + (f" ({'; '.join(notes)})" if notes else "")


class ModelsPage(Page):
    key = "models"
    title = "Models"
    tooltip = "Compare B0–B7, get their weights and measure them on this machine"

    def __init__(self, context: StudioContext) -> None:
        super().__init__(context)
        self.table_model = VariantTableModel(self)
        # What "Measure on this machine" times: every variant at its native resolution.
        self.measure_variants: tuple[str, ...] = VARIANT_NAMES
        self.measure_image_size: int | None = None
        self._device_actions: QActionGroup | None = None
        self._device_menu: QMenu | None = None
        self.runtime_menu: RuntimeMenu | None = None
        self._verdicts: list[str] = []  # "B0: OpenVINO bf16", one per variant measured
        self._verdict_text = ""  # what the last measurement chose, shown while nothing else needs saying
        self._build()
        s = self.session
        s.backend_loaded.connect(self._on_backend_loaded)
        s.model_changed.connect(self._on_model_changed)
        s.model_loading.connect(self._update_buttons)
        s.weights_changed.connect(self._on_weights_changed)
        s.online_checked.connect(self._update_buttons)
        self._select(self.settings.models_selected)
        self._refresh_chart()
        self._update_buttons()

    def _build(self) -> None:
        self.table = QTableView()
        self.table.setModel(self.table_model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(5, QHeaderView.ResizeMode.ResizeToContents)
        rows_height = self.table.verticalHeader().defaultSectionSize() * len(VARIANT_NAMES)
        self.table.setFixedHeight(rows_height + header.sizeHint().height() + 2 * self.table.frameWidth())
        self.table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.table.doubleClicked.connect(self.use_selected)

        self.use_button = QPushButton("Use as classifier")
        self.use_button.setToolTip("Classify with the selected variant (Ctrl+Return); it loads in the background")
        self.use_button.clicked.connect(self.use_selected)
        self.download_button = QPushButton("Download weights")
        self.download_button.setToolTip("Download torchvision's ImageNet weights for the selected variant (Ctrl+D)")
        self.download_button.clicked.connect(self.download_selected)
        self.import_button = QPushButton("Import weights file…")
        self.import_button.setToolTip("Use a .pth/.pt ImageNet weights file you already have for the selected variant")
        self.import_button.clicked.connect(self.import_for_selected)
        self.measure_button = QPushButton("Measure on this machine")
        self.measure_button.setToolTip(
            "Time every variant with every runtime and precision on the current device and keep, per variant, "
            "the fastest whose answers agree with fp32 (Ctrl+M)"
        )
        self.measure_button.clicked.connect(self.measure)
        self.status = QLabel()
        # Wrapped: as one line, its longest sentence (no ImageNet weights on disk) is ~730 px wide,
        # and a label's width is its minimum, which widened the window by 37 px at 1280×800.
        self.status.setWordWrap(True)
        buttons = QHBoxLayout()
        for b in (self.use_button, self.download_button, self.import_button):
            buttons.addWidget(b)
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.measure_button)
        self.job = JobBar()
        self.job.finished.connect(self._on_job_finished)
        self.weights = WeightsActions(self.context, self.job, self)
        self.weights.failed.connect(self._on_failed)

        self.chart = ScalingChart()
        self.explainer = ScalingExplainer()
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.chart)
        splitter.addWidget(self.explainer)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([680, 560])
        splitter.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        layout.addWidget(self.job)
        layout.addWidget(splitter, 1)

    def fill_menu(self, menu: QMenu) -> None:
        add_action(menu, self, "&Use as classifier", self.use_selected, "Ctrl+Return", "Classify with the selected variant")
        add_action(menu, self, "&Download weights", self.download_selected, "Ctrl+D", "Download the selected variant's weights")
        add_action(menu, self, "&Import weights file…", self.import_for_selected, "Ctrl+I", "Import a weights file for it")
        add_action(menu, self, "&Measure on this machine", self.measure, "Ctrl+M", "Time every variant on this device")
        add_action(menu, self, "&Stop the job", self.job.cancel, "Ctrl+.", "Cancel the download or measurement")
        menu.addSeparator()
        self._device_menu = menu.addMenu("Compute &device")
        self._device_menu.setEnabled(False)  # filled once the backend knows the devices
        self.runtime_menu = RuntimeMenu(menu.addMenu("Inference &runtime"), self.session)

    # --- selection ---------------------------------------------------------------------
    def selected_variant(self) -> str:
        rows = self.table.selectionModel().selectedRows()
        return self.table_model.variant_at(rows[0].row()) if rows else self.settings.models_selected

    def _select(self, variant: str) -> None:
        row = self.table_model.row_of(variant)
        if row >= 0:
            flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
            self.table.selectionModel().select(self.table_model.index(row, 0), flags)

    @Slot()
    def _on_selection_changed(self) -> None:
        self.settings.models_selected = self.selected_variant()
        self._update_buttons()

    @Slot()
    def _update_buttons(self) -> None:
        variant = self.selected_variant()
        loaded = self.session.backend is not None
        idle = not self.job.busy
        cached = self.session.weights_cached(variant)
        active = self.session.active
        loading = self.session.loading
        self.use_button.setEnabled(loaded and (active is None or active.variant != variant or active.is_fine_tuned))
        self.download_button.setEnabled(loaded and idle and not cached and self.session.online is not False)
        self.import_button.setEnabled(loaded and idle)
        self.measure_button.setEnabled(loaded and idle)
        if not loaded:
            self.status.setText("Loading the backend…")
        elif loading is not None:
            self.status.setText(f"Switching to {self.session.describe_choice(loading)}…")
        elif active is not None and active.imagenet_missing and active.variant == variant:
            self.status.setText(
                f"{active.title} has no ImageNet weights on disk, so it classifies with random weights "
                "until you download or import them."
            )
        elif not cached and self.session.online is False:
            self.status.setText("No internet connection: import a weights file to use ImageNet weights offline.")
        else:
            self.status.setText(self._verdict_text)

    # --- actions -----------------------------------------------------------------------
    @Slot()
    def use_selected(self) -> None:
        if self.session.backend is None:
            return
        variant = self.selected_variant()
        self.session.activate_variant(variant, "imagenet")
        self._update_buttons()

    @Slot()
    def download_selected(self) -> None:
        if self.download_button.isEnabled():
            self.weights.download(self.selected_variant())
            self._update_buttons()

    @Slot()
    def import_for_selected(self) -> None:
        if self.import_button.isEnabled():
            self.weights.import_file(self.selected_variant())
            self._update_buttons()

    @Slot()
    def measure(self) -> None:
        if not self.measure_button.isEnabled():
            return
        device = self.session.device
        batch_size, repeats = measure_plan(device)
        worker = MeasureWorker(
            list(self.measure_variants), device, batch_size=batch_size, repeats=repeats, image_size=self.measure_image_size
        )
        worker.measured.connect(self._on_measured)
        worker.chosen.connect(self._on_runtime_chosen)
        worker.failed.connect(self._on_failed)
        self._verdicts = []
        self.table_model.clear_measurements()
        self._refresh_chart()
        span = f"{self.measure_variants[0].upper()}–{self.measure_variants[-1].upper()}"
        self.job.track(worker, f"Measuring {span} on {self._device_name()}")
        self.context.pool.start(worker)  # after every connection, so no early signal is lost
        self.status.setText("")
        self._update_buttons()

    @Slot()
    def _on_job_finished(self) -> None:
        self._update_buttons()

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.status.setText(message)
        self.context.show_message(message)

    @Slot(object)
    def _on_measured(self, measurement) -> None:
        self.table_model.set_measurement(measurement)
        self.settings.remember_speed(self.session.device, measurement.variant, asdict(measurement))
        self._refresh_chart()

    def _restore_measurements(self) -> None:
        """This device's measurements from an earlier session (torch is loaded by now: the import is cheap)."""
        from model.inference.benchmark import Measurement

        names = {f.name for f in fields(Measurement)}
        for stored in self.settings.speed_measurements(self.session.device):
            try:
                self.table_model.set_measurement(Measurement(**{k: v for k, v in stored.items() if k in names}))
            except TypeError:
                continue  # written by another version: measure again

    @Slot(object)
    def _on_runtime_chosen(self, verdict) -> None:
        self._verdicts.append(verdict_summary(verdict))
        self._verdict_text = f"Fastest runtime that agrees with fp32 on {verdict.checked_on}: " + "; ".join(self._verdicts)
        self.status.setText(self._verdict_text)
        self.session.runtime_measured(verdict.variant, verdict.chosen.label)

    # --- session updates -------------------------------------------------------------------
    @Slot(object)
    def _on_backend_loaded(self, info: BackendInfo) -> None:
        self.table_model.set_facts(info.facts)
        self.explainer.set_facts(info.facts)
        self._fill_device_menu(info)
        self._restore_measurements()
        self._refresh_chart()
        self._update_buttons()

    @Slot(object)
    def _on_model_changed(self, active: ActiveModel) -> None:
        self.table_model.set_active("" if active.is_fine_tuned else active.variant)
        self._refresh_chart()
        self._update_buttons()

    @Slot(str)
    def _on_weights_changed(self, variant: str) -> None:
        self.table_model.set_facts(self.session.facts)
        self._update_buttons()

    def _refresh_chart(self) -> None:
        active = self.session.active
        self.chart.show_data(
            self.table_model.facts(),
            self.table_model.measurements(),
            active.variant if active and not active.is_fine_tuned else "",
            self._device_name(),
        )

    def _device_name(self) -> str:
        backend = self.session.backend
        if self.session.active is not None:
            return self.session.active.device_name
        return backend.device_name if backend else "this machine"

    def _fill_device_menu(self, info: BackendInfo) -> None:
        if self._device_menu is None:
            return
        self._device_menu.clear()
        self._device_actions = QActionGroup(self)
        for device in info.available_devices:
            action = QAction(device.upper() if device != "cpu" else "CPU", self._device_menu)
            action.setCheckable(True)
            action.setData(device)
            action.setChecked(info.device.split(":")[0] == device)
            action.triggered.connect(self._on_device_chosen)
            self._device_actions.addAction(action)
            self._device_menu.addAction(action)
        self._device_menu.setEnabled(len(info.available_devices) > 1)

    @Slot()
    def _on_device_chosen(self) -> None:
        device = self.sender().data()
        self.table_model.clear_measurements()  # timings of another device would mislead
        self.session.set_device(device)
        self._restore_measurements()  # ...but this device's own, from earlier, still hold
        self._refresh_chart()

    def is_settled(self) -> bool:
        return not self.job.busy
