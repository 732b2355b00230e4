"""A fake DingTalk: the stream gateway (connections/open + websocket frames) and the robot OpenAPI."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

APP_KEY = "dingtestappkey"
APP_SECRET = "test-app-secret"
ROBOT_CODE = "dingtestappkey"
ROBOT_SECRET = "SECtest"
BOT_TOPIC = "/v1.0/im/bot/messages/get"


def robot_message(
    base: str, msg_id: str, text: str, *, user: str = "staff01", group: bool = False, at_bot: bool = True
) -> dict[str, Any]:
    """A robot message as DingTalk sends it, in stream mode (frame data) and HTTP mode (body)."""
    conversation = "cidGROUP==" if group else f"cid{user}=="
    return {
        "conversationId": conversation, "chatbotCorpId": "dingcorp", "chatbotUserId": "$:LWCP_v1:$bot",
        "msgId": msg_id, "senderNick": "张伟", "isAdmin": False, "senderStaffId": user,
        "sessionWebhookExpiredTime": int(time.time() * 1000) + 90 * 60 * 1000, "createAt": int(time.time() * 1000),
        "senderCorpId": "dingcorp", "conversationType": "2" if group else "1", "senderId": f"$:LWCP_v1:${user}",
        "sessionWebhook": f"{base}/session/{conversation}", "robotCode": ROBOT_CODE, "msgtype": "text",
        "text": {"content": f" {text}"}, "isInAtList": at_bot,
    }  # fmt: skip


@dataclass
class FakeDingTalk:
    base: str = ""
    opens: int = 0
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    acks: list[dict[str, Any]] = field(default_factory=list)
    unacked: dict[str, dict[str, Any]] = field(default_factory=dict)  # messageId -> frame, redelivered on reconnect
    session_replies: list[dict[str, Any]] = field(default_factory=list)
    batch_calls: list[dict[str, Any]] = field(default_factory=list)
    group_calls: list[dict[str, Any]] = field(default_factory=list)
    robot_calls: list[dict[str, Any]] = field(default_factory=list)
    throttle_once: set[str] = field(default_factory=set)
    tokens: set[str] = field(default_factory=set)
    media: dict[str, bytes] = field(default_factory=dict)  # media_id -> the uploaded bytes
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    _ids: itertools.count = field(default_factory=itertools.count)  # type: ignore[type-arg]

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1.0/gateway/connections/open", self.open_connection)
        app.router.add_get("/gateway", self.gateway)
        app.router.add_post("/v1.0/oauth2/accessToken", self.access_token)
        app.router.add_post("/v1.0/robot/oToMessages/batchSend", self.batch_send)
        app.router.add_post("/v1.0/robot/groupMessages/send", self.group_send)
        app.router.add_post("/session/{conversation}", self.session_send)
        app.router.add_post("/robot/send", self.robot_send)
        app.router.add_post("/media/upload", self.media_upload)
        return app

    # --- stream gateway -------------------------------------------------------------------------

    async def open_connection(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("clientId") != APP_KEY or body.get("clientSecret") != APP_SECRET:
            return web.json_response({"code": "InvalidAuthentication", "message": "bad client"}, status=401)
        assert any(s.get("topic") == BOT_TOPIC for s in body.get("subscriptions", []))
        self.opens += 1
        return web.json_response({"endpoint": self.base.replace("http", "ws") + "/gateway", "ticket": uuid.uuid4().hex})

    async def gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.sockets.append(ws)
        self.connected.set()
        for frame in list(self.unacked.values()):  # DingTalk redelivers what was not acknowledged
            await ws.send_str(json.dumps(frame))
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                ack = json.loads(msg.data)
                self.acks.append(ack)
                if ack.get("code") == 200:
                    self.unacked.pop(ack.get("headers", {}).get("messageId", ""), None)
        return ws

    @property
    def socket(self) -> web.WebSocketResponse:
        return self.sockets[-1]

    async def push(self, data: dict[str, Any], *, message_id: str | None = None) -> str:
        message_id = message_id or f"frame-{next(self._ids)}"
        frame = {
            "specVersion": "1.0", "type": "CALLBACK",
            "headers": {"appId": "app", "connectionId": "c1", "contentType": "application/json",
                        "messageId": message_id, "time": str(int(time.time() * 1000)), "topic": BOT_TOPIC},
            "data": json.dumps(data, ensure_ascii=False),
        }  # fmt: skip
        self.unacked[message_id] = frame
        await self.socket.send_str(json.dumps(frame, ensure_ascii=False))
        return message_id

    async def system(self, topic: str) -> None:
        frame = {"specVersion": "1.0", "type": "SYSTEM",
                 "headers": {"contentType": "application/json", "messageId": f"sys-{next(self._ids)}", "topic": topic,
                             "time": str(int(time.time() * 1000))}, "data": json.dumps({"opaque": "x"})}  # fmt: skip
        await self.socket.send_str(json.dumps(frame))

    # --- OpenAPI ---------------------------------------------------------------------------------

    async def access_token(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("appKey") != APP_KEY or body.get("appSecret") != APP_SECRET:
            return web.json_response({"code": "invalidClientSecret", "message": "bad secret"}, status=400)
        token = uuid.uuid4().hex
        self.tokens.add(token)
        return web.json_response({"accessToken": token, "expireIn": 7200})

    def _authorised(self, request: web.Request) -> bool:
        return request.headers.get("x-acs-dingtalk-access-token") in self.tokens

    async def batch_send(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"code": "InvalidAuthentication", "message": "token"}, status=401)
        body = await request.json()
        if len(body["userIds"]) > 20 or body.get("robotCode") != ROBOT_CODE:
            return web.json_response({"code": "invalidParameter", "message": "userIds"}, status=400)
        param = json.loads(body["msgParam"])  # must be a JSON string
        kinds = ("xlsx", "pdf", "zip", "rar", "doc", "docx")  # what a robot's sampleFile takes
        if body.get("msgKey") == "sampleFile" and (param.get("mediaId") not in self.media
                                                  or param.get("fileType") not in kinds):  # fmt: skip
            return web.json_response({"code": "invalidParameter", "message": "mediaId"}, status=400)
        throttled = [u for u in body["userIds"] if u in self.throttle_once]
        self.throttle_once -= set(throttled)
        self.batch_calls.append({**body, "delivered": [u for u in body["userIds"] if u not in throttled]})
        return web.json_response({"processQueryKey": uuid.uuid4().hex, "flowControlledStaffIdList": throttled})

    async def group_send(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"code": "InvalidAuthentication", "message": "token"}, status=401)
        self.group_calls.append(await request.json())
        return web.json_response({"processQueryKey": uuid.uuid4().hex})

    async def media_upload(self, request: web.Request) -> web.Response:
        """oapi media/upload: the access token in the query, type file, a ``media`` part of 1 byte to 20 MB."""
        if request.query.get("access_token") not in self.tokens:
            return web.json_response({"errcode": 40014, "errmsg": "不合法的access_token"})
        if request.query.get("type") not in ("image", "voice", "file"):
            return web.json_response({"errcode": 40004, "errmsg": "不合法的媒体文件类型"})
        form = await request.post()
        media = form.get("media")
        data = media.file.read() if isinstance(media, web.FileField) else b""
        if not data or len(data) > 20 * 1024 * 1024:
            return web.json_response({"errcode": 40006, "errmsg": "不合法的文件大小"})
        media_id = f"@lA{uuid.uuid4().hex[:16]}"
        self.media[media_id] = data
        return web.json_response({"errcode": 0, "errmsg": "ok", "type": "file", "media_id": media_id})

    async def session_send(self, request: web.Request) -> web.Response:
        self.session_replies.append({"conversation": request.match_info["conversation"], **await request.json()})
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def robot_send(self, request: web.Request) -> web.Response:
        timestamp, signature = request.query.get("timestamp", ""), request.query.get("sign", "")
        expected = base64.b64encode(
            hmac.new(ROBOT_SECRET.encode(), f"{timestamp}\n{ROBOT_SECRET}".encode(), hashlib.sha256).digest()
        ).decode()
        if signature != expected:
            return web.json_response({"errcode": 310000, "errmsg": "sign not match"})
        self.robot_calls.append(await request.json())
        return web.json_response({"errcode": 0, "errmsg": "ok"})


def http_headers(secret: str = APP_SECRET, timestamp: int | None = None) -> dict[str, str]:
    ts = str(timestamp if timestamp is not None else int(time.time() * 1000))
    digest = hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
    return {"timestamp": ts, "sign": base64.b64encode(digest).decode()}
