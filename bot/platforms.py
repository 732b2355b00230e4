"""The platforms Genjin knows. Adding one is a package under ``bot/`` and one line here."""

from __future__ import annotations

from collections.abc import Iterable

from bot.config import Settings
from bot.dingtalk.adapter import REGISTRATION as DINGTALK
from bot.feishu.adapter import REGISTRATION as FEISHU
from bot.platform import Registration
from bot.wecom.adapter import REGISTRATION as WECOM
from sales.accounts import CONSOLE

PLATFORMS: tuple[Registration, ...] = (WECOM, DINGTALK, FEISHU)


def enabled(settings: Settings) -> list[Registration]:
    """The platforms the settings turn on, in the order replies prefer them."""
    return [p for p in PLATFORMS if p.enabled(settings)]


def labels() -> dict[str, str]:
    """Platform name -> its Chinese name (import columns such as 「钉钉账号」)."""
    return {p.name: p.label for p in PLATFORMS}


def reach_order(names: Iterable[str]) -> tuple[str, ...]:
    """The platforms to reach people on, in the registry's order, the console last (it always works)."""
    rank = {p.name: i for i, p in enumerate(PLATFORMS)}
    return (*sorted(set(names) - {CONSOLE}, key=lambda n: (rank.get(n, len(rank)), n)), CONSOLE)
