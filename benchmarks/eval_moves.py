"""Does the recommender name a winning move it was never told about? (issue 19, point 5)

Run: python benchmarks/eval_moves.py [--seed 19] [--customers 540]

Generates a sales history in six segments (industry, regions, size). In each segment won deals
did one planted move before advancing from one particular stage, some working days after entering
it; lost deals mostly did not. None of the moves is in the recommender's built-in word list, and
each is written in at least five wordings, as reps write notes. Filler actions and one decoy
(festival gifts) are done by won and lost deals alike and must not be named as moves.

For each query (open customers, about 20 per segment) it prints:
  hit@5    share of the top 5 similar customers from the query's own segment;
  planted  share of queries whose suggestions name the segment's planted move;
  other    share of queries whose suggestions name another segment's planted move;
  unplanted share of queries with a move mined from the notes that is no planted move (filler, decoy;
           for information, not judged);
  decoy    share of queries whose suggestions name the decoy (for information, not judged).
Targets (issue 19): planted ≥ 0.8, other ≤ 0.1, hit@5 ≥ 0.9. A recommender that only knows a fixed
word list is expected to MISS on planted: the evaluation is written to be able to fail.

A suggestion names a move when any of its text fields contains one of the move's key terms. The key
terms are the words any sensible name drawn from the notes would keep (立项/汇报 for the move "help
write the approval paper", 饭/早茶 for the dinner move...). At start the script checks that every
wording holds a key term of its own move and that no key term occurs in another move's wordings,
the filler, the decoy or the stage names. A control run, with the planted notes removed, checks that
no key term comes from the suggestion templates themselves. Training (培训) and on-site work (驻场)
are not used as moves: today's suggestions already name 驻场培训; nor is 竞品 a key term: it is a
lost-reason label.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from recommender.embeddings import TfidfEmbedder  # noqa: E402
from recommender.history import History, build  # noqa: E402
from recommender.service import MINE_FROM, NEIGHBOURS, sides  # noqa: E402
from recommender.similarity import SimilarityIndex  # noqa: E402
from recommender.strategy import Strategy, plan  # noqa: E402
from sales.calendar import WorkCalendar  # noqa: E402
from sales.model import Customer, Employee, StageChange  # noqa: E402
from sales.stages import OPEN_STAGES, Stage  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 11, 26)
TARGET_HIT, TARGET_PLANTED, TARGET_OTHER = 0.9, 0.8, 0.1
QUERIES_PER_SEGMENT = 20
WON_DID_MOVE, LOST_DID_MOVE, OPEN_DID_MOVE = 0.9, 0.07, 0.5
DECOY_RATE = 0.6  # the same for won, lost and open: it says nothing about winning


@dataclass(frozen=True)
class Move:
    """An action reps take, its key terms (what any name for it keeps) and how notes word it."""

    name: str
    terms: tuple[str, ...]
    wordings: tuple[str, ...]


@dataclass(frozen=True)
class Segment:
    industry: str
    regions: tuple[str, ...]
    size: str
    move: Move
    stage: Stage  # won deals did the move before advancing from this stage
    after: int  # ... this many working days after entering it (plus 0-1 of jitter)
    win_rate: float

    @property
    def label(self) -> str:
        return f"{self.industry}·{'/'.join(self.regions)}·{self.size}"


# Moves outside the built-in list; no wording uses 案例参观/参观/上线案例/报价/方案/演示/试用/高层/拜访/招标.
APPROVAL = Move(
    "帮写立项材料",
    ("立项", "汇报", "申请"),
    ("帮对方写了立项报告", "替他们IT经理准备了给老板汇报的PPT", "帮客户起草了内部采购申请",
     "把立项材料给他们弄好了,对方直接往上报", "陪对方一起改了汇报稿,改到晚上十点"),
)  # fmt: skip
DINNER = Move(
    "请老板吃饭",
    ("饭", "早茶", "宴请"),
    ("晚上请对方老板吃了顿饭", "约了王总一起吃饭,聊得挺透", "组了个饭局,采购和老板都来了",
     "请客户老板喝了个早茶", "请他们领导吃了个便饭", "宴请了对方董事长,酒喝了不少"),
)  # fmt: skip
COMPARISON = Move(
    "做对比表",
    ("对比", "友商", "优劣"),
    ("把我们和X家的对比表发给了对方", "整理了一份跟友商的功能清单给客户比", "做了张对比表,逐项比了三家的功能",
     "给客户做了份友商分析,列了优劣势", "跟对方技术一条条对比了我们和A家的差别"),
)  # fmt: skip
PAYMENT = Move(
    "放宽付款条件",
    ("账期", "付款", "分期"),
    ("同意他们分期,三期付清", "账期放宽到90天", "答应先付三成,剩下验收后再付款", "把付款方式改成按季度付",
     "给了半年账期,对方财务很满意"),
)  # fmt: skip
SAMPLES = Move(
    "送样品测试",
    ("样品", "样机", "样件"),
    ("寄了一批样品过去让他们测", "送了两台样机给客户,先用着看", "给对方备了样品,拿回去测一测",
     "样品已经送到他们仓库,让一线自己测", "打包了一箱样件给采购,测完再说"),
)  # fmt: skip
SALON = Move(
    "做行业沙龙",
    ("沙龙", "闭门会", "分享会", "论坛"),
    ("办了场行业沙龙,请他们来听", "组织了一次同行沙龙,对方来了三个人", "拉对方参加了我们的行业闭门会",
     "请客户来听了我们办的分享会", "搞了个小论坛,邀了他们信息中心主任"),
)  # fmt: skip
# Done by won and lost deals alike: a miner that reads only won deals would name it.
DECOY = Move(
    "节日送礼",
    ("礼", "月饼", "粽子", "水果", "土特产"),
    ("中秋给对方寄了月饼", "过节送了两箱水果", "给采购带了点土特产", "端午送了粽子礼盒", "年前给他们送了礼品卡"),
)

SEGMENTS = [
    Segment("制造", ("苏州", "无锡", "常州"), "中型", APPROVAL, Stage.DEMO, 2, 0.45),
    Segment("物流", ("广州", "深圳", "东莞"), "大型", DINNER, Stage.DEMO, 3, 0.4),
    Segment("医药", ("杭州", "宁波", "绍兴"), "大型", COMPARISON, Stage.QUALIFIED, 2, 0.45),
    Segment("建材", ("合肥", "南京", "芜湖"), "中型", PAYMENT, Stage.NEGOTIATION, 2, 0.5),
    Segment("零售", ("成都", "重庆", "绵阳"), "小型", SAMPLES, Stage.DEMO, 1, 0.5),
    Segment("教育", ("北京", "天津", "石家庄"), "中型", SALON, Stage.INITIAL, 4, 0.45),
]
SOURCES = ["转介绍", "老客户", "官网", "展会", "电话开发"]
# Common to won and lost deals at similar rates; never a move.
FILLER = ["电话跟进了一下,对方说在走流程", "发了产品资料过去", "微信上聊了几句,问了下进度", "回答了几个技术问题",
          "对方在内部讨论,等消息", "约了下周再聊", "又打电话催了一下", "把资料补发了一份",
          "加了对方采购的微信"]  # fmt: skip
PREFIXES = ["", "", "今天", "上午", "下午", "这周", "昨天"]
SUFFIXES = ["", "", ",客户反馈不错", ",对方态度还行", ",下周再跟", ",看后续"]
LOST_REASONS = ["客户最后选了别家", "预算冻结了,项目黄了", "对方嫌价格高,不做了", "项目暂停了"]
WON_NOTES = ["合同签了", "签约完成,等回款"]


def check_terms() -> None:
    """Fail loudly if a key term could be matched by anything but its own move's notes."""
    moves = [s.move for s in SEGMENTS] + [DECOY]
    for move in moves:
        for wording in move.wordings:
            assert any(t in wording for t in move.terms), f"{wording!r} holds no key term of {move.name}"
        assert len(set(move.wordings)) >= 5, f"{move.name}: fewer than five wordings"
    common = [*FILLER, *PREFIXES, *SUFFIXES, *LOST_REASONS, *WON_NOTES, *SOURCES, "新客户,来的,有意向"]
    common += [s.label for s in SEGMENTS] + [s.label for s in Stage]
    for move in moves:
        others = [w for m in moves if m is not move for w in m.wordings]
        for term in move.terms:
            clash = [text for text in others + common if term in text]
            assert not clash, f"key term {term!r} of {move.name} also in {clash}"


