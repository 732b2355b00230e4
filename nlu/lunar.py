"""The Chinese lunisolar calendar computed from astronomy, valid for any year.

New moons follow Meeus, *Astronomical Algorithms* ch. 49; the sun's longitude ch. 25.
Months begin on the day (Beijing time) of the new moon; the month holding the winter
solstice is the eleventh; in a year of 13 months the first one without a principal
solar term is the leap month. No table, so nothing runs out in some year.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

_J2000 = 2451545.0
_EPOCH = datetime(2000, 1, 1, 12, tzinfo=UTC)
_BEIJING = timedelta(hours=8)
_SYNODIC = 29.530588861


def _sin(deg: float) -> float:
    return math.sin(math.radians(deg))


def _delta_t(year: float) -> float:
    """TT − UT in seconds (Espenak–Meeus polynomials, coarse outside 1986–2050)."""
    t = year - 2000
    if 2005 <= year < 2050:
        return 62.92 + 0.32217 * t + 0.005589 * t * t
    if 1986 <= year < 2005:
        return 63.86 + 0.3345 * t - 0.060374 * t**2 + 0.0017275 * t**3 + 0.000651814 * t**4 + 0.00002373599 * t**5
    u = (year - 1820) / 100
    value = -20 + 32 * u * u
    if 2050 <= year < 2150:
        value -= 0.5628 * (2150 - year)
    return value


def new_moon(k: int) -> float:
    """Julian Ephemeris Day of new moon number ``k`` (k = 0 near 2000-01-06)."""
    t = k / 1236.85
    jde = 2451550.09766 + _SYNODIC * k + 0.00015437 * t**2 - 0.000000150 * t**3 + 0.00000000073 * t**4
    e = 1 - 0.002516 * t - 0.0000074 * t**2
    m = 2.5534 + 29.10535670 * k - 0.0000014 * t**2 - 0.00000011 * t**3
    mp = 201.5643 + 385.81693528 * k + 0.0107582 * t**2 + 0.00001238 * t**3 - 0.000000058 * t**4
    f = 160.7108 + 390.67050284 * k - 0.0016118 * t**2 - 0.00000227 * t**3 + 0.000000011 * t**4
    om = 124.7746 - 1.56375588 * k + 0.0020672 * t**2 + 0.00000215 * t**3
    jde += (
        -0.40720 * _sin(mp)
        + 0.17241 * e * _sin(m)
        + 0.01608 * _sin(2 * mp)
        + 0.01039 * _sin(2 * f)
        + 0.00739 * e * _sin(mp - m)
        - 0.00514 * e * _sin(mp + m)
        + 0.00208 * e * e * _sin(2 * m)
        - 0.00111 * _sin(mp - 2 * f)
        - 0.00057 * _sin(mp + 2 * f)
        + 0.00056 * e * _sin(2 * mp + m)
        - 0.00042 * _sin(3 * mp)
        + 0.00042 * e * _sin(m + 2 * f)
        + 0.00038 * e * _sin(m - 2 * f)
        - 0.00024 * e * _sin(2 * mp - m)
        - 0.00017 * _sin(om)
        - 0.00007 * _sin(mp + 2 * m)
        + 0.00004 * _sin(2 * mp - 2 * f)
        + 0.00004 * _sin(3 * m)
        + 0.00003 * _sin(mp + m - 2 * f)
        + 0.00003 * _sin(2 * mp + 2 * f)
        - 0.00003 * _sin(mp + m + 2 * f)
        + 0.00003 * _sin(mp - m + 2 * f)
        - 0.00002 * _sin(mp - m - 2 * f)
        - 0.00002 * _sin(3 * mp + m)
        + 0.00002 * _sin(4 * mp)
    )
    planetary = (
        (0.000325, 299.77 + 0.107408 * k - 0.009173 * t**2),
        (0.000165, 251.88 + 0.016321 * k),
        (0.000164, 251.83 + 26.651886 * k),
        (0.000126, 349.42 + 36.412478 * k),
        (0.000110, 84.66 + 18.206239 * k),
        (0.000062, 141.74 + 53.303771 * k),
        (0.000060, 207.14 + 2.453732 * k),
        (0.000056, 154.84 + 7.306860 * k),
        (0.000047, 34.52 + 27.261239 * k),
        (0.000042, 207.19 + 0.121824 * k),
        (0.000040, 291.34 + 1.844379 * k),
        (0.000037, 161.72 + 24.198154 * k),
        (0.000035, 239.56 + 25.513099 * k),
        (0.000023, 331.55 + 3.592518 * k),
    )
    return jde + sum(a * _sin(arg) for a, arg in planetary)


def sun_longitude(jde: float) -> float:
    """The sun's apparent ecliptic longitude in degrees, to about 0.01°."""
    t = (jde - _J2000) / 36525
    l0 = 280.46646 + 36000.76983 * t + 0.0003032 * t * t
    m = 357.52911 + 35999.05029 * t - 0.0001537 * t * t
    c = (
        (1.914602 - 0.004817 * t - 0.000014 * t * t) * _sin(m)
        + (0.019993 - 0.000101 * t) * _sin(2 * m)
        + 0.000289 * _sin(3 * m)
    )
    omega = 125.04 - 1934.136 * t
    return (l0 + c - 0.00569 - 0.00478 * _sin(omega)) % 360


