"""Interactive cards: a question with buttons, and which button was clicked.

Card JSON 2.0, shaped as lark-oapi's own ``CardBuilder`` emits it (buttons as top-level body elements in a
``column_set`` row; the 1.0 ``action`` container is gone). Sent with msg_type ``interactive`` and the card as
``content``. A click comes back as a ``card.action.trigger`` callback carrying the button's ``value``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

CARD_ACTION = "card.action.trigger"
ROW = 3  # buttons side by side; more go on further rows


class CardClick(NamedTuple):
    user_id: str  # the operator's user_id (needs the app's "user ID" scope)
    chat_id: str  # open_chat_id of the chat holding the card
    key: str


def _button(label: str, key: str) -> dict[str, Any]:
    return {"tag": "button", "text": {"tag": "plain_text", "content": label}, "type": "default", "value": {"key": key}}


def button_card(
    text: str, buttons: Sequence[tuple[str, str]], *, title: str | None = None, markdown: bool = False
) -> dict[str, Any]:
    """A card with ``text`` and a button per (label, key); plain text unless ``markdown``, so that a
    customer's name with ``*`` in it is not formatted."""
    elements: list[dict[str, Any]] = []
    if text:
        body = {"tag": "markdown", "content": text} if markdown else {
            "tag": "div", "text": {"tag": "plain_text", "content": text}}  # fmt: skip
        elements.append(body)
    for start in range(0, len(buttons), ROW):
        row = buttons[start : start + ROW]
        elements.append({"tag": "column_set", "columns": [
            {"tag": "column", "elements": [_button(label, key)]} for label, key in row]})  # fmt: skip
    card: dict[str, Any] = {"schema": "2.0", "config": {"update_multi": True}, "body": {"elements": elements}}
    if title:
        card["header"] = {"title": {"tag": "plain_text", "content": title}, "template": "blue"}
    return card


def button_keys(card: Mapping[str, Any]) -> list[str]:
    """The keys of a card's buttons, in order (for tests and logs)."""
    keys: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("tag") == "button" and isinstance(node.get("value"), dict):
                keys.append(str(node["value"].get("key", "")))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card.get("body"))
    return keys


def obj(node: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = node.get(key)
    return value if isinstance(value, dict) else {}


def parse_click(payload: Mapping[str, Any]) -> CardClick:
    """(user, chat, key) of a ``card.action.trigger`` (schema 2.0); ValueError for anything else."""
    if obj(payload, "header").get("event_type") != CARD_ACTION:
        raise ValueError("not a card.action.trigger event")
    event = obj(payload, "event")
    key = obj(obj(event, "action"), "value").get("key")
    if not isinstance(key, str) or not key:
        raise ValueError("card action without a button key")
    operator = obj(event, "operator")
    user_id = operator.get("user_id") or operator.get("open_id")  # user_id needs the app's user ID scope
    if not isinstance(user_id, str) or not user_id:
        raise ValueError("card action without the operator's id")
    return CardClick(user_id, str(obj(event, "context").get("open_chat_id") or ""), key)
