"""One look for every pyqtgraph plot in the app: the platform's colours, no pyqtgraph chrome."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


def theme_colours(widget: QWidget) -> tuple[QColor, QColor, QColor]:
    """(text, highlight, base) colours of the widget's palette."""
    palette = widget.palette()
    return (palette.color(QPalette.ColorRole.Text), palette.color(QPalette.ColorRole.Highlight),
            palette.color(QPalette.ColorRole.Base))


def style_plot(plot: pg.PlotItem, text: QColor) -> None:
    """A static plot (no context menu, no auto-range button, no mouse zoom) with axes in ``text`` colour."""
    plot.setMenuEnabled(False)
    plot.hideButtons()
    plot.setMouseEnabled(x=False, y=False)
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        axis.setPen(text)
        axis.setTextPen(text)


def themed_plot(widget: pg.PlotWidget) -> tuple[QColor, QColor]:
    """Give a plot widget the theme's background (not pyqtgraph's black), static axes and a faint
    horizontal grid; returns the (text, highlight) colours to draw with."""
    text, line, base = theme_colours(widget)
    widget.setBackground(base)
    style_plot(widget.getPlotItem(), text)
    widget.showGrid(x=False, y=True, alpha=0.2)
    return text, line


def class_colours(n: int) -> list[QColor]:
    """``n`` distinct colours, one per class (pyqtgraph's hue wheel)."""
    return [pg.intColor(i, hues=max(n, 1), values=1, maxValue=220) for i in range(n)]


def labelled_plot(widget: QWidget, bottom: str, left: str) -> tuple[pg.PlotWidget, pg.PlotItem]:
    """A static plot in ``widget``'s colours with its two axes labelled."""
    text, _, base = theme_colours(widget)
    plot_widget = pg.PlotWidget(background=base)
    plot = plot_widget.getPlotItem()
    style_plot(plot, text)
    plot.setLabel("bottom", bottom)
    plot.setLabel("left", left)
    return plot_widget, plot


def epoch_plot_row(widget: QWidget, titles: dict[str, str]) -> tuple[pg.GraphicsLayoutWidget, dict[str, pg.PlotItem], QColor]:
    """Plots side by side over epochs, one per ``titles`` entry (key → title), in the theme's colours:
    the layout widget, the plots by key, and the text colour."""
    text, _, base = theme_colours(widget)
    view = pg.GraphicsLayoutWidget()
    view.setBackground(base)  # the theme's colours, not black
    plots: dict[str, pg.PlotItem] = {}
    for column, (key, title) in enumerate(titles.items()):
        plot = view.addPlot(row=0, col=column)
        plot.setTitle(title, color=text)
        style_plot(plot, text)
        plot.showGrid(x=True, y=True, alpha=0.2)
        plot.setLabel("bottom", "epoch", color=text)
        plots[key] = plot
    return view, plots, text


def plots_over_legend(widget: QWidget, view: pg.GraphicsLayoutWidget, legend_text: str = "") -> QLabel:
    """Lay ``view`` out in ``widget`` above one centred rich-text legend for all its plots, and return the
    legend: outside the plots, it never hides a curve."""
    legend = QLabel(legend_text)
    legend.setTextFormat(Qt.TextFormat.RichText)
    legend.setAlignment(Qt.AlignmentFlag.AlignCenter)
    layout = QVBoxLayout(widget)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    layout.addWidget(view, 1)
    layout.addWidget(legend)
    return legend
