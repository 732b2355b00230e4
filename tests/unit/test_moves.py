"""Moves mined from the notes (issue 19): one move in many wordings, nothing both won and lost deals do, evidence."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from recommender.history import History, build
from recommender.moves import mine_moves
from recommender.service import Recommendation
from recommender.strategy import plan
from sales.calendar import WorkCalendar
from sales.model import Customer, Employee, StageChange
from sales.stages import OPEN_STAGES, Stage
from tests.conftest import TZ

T0 = datetime(2026, 3, 2, 10, tzinfo=TZ)  # a Monday
TODAY = T0.date() + timedelta(days=200)
CALENDAR = WorkCalendar()  # weekends only: the counts below are plain to check
SAMPLES = (  # one move, five wordings that share little but the thing itself
    "给他们寄了一箱样品试试",
    "上午送了两台样机过去,让车间先用着",
    "打包了一批样件给采购,测完再说",
    "把样品交给王工做了测试",
    "李总同意先拿样机跑一个月",
)
FILLER = ("电话跟进了一下进度", "微信上聊了几句", "发了产品资料过去")
GIFTS = ("中秋给对方送了月饼", "过节送了一箱水果给采购", "端午带了粽子礼盒过去")


def deal(n: int, outcome: str, notes_in_demo: list[str]) -> tuple[Customer, list[StageChange], list[tuple]]:  # type: ignore[type-arg]
    """Initial → qualified → demo (its notes on the second working day there) → won, or lost in the demo stage."""
    stage = Stage.WON if outcome == "won" else Stage.LOST
    customer = Customer(name=f"客户{n:02d}", owner_id="E01", stage=stage, stage_entered_at=T0, created_at=T0, id=n,
                        industry="制造", region="苏州", size="中型")  # fmt: skip
    changes, texts, at = [], [], T0
    for s in OPEN_STAGES[:3]:
        changes.append(StageChange(n, None, s, at))
        texts.append((n, at + timedelta(hours=2), FILLER[n % len(FILLER)]))
        if s is Stage.DEMO:
            texts += [(n, at + timedelta(days=2), text) for text in notes_in_demo]
        at += timedelta(days=7)
    changes.append(StageChange(n, None, stage, at))
    texts.append((n, at, "合同签了" if outcome == "won" else "客户选了别家"))
    return customer, changes, texts


def company(won: list[list[str]], lost: list[list[str]]) -> tuple[list[History], list[History]]:
    rows = [deal(n, "won", notes) for n, notes in enumerate(won, 1)]
    rows += [deal(n, "lost", notes) for n, notes in enumerate(lost, len(won) + 1)]
    histories = build([r[0] for r in rows], [c for r in rows for c in r[1]], [t for r in rows for t in r[2]],
                      [Employee(id="E01", name="张伟", team="一组")])  # fmt: skip
    return [h for h in histories if h.outcome == "won"], [h for h in histories if h.outcome == "lost"]


def test_a_move_in_five_wordings_is_one_move_with_its_evidence() -> None:
    won, lost = company([[SAMPLES[n % 5]] for n in range(10)], [[] for _ in range(10)])
    [move] = mine_moves(won, lost, CALENDAR, TZ)
    assert (move.won_with, move.won, move.lost_with, move.lost) == (10, 10, 0, 10)
    assert move.stage is Stage.DEMO and move.days == 2  # entered on a Monday, done on the Wednesday
    assert "样" in move.name and set(move.examples) <= set(SAMPLES) and len(move.examples) == 2
    assert move.lost_instead in FILLER  # what the lost deals wrote in that stage instead


def test_what_won_and_lost_deals_both_do_is_no_move() -> None:
    gifts = [[GIFTS[n % 3]] if n % 5 < 3 else [] for n in range(10)]  # six in ten, won and lost alike
    assert mine_moves(*company(gifts, gifts), CALENDAR, TZ) == []
    won, lost = company([[*g, SAMPLES[n % 5]] for n, g in enumerate(gifts)], gifts)
    assert [m.examples[0] in SAMPLES for m in mine_moves(won, lost, CALENDAR, TZ)] == [True]


def test_a_move_few_won_deals_made_or_the_lost_made_as_often_is_not_suggested() -> None:
    rare = [[SAMPLES[0]] if n < 3 else [] for n in range(10)]  # three in ten: under the minimum share
    assert mine_moves(*company(rare, [[] for _ in range(10)]), CALENDAR, TZ) == []
    half = [[SAMPLES[n % 5]] if n < 6 else [] for n in range(10)]
    assert mine_moves(*company(half, half), CALENDAR, TZ) == []


def test_the_plan_names_the_mined_move_and_the_json_carries_its_evidence() -> None:
    won, lost = company([[SAMPLES[n % 5]] for n in range(10)], [[] for _ in range(10)])
    strategy = plan(won, lost, CALENDAR, TZ, TODAY)
    [mined] = [s for s in strategy.suggestions if s.move is not None]
    assert mined.text.startswith("试试「") and "样" in mined.text
    assert "10 个相似的已成交客户中有 10 个这样做" in mined.evidence
    assert "方案演示阶段、进入后约 2 个工作日" in mined.evidence
    assert "到过这一阶段的流失客户 10 个中 0 个" in mined.evidence
    private = plan(won, lost, CALENDAR, TZ, TODAY, quotable=lambda _customer_id: False)
    [unquoted] = [s for s in private.suggestions if s.move is not None]
    assert "(如:" not in unquoted.text  # no rep's words from a customer the asker may not see
    recommendation = Recommendation(won[0], [], strategy, None)
    [evidence] = [s["move"] for s in json.loads(json.dumps(recommendation.as_json()))["suggestions"] if "move" in s]
    assert evidence["won_with"] == 10 and evidence["lost_with"] == 0 and evidence["stage"] == "demo"
    assert evidence["days_after_entering"] == 2 and len(evidence["examples"]) == 2
    unseen = Recommendation(won[0], [], private, None).as_json()
    [hidden] = [s["move"] for s in unseen["suggestions"] if "move" in s]
    assert hidden["examples"] == [] and hidden["won_with"] == 10  # the counts, never the words of an unseen customer
    assert hidden["lost_instead"] is None and evidence["lost_instead"] in FILLER


def test_a_move_of_the_built_in_list_carries_the_same_evidence() -> None:
    """POC is a known move: with too few lost deals to mine, it is still suggested from the built-in list, as
    安排POC验证, with its counts, stage and days in the JSON as a mined one."""
    won, lost = company([["客户要求做POC验证"] if n < 7 else [] for n in range(10)], [[], []])
    strategy = plan(won, lost, CALENDAR, TZ, TODAY)
    [poc] = [s for s in strategy.suggestions if s.text.startswith("安排POC验证")]
    assert poc.move is not None and (poc.move.won_with, poc.move.won, poc.move.lost_with, poc.move.lost) == (
        7,
        10,
        0,
        2,
    )
    assert "多在方案演示阶段、进入后约 2 个工作日" in poc.evidence and "流失的 2 个中只有 0 个这样做" in poc.evidence
    [evidence] = [s["move"] for s in Recommendation(won[0], [], strategy, None).as_json()["suggestions"] if "move" in s]
    assert (evidence["name"], evidence["stage"], evidence["days_after_entering"]) == ("POC验证", "demo", 2)


def test_too_little_history_says_so_and_mines_nothing() -> None:
    won, lost = company([[SAMPLES[n]] for n in range(2)], [[] for _ in range(5)])
    strategy = plan(won, lost, CALENDAR, TZ, TODAY)
    assert not strategy.enough and strategy.suggestions == []


def test_a_brief_stamped_with_the_change_it_caused_belongs_to_the_stage_before() -> None:
    """A brief that moves a deal on is stored with the change's own time: its move was made in the earlier stage."""
    won, lost = company([[] for _ in range(10)], [[] for _ in range(10)])
    for n, h in enumerate(won):
        demo = next(at for stage, at in h.path if stage is Stage.DEMO)
        h.notes.append((demo, SAMPLES[n % 5] + ",客户同意看方案"))
    [move] = mine_moves(won, lost, CALENDAR, TZ)
    assert move.stage is Stage.QUALIFIED and move.days == 5  # entered a week before, a working week


