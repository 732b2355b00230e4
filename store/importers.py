"""Importing the org and the customers from a spreadsheet, with a row-by-row report.

Nothing is dropped silently: each row is added, updated, unchanged or rejected with its
row number and reason; importing the same file again changes nothing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sales.goals import Goal, Kpi, Level, parse_kpi, parse_month
from sales.leads import KIND_WORDS, EventKind, Lead, LeadEvent
from sales.model import AuditEntry, Confidence, Customer, Employee, Role, StageChange, Team
from sales.quotes import Product
from sales.stages import Stage, parse_stage
from sales.values import parse_amount, parse_date, parse_ratio
from store.repositories import UnitOfWork
from store.tabular import Row, as_text, read_rows

EMPLOYEE_HEADERS = {
    "id": "id",
    "工号": "id",
    "员工工号": "id",
    "name": "name",
    "姓名": "name",
    "role": "role",
    "角色": "role",
    "team": "team",
    "团队": "team",
    "小组": "team",
    "supervisor_id": "supervisor_id",
    "上级工号": "supervisor_id",
    "主管工号": "supervisor_id",
    "mobile": "mobile",
    "手机": "mobile",
    "手机号": "mobile",
    "seniority": "seniority",
    "level": "seniority",
    "级别": "seniority",
    "资历": "seniority",
}
SENIORITY = {"senior": "senior", "资深": "senior", "高级": "senior", "junior": "junior", "普通": "junior",
             "初级": "junior"}  # fmt: skip
CUSTOMER_HEADERS = {
    "name": "name",
    "客户名称": "name",
    "客户": "name",
    "owner_id": "owner_id",
    "负责人工号": "owner_id",
    "stage": "stage",
    "阶段": "stage",
    "amount": "amount",
    "金额": "amount",
    "expected_close": "expected_close",
    "预计签约日期": "expected_close",
    "next_action": "next_action",
    "下一步": "next_action",
    "next_action_date": "next_action_date",
    "下一步日期": "next_action_date",
    "stage_entered_at": "stage_entered_at",
    "进入阶段日期": "stage_entered_at",
    "closed_on": "closed_on",
    "成交日期": "closed_on",
    "签约日期": "closed_on",
    "流失日期": "closed_on",
    "关闭日期": "closed_on",
    "industry": "industry",
    "行业": "industry",
    "region": "region",
    "地区": "region",
    "size": "size",
    "规模": "size",
    "source": "source",
    "来源": "source",
    "aliases": "aliases",
    "别名": "aliases",
    "confidence": "confidence",
    "把握": "confidence",
    "margin": "margin",
    "毛利率": "margin",
    "毛利": "margin",
    "paid_on": "paid_on",
    "回款日期": "paid_on",
    "回款日": "paid_on",
}
ROLES = {
    "rep": Role.REP,
    "销售": Role.REP,
    "销售代表": Role.REP,
    "代表": Role.REP,
    "supervisor": Role.SUPERVISOR,
    "主管": Role.SUPERVISOR,
    "经理": Role.SUPERVISOR,
    "销售主管": Role.SUPERVISOR,
    "admin": Role.ADMIN,
    "管理员": Role.ADMIN,
}
CONFIDENCE = {
    "high": Confidence.HIGH,
    "高": Confidence.HIGH,
    "medium": Confidence.MEDIUM,
    "中": Confidence.MEDIUM,
    "low": Confidence.LOW,
    "低": Confidence.LOW,
}


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def tally(self, outcome: str) -> None:
        """Count a repository's "added", "updated" or "unchanged"."""
        self.added += outcome == "added"
        self.updated += outcome == "updated"
        self.unchanged += outcome == "unchanged"

    def reject(self, row: Row, reason: str) -> None:
        self.rejected.append({"row": row.number, "reason": reason})

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def lines(self, what: str) -> list[str]:
        out = [f"导入{what}: 新增 {self.added}, 更新 {self.updated}, 未变 {self.unchanged}, 拒绝 {len(self.rejected)}"]
        out += [f"  第 {r['row']} 行: {r['reason']}" for r in self.rejected]
        out += [f"  注意: {note}" for note in self.notes]
        return out


ACCOUNT = "account:"  # a row's value for one platform's user id is keyed account:<platform>


def employee_headers(platforms: Mapping[str, str]) -> dict[str, str]:
    """The accepted headers: the fixed ones, and per platform (name -> its Chinese name, e.g. 钉钉)
    ``<name>_userid``, ``<中文名>账号`` and ``<中文名>id``."""
    headers = dict(EMPLOYEE_HEADERS)
    for platform, label in platforms.items():
        for header in (f"{platform}_userid", f"{label}账号", f"{label}id"):
            headers[header.lower()] = ACCOUNT + platform
    return headers


