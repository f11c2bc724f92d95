"""The guard against PySide6 6.12's lost references to None/True/False."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_many_qt_calls_and_emits_do_not_kill_none_or_true():
    # A fresh interpreter, so the count starts low as in a real app; 200k void calls and emits
    # are far more than None's and True's own reference counts.
    code = (
        "import sys; from PySide6.QtCore import QCoreApplication, QObject, Signal\n"
        "app = QCoreApplication([])\n"
        "from app.platform.refcount_guard import protect_singletons\n"
        "protect_singletons()\n"
        "class S(QObject):\n    sig = Signal(int)\n"
        "s = S(); o = QObject()\n"
        "for i in range(200_000):\n    o.parent(); s.sig.emit(i)\n"
        "print('alive')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "alive" in out.stdout, out.stderr[-2000:]


def test_the_guard_is_idempotent():
    from app.platform.refcount_guard import protect_singletons

    first = protect_singletons()
    before = sys.getrefcount(None)
    assert protect_singletons() == first
    assert abs(sys.getrefcount(None) - before) < 1000  # no second boost
