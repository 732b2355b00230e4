"""Importing an old CRM's follow-up records: replayed in date order into briefs and stage history."""

from __future__ import annotations

import json
import sqlite3

CSV = """客户名称,跟进日期,跟进人工号,跟进内容,阶段
天成建材,2026-09-01,E01,"初次拜访,有意向",
浙江天成建材,2026-09-10,E01,"客户确认了需求,预算80万",
浙江天成建材,2026/09/20,E01,"方案演示完成,客户满意",demo
浙江天成建材,2026年9月5日,E01,电话沟通了进度,
不存在的客户,2026-09-06,E01,拜访,
浙江天成建材,2026-09-07,E99,拜访,
浙江天成建材,2026-13-01,E01,拜访,
浙江天成建材,2026-09-08,E01,拜访,快成了
"""


def test_followups_import_report_replay_and_idempotence(genjin) -> None:  # type: ignore[no-untyped-def]
    (genjin.cwd / "e.csv").write_text("id,name,role\nE01,张伟,rep\n", encoding="utf-8")
    (genjin.cwd / "c.csv").write_text("name,owner_id,stage,stage_entered_at\n浙江天成建材,E01,initial,2026-08-30\n",
                                      encoding="utf-8")  # fmt: skip
    (genjin.cwd / "f.csv").write_text(CSV, encoding="utf-8")
    assert genjin("import", "employees", "e.csv").returncode == 0
    assert genjin("import", "customers", "c.csv").returncode == 0
    result = genjin("import", "followups", "f.csv", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["added"], report["unchanged"]) == (4, 0)
    reasons = {r["row"]: r["reason"] for r in report["rejected"]}
    assert sorted(reasons) == [6, 7, 8, 9]
    assert "客户不存在" in reasons[6] and "E99" in reasons[7] and "日期" in reasons[8] and "阶段" in reasons[9]
    db = sqlite3.connect(genjin.cwd / "cli.db")
    stages = [r[0] for r in db.execute("select to_stage from stage_history order by changed_at, id")]
    assert stages == ["initial", "qualified", "demo"]  # the short form resolved, the stage read from the text
    assert db.execute("select stage from customers").fetchone() == ("demo",)
    assert db.execute("select count(*) from briefs where platform = 'import'").fetchone() == (4,)
    again = json.loads(genjin("import", "followups", "f.csv", "--json").stdout)
    assert (again["added"], again["unchanged"]) == (0, 4)
