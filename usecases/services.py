"""Long-lived helpers the chat, the scheduler and the command line share: the parser with the org's customers
in its index, the rules and settings."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sales.calendar import WorkCalendar, china_provider
from sales.commission import CommissionRules
from sales.leads import LeadRules, Learned, PoolRules
from sales.points import DEFAULT_REWARDS, PointsRules, Reward
from sales.quotes import QuoteRules
from sales.stages import Stage
from sales.stall import StallPolicy
from store.repositories import UnitOfWork, UnitOfWorkFactory
from usecases.heavy import in_daemon_thread
from usecases.parsing import build_parser

if TYPE_CHECKING:  # both are imported where first used: a server listens before it pays for them
    from nlu import BriefParser
    from recommender.service import Recommender


def _build(names: list[tuple[str, list[str]]], folder: Path | None) -> BriefParser:
    """``build_parser`` for a server: off the event loop, the index kept at once (it is patched in place later)."""
    parser, keep = build_parser(names, folder)
    keep()
    return parser


INCREMENTAL_MAX = 500  # name changes patched into the index in place; more than that: a rebuild in a thread


class ParserCache:
    """One parser per customer list. Customers added, renamed, given other aliases or removed are patched into its
    index in place (a fraction of a millisecond each), from the names version the database keeps (migration 0014);
    only a great many changes at once (an import) mean a rebuild in a thread.

    Building the index loads the word table (once per process) and takes seconds for a large company (100,000 legal
    names: about 4.5 s in one process), so it never runs on the event loop, and one build runs at a time.
    """

    def __init__(self, index_cache: Path | None = None) -> None:
        self.index_cache = index_cache
        self._parser: BriefParser | None = None
        self._version: int | None = None  # the names version the index was built from or patched to
        self._stale = False  # too much changed for ``get`` to patch: ``prepare`` rebuilds
        self._failed = False  # the last build raised
        self._lock = asyncio.Lock()
        self._warming = asyncio.Lock()
        self.builds = 0
        self.patched = 0

    @property
    def ready(self) -> bool:
        """Whether an index is built (until then a brief waits for it)."""
        return self._parser is not None

    @property
    def state(self) -> str:
        """For /healthz: ready, building, or failed (the next brief tries again)."""
        return "ready" if self._parser is not None else "failed" if self._failed else "building"

    async def get(self, uow: UnitOfWork) -> BriefParser:
        """The parser for this unit of work, with the name changes since the index was made patched in. When too
        much changed the index is used as it stands for this message and marked for ``prepare`` to rebuild outside a
        transaction: a build inside one would hold SQLite's writer for seconds. Only when there is no index at all
        (the command line, a first message) is it built here."""
        version = await uow.customers.names_version()
        if self._parser is not None and self._current(version):
            return self._parser
        async with self._lock:
            if self._parser is not None and not self._current(version) and not await self._patch(uow, version):
                self._stale = True
            if self._parser is not None:
                return self._parser
        async with self._warming:
            if self._parser is None:
                names = await uow.customers.names()
                await self._build(names, version)
        assert self._parser is not None
        return self._parser

    async def _build(self, names: list[tuple[str, list[str]]], version: int) -> None:
        try:
            parser = await in_daemon_thread(partial(_build, names, self.index_cache), "customer-index")
        except BaseException:
            self._failed = True
            raise
        self.builds += 1
        async with self._lock:
            self._parser, self._version, self._stale, self._failed = parser, version, False, False

    def _current(self, version: int) -> bool:
        """Whether the index already has ``version`` (or a later one: another task may have patched it meanwhile)."""
        return self._version is not None and version <= self._version

    async def _patch(self, uow: UnitOfWork, version: int) -> bool:
        """The names that changed since the index's version, out of the index and in again as they are now (the
        same index a rebuild would give); False when there are too many. Under ``_lock``."""
        assert self._parser is not None and self._version is not None
        changes = await uow.customers.names_changed_since(self._version, INCREMENTAL_MAX)
        if changes is None:
            return False
        index = self._parser.index
        for name in changes.gone:
            index.remove(name)
        for name, aliases in changes.current:
            index.remove(name)
            index.add(name, aliases)
        self.patched += len(changes.gone) + len(changes.current)
        self._version = max(version, self._version)
        return True

    async def prepare(self, reader: UnitOfWorkFactory) -> None:
        """Before a write transaction opens: patch the index in a read-only unit of work, or build it when there is
        none or too much changed, so that a slow build never runs while a transaction, on SQLite the one writer
        lock, is held. One primary-key read when nothing changed."""
        if self._parser is not None and not self._stale:
            async with reader() as uow:
                version = await uow.customers.names_version()
                if self._current(version):
                    return
                async with self._lock:
                    if self._current(version) or await self._patch(uow, version):
                        return
        await self.warm(reader)

    async def warm(self, reader: UnitOfWorkFactory) -> None:
        """Build the index from the names read in a short unit of work that has ended before the build starts: the
        build takes seconds for a large company. Nothing happens when the index already matches the list. One build
        at a time (``get`` builds under the same lock): the start-up's warm-up and the worker's first ``prepare``
        once built two indexes side by side, taking twice the time and memory."""
        async with self._warming:
            async with reader() as uow:
                version = await uow.customers.names_version()
                if self._parser is not None and self._current(version) and not self._stale:
                    return
                names = await uow.customers.names()
            await self._build(names, version)


@dataclass
class Services:
    parser: ParserCache = field(default_factory=ParserCache)
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    question_ttl: timedelta = timedelta(minutes=30)
    undo_window: timedelta = timedelta(hours=24)
    calendar: WorkCalendar = field(default_factory=lambda: WorkCalendar(provider=china_provider()))
    stall: StallPolicy = field(default_factory=StallPolicy)
    platforms: tuple[str, ...] = ("console",)  # where proactive messages go, in order of preference
    recommender: Recommender | None = None
    image_platforms: tuple[str, ...] = ()  # where a chart is sent after the text (the platforms' capabilities say)
    file_platforms: tuple[str, ...] = ()  # where a document is sent as a file (elsewhere: a link to the dashboard)
    commission: CommissionRules = field(default_factory=CommissionRules)
    points: PointsRules = field(default_factory=PointsRules)
    rewards: tuple[Reward, ...] = DEFAULT_REWARDS
    # the closed deals' history a forecast reads (win rates, days to close), by ``history_version``: unchanged
    # until a stage change, an undo or an import, and two aggregate queries over the whole history to compute
    forecast_history: tuple[tuple[int, int, int], dict[Stage, float], dict[Stage, int]] | None = None
    leads: LeadRules = field(default_factory=LeadRules)
    pool: PoolRules = field(default_factory=PoolRules)
    quotes: QuoteRules = field(default_factory=QuoteRules)
    # the lead models learnt from closed leads, by (history version, leads handed out): see usecases.leads.learned
    lead_models: tuple[tuple[int, ...], tuple[Learned, Learned] | None] | None = None
    web_url: str | None = None  # the dashboard's address outside, when it is served (``看板`` sends a link to it)
    web_link_ttl: timedelta = timedelta(minutes=10)
    web_session_ttl: timedelta = timedelta(hours=12)