def read_employee_rows(path: Path, platforms: Mapping[str, str]) -> list[Row]:
    """Employee rows; ``platforms`` names the account columns the file may have (see ``employee_headers``)."""
    return read_rows(path, employee_headers(platforms), ("id", "name"))


def read_customer_rows(path: Path) -> list[Row]:
    return read_rows(path, CUSTOMER_HEADERS, ("name", "owner_id"))


async def import_employees(
    uow: UnitOfWork, rows: list[Row], now: datetime, platforms: Mapping[str, str]
) -> ImportReport:
    report = ImportReport()
    parsed: list[tuple[Row, Employee]] = []
    seen: set[str] = set()
    for row in rows:
        v = row.values
        emp_id, name = as_text(v.get("id")), as_text(v.get("name"))
        if not emp_id:
            report.reject(row, "缺少工号")
            continue
        if not name:
            report.reject(row, f"缺少姓名 ({emp_id})")
            continue
        if emp_id in seen:
            report.reject(row, f"文件内工号重复: {emp_id}")
            continue
        role_text = as_text(v.get("role"))
        role = ROLES.get(role_text.lower()) if role_text else Role.REP
        if role is None:
            report.reject(row, f"角色看不懂: {role_text}(可填 rep/supervisor/admin 或 销售/主管/管理员)")
            continue
        seniority_text = as_text(v.get("seniority"))
        seniority = SENIORITY.get(seniority_text.lower()) if seniority_text else "junior"
        if seniority is None:
            report.reject(row, f"级别看不懂: {seniority_text}(可填 资深/普通 或 senior/junior)")
            continue
        seen.add(emp_id)
        parsed.append(
            (
                row,
                Employee(
                    id=emp_id,
                    name=name,
                    role=role,
                    team=as_text(v.get("team")),
                    supervisor_id=as_text(v.get("supervisor_id")),
                    mobile=as_text(v.get("mobile")),
                    seniority=seniority,
                    accounts={
                        key.removeprefix(ACCOUNT): text
                        for key, value in v.items()
                        if key.startswith(ACCOUNT) and (text := as_text(value))
                    },
                ),
            )
        )
    known = {e.id for e in await uow.employees.find()} | seen
    taken = {account: e.id for e in await uow.employees.find() for account in e.accounts.items()}
    for row, employee in parsed:
        if employee.supervisor_id and employee.supervisor_id not in known:
            report.reject(row, f"上级工号不存在: {employee.supervisor_id}")
            continue
        clash = next(
            (
                f"{platforms.get(account[0], account[0])}账号已被 {taken[account]} 使用: {account[1]}"
                for account in employee.accounts.items()
                if taken.get(account, employee.id) != employee.id
            ),
            None,
        )
        if clash:
            report.reject(row, clash)
            continue
        taken.update((account, employee.id) for account in employee.accounts.items())
        if employee.team and await uow.teams.get(employee.team) is None:
            await uow.teams.add(Team(name=employee.team))
        existing = await uow.employees.get(employee.id)
        if existing is None:
            await uow.employees.add(employee)
            report.added += 1
        else:
            employee.active = existing.active
            if "seniority" not in row.values:  # a file without the column keeps each level
                employee.seniority = existing.seniority
            # a platform without a column in the file keeps its account; an empty cell removes it
            named = {key.removeprefix(ACCOUNT) for key in row.values if key.startswith(ACCOUNT)}
            employee.accounts = {p: u for p, u in existing.accounts.items() if p not in named} | employee.accounts
            if employee == existing:
                report.unchanged += 1
            else:
                await uow.employees.update(employee)
                report.updated += 1
    await uow.audit.add(AuditEntry(at=now, action="import.employees", detail=report.as_dict()))
    return report


