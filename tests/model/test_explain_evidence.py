"""Evidence for maps: deletion/insertion scores on a network whose evidence is known, and SE ablation."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

from model.explain.ablation import ablate_blocks, batch_drops
from model.explain.cams import gradient_cam, layer_pass
from model.explain.faithfulness import (
    STEPS,
    auc,
    constant_baseline,
    faithfulness,
    random_faithfulness,
    random_grids,
    random_saliency,
)
from tests.model.attention_models import calibrated_b0

SIZE = 32


TOP_LEFT = (slice(0, SIZE // 2), slice(0, SIZE // 2))


class QuadrantEdges(nn.Module):
    """Squared edge response of the image, kept only in one region (the top-left quadrant): the toy's only evidence."""

    def __init__(self, region: tuple[slice, slice] = TOP_LEFT) -> None:
        super().__init__()
        lap = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])
        self.conv = nn.Conv2d(3, 3, 3, padding=1, groups=3, bias=False)
        self.conv.weight.data[:] = lap
        mask = torch.zeros(1, 1, SIZE, SIZE)
        mask[..., region[0], region[1]] = 1
        self.register_buffer("mask", mask)

    def forward(self, x):
        return self.conv(x).pow(2) * self.mask


def quadrant_network(image: torch.Tensor, region: tuple[slice, slice] = TOP_LEFT) -> nn.Module:
    """An EfficientNet-shaped toy (features, avgpool, classifier) that looks only at ``region``:
    class 0 wins with the region's full texture (logit gap +10), class 1 once it is gone (−10)."""
    model = nn.Module()
    model.features = nn.Sequential(QuadrantEdges(region), nn.Conv2d(3, 3, 1))
    model.features[1].weight.data = torch.eye(3).view(3, 3, 1, 1)
    model.features[1].bias.data.zero_()
    model.avgpool = nn.AdaptiveAvgPool2d(1)
    model.classifier = nn.Linear(3, 2)
    model.forward = lambda x: model.classifier(torch.flatten(model.avgpool(model.features(x)), 1))
    with torch.no_grad():
        full = model.avgpool(model.features(image)).sum()
        model.classifier.weight.data = torch.tensor([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]]) * (20.0 / full)
        model.classifier.bias.data = torch.tensor([-10.0, 0.0])
    return model.eval()


def test_deletion_and_insertion_rank_the_true_evidence_first_and_random_last():
    image = torch.rand(1, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(0))
    model = quadrant_network(image)
    truth = np.zeros((SIZE, SIZE), np.float32)
    truth[: SIZE // 2, : SIZE // 2] = 1.0
    cam = layer_pass(model, image, 1, [0])
    gradcam = gradient_cam("gradcam", cam.activations, cam.gradients)[0].numpy()
    maps = {"truth": truth, "gradcam": gradcam, "one random draw": random_saliency((4, 4), (SIZE, SIZE))}
    scores = {name: faithfulness(model, image, m, 0) for name, m in maps.items()}
    scores["random"] = random_faithfulness(model, image, (4, 4), 0)  # the baseline the app scores against
    for s in scores.values():
        assert s.deletion.shape == s.insertion.shape == (STEPS + 1,)
        assert s.deletion[0] == pytest.approx(s.insertion[-1]) and s.deletion[0] > 0.99  # the untouched image
        assert s.insertion[0] == pytest.approx(s.deletion[-1]) and s.insertion[0] < 0.01  # all baseline
    by_deletion = sorted(scores, key=lambda n: scores[n].deletion_auc)
    by_insertion = sorted(scores, key=lambda n: -scores[n].insertion_auc)
    # Grad-CAM at the toy's full-resolution layer ranks pixels inside the quadrant by their edge energy,
    # so it may even beat the flat quadrant; both point at the evidence.
    assert {by_deletion[0], by_insertion[0]} <= {"truth", "gradcam"}
    assert {by_deletion[-1], by_insertion[-1]} <= {"random", "one random draw"}
    assert {by_deletion[-2], by_insertion[-2]} <= {"random", "one random draw"}
    # Against the constant baseline, greying out scattered pixels of the flat quadrant first adds edges that
    # this edge-energy toy responds to, so the truth's deletion curve falls a little later than against a blur.
    assert scores["truth"].deletion_auc < 0.25 and 0.8 < scores["truth"].insertion_auc


def test_the_random_baseline_scores_the_same_wherever_the_evidence_is():
    # One fixed draw of noise prefers some cells: seed 0's 4×4 grid ranks the centre early, so it "found"
    # central evidence (insertion 0.83) and missed a corner's (0.30). Antithetic pairs rank every cell in the
    # middle on average, as a map without evidence should.
    image = torch.rand(1, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(0))
    q, h = SIZE // 4, SIZE // 2
    regions = {"top left": TOP_LEFT, "centre": (slice(q, q + h), slice(q, q + h)),
               "bottom right": (slice(h, SIZE), slice(h, SIZE)), "top right": (slice(0, h), slice(h, SIZE))}
    scores = {name: random_faithfulness(quadrant_network(image, region), image, (4, 4), 0)
              for name, region in regions.items()}
    insertion = [s.insertion_auc for s in scores.values()]
    assert max(insertion) - min(insertion) < 0.05, scores
    for s in scores.values():  # a random order deletes what it would insert last: the two areas agree
        assert s.deletion_auc == pytest.approx(s.insertion_auc, abs=0.02)


def test_random_draws_rank_every_cell_in_the_middle_on_average():
    grids = random_grids((4, 4), draws=4)
    assert len(grids) == 4 and all(g.shape == (4, 4) for g in grids)
    ranks = np.stack([np.argsort(np.argsort(-g.numpy().ravel())) for g in grids])
    np.testing.assert_allclose(ranks.mean(axis=0), (16 - 1) / 2)
    assert not np.allclose(grids[0], grids[2])  # the pairs are different draws


def test_auc_and_the_baseline():
    assert auc(np.linspace(0, 1, 21), np.ones(21)) == pytest.approx(1.0)
    assert auc(np.linspace(0, 1, 21), np.linspace(1, 0, 21)) == pytest.approx(0.5)
    x = torch.rand(1, 3, SIZE, SIZE)
    b = constant_baseline(x)
    assert b.shape == x.shape and not b.any()  # the mean colour: zero in the normalised input


@pytest.fixture(scope="module")
def b0_with_a_constant_block():
    model = copy.deepcopy(calibrated_b0())
    se = model.features[4][0].block[2]  # SE of stage 4 · block 1 (depth 5): gates sigmoid(0.3) everywhere
    se.fc2.weight.data.zero_()
    se.fc2.bias.data.fill_(0.3)
    return model


def test_ablating_a_block_whose_gates_are_constant_changes_nothing(b0_with_a_constant_block):
    model = b0_with_a_constant_block
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(2))
    ablation = ablate_blocks(model, x)
    assert len(ablation.blocks) == 16 and [b.block.depth for b in ablation.blocks] == list(range(16))
    constant = ablation.blocks[5]
    assert constant.block.short_name == "s4 b1"
    assert abs(constant.confidence_drop) < 1e-5 and not constant.top1_changed
    assert np.abs(ablation.drops).max() > 1e-3  # the other blocks' gating does matter
    assert ablation.probability - ablation.blocks[0].probability == pytest.approx(ablation.blocks[0].confidence_drop)
    no_gating = ablate_blocks(model, x, mode="one")
    assert no_gating.mode == "one" and np.abs(no_gating.drops - ablation.drops).max() > 1e-4
    with pytest.raises(ValueError, match="mode must be one of"):
        ablate_blocks(model, x, mode="zero")


