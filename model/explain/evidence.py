"""The evidence behind one image's maps, in one place: every method's map scored, and the SE ablation.

Used by ``python -m model attention --score``, the bench and the GUI's worker,
so that all three score the same maps the same way. Per-block methods are
scored at the explainer's default block (the deepest SE block whose grid is at
least 4×4), CAMs at their default stage.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import numpy as np

from model.explain.methods import METHODS, method_names

if TYPE_CHECKING:  # torch-free at import, so the GUI can format scores before torch has loaded
    from model.explain.attention_views import SpatialMap
    from model.explain.explainer import Explainer
    from model.explain.faithfulness import Faithfulness


def map_entry(smap: "SpatialMap") -> dict:
    """What JSON says about a map: its grid and where it was taken."""
    entry: dict = {"grid": list(smap.grid)}
    if smap.layer is not None:
        entry.update(layer=smap.layer.name, channels=smap.layer.channels)
    if smap.block is not None:
        entry.update(block=smap.block.name, depth=smap.block.depth)
    return entry


def score_methods(
    explainer: "Explainer",
    names: tuple[str, ...] | None = None,
    *,
    progress: Callable[[int, int, str], None] | None = None,
) -> "dict[str, Faithfulness]":
    """Faithfulness of each method's default map for the explained class, random included, in registry order."""
    names = names or method_names()
    if "random" not in names:
        names = (*names, "random")
    scores = {}
    for done, name in enumerate(names):
        if progress is not None:
            progress(done, len(names), METHODS[name].label)
        scores[name] = explainer.score_method(name)
    if progress is not None:
        progress(len(names), len(names), "")
    return scores


def random_on_its_grid(explainer: "Explainer", name: str) -> "Faithfulness":
    """The random baseline for method ``name``'s default map: random maps on that map's own grid.

    A map is only comparable with random maps of its grid (coarse cells insert whole regions at a
    time), so an SE map at a 4×4 block is not read against the CAM's random maps when ``--layer``
    puts the CAM on an 8×8 stage. The draws depend only on the grid, so where the grids are equal this
    is the ``"random"`` entry itself (cached)."""
    smap = explainer.map(name)
    stage = smap.layer.index if smap.layer is not None else smap.block.stage
    return explainer.score_method("random", layer=stage)


def evidence_json(explainer: "Explainer", scores: "dict[str, Faithfulness]", ablation_mode: str = "mean") -> dict:
    """The ``--score`` part of ``attention --json``: ``faithfulness``, ``ablation`` and the scored ``maps``
    (each with ``beats_random``, against random maps on its own grid)."""
    ablation = explainer.ablation(ablation_mode)
    maps = {name: map_entry(explainer.map(name)) for name in scores}
    for name, entry in maps.items():
        if name != "random":
            random = random_on_its_grid(explainer, name)
            entry["beats_random"] = beats_random(scores[name], random)
            entry["judgement"] = judgement(scores[name], random)
    return {
        "faithfulness": {name: s.to_dict() for name, s in scores.items()},
        "ablation": [b.to_dict() for b in ablation.blocks],
        "ablation_mode": ablation_mode,
        "maps": maps,
    }


def verdict(score: "Faithfulness", random: "Faithfulness") -> str:
    """"deletion AUC 0.21 (random 0.47) · insertion AUC 0.62 (random 0.35)", for captions and text output."""
    return (f"deletion AUC {score.deletion_auc:.2f} (random {random.deletion_auc:.2f}) · "
            f"insertion AUC {score.insertion_auc:.2f} (random {random.insertion_auc:.2f})")


# AUC differences smaller than this are within the noise of the random baseline for one image: on the
# digits model its four draws differed from sixteen draws by 0.033 on average (insertion AUC, 30 images).
MARGIN = 0.03


def beats_random(score: "Faithfulness", random: "Faithfulness", margin: float = MARGIN) -> bool:
    """True when the map is more faithful than noise on both curves, by at least ``margin``."""
    return bool(score.deletion_auc <= random.deletion_auc - margin
                and score.insertion_auc >= random.insertion_auc + margin)


def judgement(score: "Faithfulness", random: "Faithfulness", margin: float = MARGIN) -> str:
    """The verdict in words: better than random, ahead of it only by less than its noise, or not better."""
    if beats_random(score, random, margin):
        return "better than random on both curves"
    if score.deletion_auc < random.deletion_auc and score.insertion_auc > random.insertion_auc:
        return f"ahead of random on both curves, but within its noise (±{margin:.2f})"
    return "NOT better than random"


def curves_table(scores: "dict[str, Faithfulness]") -> dict[str, np.ndarray]:
    """Every curve as arrays for an npz: ``fractions`` and ``<method>_deletion`` / ``<method>_insertion``."""
    arrays = {}
    for name, s in scores.items():
        arrays["fractions"] = s.fractions
        arrays[f"{name}_deletion"] = s.deletion
        arrays[f"{name}_insertion"] = s.insertion
    return arrays
