"""Temporaries left by killed writes are removed by the next write of the same file, never a live writer's."""

import os
import time
from pathlib import Path

from model.core.atomic import UNNAMED_TEMP_STALE_SECONDS, atomic_write, remove_stale_temporaries
from model.core.file_lock import try_lock


def dead_pid() -> int:
    # A pid above the kernel's pid_max can never be running. (Spawning and reaping a child would
    # also give one, but forking this late in the suite, with runtime threads alive, crashed it.)
    return int(Path("/proc/sys/kernel/pid_max").read_text()) + 1


def test_the_next_write_removes_what_dead_writers_left_and_keeps_live_ones(tmp_path):
    target = tmp_path / "last.pt"
    dead = tmp_path / f".last.pt.{dead_pid()}-k1ll3d.tmp"
    old_unnamed = tmp_path / ".last.pt.a1b2c3d4.tmp"  # from before temporaries carried a pid
    fresh_unnamed = tmp_path / ".last.pt.e5f6g7h8.tmp"
    live = tmp_path / f".last.pt.{os.getpid()}-writing.tmp"
    other_target = tmp_path / f".model.pt.{dead_pid()}-k1ll3d.tmp"
    for p in (dead, old_unnamed, fresh_unnamed, live, other_target):
        p.write_bytes(b"x" * 1000)
    past = time.time() - 2 * UNNAMED_TEMP_STALE_SECONDS
    os.utime(old_unnamed, (past, past))
    atomic_write(target, lambda f: f.write(b"new"))
    left = {p.name for p in tmp_path.iterdir()}
    assert left == {"last.pt", fresh_unnamed.name, live.name, other_target.name}
    assert target.read_bytes() == b"new"


def test_a_temporary_locked_by_its_writer_is_kept_even_if_its_pid_looks_dead(tmp_path):
    target = tmp_path / "graph.onnx"
    tmp = tmp_path / f".graph.onnx.{dead_pid()}-busy.tmp"  # e.g. another machine's writer on a shared disk
    tmp.write_bytes(b"half")
    fd = os.open(tmp, os.O_RDWR)
    try:
        assert try_lock(fd)
        assert remove_stale_temporaries(target) == [] and tmp.exists()
    finally:
        os.close(fd)
    assert remove_stale_temporaries(target) == [tmp] and not tmp.exists()
