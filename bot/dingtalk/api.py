"""DingTalk's OpenAPI for robots, over aiohttp: token, one-to-one batches, groups, webhooks.

Not the SDK's ``reply_*``: those use synchronous requests without timeouts, which would block the event loop.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import time
from typing import Any
from urllib.parse import quote_plus

import aiohttp

from bot.httpjson import request_json
from bot.outbox import PermanentSendError, TransientSendError

log = logging.getLogger("genjin.dingtalk")

TOKEN_HEADER = "x-acs-dingtalk-access-token"
MAX_BATCH = 20  # userIds per oToMessages/batchSend
REFRESH_MARGIN = 300


def sign(secret: str, timestamp: str) -> str:
    """Base64(HMAC-SHA256(secret, timestamp + "\\n" + secret)), as DingTalk signs."""
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def message_body(text: str, markdown: bool) -> tuple[str, dict[str, Any]]:
    """msgKey and msgParam for the robot APIs."""
    if markdown:
        title = text.strip().split("\n", 1)[0][:20] or "跟进"
        return "sampleMarkdown", {"title": title, "text": text}
    return "sampleText", {"content": text}


FILE_TYPES = ("xlsx", "pdf", "zip", "rar", "doc", "docx")  # what a robot's sampleFile message takes


def file_body(media_id: str, name: str) -> tuple[str, dict[str, Any]]:
    """msgKey and msgParam of a document the robot sends."""
    kind = name.rsplit(".", 1)[-1].lower()
    return "sampleFile", {"mediaId": media_id, "fileName": name, "fileType": kind if kind in FILE_TYPES else "pdf"}


def webhook_body(text: str, markdown: bool) -> dict[str, Any]:
    if markdown:
        return {
            "msgtype": "markdown",
            "markdown": {"title": text.strip().split("\n", 1)[0][:20] or "跟进", "text": text},
        }
    return {"msgtype": "text", "text": {"content": text}}


class DingTalkClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        api_base: str,
        oapi_base: str,
        app_key: str,
        app_secret: str,
        robot_code: str,
        timeout: float = 10.0,
    ) -> None:
        self.session = session
        self.api = api_base.rstrip("/")
        self.oapi = oapi_base.rstrip("/")
        self.app_key = app_key
        self.app_secret = app_secret
        self.robot_code = robot_code
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._token: tuple[str, float] | None = None
        self._lock = asyncio.Lock()
        self.token_fetches = 0

    async def token(self, *, force: bool = False) -> str:
        async with self._lock:
            if not force and self._token and self._token[1] - REFRESH_MARGIN > time.monotonic():
                return self._token[0]
            status, data = await self._request("POST", f"{self.api}/v1.0/oauth2/accessToken",
                                               json={"appKey": self.app_key, "appSecret": self.app_secret})  # fmt: skip
            if status in (400, 401, 403):  # held with back-off, not failed: it works again once the key is fixed
                log.error("DingTalk refused the app key or secret: %s", data.get("message", data))
                raise TransientSendError(f"DingTalk refused the app key or secret: {data.get('message', data)}")
            if status != 200 or "accessToken" not in data:
                raise TransientSendError(f"accessToken HTTP {status}: {data}")
            self.token_fetches += 1
            self._token = (str(data["accessToken"]), time.monotonic() + int(data.get("expireIn", 7200)))
            return self._token[0]

    async def call(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST to the new API with the token; a rejected token is fetched again once."""
        for attempt in (1, 2):
            token = await self.token(force=attempt == 2)
            status, data = await self._request("POST", f"{self.api}{path}", json=payload, headers={TOKEN_HEADER: token})
            if status == 401 and attempt == 1:
                continue
            if status == 200:
                return data
            message = f"{path} HTTP {status}: {data.get('code', '')} {data.get('message', '')}"
            if status == 429 or status >= 500:
                raise TransientSendError(message)
            raise PermanentSendError(message)
        raise AssertionError("unreachable")  # pragma: no cover

    async def batch_send(self, user_ids: list[str], text: str, *, markdown: bool = False) -> list[str]:
        """One message to up to 20 users; the users DingTalk throttled, to try again later."""
        return await self.batch_send_body(user_ids, *message_body(text, markdown))

    async def batch_send_body(self, user_ids: list[str], key: str, param: dict[str, Any]) -> list[str]:
        if not 0 < len(user_ids) <= MAX_BATCH:
            raise ValueError(f"batchSend takes 1 to {MAX_BATCH} users, not {len(user_ids)}")
        data = await self.call("/v1.0/robot/oToMessages/batchSend", {
            "robotCode": self.robot_code, "userIds": user_ids, "msgKey": key,
            "msgParam": json.dumps(param, ensure_ascii=False),
        })  # fmt: skip
        return [str(u) for u in data.get("flowControlledStaffIdList") or []]

    async def group_send(self, conversation_id: str, text: str, *, markdown: bool = False) -> None:
        await self.group_send_body(conversation_id, *message_body(text, markdown))

    async def group_send_body(self, conversation_id: str, key: str, param: dict[str, Any]) -> None:
        await self.call("/v1.0/robot/groupMessages/send", {
            "robotCode": self.robot_code, "openConversationId": conversation_id, "msgKey": key,
            "msgParam": json.dumps(param, ensure_ascii=False),
        })  # fmt: skip

    async def upload_file(self, data: bytes, name: str) -> str:
        """oapi media/upload?type=file (at most 20 MB): the media_id of a document for a ``sampleFile`` message."""
        for attempt in (1, 2):
            token = await self.token(force=attempt == 2)
            form = aiohttp.FormData()
            form.add_field("media", data, filename=name, content_type="application/octet-stream")
            status, answer = await self._request("POST", f"{self.oapi}/media/upload",
                                                 params={"access_token": token, "type": "file"}, data=form)  # fmt: skip
            code = int(answer.get("errcode", 0) or 0)
            if code in (40014, 42001) and attempt == 1:  # the token was refused or expired
                continue
            if status == 200 and code == 0 and answer.get("media_id"):
                return str(answer["media_id"])
            message = f"media/upload HTTP {status} errcode {code}: {answer.get('errmsg', '')}"
            raise TransientSendError(message) if status >= 500 or code == -1 else PermanentSendError(message)
        raise AssertionError("unreachable")  # pragma: no cover

    async def session_send(self, webhook: str, text: str, *, markdown: bool = False) -> None:
        """Reply to the conversation a message came from (its sessionWebhook, valid about 90 minutes)."""
        status, data = await self._request("POST", webhook, json=webhook_body(text, markdown))
        self._check_webhook(status, data, "sessionWebhook")

    async def custom_robot_send(self, access_token: str, secret: str, text: str, *, key: str) -> None:
        """A group's custom robot, signed; ``msgUuid`` makes a retry idempotent."""
        timestamp = str(int(time.time() * 1000))
        url = (f"{self.oapi}/robot/send?access_token={quote_plus(access_token)}&timestamp={timestamp}"
               f"&sign={quote_plus(sign(secret, timestamp))}")  # fmt: skip
        body = {**webhook_body(text, False), "msgUuid": hashlib.sha1(key.encode()).hexdigest()}
        status, data = await self._request("POST", url, json=body)
        self._check_webhook(status, data, "robot/send")

    @staticmethod
    def _check_webhook(status: int, data: dict[str, Any], what: str) -> None:
        code = int(data.get("errcode", 0) or 0)
        if status == 200 and code == 0:
            return
        message = f"{what} HTTP {status} errcode {code}: {data.get('errmsg', '')}"
        if status >= 500 or code in (130101, 660026, -1):  # throttled (20 a minute per robot) or busy
            raise TransientSendError(message)
        raise PermanentSendError(message)

    async def _request(self, method: str, url: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        return await request_json(self.session, method, url, self.timeout, **kwargs)
