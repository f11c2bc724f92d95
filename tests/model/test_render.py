"""Colormaps, overlays, legend ranges and figures, drawn without matplotlib."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from model.explain import figures

from model.explain import render
from model.explain.attention_classes import ClassComparison
from model.explain.attention_views import build_gate_map
from model.explain.se_recorder import BlockInfo

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", render.COLORMAP_NAMES)
def test_lookup_tables_match_matplotlib(name):
    matplotlib = pytest.importorskip("matplotlib")  # test-only reference
    expected = np.round(np.asarray(matplotlib.colormaps[name].colors) * 255)
    lut = render.colormap_lut(name)
    assert lut.shape == (256, 3) and lut.dtype == np.uint8
    assert np.abs(lut.astype(int) - expected).max() <= 1


@pytest.mark.parametrize("name", render.COLORMAP_NAMES)
def test_colormaps_get_lighter_from_low_to_high(name):
    lut = render.colormap_lut(name).astype(float)
    luma = lut @ [0.2126, 0.7152, 0.0722]
    assert (np.diff(luma) >= -1.0).all() and luma[-1] - luma[0] > 150


def test_apply_colormap_range_clipping_and_nan():
    lut = render.colormap_lut("viridis")
    values = np.array([[0.0, 1.0], [-5.0, np.nan]])
    rgb = render.apply_colormap(values, "viridis")
    assert rgb.shape == (2, 2, 3) and rgb.dtype == np.uint8
    assert (rgb[0, 0] == lut[0]).all() and (rgb[0, 1] == lut[255]).all() and (rgb[1, 0] == lut[0]).all()
    assert tuple(rgb[1, 1]) == render.NAN_COLOR
    assert (render.apply_colormap(np.array([[15.0]]), "viridis", vmin=10, vmax=20)[0, 0] == lut[128]).all()
    with pytest.raises(ValueError, match="unknown colormap"):
        render.colormap_lut("jet")


def test_overlay_blends_and_resizes_the_heat_map():
    image = np.full((40, 60, 3), 200, np.uint8)
    heat = np.array([[0.0, 1.0], [1.0, 0.0]], np.float32)  # a small grid, drawn over the whole image
    assert (render.overlay(image, heat, alpha=0.0) == image).all()
    full = render.overlay(Image.fromarray(image), heat, alpha=1.0, cmap="magma")
    assert full.shape == (40, 60, 3)
    lut = render.colormap_lut("magma")
    assert (full[0, 0] == lut[0]).all() and (full[0, -1] == lut[255]).all()
    half = render.overlay(image, np.ones((40, 60)), alpha=0.5, cmap="magma")
    assert np.abs(half[5, 5].astype(int) - (200 + lut[255].astype(int)) / 2).max() <= 1


@pytest.mark.parametrize(
    "lo, hi, expected",
    [((0.013, 0.87), None, (0.0, 1.0, 0.25)), ((0.0, 3.1e-6), None, (0.0, 4e-6, 1e-6)), ((0.48, 0.52), None, (0.48, 0.52, 0.01))],
)
def test_nice_range_examples(lo, hi, expected):
    r = render.nice_range(*lo)
    assert (r.lo, r.hi, r.step) == pytest.approx(expected)


def test_nice_range_properties():
    rng = np.random.default_rng(0)
    for _ in range(300):
        a, b = sorted(rng.normal(0, 10 ** rng.uniform(-6, 4), 2))
        r = render.nice_range(a, b, max_ticks=6)
        assert r.lo <= a and r.hi >= b and 2 <= len(r.ticks) <= 6
        assert r.hi - r.lo <= 10 * (b - a) + 1e-300  # not absurdly wider than the data
        labels = [r.label(t) for t in r.ticks]
        assert len(set(labels)) == len(labels)
    assert render.nice_range(5, 5).lo < 5 < render.nice_range(5, 5).hi
    assert render.nice_range(0.013, 0.87).label(0.25) == "0.25"


def _blocks(channels):
    return [BlockInfo(d, d + 1, 1, c, (4, 4), f"features.{d + 1}.0.block.1") for d, c in enumerate(channels)]


def test_figures_are_rgb_images(tmp_path):
    blocks = _blocks([8, 32, 16])
    rng = np.random.default_rng(1)
    gates = build_gate_map([rng.random(b.channels).astype(np.float32) for b in blocks], blocks)
    fig = figures.gate_map_figure(gates)
    assert fig.dtype == np.uint8 and fig.ndim == 3 and fig.shape[1] > 768 and fig.std() > 10
    comparison = ClassComparison(
        class_names=["cat", "dog"],
        counts=[3, 4],
        blocks=blocks,
        class_means=[rng.random((2, b.channels)).astype(np.float32) for b in blocks],
        within_spread=rng.random((3, 2)).astype(np.float32),
        divergence=np.array([0.1, 0.5, 2.0], np.float32),
        skipped=[],
    )
    chart = figures.class_comparison_figure(comparison)
    assert chart.dtype == np.uint8 and chart.shape[0] > 240 and chart.std() > 10
    path = render.save_png(chart, tmp_path / "sub" / "chart.png")
    with Image.open(path) as im:
        assert im.size == (chart.shape[1], chart.shape[0]) and im.mode == "RGB"


def test_colorbar_puts_high_values_on_top():
    bar = figures.colorbar(render.nice_range(0, 1), "viridis", length=100, thickness=10)
    lut = render.colormap_lut("viridis").astype(int)
    top, bottom = bar[8, 5].astype(int), bar[103, 5].astype(int)  # just inside the outline
    assert np.abs(top - lut[255]).sum() < np.abs(top - lut[0]).sum()
    assert np.abs(bottom - lut[0]).sum() < np.abs(bottom - lut[255]).sum()


def test_rendering_does_not_import_matplotlib():
    code = "import sys, model.explain.render, model.explain.figures, model.explain.attention; sys.exit('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
