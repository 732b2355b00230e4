"""From a rep's message to an intent and per-customer updates (the NLU contract; README「简报解析」)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Generic, Protocol, TypeVar
from zoneinfo import ZoneInfo

from nlu import facts
from nlu.customers import CustomerIndex, Mention, find_marked_new, find_org_like, prefer
from nlu.dates import DateHit, find_dates
from nlu.intents import command, is_chitchat, looks_like_business, query_kind, reports_event
from nlu.numbers import Amount, find_amounts
from nlu.quotes import asks_for_quote
from nlu.result import ParseResult, Update
from nlu.text import Span, clauses, normalize, segments, strip_marker

SHANGHAI = ZoneInfo("Asia/Shanghai")
_MASK = "#"
_PLAN_TODAY = re.compile(
    r"(?<!一)下午|晚上|今晚|晚些|晚点|待会|一会|稍后|准备|安排|计划|约了|打算|还得|还要|需要|得补|要"
)
_TIME_OFF = re.compile(r"放假|休假|休息|过节|过年|过元旦|假期|调休|不(?:去)?打扰|加班|加个班|值班")
_ACTION_FILLER = re.compile(
    r"^(?:[#\s]|那边|这边|方面|再|去|会|要|将|安排|进行|做|给|约了|约|准备|计划|打算|开始|就|还|也|都|一起|客户说|对方说|说)+"
)
_ACTION_TAIL = re.compile(r"(?:[#\s]|了|吧|哦|啊|的|预计|预期|大概|大约|估计|左右|之前|以前)+$")


class _Located(Protocol):
    @property
    def start(self) -> int: ...


T = TypeVar("T", bound=_Located)


class _Queue(Generic[T]):
    """Hits sorted by start, handed out clause by clause."""

    def __init__(self, items: list[T]) -> None:
        self.items = items
        self.next = 0

    def take(self, start: int, end: int) -> list[T]:
        while self.next < len(self.items) and self.items[self.next].start < start:
            self.next += 1  # in a separator or a list marker
        out: list[T] = []
        while self.next < len(self.items) and self.items[self.next].start < end:
            out.append(self.items[self.next])
            self.next += 1
        return out


@dataclass
class _Clause:
    text: str  # with customer names masked
    position: int
    dates: list[DateHit]
    signals: list[facts.StageSignal]
    amounts: list[tuple[int, float, bool]]
    confidence: str | None
    contact: str | None
    signs: bool
    sign_at: int = -1  # where the signing word stands, when the clause speaks of a signing
    header: bool = False  # said before any customer of the message was named


@dataclass
class _Customer:
    key: str
    mention: Mention
    clauses: list[_Clause] = field(default_factory=list)


class BriefParser:
    """Parses messages against one org's customers; build once, reuse for every message."""

    def __init__(self, customers: CustomerIndex | Iterable[str | tuple[str, Sequence[str]]]) -> None:
        self.index = customers if isinstance(customers, CustomerIndex) else CustomerIndex(customers)

    def parse(self, raw: str, now: datetime, *, quotes: bool = True) -> ParseResult:
        text = normalize(raw)
        today = (now if now.tzinfo else now.replace(tzinfo=SHANGHAI)).astimezone(SHANGHAI).date()
        if not text.strip():
            return ParseResult("chitchat")
        name = command(text)
        if name:
            return ParseResult("command", query=name)
        mentions = self._mentions(text)
        named = [m for m in mentions if m.names]  # known customers, resolved or not
        if quotes and asks_for_quote(
            text
        ):  # docs/nlu-quotes.md: the lines are read against the price list by the handler
            first = named[0].names if named else ()
            return ParseResult("quote", customer=first[0] if len(first) == 1 else None,
                               candidates=tuple(sorted(first)) if len(first) > 1 else (),
                               mention=named[0].text if named else "")  # fmt: skip
        customers = self._brief(text, mentions, today)
        kind = query_kind(text, names_customer=bool(named))
        reached = any(s.reached for c in customers for cl in c.clauses for s in cl.signals)
        if kind and not reached and not (named and reports_event(text)):
            first = named[0].names if named else ()
            return ParseResult(
                "query",
                query=kind,
                customer=first[0] if len(first) == 1 else None,
                candidates=tuple(sorted(first)) if len(first) > 1 else (),
            )
        if customers or looks_like_business(text):
            return ParseResult("brief", updates=[self._update(c, today) for c in customers])
        if is_chitchat(text) or not mentions:
            return ParseResult("chitchat")
        return ParseResult("brief", updates=[self._update(c, today) for c in customers])

    def named(self, raw: str) -> list[tuple[str, ...]]:
        """The known customers a text names, each as the names its words fit (one when resolved)."""
        return [m.names for m in self._mentions(normalize(raw)) if m.names]

    def _mentions(self, text: str) -> list[Mention]:
        boundaries = self.index.tokenizer.edges(text)
        found = self.index.find(text, boundaries)
        found += find_marked_new(text, [(m.start, m.end) for m in found])
        taken = [(m.start, m.end) for m in found]
        typos = self.index.find_typos(text, boundaries, taken)
        found += prefer(typos, find_org_like(text, taken, boundaries))
        return sorted(found, key=lambda m: m.start)

    def _brief(self, text: str, mentions: list[Mention], today: date) -> list[_Customer]:
        """Give each clause's facts to the customers it speaks of (the last ones named)."""
        chars = list(text)
        for m in mentions:
            chars[m.start : m.end] = _MASK * (m.end - m.start)
        masked = "".join(chars)  # names hidden, so that no name is read as a date or a stage
        # One pass per rule over the whole text, then each hit goes to the clause it starts in.
        mention_q = _Queue(sorted(mentions, key=lambda m: m.start))
        date_q = _Queue(find_dates(masked, today))
        amount_q = _Queue(find_amounts(masked))
        customers: dict[str, _Customer] = {}
        focus: list[_Customer] = []
        header: list[_Clause] = []  # said before any customer is named
        for segment in segments(masked):
            segment = strip_marker(segment)
            pending: list[_Clause] = []
            names_only = False  # the phrase before named customers and said nothing else
            dated_before = False
            for clause in clauses(segment):
                inside = mention_q.take(clause.start, clause.end)
                if inside:
                    if not customers:
                        header = pending  # before the first customer of the message
                    focus = focus if names_only else []  # "煦和 湘瑞 都演示完了": a list, then what holds for all
                    for m in inside:
                        key = m.names[0] if len(m.names) == 1 else m.text
                        customer = customers.setdefault(key, _Customer(key, m))
                        if customer not in focus:
                            focus.append(customer)
                    for c in focus:
                        c.clauses.extend(pending)
                    pending = []
                names_only = bool(inside) and not _NAMES_ONLY.sub("", clause.text)
                asked = masked[clause.end : clause.end + 3].lstrip().startswith("?")  # 签了? 凉了?
                analysed = self._clause(
                    clause,
                    date_q.take(clause.start, clause.end),
                    amount_q.take(clause.start, clause.end),
                    today,
                    asked=asked,
                    planned=dated_before,
                )
                if not customers:
                    analysed.header = True
                # "下季度 启动招标": a phrase that is only a day to come plans the phrase after it
                dated_before = (
                    _only_a_date(analysed) and any(h.value and h.value > today for h in analysed.dates)
                ) or (
                    dated_before and bool(_AFTER_WHEN.fullmatch(analysed.text.strip()))
                )  # "2/15 开工后 确认需求": the day carries through "after the holiday"
                if focus:
                    for c in focus:
                        c.clauses.append(analysed)
                else:
                    pending.append(analysed)
        found = list(customers.values())
        if len(found) > 1 and header:
            _share_header(found, header)
        return found

    @staticmethod
    def _clause(
        clause: Span, dates: list[DateHit], amounts: list[Amount], today: date, *, asked: bool, planned: bool
    ) -> _Clause:
        masked = clause.text
        offset = clause.start
        if facts.PAST_DEAL.search(masked):
            dates = find_dates(masked, today, past=True)  # 周五签的: the Friday before, not the next
        else:
            dates = [DateHit(h.start - offset, h.end - offset, h.value, h.deadline) for h in dates]
        # A step to come: a future day, or a deadline not yet past (月底前把报价发了 said on the 30th).
        future = [
            (h.start, h.end)
            for h in dates
            if h.value is not None and (h.value > today or (h.deadline and h.value == today))
        ]
        sign = facts.SIGN_WORDS.search(masked)
        signs = bool(sign) and not re.search(r"(?:没|未|不|还没)\S?$", masked[: sign.start()] if sign else "")
        signs = signs and not facts.NOT_CONTRACT.search(masked)  # 签了保密协议: no signing of the deal
        return _Clause(
            text=masked,
            position=offset,
            dates=dates,
            signals=facts.stage_signals(masked, True if planned else future, asked=asked),
            amounts=[(a.start, a.yuan, a.partial) for a in amounts],
            confidence=facts.confidence(masked),
            contact=facts.contact(masked),
            signs=signs,
            sign_at=sign.start() if sign else -1,
        )

    def _update(self, customer: _Customer, today: date) -> Update:
        m = customer.mention
        update = Update(
            customer=customer.key,
            is_new=m.is_new,
            candidates=m.names if len(m.names) > 1 else (),
            matched=m.how if m.how in ("typo", "new") else ("exact" if m.how == "exact" else "alias"),
            mention=m.text,
        )
        reached = [s.stage for cl in customer.clauses for s in cl.signals if s.reached]
        if facts.LOST in reached:
            update.stage = facts.LOST
        elif reached:
            update.stage = max(reached, key=lambda s: facts.RANK[s])
        amounts = [
            (cl.position, pos, yuan) for cl in customer.clauses for pos, yuan, partial in cl.amounts if not partial
        ]
        if amounts:
            update.amount = max(amounts)[2]
        for cl in customer.clauses:
            update.confidence = cl.confidence or update.confidence
            update.contact = update.contact or cl.contact
        self._dates(update, customer.clauses, today)
        return update

    @staticmethod
    def _dates(update: Update, clauses_: list[_Clause], today: date) -> None:
        closes: list[date] = []
        actions: list[tuple[date, _Clause, DateHit]] = []
        won_on: date | None = None
        previous_signs = False
        for i, cl in enumerate(clauses_):
            near = _step_beside(clauses_, i)
            # "还没签,预计下月中旬": a clause with nothing but a date continues the signing before it
            following = clauses_[i + 1] if i + 1 < len(clauses_) else None
            signs = cl.signs or (_only_a_date(cl) and (previous_signs or bool(following and following.signs)))
            previous_signs = bool(facts.SIGN_WORDS.search(cl.text))  # 还没签 too: the date that follows is when
            signing = _signing_date(cl) if cl.signs else None
            for hit in cl.dates:
                if hit.value is None:
                    continue
                if signs and (signing is None or hit is signing):
                    if any(s.stage == facts.WON and s.reached for s in cl.signals) and hit.value <= today:
                        won_on = min(won_on or hit.value, hit.value)  # 上周五中标, 今天拿到通知书: Friday
                    else:
                        closes.append(hit.value)
                elif _TIME_OFF.search(cl.text):
                    continue  # 明天过元旦, 周末休息: a day off, not a step with the customer
                elif _no_step(cl, hit) and near is None:
                    continue  # 明天中秋了: a day, and nothing to do on it
                elif cl.header and not _STEP_VERB.search(cl.text) and near is None:
                    continue  # 节后第一天, 周末也不消停: the report's day, not a step
                elif hit.value > today or (hit.value == today and _planned_today(cl, hit)):
                    actions.append((hit.value, cl, hit))
        if update.stage == facts.WON:
            update.expected_close = won_on or today
        elif update.stage != facts.LOST and closes:
            update.expected_close = closes[-1]
        if actions:
            day, clause, hit = min(actions, key=lambda a: a[0])
            update.next_action_date = day
            update.next_action = _action_text(clause.text, hit)
            at = clauses_.index(clause)
            if not update.next_action or _only_a_date(clause):
                beside = _step_beside(clauses_, at)  # "5/12 去做汇报", "follow up 下周二"
                update.next_action = _action_text(beside.text, None) if beside is not None else None
            elif _MOVE_ONLY.fullmatch(update.next_action) and at + 1 < len(clauses_) and not clauses_[at + 1].dates:
                # "春节后上门 聊年框": the visit is for what comes next
                update.next_action = f"{update.next_action} {_action_text(clauses_[at + 1].text, None) or ''}".strip()
            elif (
                (_GENERIC_STEP.fullmatch(update.next_action) or len(update.next_action) < 2)
                and at > 0
                and not clauses_[at - 1].dates
            ):
                # "客户要做POC 两周后开始": the step is named in the phrase before
                update.next_action = _action_text(clauses_[at - 1].text + update.next_action, None)
        else:
            update.next_action = _undated_step(clauses_)


