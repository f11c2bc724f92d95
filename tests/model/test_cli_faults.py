"""Issue 15: faults of the machine and absurd flags end in one sentence, never a traceback."""

from __future__ import annotations

import errno
import os
import stat

import pytest

import model.core.output_folder as output_folder
from model.cli import build_parser, main
from model.core.atomic import atomic_write
from model.core.errors import StudioError
from model.core.faults import WriteError
from model.core.output_folder import OutputFolderError, check_output_folder


def _usage_error(argv, capsys) -> str:
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.strip().splitlines()[-1]


@pytest.mark.parametrize(
    "flags, words",
    [
        (["--workers", "-1"], "--workers: must be 0 or more, not -1"),
        (["--seed", str(2**63)], "--seed: must be between 0 and 2^63-1"),
        (["--seed", "-3"], "--seed: must be between 0 and 2^63-1"),
        (["--image-size", "100000"], "--image-size: must be between 16 and 2048 pixels, not 100000"),
        (["--lr", "inf"], "--lr: must be a number above 0 and at most 10, not inf"),
        (["--lr", "nan"], "--lr: must be a number above 0"),
        (["--lr", "1e10"], "--lr: must be a number above 0"),
        (["--lr", "0"], "--lr: must be a number above 0"),
        (["--epochs", "0"], "--epochs: must be at least 1"),
        (["--val-split", "1.5"], "--val-split: must be at least 0 and below 1"),
    ],
)
def test_absurd_training_flags_are_refused_at_parse_time(flags, words, capsys):
    assert words in _usage_error(["train", "d", "--out", "r", *flags], capsys)


def test_sane_training_flags_still_parse():
    args = build_parser().parse_args(
        ["train", "d", "--out", "r", "--workers", "0", "--seed", str(2**63 - 1), "--image-size", "2048", "--lr", "3e-4"]
    )
    assert (args.workers, args.seed, args.image_size, args.lr) == (0, 2**63 - 1, 2048, 3e-4)


def test_attention_out_that_is_a_file_is_refused(tmp_path, capsys):
    f = tmp_path / "taken.png"
    f.write_bytes(b"x")
    line = _usage_error(["attention", "img.png", "--out", str(f)], capsys)
    assert f"{f} is an existing file; give a folder" in line
    line = _usage_error(["attention-classes", "d", "--model", "m.pt", "--out", str(f)], capsys)
    assert "is an existing file" in line


# --- the output folder, checked before any work -----------------------------------


def test_check_output_folder_creates_and_accepts(tmp_path):
    assert check_output_folder(tmp_path / "a" / "b", 1024) == tmp_path / "a" / "b"
    assert (tmp_path / "a" / "b").is_dir()
    assert os.listdir(tmp_path / "a" / "b") == []  # the probe is gone


