"""The stall scan: one digest per person, each reminder level sent once per stay.

Keys live in the store (``reminders``), so scans, restarts and several processes on one
database send a reminder once; a brief about the customer after a reminder clears it.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sales.model import Employee
from sales.people import display_names
from sales.permissions import team_supervisors
from sales.stall import Reminder
from store.repositories import UnitOfWorkFactory
from usecases.delivery import notify
from usecases.heavy import heavy
from usecases.services import Services
from usecases.stalls import EXPECTED, Stalled, describe, find_stalled


@dataclass
class Notice:
    to: str
    kind: str  # reminder (to the owner) or escalation (to the supervisor)
    items: list[Stalled]
    cc: list[str] = field(default_factory=list)
    text: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "to": self.to,
            "cc": self.cc,
            "kind": self.kind,
            "customers": [
                {"name": i.row.name, "level": i.finding.level, "reason": i.finding.reason, "days": i.finding.days}
                for i in self.items
            ],
        }


LISTED = 40  # lines written into one digest; a chat message holds about that many anyway


def _more(total: int) -> list[str]:
    return [f"……还有 {total - LISTED} 个,发「哪些客户超期了」查看全部。"] if total > LISTED else []


def supervisors(employees: dict[str, Employee]) -> Callable[[str], Employee | None]:
    """Whom an owner's escalations go to — the rule of ``sales.permissions`` (a supervisor who left is
    skipped) — worked out once per owner, not once per stalled customer (tens of thousands in a scan)."""
    staff = list(employees.values())
    known: dict[str, Employee | None] = {}

    def of(owner_id: str) -> Employee | None:
        if owner_id not in known:
            owner = employees.get(owner_id)
            found = team_supervisors(owner, staff) if owner else []
            known[owner_id] = found[0] if found else None
        return known[owner_id]

    return of


def due(found: list[Stalled], sent: list[Reminder]) -> list[Stalled]:
    """What is new: a level higher than any sent for the same stay, unless a brief since cleared it."""
    best: dict[tuple[int, str, str], Reminder] = {}
    for r in sent:
        key = (r.customer_id, r.reason, r.stay)
        if key not in best or r.level > best[key].level:
            best[key] = r
    out = []
    for item in found:
        prior = best.get((item.row.id, item.finding.reason, item.finding.stay))
        if prior is not None and prior.level >= item.finding.level:
            continue
        if prior is not None and item.row.last_followup_at and item.row.last_followup_at > prior.sent_at:
            continue  # the owner answered the last reminder
        out.append(item)
    return out


def build_notices(items: list[Stalled], employees: dict[str, Employee]) -> list[Notice]:
    """One message per person: the owner hears of all their customers, the supervisor of level 2 and up."""
    per_owner: dict[str, list[Stalled]] = defaultdict(list)
    per_supervisor: dict[str, list[Stalled]] = defaultdict(list)
    supervisor_of = supervisors(employees)
    for item in items:
        per_owner[item.row.owner_id].append(item)
        supervisor = supervisor_of(item.row.owner_id)
        if item.finding.level >= 2 and supervisor is not None:
            per_supervisor[supervisor.id].append(item)
    notices = []
    shown = display_names(employees.values())
    for owner_id, own in per_owner.items():
        own.sort(key=lambda i: (-i.finding.level, -i.finding.days))
        example = own[0].row.name
        lines = [f"跟进提醒:这 {len(own)} 个客户需要你更新进展,{EXPECTED},例如「{example} 下周三演示」。"]
        lines += [describe(i) for i in own[:LISTED]] + _more(len(own))
        notices.append(Notice(owner_id, "reminder", own, text="\n".join(lines)))
    for supervisor_id, team in per_supervisor.items():
        team.sort(key=lambda i: (-i.finding.level, -i.finding.days))
        owners = sorted({i.row.owner_id for i in team})
        lines = [f"升级提醒:团队里这 {len(team)} 个客户停滞较久,已同时提醒负责人;需要时请介入。"]
        lines += [describe(i, owner=shown.get(i.row.owner_id)) for i in team[:LISTED]] + _more(len(team))
        notices.append(Notice(supervisor_id, "escalation", team, cc=owners, text="\n".join(lines)))
    return notices


@heavy
async def scan(
    uow_factory: UnitOfWorkFactory, services: Services, now: datetime, *, dry_run: bool = False
) -> list[Notice]:
    """Find what is due, record it, queue the digests — all in one unit of work."""
    tz = services.timezone
    today = now.astimezone(tz).date()
    if not services.calendar.is_workday(today):
        return []  # nothing on weekends and holidays
    async with uow_factory() as uow:
        found = await find_stalled(uow, services.calendar, services.stall, today, tz)
        items = due(found, await uow.reminders.sent(sorted({i.row.id for i in found})))
        employees = {e.id: e for e in await uow.employees.find()}
        if not dry_run:
            records = []
            supervisor_of = supervisors(employees)
            for item in items:
                supervisor = supervisor_of(item.row.owner_id)
                to = supervisor.id if item.finding.level >= 2 and supervisor else item.row.owner_id
                records.append(Reminder(item.row.id, item.finding.reason, item.finding.stay, item.finding.level,
                                        to, now))  # fmt: skip
            new = await uow.reminders.record(records)
            items = [i for i, r in zip(items, records, strict=True) if r.key in new]
        notices = build_notices(items, employees)
        if not dry_run:
            for notice in notices:
                digest = hashlib.sha1("|".join(sorted(f"{i.row.id}:{i.finding.stay}:{i.finding.level}"
                                                      for i in notice.items)).encode()).hexdigest()[:16]  # fmt: skip
                key = f"notice:{today.isoformat()}:{notice.kind}:{notice.to}:{digest}"
                if notice.to in employees:
                    await notify(uow, employees[notice.to], notice.text, key=key, now=now, platforms=services.platforms)
            await uow.commit()
    return notices
