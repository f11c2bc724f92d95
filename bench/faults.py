"""Replays issue 15's fault experiments against the real CLI and prints an ok/BAD table.

    python bench/faults.py             # everything: ~10 minutes on 2 cores
    python bench/faults.py --kills 3   # fewer kill -9 rounds

Each experiment runs ``python -m model …`` in fresh processes on tiny data
(2 classes × 6 images of 36×32 px, B0 with random weights, 32 px, CPU) and
checks what a user would: the exit status, one sentence on stderr and no
traceback, valid output, and that the work on disk is whole. Disk-full and
read-only rows mount small tmpfs file systems and need root; elsewhere they
show "skip". The table is honest: rows whose fix belongs to other work (the
run-folder lock, SIGTERM) show BAD until it lands.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import struct
import sys
import tempfile
import zipfile
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.fault_kit import TINY, Command, Row, make_dataset, mount_tmpfs, print_table, run, unmount, verdict  # noqa: E402


def train_args(data: Path, out: Path, epochs: int, mode: str = "head", *extra: str) -> list[str]:
    return ["train", str(data), "--out", str(out), "--epochs", str(epochs), "--mode", mode, "--json", *TINY, *extra]


def metrics(out: Path) -> str:
    try:
        return (out / "metrics.csv").read_text()
    except OSError:
        return ""


def _comparable(csv_text: str) -> list[list[str]]:
    """metrics.csv without the seconds column (the only one that may differ between runs)."""
    rows = [line.split(",") for line in csv_text.splitlines()]
    return [r[:6] + r[7:] for r in rows]


def kill9_rounds(work: Path, data: Path, reference: str, events: int, rounds: int) -> Row:
    rng, good, notes = random.Random(15), 0, []
    for i in range(rounds):
        out = work / f"kill{i}"
        cmd = Command(*train_args(data, out, 4))
        at = rng.randint(1, max(1, events - 1))
        cmd.read_lines(at)
        cmd.signal(signal.SIGKILL)
        cmd.finish()
        resumed = run(*train_args(data, out, 4), "--resume")
        if resumed.code != 0 and not ((out / "last.pt").exists() or (out / "model.pt").exists()):
            resumed = run(*train_args(data, out, 4))  # nothing was saved yet: a plain restart
        same = _comparable(metrics(out)) == _comparable(reference)
        good += resumed.code == 0 and same
        if resumed.code != 0 or not same:
            notes.append(f"#{i} after {at} events: {resumed.short() if resumed.code else 'metrics differ'}")
    return verdict(f"kill -9 at random points ×{rounds}, then resume", good == rounds,
                   f"{good}/{rounds} finished with the uninterrupted metrics" + (f"; {notes[0]}" if notes else ""))


def sigterm(work: Path, data: Path) -> Row:
    out = work / "term"
    cmd = Command(*train_args(data, out, 500))
    cmd.wait_for_event("epoch", epoch=1)
    cmd.signal(signal.SIGTERM)
    r = cmd.finish()
    lines = r.json_lines() or [{}]
    ok = r.code == 143 and lines[-1].get("event") == "finished" and (out / "last.pt").exists() and r.one_sentence()
    return verdict("SIGTERM mid-run: save, finished event, exit 143", ok, r.short())


def concurrent(work: Path, data: Path) -> list[Row]:
    out = work / "shared"
    first = Command(*train_args(data, out, 500))
    first.wait_for_event("epoch", epoch=1)
    # Without a lock these would train alongside the first run: give up on them after a while.
    second = run(*train_args(data, out, 2), timeout=120)
    resume = run(*train_args(data, out, 600), "--resume", timeout=120)
    first.signal(signal.SIGKILL)
    first.finish()
    return [
        verdict("two concurrent runs into one folder", second.code == 1 and "in use" in second.err, second.short()),
        verdict("--resume of a run still training", resume.code == 1 and "in use" in resume.err, resume.short()),
    ]


def disk_and_folders(work: Path, data: Path, bundle: Path) -> list[Row]:
    rows = []
    tiny, small, ro = work / "mnt-tiny", work / "mnt-small", work / "mnt-ro"
    if not mount_tmpfs(tiny, "size=4m"):
        return [Row("disk full, read-only out (tmpfs)", "skip", "needs root to mount tmpfs")]
    try:
        r = run(*train_args(data, tiny / "run", 2))
        rows.append(verdict("train on a 4 MB disk: refused before training", r.code == 1 and r.one_sentence() and b'"started"' not in r.out, r.short()))
        if mount_tmpfs(small, "size=30m"):
            r = run(*train_args(data, small / "run", 3))
            rows.append(verdict("disk full while saving: one sentence naming the file", r.code == 1 and r.one_sentence() and "Cannot write" in r.err, r.short()))
        if mount_tmpfs(ro, "size=8m,ro"):
            r = run(*train_args(data, ro / "run", 2))
            rows.append(verdict("train into a read-only folder", r.code == 1 and r.one_sentence() and b'"started"' not in r.out, r.short()))
            r = run("export", bundle, "--format", "onnx", "--out", ro / "m.onnx")
            rows.append(verdict("export --out on a read-only disk", r.code == 1 and r.one_sentence(), r.short()))
            r = run("attention-classes", data, "--model", bundle, "--out", ro / "cmp", "--device", "cpu")
            rows.append(verdict("attention-classes --out read-only", r.code == 1 and r.one_sentence(), r.short()))
    finally:
        for m in (tiny, small, ro):
            unmount(m)
    (work / "a-file").write_text("x")
    r = run(*train_args(data, work / "a-file" / "run", 2))
    rows.append(verdict("--out under a file (not a directory)", r.code == 1 and r.one_sentence(), r.short()))
    return rows


def pipes(work: Path, data: Path) -> list[Row]:
    cmd = Command("predict", data, "--weights", "random", "--device", "cpu", "--json")
    cmd.read_lines(1)
    cmd.close_stdout()
    r = cmd.finish()
    rows = [verdict("predict --json | head -1", r.code == 141 and not r.lines, r.short() or "exit 141, silent")]
    out = work / "piped"
    cmd = Command(*train_args(data, out, 3))
    cmd.read_lines(3)
    cmd.close_stdout()
    r = cmd.finish()
    epochs = len(metrics(out).splitlines()) - 1
    rows.append(verdict("train --json | head -3 keeps training", r.code == 0 and epochs == 3, f"exit {r.code}, {epochs}/3 epochs saved"))
    return rows


def zip_bomb(work: Path, bundle: Path, image: Path, declared_mb: int = 768) -> Row:
    """The bundle's largest record swapped for ``declared_mb`` MB of deflated zeros."""
    bomb = work / "bomb.pt"
    with zipfile.ZipFile(bundle) as src, zipfile.ZipFile(bomb, "w") as out:
        biggest = max(src.infolist(), key=lambda r: r.file_size).filename
        for info in src.infolist():
            if info.filename != biggest:
                out.writestr(info, src.read(info))
                continue
            record = zipfile.ZipInfo(info.filename)
            record.compress_type = zipfile.ZIP_DEFLATED
            with out.open(record, "w", force_zip64=True) as f:
                for _ in range(declared_mb // 16):
                    f.write(bytes(16 << 20))
    base = run("predict", image, "--model", bundle, "--device", "cpu")
    r = run("predict", image, "--model", bomb, "--device", "cpu")
    growth = r.peak_mb - base.peak_mb
    return verdict(f"zip bomb ({bomb.stat().st_size >> 10} KB declaring {declared_mb} MB)",
                   r.code == 1 and r.one_sentence() and growth < 200, f"{r.short()} (peak {growth:+.0f} MB vs a good bundle)")


def poisoned(work: Path, data: Path, bundle: Path, image: Path, run_dir: Path) -> list[Row]:
    import torch

    rows = []
    cases = {"std 0": ("std", [0.0, 0.0, 0.0]), "crop 0": ("crop_size", 0), "crop 20000": ("crop_size", 20000),
             "interpolation 'sinc'": ("interpolation", "sinc")}
    for name, (key, value) in cases.items():
        d = torch.load(bundle, weights_only=True)
        d["preprocessing"][key] = value
        torch.save(d, work / "poison.pt")
        r = run("predict", image, "--model", work / "poison.pt", "--device", "cpu")
        rows.append(verdict(f"poisoned bundle: {name}", r.code == 1 and r.one_sentence(), r.short()))
    copy = work / "poisoned-run"
    shutil.copytree(run_dir, copy)
    d = torch.load(copy / "last.pt", weights_only=True)
    d["optimizer"]["param_groups"] = []
    torch.save(d, copy / "last.pt")
    r = run(*train_args(data, copy, 5), "--resume")
    rows.append(verdict("poisoned last.pt: no optimizer groups", r.code == 1 and r.one_sentence(), r.short()))
    return rows


def pixel_bomb(work: Path) -> Row:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    png = work / "huge.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 40000, 40000, 8, 2, 0, 0, 0))
                    + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))
    r = run("predict", png, "--weights", "random", "--device", "cpu")
    said = "image is 40000×40000 = 1600 MP; the limit is 200 MP" in r.out.decode("utf-8", "replace")
    return verdict("a 40000×40000 image", said and r.peak_mb < 2000, r.short() if not said else "names the size and the 200 MP limit")


