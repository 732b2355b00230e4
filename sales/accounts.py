"""Where a person or a team is reached: one rule for every platform, read from their accounts.

A platform is a name (``wecom``, ``dingtalk``, ``feishu``, …) and an account is the id that platform
knows someone by; nothing here knows any platform but the console, which is always there and
addresses people by their 工号 and teams by name.
"""

from __future__ import annotations

from collections.abc import Sequence

from sales.model import Employee, Team

CONSOLE = "console"


def platform_user(employee: Employee, platform: str) -> str | None:
    """The id ``platform`` knows the employee by (the console: their 工号)."""
    return employee.id if platform == CONSOLE else employee.accounts.get(platform) or None


def address(employee: Employee, platforms: Sequence[str]) -> tuple[str, str] | None:
    """The first enabled platform the employee has an account on, in the order given."""
    for platform in platforms:
        user = platform_user(employee, platform)
        if user:
            return platform, user
    return None


def group_address(team: Team, platforms: Sequence[str]) -> tuple[str, str] | None:
    """The team's group chat on the first enabled platform that has one (the console: a team room)."""
    for platform in platforms:
        if platform == CONSOLE:
            return platform, f"team:{team.name}"
        target = team.channels.get(platform)
        if target:
            return platform, target
    return None
