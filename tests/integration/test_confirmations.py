"""Nothing reaches the data that the rep did not mean (issue 15), through `genjin chat` in pipe mode:
each exchange is followed by a look at the database."""

from __future__ import annotations

import asyncio
import re
from datetime import date, datetime, time
from typing import Any

from sales.calendar import WorkCalendar, china_provider
from sales.stall import StallPolicy
from scheduler.prompts import NUDGE, brief_prompts
from store.db import create_engine, session_factory
from store.sql import SqlUnitOfWork
from tests.conftest import TZ
from tests.integration.test_intake_scenarios import customer, db, find_customer, org  # noqa: F401 - the fixture is used by name
from usecases.services import Services

IDS = re.compile(r"(?<![A-Za-z0-9])[AES]0\d(?![0-9])")  # the org's 工号: replies name people instead


def state(genjin: Any) -> dict[str, Any]:
    """Everything intake may write: customers (every field), stage history, updates, points, changes."""
    conn = db(genjin)

    def count(sql: str) -> int:
        number: int = conn.execute(sql).fetchone()[0]
        return number

    return {
        "customers": [dict(r) for r in conn.execute("select * from customers order by id")],
        "history": count("select count(*) from stage_history"),
        "updates": count("select count(*) from brief_updates"),
        "points": count("select count(*) from points_ledger where rule != 'brief'"),
        "changes": count("select count(*) from applied_changes where undone_at is null"),
    }


def no_ids(*replies: str) -> None:
    for reply in replies:
        assert not IDS.search(reply), reply


def test_no_and_cancel_leave_every_field_and_timestamp(genjin, org) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    before = state(genjin)
    asked, answered = org("E01", "天成建材 合同签了,金额100万,下周一安排实施", "否")
    assert "请确认「浙江天成建材」的改动" in asked and "成交会计入提成、积分和目标" in asked
    assert "· 阶段 需求确认→成交" in asked and "· 金额 50万→100万" in asked and "· 下一步 安排实施 11月30日" in asked
    assert "没有改动" in answered and state(genjin) == before
    asked, answered = org("E01", "天成建材 金额改成500元", "取消")  # 500 元 against 50 万: a unit slip
    assert "50万→500元" in asked and "万和元是不是写反了" in asked
    assert "都没有写入" in answered and state(genjin) == before
    asked, answered = org("E01", "天成建材 客户预算砍了一大半,金额降到10万", "不是")
    assert "不到原来的三分之一" in asked and state(genjin) == before
    asked, answered = org("E01", "天成建材 丢了 客户选了别家", "2")
    assert "流失后不再提醒跟进" in asked and state(genjin) == before
    assert db(genjin).execute("select count(*) from pending_questions").fetchone()[0] == 0
    no_ids(asked, answered)


def test_plain_changes_apply_at_once_and_doubtful_ones_after_yes(genjin, org) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    [reply] = org("E01", "天成建材 方案演示完成,金额60万,下周三报价")  # plain: applied at once, one line
    assert "已更新" in reply and "需求确认→方案演示" in reply and "金额 60万" in reply
    assert customer(genjin, "浙江天成建材")["stage"] == "demo"
    asked, applied = org("E01", "天成建材 签了,金额80万", "确认")
    assert "方案演示→成交" in asked and "已更新" in applied
    won = find_customer(genjin, "浙江天成建材")
    assert won is not None and (won["stage"], won["amount"]) == ("won", 80_000_000)
    assert db(genjin).execute("select count(*) from points_ledger where rule = 'won'").fetchone()[0] == 1
    # a closed customer: any change is asked about first, then applied whole
    before = state(genjin)
    [asked] = org("E01", "天成建材 下周二回访一下,看看实施情况")
    assert "已经成交,确定要改吗" in asked and state(genjin) == before
    [applied] = org("E01", "对")
    assert "已更新" in applied and customer(genjin, "浙江天成建材")["next_action_date"] == "2026-12-01"


def test_a_typo_match_and_a_short_form_that_fits_two(genjin, org) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    before = state(genjin)
    [asked] = org("E01", "天城建材 确认了需求,下周三演示")
    assert "你写的「天城建材」是「浙江天成建材」吗" in asked and state(genjin) == before
    [applied] = org("E01", "是")
    assert "下一步" in applied and customer(genjin, "浙江天成建材")["next_action_date"] == "2026-12-02"
    # a unique short form is what reps always write: applied at once
    [reply] = org("E01", "瑞达机电 客户说下周一给答复")
    assert "已更新" in reply and customer(genjin, "上海瑞达机电")["next_action_date"] == "2026-11-30"
    # 瑞达 fits two: answered by a name, or a place
    asked, applied = org("E01", "瑞达 确认了需求", "深圳那家")
    assert "1. 上海瑞达机电 2. 深圳瑞达电子" in asked and "回复数字或名称" in asked
    assert "深圳瑞达电子" in applied and customer(genjin, "深圳瑞达电子")["stage"] == "qualified"
    assert customer(genjin, "上海瑞达机电")["stage"] == "negotiation"


