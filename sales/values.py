"""Reading the values a sales admin types into a spreadsheet: amounts and dates."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

_UNITS = {
    "亿": Decimal(100_000_000),
    "万": Decimal(10_000),
    "w": Decimal(10_000),
    "千": Decimal(1_000),
    "k": Decimal(1_000),
}
_AMOUNT = re.compile(
    r"^[¥￥]?\s*(?P<num>[0-9][0-9,，]*(?:\.[0-9]+)?)\s*(?P<unit>亿|万|w|千|k)?\s*(?:元|人民币|rmb)?$", re.IGNORECASE
)
_DATE = re.compile(r"^(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*[日号]?$")


def parse_amount(text: str | float | int | Decimal | None) -> Decimal | None:
    """Yuan from ``65.5万``, ``80,000元``, ``¥860,000`` or a bare number; None when empty.

    Raises ValueError for text that is not an amount, so an import can say which row is bad.
    """
    if text is None:
        return None
    if isinstance(text, (int, float, Decimal)) and not isinstance(text, bool):
        return _check(Decimal(str(text)))
    cleaned = str(text).strip()
    if not cleaned:
        return None
    m = _AMOUNT.match(cleaned)
    if not m:
        raise ValueError(f"金额看不懂: {cleaned}")
    try:
        number = Decimal(m["num"].replace(",", "").replace("，", ""))
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only digits
        raise ValueError(f"金额看不懂: {cleaned}") from exc
    unit = m["unit"]
    if unit:
        number *= _UNITS[unit.lower()]
    return _check(number)


def _check(value: Decimal) -> Decimal:
    if value < 0 or not value.is_finite():
        raise ValueError(f"金额不能为负: {value}")
    return value.quantize(Decimal("0.01"))


def parse_date(text: str | date | None) -> date | None:
    """A day from ``2026-12-20``, ``2026/12/20`` or ``2026年12月20日``; None when empty."""
    if text is None:
        return None
    if isinstance(text, datetime):
        return text.date()
    if isinstance(text, date):
        return text
    cleaned = str(text).strip()
    if not cleaned:
        return None
    m = _DATE.match(cleaned.split(" ")[0])
    if not m:
        raise ValueError(f"日期看不懂: {cleaned}")
    try:
        return date(int(m["y"]), int(m["m"]), int(m["d"]))
    except ValueError as exc:
        raise ValueError(f"日期不存在: {cleaned}") from exc


_PERCENT = re.compile(r"^(?P<num>-?[0-9]+(?:\.[0-9]+)?)\s*(?P<pct>%|％)?$")


def parse_ratio(text: str | float | int | Decimal | None) -> Decimal | None:
    """A margin as a fraction from ``32%``, ``32`` or ``0.32``; None when empty.

    Spreadsheets hold margins both ways: a number above 1 is read as percent. ValueError outside -100 %..100 %.
    """
    if text is None:
        return None
    cleaned = str(text).strip()
    if not cleaned:
        return None
    m = _PERCENT.match(cleaned)
    if not m:
        raise ValueError(f"毛利率看不懂: {cleaned}")
    value = Decimal(m["num"])
    if m["pct"] or abs(value) > 1:
        value /= 100
    if abs(value) > 1:
        raise ValueError(f"毛利率超出范围: {cleaned}")
    return value.quantize(Decimal("0.0001"))


def percent(value: Decimal) -> str:
    """``0.325`` as ``32.5%``."""
    return f"{(value * 100).quantize(Decimal('0.01')).normalize():f}%"


def yuan(amount: Decimal) -> str:
    """Pay to the fen: ``¥12,345.60``."""
    return f"¥{amount:,.2f}"


def wan(amount: Decimal | None) -> str:
    """An amount in 万 the way reps say it: ``65.5万``."""
    if amount is None:
        return "—"
    value = (amount / Decimal(10_000)).quantize(Decimal("0.01")).normalize()
    return f"{value:f}万"
