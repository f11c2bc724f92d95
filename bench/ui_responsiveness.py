"""How responsive the window stays while the app works, and how fast it starts.

    python bench/ui_responsiveness.py            # 200 photo-sized images, 3 start-ups
    python bench/ui_responsiveness.py --quick    # 96 smaller images, 1 start-up
    python bench/ui_responsiveness.py --quick --skip-startup --scenario train
    python bench/ui_responsiveness.py --quick --skip-startup --scenario switch

1. Start-up: a fresh process builds the window exactly as ``app.main`` does;
   we time process start → window shown (goal: under ~1 s, and torch not yet
   imported) and → ready to classify (backend and model loaded in the background).
2. Heartbeat: a 20 ms QTimer runs on the UI thread while a scenario works in
   the background; every gap between two ticks beyond 20 ms is time the UI could
   not respond. Goals: longest gap < 100 ms, 99th percentile < 50 ms.

Scenarios are small classes in ``SCENARIOS``: "classify" drops a folder of
images on the Classify page; "train" trains B0 from the Train page on a
generated dataset (live curves, progress, then the results read back);
"switch" makes B7 the active classifier from the Models page, then B0 again,
and times each switch from the request to ``model_changed``. Each builds its
input in ``prepare``, starts the work in ``start``, says in ``finished`` when
it is done, may add lines of its own in ``report`` and undoes what it changed
in the process in ``close``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HEARTBEAT_MS = 20
GOAL_LONGEST_MS = 100.0
GOAL_P99_MS = 50.0
GOAL_SHOWN_S = 1.0

STARTUP_CHILD = r"""
import sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
import app
qapp = app.create_application(sys.argv[:1])
from app.main_window import MainWindow
from app.settings import AppSettings

class FirstExpose(QObject):
    def __init__(self):
        super().__init__()
        self.seen = False
    def eventFilter(self, obj, event):
        if not self.seen and event.type() in (QEvent.Type.Expose, QEvent.Type.Paint):
            self.seen = True
            print(f"shown {time.time():.6f} torch={TORCH_AT_SHOW}", flush=True)
        return False

def ready(_active):
    print(f"ready {time.time():.6f}", flush=True)
    qapp.quit()

def failed(message):
    print(f"failed {message}", flush=True)
    qapp.quit()

window = MainWindow(AppSettings())
probe = FirstExpose()
window.installEventFilter(probe)
window.session.model_changed.connect(ready)
window.session.backend_failed.connect(failed)
window.session.model_failed.connect(failed)
TORCH_AT_SHOW = "torch" in sys.modules  # the backend must load after the window is up
window.show()
QTimer.singleShot(0, lambda: window.start(check_online=False))
QTimer.singleShot(300_000, qapp.quit)
qapp.exec()
window.close()  # as a user would: closeEvent stops the workers before Qt goes away
window.pool.wait_all()
"""


@dataclass
class Startup:
    shown_s: float
    ready_s: float | None
    torch_before_shown: bool
    error: str = ""


def measure_startup(workdir: Path) -> Startup:
    env = dict(os.environ)
    env.setdefault("XDG_CONFIG_HOME", str(workdir / "config"))  # default settings, not the user's
    start = time.time()
    out = subprocess.run(
        [sys.executable, "-c", STARTUP_CHILD], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    shown = ready = None
    torch_loaded = False
    error = ""
    for line in out.stdout.splitlines():
        kind, _, rest = line.partition(" ")
        if kind == "shown":
            stamp, _, flag = rest.partition(" ")
            shown = float(stamp) - start
            torch_loaded = flag == "torch=True"
        elif kind == "ready":
            ready = float(rest) - start
        elif kind == "failed":
            error = rest
    if shown is None:
        raise RuntimeError(f"the window was never shown:\n{out.stderr[-2000:]}")
    return Startup(shown, ready, torch_loaded, error)


# --- heartbeat scenarios ---------------------------------------------------------------
class Scenario:
    """Background work to run while the heartbeat ticks."""

    name = ""

    def prepare(self, workdir: Path, quick: bool) -> None: ...

    def start(self, window) -> None: ...

    def finished(self, window) -> bool:
        raise NotImplementedError

    def describe(self) -> str:
        return self.name

    def report(self, ticks: list[float]) -> list[str]:
        """Extra result lines; ``ticks`` are the heartbeat's perf_counter() stamps."""
        return []

    def close(self) -> None: ...


def longest_gap_ms(ticks: list[float], start: float, end: float) -> float:
    """The longest wait between heartbeat ticks that overlaps [start, end], in ms."""
    inside = [t for t in ticks if start <= t <= end]
    before = [t for t in ticks if t < start][-1:]
    after = [t for t in ticks if t > end][:1]
    stamps = before + inside + after
    return max(((b - a) * 1000.0 for a, b in zip(stamps, stamps[1:])), default=float("nan"))


