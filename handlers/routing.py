"""A small router: handlers register with filters, routers nest, the first match answers.

A handler that returns None passes the message on, so a handler can decide with the store
(async) what a filter (sync) cannot.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from handlers.messages import Incoming, Reply
from sales.events import Event
from sales.model import Employee
from usecases.events import publish

if TYPE_CHECKING:
    from nlu import ParseResult
    from store.repositories import UnitOfWork
    from usecases.services import Services


@dataclass
class Context:
    """What a handler gets besides the message: who sent it, the clock, the open unit of work."""

    uow: UnitOfWork
    now: datetime
    employee: Employee | None
    services: Services
    parsed: ParseResult | None = None
    notes: dict[str, object] = field(default_factory=dict)

    async def publish(self, event: Event) -> int:
        """Say what happened (listeners award points, …); the points it earned."""
        return await publish(self.uow, self.services, event)


Filter = Callable[[Incoming, Context], bool]
Handler = Callable[[Incoming, Context], Awaitable[list[Reply] | None]]
Hook = Callable[[Incoming, Context], Awaitable[None]]


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
        self._before: list[Hook] = []

    def message(self, *filters: Filter) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self._routes.append(_Route(filters, handler))
            return handler

        return register

    def before(self, hook: Hook) -> Hook:
        """Run ``hook`` before this router's handlers see a message (e.g. parse it once)."""
        self._before.append(hook)
        return hook

    def include(self, *routers: Router) -> Router:
        self._children.extend(routers)
        return self

    async def dispatch(self, message: Incoming, ctx: Context) -> list[Reply] | None:
        """The replies of the first handler that takes the message; None when none does."""
        for hook in self._before:
            await hook(message, ctx)
        for route in self._routes:
            if all(f(message, ctx) for f in route.filters):
                replies = await route.handler(message, ctx)
                if replies is not None:
                    return replies
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


def intent_is(*intents: str) -> Filter:
    return lambda _m, ctx: ctx.parsed is not None and ctx.parsed.intent in intents


def query_is(*kinds: str) -> Filter:
    return lambda _m, ctx: ctx.parsed is not None and ctx.parsed.intent == "query" and ctx.parsed.query in kinds


def command_is(*names: str) -> Filter:
    return lambda _m, ctx: ctx.parsed is not None and ctx.parsed.intent == "command" and ctx.parsed.query in names


def known_sender(m: Incoming, ctx: Context) -> bool:
    return ctx.employee is not None