def test_no_move_is_mined_without_enough_lost_deals_to_compare_with() -> None:
    won, lost = company([[SAMPLES[0]] for _ in range(10)], [[] for _ in range(3)])
    assert len(mine_moves(won, lost, CALENDAR, TZ)) == 1  # ten of ten won against none of three lost
    assert mine_moves(won, lost[:2], CALENDAR, TZ) == []


def test_examples_do_not_name_the_customer() -> None:
    won, lost = company([[f"给客户{n:02d}寄了一箱样品试试"] for n in range(1, 11)], [[] for _ in range(10)])
    [move] = mine_moves(won, lost, CALENDAR, TZ)
    assert all("客户0" not in text and "客户10" not in text for text in move.wordings)


def test_progress_that_lost_deals_never_got_to_is_no_move() -> None:
    """Lost deals that stopped before the demo never wrote "报价已发": the won deals' quotes are compared only with
    lost deals that got as far, and then they are what everyone there does."""
    won, lost = company([["报价单已发给采购"] for _ in range(10)], [[] for _ in range(10)])
    for h in lost[:7]:  # seven lost before the demo stage: their notes and path stop at qualified
        h.path[:] = [(s, at) for s, at in h.path if s is not Stage.DEMO]
        h.notes[:] = [(at, text) for at, text in h.notes if at < next(t for s, t in h.path if s is Stage.LOST)]
    for h in lost[7:]:  # three reached the demo stage and quoted too
        demo = next(at for stage, at in h.path if stage is Stage.DEMO)
        h.notes.append((demo + timedelta(days=2), "报价单已发给采购"))
    assert mine_moves(won, lost, CALENDAR, TZ) == []


