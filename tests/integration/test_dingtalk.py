"""DingTalk end to end: a fake gateway (frames over a websocket) and a fake robot OpenAPI."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.bootstrap import App, build_app
from bot.config import Settings
from bot.dingtalk.adapter import DingTalkAdapter
from bot.dingtalk.sender import DingTalkSender
from bot.dingtalk.stream import StreamRunner
from bot.outbox import PermanentSendError
from bot.server import make_web_app
from sales.model import Customer, Employee, OutboxMessage, OutboxStatus
from sales.stages import Stage
from tests.conftest import NOW, ROOT
from tests.fakes.dingtalk import APP_KEY, APP_SECRET, ROBOT_SECRET, FakeDingTalk, http_headers, robot_message
from tests.fakes.pieces import post_in_pieces


async def until(check: Callable[[], Awaitable[int] | int], within: float = 15.0) -> None:
    """Wait for ``check`` (a flag or a count, perhaps awaited) to be true or non-zero."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        result = check()
        if await result if asyncio.iscoroutine(result) else result:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


@dataclass
class Rig:
    fake: FakeDingTalk
    app: App
    base: str

    async def settle(self) -> None:
        await self.app.worker.drain()
        await self.app.outbox.drain()

    async def inbox_count(self) -> int:
        async with self.app.uow() as uow:
            return await uow.inbox.count()


async def _rig(tmp_path: Path, mode: str) -> tuple[Rig, TestServer]:
    fake = FakeDingTalk()
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    fake.base = str(server.make_url("")).rstrip("/")
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'd.db'}", dingtalk_app_key=APP_KEY, dingtalk_app_secret=APP_SECRET,
        dingtalk_mode=mode, dingtalk_api_base=fake.base, dingtalk_oapi_base=fake.base, dingtalk_watchdog_seconds=2,
    )  # fmt: skip
    app = await build_app(settings)
    async with app.uow() as uow:
        await uow.employees.add(Employee(id="E01", name="张伟", accounts={"dingtalk": "staff01"}))
        await uow.customers.add(
            Customer(name="浙江天成建材", owner_id="E01", stage=Stage.QUALIFIED, stage_entered_at=NOW, created_at=NOW)
        )
        await uow.commit()
    return Rig(fake, app, fake.base), server


@pytest.fixture
async def stream(tmp_path: Path) -> AsyncIterator[Rig]:
    rig, server = await _rig(tmp_path, "stream")
    runner = _stream(rig)
    runner.start()
    await asyncio.wait_for(rig.fake.connected.wait(), 15)
    yield rig
    await asyncio.to_thread(runner.stop, 3.0)
    assert not runner.running
    await rig.app.close()
    await server.close()


async def test_a_brief_by_stream_is_stored_acked_and_answered(stream: Rig) -> None:
    frame = await stream.fake.push(robot_message(stream.base, "msg-1", "天成建材 方案演示完成,下周三报价"))
    await until(lambda: any(a["headers"]["messageId"] == frame for a in stream.fake.acks))
    assert [a["code"] for a in stream.fake.acks] == [200]
    await stream.settle()
    async with stream.app.uow() as uow:
        customer = await uow.customers.by_name("浙江天成建材")
        assert customer is not None and customer.stage is Stage.DEMO
    [reply] = stream.fake.session_replies
    assert reply["msgtype"] == "text" and "需求确认→方案演示" in reply["text"]["content"]


async def test_a_redelivered_msg_id_is_answered_once(stream: Rig) -> None:
    message = robot_message(stream.base, "msg-2", "帮助")
    await stream.fake.push(message)
    await stream.fake.push(message)  # same msgId in a new frame, as after a slow ack
    await until(lambda: len(stream.fake.acks) == 2)
    await stream.settle()
    assert await stream.inbox_count() == 1 and len(stream.fake.session_replies) == 1


