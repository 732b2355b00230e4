"""Similar customers: structured features and the text of their briefs, in one cosine space."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from recommender.embeddings import Embedder, _normalise
from recommender.history import History, amount_band
from sales.calendar import WorkCalendar
from sales.stages import OPEN_STAGES

if TYPE_CHECKING:
    from recommender.embeddings import Vectors

CATEGORIES = ("industry", "region", "size", "source", "team", "band")
# How much sharing each one counts: the same industry says most about how a deal goes.
WEIGHTS = {"industry": 2.0, "size": 1.0, "band": 1.0, "region": 0.7, "source": 0.7, "team": 0.5}
NAMES = {"industry": "行业", "region": "地区", "size": "规模", "source": "来源", "team": "团队", "band": "金额段"}


def categories(h: History) -> dict[str, str]:
    c = h.customer
    return {"industry": c.industry or "", "region": c.region or "", "size": c.size or "", "source": c.source or "",
            "team": h.team or "", "band": amount_band(c.amount)}  # fmt: skip


def stage_days(h: History, calendar: WorkCalendar, tz: ZoneInfo, today: date) -> dict[str, int]:
    """Working days spent in each open stage along the customer's path."""
    out: dict[str, int] = {}
    for (stage, entered), nxt in zip(h.path, [*h.path[1:], (None, None)], strict=True):
        if stage.is_closed:
            continue
        end = nxt[1].astimezone(tz).date() if nxt[1] is not None else today
        out[stage.value] = out.get(stage.value, 0) + calendar.workdays_after(entered.astimezone(tz).date(), end)
    return out


@dataclass(frozen=True)
class Neighbour:
    history: History
    score: float
    reasons: tuple[str, ...]


