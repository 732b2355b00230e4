"""How replies name people: by name, with the 工号 only where two share a name."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from sales.model import Employee


def display_names(employees: Iterable[Employee]) -> dict[str, str]:
    """Employee id -> the name a reply shows (张伟, or 张伟(E07) when there are two 张伟)."""
    staff = list(employees)
    shared = Counter(e.name for e in staff)
    return {e.id: f"{e.name}({e.id})" if shared[e.name] > 1 else e.name for e in staff}