class ClassifyScenario(Scenario):
    """Drop a folder of photo-like JPEGs on the Classify page."""

    name = "classify"

    def prepare(self, workdir: Path, quick: bool) -> None:
        import numpy as np
        from PIL import Image

        self.count = 96 if quick else 200
        self.size = (640, 480) if quick else (1024, 768)
        size = self.size
        self.folder = workdir / "photos"
        self.folder.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(0)
        for i in range(self.count):
            # Smooth colour fields plus noise: decodes like a photo, not like flat colour.
            base = rng.integers(0, 255, (6, 8, 3), dtype=np.uint8)
            im = Image.fromarray(base).resize(size, Image.BICUBIC)
            noise = rng.normal(0, 12, (size[1], size[0], 3))
            arr = np.clip(np.asarray(im, dtype=np.float64) + noise, 0, 255).astype(np.uint8)
            Image.fromarray(arr).save(self.folder / f"photo_{i:04d}.jpg", quality=90)

    def start(self, window) -> None:
        self.page = window.page("classify")
        self.page.classify_paths([str(self.folder)])

    def finished(self, window) -> bool:
        return self.page.is_settled() and self.page.results.rowCount() == self.count

    def describe(self) -> str:
        return f"classify {self.count} JPEGs ({self.size[0]}×{self.size[1]})"


class TrainScenario(Scenario):
    """Train B0 (random weights, full mode) on a generated shapes dataset from the Train page."""

    name = "train"

    def prepare(self, workdir: Path, quick: bool) -> None:
        from app.pages.train.sample_data import make_sample_dataset

        self.per_class = 16 if quick else 40
        self.size = 64 if quick else 128
        self.epochs = 3
        self.runs = workdir / "runs"
        self.folder = make_sample_dataset(workdir / "shapes", per_class=self.per_class, size=self.size)
        self.done = False

    def start(self, window) -> None:
        from app.pages.train.train_form import TrainChoices

        self.page = window.page("train")
        self.page.remember = False  # the benchmark's choices are not the user's
        self.page.runs_root = str(self.runs)
        self.page.form.set_choices(TrainChoices(variant="b0", mode="full", epochs=self.epochs, image_size=self.size,
                                                weights="random", val_split=25))
        self.page.training_finished.connect(self._on_finished)
        self.page.train_when_ready(str(self.folder))

    def _on_finished(self, finished) -> None:
        self.done = True
        self.reason = finished.reason

    def finished(self, window) -> bool:
        return self.done and self.page.is_settled()

    def describe(self) -> str:
        return f"train B0 (full, random weights) on {3 * self.per_class} images at {self.size} px for {self.epochs} epochs"


class SwitchScenario(Scenario):
    """Make B7 the active classifier from the Models page, then B0 again (random weights, offline)."""

    name = "switch"

    def prepare(self, workdir: Path, quick: bool) -> None:
        # No ImageNet weights (the app falls back to random ones, as offline), and the graphs
        # exported for these throwaway weights go to a temporary cache, not the user's.
        self.saved_env = {k: os.environ.get(k) for k in ("TORCH_HOME", "EFFICIENTNET_STUDIO_CACHE")}
        os.environ["TORCH_HOME"] = str(workdir / "torch-home")
        os.environ["EFFICIENTNET_STUDIO_CACHE"] = str(workdir / "studio-cache")
        # Quick: one round trip. Full: a second one, to see what a warm graph cache saves.
        self.plan = ["b7", "b0"] if quick else ["b7", "b0", "b7", "b0"]
        self.switches: list[tuple[str, str, float, float]] = []  # from, to, requested, ready
        self.done = False

    def start(self, window) -> None:
        self.window = window
        self.page = window.page("models")
        window.session.model_changed.connect(self._on_model_changed)
        window.show_page("models")
        self._request(self.plan[0])

    def _request(self, variant: str) -> None:
        self.current = (self.window.session.active.variant, variant, time.perf_counter())
        self.page.table.selectRow(self.page.table_model.row_of(variant))
        self.page.use_selected()  # what "Use as classifier" does

    def _on_model_changed(self, active) -> None:
        came_from, wanted, requested = self.current
        if active.variant != wanted:
            return
        self.switches.append((came_from, wanted, requested, time.perf_counter()))
        if len(self.switches) < len(self.plan):
            self._request(self.plan[len(self.switches)])
        else:
            self.done = True

    def finished(self, window) -> bool:
        return self.done and window.pool.idle

    def describe(self) -> str:
        return "switch " + " → ".join(["B0"] + [v.upper() for v in self.plan]) + " (random weights, CPU)"

    def report(self, ticks: list[float]) -> list[str]:
        return [
            f"          {a.upper()} → {b.upper()}: ready after {end - start:5.2f} s, "
            f"longest UI gap meanwhile {longest_gap_ms(ticks, start, end):6.1f} ms"
            for a, b, start, end in self.switches
        ]

    def close(self) -> None:
        for key, value in self.saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