class SimilarityIndex:
    """All customers as unit vectors; a query is one matrix-vector product and a partial sort.

    A brief changes one customer: ``update`` puts that customer's row in place (a new customer gets a spare row, a
    new industry a new column), with the text vectorised as fitted. What it cannot follow is the vocabulary and the
    weights the fit learnt, so the owner refits in full now and then (``drift``).
    """

    def __init__(
        self,
        histories: list[History],
        embedder: Embedder,
        calendar: WorkCalendar,
        tz: ZoneInfo,
        today: date,
        *,
        text_weight: float = 0.8,
    ) -> None:
        import numpy as np

        self.calendar, self.tz, self.today, self.text_weight = calendar, tz, today, text_weight
        self.embedder = embedder
        self.histories: list[History] = []
        self.position: dict[int, int] = {}
        self.cats: list[dict[str, str]] = []
        self.vocab: dict[tuple[str, str], int] = {}  # (category, value) -> its column
        self.fitted = len(histories)
        self.changed = 0  # rows put in place since the fit
        for h in histories:
            for key, value in categories(h).items():
                if value:
                    self.vocab.setdefault((key, value), len(self.vocab) + len(OPEN_STAGES) * 2)
        texts = [h.text() for h in histories]
        self.texts = any(texts)  # whether the fit saw any note: one that saw none has no place for them
        embedder.fit(texts)
        text = embedder.encode(texts) if histories else np.zeros((0, 1), dtype=np.float32)
        self.text: Vectors = np.zeros((max(len(histories), 1), text.shape[1]), dtype=np.float32)
        self.matrix: Vectors = np.zeros((len(self.text), len(self.vocab) + len(OPEN_STAGES) * 2 + text.shape[1]),
                                        dtype=np.float32)  # fmt: skip
        self.open = np.zeros(len(self.text), dtype=bool)
        self.alive = np.zeros(len(self.text), dtype=bool)
        self._put(histories, text)

    @property
    def drift(self) -> float:
        """Rows put in place since the fit, as a share of the rows fitted."""
        return self.changed / max(self.fitted, 1)

    def update(self, histories: list[History], gone: Collection[int] = (), text: Vectors | None = None) -> None:
        """These customers as they are now (added or changed), and those no longer there, without a refit; ``text``
        their notes encoded already (off the event loop)."""
        for customer_id in gone:
            row = self.position.pop(customer_id, None)
            if row is not None:
                self.alive[row] = self.open[row] = False
        if histories:
            self._put(histories, self.embedder.encode([h.text() for h in histories]) if text is None else text)
            self.changed += len(histories)

    def _put(self, histories: list[History], text: Vectors) -> None:
        import numpy as np

        cats = [categories(h) for h in histories]
        for found in cats:  # values the fit never saw get a column first, so that every row has the same width
            for key, value in found.items():
                if value and (key, value) not in self.vocab:
                    self._new_column(key, value)
        rows: list[int] = []
        for h in histories:
            at = self.position.get(h.id)
            if at is None:
                at = self.position[h.id] = len(self.histories)
                self.histories.append(h)
                self.cats.append({})
            rows.append(at)
        self._grow(len(self.histories))
        stages = len(OPEN_STAGES)
        structured = np.zeros((len(histories), self.matrix.shape[1] - self.text.shape[1]), dtype=np.float32)
        for i, (h, found) in enumerate(zip(histories, cats, strict=True)):
            for key, value in found.items():
                if value:
                    structured[i, self.vocab[(key, value)]] = WEIGHTS[key]
            days = stage_days(h, self.calendar, self.tz, self.today)
            for j, stage in enumerate(OPEN_STAGES):
                passed = any((s.rank >= stage.rank and not s.is_closed) or s.value == "won" for s, _ in h.path)
                structured[i, j] = 0.5 if passed else 0.0
                structured[i, stages + j] = min(days.get(stage.value, 0), 30) / 60
        where = np.asarray(rows, dtype=np.int64)
        self.text[where] = text
        self.matrix[where] = _normalise(np.hstack([_normalise(structured), self.text_weight * text]))
        for h, at, c in zip(histories, rows, cats, strict=True):
            self.histories[at], self.cats[at] = h, c
        self.alive[where] = True
        self.open[where] = [h.outcome == "open" for h in histories]

    def _grow(self, rows: int) -> None:
        """Room for ``rows`` rows: doubled when short, so that adding customers one by one costs no copy each."""
        import numpy as np

        if rows <= len(self.matrix):
            return
        size = max(rows, 2 * len(self.matrix))
        extra = size - len(self.matrix)
        self.matrix = np.vstack([self.matrix, np.zeros((extra, self.matrix.shape[1]), dtype=np.float32)])
        self.text = np.vstack([self.text, np.zeros((extra, self.text.shape[1]), dtype=np.float32)])
        self.open = np.concatenate([self.open, np.zeros(extra, dtype=bool)])
        self.alive = np.concatenate([self.alive, np.zeros(extra, dtype=bool)])

    def _new_column(self, key: str, value: str) -> int:
        """A category value the fit never saw: a column of its own, zero for everyone else (rare: one copy)."""
        import numpy as np

        column = int(self.matrix.shape[1] - self.text.shape[1])
        self.vocab[(key, value)] = column
        zeros = np.zeros((len(self.matrix), 1), dtype=np.float32)
        self.matrix = np.hstack([self.matrix[:, :column], zeros, self.matrix[:, column:]])
        return column

    def similar(self, customer_id: int, k: int = 5, *, closed_only: bool = False) -> list[Neighbour]:
        import numpy as np

        index = self.position.get(customer_id)
        if index is None:
            return []
        size = len(self.histories)
        scores = self.matrix[:size] @ self.matrix[index]
        scores[~self.alive[:size]] = -np.inf
        if closed_only:
            scores[self.open[:size]] = -np.inf
        scores[index] = -np.inf
        k = min(k, max(0, int(np.isfinite(scores).sum())))
        if k == 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [Neighbour(self.histories[i], float(scores[i]), self._why(index, int(i))) for i in top]

    def comparable(
        self, customer_id: int, k: int, most: int, *, min_won: int = 3, min_lost: int = 3
    ) -> list[Neighbour]:
        """The closed customers moves are weighed over: those of the same industry, the latest closed first, up to
        ``most`` (the 30 nearest leave too few lost deals at the later stages for any test). Not the nearest by the
        notes: a customer that made a move is nearest to the deals that wrote the same, won and lost alike, and the
        move would then seem to tell them apart no more. Without an industry, or with fewer than ``min_won`` won or
        ``min_lost`` lost of it, the ``k`` nearest."""
        import numpy as np

        index = self.position.get(customer_id)
        if index is None:
            return []
        industry = self.cats[index]["industry"]
        if not industry:
            return self.similar(customer_id, k, closed_only=True)
        size = len(self.histories)
        rows = [i for i in np.flatnonzero(self.alive[:size] & ~self.open[:size]).tolist()
                if i != index and self.cats[i]["industry"] == industry]  # fmt: skip
        won = sum(self.histories[i].outcome == "won" for i in rows)
        if won < min_won or len(rows) - won < min_lost:  # too few to weigh anything over: the nearest instead
            return self.similar(customer_id, k, closed_only=True)
        rows.sort(key=lambda i: self._closed_at(i), reverse=True)
        return [Neighbour(self.histories[i], float(self.matrix[i] @ self.matrix[index]), self._why(index, i))
                for i in rows[:most]]  # fmt: skip

    def _closed_at(self, row: int) -> float:
        closed = [at for stage, at in self.histories[row].path if stage.is_closed]
        return closed[-1].timestamp() if closed else 0.0

    def _why(self, a: int, b: int) -> tuple[str, ...]:
        shared = [f"同{NAMES[key]}「{value}」" for key, value in self.cats[a].items()
                  if value and value != "unknown" and self.cats[b].get(key) == value]  # fmt: skip
        if float(self.text[a] @ self.text[b]) > 0.6:
            shared.append("跟进记录相似")
        return tuple(shared[:4])
