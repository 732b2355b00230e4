"""Commission rules by hand, to the fen: band edges, the default margin, both bonuses, ranks."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from sales.commission import Band, CommissionRules, WonDeal, band_of, deal_line, ranks, statement
from sales.months import month_in

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


# --- through genjin: an org imported from files, statements computed by hand ---------------------------------

ORG = """工号,姓名,角色,团队,上级工号
S01,陈静,主管,华东一组,
S02,周强,主管,华南二组,
E01,张伟,销售,华东一组,S01
E02,李娜,销售,华东一组,S01
E03,王磊,销售,华东一组,S01
E05,孙浩,销售,华南二组,S02
"""
# Default rules: bands 0 %→2 %, 20 %→3 %, 30 %→4 %, 40 %→5 %; default margin 25 %; 大客户奖 5,000 from 1,000,000;
# 回款奖 0.5 % when paid within 30 days.
DEALS = """客户名称,负责人工号,阶段,金额,进入阶段日期,毛利率,回款日期
甲机电,E01,成交,120万,2026-11-03,32%,2026-11-20
乙物流,E01,成交,"400,000",2026-11-10,,
丙食品,E01,成交,10万,2026-11-12,0.1999,2026-12-30
丁建材,E02,成交,50万,2026-11-05,40,2026-11-06
戊纺织,E03,成交,30万,2026-10-28,45%,
己电子,E05,成交,200万,2026-11-02,20%,
庚装备,E01,方案演示,80万,2026-11-12,35%,
"""
NOW = "2026-11-27T10:00:00+08:00"


def _org(genjin) -> None:  # type: ignore[no-untyped-def]
    (genjin.cwd / "org.csv").write_text(ORG, encoding="utf-8")
    (genjin.cwd / "deals.csv").write_text(DEALS, encoding="utf-8")
    assert genjin("import", "employees", "org.csv").returncode == 0
    report = json.loads(genjin("import", "customers", "deals.csv", "--json").stdout)
    assert report["added"] == 7 and not report["rejected"]


def test_my_commission_through_chat(genjin) -> None:  # type: ignore[no-untyped-def]
    _org(genjin)
    out = genjin("chat", "--user", "E01", "--now", NOW, input="我的提成\n").stdout
    # 甲: 1,200,000 × 4 % = 48,000 + 大客户奖 5,000 + 回款奖 (17 days) 6,000 = 59,000
    assert "甲机电 120万,毛利 32% → 第 3 档 4%:¥48,000.00;大客户奖 ¥5,000.00;回款奖 ¥6,000.00" in out
    assert "毛利再高 8% 可按 5% 计" in out
    # 乙: no margin → default 25 % → 3 % of 400,000 = 12,000
    assert (
        "乙物流 40万,毛利 25%(默认) → 第 3 档" not in out
        and "乙物流 40万,毛利 25%(默认) → 第 2 档 3%:¥12,000.00" in out
    )
    # 丙: 19.99 % stays in the first band, 2 % of 100,000; paid after 48 days: no bonus
    assert "丙食品 10万,毛利 19.99% → 第 1 档 2%:¥2,000.00;毛利再高 0.01% 可按 3% 计" in out
    assert "合计 ¥73,000.00" in out
    assert "团队排名:第 1 名(共 3 人)" in out
    assert "李娜" not in out and "25,000" not in out  # no colleague's pay, not even in the ranking


def test_a_rep_is_refused_a_colleagues_pay_and_a_supervisor_sees_the_team(genjin) -> None:  # type: ignore[no-untyped-def]
    _org(genjin)
    out = genjin("chat", "--user", "E02", "--now", NOW, input="张伟的提成是多少\n我的提成\n").stdout
    assert "张伟的提成我不能告诉你" in out and "73,000" not in out
    # 丁: 40 → 40 % → 5 % of 500,000 = 25,000 + 回款奖 (1 day) 2,500
    assert "合计 ¥27,500.00" in out and "第 2 名(共 3 人)" in out
    sup = genjin("chat", "--user", "S01", "--now", NOW, input="我的提成\n张伟的提成\n孙浩的提成\n").stdout
    assert "1. 张伟:3 单,¥73,000.00" in sup and "2. 李娜:1 单,¥27,500.00" in sup and "3. 王磊:0 单,¥0.00" in sup
    assert "合计 ¥100,500.00" in sup
    assert "11月张伟的提成(3 单)" in sup
    assert "孙浩的提成我不能告诉你" in sup  # another team's rep
    last = genjin("chat", "--user", "E03", "--now", NOW, input="上个月的提成\n").stdout
    assert "2026年10月你的提成(1 单)" in last and "¥15,000.00" in last  # 45 % → 5 % of 300,000


def test_commission_report_cli_gives_the_same_cents(genjin) -> None:  # type: ignore[no-untyped-def]
    _org(genjin)
    first = genjin("commission", "report", "--month", "2026-11", "--json")
    assert first.returncode == 0, first.stderr
    rows = {r["employee_id"]: r for r in json.loads(first.stdout)}
    assert set(rows) == {"E01", "E02", "E03", "E05"}
    assert rows["E01"]["total"] == "73000.00" and rows["E02"]["total"] == "27500.00"
    assert rows["E03"]["total"] == "0.00" and rows["E05"]["total"] == "65000.00"  # 3 % of 2,000,000 + 5,000
    assert rows["E05"]["team_rank"] == 1 and rows["E05"]["team_size"] == 1
    line = rows["E01"]["deals"][0]
    assert line["bonuses"] == {"大客户奖": "5000.00", "回款奖": "6000.00"} and line["band"] == 3
    assert genjin("commission", "report", "--month", "2026-11", "--json").stdout == first.stdout
    text = genjin("commission", "report", "--month", "2026-11", "--team", "华东一组").stdout
    assert "张伟(E01,华东一组) 合计 ¥73,000.00,团队第 1/3 名" in text and "孙浩" not in text
    bad = genjin("commission", "report", "--month", "2026-13")
    assert bad.returncode == 2 and "YYYY-MM" in bad.stderr


def test_commission_rules_from_the_settings(genjin) -> None:  # type: ignore[no-untyped-def]
    _org(genjin)
    (genjin.cwd / "genjin.toml").write_text(
        "[commission]\nbands = [[0, 0.01], [0.30, 0.10]]\nbig_deal_amount = 5000000\nfast_payment_days = 0\n",
        encoding="utf-8",
    )
    rows = {
        r["employee_id"]: r for r in json.loads(genjin("commission", "report", "--month", "2026-11", "--json").stdout)
    }
    # 甲 32 % → 10 % of 1,200,000; 乙 25 % → 1 %; 丙 → 1 %; no bonus reaches
    assert rows["E01"]["total"] == "125000.00"
    (genjin.cwd / "genjin.toml").write_text("[commission]\nbands = [[0.1, 0.01]]\n", encoding="utf-8")
    bad = genjin("commission", "report")
    assert bad.returncode == 2 and "commission_bands" in bad.stderr and "start at 0" in bad.stderr


def test_month_in_questions() -> None:
    today = date(2026, 1, 15)
    assert month_in("我的提成", today) == "2026-01"
    assert month_in("上个月提成", today) == "2025-12"
    assert month_in("11月的提成", today) == "2025-11"
    assert month_in("2025年3月提成", today) == "2025-03"
    assert month_in("2025-07 提成", today) == "2025-07"
    assert month_in("下个月", today) == "2026-02"
    assert (
        month_in("12月", today, ahead=True) == "2026-12" and month_in("1月", date(2026, 11, 5), ahead=True) == "2027-01"
    )
