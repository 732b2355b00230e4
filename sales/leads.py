"""Leads before they are customers: what they did (events), the score that says how ready they are, and the rules
that hand them to reps. Pure functions: the store keeps leads and events, the use cases run these."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum

from sales.stages import Stage


class EventKind(StrEnum):
    PAGE_VIEW = "page_view"  # with the seconds spent
    DOWNLOAD = "download"
    FORM = "form"
    WEBINAR = "webinar"
    EMAIL_OPEN = "email_open"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    EventKind.PAGE_VIEW: "浏览", EventKind.DOWNLOAD: "下载", EventKind.FORM: "提交表单",
    EventKind.WEBINAR: "参加直播", EventKind.EMAIL_OPEN: "打开邮件",
}  # fmt: skip
KIND_WORDS = {
    **{k.value: k for k in EventKind}, "浏览": EventKind.PAGE_VIEW, "页面浏览": EventKind.PAGE_VIEW,
    "下载": EventKind.DOWNLOAD, "资料下载": EventKind.DOWNLOAD, "表单": EventKind.FORM, "提交表单": EventKind.FORM,
    "直播": EventKind.WEBINAR, "网络研讨会": EventKind.WEBINAR, "webinar": EventKind.WEBINAR,
    "打开邮件": EventKind.EMAIL_OPEN, "邮件打开": EventKind.EMAIL_OPEN,
}  # fmt: skip


class Level(StrEnum):
    """A rep's seniority: the best leads go to senior reps."""

    JUNIOR = "junior"
    SENIOR = "senior"


@dataclass
class Lead:
    name: str
    channel: str
    received_at: datetime
    contact: str | None = None
    owner_id: str | None = None
    assigned_at: datetime | None = None
    first_response_at: datetime | None = None
    customer_id: int | None = None
    score: float | None = None
    id: int | None = None


@dataclass(frozen=True)
class LeadEvent:
    lead_id: int
    kind: EventKind
    at: datetime
    seconds: int | None = None  # a page view's time on the page
    what: str | None = None  # the page or the asset (定价页, 白皮书)
    key: str = ""  # the source's id for the event: the same event twice is stored once
    id: int | None = None


DEFAULT_WEIGHTS = {
    EventKind.PAGE_VIEW: 1.0, EventKind.DOWNLOAD: 8.0, EventKind.FORM: 15.0, EventKind.WEBINAR: 12.0,
    EventKind.EMAIL_OPEN: 1.0,
}  # fmt: skip


