"""The Attention page: SE maps, Grad-CAM and class comparison for one image or a folder.

``page`` (the page), ``workers`` and ``jobs`` (the analyses and who starts them, each
a ``queued_job.QueuedJob``), ``attention_panel`` with ``image_pane``, ``matrix_view``,
``evidence_view`` and ``evidence_charts`` (one image), ``comparison_panel`` with
``divergence_chart`` and ``class_ablation_chart`` (a folder of classes); ``depth_chart``
is what every per-block chart shares.
"""