def test_check_output_folder_refuses_a_file_and_a_path_through_a_file(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(OutputFolderError, match="is a file, not a folder"):
        check_output_folder(f)
    with pytest.raises(OutputFolderError, match="Cannot create the output folder .*part of the path is a file"):
        check_output_folder(f / "run")


def test_check_output_folder_refuses_read_only_and_full(tmp_path, monkeypatch):
    def read_only(*a, **k):
        raise OSError(errno.EROFS, "Read-only file system")

    with monkeypatch.context() as m:  # root ignores chmod: fake what a read-only mount says
        m.setattr(output_folder.tempfile, "mkstemp", read_only)
        with pytest.raises(OutputFolderError, match=f"Cannot write to the output folder {tmp_path}: the file system is read-only"):
            check_output_folder(tmp_path)
    monkeypatch.setattr(output_folder.shutil, "disk_usage", lambda p: type("U", (), {"free": 5 * 2**20})())
    with pytest.raises(OutputFolderError, match="Not enough free space .*5 MB free, one save needs about 60 MB"):
        check_output_folder(tmp_path, 60 * 2**20)
    check_output_folder(tmp_path, 4 * 2**20)


def test_train_checks_out_before_reading_any_image(tmp_path, capsys, monkeypatch):
    import model.training.engine as engine

    monkeypatch.setattr(engine, "train", lambda *a, **k: pytest.fail("training started"))
    (tmp_path / "file").write_text("x")
    code = main(["train", str(tmp_path / "nowhere"), "--out", str(tmp_path / "file" / "run"), "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"error: Cannot create the output folder {tmp_path / 'file' / 'run'}")


# --- failed writes ---------------------------------------------------------------


@pytest.mark.parametrize(
    "cause, words",
    [
        (OSError(errno.ENOSPC, "No space left on device"), "no space left on the disk; free some space"),
        (OSError(errno.EROFS, "Read-only file system"), "the file system is read-only"),
        (PermissionError(errno.EACCES, "Permission denied"), "permission denied"),
        (RuntimeError("[enforce fail at inline_container.cc:858] . PytorchStreamWriter failed writing file data/3: file write failed"), "no space left on the disk"),
    ],
)
def test_a_failed_write_names_the_file_and_leaves_nothing(tmp_path, cause, words):
    def write(f):
        f.write(b"half")
        raise cause

    with pytest.raises(WriteError) as e:
        atomic_write(tmp_path / "last.pt", write)
    assert str(e.value).startswith(f"Cannot write {tmp_path / 'last.pt'}: {words}")
    assert isinstance(e.value, OSError) and isinstance(e.value, StudioError)
    assert os.listdir(tmp_path) == []


def test_a_real_torch_save_on_a_failing_file_becomes_a_write_error(tmp_path):
    import torch

    class Full:
        """A file object that takes 100 bytes and then reports a full disk."""

        def __init__(self):
            self.n = 0

        def write(self, b):
            self.n += len(b)
            if self.n > 100:
                raise OSError(errno.ENOSPC, "No space left on device")
            return len(b)

        def flush(self):
            pass

    with pytest.raises(WriteError, match="no space left"):
        atomic_write(tmp_path / "model.pt", lambda f: torch.save({"w": torch.zeros(1000)}, Full()))


@pytest.mark.parametrize(
    "fault, words",
    [
        (OSError(errno.ENOSPC, "No space left on device", "/runs/a/metrics.csv"), "/runs/a/metrics.csv: no space left on the disk"),
        (NotADirectoryError(errno.ENOTDIR, "Not a directory", "/x/y"), "/x/y: part of the path is a file"),
        (FileExistsError(errno.EEXIST, "File exists", "/x/y"), "/x/y: it already exists"),
        (MemoryError(), "Ran out of memory"),
        (RuntimeError("PytorchStreamWriter failed writing file data/0: file write failed"), "could not be written"),
    ],
)
def test_cli_turns_machine_faults_into_one_sentence(fault, words, capsys, monkeypatch):
    import model.cli.info as info

    def run(args):
        raise fault

    monkeypatch.setattr(info, "run", run)
    assert main(["info"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and words in err


def test_a_bug_is_still_a_traceback(monkeypatch):
    import model.cli.info as info

    monkeypatch.setattr(info, "run", lambda args: (_ for _ in ()).throw(RuntimeError("a bug of ours")))
    with pytest.raises(RuntimeError, match="a bug of ours"):
        main(["info"])


# --- permissions of what we write ------------------------------------------------


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_written_files_respect_the_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        atomic_write(tmp_path / "metrics.csv", lambda f: f.write("a\n"), binary=False)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "metrics.csv").stat().st_mode) == 0o666 & ~umask


def test_exports_respect_the_umask(tmp_path):
    from model.export.formats import _temp_next_to

    old = os.umask(0o022)
    try:
        tmp = _temp_next_to(tmp_path / "model.onnx")
    finally:
        os.umask(old)
    assert stat.S_IMODE(tmp.stat().st_mode) == 0o644


def test_export_and_attention_classes_check_their_out_first(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    assert main(["export", str(tmp_path / "missing.pt"), "--format", "onnx", "--out", str(tmp_path)]) == 1
    assert f"--out {tmp_path} is a folder; give the file name to write" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "missing.pt"), "--format", "onnx", "--out", str(tmp_path / "file" / "m.onnx")]) == 1
    assert f"error: {tmp_path / 'file'} is a file, not a folder" in capsys.readouterr().err
    out = tmp_path / "file" / "cmp"
    assert main(["attention-classes", str(tmp_path), "--model", str(tmp_path / "missing.pt"), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: Cannot create the output folder {out}") and err.count("\n") == 1


def test_a_write_error_reads_as_an_os_error_too(tmp_path):
    e = WriteError(tmp_path / "m.pt", OSError(errno.ENOSPC, "No space left on device"))
    assert (e.errno, e.strerror, e.filename) == (errno.ENOSPC, "no space left on the disk", str(tmp_path / "m.pt"))
