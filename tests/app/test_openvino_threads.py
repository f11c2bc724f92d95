"""OpenVINO inside the app's QThreads: a lane run on a worker thread must not crash the process when
that thread ends (an infer request kept in a ``threading.local`` did: the app segfaulted at every
launch once "Measure on this machine" had chosen OpenVINO)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("openvino")

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import sys, tempfile
    from pathlib import Path
    import torch
    from PySide6.QtCore import QCoreApplication, QObject, QThread, Slot
    from model.inference.openvino_runtime import OpenVinoRunner
    from model.inference.runtime import OnnxRunner
    from model.nets.network import build_model

    graph = OnnxRunner.ensure_graph(build_model("b0", num_classes=3).eval(), 32, Path(tempfile.mkdtemp()))
    runner = OpenVinoRunner(graph, 32, "f32")

    class Loader(QObject):
        @Slot()
        def run(self):
            lane = runner.lane()
            lane(torch.zeros(1, 3, 32, 32))  # as Predictor warms its lanes on the loading thread
            runner(torch.zeros(2, 3, 32, 32))
            QThread.currentThread().quit()

    app = QCoreApplication([])
    for _ in range(3):  # several threads, each ending after it used the runner
        thread, loader = QThread(), Loader()
        loader.moveToThread(thread)
        thread.started.connect(loader.run)
        thread.start()
        thread.wait()
    lane = runner.lane()  # the requests made on the ended threads still serve
    print("ok", lane(torch.zeros(1, 3, 32, 32)).shape, flush=True)
    """
)


def test_an_openvino_lane_used_on_a_qthread_survives_the_thread_ending():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, f"exit {result.returncode}: {result.stderr[-2000:]}"
    assert "ok (1, 3)" in result.stdout
