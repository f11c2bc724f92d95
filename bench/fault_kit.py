"""Tools for ``bench/faults.py``: tiny data, running ``python -m model …`` as a user would, and verdicts.

Every experiment runs the real CLI in a fresh process (``Command``), with its
own stdout/stderr pipes, and reads the child's own peak memory from
``os.wait4``. A ``Row`` is one line of the final table: ok, BAD or skip, with
what was seen.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--weights", "random", "--image-size", "32", "--device", "cpu", "--workers", "0", "--batch-size", "4"]


@dataclass
class Row:
    """One experiment's verdict: "ok", "BAD" or "skip", and a few words on what happened."""

    name: str
    verdict: str
    detail: str = ""


def verdict(name: str, ok: bool, detail: str) -> Row:
    return Row(name, "ok" if ok else "BAD", detail)


@dataclass
class Result:
    """What a finished command did: exit status, output, its own peak memory."""

    code: int
    out: bytes
    err: str
    peak_mb: float

    @property
    def lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]

    def one_sentence(self) -> bool:
        """Failed with one line on stderr and no traceback."""
        return "Traceback" not in self.err and len(self.lines) == 1

    def json_lines(self) -> list[dict] | None:
        """stdout as JSON lines, or None when it is not valid UTF-8 JSON."""
        try:
            return [json.loads(line) for line in self.out.decode("utf-8").splitlines() if line.strip()]
        except (UnicodeDecodeError, json.JSONDecodeError):
            return None

    def short(self) -> str:
        last = self.lines[-1] if self.lines else ""
        return f"exit {self.code}: {last[:110]}"


class Command:
    """``python -m model ARGS`` running in its own session (so signals reach only it)."""

    def __init__(self, *args: str, env: dict | None = None) -> None:
        full_env = dict(os.environ, PYTHONPATH=str(ROOT), **(env or {}))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "model", *map(str, args)], cwd=ROOT, env=full_env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        )

    def read_lines(self, n: int, timeout: float = 300) -> list[bytes]:
        """The next ``n`` lines of stdout (fewer if it ends first)."""
        lines, deadline = [], time.monotonic() + timeout
        while len(lines) < n and time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            lines.append(line)
        return lines

    def wait_for_event(self, event: str, timeout: float = 300, **fields) -> bool:
        """Read JSON lines until one with this event (and fields) shows; False if the run ends first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                return False
            try:
                ev = json.loads(line)
            except json.JSONDecodeError:
                continue
            if ev.get("event") == event and all(ev.get(k) == v for k, v in fields.items()):
                return True
        return False

    def signal(self, signum: int) -> None:
        try:
            os.kill(self.proc.pid, signum)
        except ProcessLookupError:
            pass

    def close_stdout(self) -> None:
        self.proc.stdout.close()

    def finish(self, timeout: float = 600) -> Result:
        """Wait for the command (killing it after ``timeout``) and collect what it did."""
        chunks: dict[str, bytes] = {"out": b"", "err": b""}

        def drain(name: str, stream) -> None:
            if stream is not None and not stream.closed:
                chunks[name] = stream.read()

        readers = [threading.Thread(target=drain, args=a) for a in (("out", self.proc.stdout), ("err", self.proc.stderr))]
        for t in readers:
            t.start()
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(self.proc.pid, os.WNOHANG)  # the child's own peak memory
            if pid:
                break
            if time.monotonic() > deadline:
                self.signal(signal.SIGKILL)
            time.sleep(0.05)
        for t in readers:
            t.join()
        self.proc.returncode = code = os.waitstatus_to_exitcode(status)
        code = code if code >= 0 else 128 - code  # killed by signal N: 128 + N, as a shell says
        return Result(code, chunks["out"], chunks["err"].decode("utf-8", "replace"), usage.ru_maxrss / 1024)


def run(*args: str, timeout: float = 600, env: dict | None = None) -> Result:
    """Run ``python -m model ARGS`` to the end."""
    return Command(*args, env=env).finish(timeout)


def make_dataset(root: Path, names: tuple[bytes, ...] = (b"red", b"green"), per_class: int = 6) -> Path:
    """``root/<class>/<i>.png`` tiny textured images; ``names`` are bytes, so they may be any file name."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for c, name in enumerate(names):
        folder = os.path.join(os.fsencode(root), name)
        os.makedirs(folder, exist_ok=True)
        for i in range(per_class):
            base = np.array([200 if c == 0 else 40, 40, 200 if c else 40], dtype=np.float64)
            arr = np.clip(base + rng.normal(0, 25, (32, 36, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(arr).save(os.fsdecode(os.path.join(folder, b"img%d.png" % i)))
    return root


def mount_tmpfs(where: Path, options: str) -> bool:
    """Mount a tmpfs at ``where`` (needs root); False when that is not possible here."""
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return False
    return subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True).returncode == 0


def unmount(where: Path) -> None:
    subprocess.run(["umount", str(where)], capture_output=True)


def print_table(rows: list[Row]) -> None:
    width = max(len(r.name) for r in rows)
    for r in rows:
        print(f"{r.verdict:<4}  {r.name:<{width}}  {r.detail}")
    ok = sum(r.verdict == "ok" for r in rows)
    bad = sum(r.verdict == "BAD" for r in rows)
    skipped = len(rows) - ok - bad
    print(f"\n{ok} ok, {bad} BAD" + (f", {skipped} skipped" if skipped else "") + f" of {len(rows)} experiments")
