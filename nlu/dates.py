"""Dates as reps say them, resolved against the message time (the NLU contract's "Dates").

Each hit keeps its span so that the parser can tell which action a date belongs to.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from nlu.lunar import lunar_to_solar
from nlu.numbers import cn_to_int

_N = r"(?:\d{1,3}|[一二两三四五六七八九十]{1,3})"
_WD = r"(?:一|二|三|四|五|六|日|天|末|[1-7])"
_WEEKDAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 5}


@dataclass(frozen=True)
class DateHit:
    start: int
    end: int
    value: date | None  # None: a vague time (近期, 改天, …)
    deadline: bool = False  # "X前"


def _num(text: str) -> int | None:
    return int(text) if text.isdigit() else cn_to_int(text)


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _safe(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _future_month_day(today: date, month: int, day: int) -> date | None:
    this_year = _safe(today.year, month, day)
    if this_year is None:
        return _safe(today.year + 1, month, day)
    return this_year if this_year >= today else _safe(today.year + 1, month, day)


def _week_day(today: date, weeks_ahead: int, weekday: int) -> date:
    monday = today - timedelta(days=today.weekday()) + timedelta(weeks=weeks_ahead)
    return monday + timedelta(days=weekday)


def _holiday_on(name: str, year: int) -> date:
    if name == "元旦":
        return date(year, 1, 1)
    if name == "五一":
        return date(year, 5, 1)
    if name == "国庆":
        return date(year, 10, 1)
    if name == "春节":
        return lunar_to_solar(year, 1, 1)
    if name == "端午":
        return lunar_to_solar(year, 5, 5)
    return lunar_to_solar(year, 8, 15)  # 中秋


def holiday(name: str, today: date) -> date:
    """The next one to come (today counts)."""
    day = _holiday_on(name, today.year)
    return day if day >= today else _holiday_on(name, today.year + 1)


_HOLIDAYS = {
    "元旦": "元旦",
    "春节": "春节",
    "过年": "春节",
    "年": "春节",
    "五一": "五一",
    "劳动节": "五一",
    "端午": "端午",
    "端午节": "端午",
    "中秋": "中秋",
    "中秋节": "中秋",
    "国庆": "国庆",
    "国庆节": "国庆",
}

Resolver = Callable[[re.Match[str], date], date | None]
_RULES: list[tuple[re.Pattern[str], Resolver]] = []


def _rule(pattern: str) -> Callable[[Resolver], Resolver]:
    def register(fn: Resolver) -> Resolver:
        _RULES.append((re.compile(pattern), fn))
        return fn

    return register


@_rule(r"(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})[日号]?")
def _ymd(m: re.Match[str], today: date) -> date | None:
    return _safe(int(m["y"]), int(m["m"]), int(m["d"]))


@_rule(r"(?P<y>明年|今年|后年)\s*(?P<m>" + _N + r")\s*月\s*(?P<d>" + _N + r")\s*(?:日|号)?")
def _year_month_day(m: re.Match[str], today: date) -> date | None:
    """明年1月10号: the year said, not guessed."""
    month, day = _num(m["m"]), _num(m["d"])
    if month is None or day is None or not 1 <= month <= 12:
        return None
    return _safe(today.year + {"今年": 0, "明年": 1, "后年": 2}[m["y"]], month, day)


@_rule(r"(?<![\d.年])(?P<m>" + _N + r")\s*月\s*(?P<d>" + _N + r")\s*(?:日|号)?")
def _month_day(m: re.Match[str], today: date) -> date | None:
    month, day = _num(m["m"]), _num(m["d"])
    if month is None or day is None or not 1 <= month <= 12:
        return None
    return _future_month_day(today, month, day)


@_rule(
    r"(?<![A-Za-z0-9.\-/¥$])(?<!\d:)(?P<m>1[0-2]|0?[1-9])[./](?P<d>3[01]|[12]\d|0?[1-9])(?![\d.%万亿wWkKmM元倍折/])(?!\s*(?:版|代|期|倍|折|个|分|级|寸|米|吨|G|g|T))"
)
def _dotted(m: re.Match[str], today: date) -> date | None:
    return _future_month_day(today, int(m["m"]), int(m["d"]))


@_rule(
    r"(?P<which>下个?月|本月|这个?月|当月|次月|(?P<mn>\d{1,2}|[一二三四五六七八九十]{1,3})\s*月份?)"
    r"(?P<part>初|上旬|中旬|下旬|中|底|末)"
)
def _month_part(m: re.Match[str], today: date) -> date | None:
    part = m["part"]
    which = m["which"]
    if m["mn"]:
        month = _num(m["mn"])
        if month is None or not 1 <= month <= 12:
            return None
        year = today.year if month >= today.month else today.year + 1
        return _part_of(year, month, part)
    base = _add_months(today.replace(day=1), 1) if which.startswith(("下", "次")) else today.replace(day=1)
    return _part_of(base.year, base.month, part)


@_rule(r"(?<![下本这当次月\d])(?P<part>月初|月中|月底|月末|上旬|中旬|下旬)")
def _bare_month_part(m: re.Match[str], today: date) -> date | None:
    part = m["part"].removeprefix("月")
    day = _part_of(today.year, today.month, part)
    if day is not None and day < today:
        nxt = _add_months(today.replace(day=1), 1)
        return _part_of(nxt.year, nxt.month, part)
    return day


def _part_of(year: int, month: int, part: str) -> date | None:
    if part in ("初", "上旬"):
        return date(year, month, 10)
    if part == "中":
        return date(year, month, 15)
    if part == "中旬":
        return date(year, month, 20)
    return _month_end(year, month)


@_rule(r"(?P<which>下个?月|本月|这个?月|次月)\s*(?P<d>\d{1,2}|[一二三四五六七八九十]{1,3})\s*(?:号|日)")
def _relative_month_day(m: re.Match[str], today: date) -> date | None:
    day = _num(m["d"])
    base = _add_months(today.replace(day=1), 1) if m["which"].startswith(("下", "次")) else today.replace(day=1)
    return None if day is None else _safe(base.year, base.month, day)


@_rule(r"(?P<which>明年|今年|本年)?\s*(?:年底|年末)")
def _year_end(m: re.Match[str], today: date) -> date | None:
    return date(today.year + (m["which"] == "明年"), 12, 31)


@_rule(r"(?P<which>下个?|本|这个?|当前)?季度?(?:末|底)|季末")
def _quarter_end(m: re.Match[str], today: date) -> date | None:
    quarter = (today.month - 1) // 3 + (1 if (m["which"] or "").startswith("下") else 0)
    year = today.year + quarter // 4
    last_month = (quarter % 4) * 3 + 3
    return _month_end(year, last_month)


_QUARTER_NO = {"1": 1, "2": 2, "3": 3, "4": 4, "一": 1, "二": 2, "三": 3, "四": 4}


@_rule(r"(?P<year>明年|今年)?\s*(?:[Qq](?P<q>[1-4])|(?:第)?(?P<c>[一二三四])季度)(?:末|底)?")
def _named_quarter(m: re.Match[str], today: date) -> date | None:
    """Q1..Q4, 一季度..四季度: the quarter's last day, this year or, when past, next year."""
    quarter = _QUARTER_NO[m["q"] or m["c"]]
    end = _month_end(today.year + (m["year"] == "明年"), quarter * 3)
    return end if end >= today or m["year"] else _month_end(today.year + 1, quarter * 3)


