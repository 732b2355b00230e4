"""The same brief through WeCom, DingTalk, Feishu and the console stores the same update: a platform
changes how a message arrives and leaves, never what it means."""

from __future__ import annotations

import dataclasses
import io
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from bot.bootstrap import App, build_app
from bot.config import Settings
from bot.console.adapter import ConsoleSender
from bot.server import make_web_app
from sales.model import Customer, Employee, InboxMessage
from sales.stages import Stage
from tests.conftest import NOW
from tests.fakes import dingtalk, feishu, wecom

BRIEF = "今天拜访了天成建材的王总,方案演示完成,下周三报价,预计月底签约,金额大概80万"


def _clock() -> Any:
    return NOW


async def _seeded(settings: Settings, account: dict[str, str], **kw: Any) -> App:
    app = await build_app(settings, clock=_clock, **kw)
    async with app.uow() as uow:
        await uow.employees.add(Employee(id="E01", name="张伟", accounts=account))
        await uow.customers.add(
            Customer(name="浙江天成建材", owner_id="E01", stage=Stage.QUALIFIED, stage_entered_at=NOW, created_at=NOW)
        )
        await uow.commit()
    return app


async def _through(app: App, deliver: Callable[[TestClient], Awaitable[int]]) -> dict[str, Any]:  # type: ignore[type-arg]
    """Deliver the brief by the platform's own door; the stored customer and update as plain data."""
    client = TestClient(TestServer(make_web_app(app), host="127.0.0.1"))
    await client.start_server()
    try:
        assert await deliver(client) == 200
        await app.worker.drain()
        await app.outbox.drain()
        async with app.uow() as uow:
            customer = await uow.customers.by_name("浙江天成建材")
            assert customer is not None and customer.id is not None
            [brief] = await uow.briefs.for_customer(customer.id)
            assert brief.id is not None
            updates = await uow.briefs.updates_for(brief.id)
            stages = await uow.stages.for_customer(customer.id)
        state = dataclasses.asdict(customer)
        return {
            "customer": {k: v for k, v in state.items() if k not in ("id",)},
            "updates": [(u.before, u.after, u.created_customer) for u in updates],
            "stages": [(s.from_stage, s.to_stage) for s in stages],
            "brief": (brief.text, brief.sender_id),
        }
    finally:
        await client.close()
        await app.close()


async def _wecom(tmp_path: Path) -> dict[str, Any]:
    fake = wecom.FakeWeCom()
    api = TestServer(fake.app(), host="127.0.0.1")
    await api.start_server()
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'w.db'}", wecom_corp_id=wecom.CORP_ID, wecom_agent_id=wecom.AGENT_ID,
        wecom_secret=wecom.SECRET, wecom_token=wecom.TOKEN, wecom_aes_key=wecom.AES_KEY,
        wecom_api_base=str(api.make_url("/")).rstrip("/"),
    )  # fmt: skip

    async def deliver(client: TestClient) -> int:  # type: ignore[type-arg]
        query, body = wecom.encrypted_callback(wecom.text_message("zhangwei", BRIEF, "9001"))
        return (await client.post(f"/wecom/callback?{query}", data=body)).status

    try:
        return await _through(await _seeded(settings, {"wecom": "zhangwei"}), deliver)
    finally:
        assert fake.texts_for("zhangwei"), "answered on WeCom"
        await api.close()


async def _dingtalk(tmp_path: Path) -> dict[str, Any]:
    fake = dingtalk.FakeDingTalk()
    api = TestServer(fake.app(), host="127.0.0.1")
    await api.start_server()
    fake.base = str(api.make_url("")).rstrip("/")
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'd.db'}", dingtalk_app_key=dingtalk.APP_KEY,
        dingtalk_app_secret=dingtalk.APP_SECRET, dingtalk_mode="http", dingtalk_api_base=fake.base,
        dingtalk_oapi_base=fake.base,
    )  # fmt: skip

    async def deliver(client: TestClient) -> int:  # type: ignore[type-arg]
        body = json.dumps(dingtalk.robot_message(fake.base, "msg-1", BRIEF))
        return (await client.post("/dingtalk/callback", data=body, headers=dingtalk.http_headers())).status

    try:
        return await _through(await _seeded(settings, {"dingtalk": "staff01"}), deliver)
    finally:
        assert fake.session_replies, "answered on DingTalk"
        await api.close()


async def _feishu(tmp_path: Path) -> dict[str, Any]:
    fake = feishu.FakeFeishu()
    api = TestServer(fake.app(), host="127.0.0.1")
    await api.start_server()
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'f.db'}", feishu_app_id=feishu.APP_ID,
        feishu_app_secret=feishu.APP_SECRET, feishu_mode="http", feishu_encrypt_key=feishu.ENCRYPT_KEY,
        feishu_verification_token=feishu.VERIFICATION_TOKEN, feishu_api_base=str(api.make_url("/")).rstrip("/"),
    )  # fmt: skip

    async def deliver(client: TestClient) -> int:  # type: ignore[type-arg]
        headers, body = feishu.seal_event(feishu.text_event("staff01", BRIEF))
        return (await client.post("/feishu/callback", data=body, headers=headers)).status

    try:
        return await _through(await _seeded(settings, {"feishu": "staff01"}), deliver)
    finally:
        assert fake.texts_for("staff01"), "answered on Feishu"
        await api.close()


async def _console(tmp_path: Path) -> dict[str, Any]:
    out = io.StringIO()
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'c.db'}")
    app = await _seeded(settings, {}, senders={"console": ConsoleSender(out, interactive=False)})

    async def deliver(_: TestClient) -> int:  # type: ignore[type-arg]
        await app.inbox.put(InboxMessage("console", "c-1", "E01", NOW, chat_id="console:E01", text=BRIEF))
        return 200

    state = await _through(app, deliver)
    assert "方案演示" in out.getvalue()
    return state


async def test_one_brief_four_platforms_one_stored_update(tmp_path: Path) -> None:
    results = {
        name: await way(tmp_path)
        for name, way in (("wecom", _wecom), ("dingtalk", _dingtalk), ("feishu", _feishu), ("console", _console))
    }
    first = results["wecom"]
    assert first["customer"]["stage"] is Stage.DEMO and first["customer"]["amount"] == 800000
    assert first["stages"] == [(Stage.QUALIFIED, Stage.DEMO)] and len(first["updates"]) == 1
    for name, result in results.items():
        assert result == first, name
