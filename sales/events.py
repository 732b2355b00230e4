"""What happened, in the sales team's words: intake, undo and standups say so, and whoever cares
(the points today; a feed, a webhook tomorrow) listens, instead of being called from each place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sales.model import Brief
from sales.stages import Stage


@dataclass(frozen=True)
class BriefFiled:
    """A brief that updated at least one customer (its first applied change, if any yet)."""

    employee_id: str
    brief_id: int
    at: datetime
    change_id: int | None = None


@dataclass(frozen=True)
class StageReached:
    """A customer entered a stage; ``before`` is None for a new customer."""

    employee_id: str
    customer_id: int
    customer_name: str
    before: Stage | None
    after: Stage
    at: datetime
    brief_id: int
    change_id: int


@dataclass(frozen=True)
class CustomerFollowedUp:
    """A brief said something about a customer (a reminder about them may now be answered)."""

    employee_id: str
    customer_id: int
    customer_name: str
    at: datetime
    brief_id: int
    change_id: int


@dataclass(frozen=True)
class ChangeUndone:
    """One applied change was undone: what it wrote is gone."""

    change_id: int
    at: datetime


@dataclass(frozen=True)
class BriefUndone:
    """Nothing of a brief stands any more."""

    brief: Brief
    at: datetime


@dataclass(frozen=True)
class StandupAnswered:
    """An answer to the team's standup, within its window."""

    employee_id: str
    standup_id: int
    at: datetime


Event = BriefFiled | StageReached | CustomerFollowedUp | ChangeUndone | BriefUndone | StandupAnswered
