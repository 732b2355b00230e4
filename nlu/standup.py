"""Reading a standup answer: 本周完成 / 阻塞 / 下周计划, in whatever order and punctuation."""

from __future__ import annotations

import re
from dataclasses import dataclass

_LABELS = {
    "done": r"本周完成|本周进展|完成情况|已完成|完成",
    "blockers": r"阻塞因素|阻塞|阻碍|卡点|困难|需要支持|需要帮助",
    "plans": r"下周计划|下周打算|下周|计划",
}
# A label stands at the start or after a separator, and is followed by a colon, a space or the end:
# "下周三报价" and "演示完成" are not labels.
_LABEL = re.compile(
    r"(?:^|(?<=[\s,，;；。、]))(?:" + "|".join(f"(?P<{k}>{v})" for k, v in _LABELS.items()) + r")(?=[\s:：]|$)"
)
_EDGES = re.compile(r"^[\s:：,，;；。]+|[\s:：,，;；。]+$")
_NONE = re.compile(r"^(?:无|没有|暂无|没|无阻塞|没有阻塞|none|n/?a)?[。.!!]?$", re.IGNORECASE)


@dataclass(frozen=True)
class StandupAnswer:
    done: str
    blockers: str
    plans: str


def parse_standup(text: str) -> StandupAnswer | None:
    """The three parts, or None when the text names none of them (it is something else)."""
    marks = [m for m in _LABEL.finditer(text) if m.lastgroup]
    explicit = text.lstrip().startswith(("本周完成", "阻塞", "下周计划", "站会"))
    if not marks or (len({m.lastgroup for m in marks}) < 2 and not explicit):
        return None  # "天成建材 演示完成" is a brief, not a standup answer
    parts: dict[str, str] = {"done": "", "blockers": "", "plans": ""}
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        value = _EDGES.sub("", text[m.end() : end])
        key = m.lastgroup or "done"
        parts[key] = (parts[key] + ";" + value).strip(";") if parts[key] else value
    if _NONE.match(parts["blockers"].strip()):
        parts["blockers"] = ""
    return StandupAnswer(parts["done"], parts["blockers"], parts["plans"])