def solar_term(year: int, longitude: float) -> float:
    """JDE when the sun reaches ``longitude`` in ``year`` (Gregorian)."""
    # Days after the March equinox, starting from a mean-motion guess.
    jde = 2451623.80984 + 365.242189623 * (year - 2000) + (longitude % 360) / 360 * 365.2422
    for _ in range(8):
        diff = (longitude - sun_longitude(jde) + 180) % 360 - 180
        jde += diff / 360 * 365.2422
        if abs(diff) < 1e-6:
            break
    return jde


def beijing_date(jde: float) -> date:
    """The calendar day in Beijing (UTC+8) of an instant given in TT."""
    year = 2000 + (jde - _J2000) / 365.25
    jd_ut = jde - _delta_t(year) / 86400
    return (_EPOCH + timedelta(days=jd_ut - _J2000) + _BEIJING).date()


def _new_moons_between(start: float, end: float) -> list[date]:
    """Beijing dates of the new moons from the one on or before ``start`` to the last before ``end``."""
    k = math.floor((start - 2451550.09766) / _SYNODIC) - 1
    while new_moon(k + 1) <= start:
        k += 1
    while new_moon(k) > start:
        k -= 1
    days = []
    while (jde := new_moon(k)) < end + _SYNODIC:
        days.append(beijing_date(jde))
        k += 1
    return days


@lru_cache(maxsize=256)
def month_starts(year: int) -> tuple[tuple[int, bool, date], ...]:
    """(month number, is leap, first day) for the months from month 11 of ``year - 1``
    up to month 11 of ``year``."""
    solstice_before = beijing_date(solar_term(year - 1, 270))
    solstice_after = beijing_date(solar_term(year, 270))
    moons = _new_moons_between(solar_term(year - 1, 270) - 1, solar_term(year, 270))
    # month 11 starts on the last new moon on or before the solstice (by Beijing date)
    first = max(i for i, d in enumerate(moons) if d <= solstice_before)
    last = max(i for i, d in enumerate(moons) if d <= solstice_after)
    starts = moons[first : last + 1]
    leap_year = len(starts) == 14  # 13 months between the two months 11
    terms = sorted(beijing_date(solar_term(y, lon)) for y in (year - 1, year) for lon in range(0, 360, 30))
    out: list[tuple[int, bool, date]] = []
    number, leap_taken = 11, False
    for i, begin in enumerate(starts[:-1]):
        end = starts[i + 1]
        has_term = any(begin <= t < end for t in terms)
        if leap_year and not leap_taken and not has_term and i > 0:
            leap_taken = True
            out.append((out[-1][0], True, begin))
            continue
        if i > 0:
            number = number % 12 + 1
        out.append((number, False, begin))
    return tuple(out)


def lunar_to_solar(year: int, month: int, day: int) -> date:
    """The Gregorian date of lunar ``month``/``day`` (not leap) of lunar year ``year``
    (the one whose first day falls in Gregorian ``year``)."""
    # months 1–10 lie in the span ending in ``year``; 11 and 12 in the one ending a year later
    months = month_starts(year if month < 11 else year + 1)
    begin = next(d for n, leap, d in months if n == month and not leap)
    return begin + timedelta(days=day - 1)


def spring_festival(year: int) -> date:
    """春节: the first day of the first lunar month that falls in Gregorian ``year``."""
    return lunar_to_solar(year, 1, 1)
