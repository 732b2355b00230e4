"""The funnel and the activity heatmap as PNG pictures, with Chinese labels in a CJK font.

matplotlib draws off the event loop (callers use a thread); without a CJK font on the machine
no picture is made at all rather than one full of boxes — the text answer always stands alone.
"""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from sales.reports import Activity, Funnel

log = logging.getLogger("genjin.charts")

CJK_FAMILIES = (
    "WenQuanYi Micro Hei", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
    "SimHei", "Microsoft YaHei", "PingFang SC", "Droid Sans Fallback",
)  # fmt: skip


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The first installed font family that has Chinese glyphs (Debian: fonts-wqy-microhei)."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    found = next((family for family in CJK_FAMILIES if family in installed), None)
    if found is None:
        log.warning("no CJK font installed (apt-get install fonts-wqy-microhei): charts are off, text answers stay")
    return found


def _figure(width: float, height: float) -> tuple[object, object]:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(width, height), dpi=110)
    return figure, axes


def _png(figure: object) -> bytes:
    from matplotlib import pyplot

    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # a missing glyph must fail, not draw a box
        figure.savefig(buffer, format="png", bbox_inches="tight")  # type: ignore[attr-defined]
    pyplot.close(figure)  # type: ignore[arg-type]
    return buffer.getvalue()


def funnel_png(funnel: Funnel, title: str) -> bytes | None:
    family = cjk_font()
    if family is None:
        return None
    import matplotlib

    matplotlib.rcParams["font.family"] = family
    figure, axes = _figure(6.4, 3.6)
    labels = [line.stage.label for line in funnel.stages] + ["成交(本期)"]
    counts = [line.count for line in funnel.stages] + [funnel.won.count]
    amounts = [float(line.amount) / 10_000 for line in funnel.stages] + [float(funnel.won.amount) / 10_000]
    positions = list(range(len(labels)))[::-1]
    bars = axes.barh(positions, counts, color=["#4C78A8", "#5F9ED1", "#72B7B2", "#F2A65A", "#54A24B"])  # type: ignore[attr-defined]
    axes.set_yticks(positions, labels)  # type: ignore[attr-defined]
    for bar, count, amount in zip(bars, counts, amounts, strict=True):
        axes.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {count} 个 · {amount:.0f}万",  # type: ignore[attr-defined]
                  va="center")  # fmt: skip
    axes.set_title(title)  # type: ignore[attr-defined]
    axes.set_xlabel("客户数")  # type: ignore[attr-defined]
    from matplotlib.ticker import MaxNLocator

    axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # type: ignore[attr-defined]
    axes.margins(x=0.35)  # type: ignore[attr-defined]
    return _png(figure)


def heatmap_png(activity: Activity, names: dict[str, str], title: str) -> bytes | None:
    family = cjk_font()
    if family is None or not activity.heat:
        return None
    import matplotlib

    matplotlib.rcParams["font.family"] = family
    people = list(activity.heat)
    figure, axes = _figure(max(6.0, len(activity.days) * 0.32), 1.0 + 0.4 * len(people))
    grid = [activity.heat[p] for p in people]
    image = axes.imshow(grid, cmap="Greens", aspect="auto", vmin=0)  # type: ignore[attr-defined]
    axes.set_yticks(range(len(people)), [names.get(p, p) for p in people])  # type: ignore[attr-defined]
    axes.set_xticks(range(len(activity.days)), [f"{d.month}/{d.day}" for d in activity.days], rotation=90,  # type: ignore[attr-defined]
                    fontsize=7)  # fmt: skip
    figure.colorbar(image, ax=axes, label="简报数")  # type: ignore[attr-defined]
    axes.set_title(title)  # type: ignore[attr-defined]
    return _png(figure)


def picture(draw: Callable[..., bytes | None], *args: Any) -> bytes | None:
    """Draw, or log why not: a chart that fails must never cost the asker the text answer."""
    try:
        return draw(*args)
    except Exception:
        log.exception("could not draw %s", getattr(draw, "__name__", draw))
        return None
