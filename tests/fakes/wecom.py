"""A fake WeCom API (qyapi) that checks tokens and speaks its error codes, for tests and benchmarks."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from aiohttp import web
from wechatpy.enterprise.crypto import WeChatCrypto

# The official sample vector of WeCom's documentation (加解密方案说明).
TOKEN = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"
AES_KEY = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
CORP_ID = "ww1436e0e65a779aee"
SECRET = "test-secret"
AGENT_ID = 1000002
TEXT_LIMIT = 2048


@dataclass
class FakeWeCom:
    """State of the fake: issued tokens, received messages, failures to inject."""

    tokens: dict[str, float] = field(default_factory=dict)  # token -> expiry (monotonic)
    token_fetches: int = 0
    messages: list[dict[str, Any]] = field(default_factory=list)
    group_messages: list[dict[str, Any]] = field(default_factory=list)
    webhook_messages: list[dict[str, Any]] = field(default_factory=list)
    fail_with: list[int] = field(default_factory=list)  # errcodes (or HTTP 5xx, 0 = drop, -1 = pass) for the next sends
    always_invalid_token: bool = False
    latency: float = 0.0  # seconds each message/send takes (a slow API)
    secret_refused: bool = False  # gettoken answers 40001 (a secret reset on WeCom's side) while set
    oauth_codes: dict[str, str] = field(default_factory=dict)  # OAuth code -> userid, each usable once
    hang: float = 15.0  # how long an injected -2 hangs (longer than the client's timeout)
    per_member: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    dropped_over_limit: int = 0
    uploads: dict[str, bytes] = field(default_factory=dict)
    upload_names: dict[str, tuple[str, str]] = field(default_factory=dict)  # media_id -> (type, file name)
    _ids: itertools.count = field(default_factory=itertools.count)  # type: ignore[type-arg]

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/cgi-bin/gettoken", self.gettoken)
        app.router.add_post("/cgi-bin/message/send", self.message_send)
        app.router.add_post("/cgi-bin/appchat/send", self.appchat_send)
        app.router.add_post("/cgi-bin/webhook/send", self.webhook_send)
        app.router.add_post("/cgi-bin/media/upload", self.media_upload)
        app.router.add_get("/cgi-bin/auth/getuserinfo", self.getuserinfo)
        return app

    def expire_tokens(self) -> None:
        for token in self.tokens:
            self.tokens[token] = 0.0

    async def gettoken(self, request: web.Request) -> web.Response:
        if self.secret_refused or request.query.get("corpid") != CORP_ID or request.query.get("corpsecret") != SECRET:
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        self.token_fetches += 1
        token = f"tok-{self.token_fetches}"
        self.tokens[token] = time.monotonic() + 7200
        return web.json_response({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200})

    def _token_error(self, request: web.Request) -> dict[str, Any] | None:
        token = request.query.get("access_token", "")
        if self.always_invalid_token or token not in self.tokens:
            return {"errcode": 40014, "errmsg": "invalid access_token"}
        if self.tokens[token] < time.monotonic():
            return {"errcode": 42001, "errmsg": "access_token expired"}
        return None

    async def _injected(self, request: web.Request) -> web.Response | None:
        if not self.fail_with:
            return None
        code = self.fail_with.pop(0)
        if code == -1:  # this call goes through
            return None
        if code == -2:  # the call hangs past the client's timeout
            await asyncio.sleep(self.hang)
            return web.json_response({"errcode": 0, "errmsg": "too late"})
        if code == 0:  # the connection drops without an answer
            assert request.transport is not None
            request.transport.close()
            raise web.HTTPInternalServerError()
        if 500 <= code <= 599:  # an HTTP status; anything else is an errcode in a 200 answer (45009, 40001, …)
            return web.Response(status=code, text="upstream error")
        return web.json_response({"errcode": code, "errmsg": "injected"})

    async def message_send(self, request: web.Request) -> web.Response:
        if self.latency:
            await asyncio.sleep(self.latency)
        if (error := self._token_error(request)) is not None:
            return web.json_response(error)
        if (injected := await self._injected(request)) is not None:
            return injected
        body = await request.json()
        if body.get("agentid") != AGENT_ID:
            return web.json_response({"errcode": 40056, "errmsg": "invalid agentid"})
        msgtype = body.get("msgtype")
        content = body.get(msgtype, {})
        if msgtype in ("text", "markdown") and len(content.get("content", "").encode()) > TEXT_LIMIT:
            return web.json_response({"errcode": 40058, "errmsg": "content exceed max length"})
        if msgtype in ("image", "file") and content.get("media_id") not in self.uploads:
            return web.json_response({"errcode": 40007, "errmsg": "invalid media_id"})
        for user in str(body.get("touser", "")).split("|"):
            now = time.monotonic()
            window = [t for t in self.per_member[user] if now - t < 60]
            if len(window) >= 30:
                self.dropped_over_limit += 1  # WeCom drops these silently
                self.per_member[user] = window
                continue
            self.per_member[user] = [*window, now]
            self.messages.append({"touser": user, "msgtype": msgtype, msgtype: content})
        return web.json_response({"errcode": 0, "errmsg": "ok", "msgid": f"m{next(self._ids)}", "invaliduser": ""})

    def oauth_code(self, userid: str) -> str:
        """What WeCom puts in the redirect after ``snsapi_base``: a one-time code (valid five minutes there)."""
        code = hashlib.sha1(f"{userid}{len(self.oauth_codes)}{time.monotonic()}".encode()).hexdigest()
        self.oauth_codes[code] = userid
        return code

    async def getuserinfo(self, request: web.Request) -> web.Response:
        """auth/getuserinfo: a member's code gives ``userid``; an unknown or used code is 40029."""
        error = self._token_error(request)
        if error is not None:
            return web.json_response(error)
        userid = self.oauth_codes.pop(request.query.get("code", ""), None)
        if userid is None:
            return web.json_response({"errcode": 40029, "errmsg": "invalid code"})
        return web.json_response({"errcode": 0, "errmsg": "ok", "userid": userid, "user_ticket": "t"})

    async def media_upload(self, request: web.Request) -> web.Response:
        if (error := self._token_error(request)) is not None:
            return web.json_response(error)
        kind = request.query.get("type")
        if kind not in ("image", "file"):
            return web.json_response({"errcode": 40004, "errmsg": "invalid media type"})
        form = await request.post()
        media = form.get("media")
        data = media.file.read() if isinstance(media, web.FileField) else b""
        if kind == "image" and not data.startswith(b"\x89PNG"):
            return web.json_response({"errcode": 40005, "errmsg": "invalid file type"})
        if kind == "file" and not 5 <= len(data) <= 20 * 1024 * 1024:  # WeCom: a file of 5 bytes to 20 MB
            return web.json_response({"errcode": 40006, "errmsg": "invalid meida size"})
        media_id = f"media-{len(self.uploads)}"
        self.uploads[media_id] = data
        if isinstance(media, web.FileField):
            self.upload_names[media_id] = (kind, media.filename)
        return web.json_response({"errcode": 0, "errmsg": "ok", "type": kind, "media_id": media_id})

    async def appchat_send(self, request: web.Request) -> web.Response:
        if (error := self._token_error(request)) is not None:
            return web.json_response(error)
        self.group_messages.append(await request.json())
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def webhook_send(self, request: web.Request) -> web.Response:
        if not request.query.get("key"):
            return web.json_response({"errcode": 93000, "errmsg": "invalid webhook url"})
        body = await request.json()
        if body.get("msgtype") == "image":  # the robot checks the picture against its md5
            raw = base64.b64decode(body["image"]["base64"])
            if hashlib.md5(raw).hexdigest() != body["image"]["md5"]:
                return web.json_response({"errcode": 301019, "errmsg": "media md5 not match"})
        self.webhook_messages.append(body)
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    def texts_for(self, user: str) -> list[str]:
        out = []
        for m in self.messages:
            if m["touser"] == user:
                body = m.get(m["msgtype"], {})
                out.append(body.get("content") or body.get("sub_title_text") or "")
        return out