async def test_disconnect_frame_and_dropped_connection_reconnect_without_loss(stream: Rig) -> None:
    await stream.fake.system("disconnect")
    await until(lambda: stream.fake.opens == 2)
    await until(lambda: len(stream.fake.sockets) == 2 and not stream.fake.socket.closed)
    await stream.fake.push(robot_message(stream.base, "msg-3", "帮助"))
    await until(lambda: stream.inbox_count())
    # now the connection drops with a message in flight: it comes again after the reconnect
    stream.fake.unacked["lost-frame"] = {
        "specVersion": "1.0", "type": "CALLBACK",
        "headers": {"messageId": "lost-frame", "topic": "/v1.0/im/bot/messages/get", "contentType": "application/json"},
        "data": json.dumps(robot_message(stream.base, "msg-4", "天成建材 报价已发")),
    }  # fmt: skip
    await stream.fake.socket.close()
    await until(lambda: stream.fake.opens == 3)
    await until(lambda: "lost-frame" not in stream.fake.unacked)
    await stream.settle()
    assert await stream.inbox_count() == 2
    async with stream.app.uow() as uow:
        assert (await uow.customers.by_name("浙江天成建材")).stage is Stage.NEGOTIATION  # type: ignore[union-attr]


async def test_a_silent_connection_is_reconnected_by_the_watchdog(stream: Rig) -> None:
    runner = _stream(stream)
    await until(lambda: stream.fake.opens >= 2, within=20)  # no frame for 2 s: the watchdog closes it
    assert runner.watchdog_reconnects >= 1


async def test_group_messages_count_only_when_the_bot_is_mentioned(stream: Rig) -> None:
    await stream.fake.push(robot_message(stream.base, "msg-5", "大家好", group=True, at_bot=False))
    await stream.fake.push(robot_message(stream.base, "msg-6", "帮助", group=True))
    await until(lambda: len(stream.fake.acks) == 2)
    await stream.settle()
    assert [r["conversation"] for r in stream.fake.session_replies] == ["cidGROUP=="]
    assert await stream.inbox_count() == 2  # both kept, one answered


@pytest.fixture
async def http(tmp_path: Path) -> AsyncIterator[tuple[Rig, TestClient]]:  # type: ignore[type-arg]
    rig, server = await _rig(tmp_path, "http")
    client = TestClient(TestServer(make_web_app(rig.app), host="127.0.0.1"))
    await client.start_server()
    yield rig, client
    await client.close()
    await rig.app.close()
    await server.close()


async def test_http_mode_verifies_sign_and_timestamp(http: tuple[Rig, TestClient]) -> None:  # type: ignore[type-arg]
    rig, client = http
    body = json.dumps(robot_message(rig.base, "msg-h1", "天成建材 签约了,金额60万"))
    stale = http_headers(timestamp=int(time.time() * 1000) - 2 * 3600 * 1000)
    for headers, status in (
        (http_headers(secret="wrong"), 403),
        (stale, 403),
        ({"timestamp": "x", "sign": "y"}, 400),
    ):
        resp = await client.post("/dingtalk/callback", data=body, headers=headers)
        assert resp.status == status
    assert await rig.inbox_count() == 0
    resp = await client.post("/dingtalk/callback", data=body, headers=http_headers())
    assert resp.status == 200
    assert (await client.post("/dingtalk/callback", data="{oops", headers=http_headers())).status == 400
    await rig.settle()
    asked = rig.fake.session_replies[0]["text"]["content"]
    assert "需求确认→成交" in asked and asked.endswith("这样改吗?回复 1 确认 / 2 不改")  # typed, no buttons
    async with rig.app.uow() as uow:
        assert (await uow.customers.by_name("浙江天成建材")).stage is Stage.QUALIFIED  # type: ignore[union-attr]
    answer = json.dumps(robot_message(rig.base, "msg-h2", "确认"))  # no buttons on DingTalk: a typed answer
    assert (await client.post("/dingtalk/callback", data=answer, headers=http_headers())).status == 200
    await rig.settle()
    async with rig.app.uow() as uow:
        assert (await uow.customers.by_name("浙江天成建材")).stage is Stage.WON  # type: ignore[union-attr]
    assert "签约日期" in rig.fake.session_replies[1]["text"]["content"]


