"""Annotated figures drawn with Pillow: colour bars, the gate map, the class-comparison chart.

The CLI writes these as PNGs; the GUI draws its own interactive versions but
may reuse them for "Save image…". All return RGB uint8 arrays like
``model.explain.render``. Text uses Pillow's bundled font, so no font files or
matplotlib are needed.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from model.explain.render import (
    DEFAULT_COLORMAP,
    DIVERGING,
    ValueRange,
    apply_colormap,
    as_rgb_array,
    colormap_lut,
    nice_range,
    overlay,
)

BACKGROUND = (255, 255, 255)
INK = (30, 30, 30)
FAINT = (200, 200, 200)
# Pictures shorter than this are enlarged in figures: a 32-64 px crop (a model trained at a small
# size) sat small beside its title and the top-5 list and left most of the figure blank.
MIN_PICTURE_SIDE = 224  # ImageNet's crop: the titles above the pictures fit it


@lru_cache(maxsize=8)
def font(size: int = 12) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


# Pillow's bundled font has no "×" (a plain "x" beats a missing-glyph box) and a 2-px space at small sizes.
_SUBSTITUTES = str.maketrans({"×": "x", " ": "  "})


def draw_text(draw: ImageDraw.ImageDraw, xy, text: str, size: int = 12, **kwargs) -> None:
    draw.text(xy, text.translate(_SUBSTITUTES), fill=INK, font=font(size), **kwargs)


def text_size(text: str, size: int = 12) -> tuple[int, int]:
    left, top, right, bottom = font(size).getbbox(text.translate(_SUBSTITUTES))
    return int(right - min(0, left)), int(bottom)


def canvas(width: int, height: int) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    im = Image.new("RGB", (max(1, width), max(1, height)), BACKGROUND)
    return im, ImageDraw.Draw(im)


def stretch(matrix: np.ndarray, height: int, width: int) -> np.ndarray:
    """Nearest-neighbour resample of a 2-D array to (height, width): cells stay crisp."""
    rows = ((np.arange(height) + 0.5) * matrix.shape[0] / height).astype(np.intp)
    cols = ((np.arange(width) + 0.5) * matrix.shape[1] / width).astype(np.intp)
    return matrix[rows][:, cols]


def colorbar(vrange: ValueRange, cmap: str = DEFAULT_COLORMAP, length: int = 200, thickness: int = 14) -> np.ndarray:
    """A vertical colour bar (high values on top) with tick labels to its right."""
    labels = [vrange.label(t) for t in vrange.ticks]
    label_w = max(text_size(s, 11)[0] for s in labels)
    im, draw = canvas(thickness + 8 + label_w, length + 12)
    ramp = colormap_lut(cmap)[np.linspace(255, 0, length).round().astype(np.intp)]
    im.paste(Image.fromarray(np.repeat(ramp[:, None, :], thickness, axis=1), "RGB"), (0, 6))
    draw.rectangle([0, 6, thickness - 1, 6 + length - 1], outline=INK)
    span = vrange.hi - vrange.lo
    for value, text in zip(vrange.ticks, labels):
        y = 6 + round((vrange.hi - value) / span * (length - 1))
        draw.line([thickness, y, thickness + 3, y], fill=INK)
        draw_text(draw, (thickness + 6, y), text, 11, anchor="lm")
    return np.asarray(im)


def enlarged(rgb: np.ndarray, min_side: int = MIN_PICTURE_SIDE) -> np.ndarray:
    """``rgb`` repeated by the smallest whole factor that makes its shorter side at least ``min_side``
    (nearest-neighbour, so every pixel still shows one value); unchanged when it is big enough."""
    factor = -(-min_side // max(1, min(rgb.shape[:2])))
    return rgb if factor <= 1 else np.repeat(np.repeat(rgb, factor, axis=0), factor, axis=1)


def titled(rgb: np.ndarray, title: str, size: int = 13) -> np.ndarray:
    """``rgb`` with a line of text above it."""
    rgb = as_rgb_array(rgb)
    tw, th = text_size(title, size)
    im, draw = canvas(max(rgb.shape[1], tw + 8), rgb.shape[0] + th + 10)
    draw_text(draw, (4, 4), title, size)
    im.paste(Image.fromarray(rgb, "RGB"), (0, th + 10))
    return np.asarray(im)


def hstack(images: list[np.ndarray], gap: int = 10) -> np.ndarray:
    """Images side by side, top-aligned, on the background colour."""
    images = [as_rgb_array(i) for i in images]
    im, _ = canvas(sum(i.shape[1] for i in images) + gap * (len(images) - 1), max(i.shape[0] for i in images))
    x = 0
    for part in images:
        im.paste(Image.fromarray(part, "RGB"), (x, 0))
        x += part.shape[1] + gap
    return np.asarray(im)


def vstack(images: list[np.ndarray], gap: int = 10) -> np.ndarray:
    """Images one above the other, left-aligned, on the background colour."""
    images = [as_rgb_array(i) for i in images]
    im, _ = canvas(max(i.shape[1] for i in images), sum(i.shape[0] for i in images) + gap * (len(images) - 1))
    y = 0
    for part in images:
        im.paste(Image.fromarray(part, "RGB"), (0, y))
        y += part.shape[0] + gap
    return np.asarray(im)


def labelled_heatmap(
    matrix: np.ndarray,
    row_labels: list[str],
    *,
    cmap: str = DEFAULT_COLORMAP,
    vrange: ValueRange | None = None,
    row_height: int = 12,
    plot_width: int = 640,
    label_every: int = 1,
) -> np.ndarray:
    """Heat map of ``matrix`` [R, W] stretched to ``plot_width``, row labels left, colour bar right.

    ``row_labels`` has one label per group of ``label_every`` rows (the label
    is drawn at the group's first row and a faint rule separates groups).
    """
    matrix = np.asarray(matrix, np.float64)
    finite = matrix[np.isfinite(matrix)]
    if vrange is None:
        vrange = nice_range(float(finite.min()), float(finite.max())) if finite.size else nice_range(0, 1)
    plot_h = matrix.shape[0] * row_height
    pixels = apply_colormap(stretch(matrix, plot_h, plot_width), cmap, vrange.lo, vrange.hi)
    label_w = max((text_size(s, 11)[0] for s in row_labels), default=0) + 14
    bar = colorbar(vrange, cmap, length=max(60, min(plot_h, 240)))
    im, draw = canvas(label_w + plot_width + 12 + bar.shape[1], max(plot_h, bar.shape[0]))
    im.paste(Image.fromarray(pixels, "RGB"), (label_w, 0))
    for g, text in enumerate(row_labels):
        y = g * label_every * row_height
        draw_text(draw, (label_w - 6, y + label_every * row_height / 2), text, 11, anchor="rm")
        if g and label_every > 1:
            draw.line([label_w, y, label_w + plot_width - 1, y], fill=BACKGROUND, width=2)
    im.paste(Image.fromarray(bar, "RGB"), (label_w + plot_width + 12, 0))
    return np.asarray(im)


def line_chart(
    values: np.ndarray,
    x_labels: list[str],
    *,
    title: str = "",
    size: tuple[int, int] = (720, 220),
    label_every: int = 1,
    series: list[str] | None = None,
) -> np.ndarray:
    """A simple line chart of ``values`` with x tick labels (every ``label_every``-th shown).

    ``values`` is one curve [n] or several [S, n]; with ``series`` naming them, a legend is drawn.
    """
    curves = np.atleast_2d(np.asarray(values, np.float64))
    width, height = size
    vrange = nice_range(min(0.0, float(curves.min())), float(curves.max()))
    left, right, top, bottom = 56, 12, 24 if title else 8, 40
    im, draw = canvas(width, height)
    if title:
        draw_text(draw, (left, 4), title, 12)
    plot_w, plot_h = width - left - right, height - top - bottom
    span = vrange.hi - vrange.lo
    for tick in vrange.ticks:
        y = top + plot_h - (tick - vrange.lo) / span * plot_h
        draw.line([left, y, left + plot_w, y], fill=FAINT)
        draw_text(draw, (left - 6, y), vrange.label(tick), 11, anchor="rm")
    n = curves.shape[1]
    xs = [left + (plot_w * (k + 0.5) / n) for k in range(n)]
    lut = colormap_lut("viridis")
    for c, curve in enumerate(curves):
        colour = tuple(int(v) for v in lut[80 if len(curves) == 1 else int(200 * c / (len(curves) - 1))])
        ys = [top + plot_h - (v - vrange.lo) / span * plot_h for v in curve]
        draw.line(list(zip(xs, ys)), fill=colour, width=2)
        for x, y in zip(xs, ys):
            draw.ellipse([x - 2.5, y - 2.5, x + 2.5, y + 2.5], fill=INK if len(curves) == 1 else colour)
        if series:
            draw.line([left + 8, top + 8 + 14 * c, left + 24, top + 8 + 14 * c], fill=colour, width=3)
            draw_text(draw, (left + 28, top + 8 + 14 * c), series[c], 10, anchor="lm")
    for k, x in enumerate(xs):
        if k % label_every == 0:
            draw_text(draw, (x, top + plot_h + 6), x_labels[k], 10, anchor="mt")
    draw.rectangle([left, top, left + plot_w, top + plot_h], outline=INK)
    return np.asarray(im)


def gate_map_figure(gate_map, *, cmap: str = DEFAULT_COLORMAP, title: str | None = None, plot_width: int = 768,
                    centred: bool = False) -> np.ndarray:
    """The ``GateMap`` of ``model.explain.attention`` as an annotated image, on a fixed 0-1 scale,
    or (``centred``) as gate minus block mean on a diverging map symmetric about 0.

    A fixed scale keeps figures of different images comparable (gates always lie in (0, 1)).
    """
    labels = [f"{b.short_name} · {b.channels} ch" for b in gate_map.blocks]
    how = "sorted high to low within each block" if gate_map.order == "sorted" else "in channel order"
    if not centred:
        body = labelled_heatmap(gate_map.values, labels, cmap=cmap, vrange=nice_range(0.0, 1.0), plot_width=plot_width)
        return titled(body, title or f"SE gates s per block (rows, input to output); channels {how}")
    values = gate_map.centred()
    limit = float(np.abs(values).max()) or 1.0
    body = labelled_heatmap(values, labels, cmap=DIVERGING, vrange=nice_range(-limit, limit), plot_width=plot_width)
    return titled(body, title or f"SE gates minus each block's mean (blue below, red above); channels {how}")


def class_comparison_figure(comparison, *, cmap: str = DEFAULT_COLORMAP, plot_width: int = 768) -> np.ndarray:
    """Divergence per block (a line over depth) above the class-mean gates (a heat map).

    In the heat map each block is a band of K rows, one per class in
    ``comparison.class_names`` order; channels keep their order and are
    resampled to a common width so the same channel lines up across classes.
    """
    blocks = comparison.blocks
    every = max(1, len(blocks) // 16)
    chart = line_chart(
        comparison.divergence,
        [b.short_name for b in blocks],
        title="class divergence of the SE gates per block (higher = more class-specific)",
        size=(plot_width + 120, 240),
        label_every=every,
    )
    width = max(m.shape[1] for m in comparison.class_means)
    k = len(comparison.class_names)
    matrix = np.concatenate([stretch(m, k, width) for m in comparison.class_means], axis=0)
    heat = labelled_heatmap(
        matrix,
        [f"{b.short_name} · {b.channels} ch" for b in blocks],
        cmap=cmap,
        row_height=min(12, max(1, 24 // k)),
        plot_width=plot_width,
        label_every=k,
    )
    order = ", ".join(comparison.class_names)
    heat = titled(heat, f"mean gate per class; rows within each block: {order}", size=12)
    parts = [chart, heat]
    if getattr(comparison, "ablation", None) is not None:
        parts.append(line_chart(
            comparison.ablation,
            [b.short_name for b in blocks],
            title=f"SE ablation ({comparison.ablation_mode}): mean drop in the prediction's probability per class",
            size=(plot_width + 120, 40 + max(200, 14 * k + 60)),
            label_every=every,
            series=list(comparison.class_names),
        ))
    return vstack(parts, gap=16)


def text_block(lines: list[str], size: int = 12, width: int | None = None) -> np.ndarray:
    """Lines of text on the background colour, one below the other."""
    line_h = text_size("Ag", size)[1] + 6
    im, draw = canvas(width or max(text_size(s, size)[0] for s in lines) + 8, line_h * len(lines) + 4)
    for k, line in enumerate(lines):
        draw_text(draw, (4, 2 + k * line_h), line, size)
    return np.asarray(im)


def attention_view_figure(
    result, depth: int, *, kind: str = "se", order: str = "sorted", i: int = 0, cmap: str = DEFAULT_COLORMAP,
    centred: bool = False,
) -> np.ndarray:
    """One image's attention view as a picture: the crop, block ``depth``'s SE overlay, Grad-CAM
    and the top-5 classes in a row, with the gate map below (what the GUI's Attention page shows)."""
    crop = result.images[i]
    block = result.blocks[depth]
    smap = result.spatial_map(depth, i, kind)
    target = result.target_classes[i]
    what = "what SE changed" if kind == "change" else "SE map"
    top = [f"{rank}. {c.label}  {c.probability:.1%}" for rank, c in enumerate(result.top_classes(i, 5), start=1)]
    row = hstack([
        titled(enlarged(crop), "input crop"),
        titled(enlarged(overlay(crop, smap.image, cmap=cmap)), f"{what}: {block.short_name} ({block.channels} ch)"),
        titled(enlarged(overlay(crop, result.gradcam_map(i).image, cmap=cmap)), f"Grad-CAM: {result.label(target)}"),
        titled(text_block(top), "top-5 classes"),
    ], gap=12)
    caption = text_block([f"SE block {depth + 1} of {result.num_blocks}: {block.name}; "
                          f"colours span 0 to {smap.vmax:.3g} (scaled per block)",
                          f"Grad-CAM at {result.gradcam_map(i).source}"])
    gates = gate_map_figure(result.gate_map(i, order), cmap=cmap, plot_width=max(384, row.shape[1] - 160),
                            centred=centred)
    return vstack([row, caption, gates], gap=12)
