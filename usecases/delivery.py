"""Reaching an employee on their own initiative (reminders, task lists): which platform, which id."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sales.model import Employee, OutboxMessage, Team
from store.repositories import UnitOfWork
from usecases.format import fit
from usecases.services import Services


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


def group_target(team: Team, platforms: tuple[str, ...]) -> tuple[str, str] | None:
    """Where the team's group chat is: WeCom app chat or robot, DingTalk group or robot, else the console."""
    for platform in platforms:
        if platform == "wecom" and (team.wecom_chat_id or team.wecom_webhook_key):
            return platform, team.wecom_chat_id or f"webhook:{team.wecom_webhook_key}"
        if platform == "dingtalk" and (team.dingtalk_conversation_id or team.dingtalk_webhook):
            return platform, team.dingtalk_conversation_id or f"robot:{team.dingtalk_webhook}"
        if platform == "console":
            return platform, f"team:{team.name}"
    return None


async def post_to_group(uow: UnitOfWork, team: Team, text: str, *, key: str, now: datetime, services: Services) -> bool:
    target = group_target(team, services.platforms)
    if target is None:
        return False
    return await uow.outbox.enqueue(
        OutboxMessage(platform=target[0], key=key, created_at=now, payload={"text": text}, to_chat=target[1])
    )
