"""China's working calendar: statutory holidays and make-up working weekends (调休).

``chinesecalendar`` knows the State Council's schedule up to the last published year and
raises for later ones; for those years weekends alone are used (with one warning per year)
until an admin adds the year's days to the holidays file, which wins over both.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from pathlib import Path

log = logging.getLogger("genjin.calendar")

Provider = Callable[[date], bool | None]  # True = working day, None = no data for that year
_LINE = re.compile(r"^\s*(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?\s*[,，\s]\s*(\S+)")
_OFF = {"holiday", "off", "休", "休息", "假", "放假", "节假日", "假日"}
_ON = {"workday", "work", "班", "上班", "补班", "调休上班", "工作日"}


def china_provider() -> Provider:
    """chinesecalendar's answer, or None for a year it has no data for."""
    import chinese_calendar

    def provider(day: date) -> bool | None:
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            return None

    return provider


def read_overrides(path: Path) -> dict[date, bool]:
    """``2027-01-01 休`` / ``2027-02-07,上班`` lines (# comments); ValueError names a bad line."""
    out: dict[date, bool] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        m = _LINE.match(line)
        word = m.group(4).lower() if m else ""
        if not m or (word not in _OFF and word not in _ON):
            raise ValueError(f"{path.name} 第 {number} 行看不懂: {line}(例如 2027-01-01 休 或 2027-02-07 上班)")
        out[date(int(m.group(1)), int(m.group(2)), int(m.group(3)))] = word in _ON
    return out


class WorkCalendar:
    """Which days are working days, with counting helpers the stall rules need."""

    def __init__(self, overrides: dict[date, bool] | None = None, provider: Provider | None = None) -> None:
        self.overrides = dict(overrides or {})
        self.provider = provider
        self._warned: set[int] = set()
        self._cache: dict[date, bool] = {}
        # running count of working days from _first (exclusive): counts over any span in O(1)
        self._first: int | None = None
        self._running: list[int] = []

    def is_workday(self, day: date) -> bool:
        cached = self._cache.get(day)
        if cached is not None:
            return cached
        if day in self.overrides:
            result = self.overrides[day]
        else:
            known = self.provider(day) if self.provider else None
            if known is None:
                if self.provider is not None and day.year not in self._warned:
                    self._warned.add(day.year)
                    log.warning("no holiday data for %s: counting weekends only; add the year to the holidays file",
                                day.year)  # fmt: skip
                known = day.weekday() < 5
            result = known
        self._cache[day] = result
        return result

    def workdays_after(self, start: date, end: date) -> int:
        """Working days in (start, end]: the day of entry does not count, today does."""
        if end <= start:
            return 0
        self._cover(start.toordinal(), end.toordinal())
        assert self._first is not None
        return self._running[end.toordinal() - self._first] - self._running[start.toordinal() - self._first]

    def _cover(self, low: int, high: int) -> None:
        """Extend the running count so that it spans the ordinals ``low`` to ``high``."""
        if self._first is not None and self._first <= low and high < self._first + len(self._running):
            return
        first = min(low, self._first if self._first is not None else low) - 31
        last = max(high, (self._first or high) + len(self._running) - 1)  # not past what was asked: no data warnings
        running, total = [], 0
        for ordinal in range(first, last + 1):
            total += self.is_workday(date.fromordinal(ordinal))
            running.append(total)
        self._first, self._running = first, running

    def back(self, today: date, count: int) -> date:
        """The latest day D with exactly ``count`` working days in (D, today] (count ≥ 1)."""
        day, seen = today, 0
        while True:
            if self.is_workday(day):
                seen += 1
            day -= timedelta(days=1)
            if seen == count:
                return day

    def days(self, start: date, end: date) -> Iterable[date]:
        return (start + timedelta(days=n) for n in range((end - start).days + 1))

    def week_workdays(self, day: date) -> list[date]:
        monday = day - timedelta(days=day.weekday())
        return [d for d in self.days(monday, monday + timedelta(days=6)) if self.is_workday(d)]

    def is_first_workday_of_week(self, day: date) -> bool:
        week = self.week_workdays(day)
        return bool(week) and week[0] == day

    def is_last_workday_of_week(self, day: date) -> bool:
        week = self.week_workdays(day)
        return bool(week) and week[-1] == day

    def next_workday(self, day: date) -> date:
        day += timedelta(days=1)
        while not self.is_workday(day):
            day += timedelta(days=1)
        return day

    def previous_workday(self, day: date) -> date:
        day -= timedelta(days=1)
        while not self.is_workday(day):
            day -= timedelta(days=1)
        return day
