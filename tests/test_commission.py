"""Commission rules by hand, to the fen: band edges, the default margin, both bonuses, ranks."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from sales.commission import Band, CommissionRules, WonDeal, band_of, deal_line, ranks, statement

D = Decimal
RULES = CommissionRules(
    bands=(Band(D("0"), D("0.02")), Band(D("0.20"), D("0.04")), Band(D("0.35"), D("0.06"))),
    default_margin=D("0.25"),
    big_deal_amount=D("1000000"),
    big_deal_bonus=D("5000"),
    fast_payment_days=30,
    fast_payment_rate=D("0.005"),
)


def deal(amount: str, margin: str | None, signed: date = date(2026, 11, 3), paid: date | None = None,
         owner: str = "E01", name: str = "甲") -> WonDeal:  # fmt: skip
    return WonDeal(name, owner, D(amount), signed, D(margin) if margin is not None else None, paid)


@pytest.mark.parametrize(
    ("margin", "band"),
    [("-0.05", 0), ("0", 0), ("0.1999", 0), ("0.20", 1), ("0.3499", 1), ("0.35", 2), ("0.90", 2)],
)
def test_band_edges_belong_to_the_higher_band(margin: str, band: int) -> None:
    assert band_of(D(margin), RULES.bands) == band


def test_a_deal_line_by_hand() -> None:
    line = deal_line(deal("333333.33", "0.20"), RULES)
    assert (line.rate, line.base, line.bonuses, line.total) == (D("0.04"), D("13333.33"), (), D("13333.33"))
    assert line.to_next_band == D("0.15") and not line.margin_is_default
    top = deal_line(deal("1000000", "0.40", paid=date(2026, 12, 3)), RULES)  # paid on day 30: in time
    assert top.bonuses == (("大客户奖", D("5000.00")), ("回款奖", D("5000.00")))
    assert top.total == D("70000.00") and top.to_next_band is None
    late = deal_line(deal("999999.99", None, paid=date(2026, 12, 4)), RULES)  # day 31, just under big
    assert late.margin_is_default and late.rate == D("0.04") and late.bonuses == () and late.base == D("40000.00")


def test_rounding_is_half_up_to_the_fen_per_line() -> None:
    assert deal_line(deal("100.125", "0.35"), RULES).base == D("6.01")  # 6.0075 → 6.01
    assert deal_line(deal("100.0125", "0"), RULES).base == D("2.00")  # 2.00025 → 2.00


def test_a_monthly_statement_and_ranks() -> None:
    deals = [
        deal("500000", "0.30", date(2026, 11, 20), name="乙"),
        deal("200000", "0.10", date(2026, 11, 2), name="甲"),
        deal("800000", "0.50", date(2026, 10, 31), name="上月的"),
        deal("500000", "0.30", date(2026, 11, 5), owner="E02", name="丙"),
        deal("100000", "0.10", date(2026, 11, 9), owner="E03", name="丁"),
    ]
    mine = statement("E01", "2026-11", deals, RULES)
    assert [line.deal.customer for line in mine.lines] == ["甲", "乙"]
    assert mine.total == D("4000.00") + D("20000.00")
    again = statement("E01", "2026-11", list(reversed(deals)), RULES)
    assert again == mine  # the same inputs, the same cents, whatever the order
    everyone = [statement(o, "2026-11", deals, RULES) for o in ("E01", "E02", "E03", "E04")]
    assert ranks(everyone) == {"E01": 1, "E02": 2, "E03": 3, "E04": 4}
    e05 = statement("E05", "2026-11", [deal("500000", "0.30", date(2026, 11, 6), owner="E05")], RULES)
    assert ranks([*everyone[1:], e05]) == {"E02": 1, "E05": 1, "E03": 3, "E04": 4}  # a tie shares the place


def test_rules_that_leave_a_deal_without_a_rate_are_refused() -> None:
    with pytest.raises(ValueError, match="start at 0"):
        CommissionRules(bands=(Band(D("0.1"), D("0.02")),))
    with pytest.raises(ValueError, match="ascending"):
        CommissionRules(bands=(Band(D("0"), D("0.02")), Band(D("0.3"), D("0.05")), Band(D("0.2"), D("0.04"))))