async def test_typed_answers_confirm_or_leave_everything_as_it_was(http: tuple[Rig, TestClient]) -> None:  # type: ignore[type-arg]
    rig, client = http

    async def say(msg_id: str, text: str) -> str:
        body = json.dumps(robot_message(rig.base, msg_id, text))
        assert (await client.post("/dingtalk/callback", data=body, headers=http_headers())).status == 200
        await rig.settle()
        return str(rig.fake.session_replies[-1]["text"]["content"])

    async def state() -> Customer:
        async with rig.app.uow() as uow:
            found = await uow.customers.by_name("浙江天成建材")
            assert found is not None
            return found

    before = await state()
    assert "流失后不再提醒跟进" in await say("t1", "天成建材 丢了,客户选了别家,下周再回访一次")
    assert "没有改动" in await say("t2", "不是")
    assert await state() == before  # not the stage, not the next step, not the follow-up time
    assert "成交会计入提成" in await say("t3", "天成建材 签了 金额80万")
    assert "已更新" in await say("t4", "1")
    after = await state()
    assert after.stage is Stage.WON and after.amount == 800_000


async def test_proactive_messages_go_in_batches_of_twenty(http: tuple[Rig, TestClient]) -> None:  # type: ignore[type-arg]
    rig, _ = http
    rig.fake.throttle_once = {"u07"}
    async with rig.app.uow() as uow:
        for n in range(45):
            payload = {"text": "本周任务清单已更新"}
            message = OutboxMessage(platform="dingtalk", key=f"weekly:{n}", created_at=NOW, payload=payload)
            message.to_user = f"u{n:02d}"
            await uow.outbox.enqueue(message)
        await uow.commit()
    await rig.app.outbox.drain_once()
    assert [len(c["userIds"]) for c in rig.fake.batch_calls] == [20, 20, 5]
    rig.app.outbox.clock = lambda: NOW.replace(year=2030)  # the throttled one, once its backoff has passed
    await rig.app.outbox.drain_once()
    delivered = [u for c in rig.fake.batch_calls for u in c["delivered"]]
    assert sorted(delivered) == [f"u{n:02d}" for n in range(45)]
    async with rig.app.uow() as uow:
        assert all(m.status is OutboxStatus.SENT for m in await uow.outbox.find())


async def test_group_targets_and_expired_session_webhook(http: tuple[Rig, TestClient]) -> None:  # type: ignore[type-arg]
    rig, _ = http
    sender = rig.app.senders["dingtalk"]
    await sender.send(OutboxMessage(platform="dingtalk", key="g", created_at=NOW, payload={"text": "站会"},
                                    to_chat="cidGROUP=="))  # fmt: skip
    await sender.send(OutboxMessage(platform="dingtalk", key="r", created_at=NOW, payload={"text": "站会"},
                                    to_chat=f"robot:robottoken:{ROBOT_SECRET}"))  # fmt: skip
    expired = {"text": "迟到的回复", "reply_webhook": f"{rig.base}/session/x", "reply_webhook_expires": 1}
    await sender.send(OutboxMessage(platform="dingtalk", key="e", created_at=NOW, payload=expired, to_user="staff01"))
    assert rig.fake.group_calls[0]["openConversationId"] == "cidGROUP=="
    assert rig.fake.robot_calls[0]["text"]["content"] == "站会" and rig.fake.robot_calls[0]["msgUuid"]
    assert rig.fake.session_replies == [] and rig.fake.batch_calls[0]["userIds"] == ["staff01"]


