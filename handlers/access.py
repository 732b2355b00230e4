"""Who is speaking: map the platform's user to an employee, or tell a stranger whom to ask."""

from __future__ import annotations

import re

from handlers.messages import Incoming, Reply
from handlers.routing import Context, Router
from sales.accounts import CONSOLE
from sales.model import AuditEntry, Employee, Role
from store.repositories import UnitOfWork

router = Router("access")


async def resolve_sender(uow: UnitOfWork, message: Incoming, *, auto_register: bool) -> Employee | None:
    """The employee behind a message; with ``auto_register`` a stranger becomes a rep (trials)."""
    employee = await uow.employees.by_platform_user(message.platform, message.user_id)
    if employee is not None or not auto_register:
        return employee if employee is None or employee.active else None
    employee_id = _free_id(message.platform, message.user_id)
    while await uow.employees.get(employee_id) is not None:
        employee_id += "_"
    employee = Employee(
        id=employee_id,
        name=str(message.extra.get("sender_name") or message.user_id),
        role=Role.REP,
        accounts={} if message.platform == CONSOLE else {message.platform: message.user_id},
    )
    await uow.employees.add(employee)
    await uow.audit.add(
        AuditEntry(
            at=message.received_at,
            action="employee.auto_register",
            actor=employee.id,
            detail={"platform": message.platform, "user_id": message.user_id},
        )
    )
    return employee


def _free_id(platform: str, user_id: str) -> str:
    cleaned = re.sub(r"[^0-9A-Za-z_.-]", "", user_id)[:40] or "user"
    return f"{platform[:2]}_{cleaned}"


@router.message(lambda m, ctx: ctx.employee is None)
async def stranger(message: Incoming, ctx: Context) -> list[Reply]:
    admins = [e.name for e in await ctx.uow.employees.find(active_only=True) if e.role is Role.ADMIN]
    whom = "管理员" + ("「" + "、".join(admins[:3]) + "」" if admins else "")
    return [Reply(f"你好!你还不在 Genjin 的员工名单里,请联系{whom}把你的账号加进来。你的消息已保存。")]
