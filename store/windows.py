"""A recipient's send window (the platform's per-person limit), one rule for both stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def take_slots(
    sends: list[str], now: datetime, limit: tuple[int, float], wanted: int
) -> tuple[list[str], int, datetime]:
    """The window after granting up to ``wanted`` sends at ``now``: (sends kept, granted, when a slot frees)."""
    count, seconds = limit
    since = now - timedelta(seconds=seconds)
    recent = [t for t in sends if datetime.fromisoformat(t) > since]
    granted = max(0, min(wanted, count - len(recent)))
    recent += [now.astimezone(UTC).isoformat()] * granted
    frees = datetime.fromisoformat(recent[0]) + timedelta(seconds=seconds) if recent else now
    return recent, granted, frees
