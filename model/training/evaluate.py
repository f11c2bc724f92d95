"""How good is a trained model on a folder of labelled images?

``evaluate(bundle, folder)`` gives the accuracy, the confusion matrix with class
names (rows: true class, columns: predicted class), per-class precision, recall
and F1, the misclassified files sorted by loss (worst first), the expected
calibration error (``ece``: top-1, 15 bins) and the reliability diagram's bins.
Probabilities are the bundle's calibrated ones (logits / temperature).
``evaluate(..., tta=True)`` adds test-time augmentation figures under ``tta``,
beside (never instead of) the plain ones. Training uses
``evaluation_from_outputs`` on its validation set, so the run folder's
``evaluation.json`` holds exactly what ``evaluate`` computes for the best model.
"""

from __future__ import annotations

import os
import threading
from dataclasses import asdict, dataclass, field
from typing import Callable, Sequence

import torch
import torch.nn.functional as F

from model.core.errors import DatasetError, StudioError


@dataclass(frozen=True)
class Mistake:
    path: str
    true_label: str
    predicted_label: str
    loss: float  # cross-entropy of the true class
    confidence: float  # softmax probability of the predicted class


@dataclass
class Evaluation:
    accuracy: float
    class_names: list[str]
    confusion_matrix: list[list[int]]  # [true][predicted]
    per_class: dict[str, dict[str, float]]  # name -> precision, recall, f1, support
    mistakes: list[Mistake]
    loss: float  # mean cross-entropy
    num_images: int
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    records: list[tuple[str, int, int, float]] = field(default_factory=list)  # (path, true, predicted, loss) per image
    ece: float = 0.0  # expected calibration error: top-1, 15 equal-width bins
    temperature: float = 1.0  # the calibration the probabilities were computed with
    reliability: dict | None = None  # ``ReliabilityBins.to_dict()``: what the reliability diagram draws
    tta: dict | None = None  # with test-time augmentation: accuracy, macro_f1, loss, ece

    def files_in_cell(self, true: int, predicted: int) -> list[str]:
        """The images behind one confusion-matrix cell, worst first (what a click on the cell shows)."""
        hits = [r for r in self.records if r[1] == true and r[2] == predicted]
        return [r[0] for r in sorted(hits, key=lambda r: r[3], reverse=True)]

    @property
    def macro_f1(self) -> float:
        return sum(m["f1"] for m in self.per_class.values()) / max(1, len(self.per_class))

    def to_dict(self) -> dict:
        """The CLI's --json object and evaluation.json."""
        return {
            "accuracy": self.accuracy,
            "loss": self.loss,
            "num_images": self.num_images,
            "classes": list(self.class_names),
            "confusion_matrix": self.confusion_matrix,
            "per_class": self.per_class,
            "macro_f1": self.macro_f1,
            "ece": self.ece,
            "temperature": self.temperature,
            "reliability": self.reliability,
            "mistakes": [asdict(m) for m in self.mistakes],
            "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
            **({"tta": self.tta} if self.tta is not None else {}),
        }

    @classmethod
    def from_dict(cls, d: dict) -> "Evaluation":
        """Read back what ``to_dict`` wrote (evaluation.json). Per-image ``records`` are not stored
        there, so they stay empty; the misclassified images are in ``mistakes``."""
        return cls(
            accuracy=float(d["accuracy"]),
            class_names=[str(c) for c in d["classes"]],
            confusion_matrix=[[int(n) for n in row] for row in d["confusion_matrix"]],
            per_class={str(k): {m: float(v) for m, v in scores.items()} for k, scores in d["per_class"].items()},
            mistakes=[Mistake(**m) for m in d.get("mistakes", [])],
            loss=float(d.get("loss", 0.0)),
            num_images=int(d.get("num_images", 0)),
            skipped=[(str(s["path"]), str(s["reason"])) for s in d.get("skipped", [])],
            ece=float(d.get("ece", 0.0)),
            temperature=float(d.get("temperature", 1.0)),
            reliability=d.get("reliability"),
            tta=d.get("tta"),
        )


def evaluation_from_outputs(
    class_names: Sequence[str],
    paths: Sequence[str | os.PathLike],
    labels: torch.Tensor,
    logits: torch.Tensor,
    temperature: float = 1.0,
) -> Evaluation:
    """Build an ``Evaluation`` from per-image logits [N, C] and true labels [N]; probabilities and
    losses are of ``logits / temperature``."""
    from model.training.calibration import reliability_bins

    k = len(class_names)
    labels = labels.long().cpu()
    logits = logits.float().cpu() / float(temperature)
    n = int(labels.shape[0])
    losses = F.cross_entropy(logits, labels, reduction="none") if n else torch.zeros(0)
    probs = logits.softmax(1) if n else torch.zeros(0, k)
    preds = probs.argmax(1) if n else torch.zeros(0, dtype=torch.long)
    cm = torch.zeros(k, k, dtype=torch.long)
    cm.index_put_((labels, preds), torch.ones(n, dtype=torch.long), accumulate=True)
    per_class = {}
    for i, name in enumerate(class_names):
        tp = int(cm[i, i])
        predicted = int(cm[:, i].sum())
        support = int(cm[i, :].sum())
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[name] = {"precision": precision, "recall": recall, "f1": f1, "support": support}
    wrong = (preds != labels).nonzero().flatten().tolist()
    mistakes = [
        Mistake(str(paths[i]), class_names[int(labels[i])], class_names[int(preds[i])], float(losses[i]), float(probs[i, preds[i]]))
        for i in wrong
    ]
    mistakes.sort(key=lambda m: m.loss, reverse=True)
    bins = reliability_bins(probs, labels)
    return Evaluation(
        accuracy=float((preds == labels).sum()) / n if n else 0.0,
        class_names=list(class_names),
        confusion_matrix=cm.tolist(),
        per_class=per_class,
        mistakes=mistakes,
        loss=float(losses.mean()) if n else 0.0,
        num_images=n,
        records=[(str(paths[i]), int(labels[i]), int(preds[i]), float(losses[i])) for i in range(n)],
        ece=bins.ece,
        temperature=float(temperature),
        reliability=bins.to_dict(),
    )