def _customer_values(v: dict[str, Any], tz: ZoneInfo) -> tuple[dict[str, Any], list[str]]:
    """The row's non-empty cells as typed values, and every cell that could not be read."""
    out: dict[str, Any] = {}
    errors: list[str] = []
    if v.get("stage") is not None:
        stage = parse_stage(str(v["stage"]))
        if stage is None:
            errors.append(f"阶段看不懂: {v['stage']}")
        else:
            out["stage"] = stage
    for key, parse in (("amount", parse_amount), ("margin", parse_ratio)):
        if v.get(key) is not None:
            try:
                out[key] = parse(v[key])
            except ValueError as exc:
                errors.append(str(exc))  # the message names the cell
    for key, label in (("expected_close", "预计签约日期"), ("next_action_date", "下一步日期"), ("paid_on", "回款日期"),
                       ("stage_entered_at", "进入阶段日期"), ("closed_on", "成交/流失日期")):  # fmt: skip
        if v.get(key) is not None:
            try:
                out[key] = parse_date(v[key])
            except ValueError as exc:
                errors.append(f"{label}{exc}")
    if out.get("stage_entered_at") is not None:
        out["stage_entered_at"] = datetime.combine(out["stage_entered_at"], time(9, 0), tz)
    if v.get("confidence") is not None:
        conf = CONFIDENCE.get(str(v["confidence"]).strip().lower())
        if conf is None:
            errors.append(f"把握看不懂: {v['confidence']}")
        else:
            out["confidence"] = conf
    for key in ("next_action", "industry", "region", "size", "source"):
        if v.get(key) is not None:
            out[key] = as_text(v[key])
    if v.get("aliases") is not None:
        text = str(v["aliases"]).replace("；", ";")
        out["aliases"] = [a.strip() for a in text.split(";") if a.strip()]
    return out, errors


def _closing(values: dict[str, Any], stage: Stage, tz: ZoneInfo) -> datetime | None:
    """When a won or lost deal closed: its own date, else the day it entered the stage; never today by default
    (an old deal dated today would count in this month's commission)."""
    closed_on: date | None = values.pop("closed_on", None)
    if not stage.is_closed:
        return None
    if closed_on is not None:
        return datetime.combine(closed_on, time(9, 0), tz)
    entered: datetime | None = values.get("stage_entered_at")
    return entered


IMPORT_CHUNK = 1000  # new customers written per statement; the progress is told after each
Progress = Callable[[int, int], None]  # (rows done, rows in all)


async def import_customers(
    uow: UnitOfWork, rows: list[Row], now: datetime, tz: ZoneInfo, progress: Progress | None = None
) -> ImportReport:
    """Customers by name: new ones added, known ones updated. A row is taken whole or rejected with every
    reason at once. Open stages without a date start counting at the import; closed ones need a date.

    The known customers are read once, and new ones written a thousand to a statement (with their first
    stage-history rows), so a file of 100,000 rows takes seconds, not minutes."""
    report = ImportReport()
    owners = {e.id for e in await uow.employees.find()}
    known = {c.name: c for c in await uow.customers.find()}
    seen: set[str] = set()
    undated = 0
    fresh: list[Customer] = []

    async def write_fresh() -> None:
        added = await uow.customers.add_many(fresh)
        entered = [StageChange(c.id, None, c.stage, c.stage_entered_at) for c in added if c.id is not None]
        await uow.stages.add_many(entered)
        report.added += len(added)
        fresh.clear()

    async with uow.customers.bulk_load(len(rows)):
        for done, row in enumerate(rows, start=1):
            if len(fresh) >= IMPORT_CHUNK:
                await write_fresh()
            if progress is not None and done % IMPORT_CHUNK == 0:
                progress(done, len(rows))
            name = as_text(row.values.get("name"))
            owner_id = as_text(row.values.get("owner_id"))
            errors: list[str] = []
            if not name:
                errors.append("缺少客户名称")
            elif name in seen:
                errors.append(f"文件内客户重复: {name}")
            if not owner_id:
                errors.append("缺少负责人工号" + (f" ({name})" if name else ""))
            elif owner_id not in owners:
                errors.append(f"负责人工号不存在: {owner_id}")
            values, bad = _customer_values(row.values, tz)
            errors += bad
            existing = known.get(name) if name and name not in seen else None
            if name:
                seen.add(name)
            stage: Stage = values.get("stage") or (existing.stage if existing else Stage.INITIAL)
            stage_moves = existing is None or stage != existing.stage
            if values.get("closed_on") is not None and not stage.is_closed:
                errors.append(f"填了成交/流失日期,但阶段是{stage.label}")
            closed_at = _closing(values, stage, tz)
            if stage.is_closed and stage_moves and closed_at is None:
                outcome = "成交" if stage is Stage.WON else "流失"
                errors.append(f"{stage.label}的客户需要「进入阶段日期」或「{outcome}日期」,否则会被算成今天{outcome}")
            if errors or not name or not owner_id:
                report.reject(row, ";".join(errors))
                continue
            if closed_at is not None and "stage_entered_at" not in values:
                values["stage_entered_at"] = closed_at
            if stage_moves and "stage_entered_at" not in values:
                undated += 1
            if existing is None:
                fresh.append(Customer(
                    name=name, owner_id=owner_id, stage=values.pop("stage", Stage.INITIAL),
                    stage_entered_at=values.pop("stage_entered_at", now), created_at=now, closed_at=closed_at, **values,
                ))  # fmt: skip
                continue
            changed = dataclasses.replace(existing, owner_id=owner_id, **values)
            if changed.stage != existing.stage:
                if "stage_entered_at" not in values:
                    changed.stage_entered_at = now
                changed.closed_at = closed_at
                assert existing.id is not None
                await uow.stages.add(
                    StageChange(
                        customer_id=existing.id,
                        from_stage=existing.stage,
                        to_stage=changed.stage,
                        changed_at=changed.stage_entered_at,
                    )
                )
            elif closed_at is not None and row_dates(row):  # a re-import dates a closed deal that had none
                changed.closed_at = closed_at
            if changed == existing:
                report.unchanged += 1
            else:
                await uow.customers.update(changed)
                report.updated += 1
        await write_fresh()
    if progress is not None:
        progress(len(rows), len(rows))
    if undated:
        report.notes.append(f"{undated} 个客户没有进入阶段日期,停留天数从这次导入算起")
    await uow.audit.add(AuditEntry(at=now, action="import.customers", detail=report.as_dict()))
    return report


