"""``genjin import followups``: an old CRM's 跟进记录 replayed in date order into briefs and stages.

The stage comes from the file's column when it has one, else the parser reads it from the text;
importing the same file twice changes nothing (each row is a brief keyed by its content).
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from nlu import BriefParser
from sales.customers import snapshot
from sales.model import Brief, BriefStatus, BriefUpdate, StageChange
from sales.stages import Stage, parse_stage
from sales.values import parse_date
from store.errors import ConflictError
from store.importers import ImportReport
from store.repositories import UnitOfWork
from store.tabular import Row, as_text, read_rows

HEADERS = {
    "customer": "customer", "客户": "customer", "客户名称": "customer",
    "date": "date", "日期": "date", "跟进日期": "date", "跟进时间": "date",
    "employee_id": "employee_id", "工号": "employee_id", "跟进人工号": "employee_id", "负责人工号": "employee_id",
    "text": "text", "内容": "text", "跟进内容": "text", "跟进记录": "text",
    "stage": "stage", "阶段": "stage",
}  # fmt: skip


def read_followup_rows(path: Path) -> list[Row]:
    return read_rows(path, HEADERS, ("customer", "date", "employee_id", "text"))


async def import_followups(
    uow: UnitOfWork, rows: list[Row], parser: BriefParser, tz: ZoneInfo, now: datetime
) -> ImportReport:
    report = ImportReport()
    staff = {e.id for e in await uow.employees.find()}
    valid: list[tuple[Row, Any, str, datetime, str, Stage | None]] = []
    for row in rows:
        v = row.values
        name, employee, text = as_text(v.get("customer")), as_text(v.get("employee_id")), as_text(v.get("text"))
        if not name or not text:
            report.reject(row, "缺少客户或内容")
            continue
        if employee not in staff:
            report.reject(row, f"跟进人工号不存在: {employee}")
            continue
        try:
            day = parse_date(v.get("date"))
        except ValueError as exc:
            report.reject(row, str(exc))
            continue
        if day is None:
            report.reject(row, "缺少日期")
            continue
        stage = parse_stage(str(v["stage"])) if v.get("stage") else None
        if v.get("stage") and stage is None:
            report.reject(row, f"阶段看不懂: {v['stage']}")
            continue
        customer = await uow.customers.by_name(name)
        if customer is None:  # a short form, as reps wrote it in the old system
            known = [u for u in parser.parse(name, now).updates if not u.is_new and not u.candidates]
            customer = await uow.customers.by_name(known[0].customer) if known else None
        if customer is None:
            report.reject(row, f"客户不存在: {name}")
            continue
        assert employee is not None
        valid.append((row, customer.id, employee, datetime.combine(day, time(18, 0), tz), text, stage))
    for _row, customer_id, employee, when, text, stage in sorted(valid, key=lambda r: (r[3], r[0].number)):
        key = hashlib.sha1(f"{customer_id}|{when.date()}|{employee}|{text}".encode()).hexdigest()[:32]
        try:
            async with uow.savepoint():
                record = Brief(sender_id=employee, platform="import", platform_msg_id=key, text=text,
                               received_at=when, status=BriefStatus.APPLIED)  # fmt: skip
                brief = await uow.briefs.add(record)
        except ConflictError:
            report.unchanged += 1
            continue
        assert brief.id is not None
        customer = await uow.customers.get(customer_id)
        assert customer is not None and customer.id is not None
        if stage is None:
            reached = [u.stage for u in parser.parse(f"{customer.name} {text}", when).updates
                       if u.customer == customer.name and u.stage]  # fmt: skip
            stage = Stage(reached[0]) if reached else None
        before = snapshot(customer)
        if stage is not None and stage != customer.stage:
            await uow.stages.add(StageChange(customer.id, customer.stage, stage, when, employee, brief.id))
            if when >= customer.stage_entered_at:  # the record is newer than what the CRM holds
                customer = dataclasses.replace(customer, stage=stage, stage_entered_at=when,
                                               closed_at=when if stage.is_closed else None)  # fmt: skip
        if customer.last_followup_at is None or when > customer.last_followup_at:
            customer.last_followup_at = when
        await uow.customers.update(customer)
        await uow.briefs.add_update(BriefUpdate(brief.id, customer_id, before, snapshot(customer)))
        report.added += 1
    return report