def test_undo_takes_back_the_last_change_applied(genjin, org) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    asked, plain, confirmed = org("E01", "天成建材 合同签了,金额100万", "瑞达机电 客户说下周一给答复", "是")
    assert "需求确认→成交" in asked and "瑞达机电" in plain and "已更新" in confirmed
    assert customer(genjin, "浙江天成建材")["stage"] == "won"
    # the won deal was confirmed after the 瑞达 brief: it is the last change applied, so it goes first
    [undone] = org("E01", "撤销", now="2026-11-26T19:00:00+08:00")
    assert "天成建材" in undone and "恢复了 1 个客户" in undone
    tc = find_customer(genjin, "浙江天成建材")
    assert tc is not None and (tc["stage"], tc["amount"], tc["closed_at"], tc["last_followup_at"]) == (
        "qualified", 50_000_000, None, None)  # fmt: skip
    assert db(genjin).execute("select count(*) from points_ledger where rule in ('won', 'advance')").fetchone()[0] == 0
    assert customer(genjin, "上海瑞达机电")["next_action_date"] == "2026-11-30"
    statuses = dict(db(genjin).execute("select substr(text, 1, 4), status from briefs").fetchall())
    assert statuses == {"天成建材": "undone", "瑞达机电": "applied"}
    [undone] = org("E01", "撤销", now="2026-11-26T19:01:00+08:00")
    assert "瑞达机电" in undone
    rd = find_customer(genjin, "上海瑞达机电")
    assert rd is not None and (rd["next_action_date"], rd["last_followup_at"]) == (None, None)
    [nothing] = org("E01", "撤销", now="2026-11-26T19:02:00+08:00")
    assert "没有可以撤销" in nothing


def test_questions_are_answered_and_never_count_as_a_brief(genjin, org) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    replies = org("E01", "孙浩的客户有哪些", "本周任务", "天成建材现在到哪一步了", "我现在积分多少", "这个客户怎么推进")
    assert len(replies) == 5 and "到哪一步" not in replies[2]
    conn = db(genjin)
    assert conn.execute("select count(*) from briefs").fetchone()[0] == 0
    assert conn.execute("select count(*) from points_ledger").fetchone()[0] == 0
    [activity] = org("S01", "团队今天日报提交情况")
    assert re.search(r"今天未发:[^\n]*张伟", activity) and "今天已发:无" in activity
    org("E02", "华东物流 电话沟通了,下周三演示")
    asked = asyncio.run(_nudged(genjin))
    assert "E01" in asked and "E02" not in asked  # the 20:00 nudge: E01 asked questions, E02 reported
    no_ids(*replies, activity)


async def _nudged(genjin: Any) -> list[str]:
    engine = create_engine(f"sqlite:///{genjin.cwd / 'cli.db'}")
    sessions = session_factory(engine)
    services = Services(timezone=TZ, calendar=WorkCalendar(provider=china_provider()), stall=StallPolicy())
    try:
        when = datetime.combine(date(2026, 11, 26), time(20, 0), TZ)
        return await brief_prompts(lambda: SqlUnitOfWork(sessions), services, when, NUDGE)
    finally:
        await engine.dispose()


def test_an_undated_won_row_is_rejected_with_every_reason(genjin, org) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    rows = "客户名称,负责人工号,阶段,金额,进入阶段日期\n迁移老单,E01,成交,4.1万,\n无名,E99,快成了,好多钱,\n"
    (genjin.cwd / "old.csv").write_text(rows, encoding="utf-8")
    result = genjin("import", "customers", "old.csv")
    assert "第 2 行" in result.stdout and "进入阶段日期" in result.stdout and "今天成交" in result.stdout
    line = next(x for x in result.stdout.splitlines() if "第 3 行" in x)
    assert "E99" in line and "阶段" in line and "金额" in line
    assert find_customer(genjin, "迁移老单") is None
    [statement] = org("E01", "我的提成")
    assert "4.1" not in statement and "41,000" not in statement


def test_no_win_probability_without_comparable_history_and_people_by_name(genjin, org) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    replies = org(
        "E01", "新客户 苏州恒美纺织 有意向,下周二拜访", "是", "恒美纺织这类客户怎么推进", "恒美纺织现在到哪一步了",
        "瑞达机电下一步怎么跟进", "华东物流 报价已发",
    )  # fmt: skip
    assert "苏州恒美纺织" in replies[2] and "历史太少,暂不估算" in replies[2] and "%" not in replies[2]
    assert "历史太少" in replies[3]
    assert "「上海瑞达机电」的推进建议" in replies[4]  # the customer named in the question
    assert "李娜" in replies[5] and "没有改动" in replies[5]
    [overdue] = org("S01", "哪些客户超期了")
    assert "张伟" in overdue
    no_ids(*replies, overdue)
