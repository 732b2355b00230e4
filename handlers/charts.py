"""The funnel and the activity heatmap as PNG pictures, with Chinese labels in a CJK font.

matplotlib draws off the event loop (callers use a thread); without a CJK font on the machine
no picture is made at all rather than one full of boxes — the text answer always stands alone.
"""

from __future__ import annotations

import io
import logging
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from sales.reports import Activity, Funnel

log = logging.getLogger("genjin.charts")

CJK_FAMILIES = (
    "WenQuanYi Micro Hei", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
    "SimHei", "Microsoft YaHei", "PingFang SC", "Droid Sans Fallback",
)  # fmt: skip


_CJK_FILES = ("wqy", "noto", "cjk", "droid", "simhei", "yahei", "pingfang", "heiti", "songti")


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The first installed font family that has Chinese glyphs (Debian: fonts-wqy-microhei)."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    found = next((family for family in CJK_FAMILIES if family in installed), None)
    if found is None:
        # matplotlib lists fonts from a cache in the home folder: a font installed after that cache
        # was built is on disk but not in the list. Look on disk, add what fits, and ask again.
        for path in font_manager.findSystemFonts():
            if any(key in path.lower() for key in _CJK_FILES):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue
        installed = {f.name for f in font_manager.fontManager.ttflist}
        found = next((family for family in CJK_FAMILIES if family in installed), None)
    if found is None:
        log.warning("no CJK font installed (apt-get install fonts-wqy-microhei): charts are off, text answers stay")
    return found


_DRAWING = threading.Lock()


@contextmanager
def _drawing(family: str) -> Iterator[None]:
    """One chart at a time, in its font: charts are drawn in worker threads, and matplotlib's
    settings are process-wide."""
    import matplotlib

    with _DRAWING, matplotlib.rc_context({"font.family": family}):
        yield


def _figure(width: float, height: float) -> tuple[Any, Any]:
    """A Figure of its own on the Agg canvas, never pyplot's global figure manager."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=110)
    FigureCanvasAgg(figure)
    return figure, figure.subplots()


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # a missing glyph must fail, not draw a box
        figure.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def funnel_png(funnel: Funnel, title: str) -> bytes | None:
    family = cjk_font()
    if family is None:
        return None
    with _drawing(family):
        return _funnel(funnel, title)


def _funnel(funnel: Funnel, title: str) -> bytes:
    figure, axes = _figure(6.4, 3.6)
    labels = [line.stage.label for line in funnel.stages] + ["成交(本期)"]
    counts = [line.count for line in funnel.stages] + [funnel.won.count]
    amounts = [float(line.amount) / 10_000 for line in funnel.stages] + [float(funnel.won.amount) / 10_000]
    positions = list(range(len(labels)))[::-1]
    bars = axes.barh(positions, counts, color=["#4C78A8", "#5F9ED1", "#72B7B2", "#F2A65A", "#54A24B"])
    axes.set_yticks(positions, labels)
    for bar, count, amount in zip(bars, counts, amounts, strict=True):
        axes.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {count} 个 · {amount:.0f}万",
                  va="center")  # fmt: skip
    axes.set_title(title)
    axes.set_xlabel("客户数")
    from matplotlib.ticker import MaxNLocator

    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.margins(x=0.35)
    return _png(figure)


def heatmap_png(activity: Activity, names: dict[str, str], title: str) -> bytes | None:
    family = cjk_font()
    if family is None or not activity.heat:
        return None
    with _drawing(family):
        return _heatmap(activity, names, title)


def _heatmap(activity: Activity, names: dict[str, str], title: str) -> bytes:
    people = list(activity.heat)
    figure, axes = _figure(max(6.0, len(activity.days) * 0.32), 1.0 + 0.4 * len(people))
    grid = [activity.heat[p] for p in people]
    image = axes.imshow(grid, cmap="Greens", aspect="auto", vmin=0)
    axes.set_yticks(range(len(people)), [names.get(p, p) for p in people])
    axes.set_xticks(range(len(activity.days)), [f"{d.month}/{d.day}" for d in activity.days], rotation=90,
                    fontsize=7)  # fmt: skip
    figure.colorbar(image, ax=axes, label="简报数")
    axes.set_title(title)
    return _png(figure)


def picture(draw: Callable[..., bytes | None], *args: Any) -> bytes | None:
    """Draw, or log why not: a chart that fails must never cost the asker the text answer."""
    try:
        return draw(*args)
    except Exception:
        log.exception("could not draw %s", getattr(draw, "__name__", draw))
        return None
