"""The compound-scaling explanation: φ, α, β, γ and each variant's depth, width and resolution."""

from __future__ import annotations

from PySide6.QtWidgets import QTextBrowser, QWidget

from app.state import VariantFacts
from model.core.variants import ALPHA, BASE_RESOLUTION, BETA, GAMMA, VARIANTS


def scaling_html(facts: list[VariantFacts] | tuple[VariantFacts, ...]) -> str:
    """HTML text: the rule, then one table row per variant (real FLOPs once the backend is loaded)."""
    flops = {f.name: f.gflops for f in facts}
    base_flops = flops.get("b0")
    cost = ALPHA * BETA**2 * GAMMA**2
    rows = []
    for v in VARIANTS.values():
        real = f"{flops[v.name] / base_flops:.1f}×" if flops.get(v.name) and base_flops else "…"
        rows.append(
            f"<tr><td><b>{v.name.upper()}</b></td><td align=right>{v.phi:.2f}</td>"
            f"<td align=right nowrap>{v.depth_mult:.1f}× <small>({ALPHA ** v.phi:.2f})</small></td>"
            f"<td align=right nowrap>{v.width_mult:.1f}× <small>({BETA ** v.phi:.2f})</small></td>"
            f"<td align=right nowrap>{v.resolution} px <small>({GAMMA ** v.phi * BASE_RESOLUTION:.0f})</small></td>"
            f"<td align=right nowrap>{real} <small>({v.flops_scale_predicted:.1f})</small></td></tr>"
        )
    return (
        "<h3>Compound scaling</h3>"
        "<p>EfficientNet-B0 came out of an architecture search. B1–B7 grow it in <b>depth</b> (layers per stage), "
        "<b>width</b> (channels) and input <b>resolution</b> together, all from one coefficient φ:</p>"
        f"<p align=center>depth α<sup>φ</sup> · width β<sup>φ</sup> · resolution γ<sup>φ</sup><br>"
        f"α = {ALPHA}, β = {BETA}, γ = {GAMMA}, chosen so that α·β²·γ² = {cost:.2f} ≈ 2</p>"
        "<p>FLOPs grow with depth and with the square of width and of resolution, so each step of φ about "
        "doubles the cost. The released B1–B7 were tuned by hand after the rule: φ here is the value that best "
        "explains each variant's real multipliers (least squares). Each cell shows the real value and, small, "
        "what the rule alone gives for that φ; FLOPs are relative to B0.</p>"
        "<table cellspacing=0 cellpadding=2 width=100%>"
        "<tr><th align=left>Variant</th><th align=right>φ</th><th align=right>Depth</th><th align=right>Width</th>"
        "<th align=right>Resolution</th><th align=right>FLOPs</th></tr>"
        + "".join(rows)
        + "</table>"
    )


class ScalingExplainer(QTextBrowser):
    """Read-only rich text; ``set_facts`` adds the real FLOPs once torchvision's metadata is known."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenExternalLinks(True)
        self.set_facts(())

    def set_facts(self, facts) -> None:
        scroll = self.verticalScrollBar().value()
        self.setHtml(scaling_html(facts))
        self.verticalScrollBar().setValue(scroll)