def display(text: str, width: int) -> str:
    """Pad to a display width: Chinese characters take two columns."""
    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(0, width - used)


def generate(count: int, rng: random.Random, calendar: WorkCalendar) -> tuple[list[History], dict[int, int]]:
    """Histories with a planted winning move per segment; the segment of each customer."""
    customers: list[Customer] = []
    changes: list[StageChange] = []
    texts: list[tuple[int, datetime, str]] = []
    segment_of: dict[int, int] = {}

    def workday_at(day: date, hour: int) -> datetime:
        return datetime.combine(day, time(hour, rng.randint(0, 59)), tzinfo=TZ)

    def later(day: date, workdays: int) -> date:
        for _ in range(workdays):
            day = calendar.next_workday(day)
        return day

    def worded(wording: str) -> str:
        return f"{rng.choice(PREFIXES)}{wording}{rng.choice(SUFFIXES)}"

    for n in range(count):
        cid = n + 1
        seg = SEGMENTS[n % len(SEGMENTS)]
        closed = rng.random() < 0.7
        win = closed and rng.random() < seg.win_rate
        lost_at = rng.choice(OPEN_STAGES[1:]) if closed and not win else None
        source = rng.choice(SOURCES)
        day = later(date(2026, 3, 2), rng.randint(0, 100))
        created = workday_at(day, 9)
        path: list[tuple[Stage, datetime]] = []
        notes: list[tuple[datetime, str]] = [(created, f"新客户,{source}来的,有意向")]
        decoy_stage = rng.choice(OPEN_STAGES) if rng.random() < DECOY_RATE else None
        for i, stage in enumerate(OPEN_STAGES):
            entered = created if i == 0 else workday_at(day, 10)
            path.append((stage, entered))
            current = not closed and (i == len(OPEN_STAGES) - 1 or rng.random() < 0.35)
            move_day = later(day, seg.after + rng.randint(0, 1))
            length = (seg.after + 2 + rng.randint(0, 5)) if stage is seg.stage else rng.randint(3, 10)
            end = later(day, length)
            if current:  # open: the rest of this stage is still ahead, up to today at most
                end = min(end, TODAY - timedelta(days=1))
            for _ in range(rng.randint(1, 2)):
                note_day = later(day, rng.randint(1, max(1, length - 1)))
                if note_day <= end:
                    notes.append((workday_at(note_day, 15), worded(rng.choice(FILLER))))
            if stage is decoy_stage and later(day, 1) <= end:
                notes.append((workday_at(later(day, 1), 16), worded(rng.choice(DECOY.wordings))))
            if stage is seg.stage and move_day < end:
                did = WON_DID_MOVE if win else LOST_DID_MOVE if closed else OPEN_DID_MOVE
                if rng.random() < did:
                    notes.append((workday_at(move_day, 14), worded(rng.choice(seg.move.wordings))))
                else:  # something else at that point instead
                    notes.append((workday_at(move_day, 14), worded(rng.choice(FILLER))))
            day = end
            if current:
                break
            if stage is lost_at:
                path.append((Stage.LOST, workday_at(day, 11)))
                notes.append((path[-1][1], rng.choice(LOST_REASONS)))
                break
        else:
            if win:
                path.append((Stage.WON, workday_at(day, 11)))
                notes.append((path[-1][1], rng.choice(WON_NOTES)))
        last_stage, last_at = path[-1]
        customers.append(
            Customer(
                name=f"{seg.regions[n % len(seg.regions)]}评估{cid:05d}{seg.industry}",
                owner_id=f"E{rng.randrange(20)}",
                stage=last_stage,
                stage_entered_at=last_at,
                created_at=created,
                id=cid,
                industry=seg.industry,
                region=seg.regions[n % len(seg.regions)],
                size=seg.size,
                source=source,
                closed_at=last_at if last_stage.is_closed else None,
            )
        )
        before: list[Stage | None] = [None, *(s for s, _ in path[:-1])]
        changes += [StageChange(cid, prev, s, t) for (s, t), prev in zip(path, before, strict=True)]
        texts += [(cid, t, x) for t, x in notes]
        segment_of[cid] = n % len(SEGMENTS)
    employees = [Employee(id=f"E{i}", name=f"销售{i}", team=f"T{i % 4}") for i in range(20)]
    return build(customers, changes, texts, employees), segment_of


