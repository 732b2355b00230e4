"""Each customer's history as the recommender reads it: features, stage path, notes, outcome."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sales.model import Customer, Employee, StageChange
from sales.stages import Stage


@dataclass
class History:
    customer: Customer
    team: str | None
    path: list[tuple[Stage, datetime]] = field(default_factory=list)  # each stage entered, in order
    notes: list[tuple[datetime, str]] = field(default_factory=list)

    @property
    def id(self) -> int:
        assert self.customer.id is not None
        return self.customer.id

    @property
    def outcome(self) -> str:
        return self.customer.stage.value if self.customer.stage.is_closed else "open"

    @property
    def reached(self) -> Stage:
        """The furthest open stage reached (for a lost customer: where it was lost)."""
        stages = [s for s, _ in self.path if not s.is_closed] or [Stage.INITIAL]
        return max(stages, key=lambda s: s.rank)

    def text(self) -> str:
        return "\n".join(t for _, t in self.notes)


def amount_band(amount: Decimal | None) -> str:
    if amount is None:
        return "unknown"
    wan = float(amount) / 10_000
    for limit, band in ((20, "<20万"), (50, "20-50万"), (100, "50-100万"), (300, "100-300万")):
        if wan < limit:
            return band
    return "≥300万"


def build(
    customers: list[Customer],
    changes: list[StageChange],
    texts: list[tuple[int, datetime, str]],
    employees: list[Employee],
) -> list[History]:
    teams = {e.id: e.team for e in employees}
    paths: dict[int, list[tuple[Stage, datetime]]] = defaultdict(list)
    for change in changes:
        paths[change.customer_id].append((change.to_stage, change.changed_at))
    notes: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    for customer_id, at, text in texts:
        notes[customer_id].append((at, text))
    out = []
    for c in customers:
        if c.id is None:
            continue
        path = paths.get(c.id) or [(c.stage, c.stage_entered_at)]
        out.append(History(c, teams.get(c.owner_id), path, notes.get(c.id, [])))
    return out
