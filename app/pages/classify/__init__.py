"""The Classify page: drop images, see their top-5 labels.

``page`` (the page), ``workers`` (listing files and streaming predictions),
``results_model`` and ``results_delegate`` (the results list and how a row is
drawn), ``model_banner`` (what the active model is, with its weights actions).
"""