def suggestion_text(strategy: Strategy) -> str:
    """Every text field of every suggestion, so a move named only in the evidence still counts."""
    parts: list[str] = []
    for suggestion in strategy.suggestions:
        for f in fields(suggestion):
            value = getattr(suggestion, f.name)
            if isinstance(value, str):
                parts.append(value)
    return "\n".join(parts)


def names(text: str, move: Move) -> bool:
    return any(term in text for term in move.terms)


def strategy_for(index: SimilarityIndex, customer_id: int, calendar: WorkCalendar) -> Strategy:
    """As the recommender asks it (``Recommender.recommend``): the 30 nearest closed customers, split into won and
    lost, and the comparable set (same industry) the moves are weighed over."""
    nearest = sides(index.similar(customer_id, NEIGHBOURS, closed_only=True))
    return plan(*nearest, calendar, TZ, TODAY, mine_from=sides(index.comparable(customer_id, NEIGHBOURS, MINE_FROM)))


class Planted(Protocol):
    """A segment of a generated history: its label and the move its won deals made."""

    @property
    def label(self) -> str: ...

    @property
    def move(self) -> Move: ...


def without_moves(h: History, segments: Sequence[Planted]) -> History:
    notes = [(t, x) for t, x in h.notes if not any(names(x, s.move) for s in segments)]
    return History(h.customer, h.team, h.path, notes)


