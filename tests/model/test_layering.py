"""The backend must never load Qt: the CLI and headless users depend on it."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_importing_the_backend_loads_no_qt():
    code = (
        "import sys, model, model.nets.network, model.imaging.images, model.nets.device, model.cli;"
        "import model.nets.weights, model.nets.classifier, model.inference.predict, model.imaging.decode;"
        "model.Predictor;"
        "model.cli.build_parser();"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