def row_dates(row: Row) -> set[str]:
    """The date columns a row fills in."""
    return {k for k in ("stage_entered_at", "closed_on") if row.values.get(k) is not None}


GOAL_HEADERS = {
    "month": "month",
    "月份": "month",
    "level": "level",
    "层级": "level",
    "team": "team",
    "团队": "team",
    "employee_id": "employee_id",
    "工号": "employee_id",
    "员工工号": "employee_id",
    "kpi": "kpi",
    "指标": "kpi",
    "关键结果": "kpi",
    "target": "target",
    "目标值": "target",
    "目标": "target",
    "objective": "objective",
    "公司目标": "objective",
    "目标说明": "objective",
}
LEVELS = {"company": Level.COMPANY, "公司": Level.COMPANY, "team": Level.TEAM, "团队": Level.TEAM,
          "rep": Level.REP, "个人": Level.REP, "销售": Level.REP}  # fmt: skip


def read_goal_rows(path: Path) -> list[Row]:
    return read_rows(path, GOAL_HEADERS, ("month", "kpi", "target"))


def _goal(v: dict[str, Any], employees: set[str], teams: set[str]) -> Goal:
    """A row as a goal: the level from its column, else from which of 工号/团队 is filled; ValueError says why."""
    month = parse_month(v.get("month") or "")
    kpi_text = as_text(v.get("kpi")) or ""
    kpi = parse_kpi(kpi_text)
    if kpi is None:
        raise ValueError(f"指标看不懂: {kpi_text}(可填 " + "、".join(k.label for k in Kpi) + ")")
    target = parse_amount(v.get("target"))
    if target is None:
        raise ValueError("缺少目标值")
    if not kpi.money and target != target.to_integral_value():
        raise ValueError(f"{kpi.label}要填整数: {target}")
    employee, team = as_text(v.get("employee_id")), as_text(v.get("team"))
    level_text = as_text(v.get("level"))
    level = LEVELS.get(level_text.lower()) if level_text else (
        Level.REP if employee else Level.TEAM if team else Level.COMPANY)  # fmt: skip
    if level is None:
        raise ValueError(f"层级看不懂: {level_text}(可填 公司/团队/个人)")
    subject = {Level.COMPANY: "", Level.TEAM: team or "", Level.REP: employee or ""}[level]
    if level is Level.REP and subject not in employees:
        raise ValueError(f"工号不存在: {subject}" if subject else "个人目标缺少工号")
    if level is Level.TEAM and subject not in teams:
        raise ValueError(f"团队不存在: {subject}" if subject else "团队目标缺少团队")
    return Goal(month, level, subject, kpi, target, as_text(v.get("objective")))