SCENARIOS: dict[str, type[Scenario]] = {"classify": ClassifyScenario, "switch": SwitchScenario, "train": TrainScenario}


@dataclass
class Heartbeat:
    scenario: str
    ticks: int
    seconds: float
    longest_ms: float
    p99_ms: float
    median_ms: float
    notes: list[str]


def run_heartbeat(scenario: Scenario, workdir: Path, quick: bool) -> Heartbeat:
    from PySide6.QtCore import QEvent, QEventLoop, QSettings, Qt, QTimer

    import app
    from app.platform.gc_policy import UiThreadGarbageCollection
    from app.main_window import MainWindow
    from app.settings import AppSettings

    qapp = app.create_application(sys.argv[:1])
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(workdir / "settings"))
    scenario.prepare(workdir, quick)
    window = MainWindow(AppSettings(), remember=False)
    garbage_collection = UiThreadGarbageCollection(window.session.backend_loaded)  # as app.main() does
    window.show()
    window.start(check_online=False)

    loop = QEventLoop()
    poll = QTimer()
    poll.setInterval(50)
    poll.timeout.connect(lambda: loop.quit() if window.session.active is not None or window.session.backend_error else None)
    poll.start()
    loop.exec()
    if window.session.active is None:
        raise RuntimeError(f"no classifier could be loaded: {window.session.backend_error}")
    while not window.pool.idle:  # the model load's last bits; not part of the measurement
        qapp.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)

    ticks: list[float] = []
    heartbeat = QTimer()
    heartbeat.setTimerType(Qt.TimerType.PreciseTimer)
    heartbeat.setInterval(HEARTBEAT_MS)
    heartbeat.timeout.connect(lambda: ticks.append(time.perf_counter()))
    started = time.perf_counter()
    heartbeat.start()
    scenario.start(window)
    poll.timeout.disconnect()
    poll.timeout.connect(lambda: loop.quit() if scenario.finished(window) else None)
    loop.exec()
    heartbeat.stop()
    seconds = time.perf_counter() - started
    window.pool.wait_all()
    window.close()
    scenario.close()
    # Destroy the window now, while its Python side is whole. Left to the
    # cyclic garbage collector (during a later scenario, on whichever thread
    # allocates at the time), the window's Python attributes are cleared first
    # and a page's C++ destructor then calls MainWindow's tab-changed slot on
    # a cleared object: a segfault after the switch scenario.
    window.deleteLater()
    qapp.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    garbage_collection.stop()

    gaps = [(b - a) * 1000.0 for a, b in zip(ticks, ticks[1:])]
    gaps.sort()
    p99 = gaps[min(len(gaps) - 1, int(0.99 * len(gaps)))] if gaps else float("nan")
    return Heartbeat(scenario.describe(), len(ticks), seconds, gaps[-1] if gaps else float("nan"), p99,
                     statistics.median(gaps) if gaps else float("nan"), scenario.report(ticks))


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small inputs and one start-up (about a minute)")
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), action="append", help="heartbeat scenario(s) to run")
    parser.add_argument("--skip-startup", action="store_true")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="ui-bench-") as tmp:
        workdir = Path(tmp)
        if not args.skip_startup:
            runs = [measure_startup(workdir) for _ in range(1 if args.quick else 3)]
            shown = statistics.median(r.shown_s for r in runs)
            print(f"start-up  process start → window shown : {shown:.2f} s  (goal < {GOAL_SHOWN_S:.0f} s: {verdict(shown < GOAL_SHOWN_S)})")
            print(f"          torch imported before show()   : {any(r.torch_before_shown for r in runs)}")
            ready = [r.ready_s for r in runs if r.ready_s is not None]
            if ready:
                print(f"          process start → ready to classify: {statistics.median(ready):.2f} s")
            else:
                print(f"          never ready to classify: {runs[0].error}")
        for name in args.scenario or sorted(SCENARIOS):
            result = run_heartbeat(SCENARIOS[name](), workdir / name, args.quick)
            print(f"heartbeat {result.scenario}: {result.ticks} ticks in {result.seconds:.1f} s")
            print(f"          longest gap {result.longest_ms:6.1f} ms (goal < {GOAL_LONGEST_MS:.0f}: {verdict(result.longest_ms < GOAL_LONGEST_MS)})")
            print(f"          99th pct    {result.p99_ms:6.1f} ms (goal < {GOAL_P99_MS:.0f}: {verdict(result.p99_ms < GOAL_P99_MS)})")
            print(f"          median      {result.median_ms:6.1f} ms (the timer's own period is {HEARTBEAT_MS} ms)")
            for line in result.notes:
                print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
