"""The parser's output, shaped as the NLU contract says (README「简报解析」)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass
class Update:
    """What one brief says about one customer."""

    customer: str
    is_new: bool = False
    stage: str | None = None
    amount: float | None = None
    expected_close: date | None = None
    next_action: str | None = None
    next_action_date: date | None = None
    confidence: str | None = None
    contact: str | None = None
    candidates: tuple[str, ...] = ()  # several known customers fit a short form
    matched: str = "exact"  # exact, alias, typo, new
    mention: str = ""  # the words as written, for the bot's questions

    def to_dict(self) -> dict[str, Any]:
        amount: float | int | None = self.amount
        if amount is not None and float(amount).is_integer():
            amount = int(amount)
        out: dict[str, Any] = {
            "customer": None if self.candidates else self.customer,
            "is_new": self.is_new,
            "stage": self.stage,
            "amount": amount,
            "expected_close": self.expected_close.isoformat() if self.expected_close else None,
            "next_action": self.next_action,
            "next_action_date": self.next_action_date.isoformat() if self.next_action_date else None,
            "confidence": self.confidence,
            "contact": self.contact,
        }
        if self.candidates:
            out["candidates"] = sorted(self.candidates)
            out["mention"] = self.mention or self.customer  # the words as written, for the bot's question
        if self.matched == "typo":
            out["matched"] = "typo"
            out["mention"] = self.mention or self.customer
        return out


def update_from_dict(data: dict[str, Any]) -> Update:
    """The inverse of ``Update.to_dict``, for an update kept while the bot asks a question."""

    def day(key: str) -> date | None:
        value = data.get(key)
        return date.fromisoformat(value) if value else None

    return Update(
        customer=str(data.get("customer") or data.get("mention") or ""),
        is_new=bool(data.get("is_new")),
        stage=data.get("stage"),
        amount=data.get("amount"),
        expected_close=day("expected_close"),
        next_action=data.get("next_action"),
        next_action_date=day("next_action_date"),
        confidence=data.get("confidence"),
        contact=data.get("contact"),
        candidates=tuple(data.get("candidates") or ()),
        matched=str(data.get("matched") or "exact"),
        mention=str(data.get("mention") or ""),
    )


@dataclass
class ParseResult:
    intent: str  # brief, query, command, chitchat, quote (docs/nlu-quotes.md)
    query: str | None = None
    customer: str | None = None
    updates: list[Update] = field(default_factory=list)
    candidates: tuple[str, ...] = ()  # a query whose short form fits several customers
    mention: str = ""  # a quote request's words naming the customer (taken out before its lines are read)

    def to_dict(self, message_id: object = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": message_id,
            "intent": self.intent,
            "query": self.query,
            "customer": self.customer,
            "updates": [u.to_dict() for u in self.updates],
        }
        if self.candidates:
            out["candidates"] = list(self.candidates)
        return out