async def import_goals(uow: UnitOfWork, rows: list[Row], now: datetime) -> ImportReport:
    """Targets per month and level; the same file twice changes nothing."""
    report = ImportReport()
    employees = {e.id for e in await uow.employees.find()}
    teams = {t.name for t in await uow.teams.find()}
    seen: set[tuple[str, Level, str, Kpi]] = set()
    for row in rows:
        try:
            goal = _goal(row.values, employees, teams)
        except ValueError as exc:
            report.reject(row, str(exc))
            continue
        key = (goal.month, goal.level, goal.subject, goal.kpi)
        if key in seen:
            report.reject(row, f"文件内目标重复: {goal.month} {goal.subject or '公司'} {goal.kpi.label}")
            continue
        seen.add(key)
        outcome = await uow.goals.put(goal)
        report.tally(outcome)
    await uow.audit.add(AuditEntry(at=now, action="import.goals", detail=report.as_dict()))
    return report


TEAM_HEADERS = {
    "name": "name",
    "team": "name",
    "团队": "name",
    "团队名称": "name",
    "standup_enabled": "standup_enabled",
    "站会": "standup_enabled",
    "开站会": "standup_enabled",
    "standup_time": "standup_time",
    "站会时间": "standup_time",
    "standup_window_minutes": "standup_window_minutes",
    "站会时长": "standup_window_minutes",
    "站会时长(分钟)": "standup_window_minutes",
}
GROUP = "group:"  # a row's value for one platform's group chat is keyed group:<platform>
YES = {"是", "开", "开启", "y", "yes", "true", "1"}
NO = {"否", "关", "关闭", "不开", "n", "no", "false", "0"}
STANDUP_TIME = re.compile(r"^(?P<h>[01]?\d|2[0-3])[:：](?P<m>[0-5]\d)(?:[:：]00)?$")  # a spreadsheet's 15:00:00 too


def team_headers(platforms: Mapping[str, str]) -> dict[str, str]:
    """The fixed headers, and per platform ``<name>_group``, ``<中文名>群``: its chat id, or its group robot
    written as that platform's sender reads it (企业微信 ``webhook:KEY``, 钉钉 ``robot:TOKEN:SECRET``)."""
    headers = dict(TEAM_HEADERS)
    for platform, label in platforms.items():
        for header in (f"{platform}_group", f"{label}群", f"{label}群聊"):
            headers[header.lower()] = GROUP + platform
    return headers


def read_team_rows(path: Path, platforms: Mapping[str, str]) -> list[Row]:
    return read_rows(path, team_headers(platforms), ("name",))


def _team(v: dict[str, Any], existing: Team | None) -> Team:
    """A row over what is stored: only the columns the file has change anything; ValueError says why."""
    name = as_text(v.get("name"))
    if not name:
        raise ValueError("缺少团队名称")
    team = dataclasses.replace(existing, channels=dict(existing.channels)) if existing else Team(name=name)
    if v.get("standup_enabled") is not None:
        flag = (as_text(v["standup_enabled"]) or "").lower()
        if flag not in YES | NO:
            raise ValueError(f"开站会要填 是/否: {flag}")
        team.standup_enabled = flag in YES
    if v.get("standup_time") is not None:
        text = as_text(v["standup_time"]) or ""
        match = STANDUP_TIME.match(text)
        if match is None:
            raise ValueError(f"站会时间要写成 15:00 这样: {text}")
        team.standup_time = f"{int(match['h']):02d}:{match['m']}"
    if v.get("standup_window_minutes") is not None:
        text = as_text(v["standup_window_minutes"]) or ""
        if not text.isdigit() or not 5 <= int(text) <= 240:
            raise ValueError(f"站会时长要填 5 到 240 之间的分钟数: {text}")
        team.standup_window_minutes = int(text)
    for key, value in v.items():
        if key.startswith(GROUP):
            target = as_text(value)
            if target:
                team.channels[key.removeprefix(GROUP)] = target
            else:
                team.channels.pop(key.removeprefix(GROUP), None)
    return team


async def import_teams(uow: UnitOfWork, rows: list[Row], now: datetime) -> ImportReport:
    """Teams, their standup and their group chat per platform; the same file twice changes nothing."""
    report = ImportReport()
    seen: set[str] = set()
    for row in rows:
        name = as_text(row.values.get("name")) or ""
        existing = await uow.teams.get(name) if name else None
        try:
            team = _team(row.values, existing)
        except ValueError as exc:
            report.reject(row, str(exc))
            continue
        if team.name in seen:
            report.reject(row, f"文件内团队重复: {team.name}")
            continue
        seen.add(team.name)
        if existing is None:
            await uow.teams.add(team)
            report.added += 1
        elif team == existing:
            report.unchanged += 1
        else:
            await uow.teams.update(team)
            report.updated += 1
    await uow.audit.add(AuditEntry(at=now, action="import.teams", detail=report.as_dict()))
    return report


