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


def test_train_config_and_control_need_no_torch():
    """The UI builds, checks and controls a run before torch is imported: the core must not pull it in."""
    code = (
        "import sys, tempfile;"
        "from model.core.train_config import TrainConfig, check_config, MODES, DEFAULT_EPOCHS;"
        "from model.core.train_control import TrainControl;"
        "d = tempfile.mkdtemp(); check_config(TrainConfig(d, d + '_out'));"
        "c = TrainControl(); c.pause(); assert c.paused; c.stop(); assert c.stopped and not c.paused;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('torch', 'torchvision', 'numpy', 'PySide6')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_scripting_names_are_the_core_ones():
    """``model.engine`` keeps what users script against, re-exported from the core, not copies."""
    import model.engine
    import model.training.engine
    from model.core.train_config import TrainConfig
    from model.core.train_control import TrainControl

    assert model.engine.TrainConfig is model.training.engine.TrainConfig is TrainConfig
    assert model.engine.TrainControl is model.training.engine.TrainControl is TrainControl
    assert model.engine.train is model.training.engine.train
