"""The neutral message types, for adapters (defined in ``handlers.messages``), and how a platform
without buttons writes the choices out."""

from collections.abc import Mapping, Sequence
from typing import Any

from handlers.messages import Button, Incoming, Reply

__all__ = ["Button", "Incoming", "Reply", "with_typed_choices"]


def with_typed_choices(text: str, buttons: Sequence[Mapping[str, Any]]) -> str:
    """Text for a platform without buttons: the labels written out, unless the question already says
    what to reply (这样改吗?回复 1 确认 / 2 不改)."""
    if not buttons or "回复" in text.rsplit("\n", 1)[-1]:
        return text
    return text + "\n(回复:" + " / ".join(str(b["label"]) for b in buttons) + ")"