def summary(ev: Evaluation) -> dict:
    """The headline figures of an evaluation (what ``tta`` reports)."""
    return {"accuracy": ev.accuracy, "macro_f1": ev.macro_f1, "loss": ev.loss, "ece": ev.ece}


def evaluate(
    bundle,
    data_dir: str | os.PathLike,
    device: str = "auto",
    progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
    batch_size: int | None = None,
    tta: bool = False,
) -> Evaluation:
    """Evaluate a bundle (path or ``Bundle``) on a class-folder dataset.

    ``tta``: also evaluate with test-time augmentation (``model.training.tta``: the
    mirror only when the model was trained with flips, and a slight zoom), reported
    in ``Evaluation.tta``.

    Uses the folder's ``test/`` part when it has a train/val/test layout (the images set aside from
    training), else its ``val/`` part when it has train/ and val/, every image otherwise.
    Folder classes must be classes of the model; classes the folder lacks are simply absent.
    """
    from model.nets.bundle import Bundle, load_bundle
    from model.training.data import held_out_test_dir, scan_dataset
    from model.nets.device import resolve_device, speed_policy
    from model.training.loaders import ImageSamples, SubsetSampler, decode_for_eval, make_loader
    from model.training.loop import BatchSize, Stepper, cpu_threads_beside, run_in_chunks

    b = bundle if isinstance(bundle, Bundle) else load_bundle(bundle)
    data_dir = held_out_test_dir(data_dir) or data_dir  # never score images the model trained on
    scan = scan_dataset(data_dir, min_classes=1)
    files = scan.val_files if scan.val_files is not None else scan.files
    index = {name: i for i, name in enumerate(b.class_names)}
    unknown = [c for c in scan.class_names if c not in index]
    if unknown:
        raise DatasetError(
            f"{data_dir} has a class '{unknown[0]}' the model does not know (it knows {', '.join(b.class_names)})."
        )
    samples = [(p, index[scan.class_names[y]]) for p, y in files]

    dev = resolve_device(device)
    policy = speed_policy(dev)
    net = b.build_model().to(dev)
    if policy.channels_last:
        net = net.to(memory_format=torch.channels_last)
    stepper = Stepper(net.eval(), dev, policy, b.preprocessing)
    dataset = ImageSamples(samples, lambda p: decode_for_eval(p, b.preprocessing))
    size = BatchSize(batch_size or 32)
    loader = make_loader(dataset, SubsetSampler(list(range(len(samples))), shuffle=False), size.value, policy.loader_workers, policy.pin_memory)

    from model.training.tta import tta_logits

    flip = bool(b.config.get("flip", True)) and b.config.get("augment", True) not in (False, "none")
    outputs, tta_outputs, labels, kept, skipped = [], [], [], [], [(str(p), r) for p, r in scan.skipped]
    done = 0
    with cpu_threads_beside(dev, policy.loader_workers):
        for batch in loader:
            if cancel is not None and cancel.is_set():
                raise StudioError("Evaluation cancelled.")
            skipped += [(str(samples[i][0]), reason) for i, reason in batch.failed]
            for out in run_in_chunks(lambda x, y: stepper.logits(x), batch.images, batch.labels, size, stepper.free_memory):
                if isinstance(out, torch.Tensor):
                    outputs.append(out)
            if tta:
                tta_outputs.append(tta_logits(stepper, batch.images, flip, b.temperature))
            labels.append(batch.labels)
            kept += batch.indices.tolist()
            done += len(batch) + len(batch.failed)
            if progress is not None:
                progress(done, len(samples))
    if not kept:
        raise DatasetError(f"{data_dir}: none of the images could be decoded.")
    paths = [str(samples[i][0]) for i in kept]
    ev = evaluation_from_outputs(b.class_names, paths, torch.cat(labels), torch.cat(outputs), b.temperature)
    ev.skipped = skipped
    if tta:
        ev.tta = summary(evaluation_from_outputs(b.class_names, paths, torch.cat(labels), torch.cat(tta_outputs)))
        ev.tta["views"] = 3 if flip else 2
    return ev