@dataclass(frozen=True)
class ScoreRules:
    """Points per event (a page view: per minute on the page, at most ``view_cap`` minutes a view), halved every
    ``half_life_days``; ``scale`` points make a behaviour score of 63 of 100 (1 - 1/e)."""

    weights: Mapping[EventKind, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    half_life_days: float = 14.0
    view_cap_minutes: float = 10.0
    scale: float = 30.0
    fit_share: float = 0.3  # the lead score: behaviour and the channel's conversion, this much of the latter
    top_band: float = 60.0  # a lead score at least this goes to a senior rep


@dataclass(frozen=True)
class LeadRules:
    """The admin's rules (``GENJIN_LEADS_*``): the score's weights and half-life, the top band, each rep's cap, and
    the working hours a new lead may wait for its first contact before the rep, then the supervisor, hears of it."""

    score: ScoreRules = field(default_factory=ScoreRules)
    cap: int = 200  # open customers a rep may have before new leads pass them by
    response_hours: float = 4.0
    day: tuple[time, time] = (time(9), time(18))  # the working hours of a working day


@dataclass(frozen=True)
class PoolRules:
    """The public pool (公海): working days without a brief after which a customer in a stage returns to it (0 or a
    stage not listed: never; 报价谈判 and later never do), and how many a rep may claim a day."""

    days: Mapping[Stage, int] = field(default_factory=lambda: {Stage.INITIAL: 20, Stage.QUALIFIED: 30, Stage.DEMO: 30})
    claims_per_day: int = 5


def working_hours(start: datetime, end: datetime, is_workday: Callable[[date], bool], tz: tzinfo,
                  day: tuple[time, time] = (time(9), time(18))) -> float:  # fmt: skip
    """Hours between ``start`` and ``end`` that fall in the working hours of working days (local time): a lead
    handed out on Friday evening has waited none of the weekend."""
    if end <= start:
        return 0.0
    first, last = start.astimezone(tz), end.astimezone(tz)
    total = 0.0
    current = first.date()
    while current <= last.date():
        if is_workday(current):
            opens = datetime.combine(current, day[0], tz)
            closes = datetime.combine(current, day[1], tz)
            span = min(closes, last) - max(opens, first)
            total += max(span.total_seconds(), 0.0) / 3600
        current += timedelta(days=1)
    return total


@dataclass(frozen=True)
class LeadScore:
    score: float  # 0-100
    behaviour: float  # 0-100
    fit: float | None  # the channel's conversion, 0-1, when known
    reasons: list[str]

    def line(self) -> str:
        why = ",".join(self.reasons) or "还没有行为记录"
        return f"线索评分 {self.score:.0f}({why})"


def units(event: LeadEvent, rules: ScoreRules) -> float:
    """How much of its kind one event is: a page view's minutes on the page (at most ``view_cap_minutes``), else 1."""
    if event.kind is EventKind.PAGE_VIEW:
        return min((event.seconds or 0) / 60, rules.view_cap_minutes)
    return 1.0


def points(event: LeadEvent, rules: ScoreRules) -> float:
    """What one event is worth when it happens (before decay), by the admin's weights."""
    return rules.weights.get(event.kind, 0.0) * units(event, rules)


SIGNALS = (*(k.value for k in EventKind), "visits", "active_days", "recency")


def named(kind: EventKind, what: str) -> str:
    """The signal of one page or asset (``page_view:定价页``): which pages buyers read differs from org to org, so a
    model learns them from the org's own closed leads rather than from a list."""
    return f"{kind.value}:{what}"


def features(events: Sequence[LeadEvent], now: datetime, rules: ScoreRules) -> dict[str, float]:
    """What a model learnt from past leads weighs (``Learned``): per kind, the decayed units up to ``now``; how often
    the lead came back (decayed page views: a visit counts whatever its length), on how many days it was active, and
    how recent its last event is (1 today, e⁻¹ a week ago, 0 with none); and per named page or asset (``named``),
    the decayed number of times."""
    out = dict.fromkeys(SIGNALS, 0.0)
    days: set[date] = set()
    last: datetime | None = None
    for e in events:
        if e.at > now:
            continue
        weight = decay(e.at, now, rules)
        out[e.kind.value] += units(e, rules) * weight
        if e.kind is EventKind.PAGE_VIEW:
            out["visits"] += weight
        if e.what:
            key = named(e.kind, e.what)
            out[key] = out.get(key, 0.0) + weight
        days.add(e.at.date())
        last = e.at if last is None or e.at > last else last
    out["active_days"] = float(len(days))
    out["recency"] = math.exp(-(now - last).total_seconds() / (7 * 86400)) if last is not None else 0.0
    return out


def signal(name: str, value: float) -> float:
    """How a model reads a signal: counts on a log scale (the tenth download says less than the first), recency as
    it is."""
    return value if name == "recency" else math.log1p(value)


@dataclass(frozen=True)
class Learned:
    """A logistic model learnt from past leads that were won or lost: a weight per signal (``features``, read by
    ``signal``), and one on the logit of the lead's channel rate (0 in the behaviour-only model)."""

    intercept: float
    weights: Mapping[str, float]
    channel: float = 0.0
    leads: int = 0  # how many closed leads it was learnt from

    def probability(self, feats: Mapping[str, float], channel_rate: float | None) -> float:
        z = self.intercept + sum(w * signal(k, feats.get(k, 0.0)) for k, w in self.weights.items())
        if channel_rate is not None and self.channel:
            rate = min(max(channel_rate, 1e-3), 1 - 1e-3)
            z += self.channel * math.log(rate / (1 - rate))
        return 1 / (1 + math.exp(-max(min(z, 40.0), -40.0)))


def decay(at: datetime, now: datetime, rules: ScoreRules) -> float:
    days = max((now - at).total_seconds() / 86400, 0.0)
    return float(0.5 ** (days / rules.half_life_days))


def behaviour(
    events: Sequence[LeadEvent], now: datetime, rules: ScoreRules, learned: Learned | None = None
) -> tuple[float, list[str]]:
    """0-100 from the decayed points, and the strongest reasons in words (近7天下载「白皮书」2次,浏览「定价页」
    4分钟). With a model learnt from past leads, its probability (in per cent), and its weights rank the reasons."""
    total = 0.0
    groups: dict[tuple[EventKind, str | None, bool], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for e in events:
        if e.at > now:
            continue
        if learned is None:
            value = rules.weights.get(e.kind, 0.0) * units(e, rules)
        else:  # by the model's weights: the kind's per unit, and the page's or asset's own
            own = learned.weights.get(named(e.kind, e.what), 0.0) if e.what else 0.0
            value = max(learned.weights.get(e.kind.value, 0.0), 0.0) * units(e, rules) + max(own, 0.0)
        value *= decay(e.at, now, rules)
        total += value
        recent = now - e.at <= timedelta(days=7)
        g = groups[(e.kind, e.what, recent)]
        g[0] += value
        g[1] += 1
        g[2] += (e.seconds or 0) / 60
    ranked = sorted(groups.items(), key=lambda kv: -kv[1][0])
    reasons = []
    for (kind, what, recent), (value, count, minutes) in ranked[:3]:
        if value < 0.5:
            continue
        when = "近7天" if recent else "更早"
        thing = f"「{what}」" if what else ""
        if kind is EventKind.PAGE_VIEW:
            reasons.append(f"{when}浏览{thing}{max(1, round(minutes))}分钟")
        else:
            reasons.append(f"{when}{kind.label}{thing}{int(count)}次")
    if learned is not None:
        return 100 * learned.probability(features(events, now, rules), None), reasons
    return 100 * (1 - math.exp(-total / rules.scale)), reasons


def score(
    events: Sequence[LeadEvent],
    now: datetime,
    rules: ScoreRules,
    channel_rate: float | None,
    learned: tuple[Learned, Learned] | None = None,
) -> LeadScore:
    """Behaviour and fit (the lead's channel: the share of its assigned leads that were won) in one score. By the
    admin's weights; or, once enough past leads were won or lost, by models learnt from them (``learned``: the
    behaviour-only one, then the one with the channel), whose scores are the chance of a win in per cent."""
    if learned is not None:
        alone, full = learned
        value, reasons = behaviour(events, now, rules, alone)
        combined = 100 * full.probability(features(events, now, rules), channel_rate)
        fit = [f"渠道历史成交率 {channel_rate:.0%}"] if channel_rate is not None else []
        return LeadScore(combined, value, channel_rate, [*reasons, *fit])
    value, reasons = behaviour(events, now, rules)
    if channel_rate is None:
        return LeadScore(value, value, None, reasons)
    combined = (1 - rules.fit_share) * value + rules.fit_share * 100 * channel_rate
    return LeadScore(combined, value, channel_rate, [*reasons, f"渠道历史成交率 {channel_rate:.0%}"])


@dataclass(frozen=True)
class Rep:
    id: str
    team: str | None
    level: Level
    load: int  # open customers and open leads now


@dataclass(frozen=True)
class Assignment:
    lead_id: int
    rep_id: str | None  # None: every rep is at the cap; the lead waits
    why: str


def assign(
    leads: Sequence[tuple[int, float]], reps: Sequence[Rep], *, top_band: float, cap: int, turn: int = 0
) -> tuple[list[Assignment], int]:
    """Leads (id, score) to reps, best first. A lead in the top band goes to the senior rep with the lightest load;
    the others go round-robin over the reps (in id order, from ``turn``, where the last run stopped). No rep gets
    more than ``cap`` open. Returns the assignments and the next turn."""
    load = {r.id: r.load for r in reps}
    ordered = sorted(reps, key=lambda r: r.id)
    seniors = [r for r in ordered if r.level is Level.SENIOR]
    out: list[Assignment] = []
    for lead_id, value in sorted(leads, key=lambda x: (-x[1], x[0])):
        chosen: Rep | None = None
        why = ""
        if value >= top_band:
            free = [r for r in seniors if load[r.id] < cap]
            if free:
                chosen = min(free, key=lambda r: (load[r.id], r.id))
                why = f"评分 {value:.0f},属于高分段,分给资深销售"
            elif seniors:
                why = "资深销售都已满额,"
        if chosen is None:
            for step in range(len(ordered)):
                candidate = ordered[(turn + step) % len(ordered)]
                if load[candidate.id] < cap:
                    chosen, turn = candidate, (turn + step + 1) % len(ordered)
                    why += f"评分 {value:.0f},按轮流分配"
                    break
        if chosen is None:
            out.append(Assignment(lead_id, None, f"所有销售在跟的客户都已到上限 {cap} 个,暂不分配"))
            continue
        load[chosen.id] += 1
        out.append(Assignment(lead_id, chosen.id, why))
    return out, turn