@_rule(r"下个?季度(?![末底])")
def _next_quarter(m: re.Match[str], today: date) -> date | None:
    """下季度: the first day of next quarter."""
    quarter = (today.month - 1) // 3 + 1
    return date(today.year + quarter // 4, (quarter % 4) * 3 + 1, 1)


@_rule(r"(?:这个?|本)?(?:周末|礼拜天?末|星期末)")
def _weekend(m: re.Match[str], today: date) -> date | None:
    """这周末, 周末: Saturday of this week (today when it is Sunday)."""
    return today if today.weekday() == 6 else _week_day(today, 0, 5)


@_rule(r"(?:下个?月|次月)(?![初中底末上下\d一二三四五六七八九十份]|旬)")
def _next_month(m: re.Match[str], today: date) -> date | None:
    """下个月 with no day or part: the 15th of next month."""
    base = _add_months(today.replace(day=1), 1)
    return date(base.year, base.month, 15)


@_rule(r"过两天|过几天")
def _in_two_days(m: re.Match[str], today: date) -> date | None:
    return today + timedelta(days=2) if m.group(0) == "过两天" else None


_AFTER_BREAK = {"元旦": (1, 2), "五一": (5, 6), "国庆": (10, 8)}


def holiday_after(name: str, today: date) -> date:
    """ "X后": the first day after the holiday's customary break, for the next one to come."""

    def after(year: int) -> date:
        if name in _AFTER_BREAK:
            month, day = _AFTER_BREAK[name]
            return date(year, month, day)
        if name == "春节":
            return lunar_to_solar(year, 1, 8)
        return _holiday_on(name, year) + timedelta(days=1)

    for year in (today.year - 1, today.year, today.year + 1):
        if _holiday_on(name, year) >= today or after(year) > today:
            return after(year)
    return after(today.year + 1)


def next_holiday(today: date) -> str:
    """The holiday that comes next (today counts): what 节后 and 节前 speak of."""
    return min(("元旦", "春节", "五一", "端午", "中秋", "国庆"), key=lambda n: holiday(n, today))


@_rule(
    r"(?P<name>元旦|春节|过年|五一|劳动节|端午节?|中秋节?|国庆节?|(?<![季过调])节|(?<![今去明本前后每当同\d一两二三四五六七八九十半几])年)"
    r"(?:之后|以后|后)(?![天\d])"
)
def _holiday_after(m: re.Match[str], today: date) -> date | None:
    name = m["name"]
    if name == "节":
        return holiday_after(next_holiday(today), today)
    return holiday_after(_HOLIDAYS[name], today)


@_rule(
    r"(?P<name>元旦|春节|过年|五一|劳动节|端午节?|中秋节?|国庆节?|(?<![今去明本前后每当同\d])年|(?<![季过调])节)"
    r"(?P<before>之前|以前|前)(?![三两几\d一二四五六七八九十]|半年)"
)
def _holiday_before(m: re.Match[str], today: date) -> date | None:
    name = next_holiday(today) if m["name"] == "节" else _HOLIDAYS[m["name"]]
    return holiday(name, today) - timedelta(days=1)


@_rule(
    r"(?P<name>元旦|春节|五一|劳动节|端午节?|中秋节?|国庆节?)"
    r"(?!前|之前|以前|后|之后|以后|期间|假期|礼|福利|活动|促销|档|订单|的单|专场|团购|备货|物资|采购)"
)
def _holiday(m: re.Match[str], today: date) -> date | None:
    return holiday(_HOLIDAYS[m["name"]], today)


@_rule(r"大后天")
def _in_three(m: re.Match[str], today: date) -> date | None:
    return today + timedelta(days=3)


@_rule(r"(?P<w>今天|今日|今晚|今早|今儿|明天|明日|明早|明晚|明儿|后天|昨天|昨日|昨晚|前天)")
def _named_day(m: re.Match[str], today: date) -> date | None:
    offsets = {"今": 0, "明": 1, "后": 2, "昨": -1, "前": -2}
    return today + timedelta(days=offsets[m["w"][0]])


@_rule(
    r"(?P<n>" + _N + r"|半)\s*(?P<unit>天|日|个?工作日|周|个?星期|个?礼拜|个月|个半月)\s*"
    r"(?P<dir>之后|以后|后|内|之内|以内|前|之前|以前)"
)
def _relative(m: re.Match[str], today: date) -> date | None:
    n = 0.5 if m["n"] == "半" else _num(m["n"])
    if n is None:
        return None
    unit, direction = m["unit"].lstrip("个"), m["dir"]
    sign = -1 if direction in ("前", "之前", "以前") else 1
    if unit in ("天", "日", "工作日"):
        return today + timedelta(days=sign * int(n))
    if unit in ("周", "星期", "礼拜"):
        return today + timedelta(days=sign * int(7 * n))
    if unit == "半月":
        return _add_months(today, sign * int(n)) + timedelta(days=sign * 15)
    if n == 0.5:
        return today + timedelta(days=sign * 15)
    return _add_months(today, sign * int(n))


@_rule(r"(?P<pre>下下|下|本|这|这个|上)?\s*(?:个?(?:周|礼拜|星期)\s*)?(?:周|礼拜|星期)(?P<wd>" + _WD + r")")
def _weekday(m: re.Match[str], today: date) -> date | None:
    wd = m["wd"]
    weekday = int(wd) - 1 if wd.isdigit() else _WEEKDAY[wd]
    pre = m["pre"] or ""
    if pre == "下下":
        return _week_day(today, 2, weekday)
    if pre == "下":
        return _week_day(today, 1, weekday)
    if pre == "上":
        return _week_day(today, -1, weekday)
    this_week = _week_day(today, 0, weekday)
    return this_week if this_week >= today else _week_day(today, 1, weekday)


@_rule(r"(?P<pre>下下|下)\s*(?:周|个?礼拜|个?星期)(?![一二三四五六日天末1-7])")
def _next_week(m: re.Match[str], today: date) -> date | None:
    return _week_day(today, 2 if m["pre"] == "下下" else 1, 4)


@_rule(r"(?:本周|这周|这个?礼拜|这个?星期)(?:内|之内)?(?![一二三四五六日天末1-7])")
def _this_week(m: re.Match[str], today: date) -> date | None:
    """本周内, 这周: Friday of this week, or today on a weekend."""
    return today if today.weekday() >= 5 else _week_day(today, 0, 4)


@_rule(r"(?<![\d月])(?P<d>\d{1,2}|[一二三四五六七八九十]{1,3})\s*(?:号|日)(?![\d子期线楼])")
def _day_of_month(m: re.Match[str], today: date) -> date | None:
    day = _num(m["d"])
    if day is None or not 1 <= day <= 31:
        return None
    this_month = _clamped(today.year, today.month, day)  # 31号 in November: the 30th
    if this_month >= today:
        return this_month
    nxt = _add_months(today.replace(day=1), 1)
    return _clamped(nxt.year, nxt.month, day)


def _clamped(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


_VAGUE = re.compile(
    r"近期|最近|过段时间|过一段时间|过些天|改天|尽快|回头|以后再说|明年再看|明年再说|后续|择日|有空|这两天|近两天|"
    r"过阵子|晚些时候|抽空"
)
# "X再说 / X再看": the time is when to think again, not a step (下季度再说, 年后再说, Q4再看).
_LATER = re.compile(r"\s*(?:再说|再看|再议|再考虑|再定|再聊吧|看看再说|再看看)")
_DEADLINE = re.compile(r"\s*(?:之前|以前|前)(?![天周月年\d])")


def _past_day(m: re.Match[str], today: date, resolve: Resolver) -> date | None:
    """The latest such day up to today: 周一签的 said on Friday, 11月5号签的 said on 11-20."""
    value = resolve(m, today)
    if value is None or value <= today:
        return value
    if resolve is _weekday:
        return value - timedelta(days=7) if value - timedelta(days=7) <= today else value - timedelta(days=14)
    if resolve is _day_of_month:
        previous = _add_months(today.replace(day=1), -1)
        day = _num(m["d"]) or 1
        this_month = _safe(today.year, today.month, day)
        if this_month is not None and this_month <= today:
            return this_month
        return _safe(previous.year, previous.month, min(day, calendar.monthrange(previous.year, previous.month)[1]))
    return _safe(value.year - 1, value.month, value.day) or value - timedelta(days=365)


_PAST_CAPABLE = {_weekday, _month_day, _dotted, _day_of_month}


# A report's field label: 明日计划：, 下周安排： — the day names the section, not a step.
_LABEL = re.compile(
    r"(?:明日|明天|下周|本周|今日|今天|节后|周末|下月|本月)(?:计划|工作|安排|重点|任务|目标)\s*(?=[:：]|$|\n)"
)


def find_dates(text: str, today: date, *, past: bool = False) -> list[DateHit]:
    """Every date expression in ``text``, earliest first; overlapping matches keep the longest.

    ``past``: the text says a deal was signed or lost, so a bare weekday or day of the month is
    the latest one up to today. "X前" after a day is that day, as a deadline; "X再说" is vague.
    """
    found: list[DateHit] = []
    for pattern, resolve in _RULES:
        for m in pattern.finditer(text):
            if past and resolve in _PAST_CAPABLE and not (resolve is _weekday and m["pre"] in ("下", "下下")):
                value = _past_day(m, today, resolve)
            else:
                value = resolve(m, today)
            if value is None:
                continue
            start = m.start() + len(m.group(0)) - len(m.group(0).lstrip())
            end = m.end()
            deadline = "前" in m.group(0)[-2:] and resolve is _holiday_before
            if resolve is not _holiday_before and resolve is not _relative and (d := _DEADLINE.match(text, end)):
                end, deadline = d.end(), True  # 周五前, 月底前, 8号前: the day itself
            later = _LATER.match(text, end)
            found.append(DateHit(start, later.end() if later else end, None if later else value, deadline))
    for m in _VAGUE.finditer(text):
        found.append(DateHit(m.start(), m.end(), None))
    labels = [(m.start(), m.end()) for m in _LABEL.finditer(text)]
    if labels:
        found = [h for h in found if not any(a <= h.start < b for a, b in labels)]
    found.sort(key=lambda h: (h.start, -(h.end - h.start)))
    kept: list[DateHit] = []
    for hit in found:
        if kept and hit.start < kept[-1].end:
            continue
        kept.append(hit)
    return kept
