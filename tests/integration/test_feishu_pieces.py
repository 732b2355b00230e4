"""Feishu pieces: callback crypto (checked against lark-oapi itself), the API client against a fake, cards."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from multidict import CIMultiDict

from bot.feishu.api import FeishuClient
from bot.feishu.cards import CardClick, button_card, button_keys, parse_click
from bot.feishu.crypto import CallbackRejected, FeishuCrypto, decrypt, event_type, url_challenge
from bot.outbox import PermanentSendError, TransientSendError
from tests.conftest import NOW
from tests.fakes.feishu import (
    APP_ID,
    APP_SECRET,
    ENCRYPT_KEY,
    GROUP_CHAT,
    VERIFICATION_TOKEN,
    FakeFeishu,
    card_action_event,
    encrypt,
    p2p_chat,
    seal_event,
    signature,
    text_event,
    url_verification,
)

OPENER = FeishuCrypto(ENCRYPT_KEY, VERIFICATION_TOKEN)


# --- callback crypto ------------------------------------------------------------------------------


def test_sealed_event_opens_to_the_same_payload() -> None:
    event = text_event("staff01", "王总 明天回访 报价3万", event_id="ev-1")
    headers, body = seal_event(event)
    assert b"staff01" not in body and "encrypt" in json.loads(body)
    opened = OPENER.open(CIMultiDict(headers), body, time.time())
    assert opened == event
    assert event_type(opened) == "im.message.receive_v1"
    assert json.loads(opened["event"]["message"]["content"]) == {"text": "王总 明天回访 报价3万"}
    lowered = {k.lower(): v for k, v in headers.items()}  # a plain dict need not keep Feishu's spelling
    assert OPENER.open(lowered, body, time.time()) == event


def test_feishu_documented_vector() -> None:
    """The sample of Feishu's own documentation (事件订阅 · 加密策略), independent of our fake."""
    assert decrypt("test key", "P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=") == b"hello world"


def _signed(outer: dict[str, Any] | bytes) -> tuple[dict[str, str], bytes]:
    """A body of our choosing with a valid signature: what gets past the signature must still fail later."""
    body = outer if isinstance(outer, bytes) else json.dumps(outer).encode()
    ts, nonce = str(int(time.time())), "n0nce"
    return {"X-Lark-Request-Timestamp": ts, "X-Lark-Request-Nonce": nonce,
            "X-Lark-Signature": signature(ts, nonce, ENCRYPT_KEY, body)}, body  # fmt: skip


def _case(name: str) -> tuple[dict[str, str], bytes]:
    event = text_event("staff01", "hello")
    headers, body = seal_event(event)
    if name == "wrong signature":
        return {**headers, "X-Lark-Signature": "0" * 64}, body
    if name == "signature by another key":
        return seal_event(event, "another-key-entirely")
    if name == "body changed after signing":
        outer = json.loads(body)
        outer["encrypt"] = encrypt(json.dumps(text_event("boss", "forged")).encode(), ENCRYPT_KEY)
        return headers, json.dumps(outer).encode()
    if name == "stale timestamp":
        return seal_event(event, timestamp=int(time.time()) - 3601)
    if name == "timestamp from the future":
        return seal_event(event, timestamp=int(time.time()) + 3601)
    if name == "non-numeric timestamp":
        return {**headers, "X-Lark-Request-Timestamp": "yesterday"}, body
    if name == "wrong verification token":
        return seal_event(event, verification_token="not-the-token")
    if name == "no token at all":
        del event["header"]["token"]
        return seal_event(event)
    if name == "garbage body":
        return _signed(b"\x00\xffnot json at all")
    if name == "JSON array":
        return _signed(b"[1, 2, 3]")
    if name == "bad base64":
        return _signed({"encrypt": "!!!not base64!!!"})
    if name == "truncated ciphertext":
        return _signed({"encrypt": base64.b64encode(b"x" * 20).decode()})
    if name == "encrypted with another key":  # signed with ours: decrypts to junk (bad padding or bad JSON)
        return _signed({"encrypt": encrypt(body, "another-key-entirely")})
    if name == "encrypted non-JSON":
        return _signed({"encrypt": encrypt(b"plain words", ENCRYPT_KEY)})
    if name == "plaintext although a key is set":
        return _signed(json.dumps(event).encode())
    if name == "unsigned event":
        return {"Content-Type": "application/json"}, body
    if name == "unsigned garbage":
        return {}, json.dumps({"encrypt": base64.b64encode(b"y" * 48).decode()}).encode()
    raise AssertionError(name)


