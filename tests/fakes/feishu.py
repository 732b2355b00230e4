"""A fake Feishu open API (tenant tokens, im/v1 messages) that speaks its error codes, and what Feishu POSTs
to our callback: events encrypted and signed exactly as Feishu does it.

The sealing below is written from Feishu's description, not with ``bot.feishu.crypto``, and the tests check
it against lark-oapi's own decryptor, so the fake is not merely agreeing with the code under test.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import json
import os
import time
import uuid as uuidlib
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

APP_ID = "cli_a5f0c1d2e3b4a5c6"
APP_SECRET = "test-app-secret"
ENCRYPT_KEY = "kBxGu8IuHtjRm0C3fbQZ6eWyNwmSUdi2"
VERIFICATION_TOKEN = "v3rIf1cAtIoNtOkEn0123456789abcde"
TENANT_KEY = "2ca1d211f64f6438"
BOT_OPEN_ID = "ou_bot0000000000000000000000000000"
USERS = ("staff01", "staff02", "manager01")  # user_ids inside the app's availability
RECEIVE_ID_TYPES = ("open_id", "user_id", "union_id", "email", "chat_id")

INVALID_TOKEN = 99991663  # "Invalid access token for authorization"
MISSING_TOKEN = 99991661
RATE_LIMITED = 99991400  # "request trigger frequency limit"
USER_OUT_OF_SCOPE = 230013  # "Bot has NO availability to this user."
BOT_NOT_IN_CHAT = 230002
INVALID_PARAM = 230001
FIELD_VALIDATION = 99992402
BAD_SECRET = 10014  # "app secret invalid"


def open_id(user_id: str) -> str:
    return "ou_" + hashlib.sha1(user_id.encode()).hexdigest()[:32]


def union_id(user_id: str) -> str:
    return "on_" + hashlib.sha1(f"union:{user_id}".encode()).hexdigest()[:32]


def p2p_chat(user_id: str) -> str:
    return "oc_" + hashlib.sha1(f"p2p:{user_id}".encode()).hexdigest()[:32]


GROUP_CHAT = "oc_" + hashlib.sha1(b"group:sales").hexdigest()[:32]


@dataclass
class FakeFeishu:
    """State of the fake: issued tokens, sent messages, failures to inject."""

    tokens: dict[str, float] = field(default_factory=dict)  # token -> expiry (monotonic)
    token_fetches: int = 0
    token_ttl: int = 7200  # what "expire" says; Feishu's tokens live two hours
    users: set[str] = field(default_factory=lambda: set(USERS))
    chats: set[str] = field(default_factory=lambda: {GROUP_CHAT, *(p2p_chat(u) for u in USERS)})
    messages: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, tuple[str, str, bytes]] = field(default_factory=dict)  # file_key -> (file_type, name, bytes)
    authorizations: list[str] = field(default_factory=list)  # the Authorization header of every im call
    # for the next im calls: a Feishu code (answered with HTTP 400), 429 / 5xx (an HTTP status), 0 (the connection
    # drops), -1 (this call goes through), -2 (hangs past the client's timeout)
    fail_with: list[int] = field(default_factory=list)
    always_invalid_token: bool = False
    secret_refused: bool = False
    hang: float = 15.0
    _uuids: dict[str, str] = field(default_factory=dict)  # uuid -> message_id: Feishu drops a repeat
    _ids: itertools.count = field(default_factory=itertools.count)  # type: ignore[type-arg]

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/open-apis/auth/v3/tenant_access_token/internal", self.tenant_token)
        app.router.add_post("/open-apis/im/v1/messages", self.message_create)
        app.router.add_post("/open-apis/im/v1/files", self.file_create)
        return app

    async def file_create(self, request: web.Request) -> web.Response:
        """im/v1/files: a multipart form with file_type (one of Feishu's), file_name and a file of 1 byte to 30 MB."""
        if (error := self._token_error(request)) is not None:
            return error
        form = await request.post()
        kind, name, upload = form.get("file_type"), form.get("file_name"), form.get("file")
        if kind not in ("opus", "mp4", "pdf", "doc", "xls", "ppt", "stream") or not isinstance(name, str) or not name:
            return _error(FIELD_VALIDATION, "field validation failed: file_type / file_name", 400)
        data = upload.file.read() if isinstance(upload, web.FileField) else b""
        if not data or len(data) > 30 * 1024 * 1024:
            return _error(INVALID_PARAM, "file is empty or over 30 MB", 400)
        key = f"file_v3_{next(self._ids):08d}"
        self.files[key] = (str(kind), name, data)
        return web.json_response({"code": 0, "msg": "success", "data": {"file_key": key}})

    def expire_tokens(self) -> None:
        for token in self.tokens:
            self.tokens[token] = 0.0

    async def tenant_token(self, request: web.Request) -> web.Response:
        body = await request.json()
        if self.secret_refused or body.get("app_id") != APP_ID or body.get("app_secret") != APP_SECRET:
            return web.json_response({"code": BAD_SECRET, "msg": "app secret invalid"}, status=400)
        self.token_fetches += 1
        token = f"t-{self.token_fetches:04d}{uuidlib.uuid4().hex[:12]}"
        self.tokens[token] = time.monotonic() + self.token_ttl
        return web.json_response({"code": 0, "msg": "ok", "tenant_access_token": token, "expire": self.token_ttl})

    def _token_error(self, request: web.Request) -> web.Response | None:
        header = request.headers.get("Authorization", "")
        self.authorizations.append(header)
        if not header.startswith("Bearer "):
            return _error(MISSING_TOKEN, "Missing access token for authorization", 400)
        token = header[len("Bearer ") :]
        if self.always_invalid_token or token not in self.tokens or self.tokens[token] < time.monotonic():
            return _error(INVALID_TOKEN, "Invalid access token for authorization", 400)
        return None

    async def _injected(self, request: web.Request) -> web.Response | None:
        if not self.fail_with:
            return None
        code = self.fail_with.pop(0)
        if code == -1:
            return None
        if code == -2:
            await asyncio.sleep(self.hang)
            return web.json_response({"code": 0, "msg": "too late", "data": {}})
        if code == 0:
            assert request.transport is not None
            request.transport.close()
            raise web.HTTPInternalServerError()
        if code == 429:  # the gateway's rate limit: HTTP 429 with the frequency-limit code
            return _error(RATE_LIMITED, "request trigger frequency limit", 429)
        if 500 <= code <= 599:
            return web.Response(status=code, text="upstream error")
        return _error(code, "injected", 400)

    async def _content(self, body: dict[str, Any]) -> tuple[str, dict[str, Any]] | web.Response:
        """msg_type and parsed content; Feishu wants ``content`` as a JSON string, not an object."""
        msg_type, raw = body.get("msg_type"), body.get("content")
        if not isinstance(msg_type, str) or not isinstance(raw, str):
            return _error(FIELD_VALIDATION, "field validation failed: content must be a string", 400)
        try:
            content = json.loads(raw)
        except ValueError:
            return _error(INVALID_PARAM, "invalid message content", 400)
        if not isinstance(content, dict) or (msg_type == "text" and not isinstance(content.get("text"), str)):
            return _error(INVALID_PARAM, "invalid message content", 400)
        if msg_type == "interactive" and not (content.get("body") or content.get("elements")):
            return _error(INVALID_PARAM, "invalid message content: card without elements", 400)
        if msg_type == "file" and content.get("file_key") not in self.files:
            return _error(INVALID_PARAM, "invalid message content: unknown file_key", 400)
        return msg_type, content

    async def message_create(self, request: web.Request) -> web.Response:
        if (error := self._token_error(request)) is not None:
            return error
        if (injected := await self._injected(request)) is not None:
            return injected
        id_type = request.query.get("receive_id_type", "")
        if id_type not in RECEIVE_ID_TYPES:
            return _error(FIELD_VALIDATION, "field validation failed: receive_id_type", 400)
        body = await request.json()
        receive_id = str(body.get("receive_id", ""))
        if id_type == "user_id" and receive_id not in self.users:
            return _error(USER_OUT_OF_SCOPE, "Bot has NO availability to this user.", 400)
        if id_type == "open_id" and receive_id not in {open_id(u) for u in self.users}:
            return _error(USER_OUT_OF_SCOPE, "Bot has NO availability to this user.", 400)
        if id_type == "chat_id" and receive_id not in self.chats:
            return _error(BOT_NOT_IN_CHAT, "Bot/User can NOT be out of the chat.", 400)
        parsed = await self._content(body)
        if isinstance(parsed, web.Response):
            return parsed
        msg_type, content = parsed
        if (uuid := body.get("uuid")) and uuid in self._uuids:  # a retry Feishu has already delivered
            return _ok(self._uuids[uuid], receive_id, msg_type)
        message_id = f"om_{next(self._ids):08d}"
        if uuid:
            self._uuids[uuid] = message_id
        self.messages.append({"receive_id_type": id_type, "receive_id": receive_id, "msg_type": msg_type,
                              "content": content, "uuid": uuid, "message_id": message_id})  # fmt: skip
        return _ok(message_id, receive_id, msg_type)

    def texts_for(self, user_id: str) -> list[str]:
        return [str(m["content"].get("text", "")) for m in self.messages
                if m["receive_id"] == user_id and m["msg_type"] == "text"]  # fmt: skip


def _error(code: int, msg: str, status: int) -> web.Response:
    return web.json_response({"code": code, "msg": msg, "error": {"log_id": uuidlib.uuid4().hex}}, status=status)


def _ok(message_id: str, receive_id: str, msg_type: str) -> web.Response:
    now = str(int(time.time() * 1000))
    return web.json_response({"code": 0, "msg": "success", "data": {
        "message_id": message_id, "msg_type": msg_type, "create_time": now, "update_time": now,
        "chat_id": receive_id if receive_id.startswith("oc_") else "", "deleted": False, "updated": False,
        "sender": {"id": APP_ID, "id_type": "app_id", "sender_type": "app", "tenant_key": TENANT_KEY},
    }})  # fmt: skip


# --- what Feishu POSTs to the callback -------------------------------------------------------------


def encrypt(plaintext: bytes, encrypt_key: str, iv: bytes | None = None) -> str:
    """base64(iv + AES-256-CBC(PKCS#7(plaintext))), key = SHA-256(encrypt_key), a random IV."""
    iv = iv if iv is not None else os.urandom(16)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    key = hashlib.sha256(encrypt_key.encode()).digest()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return base64.b64encode(iv + encryptor.update(padded) + encryptor.finalize()).decode()


def signature(timestamp: str, nonce: str, encrypt_key: str, body: bytes) -> str:
    return hashlib.sha256((timestamp + nonce + encrypt_key).encode() + body).hexdigest()


def seal_event(
    payload: dict[str, Any], encrypt_key: str | None = ENCRYPT_KEY, verification_token: str | None = None,
    *, timestamp: int | None = None, nonce: str | None = None,
) -> tuple[dict[str, str], bytes]:  # fmt: skip
    """(headers, body) as Feishu POSTs them: with an encrypt key, encrypted and signed now (or at
    ``timestamp``); without one, plain JSON and unsigned. A ``verification_token`` is written into the
    payload first (header.token for 2.0, token otherwise), to test a wrong one."""
    payload = json.loads(json.dumps(payload))
    if verification_token is not None:
        if "schema" in payload:
            payload["header"]["token"] = verification_token
        else:
            payload["token"] = verification_token
    plain = json.dumps(payload, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if encrypt_key is None:
        return headers, plain
    body = json.dumps({"encrypt": encrypt(plain, encrypt_key)}).encode()
    ts = str(timestamp if timestamp is not None else int(time.time()))
    nonce = nonce or uuidlib.uuid4().hex[:16]
    headers.update({"X-Lark-Request-Timestamp": ts, "X-Lark-Request-Nonce": nonce,
                    "X-Lark-Signature": signature(ts, nonce, encrypt_key, body)})  # fmt: skip
    return headers, body


def _header(event_type: str, event_id: str | None, token: str) -> dict[str, Any]:
    return {"event_id": event_id or uuidlib.uuid4().hex, "event_type": event_type, "token": token,
            "create_time": str(int(time.time() * 1000)), "app_id": APP_ID, "tenant_key": TENANT_KEY}  # fmt: skip


def _ids(user_id: str) -> dict[str, str]:
    return {"open_id": open_id(user_id), "user_id": user_id, "union_id": union_id(user_id)}


def text_event(
    user_id: str, text: str, chat_id: str | None = None, chat_type: str = "p2p", event_id: str | None = None,
    *, message_id: str | None = None, at_bot: bool = False, token: str = VERIFICATION_TOKEN,
) -> dict[str, Any]:  # fmt: skip
    """im.message.receive_v1 for a text message; in a group ``at_bot`` puts the @-mention in as Feishu does
    (the text holds the placeholder ``@_user_1``, ``mentions`` says who it is)."""
    mentions: list[dict[str, Any]] = []
    if at_bot:
        text = f"@_user_1 {text}"
        mentions = [{"key": "@_user_1", "id": {"open_id": BOT_OPEN_ID, "user_id": "", "union_id": ""},
                     "name": "跟进助手", "tenant_key": TENANT_KEY}]  # fmt: skip
    now = str(int(time.time() * 1000))
    message: dict[str, Any] = {
        "message_id": message_id or f"om_{uuidlib.uuid4().hex}", "create_time": now, "update_time": now,
        "chat_id": chat_id or (p2p_chat(user_id) if chat_type == "p2p" else GROUP_CHAT), "chat_type": chat_type,
        "message_type": "text", "content": json.dumps({"text": text}, ensure_ascii=False),
    }  # fmt: skip
    if mentions:
        message["mentions"] = mentions
    return {"schema": "2.0", "header": _header("im.message.receive_v1", event_id, token), "event": {
        "sender": {"sender_id": _ids(user_id), "sender_type": "user", "tenant_key": TENANT_KEY},
        "message": message,
    }}  # fmt: skip


def card_action_event(
    user_id: str, key: str, chat_id: str, message_id: str, *, event_id: str | None = None,
    token: str = VERIFICATION_TOKEN,
) -> dict[str, Any]:  # fmt: skip
    """card.action.trigger: a click on a button whose value is ``{"key": key}``."""
    return {"schema": "2.0", "header": _header("card.action.trigger", event_id, token), "event": {
        "operator": {"tenant_key": TENANT_KEY, **_ids(user_id)},
        "token": f"c-{uuidlib.uuid4().hex}",  # the card's update token, not the verification token
        "action": {"tag": "button", "value": {"key": key}},
        "host": "im_message",
        "context": {"open_message_id": message_id, "open_chat_id": chat_id},
    }}  # fmt: skip


def url_verification(challenge: str, token: str = VERIFICATION_TOKEN) -> dict[str, Any]:
    return {"challenge": challenge, "token": token, "type": "url_verification"}


@dataclass
class FakeGateway:
    """Feishu's long-connection gateway as the SDK sees it: the endpoint handing out a websocket URL, and
    protobuf frames on it (events pushed, acknowledgements read back)."""

    base: str = ""  # set once the server runs: http://127.0.0.1:port
    endpoint_calls: int = 0
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    acks: list[dict[str, Any]] = field(default_factory=list)
    refuse_credentials: bool = False

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/callback/ws/endpoint", self.endpoint)
        app.router.add_get("/ws", self.ws)
        return app

    async def endpoint(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.endpoint_calls += 1
        if self.refuse_credentials or body != {"AppID": APP_ID, "AppSecret": APP_SECRET}:
            return web.json_response({"code": 1000040344, "msg": "app secret invalid"})
        url = self.base.replace("http", "ws", 1) + "/ws?device_id=dev1&service_id=7"
        config = {"ReconnectCount": -1, "ReconnectInterval": 1, "ReconnectNonce": 0, "PingInterval": 120}
        return web.json_response({"code": 0, "msg": "ok", "data": {"URL": url, "ClientConfig": config}})

    async def ws(self, request: web.Request) -> web.WebSocketResponse:
        from lark_oapi.ws.pb.pbbp2_pb2 import Frame

        sock = web.WebSocketResponse()
        await sock.prepare(request)
        self.sockets.append(sock)
        async for msg in sock:
            if msg.type == web.WSMsgType.BINARY:
                frame = Frame()
                frame.ParseFromString(msg.data)
                if frame.method == 1:  # data frames: the SDK's acknowledgement of an event
                    headers = {h.key: h.value for h in frame.headers}
                    self.acks.append({"headers": headers, "payload": json.loads(frame.payload)})
        return sock

    @property
    def open(self) -> bool:
        return any(not s.closed for s in self.sockets)

    async def push(self, payload: dict[str, Any], message_id: str) -> None:
        """One event frame on the newest connection, as Feishu sends it (plain JSON, no encryption)."""
        from lark_oapi.ws.pb.pbbp2_pb2 import Frame

        frame = Frame()
        for key, value in {"type": "event", "message_id": message_id, "trace_id": "tr", "sum": "1", "seq": "0"}.items():
            header = frame.headers.add()
            header.key, header.value = key, value
        frame.service, frame.method, frame.SeqID, frame.LogID = 7, 1, 0, 0
        frame.payload = json.dumps(payload, ensure_ascii=False).encode()
        await self.sockets[-1].send_bytes(frame.SerializeToString())
