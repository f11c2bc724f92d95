"""Classifying images fast: the Predictor, its runtimes (ONNX Runtime, torch) and their caches, the ordered thread pool and the per-variant benchmark."""
