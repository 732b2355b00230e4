"""What worked on similar customers that were won, and what killed those that were lost."""

from __future__ import annotations

import dataclasses
import itertools
import re
import statistics
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from recommender.history import History
from recommender.moves import MinedMove, best_fragment, mine_moves, worded
from recommender.similarity import stage_days
from sales.calendar import WorkCalendar
from sales.stages import OPEN_STAGES, Stage

MIN_WON = 3  # fewer similar won customers than this: say so instead of advising
ACTIONS = {
    "POC验证": ("POC", "试点", "试用"),
    "高层拜访": ("高层拜访", "总经理亲自", "老板亲自"),
    "案例参观": ("案例参观", "参观了", "上线案例"),
    "技术交流会": ("技术交流",),
    "驻场培训": ("驻场培训", "培训"),
}
OBJECTIONS = {
    "价格": ("价格偏高", "嫌贵", "价格高", "太贵"),
    "实施周期": ("实施周期",),
    "合规审核": ("合规", "审核严格"),
    "系统对接": ("对接难", "系统对接"),
    "使用门槛": ("不会用",),
}
LOSS_WORDS = {"价格": ("价格", "便宜"), "竞品": ("竞品", "别家", "友商"), "预算冻结": ("预算冻结",),
              "项目取消": ("项目取消", "取消了"), "没有需求": ("不采购", "没有需求")}  # fmt: skip
_ANSWER = re.compile(r"我们([^。;;!!\n]{2,30})")


@dataclass
class Suggestion:
    text: str
    evidence: str
    move: MinedMove | None = None  # a move mined from the notes, with its counts and timing


@dataclass
class Strategy:
    won: int
    lost: int
    suggestions: list[Suggestion] = field(default_factory=list)
    interval: str | None = None
    enough: bool = True


def _share(n: int, total: int) -> str:
    return f"{total} 个相似的已成交客户中有 {n} 个"


def _leans(move: MinedMove) -> bool:
    """A built-in move worth suggesting: four in ten of (enough) won deals made it, more often than the lost ones."""
    if move.won < MIN_WON:
        return False
    return move.won_with / move.won >= 0.4 and (not move.lost or move.won_with / move.won > move.lost_with / move.lost)


def _known(move: MinedMove) -> str | None:
    """The known move most of the mined move's notes name (half of them at least), if any."""
    named = Counter(
        label for text in move.wordings for label, words in ACTIONS.items() if any(w in text for w in words)
    )
    label, count = named.most_common(1)[0] if named else (None, 0)
    return label if label is not None and count * 2 >= len(move.wordings) else None


def _suggest(
    move: MinedMove, label: str, quotable: Callable[[int], bool], *, known: bool, names: Iterable[str] = ()
) -> Suggestion:
    """A move with who did it, when, and (mined) what the lost deals did instead; one the known list names is put
    as the known moves are (安排…), one learnt from the notes in the reps' words."""
    mine = [(text, deal) for text, deal in zip(move.wordings, move.sources, strict=True) if quotable(deal)]
    # the reps' words only from customers the asker may see, in the chat and in the JSON alike
    seen = {text.strip() for text, _ in mine}
    instead = move.instead_source is not None and quotable(move.instead_source)
    move = dataclasses.replace(move, examples=tuple(t for t in move.examples if t in seen),
                               wordings=tuple(t for t, _ in mine), sources=tuple(d for _, d in mine),
                               lost_instead=move.lost_instead if instead else None)  # fmt: skip
    if not known and not any(label in text for text, _ in mine):
        # the name is a piece of notes the asker may not see: named from those they may, or plainly
        label = best_fragment([text for text, _ in mine], names=names) or "这一步"
        move = dataclasses.replace(move, name=label)
    example = mine[0][0] if mine else ""
    example = example if len(example) <= 24 else example[:23] + "…"
    when = ""
    if move.stage is not None:
        when = f",多在{move.stage.label}阶段" + ("推进时" if move.moving_on else "")
        when += f"、进入后约 {move.days} 个工作日" if move.days is not None else ""
    if not move.lost:
        lost_part = ""
    else:
        lost_part = f";到过这一阶段的流失客户 {move.lost} 个中 {move.lost_with} 个"
    head = f"安排{label}" if known else f"试试「{label}」"
    shown = f"(如:{example})" if example else ""
    share = f"{move.won} 个可比的已成交客户中有 {move.won_with} 个"  # the wider set: same industry, not the 30 nearest
    return Suggestion(f"{head}{shown}", f"{share}这样做{when}{lost_part}", move)


def _quick_quote(h: History, calendar: WorkCalendar, tz: ZoneInfo) -> bool:
    demo = next((at for s, at in h.path if s is Stage.DEMO), None)
    quote = next((at for s, at in h.path if s is Stage.NEGOTIATION), None)
    if demo is None or quote is None:
        return False
    return calendar.workdays_after(demo.astimezone(tz).date(), quote.astimezone(tz).date()) <= 3


def _quick(won: list[History], lost: list[History], calendar: WorkCalendar, tz: ZoneInfo) -> MinedMove:
    """A quote within three working days of the demo, with its evidence as a move's."""
    quick = [h for h in won if _quick_quote(h, calendar, tz)]
    spans = []
    for h in quick:
        demo = next(at for s, at in h.path if s is Stage.DEMO)
        quote = next(at for s, at in h.path if s is Stage.NEGOTIATION)
        spans.append(calendar.workdays_after(demo.astimezone(tz).date(), quote.astimezone(tz).date()))
    compared = [h for h in lost if any(s is Stage.DEMO for s, _ in h.path)]  # those that got to a demo
    lost_with = sum(_quick_quote(h, calendar, tz) for h in compared)
    days = round(statistics.median(spans)) if spans else None
    return MinedMove("演示后三天内报价", (), (), (), len(quick), len(won), lost_with, len(compared), Stage.DEMO, days,
                     None, moving_on=True)  # fmt: skip