def test_batched_drops_match_one_image_at_a_time(b0_with_a_constant_block):
    model = b0_with_a_constant_block
    x = torch.randn(3, 3, 64, 64, generator=torch.Generator().manual_seed(4))
    drops = batch_drops(model, x, [1, 0, 2])
    assert drops.shape == (3, 16)
    for n, target in enumerate([1, 0, 2]):
        np.testing.assert_allclose(drops[n], ablate_blocks(model, x[n : n + 1], target).drops, atol=1e-4)


def test_each_map_is_read_against_random_maps_on_its_own_grid():
    from model.explain.attention import analyse_tensor
    from model.explain.evidence import random_on_its_grid
    from model.explain.explainer import Explainer

    model = calibrated_b0()
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(5))
    explainer = Explainer(model, analyse_tensor(model, x, cam_layer=3))  # the CAMs on an 8×8 stage
    se, gradcam = explainer.map("se"), explainer.map("gradcam")
    assert gradcam.grid == (8, 8) and se.grid == (4, 4)
    assert random_on_its_grid(explainer, "gradcam") is explainer.score_method("random")
    se_random = random_on_its_grid(explainer, "se")
    assert explainer.map("random", layer=se.block.stage).grid == (4, 4)
    assert se_random.deletion_auc != pytest.approx(explainer.score_method("random").deletion_auc, abs=1e-6)
    # Stages 4 and 5 share the 4×4 grid at 64 px, so their random maps are the same draws, scored once.
    assert explainer.score_method("random", layer=4) is explainer.score_method("random", layer=5)


def test_a_lead_within_the_random_baseline_s_noise_is_not_called_better():
    from model.explain.evidence import MARGIN, beats_random, judgement
    from model.explain.faithfulness import Faithfulness

    def score(deletion: float, insertion: float) -> Faithfulness:
        x = np.linspace(0, 1, STEPS + 1)
        return Faithfulness(x, np.full_like(x, deletion), np.full_like(x, insertion), 0)

    random = score(0.40, 0.40)
    clear, slight, worse = score(0.30, 0.50), score(0.40 - MARGIN / 2, 0.40 + MARGIN / 2), score(0.45, 0.50)
    assert beats_random(clear, random) and judgement(clear, random) == "better than random on both curves"
    assert not beats_random(slight, random) and "within its noise" in judgement(slight, random)
    assert judgement(worse, random) == "NOT better than random"


def test_an_ablation_on_one_thread_leaves_another_thread_s_passes_alone(b0_with_a_constant_block):
    # The Attention page scores maps on one worker while it ablates on another, on the same network.
    import threading

    from model.explain.faithfulness import probabilities

    model = b0_with_a_constant_block
    x = torch.randn(6, 3, 32, 32, generator=torch.Generator().manual_seed(7))
    expected = probabilities(model, x, 1)
    ablating, paused, resume = [], threading.Event(), threading.Event()

    def pause_the_ablation(module, args):  # inside the ablation's forward pass, its gate hooks in place
        if threading.current_thread() in ablating and not paused.is_set():
            paused.set()
            resume.wait(30)

    handle = model.features[0].register_forward_pre_hook(pause_the_ablation)
    try:
        worker = threading.Thread(target=ablate_blocks, args=(model, x[:1]))
        ablating.append(worker)
        worker.start()
        assert paused.wait(30)
        during = probabilities(model, x, 1)  # another thread's passes while the hooks are there
        resume.set()
        worker.join(30)
    finally:
        resume.set()
        handle.remove()
    np.testing.assert_allclose(during, expected, atol=1e-6)
