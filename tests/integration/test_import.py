"""Imports of the org and customers: good rows, each kind of bad row, idempotent re-import."""

from __future__ import annotations

import io
import json
from datetime import date, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from bot.cli import ProgressBar
from bot.platforms import labels
from sales.model import Role
from sales.stages import Stage
from store import importers
from store.importers import (
    ImportReport,
    import_customers,
    import_employees,
    import_teams,
    read_customer_rows,
    read_employee_rows,
    read_team_rows,
)
from store.repositories import UnitOfWorkFactory
from store.tabular import UnreadableFile
from tests.conftest import NOW, TZ

EMPLOYEES_CN = """工号,姓名,角色,团队,上级工号,企业微信账号,钉钉账号,手机
S01,陈静,主管,华东一组,,chenjing,ding_cj,13800000001
E01,张伟,销售,华东一组,S01,zhangwei,ding_zw,13800000002
E02,李娜,rep,华东一组,S01,lina,,
E03,,rep,华东一组,S01,,,
E01,张伟二,rep,华东一组,S01,,,
E04,王磊,老板,华东一组,S01,,,
E05,赵敏,rep,华东一组,S99,,,
E06,孙浩,rep,华东一组,S01,zhangwei,,
"""

ACCOUNTS = labels()  # the account columns of every platform Genjin knows

CUSTOMERS_CN = """客户名称,负责人工号,阶段,金额,预计签约日期,下一步,下一步日期,进入阶段日期,行业,地区,规模,来源,别名
上海瑞达机电,E01,需求确认,65.5万,2026/12/20,方案演示,2026年12月2日,2026-11-20,制造,上海,中型,转介绍,瑞达;瑞达机电
华东物流集团,E01,demo,"80,000元",2026-12-31,,,,物流,上海,大型,展会,
青岛海之蓝水产,E02,成交,¥860000,,,,2026-11-01,,,,,
,E01,initial,,,,,,,,,,
无主客户,E99,initial,,,,,,,,,,
日期不对,E01,initial,,2026-13-45,,,,,,,,
阶段不对,E01,快成了,,,,,,,,,,
金额不对,E01,initial,好多钱,,,,,,,,,
上海瑞达机电,E02,initial,,,,,,,,,,
"""


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


async def _import_employees(uow_factory: UnitOfWorkFactory, path: Path):  # type: ignore[no-untyped-def]
    async with uow_factory() as uow:
        report = await import_employees(uow, read_employee_rows(path, ACCOUNTS), NOW, ACCOUNTS)
        await uow.commit()
    return report


async def _import_customers(uow_factory: UnitOfWorkFactory, path: Path):  # type: ignore[no-untyped-def]
    async with uow_factory() as uow:
        report = await import_customers(uow, read_customer_rows(path), NOW, TZ)
        await uow.commit()
    return report


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
async def test_employees_report_each_bad_row(uow_factory: UnitOfWorkFactory, tmp_path: Path, encoding: str) -> None:
    report = await _import_employees(uow_factory, _write(tmp_path, "e.csv", EMPLOYEES_CN, encoding))
    assert (report.added, report.updated, report.unchanged) == (3, 0, 0)
    reasons = {r["row"]: r["reason"] for r in report.rejected}
    assert set(reasons) == {5, 6, 7, 8, 9}
    assert "姓名" in reasons[5] and "重复" in reasons[6] and "角色" in reasons[7]
    assert "上级" in reasons[8] and "企业微信" in reasons[9]
    async with uow_factory() as uow:
        zw = await uow.employees.by_platform_user("wecom", "zhangwei")
        assert zw is not None and zw.id == "E01" and zw.supervisor_id == "S01"
        assert (await uow.employees.get("S01")).role is Role.SUPERVISOR  # type: ignore[union-attr]
        assert [t.name for t in await uow.teams.find()] == ["华东一组"]
    again = await _import_employees(uow_factory, _write(tmp_path, "e.csv", EMPLOYEES_CN, encoding))
    assert (again.added, again.updated, again.unchanged) == (0, 0, 3)


