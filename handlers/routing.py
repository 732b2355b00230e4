"""A small router: handlers register with filters, routers nest, the first match answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from handlers.messages import Incoming, Reply
from sales.model import Employee

if TYPE_CHECKING:
    from store.repositories import UnitOfWork


@dataclass
class Context:
    """What a handler gets besides the message: who sent it, the clock, the open unit of work."""

    uow: UnitOfWork
    now: datetime
    employee: Employee | None
    settings: dict[str, object] = field(default_factory=dict)


Filter = Callable[[Incoming, Context], bool]
Handler = Callable[[Incoming, Context], Awaitable[list[Reply]]]


@dataclass
class _Route:
    filters: tuple[Filter, ...]
    handler: Handler


class Router:
    """One per handler module; ``handlers.build_router`` assembles them in one place."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._routes: list[_Route] = []
        self._children: list[Router] = []

    def message(self, *filters: Filter) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self._routes.append(_Route(filters, handler))
            return handler

        return register

    def include(self, *routers: Router) -> Router:
        self._children.extend(routers)
        return self

    async def dispatch(self, message: Incoming, ctx: Context) -> list[Reply] | None:
        """The replies of the first handler whose filters all pass; None when none does."""
        for route in self._routes:
            if all(f(message, ctx) for f in route.filters):
                return await route.handler(message, ctx)
        for child in self._children:
            replies = await child.dispatch(message, ctx)
            if replies is not None:
                return replies
        return None


def text_is(*words: str) -> Filter:
    """Matches a message whose whole text is one of ``words`` (case and spaces ignored)."""
    wanted = {w.strip().lower() for w in words}
    return lambda m, _ctx: m.text.strip().lower() in wanted


def kind_is(*kinds: str) -> Filter:
    return lambda m, _ctx: m.kind in kinds


def known_sender(m: Incoming, ctx: Context) -> bool:
    return ctx.employee is not None