REJECTED = {  # case -> what the rejection says (a regular expression)
    "wrong signature": "bad signature", "signature by another key": "bad signature",
    "body changed after signing": "bad signature", "stale timestamp": "hour off",
    "timestamp from the future": "hour off", "non-numeric timestamp": "timestamp",
    "wrong verification token": "verification token", "no token at all": "verification token",
    "garbage body": "malformed JSON", "JSON array": "not an object", "bad base64": "cannot decrypt",
    "truncated ciphertext": "cannot decrypt",
    "encrypted with another key": "cannot decrypt|malformed JSON",  # junk pads right one time in 256
    "encrypted non-JSON": "malformed JSON", "plaintext although a key is set": "not encrypted",
    "unsigned event": "missing signature", "unsigned garbage": "missing signature",
}  # fmt: skip


@pytest.mark.parametrize("name", REJECTED)
def test_rejected(name: str) -> None:
    headers, body = _case(name)
    with pytest.raises(CallbackRejected) as caught:
        OPENER.open(headers, body, time.time())
    assert isinstance(caught.value, ValueError) and re.search(REJECTED[name], caught.value.reason)
    assert 400 <= caught.value.status < 500


def test_unsigned_failures_read_alike() -> None:
    """Without a signature nothing tells a padding error from a JSON error: no padding oracle."""
    reasons = set()
    for name in ("unsigned event", "unsigned garbage"):
        headers, body = _case(name)
        with pytest.raises(CallbackRejected) as caught:
            OPENER.open(headers, body, time.time())
        reasons.add((caught.value.reason, caught.value.status))
    assert reasons == {("missing signature", 403)}


def test_url_verification_encrypted_and_plain() -> None:
    headers, body = seal_event(url_verification("chal-123"))
    del headers["X-Lark-Signature"]  # the URL check may come unsigned
    assert url_challenge(OPENER.open(headers, body, time.time())) == "chal-123"
    assert url_challenge(OPENER.open(*seal_event(url_verification("chal-9")), time.time())) == "chal-9"
    token_only = FeishuCrypto(None, VERIFICATION_TOKEN)
    headers, body = seal_event(url_verification("chal-456"), None)
    assert url_challenge(token_only.open(headers, body, time.time())) == "chal-456"
    for bad in (seal_event(url_verification("x", "wrong"), None), seal_event(url_verification("x", "wrong"))):
        with pytest.raises(CallbackRejected, match="verification token"):
            (token_only if b"encrypt" not in bad[1] else OPENER).open(*bad, time.time())
    assert url_challenge(text_event("staff01", "hi")) is None


def test_without_encrypt_key_only_the_token_counts() -> None:
    opener = FeishuCrypto(None, VERIFICATION_TOKEN)
    event = text_event("staff01", "hi")
    assert opener.open(*seal_event(event, None), time.time()) == event
    with pytest.raises(CallbackRejected, match="no encrypt key"):
        opener.open(*seal_event(event), time.time())
    with pytest.raises(ValueError):
        FeishuCrypto(None, "")


# --- the SDK agrees with our fake ---------------------------------------------------------------


def test_lark_sdk_decrypts_and_verifies_what_the_fake_seals() -> None:
    """lark-oapi's own AESCipher and EventDispatcherHandler (signature, token, decryption) accept the fake's
    sealing, so fake and code under test are not merely agreeing with each other."""
    import lark_oapi as lark
    from lark_oapi.core.model import RawRequest
    from lark_oapi.core.utils import AESCipher

    event = text_event("staff02", "李总 成交 5万", chat_type="group", at_bot=True)
    headers, body = seal_event(event)
    assert json.loads(AESCipher(ENCRYPT_KEY).decrypt_str(json.loads(body)["encrypt"])) == event

    got: list[Any] = []
    handler = (lark.EventDispatcherHandler.builder(ENCRYPT_KEY, VERIFICATION_TOKEN)
               .register_p2_im_message_receive_v1(got.append).build())  # fmt: skip

    def post(h: dict[str, str], b: bytes) -> int:
        request = RawRequest()
        request.headers, request.body = h, b
        return int(handler.do(request).status_code)

    assert post(headers, body) == 200
    assert got[0].event.message.chat_id == GROUP_CHAT and got[0].event.sender.sender_id.user_id == "staff02"
    raw = json.loads(lark.JSON.marshal(got[0]))  # the SDK object as a dict again (None fields dropped)
    assert raw["event"]["message"]["content"] == event["event"]["message"]["content"]
    assert raw["header"]["event_id"] == event["header"]["event_id"]

    tampered = {**headers, "X-Lark-Signature": headers["X-Lark-Signature"][::-1]}
    assert post(tampered, body) == 500  # the SDK refuses our forgery too
    assert post(*seal_event(event, verification_token="wrong")) == 500
    with pytest.raises(CallbackRejected):
        OPENER.open(tampered, body, time.time())
    assert post(*seal_event(event, timestamp=int(time.time()) - 10, nonce="another")) == 200