async def test_accounts_per_platform_kept_unless_their_column_says_otherwise(
    uow_factory: UnitOfWorkFactory, tmp_path: Path
) -> None:
    """A file with only some platforms' columns changes only those accounts; an empty cell removes one."""
    await _import_employees(uow_factory, _write(tmp_path, "e.csv", EMPLOYEES_CN))
    report = await _import_employees(uow_factory, _write(tmp_path, "d.csv", "工号,姓名,钉钉账号\nE01,张伟,ding_new\n"))
    assert report.updated == 1
    report = await _import_employees(uow_factory, _write(tmp_path, "w.csv", "id,name,wecom_userid\nS01,陈静,\n"))
    assert report.updated == 1
    async with uow_factory() as uow:
        zw = await uow.employees.get("E01")
        assert zw is not None and zw.accounts == {"wecom": "zhangwei", "dingtalk": "ding_new"}
        assert await uow.employees.by_platform_user("dingtalk", "ding_zw") is None
        cj = await uow.employees.get("S01")
        assert cj is not None and cj.accounts == {"dingtalk": "ding_cj"}


async def test_customers_units_dates_stages_and_idempotence(uow_factory: UnitOfWorkFactory, tmp_path: Path) -> None:
    await _import_employees(uow_factory, _write(tmp_path, "e.csv", EMPLOYEES_CN))
    path = _write(tmp_path, "c.csv", CUSTOMERS_CN)
    report = await _import_customers(uow_factory, path)
    assert (report.added, report.updated, report.unchanged) == (3, 0, 0)
    reasons = {r["row"]: r["reason"] for r in report.rejected}
    assert set(reasons) == {5, 6, 7, 8, 9, 10}
    assert "名称" in reasons[5] and "E99" in reasons[6] and "日期" in reasons[7]
    assert "阶段" in reasons[8] and "金额" in reasons[9] and "重复" in reasons[10]
    async with uow_factory() as uow:
        ruida = await uow.customers.by_name("上海瑞达机电")
        assert ruida is not None and ruida.id is not None
        assert ruida.stage is Stage.QUALIFIED and ruida.amount == Decimal("655000.00")
        assert ruida.expected_close == date(2026, 12, 20) and ruida.next_action_date == date(2026, 12, 2)
        assert ruida.stage_entered_at.astimezone(TZ).date() == date(2026, 11, 20)
        assert ruida.aliases == ["瑞达", "瑞达机电"] and ruida.industry == "制造"
        assert (await uow.customers.by_name("华东物流集团")).amount == Decimal(80000)  # type: ignore[union-attr]
        won = await uow.customers.by_name("青岛海之蓝水产")
        assert won is not None and won.stage is Stage.WON and won.closed_at is not None
        assert [h.to_stage for h in await uow.stages.for_customer(ruida.id)] == [Stage.QUALIFIED]
    again = await _import_customers(uow_factory, path)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 3)


async def test_customer_update_moves_stage_with_history(uow_factory: UnitOfWorkFactory, tmp_path: Path) -> None:
    await _import_employees(uow_factory, _write(tmp_path, "e.csv", EMPLOYEES_CN))
    await _import_customers(uow_factory, _write(tmp_path, "c.csv", CUSTOMERS_CN))
    moved = "name,owner_id,stage,amount\n上海瑞达机电,E01,negotiation,70万\n"
    report = await _import_customers(uow_factory, _write(tmp_path, "c2.csv", moved))
    assert (report.added, report.updated, report.unchanged, report.rejected) == (0, 1, 0, [])
    async with uow_factory() as uow:
        ruida = await uow.customers.by_name("上海瑞达机电")
        assert ruida is not None and ruida.id is not None
        assert ruida.stage is Stage.NEGOTIATION and ruida.amount == Decimal(700000) and ruida.stage_entered_at == NOW
        assert ruida.expected_close == date(2026, 12, 20)  # cells left empty keep their value
        history = await uow.stages.for_customer(ruida.id)
        assert [(h.from_stage, h.to_stage) for h in history][-1] == (Stage.QUALIFIED, Stage.NEGOTIATION)


