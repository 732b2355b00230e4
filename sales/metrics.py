"""One set of definitions (口径): each metric sales and marketing argue about, defined once. The report computes
them from these functions, and ``docs/metrics.md`` is written from this module (``genjin docs metrics``), so the
document and the numbers cannot drift apart."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sales.stages import OPEN_STAGES, Stage


@dataclass(frozen=True)
class Metric:
    key: str
    name: str
    definition: str  # in Chinese, for the people who use it
    formula: str


METRICS: tuple[Metric, ...] = (
    Metric(
        "lead",
        "线索",
        "导入或网站推送进来的一条潜在客户记录,按名称去重;"
        "已经是客户的公司产生的行为也记在一条线索上(渠道「已有客户」)。",
        "线索数 = 来源渠道为该渠道的线索条数",
    ),
    Metric(
        "qualified_lead",
        "合格线索",
        "分配给销售之后,对应客户到过「需求确认」或更后的阶段(含成交)的线索;流失前到过需求确认的也算。"
        "分配之前就有的阶段和成交不算这条线索的。",
        "合格线索数 = 阶段历史里到过 需求确认/方案演示/报价谈判/成交 的线索客户数",
    ),
    Metric(
        "first_response_time",
        "首次响应时间",
        "从线索分配给销售,到第一次有简报提到这个客户,之间的工作小时数(只算中国工作日的 9:00–18:00);改派后重新计时。",
        "首次响应时间 = 工作小时(分配时间, 首次简报时间);报表给中位数",
    ),
    Metric(
        "cycle_time",
        "成交周期",
        "从线索进来(获取时间)到客户成交(签约时间)的自然日数,只算已成交的。",
        "成交周期 = 签约日期 − 获取日期(天);报表给中位数",
    ),
    Metric(
        "stage_conversion",
        "阶段转化率",
        "到过某个阶段的客户里,又到过下一个阶段的比例(按阶段历史,不看现在停在哪)。",
        "阶段转化率(A→B) = 到过 B 的客户数 ÷ 到过 A 的客户数",
    ),
    Metric(
        "win_rate",
        "赢单率",
        "已经结束(成交或流失)的客户里成交的比例;还在跟进的不算。",
        "赢单率 = 成交数 ÷ (成交数 + 流失数)",
    ),
    Metric(
        "cac",
        "获客成本(CAC)",
        "某渠道的投放花费合计,除以这个渠道成交的客户数。花费用 `genjin import costs` 导入(渠道、月份、金额);"
        "选了月份时只算这些月份的花费和这些月份进来的线索。",
        "获客成本 = 渠道花费合计 ÷ 渠道成交客户数",
    ),
    Metric(
        "ltv",
        "客户终身价值(LTV)",
        "某渠道成交客户的平均成交金额。Genjin 只知道每个客户的成交金额,不知道续约和复购,所以这是终身价值的下限。",
        "LTV = 渠道成交金额合计 ÷ 渠道成交客户数",
    ),
)
BY_KEY = {m.key: m for m in METRICS}
QUALIFIED_STAGES = frozenset({Stage.QUALIFIED, Stage.DEMO, Stage.NEGOTIATION, Stage.WON})


def document() -> str:
    """``docs/metrics.md``, generated: edit this module, then run ``genjin docs metrics``."""
    lines = [
        "# 指标口径(Metric definitions)",
        "",
        "> 这个文件由 `genjin docs metrics` 从 `sales/metrics.py` 生成,不要手改;测试会在它过期时失败。",
        "",
    ]
    for m in METRICS:
        lines += [f"## {m.name}(`{m.key}`)", "", m.definition, "", f"- 计算:{m.formula}", ""]
    return "\n".join(lines)


@dataclass(frozen=True)
class LeadOutcome:
    """One lead as the channel report reads it."""

    channel: str
    reached: frozenset[Stage]  # every stage its customer was ever in (empty: not handed out)
    stage: Stage | None  # where its customer is now
    amount: Decimal | None
    response_hours: float | None
    cycle_days: int | None


@dataclass
class ChannelLine:
    channel: str
    leads: int = 0
    qualified: int = 0
    won: int = 0
    lost: int = 0
    revenue: Decimal = Decimal(0)
    spend: Decimal = Decimal(0)
    response: list[float] = field(default_factory=list)
    cycle: list[int] = field(default_factory=list)

    @property
    def win_rate(self) -> float | None:
        closed = self.won + self.lost
        return self.won / closed if closed else None

    @property
    def cac(self) -> Decimal | None:
        return (self.spend / self.won).quantize(Decimal("0.01")) if self.won else None

    @property
    def ltv(self) -> Decimal | None:
        return (self.revenue / self.won).quantize(Decimal("0.01")) if self.won else None

    @property
    def median_response(self) -> float | None:
        return statistics.median(self.response) if self.response else None

    @property
    def median_cycle(self) -> float | None:
        return statistics.median(self.cycle) if self.cycle else None


def channels(outcomes: Iterable[LeadOutcome], spend: Mapping[str, Decimal]) -> list[ChannelLine]:
    """Per channel, by the definitions above; channels with spend but no lead are listed too."""
    lines: dict[str, ChannelLine] = {c: ChannelLine(c, spend=s) for c, s in spend.items()}
    for o in outcomes:
        line = lines.setdefault(o.channel, ChannelLine(o.channel))
        line.leads += 1
        line.qualified += bool(o.reached & QUALIFIED_STAGES)
        if o.stage is Stage.WON:
            line.won += 1
            line.revenue += o.amount or Decimal(0)
        elif o.stage is Stage.LOST:
            line.lost += 1
        if o.response_hours is not None:
            line.response.append(o.response_hours)
        if o.cycle_days is not None:
            line.cycle.append(o.cycle_days)
    return sorted(lines.values(), key=lambda x: (-x.won, -x.leads, x.channel))


def stage_conversion(reached: Sequence[frozenset[Stage]]) -> dict[Stage, float | None]:
    """Of the customers that were ever in a stage, the share that were ever in the next (the definition above)."""
    out: dict[Stage, float | None] = {}
    for here, after in zip(OPEN_STAGES, [*OPEN_STAGES[1:], Stage.WON], strict=True):
        entered = [r for r in reached if here in r]
        out[here] = sum(1 for r in entered if after in r) / len(entered) if entered else None
    return out
