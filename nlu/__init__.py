"""Parsing a rep's Chinese text into an intent and customer updates: pure functions, no I/O.

``BriefParser(customers).parse(text, now)`` is the entry point; ``parse`` is a one-off helper.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from nlu.customers import CustomerIndex
from nlu.parser import BriefParser
from nlu.result import ParseResult, Update, update_from_dict

__all__ = ["BriefParser", "CustomerIndex", "ParseResult", "Update", "parse", "update_from_dict"]


def parse(text: str, now: datetime, customers: Iterable[str | tuple[str, Sequence[str]]]) -> ParseResult:
    """Parse one message (builds the customer index each call: use BriefParser for many)."""
    return BriefParser(customers).parse(text, now)
