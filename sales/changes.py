"""What a brief would do to one customer, worked out before anything is written, and what of it needs
the rep's yes first.

Commission, points, goals and forecasts all stand on these fields, so a change that moves money or rests
on a guess is shown and confirmed; the rest is applied at once (and can be undone).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sales.model import Confidence, Customer
from sales.stages import Stage

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Stated:
    """What a brief states about one customer; None where it says nothing."""

    stage: Stage | None = None
    amount: Decimal | None = None
    expected_close: date | None = None
    confidence: Confidence | None = None
    next_action: str | None = None
    next_action_date: date | None = None


@dataclass(frozen=True)
class Proposal:
    """The customer before and as it would be after; ``changed`` lists the fields a rep would notice."""

    before: Customer
    after: Customer
    changed: tuple[str, ...]

    @property
    def moved(self) -> tuple[Stage, Stage] | None:
        return (self.before.stage, self.after.stage) if "stage" in self.changed else None


def propose(customer: Customer, stated: Stated, now: datetime, today: date) -> Proposal:
    """Write the stated facts over a copy, keep the rest, and record the follow-up time."""
    after = dataclasses.replace(customer, aliases=list(customer.aliases))
    changed: list[str] = []
    if stated.stage is not None and stated.stage != customer.stage:
        after.stage, after.stage_entered_at = stated.stage, now
        after.closed_at = now if stated.stage.is_closed else None
        changed.append("stage")
    expected = stated.expected_close
    if expected is None and "stage" in changed and after.stage is Stage.WON:
        expected = today  # won today unless the brief says when it was signed
    if stated.amount is not None and stated.amount.quantize(CENT) != customer.amount:
        after.amount = stated.amount.quantize(CENT)
        changed.append("amount")
    if expected is not None and expected != customer.expected_close:
        after.expected_close = expected
        changed.append("expected_close")
    if stated.confidence is not None and stated.confidence != customer.confidence:
        after.confidence = stated.confidence
        changed.append("confidence")
    if stated.next_action_date is not None and (
        stated.next_action_date != customer.next_action_date
        or (stated.next_action or customer.next_action) != customer.next_action
    ):
        after.next_action = stated.next_action or customer.next_action
        after.next_action_date = stated.next_action_date
        changed.append("next_action")
    after.last_followup_at = now
    return Proposal(customer, after, tuple(changed))


class Doubt(StrEnum):
    """Why a change waits for the rep's yes."""

    TYPO = "typo"  # the name was matched only by a typo
    GUESS = "guess"  # a short form fits several customers; this is the only one the sender may change
    CLOSED = "closed"  # the customer is already won or lost
    WON = "won"  # moves commission, points and goals
    LOST = "lost"
    BACKWARDS = "backwards"  # a stage moved back
    AMOUNT_LOW = "amount_low"  # below a third of the last amount
    AMOUNT_HIGH = "amount_high"  # above three times the last amount
    AMOUNT_UNIT = "amount_unit"  # under 1 % (or over 100 times) of the last: 万 and 元 mixed up


def doubts(proposal: Proposal, *, typo: bool = False, guess: bool = False) -> list[Doubt]:
    """What about this change the rep must confirm; empty when it can be applied at once."""
    found: list[Doubt] = [Doubt.TYPO] if typo else []
    if guess:
        found.append(Doubt.GUESS)
    before, after, moved = proposal.before, proposal.after, proposal.moved
    if before.stage.is_closed:
        found.append(Doubt.CLOSED)
    elif moved is not None and after.stage is Stage.WON:
        found.append(Doubt.WON)
    elif moved is not None and after.stage is Stage.LOST:
        found.append(Doubt.LOST)
    elif moved is not None and after.stage.rank < before.stage.rank:
        found.append(Doubt.BACKWARDS)
    if "amount" in proposal.changed and before.amount and after.amount is not None and before.amount > 0:
        ratio = after.amount / before.amount
        if ratio < Decimal("0.01") or ratio > 100:
            found.append(Doubt.AMOUNT_UNIT)
        elif ratio * 3 < 1:
            found.append(Doubt.AMOUNT_LOW)
        elif ratio > 3:
            found.append(Doubt.AMOUNT_HIGH)
    return found