_TODAY_WORDS = re.compile(r"今天|今日|当天|今儿")


_WEEK_WORDS = re.compile(r"周末|本周|这周|礼拜|星期|月中|月底|月末|月初|中旬|下旬|上旬|\d+\s*[号日]")


def _planned_today(clause: _Clause, hit: DateHit) -> bool:
    """A step for today: 今晚, 待会, or a week word that falls on today (这周末 said on Saturday); nothing done (了)."""
    if hit.deadline:
        return True  # 月底前把报价发了, said on the 30th
    if "了" in clause.text[hit.end :]:
        return False
    return bool(_WEEK_WORDS.search(clause.text[hit.start : hit.end]) or _PLAN_TODAY.search(clause.text))


_NO_STEP = re.compile(r"[#\s了吧啊呀哦，,。!！]|元旦|春节|过年|五一|劳动节|端午|中秋|国庆|清明|节|就是|又是|是")


def _no_step(clause: _Clause, hit: DateHit) -> bool:
    rest = clause.text[: hit.start] + clause.text[hit.end :]
    return not _NO_STEP.sub("", rest)


_NAMES_ONLY = re.compile(r"[#\s和跟与及还有以及、/]|那边|这边|那家|两家|三家|几家")


def _share_header(customers: list[_Customer], header: list[_Clause]) -> None:
    """A header over a list of customers ("今天成交俩：A …；B …", "五一前最后冲一下 1. …").

    What it says was reached holds for each of them; its dates are the report's, not a step's.
    """
    undated = [replace(cl, dates=[]) for cl in header]
    reached = [cl for cl in undated if any(s.reached for s in cl.signals)]
    for c in customers:
        c.clauses = [cl for cl in c.clauses if all(cl is not h for h in header)]
        c.clauses[:0] = reached if c is not customers[0] else undated


