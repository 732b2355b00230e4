"""Answers to the bot's questions, in process (in-memory store): the words reps use, a yes that no longer
fits what was shown, a stale or doubled answer, undo with a question open, and the day's brief point."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sales.model import Customer, Employee, Role, Team
from sales.stages import Stage
from tests.chatrig import ChatRig
from tests.conftest import NOW

TC, TC_BRANCH = "浙江天成建材有限公司", "浙江天成建材有限公司上海分公司"
HD = "华东物流有限公司"
RD_MINE, RD_OTHER = "上海瑞达机电有限公司", "深圳瑞达电子有限公司"
EARLIER = NOW - timedelta(days=3)


class Chat(ChatRig):
    async def org(self) -> None:
        async with self.store() as uow:
            await uow.teams.add(Team(name="一组"))
            await uow.employees.add(Employee(id="S01", name="陈静", role=Role.SUPERVISOR, team="一组"))
            await uow.employees.add(Employee(id="E01", name="张伟", team="一组", supervisor_id="S01"))
            await uow.employees.add(Employee(id="E02", name="李娜", team="一组", supervisor_id="S01"))
            for name, owner in ((TC, "E01"), (TC_BRANCH, "E01"), (HD, "E01"), (RD_MINE, "E01"), (RD_OTHER, "E02")):
                await uow.customers.add(Customer(name=name, owner_id=owner, stage=Stage.QUALIFIED,
                                                 stage_entered_at=EARLIER, created_at=EARLIER))  # fmt: skip
            await uow.commit()

    async def customer(self, name: str) -> Customer:
        async with self.store() as uow:
            found = await uow.customers.by_name(name)
            assert found is not None
            return found

    async def balance(self, who: str = "E01") -> int:
        async with self.store() as uow:
            return await uow.points.balance(who)


@pytest.fixture
async def chat() -> Chat:
    c = Chat()
    await c.org()
    return c


@pytest.mark.parametrize("yes", ["对,改吧", "确认了", "没错的", "嗯嗯", "好的。"])
async def test_yes_in_the_words_reps_use(chat: Chat, yes: str) -> None:
    await chat.say("瑞达机电 合同签了 金额30万")
    reply = await chat.say(yes)
    assert "已更新" in reply["text"] and (await chat.customer(RD_MINE)).stage is Stage.WON


@pytest.mark.parametrize("no", ["不是的", "不对,别改", "不改了"])
async def test_no_in_the_words_reps_use(chat: Chat, no: str) -> None:
    before = await chat.customer(RD_MINE)
    await chat.say("瑞达机电 合同签了 金额30万")
    assert "没有改动" in (await chat.say(no))["text"] and await chat.customer(RD_MINE) == before


async def test_the_words_the_new_customer_question_offers(chat: Chat) -> None:
    assert "回复 1 新建 / 2 不建" in (await chat.say("新客户 温州瓯江阀门 有意向"))["text"]
    assert "新建客户" in (await chat.say("新建"))["text"]
    await chat.say("新客户 宁波甬江模具 有意向")
    assert "没有新建" in (await chat.say("不建"))["text"]
    async with chat.store() as uow:
        assert await uow.customers.by_name("温州瓯江阀门") and not await uow.customers.by_name("宁波甬江模具")


async def test_an_exact_name_picks_its_option_even_inside_another(chat: Chat) -> None:
    asked = await chat.say("天成建材 确认了需求 下周三演示")
    assert "对应多个客户" in asked["text"]
    reply = await chat.say("浙江天成建材有限公司")
    assert TC in reply["text"] and (await chat.customer(TC)).next_action_date is not None
    assert (await chat.customer(TC_BRANCH)).next_action_date is None


async def test_the_only_one_of_several_that_is_mine_is_still_asked(chat: Chat) -> None:
    before = await chat.customer(RD_MINE)
    asked = await chat.say("瑞达 下周二去做演示")
    assert f"你写的「瑞达」是「{RD_MINE}」吗" in asked["text"] and "同名的其他客户不归你" in asked["text"]
    assert await chat.customer(RD_MINE) == before
    await chat.say("是")
    assert (await chat.customer(RD_MINE)).next_action_date is not None


async def test_a_yes_to_what_is_no_longer_so_asks_again(chat: Chat) -> None:
    await chat.say("瑞达机电 丢了,客户选了别家")  # asks: lost
    await chat.say("瑞达机电 合同签了 金额30万")  # asks: won (the newest question comes first)
    await chat.say("是")  # won
    assert (await chat.customer(RD_MINE)).stage is Stage.WON
    again = await chat.say("是")  # the older question showed 需求确认→流失, no longer true
    assert "又有了改动" in again["text"] and "已经成交" in again["text"]
    assert (await chat.customer(RD_MINE)).stage is Stage.WON  # not silently 成交→流失


async def test_a_new_brief_with_a_question_open_asks_it_again(chat: Chat) -> None:
    await chat.say("瑞达机电 合同签了 金额30万")
    reply = await chat.say("华东物流 电话沟通了", minutes=1)
    assert "已更新" in reply["text"] and "方案演示" not in reply["text"]
    assert reply["text"].endswith("这样改吗?回复 1 确认 / 2 不改") and "需求确认→成交" in reply["text"]


async def test_undo_with_a_question_open_says_what_it_cannot_reach(chat: Chat) -> None:
    await chat.say("华东物流 方案演示完成")
    await chat.say("瑞达机电 合同签了 金额30万", minutes=1)
    reply = await chat.say("撤销", minutes=2)
    assert "已撤销" in reply["text"] and "还有 1 个问题等你回答" in reply["text"] and RD_MINE in reply["text"]
    assert (await chat.customer(HD)).stage is Stage.QUALIFIED


async def test_the_days_brief_point_passes_to_a_brief_that_still_stands(chat: Chat) -> None:
    await chat.say("瑞达机电 合同签了 金额30万")  # brief A: the day's brief point; the win waits for a yes
    await chat.say("华东物流 电话沟通了", minutes=1)  # brief B, applied: no second brief point
    await chat.say("是", minutes=2)  # A's win applied after B
    assert await chat.balance() == 2 + 10
    await chat.say("撤销", minutes=3)  # A's win: all of A is undone, and with it the point it held …
    assert (await chat.customer(RD_MINE)).stage is Stage.QUALIFIED
    assert await chat.balance() == 2  # … which B, still standing, earns instead
    async with chat.store() as uow:
        [entry] = await uow.points.recent("E01")
        b = next(x for x in await uow.briefs.by_sender("E01") if x.text.startswith("华东物流"))
        assert entry.rule == "brief" and entry.brief_id == b.id