def test_lark_sdk_card_action_matches_our_parser() -> None:
    import lark_oapi as lark
    from lark_oapi.core.model import RawRequest
    from lark_oapi.event.callback.model.p2_card_action_trigger import P2CardActionTriggerResponse

    event = card_action_event("staff01", "confirm:42", GROUP_CHAT, "om_card1")
    clicks: list[CardClick] = []

    def on_click(data: Any) -> Any:
        clicks.append(parse_click(json.loads(lark.JSON.marshal(data))))
        return P2CardActionTriggerResponse({"toast": {"type": "info", "content": "收到"}})

    handler = lark.EventDispatcherHandler.builder(ENCRYPT_KEY, VERIFICATION_TOKEN).register_p2_card_action_trigger(
        on_click).build()  # fmt: skip
    request = RawRequest()
    request.headers, request.body = seal_event(event)
    response = handler.do(request)
    assert response.status_code == 200 and json.loads(response.content)["toast"]["content"] == "收到"
    assert clicks == [CardClick("staff01", GROUP_CHAT, "confirm:42")]
    assert parse_click(OPENER.open(*seal_event(event), time.time())) == clicks[0]


# --- the API client against the fake ----------------------------------------------------------


@pytest.fixture
async def api() -> AsyncIterator[tuple[FakeFeishu, FeishuClient]]:
    fake = FakeFeishu()
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    async with aiohttp.ClientSession() as http:
        client = FeishuClient(http, base_url=str(server.make_url("/")), app_id=APP_ID, app_secret=APP_SECRET,
                              timeout=0.5)  # fmt: skip
        yield fake, client
    await server.close()


async def test_token_cached_across_sends(api: tuple[FakeFeishu, FeishuClient]) -> None:
    fake, client = api
    first = await client.send("user_id", "staff01", "text", {"text": "明天 10 点回访王总"})
    await client.send("chat_id", GROUP_CHAT, "text", {"text": "本周业绩"})
    assert fake.token_fetches == client.token_fetches == 1
    assert first["message_id"] == fake.messages[0]["message_id"]
    assert fake.texts_for("staff01") == ["明天 10 点回访王总"]
    assert fake.messages[1]["receive_id_type"] == "chat_id"
    assert len(set(fake.authorizations)) == 1 and fake.authorizations[0].startswith("Bearer t-")


async def test_concurrent_sends_fetch_one_token(api: tuple[FakeFeishu, FeishuClient]) -> None:
    fake, client = api
    await asyncio.gather(*(client.send("user_id", "staff01", "text", {"text": str(i)}) for i in range(6)))
    assert fake.token_fetches == 1 and len(fake.messages) == 6


async def test_expired_token_refetched_and_retried_once(api: tuple[FakeFeishu, FeishuClient]) -> None:
    fake, client = api
    await client.send("user_id", "staff01", "text", {"text": "one"})
    fake.expire_tokens()  # Feishu revoked it early (a secret reset, another instance's refetch, …)
    await client.send("user_id", "staff01", "text", {"text": "two"})
    assert fake.token_fetches == client.token_fetches == 2
    assert fake.texts_for("staff01") == ["one", "two"] and len(fake.authorizations) == 3


async def test_always_invalid_token_is_retried_once_not_forever(api: tuple[FakeFeishu, FeishuClient]) -> None:
    fake, client = api
    fake.always_invalid_token = True
    with pytest.raises(TransientSendError, match="99991663"):
        await client.send("user_id", "staff01", "text", {"text": "x"})
    assert fake.token_fetches == 2 and len(fake.authorizations) == 2 and not fake.messages


async def test_token_refreshed_before_expiry(api: tuple[FakeFeishu, FeishuClient]) -> None:
    fake, client = api
    fake.token_ttl = 200  # inside the five-minute margin: never trusted
    await client.send("user_id", "staff01", "text", {"text": "a"})
    await client.send("user_id", "staff01", "text", {"text": "b"})
    assert fake.token_fetches == 2


@pytest.mark.parametrize("failure", [99991400, 230020, 429, 503, 0, -2])
async def test_transient_failures(api: tuple[FakeFeishu, FeishuClient], failure: int) -> None:
    fake, client = api
    fake.fail_with, fake.hang = [failure], 1.5  # -2 hangs past the client's 0.5 s timeout
    with pytest.raises(TransientSendError):
        await client.send("user_id", "staff01", "text", {"text": "x"})
    await client.send("user_id", "staff01", "text", {"text": "later"})  # the next try goes through
    assert fake.texts_for("staff01")[-1] == "later"