LEAD_HEADERS = {
    "name": "name", "名称": "name", "公司": "name", "客户名称": "name", "线索名称": "name",
    "contact": "contact", "联系人": "contact", "联系方式": "contact", "电话": "contact",
    "channel": "channel", "source": "channel", "来源": "channel", "渠道": "channel", "来源渠道": "channel",
    "received_at": "received_at", "获取时间": "received_at", "时间": "received_at", "进线时间": "received_at",
    "owner_id": "owner_id", "负责人工号": "owner_id", "工号": "owner_id",
}  # fmt: skip
EVENT_HEADERS = {
    "lead": "lead", "name": "lead", "线索": "lead", "客户": "lead", "名称": "lead", "公司": "lead",
    "type": "kind", "kind": "kind", "event": "kind", "事件": "kind", "类型": "kind",
    "seconds": "seconds", "时长": "seconds", "秒数": "seconds", "浏览秒数": "seconds",
    "what": "what", "page": "what", "asset": "what", "页面": "what", "资料": "what", "内容": "what",
    "at": "at", "time": "at", "时间": "at",
    "id": "key", "key": "key", "event_id": "key", "事件编号": "key",
}  # fmt: skip


def read_lead_rows(path: Path) -> list[Row]:
    return read_rows(path, LEAD_HEADERS, ("name", "channel", "received_at"))


def read_event_rows(path: Path) -> list[Row]:
    return read_rows(path, EVENT_HEADERS, ("lead", "kind", "at"))


def _moment(value: Any, tz: ZoneInfo, what: str) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    text = as_text(value)
    if not text:
        raise ValueError(f"缺少{what}")
    try:
        moment = datetime.fromisoformat(text.replace("/", "-"))
    except ValueError:
        day = parse_date(text)
        if day is None:
            raise ValueError(f"{what}看不懂: {text}") from None
        moment = datetime.combine(day, time(9))
    moment = moment if moment.tzinfo else moment.replace(tzinfo=tz)
    if not 2000 <= moment.year <= 2100:
        raise ValueError(f"{what}不在 2000 到 2100 年之间: {text if not isinstance(value, datetime) else value}")
    return moment


async def import_leads(uow: UnitOfWork, rows: list[Row], now: datetime, tz: ZoneInfo) -> ImportReport:
    """New leads (by name); a lead seen before keeps what it has and fills in what it lacked. An owner given in the
    file hands the lead to that rep now; the rest wait for the assignment rules."""
    report = ImportReport()
    employees = {e.id: e for e in await uow.employees.find()}
    seen: set[str] = set()
    for row in rows:
        v = row.values
        name, channel = as_text(v.get("name")), as_text(v.get("channel"))
        try:
            if not name or not channel:
                raise ValueError("缺少名称" if not name else "缺少来源渠道")
            if len(name) > 200 or len(channel) > 100 or len(as_text(v.get("contact")) or "") > 200:
                raise ValueError("名称最多 200 字,渠道最多 100 字,联系人最多 200 字")
            if name in seen:
                raise ValueError(f"文件内重复: {name}")
            received = _moment(v.get("received_at"), tz, "获取时间")
            owner = as_text(v.get("owner_id"))
            if owner is not None and (owner not in employees or not employees[owner].active):
                raise ValueError(f"工号不存在或已停用: {owner}")
        except ValueError as exc:
            report.reject(row, str(exc))
            continue
        seen.add(name)
        existing = await uow.leads.by_name(name)
        contact = as_text(v.get("contact"))
        if existing is None:
            # an owner given in the file is only asked for: the hand-over (a customer, the message) is assign_waiting's
            await uow.leads.add(Lead(name, channel, received, contact, owner_id=owner))
            report.added += 1
            continue
        changed = dataclasses.replace(existing, contact=existing.contact or contact)
        if existing.customer_id is None and owner is not None:
            changed.owner_id = owner
        if changed == existing:
            report.unchanged += 1
        else:
            await uow.leads.update(changed)
            report.updated += 1
    await uow.audit.add(AuditEntry(at=now, action="import.leads", detail=report.as_dict()))
    return report


def event_key(lead: str, kind: EventKind, at: datetime, what: str | None, seconds: int | None) -> str:
    """An event without the source's own id is known by what it says: the same line twice is one event."""
    digest = hashlib.sha1(f"{lead}|{kind.value}|{at.isoformat()}|{what or ''}|{seconds or ''}".encode()).hexdigest()
    return f"h:{digest}"


