"""Feishu end to end: the real HTTP callback (challenge, signature, decryption, dedupe by event_id), a brief
answered through the fake open API, a confirmation by card button, and the SDK's long connection on its own
thread against a fake gateway."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.bootstrap import App, build_app
from bot.config import Settings
from bot.feishu import stream
from bot.feishu.adapter import FeishuAdapter
from bot.feishu.cards import button_keys
from bot.server import make_web_app
from sales.model import Customer, Employee, Role, Team
from sales.stages import Stage
from tests.conftest import NOW, Clock
from tests.fakes.feishu import (
    APP_ID,
    APP_SECRET,
    ENCRYPT_KEY,
    GROUP_CHAT,
    VERIFICATION_TOKEN,
    FakeFeishu,
    FakeGateway,
    card_action_event,
    p2p_chat,
    seal_event,
    text_event,
    url_verification,
)
from usecases.delivery import post_to_group


@dataclass
class Rig:
    fake: FakeFeishu
    app: App
    client: TestClient  # type: ignore[type-arg]

    async def post(self, payload: dict[str, Any], **seal: Any) -> tuple[int, dict[str, Any]]:
        headers, body = seal_event(payload, **seal)
        resp = await self.client.post("/feishu/callback", data=body, headers=headers)
        return resp.status, await resp.json()

    async def settle(self) -> None:
        await self.app.worker.drain()
        await self.app.outbox.drain()

    async def customer(self, name: str) -> Customer:
        async with self.app.uow() as uow:
            found = await uow.customers.by_name(name)
            assert found is not None
            return found


async def _org(app: App) -> None:
    async with app.uow() as uow:
        await uow.employees.add(Employee(id="A01", name="王敏", role=Role.ADMIN, accounts={"feishu": "manager01"}))
        await uow.employees.add(Employee(id="E01", name="张伟", accounts={"feishu": "staff01"}))
        await uow.customers.add(
            Customer(name="浙江天成建材", owner_id="E01", stage=Stage.QUALIFIED, stage_entered_at=NOW, created_at=NOW)
        )
        await uow.commit()


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    fake = FakeFeishu()
    api = TestServer(fake.app(), host="127.0.0.1")
    await api.start_server()
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'f.db'}", feishu_app_id=APP_ID, feishu_app_secret=APP_SECRET,
        feishu_mode="http", feishu_encrypt_key=ENCRYPT_KEY, feishu_verification_token=VERIFICATION_TOKEN,
        feishu_api_base=str(api.make_url("/")).rstrip("/"),
    )  # fmt: skip
    app = await build_app(settings, clock=Clock(NOW))
    await _org(app)
    client = TestClient(TestServer(make_web_app(app), host="127.0.0.1"))
    await client.start_server()
    yield Rig(fake, app, client)
    await client.close()
    await app.close()
    await api.close()


async def test_the_url_check_echoes_the_challenge_only_when_sealed_right(rig: Rig) -> None:
    assert await rig.post(url_verification("c-4a7f")) == (200, {"challenge": "c-4a7f"})
    status, _ = await rig.post(url_verification("c-4a7f", token="someone-else"))
    assert status in (400, 401, 403)


async def test_forged_stale_and_broken_callbacks_are_refused_and_nothing_is_stored(rig: Rig) -> None:
    event = text_event("staff01", "天成建材 报价已发")
    headers, body = seal_event(event)
    forged = await rig.client.post("/feishu/callback", data=body, headers={**headers, "X-Lark-Signature": "0" * 64})
    stale = await rig.post(event, timestamp=int(time.time()) - 2 * 3600)
    garbage = await rig.client.post("/feishu/callback", data=b"{not json", headers=headers)
    huge = await rig.client.post("/feishu/callback", data=b"x" * (rig.app.settings.max_body_bytes + 1))
    assert forged.status == 403 and 400 <= stale[0] < 500 and 400 <= garbage.status < 500 and huge.status == 413
    async with rig.app.uow() as uow:
        assert await uow.inbox.count() == 0


async def test_a_brief_delivered_three_times_is_stored_and_answered_once(rig: Rig) -> None:
    event = text_event("staff01", "天成建材 方案演示完成,下周三报价,金额80万", event_id="ev-9001")
    assert [(await rig.post(event))[0] for _ in range(3)] == [200, 200, 200]
    await rig.settle()
    async with rig.app.uow() as uow:
        assert await uow.inbox.count() == 1
    customer = await rig.customer("浙江天成建材")
    assert customer.stage is Stage.DEMO and customer.amount == 800000
    [reply] = rig.fake.texts_for("staff01")
    assert "需求确认→方案演示" in reply


async def test_a_won_deal_is_confirmed_by_a_card_button(rig: Rig) -> None:
    before = await rig.customer("浙江天成建材")
    await rig.post(text_event("staff01", "天成建材 合同签了,金额120万", event_id="ev-9002"))
    await rig.settle()
    card = rig.fake.messages[-1]
    shown = "\n".join(rig.fake.texts_for("staff01")) + json.dumps(card["content"], ensure_ascii=False)
    assert card["msg_type"] == "interactive" and "需求确认→成交" in shown and "120万" in shown
    keys = button_keys(card["content"])
    assert [k.split(":")[1] for k in keys] == ["yes", "no"]
    assert await rig.customer("浙江天成建材") == before  # nothing written while the card waits
    click = card_action_event("staff01", keys[0], p2p_chat("staff01"), "om_card", event_id="ev-9003")
    assert (await rig.post(click))[0] == 200
    await rig.settle()
    after = await rig.customer("浙江天成建材")
    assert after.stage is Stage.WON and after.amount == 1200000


async def test_a_group_message_is_answered_only_when_the_bot_is_mentioned(rig: Rig) -> None:
    await rig.post(text_event("staff01", "天成建材 报价已发", chat_type="group", event_id="ev-1"))
    await rig.post(text_event("staff01", "漏斗", chat_type="group", at_bot=True, event_id="ev-2"))
    await rig.settle()
    to_group = [m for m in rig.fake.messages if m["receive_id_type"] == "chat_id"]
    assert len(to_group) == 1 and (await rig.customer("浙江天成建材")).stage is Stage.QUALIFIED


async def test_the_long_connection_runs_on_its_own_thread_and_stops(tmp_path: Path) -> None:
    gateway = FakeGateway()
    server = TestServer(gateway.app(), host="127.0.0.1")
    await server.start_server()
    gateway.base = str(server.make_url("/")).rstrip("/")
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'ws.db'}", feishu_app_id=APP_ID,
                        feishu_app_secret=APP_SECRET, feishu_api_base=gateway.base)  # fmt: skip
    app = await build_app(settings, clock=Clock(NOW))
    await _org(app)
    adapter = app.adapter("feishu")
    assert isinstance(adapter, FeishuAdapter) and adapter.connection is not None and not app.routes
    connection = adapter.connection
    try:
        await adapter.start()
        for _ in range(300):  # the SDK's import and the connection, on its thread
            if gateway.sockets:
                break
            await asyncio.sleep(0.05)
        assert gateway.sockets and connection.running
        assert "feishu-ws" in {t.name for t in threading.enumerate()}
        await gateway.push(text_event("staff01", "天成建材 报价已发,金额90万", event_id="ev-ws-1"), "m1")
        for _ in range(100):
            if gateway.acks:
                break
            await asyncio.sleep(0.05)
        assert gateway.acks and gateway.acks[0]["payload"]["code"] == 200  # acknowledged after it was stored
        async with app.uow() as uow:
            assert await uow.inbox.count() == 1
        await adapter.stop()
        assert not connection.running
        assert "feishu-ws" not in {t.name for t in threading.enumerate()}
        for _ in range(50):
            if not gateway.open:
                break
            await asyncio.sleep(0.05)
        assert not gateway.open
    finally:
        await adapter.stop()
        await app.close()
        await server.close()


async def test_a_supervisor_binds_the_group_and_the_team_messages_go_there(rig: Rig) -> None:
    async with rig.app.uow() as uow:
        await uow.teams.add(Team(name="一组"))
        await uow.employees.add(Employee(id="S01", name="陈静", role=Role.SUPERVISOR, team="一组",
                                         accounts={"feishu": "staff02"}))  # fmt: skip
        await uow.commit()
    await rig.post(text_event("staff02", "绑定本群", chat_type="group"))  # not said to the bot: nothing happens
    await rig.post(text_event("staff01", "绑定本群 一组", chat_type="group", at_bot=True))  # a rep
    await rig.post(text_event("staff02", "绑定本群", chat_type="group", at_bot=True))  # the team's supervisor
    await rig.settle()
    replies = [m["content"]["text"] for m in rig.fake.messages if m["receive_id"] == GROUP_CHAT]
    assert len(replies) == 2 and "只有「一组」的主管或管理员" in replies[0] and "以后发到这个群" in replies[1]
    async with rig.app.uow() as uow:
        team = await uow.teams.get("一组")
        assert team is not None and team.channels == {"feishu": GROUP_CHAT}
        assert await post_to_group(uow, team, "本周站会开始了", key="standup:1", now=NOW, services=rig.app.services)
        await uow.commit()
    await rig.app.outbox.drain()
    assert rig.fake.messages[-1]["receive_id"] == GROUP_CHAT and "站会" in rig.fake.messages[-1]["content"]["text"]
    await rig.post(text_event("staff02", "解绑本群", chat_type="group", at_bot=True))
    await rig.settle()
    async with rig.app.uow() as uow:
        team = await uow.teams.get("一组")
        assert team is not None and team.channels == {}


async def test_a_team_whose_name_ends_in_team_can_be_named(rig: Rig) -> None:
    async with rig.app.uow() as uow:
        for name in ("华东团队", "一组"):
            await uow.teams.add(Team(name=name))
        await uow.commit()
    await rig.post(text_event("manager01", "绑定本群 华东团队", chat_type="group", at_bot=True))  # the admin
    await rig.post(text_event("manager01", "绑定这个群到一组团队", chat_type="group", at_bot=True, chat_id="oc_other"))
    await rig.settle()
    async with rig.app.uow() as uow:
        assert {t.name: t.channels for t in await uow.teams.find()} == {
            "华东团队": {"feishu": GROUP_CHAT}, "一组": {"feishu": "oc_other"}}  # fmt: skip


async def test_a_rich_text_brief_is_read_like_a_plain_one(rig: Rig) -> None:
    event = text_event("staff01", "", event_id="ev-post")
    post = {"title": "今日简报", "content": [[{"tag": "text", "text": "天成建材 方案演示完成,"}],
                                             [{"tag": "text", "text": "金额80万"}]]}  # fmt: skip
    event["event"]["message"].update(message_type="post", content=json.dumps(post, ensure_ascii=False))
    assert (await rig.post(event))[0] == 200
    await rig.settle()
    customer = await rig.customer("浙江天成建材")
    assert customer.stage is Stage.DEMO and customer.amount == 800000


async def test_the_long_connection_retries_a_refusal_and_reconnects_after_a_drop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream, "RETRY_FIRST", 0.1)
    monkeypatch.setattr(stream, "DOWN_ALERT_SECONDS", 0.2)
    gateway = FakeGateway(refuse_credentials=True)
    server = TestServer(gateway.app(), host="127.0.0.1")
    await server.start_server()
    gateway.base = str(server.make_url("/")).rstrip("/")
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'ws.db'}", feishu_app_id=APP_ID,
                        feishu_app_secret=APP_SECRET, feishu_api_base=gateway.base)  # fmt: skip
    app = await build_app(settings, clock=Clock(NOW))
    adapter = app.adapter("feishu")
    assert isinstance(adapter, FeishuAdapter) and adapter.connection is not None
    connection = adapter.connection

    async def until(check: Any, seconds: float = 15.0) -> None:
        for _ in range(int(seconds / 0.05)):
            if check():
                return
            await asyncio.sleep(0.05)
        raise AssertionError("timed out")

    try:
        await adapter.start()
        await until(lambda: gateway.endpoint_calls >= 2)  # refused, and tried again
        await until(lambda: app.troubles())
        [(name, trouble)] = app.troubles()
        assert name == "feishu" and "飞书长连接" in trouble and "ClientException" in trouble
        gateway.refuse_credentials = False
        await until(lambda: connection.connects == 1 and not app.troubles())
        await gateway.sockets[-1].close()  # Feishu drops the connection: we connect again
        await until(lambda: connection.connects == 2 and gateway.open)
    finally:
        await adapter.stop()
        await app.close()
        await server.close()
    assert not connection.running
