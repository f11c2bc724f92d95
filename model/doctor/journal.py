"""The fixes a person approved: real file moves inside the data set, written down so they can be undone.

The class folders stay the truth, so fixing a label means moving the file to
another class folder; excluding an image moves it to
``DATA_DIR/.studio/excluded/<class>/``. Every move is appended to
``DATA_DIR/.studio/doctor-journal.jsonl`` (what moved where, when, and the file's
hash), and ``undo`` / ``undo_all`` move files back. Nothing is ever deleted or
overwritten: a name already taken gets a ``-1``, ``-2``… suffix, and the move
itself is a hard link plus unlink (which fails rather than replace a file)
where the file system allows. A file whose content changed since the report
is skipped with a note.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from model.doctor.collect import STUDIO_FOLDER, Fingerprint, fingerprint, split_folders

JOURNAL_NAME = "doctor-journal.jsonl"
EXCLUDED_FOLDER = "excluded"


@dataclass(frozen=True)
class Move:
    """One applied move: ``op`` is "move" or "exclude"; paths are relative to DATA_DIR."""

    id: int
    op: str
    source: str
    target: str
    sha256: str
    time: str


@dataclass(frozen=True)
class FixResult:
    """What a fix did: the move made (None when skipped) and a note for the person when there is one."""

    move: Move | None
    note: str | None = None

    @property
    def done(self) -> bool:
        return self.move is not None


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def free_name(path: Path) -> Path:
    """``path``, or ``stem-1.ext``, ``stem-2.ext``… : the first name not taken."""
    candidate, n = path, 0
    while candidate.exists() or candidate.is_symlink():
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate


def _move_no_overwrite(src: Path, dst: Path) -> Path:
    """Move ``src`` to a free name at ``dst``; returns where it went. Never replaces an existing file."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    while True:
        target = free_name(dst)
        try:
            os.link(src, target)  # fails with FileExistsError instead of replacing
        except FileExistsError:
            continue  # taken between the check and the link: try the next name
        except OSError:  # no hard links here (FAT, some network shares): check, then move
            if target.exists():
                continue
            shutil.move(str(src), str(target))
            return target
        os.unlink(src)
        return target


class Journal:
    """The fixes applied to one data set, read from and appended to its journal file."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self.path = self.root / STUDIO_FOLDER / JOURNAL_NAME

    def records(self) -> list[dict]:
        if not self.path.is_file():
            return []
        out = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:  # a line cut by a crash: the moves before it still count
                continue
        return out

    def active(self) -> list[Move]:
        """Moves applied and not undone, oldest first."""
        moves: dict[int, Move] = {}
        for r in self.records():
            if r.get("op") in ("move", "exclude"):
                moves[int(r["id"])] = Move(int(r["id"]), r["op"], r["from"], r["to"], r["sha256"], r["time"])
            elif r.get("op") == "undo":
                moves.pop(int(r["undoes"]), None)
        return sorted(moves.values(), key=lambda m: m.id)

    def _append(self, record: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def _next_id(self) -> int:
        return 1 + max((int(r.get("id", 0)) for r in self.records()), default=0)

    def _rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def _unchanged(self, rel: str, expected: Fingerprint | str) -> str | None:
        """None when the file is as the report saw it, else the note saying why it is skipped."""
        path = self.root / rel
        sha = expected if isinstance(expected, str) else expected.sha256
        try:
            if not isinstance(expected, str) and path.stat().st_size != expected.size:
                return f"{rel} changed since the report, so it was left alone; run the doctor again."
            if fingerprint(path).sha256 != sha:
                return f"{rel} changed since the report, so it was left alone; run the doctor again."
        except FileNotFoundError:
            return f"{rel} is no longer there (moved or renamed since the report); run the doctor again."
        except OSError as e:
            return f"{rel} cannot be read ({e.strerror or e}); it was left alone."
        return None

    def _apply(self, op: str, rel: str, target: Path, expected: Fingerprint | str) -> FixResult:
        note = self._unchanged(rel, expected)
        if note:
            return FixResult(None, note)
        sha = expected if isinstance(expected, str) else expected.sha256
        went = _move_no_overwrite(self.root / rel, target)
        move = Move(self._next_id(), op, rel, self._rel(went), sha, _now())
        self._append({"id": move.id, "op": op, "from": move.source, "to": move.target, "sha256": sha, "time": move.time})
        renamed = f" (as {went.name}: {target.name} was taken)" if went.name != target.name else ""
        return FixResult(move, f"Moved {rel} to {move.target}{renamed}." if renamed else None)

    def class_folder_of(self, rel: str) -> tuple[Path, str]:
        """(the split folder holding the file's class folder, the class name)."""
        parts = rel.split("/")
        layout = split_folders(self.root)
        if layout.get("train") == self.root:
            return self.root, parts[0]
        return self.root / parts[0], parts[1]

    def move_to_class(self, rel: str, class_name: str, expected: Fingerprint | str) -> FixResult:
        """Move the image at ``rel`` into the class folder ``class_name`` of the same split."""
        split_dir, current = self.class_folder_of(rel)
        if current == class_name:
            return FixResult(None, f"{rel} is already in '{class_name}'.")
        inner = Path(*rel.split("/")[len(split_dir.relative_to(self.root).parts) + 1 :])
        return self._apply("move", rel, split_dir / class_name / inner, expected)

    def exclude(self, rel: str, expected: Fingerprint | str) -> FixResult:
        """Move the image out of the data set, to ``.studio/excluded/<class>/``."""
        _, current = self.class_folder_of(rel)
        target = self.root / STUDIO_FOLDER / EXCLUDED_FOLDER / current / Path(rel).name
        return self._apply("exclude", rel, target, expected)

    def undo(self) -> FixResult:
        """Move the most recent active fix's file back where it was."""
        active = self.active()
        if not active:
            return FixResult(None, "There is nothing to undo.")
        return self._undo(active[-1])

    def undo_all(self) -> list[FixResult]:
        """Undo every active fix, newest first."""
        return [self._undo(m) for m in reversed(self.active())]

    def _undo(self, move: Move) -> FixResult:
        note = self._unchanged(move.target, move.sha256)
        if note:
            return FixResult(None, note.replace("since the report", "since it was moved"))
        went = _move_no_overwrite(self.root / move.target, self.root / move.source)
        back = Move(self._next_id(), "undo", move.target, self._rel(went), move.sha256, _now())
        self._append({"id": back.id, "op": "undo", "undoes": move.id, "from": back.source, "to": back.target, "time": back.time})
        if self._rel(went) != move.source:
            return FixResult(back, f"{move.source} is taken by another file, so it came back as {went.name}.")
        return FixResult(back)