def evaluate(
    histories: list[History],
    segment_of: dict[int, int],
    segments: Sequence[Planted],
    decoys: Sequence[tuple[str, Move]],
    rng: random.Random,
    calendar: WorkCalendar,
    *,
    width: int,
    decoy_width: int,
    decoy_note: str,
) -> None:
    """Query each segment's open customers and print the table: hit@5, planted, other and the decoys' shares per
    segment, the means, and the control run without the planted notes (shared with the held-out twin)."""
    index = SimilarityIndex(histories, TfidfEmbedder(), calendar, TZ, TODAY)
    header = f"{display('segment', width)}{display('move', 12)}{'queries':>8}{'hit@5':>7}{'planted':>9}{'other':>7}"
    header += f"{'unplanted':>10}"
    print(header + "".join(f"{name:>{decoy_width}}" for name, _ in decoys) + "  verdict")
    rows: list[tuple[float, float, float]] = []
    control_named = control_total = 0
    for s, seg in enumerate(segments):
        open_ids = [h.id for h in histories if h.outcome == "open" and segment_of[h.id] == s]
        queries = rng.sample(open_ids, min(QUERIES_PER_SEGMENT, len(open_ids)))
        if not queries:
            print(f"{display(seg.label, width)}{display(seg.move.name, 12)}{0:>8}  no open customers")
            continue
        others = [o.move for o in segments if o is not seg]
        hits: list[float] = []
        planted: list[bool] = []
        other: list[bool] = []
        decoyed: list[list[bool]] = [[] for _ in decoys]
        unplanted: list[bool] = []  # a move mined from the notes that is no planted move at all (filler, decoy)
        for q in queries:
            top = index.similar(q, 5)
            hits.append(sum(segment_of[n.history.id] == s for n in top) / 5)
            strategy = strategy_for(index, q, calendar)
            text = suggestion_text(strategy)
            mined = [" ".join([x.text, x.evidence, *x.move.wordings]) for x in strategy.suggestions if x.move]
            unplanted.append(any(not any(names(m, o.move) for o in segments) for m in mined))
            planted.append(names(text, seg.move))
            other.append(any(names(text, m) for m in others))
            for shares, (_, decoy) in zip(decoyed, decoys, strict=True):
                shares.append(names(text, decoy))
        neighbours = index.similar(queries[0], 30, closed_only=True)
        control = plan([without_moves(n.history, segments) for n in neighbours if n.history.outcome == "won"],
                       [without_moves(n.history, segments) for n in neighbours if n.history.outcome == "lost"],
                       calendar, TZ, TODAY)  # fmt: skip
        control_total += 1
        control_named += any(names(suggestion_text(control), o.move) for o in segments)
        row = (statistics.mean(hits), statistics.mean(planted), statistics.mean(other))
        rows.append(row)
        missed = [name for name, ok in (("hit@5", row[0] >= TARGET_HIT), ("planted", row[1] >= TARGET_PLANTED),
                                        ("other", row[2] <= TARGET_OTHER)) if not ok]  # fmt: skip
        verdict = "ok" if not missed else f"MISS ({', '.join(missed)})"
        decoy_cells = "".join(f"{statistics.mean(shares):>{decoy_width}.2f}" for shares in decoyed)
        print(f"{display(seg.label, width)}{display(seg.move.name, 12)}{len(queries):>8}{row[0]:>7.2f}{row[1]:>9.2f}"
              f"{row[2]:>7.2f}{statistics.mean(unplanted):>10.2f}{decoy_cells}  {verdict}")  # fmt: skip
    if rows:
        means = [statistics.mean(r[i] for r in rows) for i in range(3)]
        ok = sum(r[0] >= TARGET_HIT and r[1] >= TARGET_PLANTED and r[2] <= TARGET_OTHER for r in rows)
        print(f"{display('mean over segments', width + 12)}{'':>8}{means[0]:>7.2f}{means[1]:>9.2f}{means[2]:>7.2f}"
              f"{'':>{decoy_width * len(decoys)}}  {ok}/{len(rows)} segments ok")  # fmt: skip
    print(f"targets (issue 19): hit@5 ≥ {TARGET_HIT}, planted ≥ {TARGET_PLANTED}, other ≤ {TARGET_OTHER}; "
          f"{decoy_note}")  # fmt: skip
    print(f"control, planted notes removed: suggestions naming a move {control_named}/{control_total} (must be 0)")
    if control_named:
        print("WARNING: a key term occurs in the suggestion templates; planted/other shares are not trustworthy")


def run(seed: int = 19, customers: int = 540) -> None:
    """The whole evaluation, printed (``eval_recommender.py`` prints it too)."""
    check_terms()
    rng = random.Random(seed)
    calendar = WorkCalendar()
    histories, segment_of = generate(customers, rng, calendar)
    outcomes = [h.outcome for h in histories]
    print(f"{len(histories)} customers (won {outcomes.count('won')}, lost {outcomes.count('lost')}, "
          f"open {outcomes.count('open')}), seed {seed}")  # fmt: skip
    evaluate(histories, segment_of, SEGMENTS, [("decoy", DECOY)], rng, calendar, width=28, decoy_width=7,
             decoy_note="decoy (festival gifts, won and lost alike) is shown, not judged")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--seed", type=int, default=19)
    ap.add_argument("--customers", type=int, default=540)
    args = ap.parse_args()
    run(args.seed, args.customers)


if __name__ == "__main__":
    main()
