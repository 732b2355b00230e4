"""The tracked fields of a customer as plain values, so a change can be stored and undone."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sales.model import Confidence, Customer
from sales.stages import Stage

TRACKED = (
    "stage",
    "stage_entered_at",
    "amount",
    "expected_close",
    "confidence",
    "next_action",
    "next_action_date",
    "last_followup_at",
    "closed_at",
)


def snapshot(customer: Customer) -> dict[str, Any]:
    """The tracked fields as JSON values (ISO dates, amounts as strings)."""
    out: dict[str, Any] = {}
    for name in TRACKED:
        value = getattr(customer, name)
        if isinstance(value, datetime):
            value = value.astimezone(UTC).isoformat()  # one spelling per instant, to compare
        elif isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = str(value)
        elif value is not None and hasattr(value, "value"):
            value = value.value
        out[name] = value
    return out


def _typed(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name == "stage":
        return Stage(value)
    if name == "confidence":
        return Confidence(value)
    if name == "amount":
        return Decimal(value)
    if name in ("stage_entered_at", "last_followup_at", "closed_at"):
        return datetime.fromisoformat(value)
    if name in ("expected_close", "next_action_date"):
        return date.fromisoformat(value)
    return value


def restore(customer: Customer, before: dict[str, Any], after: dict[str, Any]) -> tuple[Customer, list[str]]:
    """Put back ``before`` on every field that still holds ``after``; a later change wins.

    Returns the customer and the fields that were left alone because someone changed them since.
    """
    current = snapshot(customer)
    changes: dict[str, Any] = {}
    kept: list[str] = []
    for name in TRACKED:
        if name not in after or before.get(name) == after.get(name):
            continue
        if current.get(name) == after.get(name):
            changes[name] = _typed(name, before.get(name))
        else:
            kept.append(name)
    return dataclasses.replace(customer, **changes), kept
