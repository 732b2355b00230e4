"""Win probability for open customers: naive Bayes over frequency tables, as Odoo scores leads.

A won customer counts toward every stage it passed, a lost one toward the stages up to the one
it was lost in; the other features count once per closed customer. Laplace smoothing keeps a
value seen once from deciding everything.

A value never seen among closed customers (a new industry, an unknown source, a new rep) is no
evidence and is left out: smoothing alone would turn the won/lost imbalance into a confident score.
A probability is given only where enough comparable closed customers stand behind it.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from recommender.history import History
from sales.stages import OPEN_STAGES, Stage

FEATURES = ("industry", "source", "region", "size", "owner")
SEGMENTS = ("industry", "source", "region", "size")  # what makes another customer comparable
LABELS = {"stage": "阶段", "industry": "行业", "source": "来源", "region": "地区", "size": "规模", "owner": "负责人"}
UNKNOWN = "?"
MIN_COMPARABLE = 10  # closed customers sharing a segment with this one, below which no probability is given
MIN_EVIDENCE = 3  # closed customers behind a value before it is named as a reason


def _values(h: History) -> dict[str, str]:
    c = h.customer
    return {"industry": c.industry or "?", "source": c.source or "?", "region": c.region or "?",
            "size": c.size or "?", "owner": c.owner_id}  # fmt: skip


@dataclass
class Score:
    """``probability`` is None when too few comparable closed customers stand behind it."""

    probability: float | None
    comparable: int = 0  # closed customers of the largest segment this one shares
    reasons: list[str] = field(default_factory=list)
    one_sided: bool = False  # enough closed customers, but all won or all lost: nothing to tell them apart

    @property
    def enough(self) -> bool:
        return self.probability is not None


@dataclass
class LeadScorer:
    counts: dict[str, Counter[tuple[str, str]]] = field(default_factory=dict)  # feature -> (value, outcome)
    totals: Counter[str] = field(default_factory=Counter)
    distinct: dict[str, int] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # owner id -> how a reply names them

    @classmethod
    def fit(cls, histories: list[History], names: dict[str, str] | None = None) -> LeadScorer:
        scorer = cls({f: Counter() for f in (*FEATURES, "stage")}, names=dict(names or {}))
        for h in histories:
            scorer.add(h)
        return scorer

    def add(self, h: History, sign: int = 1) -> None:
        """Count a customer in (``sign`` -1: out, as it was before a brief changed it): frequency tables follow a
        change without a refit."""
        if h.outcome == "open":
            return
        outcome = h.outcome
        self.totals[outcome] += sign
        for feature, value in _values(h).items():
            self.counts[feature][(value, outcome)] += sign
        last = Stage.NEGOTIATION if outcome == "won" else h.reached
        for stage in OPEN_STAGES:
            if stage.rank <= last.rank:
                self.counts["stage"][(stage.value, outcome)] += sign
        self.distinct = {}

    def _distinct(self, feature: str) -> int:
        """Values a closed customer had, for Laplace smoothing (worked out again after a change)."""
        if not self.distinct:
            self.distinct = {f: max(1, len({v for (v, _), n in c.items() if n > 0})) for f, c in self.counts.items()}
        return self.distinct[feature]

    @property
    def trained(self) -> bool:
        return self.totals["won"] > 0 and self.totals["lost"] > 0

    def _ratio(self, feature: str, value: str) -> tuple[float, int, int]:
        won, lost = self.counts[feature][(value, "won")], self.counts[feature][(value, "lost")]
        k = self._distinct(feature)
        if feature == "stage":  # stage counts are per stage passed, not per customer
            won_total = sum(n for (_, o), n in self.counts["stage"].items() if o == "won")
            lost_total = sum(n for (_, o), n in self.counts["stage"].items() if o == "lost")
        else:
            won_total, lost_total = self.totals["won"], self.totals["lost"]
        p_won = (won + 1) / (won_total + k)
        p_lost = (lost + 1) / (lost_total + k)
        return math.log(p_won / p_lost), won, lost

    def score(self, h: History) -> Score:
        """P(won) for a customer, with the evidence that pushed it most (in words); no probability before
        any customer was both won and lost, or with too few comparable closed customers."""
        seen = {f: self.counts[f][(v, "won")] + self.counts[f][(v, "lost")] for f, v in _values(h).items()}
        comparable = max((seen[f] for f in SEGMENTS if _values(h)[f] != UNKNOWN), default=0)
        if comparable < MIN_COMPARABLE or not self.trained:
            return Score(None, comparable, one_sided=not self.trained and comparable >= MIN_COMPARABLE)
        prior = math.log((self.totals["won"] + 1) / (self.totals["lost"] + 1))
        parts = []
        for feature, value in (("stage", h.customer.stage.value), *_values(h).items()):
            if (h.customer.stage.is_closed and feature == "stage") or value == UNKNOWN:
                continue
            log_ratio, won, lost = self._ratio(feature, value)
            if won + lost:  # a value no closed customer had is no evidence either way
                parts.append((log_ratio, feature, value, won, lost))
        logit = prior + sum(p[0] for p in parts)
        probability = 1 / (1 + math.exp(-max(-30.0, min(30.0, logit))))
        evidence = [p for p in parts if p[3] + p[4] >= MIN_EVIDENCE]
        reasons = []
        for log_ratio, feature, value, won, lost in sorted(evidence, key=lambda p: -abs(p[0]))[:3]:
            shown = Stage(value).label if feature == "stage" else self.names.get(value, value)
            group = f"走到「{shown}」" if feature == "stage" else f"{LABELS[feature]}「{shown}」"
            direction = "偏高" if log_ratio > 0 else "偏低"
            reasons.append(f"{group}的已结束客户 {won} 胜 {lost} 负,成交率{direction}")
        return Score(probability, comparable, reasons)
