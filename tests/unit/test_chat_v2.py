"""What contract v2 adds, through the chat (in-memory store): questions are answered and never recorded,
undo and cancel in the words reps use, several customers behind one short name asked about, the
customer list and the week's tasks."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sales.model import Customer, Employee, Role, Team
from sales.stages import Stage
from store.memory import MemoryStore
from tests.chatrig import ChatRig
from tests.conftest import NOW

HENGRUN = "江苏省常州市武进区恒润纺织机械有限公司"
DS_ELEC, DS_GEAR = "深圳市鼎晟电子科技有限公司", "东莞市鼎晟电气设备有限公司"
EARLIER = NOW - timedelta(days=3)


async def _org(store: MemoryStore) -> None:
    async with store() as uow:
        await uow.teams.add(Team(name="一组"))
        await uow.teams.add(Team(name="二组"))
        await uow.employees.add(Employee(id="S01", name="陈静", role=Role.SUPERVISOR, team="一组"))
        await uow.employees.add(Employee(id="E01", name="张伟", team="一组", supervisor_id="S01"))
        await uow.employees.add(Employee(id="E05", name="孙浩", team="二组"))
        for name, owner in ((HENGRUN, "E01"), (DS_ELEC, "E01"), (DS_GEAR, "E01"), ("杭州云栖数据科技有限公司", "E05")):
            await uow.customers.add(
                Customer(name=name, owner_id=owner, stage=Stage.QUALIFIED, stage_entered_at=EARLIER,
                         created_at=EARLIER, last_followup_at=EARLIER)
            )  # fmt: skip
        await uow.commit()


Chat = ChatRig


@pytest.fixture
async def chat() -> Chat:
    c = Chat()
    await _org(c.store)
    return c


@pytest.mark.parametrize("question", ["恒润现在啥情况", "恒润跟到哪了", "帮我看看恒润纺机", "恒润纺机是不是超期了？"])
async def test_a_question_about_a_customer_is_answered_and_never_recorded(chat: Chat, question: str) -> None:
    reply = await chat.say(question)
    assert HENGRUN in reply["text"] and "需求确认" in reply["text"]
    async with chat.store() as uow:
        assert await uow.briefs.by_sender("E01") == []
        customer = await uow.customers.by_name(HENGRUN)
        assert customer is not None and customer.last_followup_at == EARLIER  # no follow-up was recorded


async def test_a_brief_that_also_asks_is_a_brief(chat: Chat) -> None:
    await chat.say("恒润 需求确认了 下周三演示 这种客户一般怎么推?")
    async with chat.store() as uow:
        assert len(await uow.briefs.by_sender("E01")) == 1


@pytest.mark.parametrize("words", ["撤回一下刚才那条", "撤销上一条,金额写错了", "刚才那条发错了 撤回", "undo"])
async def test_undo_in_the_words_reps_use(chat: Chat, words: str) -> None:
    await chat.say("恒润 报价已发 80万")
    reply = await chat.say(words)
    assert "已撤销" in reply["text"]
    async with chat.store() as uow:
        customer = await uow.customers.by_name(HENGRUN)
        assert customer is not None and customer.stage is Stage.QUALIFIED and customer.amount is None


@pytest.mark.parametrize("words", ["取消", "算了算了", "不用了 取消吧", "那算了"])
async def test_cancel_drops_the_open_question(chat: Chat, words: str) -> None:
    asked = await chat.say("今天拜访了温州瓯江阀门 王总 有意向")
    assert "温州瓯江阀门" in asked["text"] and asked.get("buttons")
    reply = await chat.say(words)
    assert "已取消 1 个" in reply["text"]
    async with chat.store() as uow:
        assert await uow.customers.by_name("温州瓯江阀门") is None
    assert "没有等你回答的问题" in (await chat.say(words))["text"]


async def test_a_question_whose_short_name_fits_several_asks_which_with_buttons(chat: Chat) -> None:
    reply = await chat.say("鼎晟现在啥情况")
    assert "哪一个" in reply["text"] and DS_ELEC in reply["text"] and DS_GEAR in reply["text"]
    keys = [b["key"] for b in reply["buttons"]]
    assert len(keys) == 2
    answer = await chat.say(keys[0])  # a click arrives as the button's words
    assert DS_GEAR in answer["text"] and "阶段" in answer["text"]  # sorted: 东莞… before 深圳…


async def test_a_brief_whose_short_name_fits_several_asks_which(chat: Chat) -> None:
    reply = await chat.say("鼎晟 报价已发 一百万")
    assert "对应多个客户" in reply["text"] and len(reply["buttons"]) == 2
    await chat.say("2")
    async with chat.store() as uow:
        chosen = await uow.customers.by_name(DS_ELEC)
        assert chosen is not None and chosen.stage is Stage.NEGOTIATION and chosen.amount == 1_000_000


async def test_my_customers_and_a_colleagues(chat: Chat) -> None:
    reply = await chat.say("我的客户有哪些")
    assert "名下有 3 个客户" in reply["text"] and HENGRUN in reply["text"]
    assert "只有本人和所在团队的主管能看" in (await chat.say("孙浩的客户"))["text"]
    supervisor = await chat.say("张伟手上有哪些客户", user="S01")
    assert "张伟名下有 3 个客户" in supervisor["text"]


async def test_the_weeks_tasks(chat: Chat) -> None:
    async with chat.store() as uow:
        customer = await uow.customers.by_name(HENGRUN)
        assert customer is not None
        customer.next_action, customer.next_action_date = "方案演示", NOW.date() + timedelta(days=1)
        await uow.customers.update(customer)
        await uow.commit()
    this_week = await chat.say("本周任务")
    assert "本周任务清单" in this_week["text"] and "方案演示" in this_week["text"]
    next_week = await chat.say("下周要跟哪些客户")
    assert "下周任务清单" in next_week["text"] and "方案演示" not in next_week["text"]
