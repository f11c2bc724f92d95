"""The core's shared helpers: atomic writes (old file or new file, never half) and the progress throttle."""

import os

import pytest

from model.core.atomic import atomic_path, atomic_write, atomic_write_text
from model.core.throttle import Throttle


def test_atomic_write_replaces_and_leaves_nothing_behind(tmp_path):
    target = tmp_path / "sub" / "out.bin"
    atomic_write(target, lambda f: f.write(b"first"))
    atomic_write_text("second\n", target)
    assert target.read_text() == "second\n"
    assert os.listdir(target.parent) == ["out.bin"]


def test_a_failed_writer_keeps_the_old_file_and_removes_the_temporary(tmp_path):
    target = tmp_path / "model.onnx"
    target.write_bytes(b"old")

    def half(f):
        f.write(b"half of a new file")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(target, half)
    with pytest.raises(KeyboardInterrupt), atomic_path(target) as tmp:
        tmp.write_bytes(b"new")
        raise KeyboardInterrupt  # a cancel or Ctrl-C mid-write
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["model.onnx"]


def test_atomic_path_hands_out_a_path_beside_the_target(tmp_path):
    target = tmp_path / "weights.pth"
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp != target and not target.exists()
        tmp.write_bytes(b"w")
    assert target.read_bytes() == b"w" and not tmp.exists()


def test_throttle_lets_through_the_first_the_last_and_one_per_interval():
    now = [0.0]
    throttle = Throttle(0.1, clock=lambda: now[0])
    passed = []
    for step in range(10):
        now[0] = step * 0.03  # 0, 0.03, … 0.27
        passed.append(throttle.ready(step + 1, 10))
    assert passed == [True, False, False, False, True, False, False, False, True, True]
    assert not throttle.ready(3, None)  # an unknown total never counts as the last report
    throttle.reset()
    assert throttle.ready(4, 10)