async def test_permanent_failures(api: tuple[FakeFeishu, FeishuClient]) -> None:
    fake, client = api
    with pytest.raises(PermanentSendError, match=r"230013.*availability"):
        await client.send("user_id", "nobody", "text", {"text": "x"})
    with pytest.raises(PermanentSendError, match="230002"):
        await client.send("chat_id", "oc_unknown", "text", {"text": "x"})
    fake.fail_with = [230001]
    with pytest.raises(PermanentSendError, match="230001"):
        await client.send("user_id", "staff01", "text", {"text": "x"})
    with pytest.raises(ValueError):
        await client.send("userid", "staff01", "text", {"text": "x"})
    assert not fake.messages


async def test_refused_secret_is_transient(api: tuple[FakeFeishu, FeishuClient]) -> None:
    fake, client = api
    fake.secret_refused = True
    with pytest.raises(TransientSendError, match="10014"):
        await client.send("user_id", "staff01", "text", {"text": "x"})
    assert client.token_fetches == 0


async def test_uuid_dedupe(api: tuple[FakeFeishu, FeishuClient]) -> None:
    fake, client = api
    a = await client.send("open_id", _open("staff01"), "text", {"text": "once"}, uuid="outbox-17")
    b = await client.send("open_id", _open("staff01"), "text", {"text": "once"}, uuid="outbox-17")
    assert a["message_id"] == b["message_id"] and len(fake.messages) == 1


async def test_a_document_is_uploaded_then_sent_as_a_file_message(api: tuple[FakeFeishu, FeishuClient]) -> None:
    import base64

    from bot.feishu.sender import FeishuSender
    from sales.model import OutboxMessage

    fake, client = api
    pdf = b"%PDF-1.4 a quote"
    payload = {"text": "📎 Q-2026-0001-v1.pdf", "file_b64": base64.b64encode(pdf).decode(),
               "file_name": "Q-2026-0001-v1.pdf"}  # fmt: skip
    await FeishuSender(client).send(OutboxMessage(platform="feishu", key="f1", created_at=NOW, payload=payload,
                                                  to_user="staff01"))  # fmt: skip
    [sent] = fake.messages
    assert sent["msg_type"] == "file" and fake.files[sent["content"]["file_key"]] == ("pdf", "Q-2026-0001-v1.pdf", pdf)
    assert await client.upload_file(b"PK..", "报价.xlsx") in fake.files  # a spreadsheet goes up as xls
    assert [kind for kind, _, _ in fake.files.values()] == ["pdf", "xls"]
    with pytest.raises(PermanentSendError):  # Feishu refuses an empty file
        await client.upload_file(b"", "empty.pdf")
    with pytest.raises(PermanentSendError):  # and a file message whose key it never issued
        await client.send("user_id", "staff01", "file", {"file_key": "file_v3_never"})


def _open(user: str) -> str:
    from tests.fakes.feishu import open_id

    return open_id(user)


# --- cards -------------------------------------------------------------------------------------


async def test_card_round_trip(api: tuple[FakeFeishu, FeishuClient]) -> None:
    fake, client = api
    buttons = [("确认", "yes"), ("取消", "no"), ("改成 3 万", "amount:30000"), ("稍后", "later")]
    card = button_card("把 王总 的阶段改为 成交？", buttons, title="请选择")
    assert button_keys(card) == [key for _, key in buttons]
    rows = [e for e in card["body"]["elements"] if e["tag"] == "column_set"]
    assert [len(r["columns"]) for r in rows] == [3, 1]
    for row in rows:
        for column in row["columns"]:
            assert column["elements"][0]["value"] == {"key": column["elements"][0]["value"]["key"]}

    sent = await client.send("user_id", "staff01", "interactive", card)
    assert fake.messages[0]["msg_type"] == "interactive" and fake.messages[0]["content"] == card

    click = card_action_event("staff01", "amount:30000", p2p_chat("staff01"), sent["message_id"])
    opened = OPENER.open(*seal_event(click), time.time())
    assert event_type(opened) == "card.action.trigger"
    user, chat, key = parse_click(opened)
    assert (user, chat, key) == ("staff01", p2p_chat("staff01"), "amount:30000")


def test_card_markdown_and_parse_errors() -> None:
    card = button_card("**加粗**", [("好", "ok")], markdown=True)
    assert card["body"]["elements"][0] == {"tag": "markdown", "content": "**加粗**"}
    assert "header" not in card
    with pytest.raises(ValueError, match="not a card"):
        parse_click(text_event("staff01", "hi"))
    no_key = card_action_event("staff01", "", GROUP_CHAT, "om_1")
    with pytest.raises(ValueError, match="key"):
        parse_click(no_key)
    open_only = card_action_event("staff01", "k", GROUP_CHAT, "om_1")
    open_only["event"]["operator"]["user_id"] = ""  # the app lacks the user ID scope: the open_id it is
    assert parse_click(open_only).user_id.startswith("ou_")
    open_only["event"]["operator"]["open_id"] = ""
    with pytest.raises(ValueError, match="operator"):
        parse_click(open_only)
