"""The evidence row of the Attention page: which map the right-hand pane shows, at which stage, and its scores.

It lists the whole-image methods of ``model.explain.methods`` and the CAM
stages of the analysed image (the default one marked), says for both shown
maps (the SE pane's and the CAM pane's) their deletion and insertion AUC next
to those of random maps on the same grid, and on demand draws their curves. It never computes: what
is not cached yet it asks for with ``wanted`` and shows once the page's
``EvidenceJob`` has made it.
"""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.pages.attention.evidence_charts import FaithfulnessChart
from model.explain.evidence import judgement, verdict
from model.explain.methods import METHODS, method_names

CAM_METHODS = method_names(per_block=False)


def describe_score(title: str, smap, score, random, scoring: bool = False) -> str:
    """One line: what map, on which grid, and how it scores against the random map (or that it is being scored)."""
    where = f"{title} at {smap.source}" if smap is not None else title
    if score is None or random is None:
        return f"{where}: {'scoring…' if scoring else 'not scored yet'}"
    return f"{where}: {verdict(score, random)} — {judgement(score, random)}"


class EvidenceView(QWidget):
    """Method and stage selectors, the scores of the two shown maps, a Score button and the curves."""

    wanted = Signal(object)  # [(method, depth, layer)] to make and score
    choice_changed = Signal()  # another method or stage: the CAM pane redraws

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.explainer = None
        self._asked = None  # the last request sent: scrubbing must not restart the same work
        self._layer_picked = False  # the user chose a stage: keep it; otherwise follow the method's default
        self.depth = 0
        self.kind = "se"
        self.method = QComboBox()
        for name in CAM_METHODS:
            self.method.addItem(METHODS[name].label, name)
            self.method.setItemData(self.method.count() - 1, METHODS[name].description, 3)  # ToolTipRole
        self.method.setToolTip("The map in the right-hand pane; every one is scored against a random map")
        self.method.currentIndexChanged.connect(self._on_method)
        self.layer = QComboBox()
        self.layer.setToolTip("The feature stage the map is taken at: a finer grid localises better, a deeper "
                              "stage is closer to the decision")
        self.layer.currentIndexChanged.connect(self._on_choice)
        self.layer.activated.connect(self._on_layer_picked)
        self.score_button = QPushButton("Score this block")
        self.score_button.setToolTip("Measure the SE map of the block shown by deletion and insertion curves")
        self.score_button.clicked.connect(self._score_block)
        self.curves_button = QPushButton("Curves")
        self.curves_button.setCheckable(True)
        self.curves_button.setToolTip("Show the deletion and insertion curves of both maps against the random map's")
        self.curves_button.toggled.connect(self._refresh_curves)
        row = QHBoxLayout()
        row.addWidget(QLabel("Right-hand map"))
        row.addWidget(self.method)
        row.addWidget(QLabel("at"))
        row.addWidget(self.layer, 1)
        row.addWidget(self.score_button)
        row.addWidget(self.curves_button)
        self.se_line = QLabel()
        self.cam_line = QLabel()
        for line in (self.se_line, self.cam_line):
            line.setWordWrap(True)
        hint = QLabel("Deletion AUC: how fast p(class) falls as the map's brightest pixels are greyed out "
                      "(lower = more faithful). Insertion AUC: how fast it rises as they are put back (higher).")
        hint.setWordWrap(True)
        hint.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.se_chart = FaithfulnessChart()
        self.cam_chart = FaithfulnessChart()
        self.charts = QWidget()
        charts = QHBoxLayout(self.charts)
        charts.setContentsMargins(0, 0, 0, 0)
        charts.addWidget(self.se_chart)
        charts.addWidget(self.cam_chart)
        self.charts.setMinimumHeight(180)
        self.charts.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(row)
        layout.addWidget(self.se_line)
        layout.addWidget(self.cam_line)
        layout.addWidget(hint)
        layout.addWidget(self.charts)

    # --- state --------------------------------------------------------------------------
    @property
    def method_name(self) -> str:
        return self.method.currentData() or "gradcam"

    @property
    def layer_index(self) -> int | None:
        return self.layer.currentData()

    def set_explainer(self, explainer) -> None:
        """A new analysis: list its stages (keeping the one the user picked, when it exists) and show its scores."""
        self.explainer = explainer
        self._asked = None
        self._list_layers()
        self.refresh()

    def _list_layers(self) -> None:
        """The analysed image's stages, the shown method's default marked and chosen unless the user picked one
        (Score-CAM's default differs from Grad-CAM's when a stage with fewer channels has the same grid)."""
        chosen = self.layer_index if self._layer_picked else None
        result = self.explainer.result
        default = METHODS[self.method_name].default_layer(self.explainer).index
        self.layer.blockSignals(True)
        self.layer.clear()
        for layer in result.cam_layers:
            self.layer.addItem(layer.label + (" (default)" if layer.index == default else ""), layer.index)
        indexes = [layer.index for layer in result.cam_layers]
        self.layer.setCurrentIndex(indexes.index(chosen if chosen in indexes else default))
        self.layer.blockSignals(False)

    def clear(self) -> None:
        self.explainer = None
        self.layer.clear()
        self.se_line.setText("")
        self.cam_line.setText("")
        self.se_chart.clear_data()
        self.cam_chart.clear_data()

    def cam_map(self):
        """The right-hand pane's map and score, if made (``None, None`` otherwise)."""
        if self.explainer is None:
            return None, None
        return self.explainer.cached(self.method_name, layer=self.layer_index)

    def _stage_label(self) -> str:
        """The chosen stage, e.g. "features.5 · 112 ch · 4×4"."""
        return next(layer.label for layer in self.explainer.result.cam_layers if layer.index == self.layer_index)

    def _block_stage(self) -> int:
        """The feature stage of the shown SE block: its random baseline is drawn on that stage's grid, the
        block's own (a random map on another grid scores differently: coarse cells insert whole regions)."""
        return self.explainer.result.blocks[self.depth].stage

    def _block_random(self):
        return self.explainer.cached("random", layer=self._block_stage())[1]

    # --- showing -------------------------------------------------------------------------------
    def show_block(self, depth: int, kind: str) -> None:
        self.depth, self.kind = depth, kind
        self.refresh()

    def refresh(self) -> None:
        explainer = self.explainer
        if explainer is None:
            return
        _, random = explainer.cached("random", layer=self.layer_index)
        se_map, se_score = explainer.cached(self.kind, depth=self.depth)
        se_random = self._block_random()
        cam_map, cam_score = self.cam_map()
        cam_missing = cam_score is None or random is None
        se_missing = se_score is None or se_random is None
        # The block an analysis opens on is scored without asking; others wait for "Score this block",
        # so scrubbing the slider does not start a scoring per block.
        se_wanted = se_missing and self.depth == explainer.depth()
        wanted = []
        if cam_missing:
            wanted += [(self.method_name, None, self.layer_index), ("random", None, self.layer_index)]
        if se_wanted:
            wanted += [(self.kind, self.depth, None), ("random", None, self._block_stage())]
        if wanted:
            self._ask(wanted)
        se_scoring = se_wanted or (se_missing and self._is_asked((self.kind, self.depth, None)))
        self.se_line.setText(describe_score(METHODS[self.kind].label, se_map, se_score, se_random, se_scoring))
        cam_title = METHODS[self.method_name].label
        if cam_map is None:  # not made yet: name the stage it will be taken at
            cam_title += f" at {self._stage_label()}"
        self.cam_line.setText(describe_score(cam_title, cam_map, cam_score, random, cam_missing))
        self.score_button.setEnabled(se_missing and not se_scoring)
        self._refresh_curves()

    def ask_again(self) -> None:
        """Ask once more for what is still missing (a cancelled scoring left it unmade)."""
        self._asked = None
        self.refresh()

    def _is_asked(self, request: tuple) -> bool:
        """Whether the last request sent for this image includes ``request`` (it is being made)."""
        return self._asked is not None and self._asked[0] is self.explainer and request in self._asked[1]

    def _ask(self, requests: list) -> None:
        if (self.explainer, requests) != self._asked:
            self._asked = (self.explainer, requests)
            self.wanted.emit(requests)

    @Slot()
    def _refresh_curves(self) -> None:
        self.charts.setVisible(self.curves_button.isChecked())
        if self.explainer is None or not self.curves_button.isChecked():
            return
        _, cam_random = self.explainer.cached("random", layer=self.layer_index)
        for chart, (smap, score), random in (
            (self.se_chart, self.explainer.cached(self.kind, depth=self.depth), self._block_random()),
            (self.cam_chart, self.cam_map(), cam_random),
        ):
            if score is not None and random is not None:
                chart.show_curves(score, random)
                chart.setTitle(describe_score(METHODS[smap.kind].label, smap, None, None).split(":")[0])
            else:
                chart.clear_data()

    @Slot()
    def _on_method(self) -> None:
        if self.explainer is not None:
            self._list_layers()
        self._on_choice()

    @Slot()
    def _on_layer_picked(self) -> None:
        self._layer_picked = True

    @Slot()
    def _on_choice(self) -> None:
        self.choice_changed.emit()
        self.refresh()

    @Slot()
    def _score_block(self) -> None:
        if self.explainer is not None:
            self._ask([(self.kind, self.depth, None), ("random", None, self._block_stage())])
            self.refresh()  # "scoring…", and the button off until the score is in
