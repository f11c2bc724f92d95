"""Explaining a prediction: SE recording, spatial maps and Grad-CAM, class comparison, colormaps and the annotated figures."""
