"""Reaching an employee on their own initiative (reminders, task lists): which platform, which id."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sales.accounts import address, group_address
from sales.model import Employee, OutboxMessage, Team
from store.repositories import UnitOfWork
from usecases.format import fit
from usecases.services import Services


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


async def post_to_group(uow: UnitOfWork, team: Team, text: str, *, key: str, now: datetime, services: Services) -> bool:
    target = group_address(team, services.platforms)
    if target is None:
        return False
    return await uow.outbox.enqueue(
        OutboxMessage(platform=target[0], key=key, created_at=now, payload={"text": text}, to_chat=target[1])
    )
