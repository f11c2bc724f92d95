"""The app's shared state: the loaded backend, the active classifier and the weights on disk.

``ModelSession`` is the one place that starts the background loaders and swaps
the active ``Predictor``; pages ask it for the predictor and listen to its
signals. Switching models happens in a worker: the old predictor keeps serving
until the new one is ready, and a load that a newer request has overtaken is
dropped when it arrives.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from app.settings import AppSettings
from app.state import ActiveModel, BackendInfo, ModelChoice, VariantFacts, initial_facts
from app.workers import WorkerPool
from app.workers.backend import BackendLoader, OnlineProbe, PredictorLoader


class ModelSession(QObject):
    """Owns the backend state that several pages share."""

    backend_loaded = Signal(object)  # BackendInfo
    backend_failed = Signal(str)
    model_loading = Signal(object)  # ModelChoice
    model_changed = Signal(object)  # ActiveModel
    model_failed = Signal(str)
    weights_changed = Signal(str)  # a variant whose ImageNet weights appeared on disk
    online_checked = Signal(bool)

    def __init__(self, settings: AppSettings, pool: WorkerPool, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.pool = pool
        self.backend: BackendInfo | None = None
        self.backend_error = ""
        self.predictor = None
        self.active: ActiveModel | None = None
        self.online: bool | None = None  # None: not checked yet
        self.loading: ModelChoice | None = None
        self._generation = 0  # bumped by every activate(); stale loads are ignored

    # --- start-up -------------------------------------------------------------
    def start(self, check_online: bool = True) -> None:
        """Load torch and the backend in the background, then the remembered classifier."""
        loader = BackendLoader(self.settings.device)
        loader.loaded.connect(self._on_backend_loaded)
        loader.failed.connect(self._on_backend_failed)
        self.pool.start(loader)
        if check_online:
            probe = OnlineProbe()
            probe.probed.connect(self._on_probed)
            self.pool.start(probe)

    @Slot(object)
    def _on_backend_loaded(self, info: BackendInfo) -> None:
        self.backend = info
        self.backend_loaded.emit(info)
        self.activate(self.remembered_choice())

    @Slot(str)
    def _on_backend_failed(self, message: str) -> None:
        self.backend_error = message
        self.backend_failed.emit(message)

    @Slot(bool)
    def _on_probed(self, online: bool) -> None:
        self.online = online
        self.online_checked.emit(online)

    def remembered_choice(self) -> ModelChoice:
        bundle = self.settings.bundle
        if bundle:
            return ModelChoice(variant=self.settings.variant, bundle=bundle)
        return ModelChoice(variant=self.settings.variant, weights=self.settings.weights)

    @property
    def facts(self) -> tuple[VariantFacts, ...]:
        return self.backend.facts if self.backend else initial_facts()

    @property
    def device(self) -> str:
        return self.backend.device if self.backend else self.settings.device

    # --- the active classifier ------------------------------------------------
    def activate(self, choice: ModelChoice, notes: tuple[str, ...] = ()) -> None:
        """Switch the active classifier in the background (needs the backend loaded)."""
        if self.backend is None:
            return
        self._generation += 1
        self.loading = choice
        loader = PredictorLoader(choice, self.backend.device, notes)
        loader.setProperty("generation", self._generation)
        loader.loaded.connect(self._on_predictor_loaded)
        loader.failed.connect(self._on_predictor_failed)
        self.model_loading.emit(choice)
        self.pool.start(loader)

    def activate_variant(self, variant: str, weights: str = "imagenet") -> None:
        self.activate(ModelChoice(variant=variant, weights=weights))

    def activate_bundle(self, path: str) -> None:
        self.activate(ModelChoice(variant=self.settings.variant, bundle=str(path)))

    def set_device(self, device: str) -> None:
        """Use another device from now on: the active model is loaded again there."""
        if self.backend is None or device == self.backend.device:
            return
        self.settings.device = device
        self.backend = replace(self.backend, device=device)
        self.activate(self.active.choice if self.active else self.remembered_choice())

    def use_predictor(self, predictor, active: ActiveModel) -> None:
        """Make ``predictor`` the active classifier and remember the choice."""
        self.predictor = predictor
        self.active = active
        self.loading = None
        choice = active.choice
        self.settings.variant = active.variant
        self.settings.weights = choice.weights
        self.settings.bundle = choice.bundle
        self.model_changed.emit(active)

    def _is_current(self) -> bool:
        return self.sender() is not None and self.sender().property("generation") == self._generation

    @Slot(object, object)
    def _on_predictor_loaded(self, predictor, active: ActiveModel) -> None:
        if self._is_current():
            self.use_predictor(predictor, active)

    @Slot(str)
    def _on_predictor_failed(self, message: str) -> None:
        if not self._is_current():
            return
        failed = self.loading or ModelChoice()
        self.loading = None
        self.model_failed.emit(message)
        if self.predictor is None:
            # Nothing to classify with yet: step down to ImageNet, then random weights of the
            # same variant, so the Classify page always works.
            chain = [ModelChoice(failed.variant), ModelChoice(failed.variant, weights="random")]
            rest = chain[chain.index(failed) + 1 :] if failed in chain else chain
            if rest:
                self.activate(rest[0], notes=(f"Could not load {self.describe_choice(failed)}: {message}",))

    # --- weights on disk --------------------------------------------------------
    def weights_cached(self, variant: str) -> bool:
        """Whether ImageNet weights for ``variant`` are on disk (as of loading, download or import)."""
        return any(f.name == variant and f.cached for f in self.facts)

    @Slot(str, str)
    def weights_arrived(self, variant: str, path: str) -> None:
        """ImageNet weights for ``variant`` are on disk now (downloaded or imported to ``path``)."""
        if self.backend is not None:
            facts = tuple(replace(f, cached=True) if f.name == variant else f for f in self.backend.facts)
            self.backend = replace(self.backend, facts=facts)
        self.weights_changed.emit(variant)
        # The classifier was waiting for exactly these weights: switch to them now.
        if self.active and self.active.imagenet_missing and self.active.variant == variant:
            self.activate(ModelChoice(variant=variant, weights="imagenet"))

    @staticmethod
    def describe_choice(choice: ModelChoice) -> str:
        if choice.bundle:
            return f"fine-tuned model {Path(choice.bundle).name}"
        weights = {"imagenet": "ImageNet weights", "random": "random weights"}.get(
            choice.weights, f"weights {Path(choice.weights).name}"
        )
        return f"EfficientNet-{choice.variant.upper()} with {weights}"