def _signing_date(clause: _Clause) -> DateHit | None:
    """Of a signing clause's dates, the one that says when: the last before the word, else the first after.

    "这周末去做POC 预计年底签约": 年底 is the signing; the weekend is a step.
    """
    dated = [h for h in clause.dates if h.value is not None]
    before = [h for h in dated if h.start < clause.sign_at]
    if before:
        return before[-1]
    return dated[0] if dated else None


_DATE_ONLY_FILLER = re.compile(r"[#\s]|预计|预期|大概|大约|应该|估计|争取|能|可以|会|在|就|吧|左右|之前|以前|前")


def _only_a_date(clause: _Clause) -> bool:
    text = clause.text
    for hit in sorted(clause.dates, key=lambda h: h.start, reverse=True):
        text = text[: hit.start] + text[hit.end :]
    return bool(clause.dates) and not _DATE_ONLY_FILLER.sub("", text)


_AFTER_WHEN = re.compile(r"[\u4e00-\u9fff]{1,4}(?:后|之后|以后|的时候|前)")
_MOVE_ONLY = re.compile(r"上门|过去|去|来|拜访|过来|见面|跑一趟|走一趟")
_GENERIC_STEP = re.compile(r"开始|启动|进行|安排|执行|落实|推进|弄|搞|做|开干|开搞")
_NEXT_STEP = re.compile(r"下一步(?:是|要|就是|准备|计划)?")
_STEP_VERB = re.compile(
    r"出|发|做|给|报|约|安排|演示|拜访|上门|谈|签|回复|答复|反馈|汇报|交流|沟通|提交|准备|试用|测试|对接|跟进|联系|电话|回访|见面|"
    r"打|跟|催|送|寄|kickoff|kick-off|demo|POC|meeting|call|follow",
    re.IGNORECASE,
)


