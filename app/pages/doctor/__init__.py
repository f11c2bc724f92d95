"""The Doctor page: find wrong labels, duplicates, leaks and outliers in a data set, and fix them safely.

- ``page``: composes the folder bar, the findings lists, the detail view and the embedding map
- ``workers``: the diagnosis (``model.doctor.run.diagnose``) and Undo all, off the UI thread
- ``findings``: the lists of findings with thumbnails, worst first
- ``detail``: the selected image beside its nearest neighbours from each candidate class
- ``embedding``: the 2-D map of the features (pyqtgraph scatter, fluid at 20,000 points)
- ``fixes``: the actions (move, exclude, keep, undo) through ``model.doctor.journal``
"""