async def test_closed_rows_need_a_date_and_every_error_of_a_row_is_named(
    uow_factory: UnitOfWorkFactory, tmp_path: Path
) -> None:
    await _import_employees(uow_factory, _write(tmp_path, "e.csv", EMPLOYEES_CN))
    rows = (
        "客户名称,负责人工号,阶段,金额,进入阶段日期,成交日期,预计签约日期\n"
        "老单迁移,E01,成交,4.1万,,,\n"  # won, undated: would count as won today, in this month's commission
        "丢了的单,E01,流失,,,,\n"
        "带成交日期,E01,成交,30万,,2025-06-18,\n"
        "带进入日期,E01,流失,,2025-03-02,,\n"
        "错了好几处,E99,快成了,好多钱,,,2026-13-45\n"
        "还在跟,E01,需求确认,,,,\n"
        "日期填错列,E01,方案演示,,,2026-11-02,\n"
    )
    report = await _import_customers(uow_factory, _write(tmp_path, "c.csv", rows))
    reasons = {r["row"]: r["reason"] for r in report.rejected}
    assert set(reasons) == {2, 3, 6, 8}
    assert "阶段是方案演示" in reasons[8]
    assert "进入阶段日期" in reasons[2] and "成交日期" in reasons[2] and "今天成交" in reasons[2]
    assert "流失日期" in reasons[3]
    assert all(w in reasons[6] for w in ("E99", "阶段", "金额", "预计签约日期"))  # every error, not only the first
    assert any("1 个客户没有进入阶段日期" in line for line in report.lines("客户"))
    async with uow_factory() as uow:
        assert await uow.customers.by_name("老单迁移") is None and await uow.customers.by_name("丢了的单") is None
        signed = await uow.customers.by_name("带成交日期")
        assert signed is not None and signed.closed_at is not None
        assert signed.closed_at.astimezone(TZ).date() == date(2025, 6, 18)
        assert signed.stage_entered_at.astimezone(TZ).date() == date(2025, 6, 18)
        lost = await uow.customers.by_name("带进入日期")
        assert lost is not None and lost.closed_at is not None
        assert lost.closed_at.astimezone(TZ).date() == date(2025, 3, 2)
        assert not any(c.closed_at and c.closed_at >= NOW.replace(day=1) for c in await uow.customers.find())
    # an existing open customer moved to won by a file without a date is refused as well
    moved = "name,owner_id,stage\n还在跟,E01,won\n"
    again = await _import_customers(uow_factory, _write(tmp_path, "c2.csv", moved))
    assert again.updated == 0 and len(again.rejected) == 1


async def test_xlsx_with_english_headers(uow_factory: UnitOfWorkFactory, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["id", "name", "role", "team", "supervisor_id", "wecom_userid", "dingtalk_userid", "mobile"])
    sheet.append(["S01", "陈静", "supervisor", "华南二组", None, None, None, 13800000001])
    sheet.append(["E01", "张伟", "rep", "华南二组", "S01", "zw", None, None])
    path = tmp_path / "e.xlsx"
    book.save(path)
    report = await _import_employees(uow_factory, path)
    assert (report.added, report.rejected) == (2, [])
    async with uow_factory() as uow:
        assert (await uow.employees.get("S01")).mobile == "13800000001"  # type: ignore[union-attr]


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match="不存在"):
        read_employee_rows(tmp_path / "nope.csv", ACCOUNTS)
    with pytest.raises(UnreadableFile, match="缺少"):
        read_employee_rows(_write(tmp_path, "x.csv", "foo,bar\n1,2\n"), ACCOUNTS)
    with pytest.raises(UnreadableFile, match="xlsx"):
        read_employee_rows(_write(tmp_path, "x.pdf", "%PDF"), ACCOUNTS)
    with pytest.raises(UnreadableFile, match="Excel"):
        read_employee_rows(_write(tmp_path, "broken.xlsx", "not a zip"), ACCOUNTS)
    with pytest.raises(UnreadableFile, match="空"):
        read_employee_rows(_write(tmp_path, "empty.csv", ""), ACCOUNTS)


