"""Background work of the Train page: scanning a dataset, training, reading and comparing runs, saving, exporting.

Every class here is an ``app.workers.Worker`` (``TrainWorker`` the generic
``GeneratorWorker``): it runs on its own QThread from the pool, emits one signal
per kind of result (past tense), reports errors as one sentence through
``failed`` and checks its stop flag between steps. The backend
(and so torch) is imported inside ``work()``, in the worker thread.

``TrainWorker`` iterates ``model.engine.train`` with the ``TrainConfig`` and the
``TrainControl`` the page made (both torch-free). Pause, resume and stop reach
the engine through that control (thread-safe events), never through queued
signals, which could not arrive while the worker is busy training.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Signal

from app.workers import GeneratorWorker, Worker
from model.core.atomic import atomic_write
from model.core.errors import StudioError
from model.core import events as ev
from model.core.events import Progress
from model.core.train_config import TrainConfig
from model.core.train_control import TrainControl

# The engine's preparation phases, shown in the progress row as plain progress.
PHASES = {ev.PreparingImages: "Preparing images", ev.FeatureCaching: "Computing backbone features"}
COPY_CHUNK = 4 << 20  # bytes per read when copying a bundle; the stop flag is checked between chunks


class ScanWorker(Worker):
    """Scans a class-folder dataset (every image header is read, so it is not instant)."""

    scanned = Signal(object)  # model.training.data.DatasetScan

    def __init__(self, folder: str, val_dir: str | None = None) -> None:
        super().__init__("Scanning the dataset")
        self.folder = folder
        self.val_dir = val_dir

    def work(self) -> None:
        from model.training.data import scan_dataset

        scan = scan_dataset(self.folder, self.val_dir or None)
        if not self.stop_requested:
            self.scanned.emit(scan)


class TrainWorker(GeneratorWorker):
    """Runs one training (or resumed) run, one signal per kind of engine event."""

    quit_name = "Training"
    quit_note = "The run can be resumed later."

    run_started = Signal(object)  # TrainingStarted
    notice_posted = Signal(object)  # Notice
    file_skipped = Signal(object)  # SkippedFile
    step_finished = Signal(object)  # StepMetrics
    epoch_finished = Signal(object)  # EpochMetrics
    batch_size_reduced = Signal(object)  # BatchSizeReduced
    run_paused = Signal(object)  # Paused
    checkpoint_saved = Signal(object)  # CheckpointSaved
    run_finished = Signal(object)  # Finished

    def __init__(self, config: TrainConfig, control: TrainControl, runs_root: str | None = None) -> None:
        """``config``: the run's settings; an empty ``out_dir`` gets a new folder under ``runs_root`` (named
        by time, dataset and variant). ``control``: made by the UI, which pauses and stops the run through
        this worker's ``pause``/``resume``/``stop`` (they go straight to it, from any thread)."""
        super().__init__("Resuming training" if config.resume else "Training", control=control)
        self.config = config
        self.runs_root = runs_root

    # --- the run ------------------------------------------------------------------------
    def routes(self) -> dict[type, object]:
        return {
            ev.TrainingStarted: self.run_started,
            ev.Notice: self.notice_posted,
            ev.SkippedFile: self.file_skipped,
            ev.StepMetrics: self.step_finished,
            ev.EpochMetrics: self.epoch_finished,
            ev.BatchSizeReduced: self.batch_size_reduced,
            ev.Paused: self.run_paused,
            ev.CheckpointSaved: self.checkpoint_saved,
            ev.Finished: self.run_finished,
        }

    def events(self):
        from model.training.engine import train

        config = self.config
        if not config.out_dir:
            from model.training.runs import new_run_dir

            if not self.runs_root:
                raise StudioError("No runs folder is set, so the run has nowhere to be saved.")
            config = replace(config, out_dir=new_run_dir(self.runs_root, config.data_dir, config.variant))
        return train(config, self.control)

    def deliver(self, event, routes: dict[type, object]) -> None:
        phase = PHASES.get(type(event))
        if phase is not None:
            self.progressed.emit(Progress(event.done, event.total, phase))
        else:
            super().deliver(event, routes)


