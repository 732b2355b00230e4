"""Brief intake end to end: `genjin chat` in pipe mode, then the stored state is checked."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

EMPLOYEES = """工号,姓名,角色,团队,上级工号
A01,王敏,管理员,,
S01,陈静,主管,一组,
E01,张伟,销售,一组,S01
E02,李娜,销售,一组,S01
S02,刘洋,主管,二组,
E05,孙浩,销售,二组,S02
"""
CUSTOMERS = """客户名称,负责人工号,阶段,金额,进入阶段日期
浙江天成建材,E01,需求确认,50万,2026-11-20
上海瑞达机电,E01,报价谈判,,2026-11-10
深圳瑞达电子,E01,意向初探,,2026-11-01
华东物流集团,E02,方案演示,,2026-11-15
重庆山城汽配,E05,意向初探,,2026-11-18
"""
T0 = "2026-11-26T18:30:00+08:00"


@pytest.fixture
def org(genjin):  # type: ignore[no-untyped-def]
    (genjin.cwd / "e.csv").write_text(EMPLOYEES, encoding="utf-8")
    (genjin.cwd / "c.csv").write_text(CUSTOMERS, encoding="utf-8")
    assert genjin("import", "employees", "e.csv").returncode == 0
    assert genjin("import", "customers", "c.csv").returncode == 0

    def chat(user: str, *lines: str, now: str = T0, env: dict[str, str | None] | None = None) -> list[str]:
        result = genjin("chat", "--user", user, "--now", now, input="\n".join(lines) + "\n", extra_env=env)
        assert result.returncode == 0, result.stderr
        return [block for block in result.stdout.split("\n\n") if block.strip()]

    return chat


def db(genjin: Any) -> sqlite3.Connection:
    conn = sqlite3.connect(genjin.cwd / "cli.db")
    conn.row_factory = sqlite3.Row
    return conn


def find_customer(genjin: Any, name: str) -> sqlite3.Row | None:
    row: sqlite3.Row | None = db(genjin).execute("select * from customers where name = ?", (name,)).fetchone()
    return row


def customer(genjin: Any, name: str) -> sqlite3.Row:
    row = find_customer(genjin, name)
    assert row is not None, f"no customer named {name}"
    return row


def history(genjin: Any, name: str) -> list[tuple[str | None, str]]:
    rows = db(genjin).execute(
        "select from_stage, to_stage from stage_history h join customers c on c.id = h.customer_id "
        "where c.name = ? order by h.id", (name,),
    ).fetchall()  # fmt: skip
    return [(r[0], r[1]) for r in rows]


def test_multi_customer_brief(genjin, org) -> None:  # type: ignore[no-untyped-def]
    [reply] = org(
        "E01", r"1、天成建材:方案演示完成,下周三报价,预计12月中旬签约,金额80万\n2、瑞达机电 客户说下周一给答复"
    )
    assert "天成建材" in reply and "需求确认→方案演示" in reply and "12月2日(周三)" in reply and "80万" in reply
    tc = customer(genjin, "浙江天成建材")
    assert (tc["stage"], tc["amount"], tc["next_action_date"], tc["expected_close"]) == (
        "demo", 80_000_000, "2026-12-02", "2026-12-20")  # fmt: skip
    assert tc["stage_entered_at"].startswith("2026-11-26 10:30") and tc["last_followup_at"] is not None
    assert history(genjin, "浙江天成建材")[-1] == ("qualified", "demo")
    rd = customer(genjin, "上海瑞达机电")
    assert (rd["stage"], rd["next_action_date"]) == ("negotiation", "2026-11-30") and rd["last_followup_at"]
    brief = db(genjin).execute("select status, text from briefs").fetchone()
    assert brief["status"] == "applied" and brief["text"].startswith("1、天成建材")
    assert db(genjin).execute("select count(*) from brief_updates").fetchone()[0] == 2


def test_new_customer_confirmed_and_declined_and_brief_in_between(genjin, org) -> None:  # type: ignore[no-untyped-def]
    replies = org(
        "E01",
        "新客户 宁夏塞上明珠酒业 朋友介绍的,有意向,下周二拜访",
        "天成建材 客户说下周五给反馈",  # a new brief while the question waits: handled, not swallowed
        "是",
        "拜访了一家新客户杭州云帆科技,初步沟通",
        "否",
    )
    assert "要新建吗" in replies[0] and "宁夏塞上明珠酒业" in replies[0]
    assert "天成建材" in replies[1] and "12月4日" in replies[1]
    assert "新建客户" in replies[2]
    assert "要新建吗" in replies[3] and "没有新建" in replies[4]
    new = find_customer(genjin, "宁夏塞上明珠酒业")
    assert new is not None and (new["owner_id"], new["stage"], new["next_action_date"]) == (
        "E01", "initial", "2026-12-01")  # fmt: skip
    assert find_customer(genjin, "杭州云帆科技") is None
    assert customer(genjin, "浙江天成建材")["next_action_date"] == "2026-12-04"
    assert db(genjin).execute("select count(*) from pending_questions").fetchone()[0] == 0


def test_ambiguous_short_form_resolved_by_choice(genjin, org) -> None:  # type: ignore[no-untyped-def]
    replies = org("E01", "瑞达 确认了需求", "2")
    assert "1. 上海瑞达机电 2. 深圳瑞达电子" in replies[0]
    assert "深圳瑞达电子" in replies[1] and "意向初探→需求确认" in replies[1]
    assert customer(genjin, "深圳瑞达电子")["stage"] == "qualified"
    assert customer(genjin, "上海瑞达机电")["stage"] == "negotiation"


def test_backwards_stage_needs_confirmation(genjin, org) -> None:  # type: ignore[no-untyped-def]
    [asked] = org("E01", "瑞达机电 确认了需求,金额60万")
    assert "阶段往回退" in asked and "· 阶段 报价谈判→需求确认\n· 金额 60万" in asked
    before = dict(customer(genjin, "上海瑞达机电"))
    assert before["amount"] is None and before["last_followup_at"] is None  # held whole until the answer
    [reply] = org("E01", "是")
    assert "报价谈判→需求确认" in reply and "金额 60万" in reply
    assert customer(genjin, "上海瑞达机电")["stage"] == "qualified"
    assert customer(genjin, "上海瑞达机电")["amount"] == 60_000_000
    assert history(genjin, "上海瑞达机电")[-1] == ("negotiation", "qualified")
    before = dict(customer(genjin, "上海瑞达机电"))
    replies = org("E01", "瑞达机电 意向初探,初次接触,下周一再约", "否", now="2026-11-27T10:00:00+08:00")
    assert "没有改动" in replies[1]
    assert dict(customer(genjin, "上海瑞达机电")) == before


def test_undo_reverts_values_history_and_new_customers(genjin, org) -> None:  # type: ignore[no-untyped-def]
    org("E01", "天成建材 合同签了,金额100万", "是")
    assert customer(genjin, "浙江天成建材")["stage"] == "won"
    [reply] = org("E01", "撤销", now="2026-11-27T09:00:00+08:00")
    assert "已撤销" in reply
    tc = customer(genjin, "浙江天成建材")
    assert (tc["stage"], tc["amount"], tc["closed_at"]) == ("qualified", 50_000_000, None)
    assert tc["stage_entered_at"].startswith("2026-11-20 01:00")  # 09:00 Beijing, stored in UTC
    assert history(genjin, "浙江天成建材") == [(None, "qualified")]
    org("E01", "新客户 苏州恒美纺织 有意向", "是")
    assert find_customer(genjin, "苏州恒美纺织") is not None
    [reply] = org("E01", "撤销")
    assert "苏州恒美纺织" in reply and find_customer(genjin, "苏州恒美纺织") is None
    assert db(genjin).execute("select count(*) from briefs where status = 'undone'").fetchone()[0] == 2
    [reply] = org("E01", "撤销", now="2026-11-29T09:00:00+08:00")
    assert "没有可以撤销" in reply


def test_colleagues_customer_is_refused_and_the_rest_applies(genjin, org) -> None:  # type: ignore[no-untyped-def]
    [reply] = org("E01", "华东物流 报价已发;天成建材 下周一再聊")
    assert "李娜" in reply and "没有改动" in reply
    assert customer(genjin, "华东物流集团")["stage"] == "demo"
    assert customer(genjin, "浙江天成建材")["next_action_date"] == "2026-11-30"
    org("S01", "华东物流 报价已发")  # the team's supervisor may
    assert customer(genjin, "华东物流集团")["stage"] == "negotiation"
    [reply] = org("S01", "山城汽配 确认了需求")  # another team's customer
    assert "孙浩" in reply and customer(genjin, "重庆山城汽配")["stage"] == "initial"


def test_unknown_sender_is_told_whom_to_ask_and_kept(genjin, org) -> None:  # type: ignore[no-untyped-def]
    [reply] = org("X99", "天成建材 签约了")
    assert "王敏" in reply
    conn = db(genjin)
    assert conn.execute("select count(*) from inbox where user_id = 'X99'").fetchone()[0] == 1
    assert customer(genjin, "浙江天成建材")["stage"] == "qualified"
    assert conn.execute("select count(*) from employees where id like '%X99%'").fetchone()[0] == 0
    org("X98", "帮助", env={"GENJIN_AUTO_REGISTER": "true"})
    row = db(genjin).execute("select role from employees where id like '%X98%'").fetchone()
    assert row is not None and row[0] == "rep"


def test_pending_question_expires_after_30_minutes(genjin, org) -> None:  # type: ignore[no-untyped-def]
    [asked] = org("E01", "新客户 苏州恒美纺织 有意向")
    assert "要新建吗" in asked
    assert db(genjin).execute("select count(*) from pending_questions").fetchone()[0] == 1
    [reply] = org("E01", "是", now="2026-11-26T19:01:00+08:00")
    assert "过期" in reply
    assert find_customer(genjin, "苏州恒美纺织") is None
    assert db(genjin).execute("select count(*) from pending_questions").fetchone()[0] == 0


def test_cancel_drops_pending_questions(genjin, org) -> None:  # type: ignore[no-untyped-def]
    replies = org("E01", "新客户 苏州恒美纺织 有意向;瑞达 确认需求", "取消", "是")
    assert "还有 1 个问题" in replies[0] and "已取消 2 个" in replies[1]
    assert find_customer(genjin, "苏州恒美纺织") is None
    assert db(genjin).execute("select count(*) from pending_questions").fetchone()[0] == 0


def test_customer_query_shows_state_and_history_to_those_allowed(genjin, org) -> None:  # type: ignore[no-untyped-def]
    org("E01", "天成建材 方案演示完成,下周三报价,金额80万")
    [reply] = org("E01", "天成建材现在到哪一步了", now="2026-11-30T10:00:00+08:00")
    assert "浙江天成建材(负责人 张伟)" in reply and "方案演示,已 4 天" in reply
    assert "报价 12月2日(周三)" in reply and "80万" in reply and "方案演示完成" in reply
    [reply] = org("E05", "天成建材现在到哪一步了")
    assert "张伟" in reply and "看不到" in reply
    [reply] = org("A01", "天成建材现在到哪一步了")
    assert "方案演示" in reply