def absurd_flags(work: Path, data: Path) -> list[Row]:
    rows = []
    (work / "taken.png").write_bytes(b"x")
    for flag, value in (("--workers", "-1"), ("--seed", str(2**64)), ("--image-size", "100000"),
                        ("--lr", "inf"), ("--lr", "nan"), ("--lr", "1e10")):
        r = run(*train_args(data, work / "flags", 1), flag, value)
        rows.append(verdict(f"train {flag} {value}", r.code == 2 and "Traceback" not in r.err and flag in r.lines[-1], r.short()))
    r = run("attention", work / "taken.png", "--out", work / "taken.png", "--weights", "random")
    rows.append(verdict("attention --out an existing file", r.code == 2 and "existing file" in r.err, r.short()))
    return rows


def undecodable_names(work: Path) -> list[Row]:
    data = make_dataset(work / "latin1", names=(b"caf\xe9", b"gr\xfcn"))
    rows = []
    for mode in ("head", "full"):
        r = run(*train_args(data, work / f"latin1-{mode}", 1, mode))
        rows.append(verdict(f"non-UTF-8 names: train {mode}", r.code == 0 and r.json_lines() is not None, r.short()))
    model = work / "latin1-head" / "model.pt"
    r = run("predict", data, "--model", model, "--device", "cpu", "--json")
    rows.append(verdict("non-UTF-8 names: predict --json", r.code == 0 and r.json_lines() is not None, r.short()))
    r = run("evaluate", model, data, "--device", "cpu", "--json")
    rows.append(verdict("non-UTF-8 names: evaluate --json", r.code == 0 and r.json_lines() is not None, r.short()))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=10, help="kill -9 rounds (default: 10)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="faults-") as tmp:
        work = Path(tmp)
        os.environ["EFFICIENTNET_STUDIO_CACHE"] = str(work / "cache")
        data = make_dataset(work / "data")
        reference = Command(*train_args(data, work / "reference", 4))
        events = len(reference.read_lines(10_000))
        assert reference.finish().code == 0, "the uninterrupted reference run failed"
        ref_dir = work / "reference"
        bundle, image = ref_dir / "model.pt", next((data / "red").iterdir())
        rows: list[Row] = []

        def record(*found: Row) -> None:
            for row in found:
                print(f"{row.verdict:<4}  {row.name}  {row.detail}", file=sys.stderr, flush=True)
            rows.extend(found)

        record(zip_bomb(work, bundle, image))  # first: before this process imports torch
        record(*absurd_flags(work, data))
        record(*pipes(work, data))
        record(*disk_and_folders(work, data, bundle))
        record(pixel_bomb(work))
        record(*poisoned(work, data, bundle, image, ref_dir))
        record(*undecodable_names(work))
        record(sigterm(work, data))
        record(*concurrent(work, data))
        record(kill9_rounds(work, data, metrics(ref_dir), events, args.kills))
    print_table(rows)
    return 0 if all(r.verdict != "BAD" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
