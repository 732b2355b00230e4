"""The recommender over the store: built in a thread, rebuilt as briefs arrive, never in the way."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from recommender.embeddings import Embedder, TfidfEmbedder
from recommender.history import History, build
from recommender.leadscore import LeadScorer, Score
from recommender.similarity import Neighbour, SimilarityIndex
from recommender.strategy import Strategy, plan
from sales.calendar import WorkCalendar
from sales.people import display_names
from store.repositories import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger("genjin.recommender")
NEIGHBOURS = 30  # closed customers the strategies are drawn from


@dataclass
class Snapshot:
    histories: dict[int, History]
    by_name: dict[str, int]
    scorer: LeadScorer
    index: SimilarityIndex


@dataclass
class Recommendation:
    customer: History
    similar: list[Neighbour]
    strategy: Strategy
    score: Score | None
    examples: list[str] = field(default_factory=list)  # names of won customers the asker may see

    def as_json(self) -> dict[str, Any]:
        return {
            "customer": self.customer.customer.name,
            "similar": [{"name": n.history.customer.name, "score": round(n.score, 3), "reasons": list(n.reasons),
                         "outcome": n.history.outcome} for n in self.similar],
            "suggestions": [{"text": s.text, "evidence": s.evidence} | ({"move": s.move.as_json()} if s.move else {})
                            for s in self.strategy.suggestions],
            "enough_history": self.strategy.enough,
            "follow_up": self.strategy.interval,
            "win_probability": None if self.score is None or self.score.probability is None
            else round(self.score.probability, 3),
            "comparable_closed": self.score.comparable if self.score else 0,
            "score_reasons": self.score.reasons if self.score else [],
            "examples": self.examples,
        }  # fmt: skip


class Recommender:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        calendar: WorkCalendar,
        tz: ZoneInfo,
        today: Callable[[], date],
        embedder: Callable[[], Embedder] = TfidfEmbedder,
        offload: Callable[[Callable[[], Snapshot]], Awaitable[Snapshot]] | None = None,
    ) -> None:
        # where a build of seconds runs: a thread of the default pool unless the app gives one that does
        # not hold up its exit
        self.offload = offload or asyncio.to_thread
        self.uow = uow
        self.calendar = calendar
        self.tz = tz
        self.today = today
        self.embedder = embedder
        self.snapshot: Snapshot | None = None
        self._stale = True
        self._lock = asyncio.Lock()
        self._scores: tuple[Snapshot, dict[str, float]] | None = None
        self._rebuild: asyncio.Task[Snapshot] | None = None
        self.builds = 0

    async def close(self) -> None:
        if self._rebuild is not None and not self._rebuild.done():
            self._rebuild.cancel()
            await asyncio.gather(self._rebuild, return_exceptions=True)

    def mark_stale(self) -> None:
        """A brief changed the history: the next request rebuilds (in a thread) before answering."""
        self._stale = True

    async def ready(self, uow: UnitOfWork | None = None) -> Snapshot:
        """The current snapshot, rebuilt first when stale. Inside a unit of work pass it as ``uow``:
        a second one opened in the same task would wait on the first (SQLite has one writer)."""
        if self.snapshot is not None:
            if self._stale and (self._rebuild is None or self._rebuild.done()):
                # answer from the current snapshot; a fresh one is built beside, in its own unit of work
                self._rebuild = asyncio.create_task(self._refresh(None))
            return self.snapshot
        return await self._refresh(uow)

    async def _refresh(self, uow: UnitOfWork | None) -> Snapshot:
        async with self._lock:
            if self.snapshot is None or self._stale:
                self._stale = False
                if uow is None:
                    async with self.uow() as own:
                        data = await self._load(own)
                else:
                    data = await self._load(uow)
                self.snapshot = await self.offload(functools.partial(self._build, *data))
                self.builds += 1
            assert self.snapshot is not None
            return self.snapshot

    @staticmethod
    async def _load(uow: UnitOfWork) -> tuple[Any, Any, Any, Any]:
        return (await uow.customers.find(), await uow.stages.everything(), await uow.briefs.texts(),
                await uow.employees.find())  # fmt: skip

    def _build(self, customers: Any, changes: Any, texts: Any, employees: Any) -> Snapshot:
        histories = build(customers, changes, texts, employees)
        index = SimilarityIndex(histories, self.embedder(), self.calendar, self.tz, self.today())
        return Snapshot({h.id: h for h in histories}, {h.customer.name: h.id for h in histories},
                        LeadScorer.fit(histories, display_names(employees)), index)  # fmt: skip

    async def score(self, name: str, uow: UnitOfWork | None = None) -> Score | None:
        snap = await self.ready(uow)
        customer_id = snap.by_name.get(name)
        if customer_id is None or snap.histories[customer_id].outcome != "open":
            return None
        return snap.scorer.score(snap.histories[customer_id])

    async def scores(self, uow: UnitOfWork | None = None) -> dict[str, float]:
        snap = await self.ready(uow)
        if self._scores is not None and self._scores[0] is snap:  # a forecast asks for all of them, often
            return self._scores[1]
        out = {}
        for h in snap.histories.values():
            if h.outcome == "open" and (s := snap.scorer.score(h)).probability is not None:
                out[h.customer.name] = s.probability
        self._scores = (snap, out)
        return out

    async def recommend(
        self, name: str, visible: Callable[[str], bool], *, k: int = 5, uow: UnitOfWork | None = None
    ) -> Recommendation | None:
        """Similar customers, what worked for them, and the lead score; examples only from what the asker may see."""
        snap = await self.ready(uow)
        customer_id = snap.by_name.get(name)
        if customer_id is None:
            return None
        history = snap.histories[customer_id]
        closed = snap.index.similar(customer_id, NEIGHBOURS, closed_only=True)
        won = [n.history for n in closed if n.history.outcome == "won"]
        lost = [n.history for n in closed if n.history.outcome == "lost"]
        # mining the notes compares them pairwise: off the event loop, so the bot answers others meanwhile
        owners = {h.id: h.customer.owner_id for h in won}
        strategy = await asyncio.to_thread(
            plan, won, lost, self.calendar, self.tz, self.today(), lambda deal: visible(owners.get(deal, ""))
        )
        examples = [h.customer.name for h in won if visible(h.customer.owner_id)][:3]
        return Recommendation(
            history, snap.index.similar(customer_id, k), strategy, snap.scorer.score(history), examples
        )
