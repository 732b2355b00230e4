"""Where events go: every listener hears every event, in the unit of work that made it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sales.events import Event
from store.repositories import UnitOfWork
from usecases import leads, points
from usecases.services import Services

Listener = Callable[[UnitOfWork, Services, Event], Awaitable[int]]
LISTENERS: tuple[Listener, ...] = (points.on_event, leads.on_event)  # each returns the points it gave (0 for none)


async def publish(uow: UnitOfWork, services: Services, event: Event) -> int:
    """Tell every listener; the points earned, for the reply to mention."""
    return sum([await listener(uow, services, event) for listener in LISTENERS])
