"""``genjin chat`` and ``genjin demo`` driven through a pipe, checking the stored state too."""

from __future__ import annotations

import sqlite3

import pytest

EMPLOYEES = "id,name,role,team,supervisor_id\nA01,王敏,admin,,\nE01,张伟,rep,一组,\n"


@pytest.mark.e2e
def test_chat_through_a_pipe_uses_inbox_and_outbox(genjin) -> None:  # type: ignore[no-untyped-def]
    (genjin.cwd / "e.csv").write_text(EMPLOYEES, encoding="utf-8")
    assert genjin("import", "employees", "e.csv").returncode == 0
    result = genjin("chat", "--user", "E01", input="帮助\n\n今天天气不错\n")
    assert result.returncode == 0, result.stderr
    replies = [block for block in result.stdout.split("\n\n") if block.strip()]
    assert len(replies) == 2
    assert "Genjin" in replies[0] and "帮助" in replies[0]
    assert "跟进助手" in replies[1]
    db = sqlite3.connect(genjin.cwd / "cli.db")
    assert db.execute("select count(*), min(status), max(status) from inbox").fetchone() == (2, "done", "done")
    assert db.execute("select count(*), min(status) from outbox").fetchone() == (2, "sent")


def test_chat_as_unknown_employee_is_a_stranger(genjin) -> None:  # type: ignore[no-untyped-def]
    result = genjin("chat", "--user", "E404", input="帮助\n")
    assert result.returncode == 0 and "E404" in result.stderr and "员工名单" in result.stdout


@pytest.mark.e2e
def test_demo_seeds_and_opens_chat(genjin) -> None:  # type: ignore[no-untyped-def]
    result = genjin("demo", input="帮助\n", extra_env={"GENJIN_DATABASE_URL": None})
    assert result.returncode == 0, result.stderr
    assert "演示公司已生成" in result.stdout and "张伟" in result.stdout and "看这份说明" in result.stdout
    db = sqlite3.connect(genjin.cwd / "genjin-demo.db")
    stages = dict(db.execute("select stage, count(*) from customers group by stage").fetchall())
    assert set(stages) == {"initial", "qualified", "demo", "negotiation", "won", "lost"}
    assert 250 <= sum(stages.values()) <= 350
    assert db.execute("select count(*) from employees where role='rep'").fetchone() == (8,)
    assert db.execute("select count(distinct team) from employees where team is not null").fetchone() == (2,)
    # six months of history, varied enough to learn from
    (first,) = db.execute("select min(received_at) from briefs").fetchone()
    assert first[:7] <= "2026-06" and db.execute("select count(*) from briefs").fetchone()[0] > 1000
    reasons = {r for (r,) in db.execute("select distinct lost_reason from customers where stage='lost'")}
    assert {"价格", "竞品", "预算冻结"} <= reasons
    assert db.execute("select count(*) from customers where stage='won' and amount > 0").fetchone()[0] > 30
    assert db.execute("select count(distinct industry) from customers").fetchone()[0] >= 5
    assert db.execute("select count(*) from inbox where platform='console'").fetchone() == (1,)


def test_demo_asks_before_replacing_data(genjin) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{genjin.cwd / 'd.db'}"
    assert genjin("demo", "--database", url, "--no-chat").returncode == 0
    refused = genjin("demo", "--database", url, "--no-chat")
    assert refused.returncode == 1 and "--yes" in refused.stderr
    replaced = genjin("demo", "--database", url, "--no-chat", "--yes")
    assert replaced.returncode == 0
    db = sqlite3.connect(genjin.cwd / "d.db")
    assert db.execute("select count(*) from employees").fetchone() == (11,)


def test_demo_uses_the_database_setting_when_set(genjin) -> None:  # type: ignore[no-untyped-def]
    result = genjin("demo", "--no-chat")
    assert result.returncode == 0 and "cli.db" in result.stdout
