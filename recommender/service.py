"""The recommender over the store: built in a thread, rebuilt as briefs arrive, never in the way."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from recommender.embeddings import Embedder, TfidfEmbedder
from recommender.history import History, build
from recommender.leadscore import LeadScorer, Score
from recommender.moves import MinedMove, mine_moves
from recommender.similarity import Neighbour, SimilarityIndex
from recommender.strategy import Strategy, plan
from sales.calendar import WorkCalendar
from sales.model import HISTORY_REWRITES
from sales.people import display_names
from store.repositories import UnitOfWork, UnitOfWorkFactory

if TYPE_CHECKING:
    from recommender.embeddings import Vectors

log = logging.getLogger("genjin.recommender")
NEIGHBOURS = 30  # closed customers the strategies are drawn from…
MINE_FROM = 150  # …and the moves, over the latest closed of the same industry (``SimilarityIndex.comparable``)
MINED_KEPT = 256  # sets of deals whose mined moves are kept for the snapshot's version
REFIT_DRIFT = 0.2  # customers put in place since the last fit, as a share of those fitted, past which it is refitted
STEP_MAX = 500  # customers changed since the last look past which a full build is the cheaper way
LOOK_SECONDS = 2.0  # how often an answer looks for what other processes wrote (a brief here says so at once)
GAP_WINDOW = 1_000  # ids below the newest one read that are looked for again when missing…
GAP_SECONDS = 300.0  # …for this long: a transaction that took an id earlier may commit after a later one


@dataclass(frozen=True)
class Feed:
    """How far the recommender has read one table of writes (brief updates, stage changes), by id."""

    mark: int = 0
    gaps: tuple[tuple[int, float], ...] = ()  # (id missing below the mark, when first missed)

    def take(self, rows: list[tuple[int, int]], now: float) -> tuple[Feed, set[int]]:
        """The feed past these (id, customer id) rows, and the customers they wrote to. On PostgreSQL ids are
        taken in one order and committed in another: an id skipped below the mark is asked for again a while."""
        seen = {i for i, _ in rows}
        top = max(seen, default=self.mark)
        gaps = {i: t for i, t in self.gaps if i not in seen and now - t < GAP_SECONDS}
        for i in range(max(self.mark, top - GAP_WINDOW) + 1, top):
            if i not in seen:
                gaps.setdefault(i, now)
        return Feed(max(top, self.mark), tuple(sorted(gaps.items()))), {c for _, c in rows}

    @property
    def missing(self) -> list[int]:
        return [i for i, _ in self.gaps]


@dataclass
class Snapshot:
    histories: dict[int, History]
    by_name: dict[str, int]
    scorer: LeadScorer
    index: SimilarityIndex
    updates: Feed = Feed()
    changes: Feed = Feed()
    rewrites: Feed = Feed()  # undos and imports (``HISTORY_REWRITES``), after which it is built again
    version: int = 0  # steps applied in place since it was built
    number: int = 0  # which build it is

    def apply(self, histories: list[History], gone: set[int], text: Vectors) -> None:
        """Customers as they are now, and those deleted, put in place: scores and neighbours follow at once."""
        self.index.update(histories, gone, text)  # first: if it fails, nothing else has changed
        for customer_id in gone:
            old = self.histories.pop(customer_id, None)
            if old is not None:
                self.scorer.add(old, -1)
                self.by_name.pop(old.customer.name, None)
        for h in histories:
            old = self.histories.get(h.id)
            if old is not None:
                self.scorer.add(old, -1)
                self.by_name.pop(old.customer.name, None)
            self.scorer.add(h)
            self.histories[h.id] = h
            self.by_name[h.customer.name] = h.id
        self.version += 1


def sides(closed: list[Neighbour]) -> tuple[list[History], list[History]]:
    """The won and the lost of these closed neighbours."""
    return [n.history for n in closed if n.history.outcome == "won"], [
        n.history for n in closed if n.history.outcome == "lost"
    ]


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
    """Similar customers, strategies and lead scores over the whole history, kept current step by step: a brief
    puts the customers it wrote to in place (``Snapshot.apply``); a full build runs beside, in a thread, on the first
    request, after an undo, once a day (days in a stage move on) and when the steps drift from the fit."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        calendar: WorkCalendar,
        tz: ZoneInfo,
        today: Callable[[], date],
        embedder: Callable[[], Embedder] = TfidfEmbedder,
        offload: Callable[[Callable[[], Snapshot]], Awaitable[Snapshot]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # where a build of seconds runs: a thread of the default pool unless the app gives one that does
        # not hold up its exit
        self.offload = offload or asyncio.to_thread
        self.uow = uow
        self.calendar = calendar
        self.tz = tz
        self.today = today
        self.embedder = embedder
        self.clock = clock
        self.snapshot: Snapshot | None = None
        self._stale = True
        self._look = False
        self._looked = clock()
        self._lock = asyncio.Lock()
        self._stepping = asyncio.Lock()
        self._scores: tuple[Snapshot, int, dict[str, float]] | None = None
        self._rebuild: asyncio.Task[Snapshot] | None = None
        self._mining = asyncio.Lock()
        self._mined_moves: dict[tuple[int, int, tuple[int, ...], tuple[int, ...]], list[MinedMove]] = {}
        self.builds = 0
        self.steps = 0

    async def close(self) -> None:
        if self._rebuild is not None and not self._rebuild.done():
            self._rebuild.cancel()
            await asyncio.gather(self._rebuild, return_exceptions=True)

    def notice(self) -> None:
        """A brief (or an undo) was written here: the next answer looks for it first."""
        self._look = True

    def _due(self, snap: Snapshot) -> bool:
        """Whether the snapshot needs a full build: asked for, a new day (days in a stage move on), or the steps
        drifted from the fit (its vocabulary and weights)."""
        return self._stale or snap.index.today != self.today() or snap.index.drift > REFIT_DRIFT

    async def ready(self) -> Snapshot:
        """The current snapshot, with what was written since put in place. It reads through its own unit of work,
        which sees only what is committed: what a transaction still open wrote is read once it commits, and never
        if it is rolled back."""
        snap = self.snapshot
        if snap is None:
            return await self._refresh()
        if self._rebuild is not None and not self._rebuild.done():
            return snap  # a full build runs: it reads what was written, and steps after it read the rest
        if (
            not self._due(snap)
            and not self._stepping.locked()
            and (self._look or self.clock() - self._looked >= LOOK_SECONDS)
        ):  # while another answer steps, this one does not wait for it
            await self._catch_up()
        if self._due(self.snapshot or snap) and (self._rebuild is None or self._rebuild.done()):
            # answer from the current snapshot; a fresh one is built beside
            self._rebuild = asyncio.create_task(self._refresh())
        return self.snapshot or snap

    async def _refresh(self) -> Snapshot:
        async with self._lock:
            if self.snapshot is None or self._due(self.snapshot):
                self._stale = False
                self._look, self._looked = False, self.clock()  # a full build reads everything written so far
                async with self.uow() as uow:
                    data, feeds = await self._load(uow)
                snapshot = await self.offload(functools.partial(self._build, *data))
                snapshot.updates, snapshot.changes, snapshot.rewrites = feeds
                self.builds += 1
                snapshot.number = self.builds
                self.snapshot = snapshot
            assert self.snapshot is not None
            return self.snapshot

    async def _load(self, uow: UnitOfWork) -> tuple[tuple[Any, Any, Any, Any], tuple[Feed, Feed, Feed]]:
        now = self.clock()  # the marks first: what is written while the rest is read comes in the next step
        feeds = (
            Feed().take(await uow.briefs.written_after(0), now)[0],
            Feed().take(await uow.stages.written_after(0), now)[0],
            Feed().take(await uow.audit.written_after(0, actions=HISTORY_REWRITES), now)[0],
        )
        data = (await uow.customers.find(), await uow.stages.everything(), await uow.briefs.texts(),
                await uow.employees.find())  # fmt: skip
        return data, feeds

    def _build(self, customers: Any, changes: Any, texts: Any, employees: Any) -> Snapshot:
        histories = build(customers, changes, texts, employees)
        index = SimilarityIndex(histories, self.embedder(), self.calendar, self.tz, self.today())
        return Snapshot({h.id: h for h in histories}, {h.customer.name: h.id for h in histories},
                        LeadScorer.fit(histories, display_names(employees)), index)  # fmt: skip

    async def _catch_up(self) -> None:
        """Put in place the customers written to since the last look: a few reads of them alone, no refit."""
        async with self._stepping:
            self._look, self._looked = False, self.clock()
            async with self.uow() as uow:
                await self._step(uow)

    async def _step(self, uow: UnitOfWork) -> None:
        snap = self.snapshot
        assert snap is not None
        now = self.clock()
        audited = await uow.audit.written_after(snap.rewrites.mark, snap.rewrites.missing, actions=HISTORY_REWRITES)
        rewrites, rewritten = snap.rewrites.take(audited, now)
        if (
            1 in rewritten
        ):  # an undo or an import rewrote what steps read (deleted rows, changed customers): build again
            self._stale = True
            return
        updates, written = snap.updates.take(await uow.briefs.written_after(snap.updates.mark, snap.updates.missing),
                                             now)  # fmt: skip
        changes, moved = snap.changes.take(await uow.stages.written_after(snap.changes.mark, snap.changes.missing), now)
        ids = sorted(written | moved)
        if ids and (len(ids) > STEP_MAX or not snap.index.texts):
            self._stale = True  # many at once, or a fit that saw no notes (nothing to place notes in): build again
            return
        if ids:
            customers = await uow.customers.find(ids=ids)
            owners = [e for o in sorted({c.owner_id for c in customers}) if (e := await uow.employees.get(o))]
            histories = build(customers, await uow.stages.everything(customer_ids=ids),
                              await uow.briefs.texts(customer_ids=ids), owners)  # fmt: skip
            text = await asyncio.to_thread(snap.index.embedder.encode, [h.text() for h in histories])
            if self.snapshot is not snap:
                return  # a full build came in meanwhile: its marks are older than these, the next look reads again
            snap.apply(histories, set(ids) - {h.id for h in histories}, text)
            self.steps += 1
        snap.updates, snap.changes, snap.rewrites = updates, changes, rewrites

    async def score(self, name: str) -> Score | None:
        snap = await self.ready()
        customer_id = snap.by_name.get(name)
        if customer_id is None or snap.histories[customer_id].outcome != "open":
            return None
        return snap.scorer.score(snap.histories[customer_id])

    async def scores(self) -> dict[str, float]:
        snap = await self.ready()
        if self._scores is not None and self._scores[0] is snap and self._scores[1] == snap.version:
            return self._scores[2]  # a forecast asks for all of them, often
        out = {}
        for h in snap.histories.values():
            if h.outcome == "open" and (s := snap.scorer.score(h)).probability is not None:
                out[h.customer.name] = s.probability
        self._scores = (snap, snap.version, out)
        return out

    async def _mined(self, snap: Snapshot, mine_from: tuple[list[History], list[History]]) -> list[MinedMove]:
        """The moves mined over these deals, once per snapshot version (the customers of one industry share them):
        mining takes from milliseconds to seconds, in a thread, one at a time (two cores: the bot answers others
        meanwhile)."""
        key = (snap.number, snap.version, tuple(h.id for h in mine_from[0]), tuple(h.id for h in mine_from[1]))
        found = self._mined_moves.get(key)
        if found is None:
            async with self._mining:
                found = self._mined_moves.get(key)
                if found is None:
                    found = await asyncio.to_thread(mine_moves, *mine_from, self.calendar, self.tz)
                    if any(kept[:2] != key[:2] for kept in self._mined_moves):
                        self._mined_moves.clear()  # mined over an older version: never asked for again
                    self._mined_moves[key] = found
                    while len(self._mined_moves) > MINED_KEPT:
                        self._mined_moves.pop(next(iter(self._mined_moves)))
        return found

    async def recommend(self, name: str, visible: Callable[[str], bool], *, k: int = 5) -> Recommendation | None:
        """Similar customers, what worked for them, and the lead score; examples only from what the asker may see."""
        snap = await self.ready()
        customer_id = snap.by_name.get(name)
        if customer_id is None:
            return None
        history = snap.histories[customer_id]
        won, lost = sides(snap.index.similar(customer_id, NEIGHBOURS, closed_only=True))
        mine_from = sides(snap.index.comparable(customer_id, NEIGHBOURS, MINE_FROM))
        owners = {h.id: h.customer.owner_id for h in (*mine_from[0], *mine_from[1])}
        strategy = await asyncio.to_thread(
            functools.partial(plan, won, lost, self.calendar, self.tz, self.today(),
                              lambda deal: visible(owners.get(deal, "")), mine_from=mine_from,
                              mined=await self._mined(snap, mine_from))
        )  # fmt: skip
        examples = [h.customer.name for h in won if visible(h.customer.owner_id)][:3]
        return Recommendation(
            history, snap.index.similar(customer_id, k), strategy, snap.scorer.score(history), examples
        )
