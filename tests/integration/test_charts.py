"""Pictures: PNGs with Chinese labels in a real CJK font, and no picture rather than boxes."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from handlers import charts
from sales.calendar import WorkCalendar
from sales.model import Employee
from sales.reports import Funnel, activity, funnel, per_day, period, stage_totals
from tests.conftest import ROOT, TZ
from tests.integration.test_reports import TODAY, at, history


def size(png: bytes) -> tuple[int, int]:
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def the_funnel() -> Funnel:
    customers, changes = history()
    span, previous = period("this_month", TODAY)
    return funnel(stage_totals(customers), customers, changes, span, previous, WorkCalendar(), TZ, TODAY)


def test_a_cjk_font_is_installed() -> None:
    """The test command installs fonts-wqy-microhei; without it charts silently stop, so check it."""
    assert charts.cjk_font() is not None


def test_a_font_installed_after_matplotlibs_cache_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine whose font cache predates the font: the cached list lacks it, the disk has it."""
    from matplotlib import font_manager

    stale = [f for f in font_manager.fontManager.ttflist if f.name not in charts.CJK_FAMILIES]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", stale)
    charts.cjk_font.cache_clear()
    try:
        assert charts.cjk_font() in charts.CJK_FAMILIES
    finally:
        charts.cjk_font.cache_clear()


STALE_CACHE = """
import os, sys
from matplotlib import font_manager
from handlers.charts import CJK_FAMILIES
fm = font_manager.fontManager
fm.ttflist = [f for f in fm.ttflist if f.name not in CJK_FAMILIES]
name = f"fontlist-v{font_manager.FontManager.__version__}.json"
font_manager.json_dump(fm, os.path.join(os.environ["MPLCONFIGDIR"], name))
"""
DRAW = """
from matplotlib import font_manager
from handlers import charts
from tests.integration.test_charts import the_funnel
assert not any(f.name in charts.CJK_FAMILIES for f in font_manager.fontManager.ttflist), "the cache was not stale"
png = charts.funnel_png(the_funnel(), "本月漏斗")
print(charts.cjk_font(), png is not None and png.startswith(b"\\x89PNG"), sep="|")
"""


def test_a_private_font_cache_built_without_the_font_still_draws(tmp_path: Path) -> None:
    """The real thing in a fresh process: matplotlib's cache (in a private MPLCONFIGDIR) is written without the
    CJK font, as on a machine whose cache predates the font's installation; the chart is drawn all the same."""
    env = {**os.environ, "MPLCONFIGDIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", STALE_CACHE], env=env, check=True, cwd=ROOT, timeout=120)
    drawn = subprocess.run([sys.executable, "-c", DRAW], env=env, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert drawn.returncode == 0, drawn.stderr
    family, ok = drawn.stdout.strip().split("|")
    assert family in charts.CJK_FAMILIES and ok == "True"


def test_funnel_and_heatmap_are_pngs_without_missing_glyphs() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any "Glyph … missing from font" fails here too
        png = charts.funnel_png(the_funnel(), "华东一组本月漏斗")
        reps = [Employee(id="E01", name="张伟"), Employee(id="E02", name="欧阳娜娜")]
        sent = [("E01", at(TODAY)), ("E02", at(TODAY)), ("E02", at(TODAY))]
        heat = charts.heatmap_png(activity(reps, per_day(sent, TZ), {}, WorkCalendar(), TZ, TODAY), {"E01": "张伟"},
                                  "近 20 个工作日简报数")  # fmt: skip
    assert png is not None and heat is not None
    assert size(png)[0] > 400 and size(heat)[0] > 400 and png != heat


def test_a_font_without_chinese_fails_instead_of_drawing_boxes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(charts, "cjk_font", lambda: "DejaVu Sans")
    with pytest.raises(UserWarning, match="missing from font"):
        charts.funnel_png(the_funnel(), "本月漏斗")
    assert charts.picture(charts.funnel_png, the_funnel(), "本月漏斗") is None  # logged, the text stands


def test_no_cjk_font_means_no_picture(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(charts, "cjk_font", lambda: None)
    assert charts.funnel_png(the_funnel(), "本月漏斗") is None
