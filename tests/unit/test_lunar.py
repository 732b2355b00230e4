"""Holidays from the lunar calendar, computed, checked against a published table."""

import warnings
from datetime import date

import pytest

from nlu.lunar import lunar_to_solar, month_starts, spring_festival


@pytest.mark.parametrize(
    ("year", "month", "day", "expected"),
    [
        (2024, 1, 1, date(2024, 2, 10)),
        (2026, 1, 1, date(2026, 2, 17)),
        (2027, 1, 1, date(2027, 2, 6)),
        (2033, 1, 1, date(2033, 1, 31)),  # the year of the "2033 problem" (leap 11th month)
        (2020, 5, 5, date(2020, 6, 25)),  # after a leap 4th month
        (2026, 5, 5, date(2026, 6, 19)),
        (2023, 8, 15, date(2023, 9, 29)),  # after a leap 2nd month
        (2026, 8, 15, date(2026, 9, 25)),
        (2031, 8, 15, date(2031, 10, 1)),
    ],
)
def test_known_dates(year: int, month: int, day: int, expected: date) -> None:
    assert lunar_to_solar(year, month, day) == expected


def test_agrees_with_the_table_for_1979_to_2099() -> None:
    lunardate = pytest.importorskip("lunardate")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        for year in range(1979, 2100):
            for month, day in ((1, 1), (5, 5), (8, 15)):
                expected = lunardate.LunarDate(year, month, day).toSolarDate()
                assert lunar_to_solar(year, month, day) == expected, (year, month, day)


@pytest.mark.parametrize("year", [2100, 2150, 2200, 2345, 2500])
def test_years_beyond_any_table(year: int) -> None:
    new_year = spring_festival(year)
    assert date(year, 1, 20) <= new_year <= date(year, 2, 21)
    months = [n for n, leap, _ in month_starts(year) if not leap]
    assert months == [11, 12, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