def test_cli_import_json_and_list(genjin, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    employees = _write(genjin.cwd, "e.csv", EMPLOYEES_CN, "gbk")
    customers = _write(genjin.cwd, "c.csv", CUSTOMERS_CN)
    result = genjin("import", "employees", str(employees), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["added"] == 3 and [r["row"] for r in report["rejected"]] == [5, 6, 7, 8, 9]
    text = genjin("import", "customers", str(customers))
    assert text.returncode == 0 and "新增 3" in text.stdout and "第 6 行" in text.stdout
    again = json.loads(genjin("import", "customers", str(customers), "--json").stdout)
    assert (again["added"], again["updated"], again["unchanged"]) == (0, 0, 3)
    listed = json.loads(genjin("customers", "list", "--owner", "E01", "--json").stdout)
    assert [c["name"] for c in listed] == ["上海瑞达机电", "华东物流集团"]
    ruida = listed[0]
    assert set(ruida) == {
        "name",
        "owner",
        "stage",
        "stage_entered_at",
        "amount",
        "expected_close",
        "confidence",
        "next_action",
        "next_action_date",
        "last_followup_at",
    }
    assert (ruida["owner"], ruida["stage"], ruida["amount"], ruida["expected_close"]) == (
        "E01",
        "qualified",
        655000,
        "2026-12-20",
    )
    assert ruida["stage_entered_at"].startswith("2026-11-20T09:00:00+08:00")
    bad = genjin("import", "customers", str(genjin.cwd / "missing.xlsx"))
    assert bad.returncode == 1 and "不存在" in bad.stderr and "Traceback" not in bad.stderr


TEAMS_CN = """团队,站会时间,站会时长,企业微信群,钉钉群,飞书群
华东一组,16:30,20,wrOgChat,robot:tok:sec,oc_abc
华南组,9:5,,,,
华北组,25:00,,,,
华东一组,15:00,,,,
西南组,,3,,,
"""


async def test_teams_their_standup_and_a_group_per_platform(uow_factory: UnitOfWorkFactory, tmp_path: Path) -> None:
    async def run(text: str) -> ImportReport:
        async with uow_factory() as uow:
            report = await import_teams(uow, read_team_rows(_write(tmp_path, "t.csv", text), ACCOUNTS), NOW)
            await uow.commit()
        return report

    report = await run(TEAMS_CN)
    assert (report.added, report.updated, report.unchanged) == (1, 0, 0)
    reasons = {r["row"]: r["reason"] for r in report.rejected}
    assert set(reasons) == {3, 4, 5, 6}
    assert "站会时间" in reasons[3] and "站会时间" in reasons[4] and "重复" in reasons[5] and "站会时长" in reasons[6]
    async with uow_factory() as uow:
        team = await uow.teams.get("华东一组")
        assert team is not None and (team.standup_time, team.standup_window_minutes) == ("16:30", 20)
        assert team.channels == {"wecom": "wrOgChat", "dingtalk": "robot:tok:sec", "feishu": "oc_abc"}
    again = await run(TEAMS_CN.splitlines()[0] + "\n" + TEAMS_CN.splitlines()[1] + "\n")
    assert (again.added, again.updated, again.unchanged) == (0, 0, 1)
    changed = await run("团队,钉钉群,开站会\n华东一组,,否\n")  # only these columns: the others stay
    assert changed.updated == 1
    async with uow_factory() as uow:
        team = await uow.teams.get("华东一组")
        assert team is not None and team.channels == {"wecom": "wrOgChat", "feishu": "oc_abc"}
        assert team.standup_time == "16:30" and team.standup_enabled is False


async def test_a_standup_time_typed_as_a_time_in_excel(uow_factory: UnitOfWorkFactory, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["团队", "站会时间"])
    sheet.append(["华东一组", time(16, 30)])  # Excel shows 16:30, the file holds a time of day
    book.save(tmp_path / "t.xlsx")
    async with uow_factory() as uow:
        report = await import_teams(uow, read_team_rows(tmp_path / "t.xlsx", ACCOUNTS), NOW)
        await uow.commit()
        assert report.added == 1 and report.rejected == []
        team = await uow.teams.get("华东一组")
        assert team is not None and team.standup_time == "16:30"


async def test_new_customers_go_in_by_the_thousand_and_progress_is_told(
    uow_factory: UnitOfWorkFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Written in chunks (here of two), each with its first stage-history row; told after each chunk."""
    monkeypatch.setattr(importers, "IMPORT_CHUNK", 2)
    await _import_employees(uow_factory, _write(tmp_path, "e.csv", EMPLOYEES_CN))
    lines = "".join(f"客户{n},E01,方案演示,{n + 1}万,,,,2026-11-0{n + 1}\n" for n in range(5))
    told: list[tuple[int, int]] = []
    async with uow_factory() as uow:
        rows = read_customer_rows(_write(tmp_path, "c.csv", CUSTOMERS_CN.splitlines()[0] + "\n" + lines))
        report = await import_customers(uow, rows, NOW, TZ, lambda done, total: told.append((done, total)))
        await uow.commit()
    assert report.added == 5 and told == [(2, 5), (4, 5), (5, 5)]
    async with uow_factory() as uow:
        for n in range(5):
            customer = await uow.customers.by_name(f"客户{n}")
            assert customer is not None and customer.id is not None and customer.amount == (n + 1) * 10000
            [entered] = await uow.stages.for_customer(customer.id)
            assert entered.to_stage is Stage.DEMO and entered.changed_at.astimezone(TZ).day == n + 1


def test_the_progress_bar_says_rows_rate_and_time_left() -> None:
    out = io.StringIO()
    bar = ProgressBar("导入客户", out)
    bar(50_000, 100_000)
    bar.close()
    text = out.getvalue()
    assert (
        text.startswith("\r导入客户 [############............] 50,000/100,000") and "行/秒" in text and "还要约" in text
    )
    assert text.endswith("\n")


def test_no_progress_bar_in_a_pipe_or_json(genjin: Any, tmp_path: Path) -> None:
    (tmp_path / "e.csv").write_text(EMPLOYEES_CN, encoding="utf-8")
    (tmp_path / "c.csv").write_text(CUSTOMERS_CN, encoding="utf-8")
    assert genjin("import", "employees", "e.csv").returncode == 0
    done = genjin("import", "customers", "c.csv", "--json")
    assert done.returncode == 0 and "导入客户 [" not in done.stderr and json.loads(done.stdout)["added"] == 3


async def test_a_large_load_on_sqlite_drops_the_indexes_and_builds_them_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Into an empty table the secondary indexes are dropped for the load and built again from the database's own
    definitions; on an error too, so a caller that commits anyway keeps a whole schema."""
    from sqlalchemy import text

    from store import migrate, sql
    from store.db import create_engine, session_factory

    engine = create_engine(f"sqlite:///{tmp_path / 'bulk.db'}")
    await migrate.upgrade(engine)
    factory = session_factory(engine)
    listing = text("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")

    async def indexes() -> set[tuple[str, str]]:
        async with engine.connect() as conn:
            return {(name, sql) for name, sql in await conn.execute(listing)}

    before = await indexes()
    assert {"ix_customers_owner_id", "ix_stage_history_customer_id"} <= {name for name, _ in before}
    monkeypatch.setattr(sql, "BULK_LOAD_MINIMUM", 2)
    await _import_employees(lambda: sql.SqlUnitOfWork(factory), _write(tmp_path, "e.csv", EMPLOYEES_CN))
    async with sql.SqlUnitOfWork(factory) as uow:
        try:
            async with uow.customers.bulk_load(3):
                during = {name for name, _ in await (await uow.session.connection()).execute(listing)}
                raise RuntimeError("a bad row")
        except RuntimeError:
            pass  # a caller that carries on and commits
        await uow.commit()
    assert "ix_customers_owner_id" not in during and "ix_stage_history_customer_id" not in during
    assert await indexes() == before
    report = await _import_customers(lambda: sql.SqlUnitOfWork(factory), _write(tmp_path, "c.csv", CUSTOMERS_CN))
    assert report.added == 3 and await indexes() == before
    async with sql.SqlUnitOfWork(factory) as uow:
        ruida = await uow.customers.by_name("上海瑞达机电")
        assert ruida is not None and ruida.amount == Decimal("655000") and ruida.aliases == ["瑞达", "瑞达机电"]
        assert ruida.expected_close == date(2026, 12, 20) and ruida.stage_entered_at.tzinfo is not None
    await engine.dispose()


def test_each_distinct_value_is_converted_once_by_the_columns_own_processor() -> None:
    """The batch insert converts column by column with the column type's processor, each distinct value once:
    equal instants in two zones give one stored UTC text, an amount its whole fen, a list its JSON."""
    from datetime import UTC, datetime, timedelta, timezone

    from sqlalchemy.dialects import sqlite

    from store.orm import CustomerRow
    from store.sql import _plain_insert, _processed

    keys = ("stage_entered_at", "amount", "aliases")
    plain = _plain_insert(CustomerRow.__table__, keys, sqlite.dialect())
    assert plain is not None
    _, order, processors = plain
    process = {order[i]: p for i, p in processors}
    shanghai = datetime(2026, 12, 1, 9, 0, tzinfo=timezone(timedelta(hours=8)))
    utc = shanghai.astimezone(UTC)
    stored = _processed(process["stage_entered_at"], [shanghai, utc, shanghai])
    assert stored == [process["stage_entered_at"](utc)] * 3 and stored[0].startswith("2026-12-01 01:00:00")
    amounts = _processed(process["amount"], [Decimal("1.5"), Decimal("1.50"), None])
    assert amounts[0] == amounts[1] == process["amount"](Decimal("1.5")) and amounts[2] is None
    calls: list[Any] = []

    def spy(value: Any) -> Any:
        calls.append(value)
        return (type(value).__name__, value)

    assert _processed(spy, [1, True, 1.0, 1]) == [("int", 1), ("bool", True), ("float", 1.0), ("int", 1)]
    assert len(calls) == 3  # equal but of three types: three conversions, and the repeat none
    assert _processed(process["aliases"], [[], ["瑞达"], []]) == [json.dumps([]), json.dumps(["瑞达"]), json.dumps([])]