def _gaps(h: History, calendar: WorkCalendar, tz: ZoneInfo) -> list[int]:
    days = sorted({at.astimezone(tz).date() for at, _ in h.notes})
    return [calendar.workdays_after(a, b) for a, b in itertools.pairwise(days) if b > a]


def plan(
    won: list[History],
    lost: list[History],
    calendar: WorkCalendar,
    tz: ZoneInfo,
    today: date,
    quotable: Callable[[int], bool] = lambda _customer_id: True,
    mine_from: tuple[list[History], list[History]] | None = None,
    mined: list[MinedMove] | None = None,
) -> Strategy:
    """Three to five concrete suggestions with their evidence, or a plain "not enough history". Moves are weighed
    over ``mine_from`` (more comparable won and lost deals; ``won`` and ``lost`` when not given), mined from it unless
    they come as ``mined``. A rep's words are shown only from a customer ``quotable`` allows (one the asker may see)."""
    strategy = Strategy(len(won), len(lost))
    if len(won) < MIN_WON:
        strategy.enough = False
        return strategy
    n = len(won)
    # the path and its pace
    medians = []
    for stage in OPEN_STAGES[1:]:
        spans = [stage_days(h, calendar, tz, today).get(stage.value) for h in won]
        values = [v for v in spans if v is not None]
        if values:
            medians.append(f"{stage.label}约 {statistics.median(values):.0f} 个工作日")
    if medians:
        strategy.suggestions.append(Suggestion(
            "按这个节奏推进:" + " → ".join(medians) + "(中位数)", f"来自 {n} 个相似的已成交客户"))  # fmt: skip
    # the moves that came before winning, most common first, compared with the lost: mined from the notes, and
    # the known ones (which name a mined move that is one of them)
    # every move over the same deals (the comparable ones), so that their shares can be ranked against each other
    compared = mine_from or (won, lost)
    moves: list[tuple[MinedMove, str, bool]] = []  # (move, label, mined): a mined move the known list names is it
    labels: set[str] = set()
    for move in mined if mined is not None else mine_moves(*compared, calendar, tz):
        label = _known(move) or move.name
        if label not in labels:  # a known move found in two stages is suggested once
            labels.add(label)
            moves.append((move, label, True))
    for label, words in ACTIONS.items():
        if label in labels:
            continue
        move = worded(label, words, *compared, calendar, tz)
        if _leans(move):
            moves.append((move, label, False))
    quick = _quick(*compared, calendar, tz)
    if _leans(quick):
        moves.append((quick, quick.name, False))
    ranked = sorted(moves, key=lambda m: (-m[0].won_with / max(m[0].won, 1), m[0].lost_with / max(m[0].lost, 1), m[1]))
    names = [n for h in (*compared[0], *compared[1]) for n in (h.customer.name, *h.customer.aliases)]
    for move, label, learnt in ranked[:2]:
        strategy.suggestions.append(_suggest(move, label, quotable, known=label in ACTIONS or not learnt, names=names))
    # objections met, and how the winners answered them
    seen: Counter[str] = Counter()
    answers: dict[str, Counter[str]] = {}
    for h in won:
        for label, words in OBJECTIONS.items():
            hits = [t for _, t in h.notes if any(w in t for w in words)]
            if hits:
                seen[label] += 1
                if not quotable(h.id):
                    continue  # counted, but a rep's answer is quoted only from a customer the asker may see
                for text in hits:
                    m = _ANSWER.search(text.replace(h.customer.name, "客户"))
                    if m:
                        answers.setdefault(label, Counter())[m.group(1)] += 1
    for label, count in seen.most_common(1):
        how = answers.get(label)
        if how:
            reply = how.most_common(1)[0][0]
            strategy.suggestions.append(
                Suggestion(f"客户担心「{label}」时:{reply}", f"{_share(count, n)}遇到过这个顾虑")
            )
    # what killed the lost ones, and where
    if lost:
        reasons: Counter[tuple[str, str]] = Counter()
        for h in lost:
            text = (h.customer.lost_reason or "") + " " + " ".join(t for _, t in h.notes[-2:])
            reason = next((r for r, words in LOSS_WORDS.items() if any(w in text for w in words)), None)
            if reason:
                reasons[(reason, h.reached.label)] += 1
        if reasons:
            (reason, where), count = reasons.most_common(1)[0]
            evidence = f"{len(lost)} 个相似的流失客户中有 {count} 个因此丢单"
            strategy.suggestions.append(Suggestion(f"提前防范「{reason}」风险,尤其在{where}阶段", evidence))
    # how often to follow up
    won_gaps = [g for h in won for g in _gaps(h, calendar, tz)]
    lost_gaps = [g for h in lost for g in _gaps(h, calendar, tz)]
    if won_gaps:
        aim = statistics.median(won_gaps)
        other = f",流失的中位 {statistics.median(lost_gaps):.0f} 天" if lost_gaps else ""
        strategy.interval = f"约每 {max(1, round(aim))} 个工作日跟进一次(成交的中位 {aim:.0f} 天{other})"
    strategy.suggestions = strategy.suggestions[:5]
    return strategy
