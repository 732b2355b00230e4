"""Goals by hand: decomposition, progress over a fixed history, pace per working day; then in chat."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import pytest

from sales.calendar import WorkCalendar, china_provider
from sales.goals import (
    Goal,
    Kpi,
    Level,
    Progress,
    actuals,
    advances,
    days_left,
    decompose,
    parse_kpi,
    parse_month,
    split,
)
from sales.model import Brief, Customer, Employee, Role, StageChange, Team
from sales.months import month_bounds
from sales.stages import Stage
from scheduler.prompts import monday_list
from store.memory import MemoryStore
from tests.conftest import TZ
from usecases.goals import goal_state
from usecases.services import Services

D = Decimal
MEMBERS = {"一组": ["E01", "E02", "E03"], "二组": ["E04"], "": ["E09"]}


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), TZ)


def test_split_adds_up_exactly() -> None:
    assert split(D("1000000.00"), 3, whole=False) == [D("333333.34"), D("333333.33"), D("333333.33")]
    assert split(D(10), 3, whole=True) == [D(4), D(3), D(3)]
    assert sum(split(D("0.05"), 4, whole=False)) == D("0.05") and split(D(5), 0, whole=True) == []


def test_decomposition_by_hand() -> None:
    goals = [
        Goal("2026-12", Level.COMPANY, "", Kpi.SIGNED_AMOUNT, D(8_000_000), "全年冲刺一个亿"),
        Goal("2026-12", Level.TEAM, "二组", Kpi.SIGNED_AMOUNT, D(2_000_000)),
        Goal("2026-12", Level.REP, "E01", Kpi.SIGNED_AMOUNT, D(3_000_000)),
        Goal("2026-12", Level.TEAM, "一组", Kpi.BRIEFS, D(61)),
        Goal("2026-12", Level.REP, "E02", Kpi.WON_COUNT, D(2)),
        Goal("2026-12", Level.REP, "E03", Kpi.WON_COUNT, D(3)),
    ]
    plan = decompose(goals, MEMBERS)
    assert plan.objectives == ["全年冲刺一个亿"]
    # the company's 8,000,000 less 二组's own 2,000,000 goes to 一组 (the only other team with reps)
    assert plan.teams[("一组", Kpi.SIGNED_AMOUNT)].value == D(6_000_000)
    assert plan.teams[("一组", Kpi.SIGNED_AMOUNT)].source is Level.COMPANY
    assert plan.teams[("二组", Kpi.SIGNED_AMOUNT)].value == D(2_000_000)
    # in 一组, E01 set 3,000,000 himself; E02 and E03 share the remaining 3,000,000
    assert plan.reps[("E01", Kpi.SIGNED_AMOUNT)].value == D(3_000_000)
    assert plan.reps[("E01", Kpi.SIGNED_AMOUNT)].source is Level.REP
    assert plan.reps[("E02", Kpi.SIGNED_AMOUNT)].value == D(1_500_000) == plan.reps[("E03", Kpi.SIGNED_AMOUNT)].value
    assert plan.reps[("E04", Kpi.SIGNED_AMOUNT)].value == D(2_000_000)
    assert ("E09", Kpi.SIGNED_AMOUNT) not in plan.reps  # no team: nothing to split from
    # 61 briefs over three reps: whole briefs, the remainder to the first
    assert [plan.reps[(r, Kpi.BRIEFS)].value for r in ("E01", "E02", "E03")] == [D(21), D(20), D(20)]
    # a team without a target of its own adds up its reps' targets
    assert plan.teams[("一组", Kpi.WON_COUNT)].value == D(5) and ("E01", Kpi.WON_COUNT) not in plan.reps


def test_actuals_from_a_fixed_history_and_the_pace() -> None:
    month = "2026-12"

    def won(i: int, owner: str, amount: int, day: date) -> Customer:
        return Customer(name=f"C{i}", owner_id=owner, stage=Stage.WON, stage_entered_at=at(day), created_at=at(day),
                        amount=D(amount), closed_at=at(day))  # fmt: skip

    customers = [won(1, "E01", 800_000, date(2026, 12, 3)), won(2, "E01", 400_000, date(2026, 12, 10)),
                 won(3, "E02", 500_000, date(2026, 11, 30))]  # fmt: skip
    # a brief late on 11-30 in UTC is 12-01 in Shanghai: counted by local day
    briefs = [("E01", date(2026, 12, 1), 3), ("E01", date(2026, 11, 30), 9), ("E02", date(2026, 12, 2), 1)]
    changes = [
        StageChange(1, Stage.INITIAL, Stage.QUALIFIED, at(date(2026, 12, 1)), "E01"),
        StageChange(1, Stage.QUALIFIED, Stage.WON, at(date(2026, 12, 3)), "E01"),
        StageChange(2, Stage.DEMO, Stage.LOST, at(date(2026, 12, 4)), "E01"),  # lost is not progress
        StageChange(2, Stage.DEMO, Stage.QUALIFIED, at(date(2026, 12, 5)), "E01"),  # backwards neither
        StageChange(3, None, Stage.INITIAL, at(date(2026, 12, 5)), "E02"),  # created, not advanced
        StageChange(4, Stage.INITIAL, Stage.DEMO, at(date(2026, 12, 6)), None),  # imported: nobody's
    ]
    start, end = (datetime.combine(d, time(0), TZ) for d in month_bounds(month))
    assert advances(changes, start, end) == {"E01": 2}
    done = actuals(customers, {"E01": 4}, briefs, advances(changes, start, end), month, TZ)
    assert done[("E01", Kpi.SIGNED_AMOUNT)] == D(1_200_000) and done[("E01", Kpi.WON_COUNT)] == 2
    assert ("E02", Kpi.SIGNED_AMOUNT) not in done  # signed in November
    assert done[("E01", Kpi.NEW_CUSTOMERS)] == 4 and done[("E01", Kpi.BRIEFS)] == 3 and done[("E02", Kpi.BRIEFS)] == 1
    assert done[("E01", Kpi.ADVANCES)] == 2 and ("E02", Kpi.ADVANCES) not in done

    calendar = WorkCalendar(provider=china_provider())
    # December 2026 from Thursday the 10th: 10, 11, 14–18, 21–25, 28–31 = 16 working days
    assert days_left(calendar, date(2026, 12, 10), month) == 16
    assert days_left(calendar, date(2026, 11, 20), month) == 23  # the whole month ahead
    assert days_left(calendar, date(2027, 1, 4), month) == 0
    # October 2026: 22 weekdays, 10-01/02/05/06/07 off for National Day, Saturday 10-10 worked → 18
    assert days_left(calendar, date(2026, 9, 30), "2026-10") == 18
    p = Progress(Kpi.SIGNED_AMOUNT, D(3_000_000), D(1_200_000), 16)
    assert p.gap == D(1_800_000) and p.per_day() == D("112500.00") and p.in_days(5) == D("562500.00")
    assert Progress(Kpi.BRIEFS, D(20), D(25), 3).gap == 0 and Progress(Kpi.BRIEFS, D(20), D(5), 0).per_day() is None


@pytest.mark.parametrize(("text", "kpi"), [("新签合同额", Kpi.SIGNED_AMOUNT), ("成交客户数", Kpi.WON_COUNT),
                                           ("新增客户", Kpi.NEW_CUSTOMERS), ("briefs", Kpi.BRIEFS),
                                           ("阶段推进数", Kpi.ADVANCES), ("好多", None)])  # fmt: skip
def test_kpi_names(text: str, kpi: Kpi | None) -> None:
    assert parse_kpi(text) is kpi


def test_months() -> None:
    assert parse_month("2026-12") == parse_month("2026年12月") == parse_month(date(2026, 12, 1)) == "2026-12"
    with pytest.raises(ValueError, match="月份"):
        parse_month("2026-13")


async def test_the_monday_list_carries_the_weeks_pace() -> None:
    store = MemoryStore()
    async with store() as uow:
        await uow.teams.add(Team(name="一组"))
        await uow.employees.add(Employee(id="S01", name="陈静", role=Role.SUPERVISOR, team="一组"))
        await uow.employees.add(Employee(id="E01", name="张伟", team="一组", supervisor_id="S01"))
        await uow.employees.add(Employee(id="E02", name="李娜", team="一组", supervisor_id="S01"))
        await uow.goals.put(Goal("2026-12", Level.TEAM, "一组", Kpi.BRIEFS, D(40)))
        await uow.briefs.add(Brief("E01", "console", "…", at(date(2026, 12, 2))))
        await uow.commit()
    services = Services()
    monday = at(date(2026, 12, 7), 9)
    async with store() as uow:
        state = await goal_state(uow, services, monday.date(), "2026-12")
    assert state.left == 19 and state.rep("E01")[Kpi.BRIEFS].gap == D(19)
    sent = await monday_list(store, services, monday)
    # E01: 20 briefs, 1 sent, 19 to go over 19 working days → 5 this week
    assert "你本月目标的本周节奏(剩 19 个工作日):\n· 简报数:还差 19 条,本周 5 个工作日需 5 条" in sent["E01"]
    assert "团队本月目标的本周节奏" in sent["S01"] and "还差 39 条" in sent["S01"]


# --- through genjin ---------------------------------------------------------------------------------------

ORG = """工号,姓名,角色,团队,上级工号
A01,王敏,管理员,,
S01,陈静,主管,华东一组,
S02,周强,主管,华南二组,
E01,张伟,销售,华东一组,S01
E02,李娜,销售,华东一组,S01
E05,孙浩,销售,华南二组,S02
"""
CUSTOMERS = """客户名称,负责人工号,阶段,金额,进入阶段日期
甲机电,E01,成交,120万,2026-12-03
乙物流,E02,成交,50万,2026-12-04
"""
GOALS = """月份,层级,团队,工号,指标,目标值,公司目标
2026-12,公司,,,新签合同额,1000万,全年冲刺一个亿
2026-12,,华南二组,,新签合同额,400万,
2026-12,,,E01,新签合同额,360万,
2026-12,,华东一组,,成交客户数,5,
2026年12月,,,E02,简报数,20,
2026-12,,,E99,简报数,20,
2026-12,,火星组,,简报数,20,
2026-12,,,E01,好多,20,
2026-12,,,E01,成交客户数,2.5,
2026-13,,,E01,简报数,20,
2026-12,,,E01,新签合同额,1万,
"""
NOW = "2026-12-10T10:00:00+08:00"


def _org(genjin: Any) -> dict[str, Any]:
    for name, text in (("org.csv", ORG), ("c.csv", CUSTOMERS), ("goals.csv", GOALS)):
        (genjin.cwd / name).write_text(text, encoding="utf-8")
    assert genjin("import", "employees", "org.csv").returncode == 0
    assert genjin("import", "customers", "c.csv").returncode == 0
    result = genjin("import", "goals", "goals.csv", "--json")
    assert result.returncode == 0, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def test_goals_import_reports_each_row(genjin) -> None:  # type: ignore[no-untyped-def]
    report = _org(genjin)
    assert report["added"] == 5 and report["updated"] == 0
    assert [r["row"] for r in report["rejected"]] == [7, 8, 9, 10, 11, 12]
    reasons = " ".join(r["reason"] for r in report["rejected"])
    for words in (
        "工号不存在: E99",
        "团队不存在: 火星组",
        "指标看不懂: 好多",
        "要填整数",
        "月份看不懂",
        "文件内目标重复",
    ):
        assert words in reasons
    again = json.loads(genjin("import", "goals", "goals.csv", "--json").stdout)
    assert again["added"] == 0 and again["unchanged"] == 5
    text = genjin("import", "goals", "goals.csv").stdout
    assert "导入目标: 新增 0, 更新 0, 未变 5, 拒绝 6" in text and "第 7 行: 工号不存在: E99" in text


def test_my_goal_and_the_teams_through_chat(genjin) -> None:  # type: ignore[no-untyped-def]
    _org(genjin)
    out = genjin("chat", "--user", "E01", "--now", NOW, input="我的目标还差多少\n李娜的目标完成了多少\n").stdout
    # 16 working days left from Thursday 12-10 (see above)
    assert "你的2026年12月目标(剩 16 个工作日):" in out and "公司目标:全年冲刺一个亿" in out
    assert "· 新签合同额:目标 360万,已完成 120万(33%),还差 240万,每个工作日需 15万" in out
    # 华东一组: 1000万 − 华南二组's 400万 = 600万; E02 gets 600 − 360 = 240万. 成交 5 split 3 / 2.
    assert "· 成交客户数:目标 3 个,已完成 1 个(33%),还差 2 个,每个工作日需 0.13 个" in out
    assert "李娜的目标只有本人和主管能看" in out
    sup = genjin("chat", "--user", "S01", "--now", NOW, input="团队目标进度\n李娜的目标\n").stdout
    assert "· 新签合同额:目标 600万,已完成 170万(28%),还差 430万" in sup
    assert "张伟:新签合同额 33%、成交客户数 33%" in sup and "李娜:新签合同额 20%、成交客户数 50%、简报数 0%" in sup
    assert "李娜的2026年12月目标" in sup and "· 简报数:目标 20 条,已完成 0 条(0%)" in sup
    assert "目标异议" not in sup  # the hint is for the rep, not for whoever looks at their goals
    admin = genjin("chat", "--user", "A01", "--now", NOW, input="本月目标完成情况\n").stdout
    assert "全公司2026年12月目标" in admin and "· 新签合同额:目标 1000万,已完成 170万(17%)" in admin
    assert "【华南二组】" in admin
    one = genjin("chat", "--user", "A01", "--now", NOW, input="华南二组的目标进度\n").stdout
    assert "华南二组团队2026年12月目标" in one and "【华东一组】" not in one and "目标 400万" in one
    other = genjin("chat", "--user", "S01", "--now", NOW, input="华南二组的目标进度\n").stdout
    assert "「华南二组」不是你的团队" in other


def test_set_goal_command_and_its_permissions(genjin) -> None:  # type: ignore[no-untyped-def]
    _org(genjin)
    lines = "\n".join(["设定目标 张伟 新签合同额 400万", "设定目标 华南二组 简报数 60 1月", "设定目标 火星 简报数 3",
                       "设定目标 孙浩 新签合同额 90万 1月"]) + "\n"  # fmt: skip
    out = genjin("chat", "--user", "A01", "--now", NOW, input=lines).stdout
    assert "已设定:张伟 2026年12月 新签合同额 400万(原 360万)。" in out
    assert "已设定:华南二组团队 2027年1月 简报数 60 条。" in out  # a plan's month is the next January
    assert "不认识「火星」" in out
    assert "已设定:孙浩 2027年1月 新签合同额 90万。" in out
    sup = genjin(
        "chat", "--user", "S01", "--now", NOW, input="设定目标 李娜 简报数 30\n设定目标 孙浩 简报数 30\n"
    ).stdout
    assert "已设定:李娜 2026年12月 简报数 30 条(原 20 条)。" in sup and "只有管理员能设定目标" in sup
    rep = genjin("chat", "--user", "E01", "--now", NOW, input="设定目标 张伟 新签合同额 1万\n我的目标\n").stdout
    assert "只有管理员能设定目标" in rep and "目标 400万" in rep


def test_an_objection_is_recorded_and_forwarded(genjin) -> None:  # type: ignore[no-untyped-def]
    _org(genjin)
    out = genjin("chat", "--user", "E01", "--now", NOW,
                 input="目标异议\n目标异议 新签合同额 360 万偏高,两个大客户的预算推到了明年\n").stdout  # fmt: skip
    assert "请把理由一起发给我" in out
    assert "收到,你的异议已记下并转给陈静。" in out
    # the console shows what went to the supervisor too
    assert "张伟对2026年12月的目标有异议:\n新签合同额 360 万偏高,两个大客户的预算推到了明年" in out
    assert "· 新签合同额:目标 360万" in out
