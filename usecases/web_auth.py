"""Signing in to the dashboard: a one-time link sent in the chat, a session after it, both kept only as hashes.

A link is usable once and for minutes; a session lasts hours and ends at once when its employee is deactivated.
The chat, the web pages and the platforms' sign-in (WeCom OAuth) all open sessions through here."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sales.model import Employee
from store.repositories import UnitOfWork, UnitOfWorkFactory

LINK_PATH = "/web/login"


def digest(token: str) -> str:
    """What the store keeps of a secret: a database copied elsewhere opens no link and no session."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def same(a: str, b: str) -> bool:
    """Compare secrets in constant time."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


async def issue_link(uow: UnitOfWork, employee: Employee, base_url: str, now: datetime, ttl: timedelta) -> str:
    """A personal sign-in link valid for ``ttl`` and one use."""
    token = secrets.token_urlsafe(32)
    await uow.web.add_link(digest(token), employee.id, now, now + ttl)
    return f"{base_url.rstrip('/')}{LINK_PATH}?t={token}"


@dataclass(frozen=True)
class Opened:
    """A new session: the cookie's value (never stored), whose it is and its CSRF token."""

    token: str
    employee: Employee
    csrf: str
    expires_at: datetime


async def open_session(uow: UnitOfWork, employee: Employee, now: datetime, ttl: timedelta) -> Opened:
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    await uow.web.open_session(digest(token), employee.id, csrf, now, now + ttl)
    return Opened(token, employee, csrf, now + ttl)


async def redeem_link(uow: UnitOfWork, token: str, now: datetime, ttl: timedelta) -> Opened | None:
    """A session for the link's employee; None when the link is unknown, used, expired or its employee inactive."""
    if not token or len(token) > 100:
        return None
    employee_id = await uow.web.redeem_link(digest(token), now)
    if employee_id is None:
        return None
    employee = await uow.employees.get(employee_id)
    if employee is None or not employee.active:
        return None
    return await open_session(uow, employee, now, ttl)


@dataclass(frozen=True)
class SignedIn:
    employee: Employee
    csrf: str


@dataclass(frozen=True)
class Revoked:
    """A session whose employee was deactivated (or removed): refused, and every session of theirs should go."""

    employee_id: str


async def session_of(uow: UnitOfWork, token: str, now: datetime) -> SignedIn | Revoked | None:
    """Whose session this cookie is; None for an unknown or expired one. Only reads: a page's read-only unit of
    work can ask."""
    if not token or len(token) > 100:
        return None
    found = await uow.web.find_session(digest(token), now)
    if found is None:
        return None
    employee = await uow.employees.get(found.employee_id)
    if employee is None or not employee.active:
        return Revoked(found.employee_id)
    return SignedIn(employee, found.csrf)


async def signed_in(uow: UnitOfWork, token: str, now: datetime) -> SignedIn | None:
    """``session_of``, closing a deactivated employee's sessions (this unit of work must be able to write)."""
    found = await session_of(uow, token, now)
    if isinstance(found, Revoked):
        await uow.web.close_sessions_of(found.employee_id)
        return None
    return found


async def sign_out(uow: UnitOfWork, token: str) -> None:
    await uow.web.close_session(digest(token))


async def purge(uow_factory: UnitOfWorkFactory, now: datetime) -> int:
    """Every night: expired links and sessions go (they open nothing any more; the tables would only grow)."""
    async with uow_factory() as uow:
        gone = await uow.web.purge(now)
        await uow.commit()
    return gone
