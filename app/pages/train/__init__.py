"""The Train page: pick a folder, fine-tune with live curves, browse and reuse runs.

``page`` (the page and the run's life), ``workers`` (scan, train, list and read
runs, save, export), ``dataset`` and ``dataset_summary`` (the chosen folder),
``train_form`` and ``collapsible`` (the settings), ``train_controls``,
``train_progress`` and ``train_curves`` (a run as it goes), ``runs``,
``runs_list``, ``train_results``, ``class_metrics``, ``confusion_matrix`` and
``mistakes_list`` (finished runs), ``model_actions`` (use, save or export a run's model).
"""