def parse_event(v: Mapping[str, Any], tz: ZoneInfo) -> tuple[str, EventKind, datetime, int | None, str | None, str]:
    """(lead name, kind, time, seconds, what, key) of a row or a posted event; ValueError says what is wrong."""
    lead = as_text(v.get("lead"))
    if not lead:
        raise ValueError("缺少线索或客户名称")
    raw_kind = as_text(v.get("kind")) or ""
    kind = KIND_WORDS.get(raw_kind.lower())
    if kind is None:
        raise ValueError(f"事件类型看不懂: {raw_kind}(可填 " + "、".join(k.value for k in EventKind) + ")")
    at = _moment(v.get("at"), tz, "时间")
    seconds_raw = v.get("seconds")
    seconds: int | None = None
    if seconds_raw not in (None, ""):
        try:
            value = float(str(seconds_raw))
            if not math.isfinite(value):
                raise ValueError
            seconds = int(value)
        except ValueError:
            raise ValueError(f"时长要填秒数: {seconds_raw}") from None
        if not 0 <= seconds <= 86_400:
            raise ValueError(f"时长不在 0 到 86400 秒之间: {seconds}")
    if kind is EventKind.PAGE_VIEW and seconds is None:
        raise ValueError("页面浏览要填时长(秒)")
    what = as_text(v.get("what"))
    what = what[:200] if what else None
    key = as_text(v.get("key"))
    # a source's id is its own per lead (two leads' events may both be "1"); the same moment in another offset is one
    own = f"id:{hashlib.sha1(f'{lead}|{key}'.encode()).hexdigest()}" if key else None
    return lead, kind, at, seconds, what, own or event_key(lead, kind, at.astimezone(UTC), what, seconds)


async def lead_for(uow: UnitOfWork, name: str, now: datetime) -> Lead | None:
    """The lead of this name; for a customer that came without a lead (imported, or from a brief), a lead record
    is made for it, already with its owner (its events count all the same)."""
    lead = await uow.leads.by_name(name)
    if lead is not None:
        return lead
    customer = await uow.customers.by_name(name)
    if customer is None or customer.id is None:
        return None
    # long followed already: no first-response clock runs for it
    return await uow.leads.add(Lead(name[:200], "已有客户", customer.created_at, owner_id=customer.owner_id,
                                    assigned_at=customer.created_at, customer_id=customer.id,
                                    first_response_at=customer.created_at))  # fmt: skip


async def import_events(
    uow: UnitOfWork, rows: list[Row], now: datetime, tz: ZoneInfo
) -> tuple[ImportReport, dict[int, Lead]]:
    """Events of leads or customers; the same event twice (its id, or the same line) is stored once. The leads that
    got new events come back, to be scored again."""
    report = ImportReport()
    touched: dict[int, Lead] = {}
    for row in rows:
        try:
            name, kind, at, seconds, what, key = parse_event(row.values, tz)
            lead = await lead_for(uow, name, now)
            if lead is None or lead.id is None:
                raise ValueError(f"没有这个线索或客户: {name}")
        except ValueError as exc:
            report.reject(row, str(exc))
            continue
        if await uow.leads.add_events([LeadEvent(lead.id, kind, at, seconds, what, key)]):
            report.added += 1
            touched[lead.id] = lead
        else:
            report.unchanged += 1
    await uow.audit.add(AuditEntry(at=now, action="import.events", detail=report.as_dict()))
    return report, touched


COST_HEADERS = {
    "channel": "channel", "渠道": "channel", "来源渠道": "channel", "month": "month", "月份": "month",
    "spend": "spend", "花费": "spend", "投放金额": "spend", "金额": "spend", "费用": "spend",
}  # fmt: skip


def read_cost_rows(path: Path) -> list[Row]:
    return read_rows(path, COST_HEADERS, ("channel", "month", "spend"))


async def import_costs(uow: UnitOfWork, rows: list[Row], now: datetime) -> ImportReport:
    """Each channel's spend per month (for the acquisition cost); a month given again replaces its figure."""
    report = ImportReport()
    seen: set[tuple[str, str]] = set()
    for row in rows:
        v = row.values
        try:
            channel = as_text(v.get("channel"))
            if not channel:
                raise ValueError("缺少渠道")
            month = parse_month(v.get("month") or "")
            spend = parse_amount(v.get("spend"))
            if spend is None or spend < 0:
                raise ValueError(f"花费要填不小于 0 的金额: {as_text(v.get('spend'))}")
            if (channel, month) in seen:
                raise ValueError(f"文件内重复: {channel} {month}")
        except ValueError as exc:
            report.reject(row, str(exc))
            continue
        seen.add((channel, month))
        outcome = await uow.leads.put_cost(channel, month, spend.quantize(Decimal("0.01")))
        report.tally(outcome)
    await uow.audit.add(AuditEntry(at=now, action="import.costs", detail=report.as_dict()))
    return report


