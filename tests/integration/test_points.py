"""Points: each rule fires once for one event and not for a repeat; the redemption approval; recognition."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from bot.errors import ErrorHandler
from bot.inbox import InboxWorker
from handlers import build_router
from sales.forecast import Snapshot
from sales.model import Customer, Employee, InboxMessage, Role, Standup, Team
from sales.points import PointsEntry, PointsRules, Reward, brief_counts, find_reward, forecast_within, leaderboard
from sales.stages import Stage
from sales.stall import Reminder
from store.memory import MemoryStore
from tests.conftest import TZ
from usecases.recognition import forecast_awards, monthly
from usecases.services import Services

THURSDAY = date(2026, 11, 26)


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), TZ)


class Chat:
    """The bot in process on the memory store; each message answered as it would be on a platform."""

    def __init__(self) -> None:
        self.store, self.services, self.n = MemoryStore(), Services(), 0

    async def org(self) -> None:
        async with self.store() as uow:
            await uow.teams.add(Team(name="一组"))
            await uow.teams.add(Team(name="二组"))
            await uow.employees.add(Employee(id="S01", name="陈静", role=Role.SUPERVISOR, team="一组"))
            await uow.employees.add(Employee(id="S02", name="周强", role=Role.SUPERVISOR, team="二组"))
            await uow.employees.add(Employee(id="E01", name="张伟", team="一组", supervisor_id="S01"))
            await uow.employees.add(Employee(id="E02", name="李娜", team="一组", supervisor_id="S01"))
            await uow.employees.add(Employee(id="E05", name="孙浩", team="二组", supervisor_id="S02"))
            for name, stage in (("甲机电", Stage.INITIAL), ("乙物流", Stage.NEGOTIATION)):
                await uow.customers.add(
                    Customer(
                        name=name,
                        owner_id="E01",
                        stage=stage,
                        stage_entered_at=at(THURSDAY, 8),
                        created_at=at(THURSDAY, 8),
                    )
                )
            await uow.commit()

    async def say(self, user: str, text: str, when: datetime, msg_id: str | None = None) -> list[str]:
        """Every message the bot queued in answer (to the sender or anyone else), in order."""
        self.n += 1
        async with self.store() as uow:
            before = len(await uow.outbox.find())
            await uow.inbox.put(
                InboxMessage(
                    platform="console",
                    msg_id=msg_id or f"m{self.n}",
                    user_id=user,
                    chat_id=f"console:{user}",
                    text=text,
                    received_at=when,
                )
            )
            await uow.commit()
        await InboxWorker(self.store, build_router(), ErrorHandler(), lambda: when, services=self.services).drain()
        async with self.store() as uow:
            return [str(m.payload["text"]) for m in (await uow.outbox.find())[before:]]

    async def balance(self, who: str) -> int:
        async with self.store() as uow:
            return await uow.points.balance(who)


def test_pure_rules() -> None:
    rules = PointsRules()
    assert brief_counts(at(THURSDAY, 19, 59), True, rules) and not brief_counts(at(THURSDAY, 20), True, rules)
    assert not brief_counts(at(THURSDAY, 10), False, rules)
    months = ["2026-08", "2026-09", "2026-10"]
    said = {m: Decimal(1_000_000) for m in months}
    assert forecast_within(
        said, {"2026-08": Decimal(900_000), "2026-09": Decimal(1_100_000), "2026-10": Decimal(1_250_000)}, months, 0.10
    )  # 3.0 M vs 3.25 M: 7.7 %
    assert not forecast_within(said, {m: Decimal(800_000) for m in months}, months, 0.10)  # 25 % over
    assert not forecast_within({"2026-09": Decimal(1), "2026-10": Decimal(1)}, {}, months, 0.10)  # a month missing
    assert leaderboard({"a": 5, "b": 5, "c": 2}, ["a", "b", "c", "d"]) == [
        (1, "a", 5),
        (1, "b", 5),
        (3, "c", 2),
        (4, "d", 0),
    ]
    catalogue = (Reward("京东卡 100 元", 200), Reward("京东卡 500 元", 900), Reward("咖啡券", 30))
    assert find_reward("咖啡券", catalogue) == [catalogue[2]] and len(find_reward("京东卡", catalogue)) == 2


async def test_brief_advance_and_won_once_each() -> None:
    chat = Chat()
    await chat.org()
    first = await chat.say("E01", "甲机电 确认了需求,下周三演示", at(THURSDAY, 10))
    assert "积分 +5" in first[0]  # brief 2 + advance 3
    again = await chat.say("E01", "甲机电 确认了需求,下周三演示", at(THURSDAY, 10), msg_id="m1")  # redelivered
    assert again == [] and await chat.balance("E01") == 5
    later = await chat.say("E01", "甲机电 电话沟通了一下", at(THURSDAY, 15))
    assert "积分" not in later[0] and await chat.balance("E01") == 5  # the day's brief counted already
    asked = await chat.say("E01", "乙物流 签了,金额50万", at(THURSDAY, 16))
    assert "积分 +" not in asked[0] and "成交会计入提成、积分和目标" in asked[0]  # a win is confirmed first
    won = await chat.say("E01", "确认", at(THURSDAY, 16, 1))
    assert "积分 +10" in won[0]  # the win, not also an advance
    # 甲 forward to 方案演示, back to 需求确认 (confirmed), forward again: the second arrival earns nothing
    assert "积分 +3" in (await chat.say("E01", "甲机电 做了方案演示", at(THURSDAY, 17)))[0]
    await chat.say("E01", "甲机电 退回需求确认阶段", at(THURSDAY, 17, 5))
    await chat.say("E01", "是", at(THURSDAY, 17, 6))
    assert "积分" not in (await chat.say("E01", "甲机电 做了方案演示", at(THURSDAY, 17, 10)))[0]
    assert await chat.balance("E01") == 18
    # a Saturday and a late evening earn no brief points
    assert "积分" not in (await chat.say("E02", "甲机电 电话沟通了", at(date(2026, 11, 28), 10)))[0]
    assert "积分 +" not in (await chat.say("E01", "乙物流 回款了", at(date(2026, 11, 27), 20, 30)))[0]


async def test_undo_takes_the_briefs_points_back() -> None:
    chat = Chat()
    await chat.org()
    await chat.say("E01", "甲机电 确认了需求", at(THURSDAY, 10))
    assert await chat.balance("E01") == 5
    await chat.say("E01", "撤销", at(THURSDAY, 10, 5))
    assert await chat.balance("E01") == 0
    assert "积分 +5" in (await chat.say("E01", "甲机电 确认了需求", at(THURSDAY, 11)))[0]  # earned again, once


async def test_a_reminder_cleared_within_a_day() -> None:
    chat = Chat()
    await chat.org()
    async with chat.store() as uow:
        jia = await uow.customers.by_name("甲机电")
        yi = await uow.customers.by_name("乙物流")
        assert jia and yi and jia.id and yi.id
        await uow.reminders.record(
            [
                Reminder(jia.id, "stall", "s1", 1, "E01", at(THURSDAY, 10) - timedelta(hours=20)),
                Reminder(yi.id, "stall", "s2", 1, "E01", at(THURSDAY, 10) - timedelta(days=2)),
            ]
        )
        await uow.commit()
    reply = await chat.say("E01", "甲机电 电话沟通了;乙物流 电话沟通了", at(THURSDAY, 10))
    assert "积分 +4" in reply[0]  # brief 2 + 甲's fresh reminder 2; 乙's is two days old
    assert "积分" not in (await chat.say("E01", "甲机电 又沟通了", at(THURSDAY, 12)))[0]
    # undo, twice: the follow-up times go back, so the reminder stands unanswered again, and its points go
    await chat.say("E01", "撤销", at(THURSDAY, 12, 5))
    await chat.say("E01", "撤销", at(THURSDAY, 12, 6))
    assert await chat.balance("E01") == 0
    async with chat.store() as uow:
        jia = await uow.customers.by_name("甲机电")
        assert jia is not None and jia.id is not None
        [sent] = [r for r in await uow.reminders.sent([jia.id])]
        assert jia.last_followup_at is None or jia.last_followup_at < sent.sent_at


async def test_a_standup_answered_in_the_window() -> None:
    chat = Chat()
    await chat.org()
    friday = date(2026, 11, 27)
    async with chat.store() as uow:
        await uow.standups.open(Standup("一组", friday, at(friday, 15), at(friday, 15, 15)))
        await uow.commit()
    answer = "本周完成:两次演示;阻塞:无;下周计划:报价"
    assert "积分 +1" in (await chat.say("E01", answer, at(friday, 15, 5)))[0]
    assert "积分" not in (await chat.say("E01", answer + "和回款", at(friday, 15, 10)))[0]  # a second answer
    assert "积分" not in (await chat.say("E02", answer, at(friday, 15, 30)))[0]  # late
    assert await chat.balance("E01") == 1 and await chat.balance("E02") == 0


async def test_forecast_accuracy_over_three_months() -> None:
    chat = Chat()
    await chat.org()
    async with chat.store() as uow:
        for owner, forecast in (("E01", 1_000_000), ("E02", 1_000_000)):
            await uow.forecasts.snapshot(
                [
                    Snapshot(owner, m, Decimal(forecast), d)
                    for m, d in (
                        ("2026-08", date(2026, 8, 3)),
                        ("2026-09", date(2026, 9, 7)),
                        ("2026-10", date(2026, 10, 9)),
                    )
                ]
            )
        for i, (owner, amount, day) in enumerate(
            [
                ("E01", 950_000, date(2026, 8, 20)),
                ("E01", 1_050_000, date(2026, 9, 8)),
                ("E01", 1_000_000, date(2026, 10, 15)),
                ("E02", 2_000_000, date(2026, 9, 1)),
            ]
        ):
            await uow.customers.add(
                Customer(
                    name=f"签{i}",
                    owner_id=owner,
                    stage=Stage.WON,
                    stage_entered_at=at(day),
                    created_at=at(day),
                    amount=Decimal(amount),
                    closed_at=at(day),
                )
            )
        awarded = await forecast_awards(uow, chat.services, date(2026, 11, 2), at(date(2026, 11, 2), 9))
        again = await forecast_awards(uow, chat.services, date(2026, 11, 2), at(date(2026, 11, 2), 9))
        await uow.commit()
    assert awarded == ["E01"] and again == []  # E02 signed 2 M against 3 M forecast: 50 % off
    assert await chat.balance("E01") == 10


async def test_redemption_needs_the_supervisors_approval() -> None:
    chat = Chat()
    await chat.org()
    async with chat.store() as uow:
        await uow.points.award([PointsEntry("E01", "seed", "won", 250, at(THURSDAY, 8))])
        await uow.commit()
    asked = await chat.say("E01", "兑换 京东卡", at(THURSDAY, 10))
    assert "已把兑换「京东卡 100 元」的申请发给陈静" in asked[0]
    assert "张伟申请用 200 积分兑换「京东卡 100 元」(现有 250 分)。回复「同意兑换" in asked[1]
    async with chat.store() as uow:
        card = (await uow.outbox.find(to_user="S01"))[-1]
        request_id = card.payload["buttons"][0]["key"].split()[-1]
        # where there are no buttons (DingTalk, the console) the label is what to type, so it is the key itself
        assert [b["label"] for b in card.payload["buttons"]] == [f"同意兑换 {request_id}", f"拒绝兑换 {request_id}"]
        assert [b["key"] for b in card.payload["buttons"]] == [b["label"] for b in card.payload["buttons"]]
    held = await chat.say("E01", "兑换 京东卡 100 元", at(THURSDAY, 10, 1))
    assert "积分不够" in held[0] and "其中 200 分在等审批" in held[0]
    assert "不归你审批" in (await chat.say("S02", f"同意兑换 {request_id}", at(THURSDAY, 11)))[0]
    assert "不归你审批" in (await chat.say("E02", f"同意兑换 {request_id}", at(THURSDAY, 11)))[0]
    assert await chat.balance("E01") == 250
    done = await chat.say("S01", f"同意兑换 {request_id}", at(THURSDAY, 11))
    assert "已批准,张伟的 200 积分已扣除" in done[0] and "陈静批准了你兑换「京东卡 100 元」" in done[1]
    assert await chat.balance("E01") == 50
    assert "之前已批准" in (await chat.say("S01", f"同意兑换 {request_id}", at(THURSDAY, 11, 5)))[0]
    await chat.say("E01", "兑换 咖啡券", at(THURSDAY, 12))
    async with chat.store() as uow:
        second = (await uow.outbox.find(to_user="S01"))[-1].payload["buttons"][1]["key"]
    assert second.startswith("拒绝兑换 ")
    refused = await chat.say("S01", second, at(THURSDAY, 13))  # a button's key comes back as the text
    assert "已拒绝张伟的兑换申请" in refused[0] and "没有通过" in refused[1]
    assert await chat.balance("E01") == 50
    # a bare 「同意」 decides the one request waiting on this supervisor; with none waiting it is not taken
    await chat.say("E01", "兑换 咖啡券", at(THURSDAY, 13, 30))
    assert "已批准,张伟的 30 积分已扣除" in (await chat.say("S01", "同意", at(THURSDAY, 13, 40)))[0]
    assert "兑换" not in (await chat.say("S01", "同意", at(THURSDAY, 13, 50)))[0]
    assert await chat.balance("E01") == 20
    async with chat.store() as uow:
        await uow.points.award([PointsEntry("E01", "seed2", "won", 30, at(THURSDAY, 8))])
        await uow.commit()
    await chat.say("E01", "兑换 咖啡券", at(THURSDAY, 13, 55))
    await chat.say("E02", "兑换 咖啡券", at(THURSDAY, 13, 56))  # 李娜 has nothing: refused, nothing waits
    assert "积分不够" in (await chat.say("E02", "兑换 咖啡券", at(THURSDAY, 13, 57)))[0]
    async with chat.store() as uow:
        await uow.points.award([PointsEntry("E02", "seed3", "won", 40, at(THURSDAY, 8))])
        await uow.commit()
    await chat.say("E02", "兑换 咖啡券", at(THURSDAY, 13, 58))
    several = (await chat.say("S01", "拒绝", at(THURSDAY, 13, 59)))[0]
    assert "有 2 个兑换申请在等你" in several and "张伟 兑换「咖啡券」" in several and "李娜 兑换「咖啡券」" in several
    mine = await chat.say("E01", "我现在积分多少", at(THURSDAY, 14))
    assert "你现在有 50 积分(其中 30 分的兑换在等主管审批)" in mine[0] and "兑换 咖啡券 -30" in mine[0]


async def test_leaderboard_week_and_month_for_the_team() -> None:
    chat = Chat()
    await chat.org()
    async with chat.store() as uow:
        await uow.points.award(
            [
                PointsEntry("E01", "a", "won", 10, at(date(2026, 11, 3))),  # earlier this month
                PointsEntry("E02", "b", "brief", 4, at(date(2026, 11, 24))),  # this week
                PointsEntry("E05", "c", "won", 99, at(date(2026, 11, 24))),  # another team
                PointsEntry("E01", "d", "redeem", -10, at(date(2026, 11, 24))),  # spending is not earning
            ]
        )
        await uow.commit()
    board = (await chat.say("E01", "积分排行榜", at(THURSDAY)))[0]
    week, month = board.split("【本月】")
    assert "1. 李娜 4 分" in week and "你:第 2 名,0 分" in week and "孙浩" not in board
    assert "1. 张伟 10 分 ← 你" in month and "2. 李娜 4 分" in month
    # the details of someone else's points: their supervisor yes, a colleague or another team's supervisor no
    assert "积分明细只有本人和主管能看" in (await chat.say("E01", "李娜现在积分多少", at(THURSDAY)))[0]
    assert "积分明细只有本人和主管能看" in (await chat.say("S02", "李娜现在积分多少", at(THURSDAY)))[0]
    seen = (await chat.say("S01", "李娜现在积分多少", at(THURSDAY)))[0]
    assert "李娜现在有 4 积分" in seen and "本周得 4 分" in seen


async def test_monthly_recognition_on_the_first_working_day() -> None:
    chat = Chat()
    await chat.org()
    async with chat.store() as uow:
        await uow.points.award(
            [
                PointsEntry("E01", "a", "won", 12, at(date(2026, 10, 20))),
                PointsEntry("E02", "b", "brief", 30, at(date(2026, 10, 21))),
            ]
        )
        await uow.customers.add(
            Customer(
                name="丙",
                owner_id="E01",
                stage=Stage.WON,
                stage_entered_at=at(date(2026, 10, 9)),
                created_at=at(date(2026, 10, 9)),
                amount=Decimal(800_000),
                closed_at=at(date(2026, 10, 9)),
            )
        )
        await uow.forecasts.snapshot([Snapshot("E01", "2026-10", Decimal(1_000_000), date(2026, 10, 9))])
        await uow.commit()
    assert await monthly(chat.store, chat.services, at(date(2026, 11, 3), 9, 30)) == {}  # the second working day
    posted = await monthly(chat.store, chat.services, at(date(2026, 11, 2), 9, 30))  # Monday, November's first
    assert set(posted) == {"一组", "二组"}
    text = posted["一组"]
    assert "2026年10月之星" in text and "积分:李娜 30 分、张伟 12 分" in text and "成交额:张伟 80万" in text
    assert "预测最准:张伟(月初预测与实际相差 25%)" in text
    assert "本月没有成交" in posted["二组"]
    assert await monthly(chat.store, chat.services, at(date(2026, 11, 2), 9, 31)) == {}  # posted once
    async with chat.store() as uow:
        assert [m.to_chat for m in await uow.outbox.find() if m.to_chat] == ["team:一组", "team:二组"]


ORG = """工号,姓名,角色,团队,上级工号
S01,陈静,主管,华东一组,
E01,张伟,销售,华东一组,S01
E02,李娜,销售,华东一组,S01
"""


def test_points_through_genjin_chat(genjin) -> None:  # type: ignore[no-untyped-def]
    (genjin.cwd / "org.csv").write_text(ORG, encoding="utf-8")
    assert genjin("import", "employees", "org.csv").returncode == 0
    (genjin.cwd / "genjin.toml").write_text(
        '[points]\nbrief = 4\nrewards = [["奶茶", 3], ["午餐券", 50]]\n', encoding="utf-8"
    )
    now = "2026-11-26T10:00:00+08:00"
    rep = genjin(
        "chat",
        "--user",
        "E01",
        "--now",
        now,
        input="新客户华东物流,初步沟通了\n是\n我现在积分多少\n兑换 午餐券\n兑换 奶茶\n积分排行榜\n",
    ).stdout
    assert "积分 +4" in rep and "你现在有 4 积分" in rep and "按时发简报 +4" in rep
    assert "积分不够:「午餐券」要 50 分,你有 4 分" in rep
    assert "已把兑换「奶茶」的申请发给陈静" in rep and "张伟申请用 3 积分兑换「奶茶」" in rep
    assert "1. 张伟 4 分 ← 你" in rep
    sup = genjin("chat", "--user", "S01", "--now", now, input="同意兑换 1\n积分排行榜\n").stdout
    assert "已批准,张伟的 3 积分已扣除" in sup and "1. 张伟 4 分" in sup  # spending does not lower the board
    after = genjin("chat", "--user", "E01", "--now", now, input="我现在积分多少\n").stdout
    assert "你现在有 1 积分" in after and "兑换 奶茶 -3" in after
    (genjin.cwd / "genjin.toml").write_text('[points]\nrewards = [["奶茶", 0]]\n', encoding="utf-8")
    bad = genjin("chat", "--user", "E01", input="")
    assert bad.returncode == 2 and "points_rewards" in bad.stderr


async def test_pay_asked_in_a_group_goes_to_the_asker_alone() -> None:
    chat = Chat()
    await chat.org()
    async with chat.store() as uow:
        await uow.inbox.put(
            InboxMessage(
                platform="console",
                msg_id="g1",
                user_id="E01",
                chat_id="team:一组",
                is_group=True,
                text="我的提成",
                received_at=at(THURSDAY),
            )
        )
        await uow.commit()
    await InboxWorker(chat.store, build_router(), ErrorHandler(), lambda: at(THURSDAY), services=chat.services).drain()
    async with chat.store() as uow:
        sent = await uow.outbox.find()
    in_group = [m for m in sent if m.to_chat == "team:一组"]
    direct = [m for m in sent if m.to_chat is None]
    assert [m.payload["text"] for m in in_group] == ["提成只在私聊里说,已经单独发给你了。"]
    assert len(direct) == 1 and direct[0].to_user == "E01" and "团队排名" in direct[0].payload["text"]