def test_the_brief_that_moved_a_deal_on_is_the_advance_not_a_move() -> None:
    """Every won deal left the qualified stage with "方案发过去了": the advance itself. It is compared with the lost
    deals that moved on too (three, and they wrote it as well), not with the seven that never left the stage."""
    won, lost = company([[] for _ in range(10)], [[] for _ in range(10)])
    for h in lost[:7]:  # lost in the qualified stage: no demo in their path, no note after it
        h.path[:] = [(s, at) for s, at in h.path if s is not Stage.DEMO]
    for h in won + lost[7:]:
        demo = next(at for stage, at in h.path if stage is Stage.DEMO)
        h.notes.append((demo, "方案发过去了,对方在内部走流程"))
    assert mine_moves(won, lost, CALENDAR, TZ) == []
    for n, h in enumerate(won):  # a move made on the way out is still one, when the lost that moved on did not
        demo = next(at for stage, at in h.path if stage is Stage.DEMO)
        h.notes[-1] = (demo, f"{SAMPLES[n % 5]},方案发过去了")
    [move] = mine_moves(won, lost, CALENDAR, TZ)
    assert move.stage is Stage.QUALIFIED and (move.won_with, move.lost_with, move.lost) == (10, 0, 3)


def test_a_wording_a_few_lost_deals_wrote_too_stays_in_the_move() -> None:
    """Each wording is four won deals; three lost deals each wrote one of them. A wording alone is a handful of deals,
    so the move is judged whole, and its counts say so: twenty won deals of twenty did it, three lost of twenty."""
    won, lost = company([[SAMPLES[n % 5]] for n in range(20)], [[SAMPLES[n]] if n < 3 else [] for n in range(20)])
    [move] = mine_moves(won, lost, CALENDAR, TZ)
    assert (move.won_with, move.won, move.lost_with, move.lost) == (20, 20, 3, 20)
