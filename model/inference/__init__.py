"""Classifying images fast: the Predictor; its runtimes (OpenVINO, ONNX Runtime, torch), the precisions each
may use natively (precision), their graph and compiled-model caches (graph_cache); the choice of runtime
(runtime: the plan and its fallbacks; runtime_choice: what was measured fastest, per device and variant;
runtime_trials and agreement: "Measure on this machine"); and the per-variant benchmark."""
