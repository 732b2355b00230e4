"""Similar customers: structured features and the text of their briefs, in one cosine space."""

from __future__ import annotations

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
    """All customers as unit vectors; a query is one matrix-vector product and a partial sort."""

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

        self.histories = histories
        self.position = {h.id: i for i, h in enumerate(histories)}
        self.cats = [categories(h) for h in histories]
        vocab: dict[tuple[str, str], int] = {}
        for row in self.cats:
            for key, value in row.items():
                if value:
                    vocab.setdefault((key, value), len(vocab))
        width = len(vocab) + len(OPEN_STAGES) * 2
        structured = np.zeros((len(histories), max(width, 1)), dtype=np.float32)
        for i, (h, row) in enumerate(zip(histories, self.cats, strict=True)):
            for key, value in row.items():
                if value:
                    structured[i, vocab[(key, value)]] = WEIGHTS[key]
            days = stage_days(h, calendar, tz, today)
            for j, stage in enumerate(OPEN_STAGES):
                passed = any((s.rank >= stage.rank and not s.is_closed) or s.value == "won" for s, _ in h.path)
                structured[i, len(vocab) + j] = 0.5 if passed else 0.0
                structured[i, len(vocab) + len(OPEN_STAGES) + j] = min(days.get(stage.value, 0), 30) / 60
        texts = [h.text() for h in histories]
        embedder.fit(texts)
        self.text: Vectors = embedder.encode(texts) if histories else np.zeros((0, 1), dtype=np.float32)
        self.matrix: Vectors = _normalise(np.hstack([_normalise(structured), text_weight * self.text]))
        self.embedder = embedder

    def similar(self, customer_id: int, k: int = 5, *, closed_only: bool = False) -> list[Neighbour]:
        import numpy as np

        index = self.position.get(customer_id)
        if index is None:
            return []
        scores = self.matrix @ self.matrix[index]
        scores[index] = -np.inf
        if closed_only:
            for i, h in enumerate(self.histories):
                if h.outcome == "open":
                    scores[i] = -np.inf
        k = min(k, max(0, int(np.isfinite(scores).sum())))
        if k == 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [Neighbour(self.histories[i], float(scores[i]), self._why(index, int(i))) for i in top]

    def _why(self, a: int, b: int) -> tuple[str, ...]:
        shared = [f"同{NAMES[key]}「{value}」" for key, value in self.cats[a].items()
                  if value and value != "unknown" and self.cats[b].get(key) == value]  # fmt: skip
        if float(self.text[a] @ self.text[b]) > 0.6:
            shared.append("跟进记录相似")
        return tuple(shared[:4])
