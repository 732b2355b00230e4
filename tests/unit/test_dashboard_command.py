"""``看板`` in the chat: a link to the asker alone, and what it says when the dashboard is off."""

from __future__ import annotations

from datetime import timedelta

from bot.errors import ErrorHandler
from bot.inbox import InboxWorker
from handlers import build_router
from nlu.intents import command
from sales.model import Employee, InboxMessage
from store.memory import MemoryStore
from tests.conftest import NOW
from usecases.services import Services


def test_the_command_and_its_phrasings() -> None:
    for text in ("看板", "打开看板", "看板链接", "发我看板链接", "团队看板", "/dashboard", "嗯,看板"):
        assert command(text) == "dashboard", text
    for text in ("今天看了看板,王总确认了需求", "看板怎么样了", "华东物流的看板项目确认需求"):
        assert command(text) != "dashboard", text


async def _ask(services: Services, *, group: bool) -> list[tuple[str | None, str | None, str]]:
    store = MemoryStore()
    async with store() as uow:
        await uow.employees.add(Employee(id="E01", name="张伟"))
        await uow.inbox.put(InboxMessage(platform="console", msg_id="m1", user_id="E01", is_group=group,
                                         chat_id="team:一组" if group else "console:E01", text="看板",
                                         received_at=NOW))  # fmt: skip
        await uow.commit()
    await InboxWorker(store, build_router(), ErrorHandler(), lambda: NOW, services=services).drain()
    async with store() as uow:
        sent = [(m.to_chat, m.to_user, str(m.payload["text"])) for m in await uow.outbox.find()]
        links = store.state.links
    assert len(links) == (1 if services.web_url else 0)
    for _, expires, used in links.values():
        assert expires == NOW + services.web_link_ttl and used is None
    return sent


async def test_asked_in_a_group_the_link_goes_to_the_asker_alone() -> None:
    services = Services(web_url="https://g.example.com", web_link_ttl=timedelta(minutes=5))
    sent = await _ask(services, group=True)
    in_group = [text for chat, _, text in sent if chat == "team:一组"]
    direct = [text for chat, user, text in sent if chat is None and user == "E01"]
    assert in_group == ["看板链接是个人的,已经私聊发给你了。"]
    assert len(direct) == 1 and "https://g.example.com/web/login?t=" in direct[0] and "5 分钟内有效" in direct[0]


async def test_with_the_dashboard_off_the_answer_says_so() -> None:
    [(_, _, text)] = await _ask(Services(web_url=None), group=False)
    assert "没有启用" in text and "http" not in text