async def test_a_document_is_uploaded_then_sent_by_the_robot_as_a_file(http: tuple[Rig, TestClient]) -> None:  # type: ignore[type-arg]
    import base64

    rig, _ = http
    sender = rig.app.senders["dingtalk"]
    pdf = b"%PDF-1.4 a quote"
    payload = {"text": "📎 Q-2026-0001-v1.pdf", "file_b64": base64.b64encode(pdf).decode(),
               "file_name": "Q-2026-0001-v1.pdf", "reply_webhook": f"{rig.base}/session/x",
               "reply_webhook_expires": 10**13}  # fmt: skip
    await sender.send(OutboxMessage(platform="dingtalk", key="f", created_at=NOW, payload=payload, to_user="staff01"))
    [call] = rig.fake.batch_calls
    param = json.loads(call["msgParam"])
    assert call["msgKey"] == "sampleFile" and param["fileName"] == "Q-2026-0001-v1.pdf" and param["fileType"] == "pdf"
    assert rig.fake.media[param["mediaId"]] == pdf and rig.fake.session_replies == []  # a session webhook takes none
    plain = {k: v for k, v in payload.items() if not k.startswith("reply_webhook")}
    await sender.send(OutboxMessage(platform="dingtalk", key="g", created_at=NOW, payload=plain,
                                    to_chat=f"robot:robottoken:{ROBOT_SECRET}"))  # fmt: skip
    assert rig.fake.robot_calls[0]["text"]["content"] == "📎 Q-2026-0001-v1.pdf"  # a custom robot gets the text
    assert isinstance(sender, DingTalkSender)
    with pytest.raises(PermanentSendError):
        await sender.client.upload_file(b"", "empty.pdf")


async def test_serve_stops_within_5_seconds_while_connected(tmp_path: Path) -> None:
    fake = FakeDingTalk()
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    fake.base = str(server.make_url("")).rstrip("/")
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("GENJIN_")}
    env.update(GENJIN_DATABASE_URL=f"sqlite:///{tmp_path / 's.db'}", GENJIN_PORT=str(port), PYTHONPATH=str(ROOT),
               GENJIN_DINGTALK_APP_KEY=APP_KEY, GENJIN_DINGTALK_APP_SECRET=APP_SECRET,
               GENJIN_DINGTALK_API_BASE=fake.base, GENJIN_DINGTALK_OAPI_BASE=fake.base)  # fmt: skip
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "serve", env=env, cwd=tmp_path)
    try:
        await asyncio.wait_for(fake.connected.wait(), 30)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 10) == 0
        assert time.monotonic() - started < 5
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await server.close()


def _hostile(base: str, case: str) -> dict[str, object]:
    message: dict[str, object] = robot_message(base, f"msg-{case}", "天成建材 电话沟通了")
    if case == "text not an object":
        message["text"] = "天成建材 电话沟通了"
    elif case == "expiry abc":
        message["sessionWebhookExpiredTime"] = "abc"
    elif case == "foreign webhook":
        message["sessionWebhook"] = base.replace("127.0.0.1", "localhost") + "/steal"
    elif case == "no sender":
        message.pop("senderStaffId")
        message.pop("senderId")
    return message


@pytest.mark.parametrize("case", ["text not an object", "expiry abc", "foreign webhook", "no sender", "huge integer"])
async def test_what_can_never_be_answered_is_refused_at_the_door(http: tuple[Rig, TestClient], case: str) -> None:  # type: ignore[type-arg]
    rig, client = http
    body = "[" + "9" * 5000 + "]" if case == "huge integer" else json.dumps(_hostile(rig.base, case))
    resp = await client.post("/dingtalk/callback", data=body, headers=http_headers())
    text = await resp.text()
    assert resp.status == 400 and "Traceback" not in text  # a retry cannot fix it: not a 500, not a 503
    await rig.settle()
    assert await rig.inbox_count() == 0 and rig.fake.session_replies == []


async def test_a_body_in_pieces_is_read_whole(http: tuple[Rig, TestClient]) -> None:  # type: ignore[type-arg]
    rig, client = http
    body = json.dumps(robot_message(rig.base, "msg-pieces", "天成建材 电话沟通了,下周三演示 " + "很顺利" * 40)).encode()
    assert len(body) > 600
    headers = {"Content-Type": "application/json", **http_headers()}
    assert client.server.port is not None  # the server has started
    status = await post_in_pieces(client.server.host, client.server.port, "/dingtalk/callback", headers, body)
    assert " 200 " in status, status
    assert await rig.inbox_count() == 1


def _stream(rig: Rig) -> StreamRunner:
    adapter = rig.app.adapter("dingtalk")
    assert isinstance(adapter, DingTalkAdapter) and adapter.stream is not None
    return adapter.stream
