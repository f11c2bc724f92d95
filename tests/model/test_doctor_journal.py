"""Fixes are real moves, journalled, undoable byte for byte; nothing is deleted, overwritten or touched when changed."""

from __future__ import annotations

import json

from model.doctor.collect import fingerprint
from model.doctor.journal import Journal
from tests.image_files import make_image


def _dataset(root):
    for c, colour in (("cat", (200, 0, 0)), ("dog", (0, 0, 200))):
        for i in range(3):
            make_image(root / "train" / c / f"{c[0]}{i}.png", color=colour, seed=i)
    make_image(root / "val" / "cat" / "v0.png", color=(90, 0, 0), seed=7)
    return root


def _files(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*.png")}


def test_move_is_journalled_and_undo_all_restores_every_byte(tmp_path):
    root = _dataset(tmp_path / "data")
    before = _files(root)
    j = Journal(root)
    a = j.move_to_class("train/cat/c1.png", "dog", fingerprint(root / "train/cat/c1.png"))
    b = j.exclude("train/dog/d2.png", fingerprint(root / "train/dog/d2.png"))
    c = j.move_to_class("val/cat/v0.png", "dog", fingerprint(root / "val/cat/v0.png"))
    assert a.done and b.done and c.done
    assert (root / "train/dog/c1.png").is_file() and not (root / "train/cat/c1.png").exists()
    assert b.move.target == ".studio/excluded/dog/d2.png" and (root / b.move.target).read_bytes() == before["train/dog/d2.png"]
    assert c.move.target == "val/dog/v0.png"
    lines = [json.loads(x) for x in (root / ".studio" / "doctor-journal.jsonl").read_text().splitlines()]
    assert [(r["op"], r["from"], r["to"]) for r in lines] == [
        ("move", "train/cat/c1.png", "train/dog/c1.png"),
        ("exclude", "train/dog/d2.png", ".studio/excluded/dog/d2.png"),
        ("move", "val/cat/v0.png", "val/dog/v0.png"),
    ]
    assert all(r["time"] and r["sha256"] for r in lines)

    last = j.undo()
    assert last.done and (root / "val/cat/v0.png").read_bytes() == before["val/cat/v0.png"]
    assert len(j.active()) == 2
    assert all(r.done for r in j.undo_all())
    assert j.active() == [] and not j.undo().done
    after = {k: v for k, v in _files(root).items() if not k.startswith(".studio")}
    assert after == before


def test_a_name_clash_never_overwrites(tmp_path):
    root = _dataset(tmp_path / "data")
    make_image(root / "train/dog/c0.png", color=(0, 9, 9))  # a dog that happens to share the cat's name
    cat0, dog0 = (root / "train/cat/c0.png").read_bytes(), (root / "train/dog/c0.png").read_bytes()
    j = Journal(root)
    r = j.move_to_class("train/cat/c0.png", "dog", fingerprint(root / "train/cat/c0.png"))
    assert r.move.target == "train/dog/c0-1.png" and "was taken" in r.note
    assert (root / "train/dog/c0.png").read_bytes() == dog0 and (root / "train/dog/c0-1.png").read_bytes() == cat0
    # Undo into a place someone refilled meanwhile: the newcomer stays, the file comes back beside it.
    make_image(root / "train/cat/c0.png", color=(1, 2, 3))
    newcomer = (root / "train/cat/c0.png").read_bytes()
    back = j.undo()
    assert back.done and "taken" in back.note
    assert (root / "train/cat/c0.png").read_bytes() == newcomer and (root / "train/cat/c0-1.png").read_bytes() == cat0


def test_exclude_moves_and_never_deletes(tmp_path):
    root = _dataset(tmp_path / "data")
    data = (root / "train/cat/c2.png").read_bytes()
    j = Journal(root)
    j.exclude("train/cat/c2.png", fingerprint(root / "train/cat/c2.png"))
    make_image(root / "train/cat/c2.png", color=(5, 5, 5))  # a new file of the same name, excluded too
    second = (root / "train/cat/c2.png").read_bytes()
    j.exclude("train/cat/c2.png", fingerprint(root / "train/cat/c2.png"))
    excluded = root / ".studio" / "excluded" / "cat"
    assert (excluded / "c2.png").read_bytes() == data and (excluded / "c2-1.png").read_bytes() == second
    assert not (root / "train/cat/c2.png").exists()


def test_a_file_changed_since_the_report_is_skipped_with_a_note(tmp_path):
    root = _dataset(tmp_path / "data")
    seen = fingerprint(root / "train/cat/c1.png")
    make_image(root / "train/cat/c1.png", color=(0, 255, 0))  # edited after the report
    edited = (root / "train/cat/c1.png").read_bytes()
    j = Journal(root)
    r = j.move_to_class("train/cat/c1.png", "dog", seen)
    assert not r.done and "changed since the report" in r.note
    assert (root / "train/cat/c1.png").read_bytes() == edited and not (root / "train/dog/c1.png").exists()
    gone = j.exclude("train/cat/9.png", seen)
    assert not gone.done and "no longer there" in gone.note
    assert j.active() == []


def test_a_flat_dataset_moves_between_top_level_class_folders(tmp_path):
    root = tmp_path / "flat"
    make_image(root / "a" / "x.png", seed=1)
    make_image(root / "b" / "y.png", seed=2)
    r = Journal(root).move_to_class("a/x.png", "b", fingerprint(root / "a" / "x.png"))
    assert r.move.target == "b/x.png"
