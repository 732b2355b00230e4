"""Commission as pure rules: tiered rates by gross-margin band per won deal, plus special bonuses.

Everything is Decimal and rounded to the fen at each line, so the same deals always give the same
cents — the point of a statement anyone can check by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sales.model import Customer
from sales.stages import Stage

FEN = Decimal("0.01")


def fen(value: Decimal) -> Decimal:
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Band:
    """Deals whose margin is at least ``floor`` (a fraction, 0.20 = 20 %) earn ``rate`` of the amount."""

    floor: Decimal
    rate: Decimal


DEFAULT_BANDS = (
    Band(Decimal("0"), Decimal("0.02")),
    Band(Decimal("0.20"), Decimal("0.03")),
    Band(Decimal("0.30"), Decimal("0.04")),
    Band(Decimal("0.40"), Decimal("0.05")),
)


@dataclass(frozen=True)
class CommissionRules:
    bands: tuple[Band, ...] = DEFAULT_BANDS
    default_margin: Decimal = Decimal("0.25")  # when a deal has no margin of its own
    big_deal_amount: Decimal | None = None  # 大客户奖: a deal of at least this amount …
    big_deal_bonus: Decimal = Decimal(0)  # … earns this much once
    fast_payment_days: int | None = None  # 回款奖: paid within this many days of signing …
    fast_payment_rate: Decimal = Decimal(0)  # … earns this share of the amount

    def __post_init__(self) -> None:
        floors = [b.floor for b in self.bands]
        if not self.bands or floors != sorted(floors) or len(set(floors)) != len(floors):
            raise ValueError("commission bands need distinct floors in ascending order")
        if floors[0] > 0:
            raise ValueError("the lowest commission band must start at 0 so every deal has a rate")


@dataclass(frozen=True)
class WonDeal:
    customer: str
    owner_id: str
    amount: Decimal
    signed_on: date
    margin: Decimal | None = None
    paid_on: date | None = None


@dataclass(frozen=True)
class DealLine:
    deal: WonDeal
    margin: Decimal
    margin_is_default: bool
    band: int  # index into the rules' bands
    rate: Decimal
    base: Decimal
    bonuses: tuple[tuple[str, Decimal], ...]
    to_next_band: Decimal | None  # margin points short of the next band, None at the top

    @property
    def total(self) -> Decimal:
        return self.base + sum((amount for _, amount in self.bonuses), Decimal(0))


@dataclass(frozen=True)
class Statement:
    owner_id: str
    month: str  # YYYY-MM
    lines: tuple[DealLine, ...] = field(default_factory=tuple)

    @property
    def total(self) -> Decimal:
        return fen(sum((line.total for line in self.lines), Decimal(0)))


def band_of(margin: Decimal, bands: Sequence[Band]) -> int:
    """The highest band whose floor the margin reaches (a margin below 0 still gets the first)."""
    index = 0
    for i, band in enumerate(bands):
        if margin >= band.floor:
            index = i
    return index


def deal_line(deal: WonDeal, rules: CommissionRules) -> DealLine:
    margin = deal.margin if deal.margin is not None else rules.default_margin
    index = band_of(margin, rules.bands)
    rate = rules.bands[index].rate
    bonuses: list[tuple[str, Decimal]] = []
    if rules.big_deal_amount is not None and deal.amount >= rules.big_deal_amount and rules.big_deal_bonus:
        bonuses.append(("大客户奖", fen(rules.big_deal_bonus)))
    if (
        rules.fast_payment_days is not None
        and deal.paid_on is not None
        and (deal.paid_on - deal.signed_on).days <= rules.fast_payment_days
        and rules.fast_payment_rate
    ):
        bonuses.append(("回款奖", fen(deal.amount * rules.fast_payment_rate)))
    upper = rules.bands[index + 1].floor - margin if index + 1 < len(rules.bands) else None
    return DealLine(deal, margin, deal.margin is None, index, rate, fen(deal.amount * rate), tuple(bonuses), upper)


def statement(owner_id: str, month: str, deals: Sequence[WonDeal], rules: CommissionRules) -> Statement:
    """One rep's deals signed in ``month``, in signing order."""
    mine = sorted((d for d in deals if d.owner_id == owner_id and f"{d.signed_on:%Y-%m}" == month),
                  key=lambda d: (d.signed_on, d.customer))  # fmt: skip
    return Statement(owner_id, month, tuple(deal_line(d, rules) for d in mine))


def ranks(statements: Sequence[Statement]) -> dict[str, int]:
    """Standard competition ranking by total (1, 2, 2, 4): a rep learns a place, never a colleague's pay."""
    totals = sorted((s.total for s in statements), reverse=True)
    return {s.owner_id: totals.index(s.total) + 1 for s in statements}


def won_deals(customers: Sequence[Customer], tz: ZoneInfo) -> list[WonDeal]:
    """Won customers with an amount as deals, signed on the local day they closed."""
    return [
        WonDeal(c.name, c.owner_id, c.amount, c.closed_at.astimezone(tz).date(), c.margin, c.paid_on)
        for c in customers
        if c.stage is Stage.WON and c.amount is not None and c.closed_at is not None
    ]
