"""Label issues: out-of-fold probabilities from a linear head on the features, then confident learning.

Each image's class probabilities come from a logistic regression that never saw
it (stratified k-fold), so a wrong label cannot vouch for itself. cleanlab's
``find_label_issues`` decides which labels are likely wrong (confident learning)
and ``get_label_quality_scores`` ranks them; the doctor's score is one minus that
quality, so higher means more likely wrong.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

HEAD_DIMS = 128  # the linear head fits on this many principal components: seconds instead of minutes at 10,000 images
C = 0.5  # inverse regularisation of the linear head


@dataclass
class LabelFindings:
    """Per image: out-of-fold probabilities, a score in [0, 1] (higher = more likely wrong), flagged or not."""

    probabilities: np.ndarray  # [n, classes]
    scores: np.ndarray  # [n]
    flagged: np.ndarray  # [n] bool
    suggested: np.ndarray  # [n] class index with the highest out-of-fold probability


def out_of_fold_probabilities(components: np.ndarray, labels: np.ndarray, num_classes: int, folds: int = 5, seed: int = 0) -> np.ndarray:
    """[n, num_classes] probabilities, each row from a head trained on the other folds.

    ``components``: the principal components of the unit features, strongest first.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    x = np.asarray(components[:, :HEAD_DIMS], dtype=np.float64)
    # One scale for all components (not one per component: that would blow the noise of weak ones up).
    x = (x - x.mean(axis=0)) / (x[:, : min(8, x.shape[1])].std() + 1e-8)
    counts = np.bincount(labels, minlength=num_classes)
    k = int(min(folds, max(2, counts[counts > 0].min())))
    probs = np.full((len(labels), num_classes), 1.0 / num_classes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tiny classes and slow convergence are expected on small folders
        for train, held in StratifiedKFold(k, shuffle=True, random_state=seed).split(x, labels):
            present = np.unique(labels[train])
            if len(present) < 2:
                continue
            head = LogisticRegression(C=C, max_iter=300).fit(x[train], labels[train])
            p = np.zeros((len(held), num_classes))
            p[:, head.classes_] = head.predict_proba(x[held])
            probs[held] = p
    probs = np.clip(probs, 1e-6, None)
    return probs / probs.sum(axis=1, keepdims=True)


def find_label_issues(components: np.ndarray, labels: np.ndarray, num_classes: int, folds: int = 5, seed: int = 0) -> LabelFindings:
    """Which labels look wrong, how much, and the class each image looks like."""
    from cleanlab.filter import find_label_issues as cl_find
    from cleanlab.rank import get_label_quality_scores

    labels = np.asarray(labels, dtype=np.int64)
    n = len(labels)
    present = np.unique(labels)
    if len(present) < 2 or n < 4:
        probs = np.eye(num_classes)[labels] if n else np.zeros((0, num_classes))
        return LabelFindings(probs, np.zeros(n), np.zeros(n, dtype=bool), labels.copy())
    probs = out_of_fold_probabilities(components, labels, num_classes, folds, seed)
    # cleanlab wants every class present; absent classes are dropped and mapped back.
    sub = probs[:, present]
    sub /= sub.sum(axis=1, keepdims=True)
    remap = np.searchsorted(present, labels)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quality = get_label_quality_scores(remap, sub)
        flagged = cl_find(remap, sub, filter_by="prune_by_noise_rate", n_jobs=1)
    return LabelFindings(probs, 1.0 - np.asarray(quality, dtype=np.float64), np.asarray(flagged, dtype=bool), probs.argmax(axis=1))
