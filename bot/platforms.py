"""The platforms Genjin knows. Adding one is a package under ``bot/`` and one line here."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.config import Settings
from bot.platform import PlatformAdapter, Registration, Wiring
from sales.accounts import CONSOLE


@dataclass(frozen=True)
class LazyAdapter:
    """The platform's package is imported when its adapter is built: a platform that is off (the console demo)
    costs nothing at start-up (their SDKs and crypto take a good part of a second to import)."""

    module: str
    adapter: str

    def __call__(self, wiring: Wiring) -> PlatformAdapter:
        factory: Callable[[Wiring], PlatformAdapter] = getattr(importlib.import_module(self.module), self.adapter)
        return factory(wiring)


PLATFORMS: tuple[Registration, ...] = (
    Registration("wecom", "企业微信", lambda s: s.wecom_enabled, LazyAdapter("bot.wecom.adapter", "WeComAdapter")),
    Registration(
        "dingtalk", "钉钉", lambda s: s.dingtalk_enabled, LazyAdapter("bot.dingtalk.adapter", "DingTalkAdapter")
    ),
    Registration("feishu", "飞书", lambda s: s.feishu_enabled, LazyAdapter("bot.feishu.adapter", "FeishuAdapter")),
)


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
