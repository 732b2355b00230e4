"""The five-stage pipeline (plus the two closed outcomes) and its Chinese names."""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    """A pipeline stage; the values are the codes of the NLU contract."""

    INITIAL = "initial"
    QUALIFIED = "qualified"
    DEMO = "demo"
    NEGOTIATION = "negotiation"
    WON = "won"
    LOST = "lost"

    @property
    def label(self) -> str:
        """The Chinese name reps and supervisors read."""
        return _LABELS[self]

    @property
    def is_closed(self) -> bool:
        """Won and lost customers never stall and never move on their own."""
        return self in (Stage.WON, Stage.LOST)

    @property
    def rank(self) -> int:
        """Position in the pipeline; lost ranks with won so neither counts as progress."""
        return _ORDER.index(self) if self is not Stage.LOST else _ORDER.index(Stage.WON)


OPEN_STAGES: tuple[Stage, ...] = (Stage.INITIAL, Stage.QUALIFIED, Stage.DEMO, Stage.NEGOTIATION)
_ORDER: tuple[Stage, ...] = (*OPEN_STAGES, Stage.WON)
_LABELS = {
    Stage.INITIAL: "意向初探",
    Stage.QUALIFIED: "需求确认",
    Stage.DEMO: "方案演示",
    Stage.NEGOTIATION: "报价谈判",
    Stage.WON: "成交",
    Stage.LOST: "流失",
}
_ALIASES = {
    **{s.value: s for s in Stage},
    **{label: s for s, label in _LABELS.items()},
    "初探": Stage.INITIAL,
    "意向": Stage.INITIAL,
    "需求": Stage.QUALIFIED,
    "演示": Stage.DEMO,
    "方案": Stage.DEMO,
    "谈判": Stage.NEGOTIATION,
    "报价": Stage.NEGOTIATION,
    "赢单": Stage.WON,
    "签约": Stage.WON,
    "丢单": Stage.LOST,
    "输单": Stage.LOST,
}


def parse_stage(text: str) -> Stage | None:
    """Read a stage written as a code (``demo``) or in Chinese (``方案演示``, ``成交``)."""
    key = text.strip()
    return _ALIASES.get(key) or _ALIASES.get(key.lower())