def _step_beside(clauses_: list[_Clause], at: int) -> _Clause | None:
    """For a phrase that is only a date: the step said right after it (past a lone 去 or a name), else before it."""
    if not _only_a_date(clauses_[at]):
        return None
    order: list[int] = [*range(at + 1, min(at + 4, len(clauses_))), at - 1]
    for j in order:
        if not 0 <= j < len(clauses_) or clauses_[j].dates:
            if j > at:
                break
            continue
        near: _Clause = clauses_[j]
        if len(_NAMES_ONLY.sub("", near.text)) >= 2 and not facts.SIGN_WORDS.search(near.text):
            return near
    return None


def _undated_step(clauses_: list[_Clause]) -> str | None:
    """A step planned without a day: 下一步商务谈判, 尽快出个报价."""
    for cl in clauses_:
        step = _NEXT_STEP.search(cl.text)
        if step:
            return _action_text(cl.text[step.end() :], None)
        vague = [h for h in cl.dates if h.value is None]
        if vague and _STEP_VERB.search(cl.text) and not facts.SIGN_WORDS.search(cl.text):
            return _action_text(cl.text, vague[0])
    return None


def _action_text(clause: str, hit: DateHit | None) -> str | None:
    cut = (clause[: hit.start] + " " + clause[hit.end :]) if hit else clause
    text = _ACTION_TAIL.sub("", cut.strip()).strip(" #")
    core = _ACTION_FILLER.sub("", text).strip()
    if not _STEP_VERB.search(core) and _STEP_VERB.search(text):
        core = text.lstrip("# ")  # 约老板: the verb is the step
    return (core if len(core) >= 2 else text)[
        :60
    ] or None  # "再打" stays "再打" rather than "打"  # "再约" stays "再约" rather than nothing