class RunListWorker(Worker):
    """Lists the earlier runs in the runs folder, newest first."""

    listed = Signal(list)  # [model.runs.RunSummary]

    def __init__(self, root: str) -> None:
        super().__init__("Listing earlier runs")
        self.root = root

    def work(self) -> None:
        from model.training.runs import list_runs

        self.listed.emit(list_runs(self.root))


class RunReader(Worker):
    """Reads one run folder back: curves, evaluation and settings."""

    run_loaded = Signal(object)  # model.training.runs.RunRecord

    def __init__(self, path: str) -> None:
        super().__init__("Opening the run")
        self.path = path

    def work(self) -> None:
        from model.training.runs import read_run

        record = read_run(self.path)
        if not self.stop_requested:
            self.run_loaded.emit(record)


class RunComparer(Worker):
    """Reads several run folders and compares them (``model.training.run_comparison``). A run that cannot
    be read is left out with one sentence saying why; the others are still compared."""

    compared = Signal(object, list)  # RunComparison, [a sentence per run left out or read only in part]

    def __init__(self, paths: list[str]) -> None:
        super().__init__("Comparing runs")
        self.paths = list(paths)

    def work(self) -> None:
        from model.training.run_comparison import compare_runs
        from model.training.runs import read_run

        records, notes = [], []
        for done, path in enumerate(self.paths):
            if self.stop_requested:
                return
            self.progressed.emit(Progress(done, len(self.paths), "Reading the runs"))
            try:
                record = read_run(path)
            except StudioError as e:  # the folder's own path named once is enough: its name reads better
                message = e.for_place("app").replace(str(Path(path)), Path(path).name)
                notes.append(f"{Path(path).name} is left out: {message}")
                continue
            except Exception as e:  # a damaged file of one run must not hide the others
                notes.append(f"{Path(path).name} is left out: it cannot be read ({type(e).__name__}: {e}).")
                continue
            records.append(record)
            notes.extend(f"{record.path.name}: {note}" for note in record.notes)
        if not records:
            raise StudioError("None of the selected runs can be read. " + " ".join(notes))
        if not self.stop_requested:
            self.compared.emit(compare_runs(records), notes)


class ExportWorker(Worker):
    """Exports a bundle to ONNX or TorchScript and checks the file against the model."""

    quit_name = "Exporting the model"
    quit_note = "The export is cancelled; export again later."

    exported = Signal(object)  # model.export.formats.ExportReport

    def __init__(self, bundle_path: str, fmt: str, out: str) -> None:
        super().__init__(f"Exporting to {'ONNX' if fmt == 'onnx' else 'TorchScript'}")
        self.bundle_path = bundle_path
        self.fmt = fmt
        self.out = out

    def work(self) -> None:
        from model.export.formats import export_bundle

        report = export_bundle(self.bundle_path, self.fmt, self.out)
        if self.stop_requested:
            # Cancelled while the exporter ran (it has no step to stop at): do not leave the file behind.
            Path(report.path).unlink(missing_ok=True)
            return
        self.exported.emit(report)


class CopyWorker(Worker):
    """Copies a bundle file to where the user asked; a temporary name until complete, then renamed."""

    quit_name = "Saving the model"
    quit_note = "The copy is cancelled; the run keeps its model."

    copied = Signal(str)  # the target path

    def __init__(self, source: str, target: str) -> None:
        super().__init__("Saving the model")
        self.source = Path(source)
        self.target = Path(target)

    def work(self) -> None:
        if self.source.resolve() == self.target.resolve():
            self.copied.emit(str(self.target))
            return
        try:
            total = self.source.stat().st_size

            def copy(out) -> None:
                with open(self.source, "rb") as src:
                    done = 0
                    while chunk := src.read(COPY_CHUNK):
                        if self.stop_requested:
                            raise StudioError("Saving the model was cancelled; nothing was written.")
                        out.write(chunk)
                        done += len(chunk)
                        self.progressed.emit(Progress(done, total, "bytes"))

            atomic_write(self.target, copy)
        except OSError as e:
            raise StudioError(
                f"The model could not be saved to {self.target} ({e.strerror or e}); choose another folder."
            ) from None
        self.copied.emit(str(self.target))
