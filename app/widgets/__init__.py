"""Widgets that several pages share: the drop zone, the job bar, the plot style.

A widget that only one page uses lives in that page's folder (``app/pages/<page>/``).
"""