def encrypted_callback(
    inner_xml: str, *, nonce: str = "nonce123", timestamp: str = "", token: str = TOKEN,
    aes_key: str = AES_KEY, corp_id: str = CORP_ID,
) -> tuple[str, bytes]:  # fmt: skip
    """A genuine POST: (query string, body) as WeCom would send them, query percent-encoded; signed now
    unless ``timestamp`` says otherwise."""
    timestamp = timestamp or str(int(time.time()))
    crypto = WeChatCrypto(token, aes_key, corp_id)
    reply = crypto.encrypt_message(inner_xml, nonce, timestamp)
    encrypt = reply.split("<Encrypt><![CDATA[")[1].split("]]>")[0]
    signature = reply.split("<MsgSignature><![CDATA[")[1].split("]]>")[0]
    body = f"<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt>" \
           f"<AgentID><![CDATA[{AGENT_ID}]]></AgentID></xml>"  # fmt: skip
    query = f"msg_signature={quote(signature)}&timestamp={timestamp}&nonce={quote(nonce)}"
    return query, body.encode()


def text_message(user: str, content: str, msg_id: str, create_time: int = 1700000000) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
        f"<CreateTime>{create_time}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId><AgentID>{AGENT_ID}</AgentID></xml>"
    )


def event_message(user: str, event: str, key: str = "", create_time: int = 1700000001) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
        f"<CreateTime>{create_time}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[{event}]]></Event><EventKey><![CDATA[{key}]]></EventKey><AgentID>{AGENT_ID}</AgentID></xml>"
    )
