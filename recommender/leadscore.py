"""Win probability for open customers: naive Bayes over frequency tables, as Odoo scores leads.

A won customer counts toward every stage it passed, a lost one toward the stages up to the one
it was lost in; the other features count once per closed customer. Laplace smoothing keeps a
value seen once from deciding everything.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from recommender.history import History
from sales.stages import OPEN_STAGES, Stage

FEATURES = ("industry", "source", "region", "size", "owner")
LABELS = {"stage": "阶段", "industry": "行业", "source": "来源", "region": "地区", "size": "规模", "owner": "负责人"}


def _values(h: History) -> dict[str, str]:
    c = h.customer
    return {"industry": c.industry or "?", "source": c.source or "?", "region": c.region or "?",
            "size": c.size or "?", "owner": c.owner_id}  # fmt: skip


@dataclass
class Score:
    probability: float
    reasons: list[str] = field(default_factory=list)


@dataclass
class LeadScorer:
    counts: dict[str, Counter[tuple[str, str]]] = field(default_factory=dict)  # feature -> (value, outcome)
    totals: Counter[str] = field(default_factory=Counter)
    distinct: dict[str, int] = field(default_factory=dict)

    @classmethod
    def fit(cls, histories: list[History]) -> LeadScorer:
        scorer = cls({f: Counter() for f in (*FEATURES, "stage")})
        seen: dict[str, set[str]] = {f: set() for f in (*FEATURES, "stage")}
        for h in histories:
            if h.outcome == "open":
                continue
            outcome = h.outcome
            scorer.totals[outcome] += 1
            for feature, value in _values(h).items():
                scorer.counts[feature][(value, outcome)] += 1
                seen[feature].add(value)
            last = Stage.NEGOTIATION if outcome == "won" else h.reached
            for stage in OPEN_STAGES:
                if stage.rank <= last.rank:
                    scorer.counts["stage"][(stage.value, outcome)] += 1
                    seen["stage"].add(stage.value)
        scorer.distinct = {f: max(1, len(v)) for f, v in seen.items()}
        return scorer

    @property
    def trained(self) -> bool:
        return self.totals["won"] > 0 and self.totals["lost"] > 0

    def _ratio(self, feature: str, value: str) -> tuple[float, int, int]:
        won, lost = self.counts[feature][(value, "won")], self.counts[feature][(value, "lost")]
        k = self.distinct[feature]
        if feature == "stage":  # stage counts are per stage passed, not per customer
            won_total = sum(n for (_, o), n in self.counts["stage"].items() if o == "won")
            lost_total = sum(n for (_, o), n in self.counts["stage"].items() if o == "lost")
        else:
            won_total, lost_total = self.totals["won"], self.totals["lost"]
        p_won = (won + 1) / (won_total + k)
        p_lost = (lost + 1) / (lost_total + k)
        return math.log(p_won / p_lost), won, lost

    def score(self, h: History) -> Score | None:
        """P(won) for a customer, with the features that pushed it most (in words)."""
        if not self.trained:
            return None
        prior = math.log((self.totals["won"] + 1) / (self.totals["lost"] + 1))
        parts = []
        for feature, value in (("stage", h.customer.stage.value), *_values(h).items()):
            if h.customer.stage.is_closed and feature == "stage":
                continue
            log_ratio, won, lost = self._ratio(feature, value)
            parts.append((log_ratio, feature, value, won, lost))
        logit = prior + sum(p[0] for p in parts)
        probability = 1 / (1 + math.exp(-max(-30.0, min(30.0, logit))))
        strongest = sorted(parts, key=lambda p: -abs(p[0]))[:3]
        reasons = []
        for log_ratio, feature, value, won, lost in strongest:
            shown = Stage(value).label if feature == "stage" else value
            direction = "成交率高于平均" if log_ratio > 0 else "成交率低于平均"
            reasons.append(f"{LABELS[feature]}「{shown}」{direction}(历史 {won} 胜 {lost} 负)")
        return Score(probability, reasons)