PRODUCT_HEADERS = {
    "code": "code", "编码": "code", "产品编码": "code", "物料编码": "code", "name": "name", "名称": "name",
    "产品名称": "name", "unit": "unit", "单位": "unit", "list_price": "list_price", "标准价": "list_price",
    "目录价": "list_price", "单价": "list_price", "价格": "list_price", "floor_price": "floor_price",
    "底价": "floor_price",
    "最低价": "floor_price", "max_discount": "max_discount", "最大优惠": "max_discount", "最多优惠": "max_discount",
    "最大折扣": "max_discount", "tax_rate": "tax_rate", "税率": "tax_rate", "effective_from": "effective_from",
    "生效日期": "effective_from", "aliases": "aliases", "简称": "aliases", "别名": "aliases", "includes": "includes",
    "套餐包含": "includes", "包含": "includes",
}  # fmt: skip
_LIST = re.compile(r"[,，、;；/|]")


def read_product_rows(path: Path) -> list[Row]:
    return read_rows(path, PRODUCT_HEADERS, ("code", "name", "unit", "list_price", "tax_rate"))


def _includes(text: str) -> tuple[tuple[str, Decimal], ...]:
    """A bundle's contents: ``A100*2; S01*1`` (a code alone counts one)."""
    out = []
    for part in (p.strip() for p in _LIST.split(text) if p.strip()):
        code, _, count = part.partition("*")
        amount = Decimal(count.strip() or "1") if count.strip().replace(".", "", 1).isdigit() or not count else None
        if amount is None or amount <= 0 or not code.strip():
            raise ValueError(f"套餐包含看不懂: {part}(写成 编码*数量)")
        out.append((code.strip(), amount))
    return tuple(out)


async def import_products(uow: UnitOfWork, rows: list[Row], now: datetime, today: date) -> ImportReport:
    """The price list: a version per code and effective date (no date: from today). The same row again changes
    nothing; a later effective date is a new version, and quotes made before keep their prices."""
    report = ImportReport()
    seen: set[tuple[str, date]] = set()
    products: list[Product] = []
    for row in rows:
        v = row.values
        try:
            code, name, unit = as_text(v.get("code")), as_text(v.get("name")), as_text(v.get("unit"))
            if not code or not name or not unit:
                raise ValueError("编码、名称、单位都要填")
            price = parse_amount(v.get("list_price"))
            if price is None or price <= 0:
                raise ValueError(f"标准价要填大于 0 的金额: {as_text(v.get('list_price'))}")
            tax = parse_ratio(v.get("tax_rate"))
            if tax is None or not 0 <= tax < 1:
                raise ValueError(f"税率要填 0-100% 之间: {as_text(v.get('tax_rate'))}")
            floor = parse_amount(v.get("floor_price"))
            if floor is not None and not 0 <= floor <= price:
                raise ValueError(f"底价要在 0 和标准价之间: {as_text(v.get('floor_price'))}")
            most = parse_ratio(v.get("max_discount"))
            if most is not None and not 0 <= most < 1:
                raise ValueError(f"最大优惠要在 0-100% 之间: {as_text(v.get('max_discount'))}")
            since = parse_date(v.get("effective_from")) or today
            if (code, since) in seen:
                raise ValueError(f"文件内重复: {code} {since.isoformat()}")
            aliases = tuple(a.strip() for a in _LIST.split(as_text(v.get("aliases")) or "") if a.strip())
            includes = _includes(as_text(v.get("includes")) or "")
        except (ValueError, ArithmeticError) as exc:
            report.reject(row, str(exc))
            continue
        seen.add((code, since))
        products.append(Product(code, name, unit, price.quantize(Decimal("0.01")), tax, since,
                                floor.quantize(Decimal("0.01")) if floor is not None else None, most, aliases,
                                includes))  # fmt: skip
    known = {p.code for p in products} | {p.code for p in await uow.quotes.products()}
    for p in products:
        missing = [c for c, _ in p.includes if c not in known]
        if missing:
            report.notes.append(f"{p.code} 的套餐包含未知编码: {'、'.join(missing)}")
    added, changed, same = await uow.quotes.put_products(products)
    report.added, report.updated, report.unchanged = added, changed, same
    await uow.audit.add(AuditEntry(at=now, action="import.products", detail=report.as_dict()))
    return report
