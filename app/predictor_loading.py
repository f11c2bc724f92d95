"""Building the Predictor for a model choice without freezing the UI thread.

On a CPU the Predictor runs on OpenVINO or ONNX Runtime, both from a graph that ``model.inference.runtime``
exports the first time it meets a set of weights and then keeps in its cache.
``torch.onnx.export`` holds Python's GIL inside C++ for seconds at a stretch
(tracing, constant folding, serialising the weights: about 2 s in one piece for
B7 on two cores), and while a worker thread holds the GIL the UI thread cannot
run a single Python slot, so a background *thread* is not enough: the window
froze for 2 s on every first switch to B7. A child process has a GIL of its own.
``load_predictor`` therefore has a missing graph exported by a child process
(``python -m app.predictor_loading``) and the Predictor then only loads it.
If the child cannot run (a frozen build, say), the Predictor exports the graph
itself, as before: slower to the eye, never wrong.

This module imports no Qt, so the child starts without it.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

from app.state import ModelChoice

log = logging.getLogger(__name__)

POLL_S = 0.1  # how often a wait for the child looks at the stop flag
APP_ROOT = Path(__file__).resolve().parents[1]  # the folder holding the app and model packages


def load_classifier_for(choice: ModelChoice):
    """The backend's Classifier for ``choice`` (a bundle, or a variant with its weights)."""
    from model.nets.classifier import load_classifier

    if choice.bundle:
        return load_classifier(bundle=choice.bundle)
    return load_classifier(choice.variant, choice.weights)


def needs_graph_export(classifier, device, runtime: str = "auto") -> bool:
    """Whether a Predictor for ``classifier`` on ``device`` would export an ONNX graph first."""
    from model.inference.runtime import OnnxRunner, wants_onnx

    if not wants_onnx(device, runtime, classifier.variant.name):
        return False
    return not OnnxRunner.graph_path(classifier.model, classifier.preprocessing.crop_size).is_file()


def export_graph_in_child(choice: ModelChoice, stop: threading.Event) -> bool:
    """Export ``choice``'s graph into the cache from a child process; True when it did.

    The child rebuilds the same weights from the choice (ImageNet and weight files
    are read from disk; random weights are seeded), so it fills exactly the cache
    entry the Predictor will look for. Setting ``stop`` kills the child.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(APP_ROOT), env.get("PYTHONPATH", "")) if p)
    command = [sys.executable, "-m", "app.predictor_loading", choice.variant, choice.weights, choice.bundle]
    try:
        child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    except OSError as e:
        log.warning("could not start the graph export process (%s); the predictor exports in-process", e)
        return False
    errors = ""
    while True:
        try:
            # communicate() keeps reading stderr, so a chatty child can never fill the pipe and stall.
            _, errors = child.communicate(timeout=POLL_S)
            break
        except subprocess.TimeoutExpired:
            if stop.is_set():
                child.kill()
                child.communicate()
                return False
    if child.returncode != 0:
        log.warning("graph export process failed (exit %s): %s", child.returncode, (errors or "")[-2000:])
        return False
    return True


def load_predictor(choice: ModelChoice, device: str, stop: threading.Event, runtime: str = "auto"):
    """The warmed-up Predictor for ``choice`` on ``device``, its graph exported out of process when needed.

    Returns None when ``stop`` was set before it was ready. Runs in a worker thread.
    """
    from model.nets.device import resolve_device
    from model.inference.predict import Predictor

    dev = resolve_device(device)  # an unavailable device fails before any loading
    classifier = load_classifier_for(choice)
    if needs_graph_export(classifier, dev, runtime):
        export_graph_in_child(choice, stop)
    if stop.is_set():
        return None
    predictor = Predictor.from_classifier(classifier, dev, runtime)
    predictor.warm_up()  # the session's first-run costs, here rather than on the first drop
    return predictor


def export_graph_main(argv: list[str]) -> int:
    """The child process: ``python -m app.predictor_loading VARIANT WEIGHTS BUNDLE``."""
    from model.inference.runtime import OnnxRunner

    variant, weights, bundle = argv
    classifier = load_classifier_for(ModelChoice(variant=variant, weights=weights, bundle=bundle))
    OnnxRunner.ensure_graph(classifier.model, classifier.preprocessing.crop_size)
    return 0


if __name__ == "__main__":
    sys.exit(export_graph_main(sys.argv[1:]))
