"""Funnel and activity numbers on a fixed history, computed by hand, and the same through chat."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sales.calendar import WorkCalendar
from sales.model import Customer, Employee, StageChange
from sales.reports import activity, funnel, per_day, period, period_in, stage_totals
from sales.stages import Stage
from tests.conftest import TZ

TODAY = date(2026, 11, 26)  # a Thursday


def at(d: date) -> datetime:
    return datetime.combine(d, time(10), TZ)


def history() -> tuple[list[Customer], list[StageChange]]:
    def c(i: int, stage: Stage, amount: int | None, closed: date | None = None) -> Customer:
        return Customer(name=f"C{i}", owner_id="E01" if i < 3 else "E02", stage=stage, stage_entered_at=at(TODAY),
                        created_at=at(TODAY), id=i, amount=Decimal(amount) if amount else None,
                        closed_at=at(closed) if closed else None)  # fmt: skip

    customers = [
        c(1, Stage.DEMO, 500_000), c(2, Stage.QUALIFIED, 200_000), c(3, Stage.WON, 300_000, date(2026, 11, 16)),
        c(4, Stage.LOST, None, date(2026, 11, 9)),
    ]  # fmt: skip
    paths = {
        1: [(Stage.INITIAL, date(2026, 10, 20)), (Stage.QUALIFIED, date(2026, 11, 3)),
            (Stage.DEMO, date(2026, 11, 10))],
        2: [(Stage.INITIAL, date(2026, 11, 5)), (Stage.QUALIFIED, date(2026, 11, 12))],
        3: [(Stage.INITIAL, date(2026, 10, 1)), (Stage.QUALIFIED, date(2026, 10, 12)), (Stage.DEMO, date(2026, 10, 20)),
            (Stage.NEGOTIATION, date(2026, 11, 2)), (Stage.WON, date(2026, 11, 16))],
        4: [(Stage.INITIAL, date(2026, 11, 2)), (Stage.LOST, date(2026, 11, 9))],
    }  # fmt: skip
    changes = [StageChange(i, None, s, at(d)) for i, path in paths.items() for s, d in path]
    return customers, changes


def test_funnel_by_hand() -> None:
    customers, changes = history()
    span, previous = period("this_month", TODAY)
    f = funnel(stage_totals(customers), customers, changes, span, previous, WorkCalendar(), TZ, TODAY)
    assert [(s.stage, s.count, s.amount) for s in f.stages] == [
        (Stage.INITIAL, 0, Decimal(0)),
        (Stage.QUALIFIED, 1, Decimal(200_000)),
        (Stage.DEMO, 1, Decimal(500_000)),
        (Stage.NEGOTIATION, 0, Decimal(0)),
    ]
    assert (f.won.count, f.won.amount, f.lost.count) == (1, Decimal(300_000), 1)
    # entered in November, and moved on since (a loss is not moving on)
    assert f.conversion == {Stage.INITIAL: (2, 1), Stage.QUALIFIED: (2, 1), Stage.DEMO: (1, 0),
                            Stage.NEGOTIATION: (1, 1)}  # fmt: skip
    # stays that ended in November, in working days: initial 10 (C1), 5 (C2), 5 (C4); qualified 5 (C1);
    # demo 9 (C3: Tue 10-20 to Mon 11-02); negotiation 10 (C3: 11-02 to 11-16)
    assert f.median_days == {Stage.INITIAL: 5, Stage.QUALIFIED: 5, Stage.DEMO: 9, Stage.NEGOTIATION: 10}
    assert f.entered_before == {Stage.INITIAL: 2, Stage.QUALIFIED: 1, Stage.DEMO: 1}  # October
    assert f.per_owner == {"E01": {Stage.DEMO: 1, Stage.QUALIFIED: 1}}


def test_periods() -> None:
    assert period("last_month", TODAY)[0].start == date(2026, 10, 1)
    quarter, before = period("this_quarter", TODAY)
    assert (quarter.start, quarter.end, before.start) == (date(2026, 10, 1), date(2026, 12, 31), date(2026, 7, 1))
    week, _ = period("this_week", TODAY)
    assert (week.start, week.end) == (date(2026, 11, 23), date(2026, 11, 29))
    assert [period_in(t) for t in ("上月漏斗", "本季度漏斗", "这周的漏斗", "漏斗情况")] == [
        "last_month", "this_quarter", "this_week", "this_month"]  # fmt: skip


def test_activity_by_hand() -> None:
    reps = [Employee(id="E01", name="张伟"), Employee(id="E02", name="李娜")]
    sent = [("E01", at(TODAY)), ("E01", at(date(2026, 11, 23))), ("E01", at(date(2026, 11, 23))),
            ("E02", at(date(2026, 11, 20)))]  # fmt: skip
    a = activity(reps, per_day(sent, TZ), {"E02": 3}, WorkCalendar(), TZ, TODAY)
    assert (a.sent_today, a.silent_today, a.sent_week, a.silent_week) == (["E01"], ["E02"], ["E01"], ["E02"])
    assert len(a.days) == 20 and a.days[-1] == TODAY and a.days[0] == date(2026, 10, 30)
    assert a.heat["E01"][-1] == 1 and a.heat["E01"][-4] == 2 and a.heat["E02"][-5] == 1 and sum(a.heat["E02"]) == 1
    assert a.stalled == [("E02", 3)]


def test_reports_through_chat_and_cli(genjin) -> None:  # type: ignore[no-untyped-def]
    assert genjin("demo", "--no-chat").returncode == 0
    chat = genjin("chat", "--user", "S01", "--now", "2026-11-26T18:00:00+08:00",
                  input="本月漏斗\n团队这周日报提交情况\n华南二组上月漏斗\n")  # fmt: skip
    replies = [b for b in chat.stdout.split("\n\n") if b.strip()]
    assert "华东一组团队本月漏斗" in replies[0] and "各人在手" in replies[0]
    assert "简报情况" in replies[1] and "近 20 个工作日" in replies[1]
    assert "不是你的团队" in replies[2]
    rep = genjin("chat", "--user", "E01", input="本月漏斗\n")
    assert "你本月漏斗" in rep.stdout and "各人在手" not in rep.stdout
    data = json.loads(genjin("report", "funnel", "--team", "华东一组", "--now", "2026-11-26T18:00:00+08:00",
                             "--json").stdout)  # fmt: skip
    assert data["period"]["start"] == "2026-11-01" and data["stages"][0]["stage"] == "initial"
    assert json.loads(genjin("report", "activity", "--json").stdout)["days"]


def test_forecast_through_chat_and_cli(genjin) -> None:  # type: ignore[no-untyped-def]
    assert genjin("demo", "--no-chat").returncode == 0
    now = "2026-11-26T18:00:00+08:00"
    chat = genjin("chat", "--user", "S01", "--now", now, input="本月预计能成交多少\n华南二组的成交预测\n")
    replies = [b for b in chat.stdout.split("\n\n") if b.strip()]
    assert "华东一组团队成交预测" in replies[0] and "· 本月:预计" in replies[0] and "未来 90 天" in replies[0]
    assert "不是你的团队" in replies[1]
    data = json.loads(genjin("report", "forecast", "--team", "华东一组", "--now", now, "--json").stdout)
    month = data["buckets"]["this_month"]
    assert float(month["low"]) <= float(month["expected"]) <= float(month["high"])
    text = genjin("report", "forecast", "--team", "华东一组", "--now", now).stdout
    assert "成交预测" in text and str(int(float(month["expected"]) / 10_000)) in text.replace(",", "")


def test_the_funnel_counts_a_change_by_its_local_day_at_the_edges() -> None:
    """Midnight in Shanghai is 16:00 UTC the day before: a change a second before it is last month's, one at it
    this month's; the funnel compares instants, and must agree with the local dates."""
    span, previous = period("this_month", TODAY)
    midnight = datetime.combine(span.start, time(0), TZ)
    moments = [midnight - timedelta(seconds=1), midnight, datetime.combine(previous.start, time(0), TZ)]
    changes = [StageChange(i, None, Stage.INITIAL, m.astimezone(UTC), id=i) for i, m in enumerate(moments, start=1)]
    changes.append(StageChange(9, None, Stage.INITIAL, (datetime.combine(previous.start, time(0), TZ) -
                                                        timedelta(microseconds=1)).astimezone(UTC), id=9))  # fmt: skip
    f = funnel([], [], changes, span, previous, WorkCalendar(), TZ, TODAY)
    assert f.entered == {Stage.INITIAL: 1} and f.entered_before == {Stage.INITIAL: 2}
