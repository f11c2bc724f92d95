"""Explaining a prediction, with the evidence for each explanation.

* ``se_recorder``, ``attention``, ``attention_views``: one recorded forward pass (SE gates and inputs),
  the spatial SE maps and the gate map.
* ``methods/``: the registry of explanation methods (SE map, what SE changed, Grad-CAM, Grad-CAM++,
  Score-CAM, random); the CLI's ``--map``, the GUI's selector and the figures read it.
* ``layers`` (which stage a CAM is taken at), ``cams`` (the CAM arithmetic).
* ``faithfulness`` (deletion/insertion curves and AUC), ``ablation`` (SE ablation per block),
  ``explainer`` (one image's maps, scores and ablation, cached), ``evidence`` (all of it for the CLI,
  bench and GUI).
* ``attention_classes``: class comparison over a folder; ``render`` and ``figures``: pixels and PNGs.
"""
