"""The Attention page: SE maps, Grad-CAM and class comparison for one image or a folder.

``page`` (the page), ``workers`` and ``jobs`` (the analyses and who starts them),
``attention_panel`` with ``image_pane`` and ``matrix_view`` (one image),
``comparison_panel`` with ``divergence_chart`` (a folder of classes).
"""
