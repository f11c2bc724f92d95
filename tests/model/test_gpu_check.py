"""`make gpu-check` without CUDA stops at once with one sentence, and writes nothing."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_gpu_check_fails_cleanly_without_cuda(tmp_path):
    out = tmp_path / "gpu-check.md"
    env = {"CUDA_VISIBLE_DEVICES": "", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    r = subprocess.run([sys.executable, "bench/gpu_check.py", "--out", str(out)], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 1
    message = r.stderr.strip()
    assert message.startswith("No CUDA GPU is available here") and "make gpu-check" in message
    assert "\n" not in message and "Traceback" not in r.stderr  # one sentence, no traceback
    assert not out.exists()


def test_make_gpu_check_runs_the_script():
    makefile = (ROOT / "Makefile").read_text()
    assert "gpu-check:" in makefile and "bench/gpu_check.py" in makefile.split("gpu-check:")[1].split("\n\n")[0]
