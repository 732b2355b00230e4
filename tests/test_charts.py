"""Pictures: PNGs with Chinese labels in a real CJK font, and no picture rather than boxes."""

from __future__ import annotations

import struct
import warnings

import pytest

from handlers import charts
from sales.calendar import WorkCalendar
from sales.model import Employee
from sales.reports import activity, funnel, per_day, period, stage_totals
from tests.conftest import TZ
from tests.test_reports import TODAY, at, history


def size(png: bytes) -> tuple[int, int]:
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def the_funnel():  # type: ignore[no-untyped-def]
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
