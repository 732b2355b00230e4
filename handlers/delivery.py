"""Reaching an employee on their own initiative (reminders, task lists): which platform, which id."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from handlers.format import fit
from sales.model import Employee, OutboxMessage
from store.repositories import UnitOfWork


def address(employee: Employee, platforms: Sequence[str]) -> tuple[str, str] | None:
    """The first enabled platform the employee has an account on (the console always works)."""
    for platform in platforms:
        if platform == "wecom" and employee.wecom_userid:
            return platform, employee.wecom_userid
        if platform == "dingtalk" and employee.dingtalk_userid:
            return platform, employee.dingtalk_userid
        if platform == "console":
            return platform, employee.id
    return None


async def notify(
    uow: UnitOfWork, employee: Employee, text: str, *, key: str, now: datetime, platforms: Sequence[str]
) -> bool:
    """Queue a message to one employee; False when it was queued before (same key) or cannot be sent."""
    target = address(employee, platforms)
    if target is None or not employee.active:
        return False
    platform, user = target
    payload = {"text": fit(text.split("\n"))}
    return await uow.outbox.enqueue(
        OutboxMessage(platform=platform, key=key, created_at=now, payload=payload, to_user=user)
    )
