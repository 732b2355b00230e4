"""Short Chinese text that fits the platforms' limits (WeCom text: 2,048 bytes)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from recommender.leadscore import MIN_COMPARABLE, Score

TEXT_LIMIT = 2048
WEEKDAYS = "一二三四五六日"


def day(value: date | None) -> str:
    """12月2日(周三)."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.date()
    return f"{value.month}月{value.day}日(周{WEEKDAYS[value.weekday()]})"


def size(text: str) -> int:
    return len(text.encode("utf-8"))


def fit(lines: list[str], *, limit: int = TEXT_LIMIT, more: Callable[[int], str] | None = None) -> str:
    """Join ``lines``; if that is too long, keep what fits and say how many were left out."""
    text = "\n".join(lines)
    if size(text) <= limit:
        return text
    describe = more or (lambda n: f"……还有 {n} 行没有列出")
    kept: list[str] = []
    for index, line in enumerate(lines):
        tail = describe(len(lines) - index)
        if size("\n".join([*kept, line, tail])) > limit:
            return "\n".join([*kept, tail])
        kept.append(line)
    return "\n".join(kept)  # pragma: no cover - the whole text would have fitted


def clip(text: str, limit: int = TEXT_LIMIT) -> str:
    """Cut one long text at a character boundary so it fits ``limit`` bytes."""
    if size(text) <= limit:
        return text
    encoded = text.encode("utf-8")[: limit - 3]
    return encoded.decode("utf-8", errors="ignore") + "…"


def split(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Cut ``text`` into parts of at most ``limit`` bytes, at line ends where possible."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        line = clip(line, limit)
        candidate = f"{current}\n{line}" if current else line
        if size(candidate) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
        current = line
    if current or not parts:
        parts.append(current)
    return parts


def win_line(score: Score, *, reasons: int = 3) -> str:
    """The win probability with what it rests on, or why there is none."""
    if score.probability is None and score.one_sided:
        return f"赢单概率:暂不估算(可比的 {score.comparable} 个已结束客户要么全成交、要么全流失,分不出差别)"
    if score.probability is None:
        return (f"赢单概率:历史太少,暂不估算(和它可比的已结束客户只有 {score.comparable} 个,"
                f"至少要 {MIN_COMPARABLE} 个)")  # fmt: skip
    evidence = [f"依据 {score.comparable} 个可比的已结束客户", *score.reasons[:reasons]]
    return f"赢单概率:{score.probability:.0%}(" + ";".join(evidence) + ")"
