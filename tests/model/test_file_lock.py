"""The run-folder lock: one holder at a time, its pid readable, and no false refusals where locks do not exist."""

import errno
import os

from model.core import file_lock
from model.core.file_lock import FolderLock


def test_one_holder_at_a_time_and_the_file_goes_with_the_last_holder(tmp_path):
    first, second = FolderLock(tmp_path), FolderLock(tmp_path)
    assert first.acquire() is None
    assert second.acquire() == os.getpid()  # another open file: refused, and told who holds it
    first.release()
    assert not (tmp_path / ".lock").exists()
    assert second.acquire() is None
    second.release()


def test_a_file_system_without_locks_does_not_refuse_every_run(tmp_path, monkeypatch):
    def no_locks(fd, how):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(file_lock.fcntl, "flock", no_locks)
    lock = FolderLock(tmp_path)
    assert lock.acquire() is None
    lock.release()
