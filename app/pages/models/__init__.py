"""The Models page: B0-B7 side by side, weights download and import, measuring, switching the active classifier.

``page`` (the page), ``workers`` (download, import, speed measurement),
``weights_actions`` (download or import with progress; the Classify page's
banner borrows it), ``variant_table``, ``scaling_chart`` and ``scaling_explainer``.
"""
