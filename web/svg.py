"""Charts drawn by the server as inline SVG: no script, no network, crisp on a phone. Every text is escaped."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape

from markupsafe import Markup

PALETTE = ("#2f6fde", "#3d8bfd", "#53a3f5", "#6fbbe8", "#8fcfd9", "#27a35a", "#d05050")


def bars(items: Sequence[tuple[str, float, str]], *, width: int = 440, row: int = 30) -> Markup:
    """Horizontal bars: (label, value, value's text). The label column takes a fixed share of the width."""
    top = max((v for _, v, _ in items), default=0.0) or 1.0
    label_w, text_w = 80, 70
    span = width - label_w - text_w
    height = row * len(items) + 8
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" xmlns="http://www.w3.org/2000/svg">']
    for i, (label, value, text) in enumerate(items):
        y = 4 + i * row
        w = max(2.0, span * value / top) if value > 0 else 0.0
        color = PALETTE[i % len(PALETTE)]
        parts.append(
            f'<text x="{label_w - 8}" y="{y + row * 0.62:.1f}" text-anchor="end" font-size="14">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" rx="3" fill="{color}"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + row * 0.62:.1f}" font-size="13">{escape(text)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def band(items: Sequence[tuple[str, Decimal, Decimal, Decimal]], *, width: int = 440, row: int = 34) -> Markup:
    """Each forecast bucket: its range (low–high) as a pale bar, the expected value as a dark mark."""
    top = float(max((h for *_, h in items), default=Decimal(0))) or 1.0
    label_w, right = 80, 12
    span = width - label_w - right
    height = row * len(items) + 8
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" xmlns="http://www.w3.org/2000/svg">']
    for i, (label, low, expected, high) in enumerate(items):
        y = 4 + i * row
        x0, x1 = label_w + span * float(low) / top, label_w + span * float(high) / top
        xe = label_w + span * float(expected) / top
        parts.append(
            f'<text x="{label_w - 8}" y="{y + row * 0.6:.1f}" text-anchor="end" font-size="14">{escape(label)}</text>'
            f'<rect x="{x0:.1f}" y="{y + 6}" width="{max(1.0, x1 - x0):.1f}" height="{row - 14}" rx="3" '
            'fill="#bcd4f6"/>'
            f'<rect x="{xe - 1.5:.1f}" y="{y + 2}" width="3" height="{row - 6}" fill="#1c4fa8"/>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
