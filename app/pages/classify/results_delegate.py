"""Draws one classification result: thumbnail, file name, time taken and top-5 probability bars.

A delegate (rather than a widget per image) keeps thousands of rows cheap: only
the visible rows are ever painted.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from app.pages.classify.results_model import PredictionRole, StateRole, ThumbnailRole, short_error
from app.workers.thumbnails import THUMBNAIL_SIZE

PAD = 8
BAR_ROWS = 5
ERROR_COLOUR = QColor(198, 40, 40)  # readable on light and dark themes alike


def format_seconds(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


class ResultDelegate(QStyledItemDelegate):
    """Paints rows of ``ResultsModel``."""

    def sizeHint(self, option: QStyleOptionViewItem, index) -> QSize:
        line = QFontMetrics(option.font).height()
        height = max(THUMBNAIL_SIZE, line + 4 + BAR_ROWS * (line + 2)) + 2 * PAD
        return QSize(400, height)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        style = opt.widget.style() if opt.widget else None
        painter.save()
        if style is not None:
            style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, opt, painter, opt.widget)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        text_role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        palette = opt.palette
        rect = opt.rect.adjusted(PAD, PAD, -PAD, -PAD)

        self._paint_thumbnail(painter, QRect(rect.left(), rect.top(), THUMBNAIL_SIZE, THUMBNAIL_SIZE), index, opt)
        text_rect = rect.adjusted(THUMBNAIL_SIZE + 2 * PAD, 0, 0, 0)
        metrics = QFontMetrics(opt.font)
        line = metrics.height()

        prediction = index.data(PredictionRole)
        state = index.data(StateRole)
        bold = QFont(opt.font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(palette.color(text_role))
        time_text = format_seconds(prediction.seconds) if state == "done" and prediction is not None else ""
        time_width = metrics.horizontalAdvance(time_text) + PAD if time_text else 0
        name = QFontMetrics(bold).elidedText(
            str(index.data(Qt.ItemDataRole.DisplayRole)), Qt.TextElideMode.ElideMiddle, text_rect.width() - time_width
        )
        painter.drawText(QRect(text_rect.left(), text_rect.top(), text_rect.width(), line), Qt.AlignmentFlag.AlignLeft, name)
        painter.setFont(opt.font)
        if time_text:
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(QRect(text_rect.left(), text_rect.top(), text_rect.width(), line), Qt.AlignmentFlag.AlignRight, time_text)

        body = QRect(text_rect.left(), text_rect.top() + line + 4, text_rect.width(), text_rect.height() - line - 4)
        if state == "done":
            self._paint_bars(painter, body, prediction, palette, text_role, metrics)
        elif state in ("failed", "cancelled"):
            if state == "failed":
                message = short_error(prediction.path, prediction.error)
                painter.setPen(palette.color(text_role) if selected else ERROR_COLOUR)
            else:
                message = "Not classified: the batch was cancelled."
                painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(body, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap, message)
        else:
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(body, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, "Waiting…")
        painter.restore()

    def _paint_thumbnail(self, painter: QPainter, box: QRect, index, opt: QStyleOptionViewItem) -> None:
        image = index.data(ThumbnailRole)
        if image is None or image.isNull():
            palette = opt.palette
            painter.setPen(palette.color(QPalette.ColorRole.Mid))
            painter.setBrush(palette.color(QPalette.ColorRole.AlternateBase))
            painter.drawRect(box.adjusted(0, 0, -1, -1))
            if index.data(StateRole) == "failed" and opt.widget is not None:
                icon = opt.widget.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
                icon.paint(painter, box.adjusted(24, 24, -24, -24))
            return
        size = image.size().scaled(box.size(), Qt.AspectRatioMode.KeepAspectRatio)
        target = QRect(0, 0, size.width(), size.height())
        target.moveCenter(box.center())
        painter.drawImage(target, image)

    def _paint_bars(self, painter: QPainter, body: QRect, prediction, palette: QPalette, text_role, metrics: QFontMetrics) -> None:
        line = metrics.height()
        label_width = min(int(body.width() * 0.45), 360)
        percent_width = metrics.horizontalAdvance("100.0%") + PAD
        bar_left = body.left() + label_width + PAD
        bar_width = max(10, body.width() - label_width - PAD - percent_width)
        for k, (label, score) in enumerate(zip(prediction.labels[:BAR_ROWS], prediction.scores[:BAR_ROWS])):
            top = body.top() + k * (line + 2)
            painter.setPen(palette.color(text_role))
            painter.drawText(
                QRect(body.left(), top, label_width, line),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                metrics.elidedText(str(label), Qt.TextElideMode.ElideRight, label_width),
            )
            track = QRect(bar_left, top + line // 4, bar_width, line // 2 + 1)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(palette.color(QPalette.ColorRole.Midlight))
            painter.drawRect(track)
            filled = QRect(track)
            filled.setWidth(max(1, round(bar_width * max(0.0, min(1.0, float(score))))))
            painter.setBrush(palette.color(QPalette.ColorRole.Highlight))
            painter.drawRect(filled)
            painter.setPen(palette.color(text_role))
            painter.drawText(
                QRect(bar_left + bar_width, top, percent_width, line),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                f"{100 * float(score):.1f}%",
            )
