"""Real drag-enter and drop events carrying file and folder urls."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from app.widgets.drop_zone import DropZone, local_paths
from app.pages.classify.results_model import RowState


def _mime(*paths) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


def _drag_enter(widget, mime, pos=QPointF(10, 10)) -> QDragEnterEvent:
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    try:
        event = QDragEnterEvent(QPointF(pos), *args)
    except TypeError:  # PySide6 before 6.12 only has the QPoint constructor
        event = QDragEnterEvent(QPointF(pos).toPoint(), *args)
    QApplication.sendEvent(widget, event)
    return event


def _drop(widget, mime, pos=QPointF(10, 10)) -> QDropEvent:
    event = QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)
    return event


def test_drop_zone_accepts_files_and_a_folder(qtbot, image_factory, tmp_path):
    zone = DropZone()
    qtbot.addWidget(zone)
    one = image_factory("one.png")
    folder = tmp_path / "folder"
    image_factory("folder/two.jpg")
    mime = _mime(one, folder)

    enter = _drag_enter(zone, mime)
    assert enter.isAccepted()
    with qtbot.waitSignal(zone.paths_dropped) as blocker:
        drop = _drop(zone, mime)
    assert drop.isAccepted()
    assert blocker.args[0] == [str(one), str(folder)]


def test_drop_zone_refuses_drags_without_local_files(qtbot):
    zone = DropZone()
    qtbot.addWidget(zone)
    mime = QMimeData()
    mime.setUrls([QUrl("https://example.com/cat.jpg")])
    assert not _drag_enter(zone, mime).isAccepted()
    text = QMimeData()
    text.setText("just some words")
    assert not _drag_enter(zone, text).isAccepted()


def test_dropping_a_folder_and_a_file_on_the_page_classifies_everything(qtbot, ready_window, image_factory, tmp_path):
    page = ready_window.page("classify")
    loose = image_factory("loose.png", color=(0, 250, 0))
    image_factory("photos/a.png", color=(250, 0, 0))
    image_factory("photos/nested/b.png", color=(0, 0, 250))
    (tmp_path / "photos" / "notes.txt").write_text("not an image and not picked from a folder")
    mime = _mime(tmp_path / "photos", loose)

    assert _drag_enter(page.drop_zone, mime).isAccepted()
    assert _drop(page.drop_zone, mime).isAccepted()
    qtbot.waitUntil(lambda: page.is_settled() and page.results.rowCount() == 3, timeout=10_000)
    rows = page.results.rows()
    assert [r.prediction.labels[0] for r in rows] == ["red", "blue", "green"]
    assert all(r.state is RowState.DONE for r in rows)



def test_drops_on_the_results_list_reach_the_page_through_the_window(qtbot, ready_window, image_factory):
    """Delivered to the window like a real drag, so Qt routes it to the widget that accepts drops."""
    page = ready_window.page("classify")
    page.classify_paths([str(image_factory("first.png"))])
    qtbot.waitUntil(lambda: page.is_settled() and page.results.rowCount() == 1, timeout=10_000)
    ready_window.show()
    qtbot.waitExposed(ready_window)
    viewport = page.list_view.viewport()
    pos = viewport.mapTo(ready_window, viewport.rect().center())
    more = _mime(image_factory("more.png"))
    handle = ready_window.windowHandle()
    assert _drag_enter(handle, more, QPointF(pos)).isAccepted()
    assert _drop(handle, more, QPointF(pos)).isAccepted()
    qtbot.waitUntil(lambda: page.is_settled() and page.results.rowCount() == 2, timeout=10_000)


def test_plain_text_paths_are_understood(image_factory, tmp_path):
    a = image_factory("a.png")
    mime = QMimeData()
    mime.setText(f"{a}\nfile://{tmp_path}\n")
    assert local_paths(mime) == [str(a), str(tmp_path)]
    missing = QMimeData()
    missing.setText(str(tmp_path / "nope.png"))
    assert local_paths(missing) == []
