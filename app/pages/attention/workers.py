"""Background work of the Attention page: analysing one image, comparing classes over a folder.

They follow the pattern of ``app.workers`` (``ClassComparisonWorker`` is its
generic ``GeneratorWorker`` over ``class_comparison``) and live with the page
because only it uses them. Both run on the active classifier's network without
disturbing classification:

* on the CPU they use the classifier's own module, which is safe because the
  ``SERecorder`` only records forward passes of the thread that attached it,
  and the Predictor runs ONNX Runtime or its own placed copy of the network;
* on a GPU they use one copy of the network on that device, made the first
  time it is needed and kept for the next analysis (``AnalysisNetworks``).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

from PySide6.QtCore import Signal

from app.workers import GeneratorWorker, ProgressThrottle, Worker
from model.core.events import Progress

MAP_KINDS = ("se", "change")


class AnalysisNetworks:
    """The classifier to analyse with, on the app's device; thread-safe, one cached copy."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._for = None  # the Classifier the cached copy was made from
        self._placed = None

    def classifier_for(self, predictor):
        """``predictor``'s Classifier with its network on ``predictor.device`` (copied once for a GPU)."""
        classifier = predictor.classifier
        device = getattr(predictor, "device", None)
        if device is None or str(device) == "cpu":
            return classifier
        with self._lock:
            if self._for is not classifier:
                from model.inference.runtime import placed_copy

                model = placed_copy(classifier.model, classifier.variant.name, device, channels_last=False)
                self._for, self._placed = classifier, replace(classifier, model=model)
            return self._placed


@dataclass(frozen=True)
class AnalysedImage:
    """One finished analysis: the image file, the backend's result and what made it."""

    path: str
    result: object  # model.explain.attention.AttentionResult, every view already computed
    model_summary: str  # "EfficientNet-B0 · ImageNet weights"
    seconds: float
    explainer: object = None  # model.explain.explainer.Explainer, with the SE ablation cached


class AnalysisWorker(Worker):
    """Runs ``analyse_image`` on one file, then computes every view so the slider never waits."""

    analysed = Signal(object)  # AnalysedImage

    def __init__(self, networks: AnalysisNetworks, predictor, path: str, model_summary: str = "",
                 target_class: int | None = None) -> None:
        super().__init__("Analysing SE attention")
        self.networks = networks
        self.predictor = predictor
        self.path = str(path)
        self.model_summary = model_summary
        self.target_class = target_class

    def work(self) -> None:
        from model.explain.attention import analyse_image
        from model.core.errors import ImageError, StudioError

        start = time.perf_counter()
        classifier = self.networks.classifier_for(self.predictor)
        if self.stop_requested:
            return
        try:
            result = analyse_image(classifier, self.path, target_class=self.target_class)
        except ImageError as e:
            raise StudioError(f"{Path(e.path).name} cannot be analysed: {e.reason}; choose another image.") from None
        views = [(kind, depth) for kind in MAP_KINDS for depth in range(result.num_blocks)]
        throttle = ProgressThrottle()
        for done, (kind, depth) in enumerate(views, start=1):
            if self.stop_requested:
                return
            result.spatial_map(depth, kind=kind)  # cached on the result
            if throttle.ready(done, len(views)):
                self.progressed.emit(Progress(done, len(views), "Making the maps"))
        result.gradcam_map()
        result.gate_map()
        # Every spatial map is cached now; the SE inputs they came from are the bulk of the
        # result (B7: about 470 MiB), so let them go.
        result.inputs = None
        explainer = self._gather_evidence(classifier, result)
        if explainer is not None and not self.stop_requested:
            self.analysed.emit(AnalysedImage(self.path, result, self.model_summary, time.perf_counter() - start,
                                             explainer))

    def _gather_evidence(self, classifier, result):
        """A new ``Explainer`` with the SE ablation cached (one batch of passes, drawn with the maps).

        The maps' faithfulness scores are not made here: they take longer than everything else (B0 at
        224 px: 5 s of 5.3 s), so the maps are shown first and the page scores them in the background."""
        from model.explain.explainer import Explainer

        explainer = Explainer(classifier.model, result)
        if self.stop_requested:
            return None
        self.progressed.emit(Progress(0, 1, "Measuring the SE ablation"))
        explainer.ablation()
        return explainer


class EvidenceWorker(Worker):
    """Makes and scores more maps of an analysed image: another method, stage or SE block."""

    scored = Signal(object)  # the requests, once every one is cached on the explainer

    def __init__(self, explainer, requests: list[tuple[str, int | None, int | None]]) -> None:
        super().__init__("Scoring maps")
        self.explainer = explainer
        self.requests = list(requests)  # (method, depth, layer index)

    def work(self) -> None:
        for done, (method, depth, layer) in enumerate(self.requests, start=1):
            if self.stop_requested:
                return
            self.explainer.score_method(method, depth=depth, layer=layer)
            self.progressed.emit(Progress(done, len(self.requests), "Scoring maps"))
        if not self.stop_requested:
            self.scored.emit(self.requests)


class ClassComparisonWorker(GeneratorWorker):
    """Runs ``class_comparison`` over a folder of class sub-folders, with progress and cancel.

    With ``ablation`` ("mean" or "one") it also measures each class's mean SE ablation curve.
    """

    compared = Signal(object)  # model.explain.attention.ClassComparison

    def __init__(self, networks: AnalysisNetworks, predictor, folder: str, batch_size: int = 16,
                 ablation: str | None = None) -> None:
        super().__init__("Comparing classes")
        self.networks = networks
        self.predictor = predictor
        self.folder = str(folder)
        self.batch_size = batch_size
        self.ablation = ablation

    def events(self):
        from model.explain.attention import class_comparison
        from model.explain.se_recorder import se_modules

        classifier = self.networks.classifier_for(self.predictor)
        batch = self.batch_size
        if self.ablation is not None:
            # Ablation runs every image once more per SE block, and progress and cancel come between
            # batches: fewer images per batch keep a batch about as long as one without ablation.
            batch = max(1, batch // (1 + len(se_modules(classifier.model))))
        return class_comparison(classifier, self.folder, batch_size=batch, cancel=self._stop, ablation=self.ablation)

    def routes(self) -> dict[type, object]:
        from model.explain.attention import ClassComparison

        # A cancel that came during the last batch still counts: the generic worker drops the result.
        return {ClassComparison: self.compared}
