"""Parsing a rep's Chinese text into an intent and customer updates: pure functions, no I/O.

``BriefParser(customers).parse(text, now)`` is the entry point; ``parse`` is a one-off helper.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nlu.customers import CustomerIndex
    from nlu.parser import BriefParser
    from nlu.result import ParseResult, Update, update_from_dict

__all__ = ["BriefParser", "CustomerIndex", "ParseResult", "Update", "parse", "update_from_dict"]

# Loaded on first use: the parser's tables and patterns take a good part of a second to import, and a server
# that only needs ``nlu.index_cache``'s settings (or nothing yet) should not pay for them before it listens.
_HOMES = {
    "BriefParser": "nlu.parser",
    "CustomerIndex": "nlu.customers",
    "ParseResult": "nlu.result",
    "Update": "nlu.result",
    "update_from_dict": "nlu.result",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'nlu' has no attribute {name!r}")


def parse(text: str, now: datetime, customers: Iterable[str | tuple[str, Sequence[str]]]) -> ParseResult:
    """Parse one message (builds the customer index each call: use BriefParser for many)."""
    from nlu.parser import BriefParser

    return BriefParser(customers).parse(text, now)
