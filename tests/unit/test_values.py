from datetime import date, datetime
from decimal import Decimal

import pytest

from sales.stages import Stage, parse_stage
from sales.values import parse_amount, parse_date, parse_ratio, wan


@pytest.mark.parametrize(
    ("text", "yuan"),
    [
        ("65.5万", "655000"),
        ("80,000元", "80000"),
        ("¥860,000", "860000"),
        ("1.2亿", "120000000"),
        ("30w", "300000"),
        ("5千", "5000"),
        (120000, "120000"),
        (" 12 万 ", "120000"),
        ("", None),
        (None, None),
    ],
)
def test_amounts(text: object, yuan: str | None) -> None:
    assert parse_amount(text) == (Decimal(yuan) if yuan else None)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["好多钱", "-5万", "12%", "1e5"])
def test_bad_amounts(text: str) -> None:
    with pytest.raises(ValueError):
        parse_amount(text)


@pytest.mark.parametrize("text", ["2026-12-20", "2026/12/20", "2026年12月20日", "2026.12.20", "2026-12-20 00:00:00"])
def test_dates(text: str) -> None:
    assert parse_date(text) == date(2026, 12, 20)


def test_date_cells_and_bad_dates() -> None:
    assert parse_date(datetime(2026, 1, 2, 0, 0)) == date(2026, 1, 2)
    for bad in ("2026-13-45", "下周三", "20/12/2026"):
        with pytest.raises(ValueError):
            parse_date(bad)


def test_stages_and_wan() -> None:
    assert parse_stage("方案演示") is Stage.DEMO and parse_stage("WON") is Stage.WON and parse_stage("??") is None
    assert [s.rank for s in (Stage.INITIAL, Stage.NEGOTIATION, Stage.WON)] == [0, 3, 4]
    assert Stage.LOST.is_closed and not Stage.DEMO.is_closed and Stage.QUALIFIED.label == "需求确认"
    assert wan(Decimal("655000")) == "65.5万" and wan(None) == "—"


@pytest.mark.parametrize(("text", "value"), [("32%", "0.32"), ("32", "0.32"), ("0.325", "0.325"), ("19.99％", "0.1999"),
                                             ("-5%", "-0.05"), ("1", "1"), ("", None)])  # fmt: skip
def test_margins_both_ways(text: str, value: str | None) -> None:
    assert parse_ratio(text) == (Decimal(value) if value is not None else None)


@pytest.mark.parametrize("text", ["很高", "150%", "3成"])
def test_bad_margins_name_the_cell(text: str) -> None:
    with pytest.raises(ValueError, match="毛利率"):
        parse_ratio(text)


def test_month_arithmetic_has_one_home_and_crosses_years() -> None:
    from datetime import date

    from sales.months import month_bounds, month_key, month_start

    assert month_start(date(2026, 12, 15), 1) == date(2027, 1, 1)
    assert month_start(date(2026, 1, 5), -1) == date(2025, 12, 1)
    assert month_start(date(2026, 5, 31), -4) == date(2026, 1, 1)
    assert month_bounds("2026-12") == (date(2026, 12, 1), date(2027, 1, 1))
    assert month_key(date(2027, 2, 28)) == "2027-02"
