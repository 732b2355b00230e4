"""Which month a question or a command is about, and where a month begins and ends."""

from __future__ import annotations

import re
from datetime import date


def month_key(day: date) -> str:
    """``2026-12``: how months are named in goals, snapshots and reports."""
    return f"{day.year:04d}-{day.month:02d}"


def month_start(day: date, shift: int = 0) -> date:
    """The first day of ``day``'s month, ``shift`` months on (negative: back)."""
    index = day.year * 12 + day.month - 1 + shift
    return date(index // 12, index % 12 + 1, 1)


_MONTH = re.compile(r"(?:(?P<y>\d{4})\s*[年\-/.]\s*)?(?P<m>\d{1,2})\s*月")


def month_in(text: str, today: date, *, ahead: bool = False) -> str:
    """The month a text is about: 上月/下月, 2026年10月, 10月, else this month. A bare month number is the
    latest such month not in the future for a question (``ahead`` False), the next one for a plan."""
    if re.search(r"上个?月", text):
        return month_key(month_start(today, -1))
    if re.search(r"下个?月", text):
        return month_key(month_start(today, 1))
    m = _MONTH.search(text) or re.search(r"(?P<y>\d{4})-(?P<m>\d{2})(?!\d)", text)
    if m and 1 <= int(m["m"]) <= 12:
        year = int(m["y"]) if m["y"] else today.year
        if not m["y"] and not ahead and int(m["m"]) > today.month:
            year -= 1
        if not m["y"] and ahead and int(m["m"]) < today.month:
            year += 1
        return f"{year:04d}-{int(m['m']):02d}"
    return month_key(today)


def month_bounds(month: str) -> tuple[date, date]:
    """First day of ``month`` (YYYY-MM) and first day of the next."""
    year, mon = (int(x) for x in month.split("-"))
    start = date(year, mon, 1)
    return start, month_start(start, 1)
