"""The fixes a person makes on the Doctor page, applied through the data set's journal.

Each fix is one file move (a rename and a hash check of one image: milliseconds,
so it runs where the key was pressed; Undo all, which may be hundreds, runs in a
worker). The report's paths go stale as files move, so this keeps where each
image is now, and what was done to it, for the lists to show.
"""

from __future__ import annotations

from model.doctor.journal import FixResult, Journal


class Fixes:
    """Moves, exclusions, keeps and undos for one diagnosed data set."""

    def __init__(self, report) -> None:
        self.report = report
        self.journal = Journal(report.root)
        self.where = {i: it.rel for i, it in enumerate(report.items)}  # item index → its path now
        self.by_path: dict[str, int] = {}
        self.kept: set[int] = set()
        self.history: list[int] = []  # item indices of the fixes made here, newest last

    def _done(self, index: int, result: FixResult) -> FixResult:
        if result.done:
            self.where[index] = result.move.target
            self.by_path[result.move.target] = index
            self.history.append(index)
        return result

    def move(self, index: int, class_index: int) -> FixResult:
        name = self.report.classes[class_index]
        return self._done(index, self.journal.move_to_class(self.where[index], name, self.report.items[index].print))

    def exclude(self, index: int) -> FixResult:
        return self._done(index, self.journal.exclude(self.where[index], self.report.items[index].print))

    def keep(self, index: int) -> None:
        self.kept.add(index)

    def undo(self) -> tuple[int | None, FixResult]:
        """Undo the journal's latest fix; (the item it was about when made here, the result)."""
        active = self.journal.active()
        index = self.by_path.get(active[-1].target) if active else None
        result = self.journal.undo()
        if result.done and index is not None:
            self.where[index] = result.move.target
            if self.history and self.history[-1] == index:
                self.history.pop()
        return index, result

    def undone_all(self, results: list[FixResult]) -> list[int]:
        """Follow the files Undo all moved back; the item indices they were about."""
        touched = []
        for r in results:
            index = self.by_path.pop(r.move.source, None) if r.done else None
            if index is not None:
                self.where[index] = r.move.target
                touched.append(index)
        self.history.clear()
        return touched

    def status_of(self, index: int) -> str:
        now = self.where[index]
        if now.startswith(".studio/"):
            return "excluded"
        if now != self.report.items[index].rel:
            _, cls = self.journal.class_folder_of(now)
            return f"moved to {cls}"
        return "kept" if index in self.kept else ""
