"""The recommendation written out, for the chat and `genjin recommend`."""

from __future__ import annotations

from recommender.service import Recommendation
from usecases.format import fit, win_line


def render(rec: Recommendation) -> str:
    name = rec.customer.customer.name
    strategy = rec.strategy
    lines = [f"「{name}」的推进建议(参考 {strategy.won} 个相似的已成交、{strategy.lost} 个流失的客户):"]
    if not strategy.enough:
        lines.append(f"相似的已成交客户只有 {strategy.won} 个,历史太少,给不出可靠的建议;多积累些简报后再问我。")
    for n, suggestion in enumerate(strategy.suggestions, start=1):
        lines.append(f"{n}. {suggestion.text}({suggestion.evidence})")
    if strategy.interval:
        lines.append(f"跟进节奏:{strategy.interval}")
    if rec.score is not None:
        lines.append(win_line(rec.score))
    if rec.examples:
        lines.append("可以参考:" + "、".join(rec.examples))
    return fit(lines)
