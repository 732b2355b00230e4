"""The few Feishu open-API endpoints Genjin uses, over aiohttp, against a configurable base URL.

Not lark-oapi's client: it is synchronous (requests) unless one uses its separate async methods, sets no
timeouts, and hides error codes behind generated response classes. Feishu answers errors with a JSON
``code`` under HTTP 200, 400 or 429 alike, so the code is read first and the HTTP status second.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.httpjson import request_json
from bot.outbox import PermanentSendError, TransientSendError

log = logging.getLogger("genjin.feishu")

TOKEN_PATH = "/open-apis/auth/v3/tenant_access_token/internal"
MESSAGES_PATH = "/open-apis/im/v1/messages"
FILES_PATH = "/open-apis/im/v1/files"
RECEIVE_ID_TYPES = frozenset({"open_id", "user_id", "union_id", "email", "chat_id"})
# Missing (99991661) or invalid/expired tenant token (the SDK's list, lark_oapi/channel/errors.py): refetch once.
TOKEN_ERRORS = frozenset({99991661, 99991663, 99991664, 99991665, 99991666, 99991668})
# 99991400 "request trigger frequency limit" (the open platform's), 99991402/11020/11021 (the SDK's list),
# 230020 "this operation triggers the frequency limit" (im). Treating a doubtful code as a rate limit costs
# retries; the reverse loses the message.
RATE_LIMITED = frozenset({99991400, 99991402, 11020, 11021, 230020})
PERMANENT = {
    230001: "invalid request parameter or message content",
    230002: "the bot is not in the chat",
    230013: "the user is outside the app's availability (可用范围)",
    230025: "message too long",
    230099: "card content rejected",
    99991672: "the app lacks a permission scope",
    99992402: "field validation failed",
}
REFRESH_MARGIN = 300  # seconds before expiry when a token is fetched anew


@dataclass
class _Token:
    value: str
    expires_at: float


def _code(data: Mapping[str, Any]) -> int | None:
    try:
        return int(data["code"])
    except (KeyError, TypeError, ValueError):
        return None


class FeishuClient:
    def __init__(
        self,
        http: aiohttp.ClientSession,
        *,
        base_url: str,
        app_id: str,
        app_secret: str,
        timeout: float = 10.0,
    ) -> None:
        self.http = http
        self.base = base_url.rstrip("/")
        self.app_id = app_id
        self.app_secret = app_secret
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._token: _Token | None = None
        self._lock = asyncio.Lock()
        self.token_fetches = 0

    async def token(self) -> str:
        """The cached tenant_access_token, fetched when missing or expiring (one fetch at a time)."""
        async with self._lock:
            if self._token and self._token.expires_at - REFRESH_MARGIN > time.monotonic():
                return self._token.value
            status, data = await self._request("POST", self.base + TOKEN_PATH,
                                               json={"app_id": self.app_id, "app_secret": self.app_secret})  # fmt: skip
            code = _code(data)
            if code != 0 or not data.get("tenant_access_token"):
                # held with back-off rather than failed: it works again once the app id or secret is fixed
                log.error("Feishu refused the tenant token: HTTP %s code %s %s", status, code, data.get("msg", ""))
                raise TransientSendError(f"tenant_access_token HTTP {status} code {code}: {data.get('msg', '')}")
            self.token_fetches += 1
            expire = int(data.get("expire", 7200))
            self._token = _Token(str(data["tenant_access_token"]), time.monotonic() + expire)
            return self._token.value

    def _drop(self, rejected: str) -> None:
        """Forget a token Feishu refused, unless a concurrent call has already replaced it."""
        if self._token is not None and self._token.value == rejected:
            self._token = None

    async def call(
        self, path: str, payload: Mapping[str, Any], params: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """POST with the tenant token; a refused token is fetched again once, never in a loop."""
        for attempt in (1, 2):
            token = await self.token()
            status, data = await self._request("POST", self.base + path, params=params or {}, json=dict(payload),
                                               headers={"Authorization": f"Bearer {token}"})  # fmt: skip
            if _code(data) in TOKEN_ERRORS and attempt == 1:
                log.info("tenant token refused (%s); fetching a new one", _code(data))
                self._drop(token)
                continue
            return self._check(path, status, data)
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _check(path: str, status: int, data: dict[str, Any]) -> dict[str, Any]:
        code = _code(data)
        if code == 0 and status < 400:
            return data
        message = f"{path} HTTP {status} code {code}: {data.get('msg', '')}"
        if code is None:
            if status == 200:
                raise TransientSendError(f"{path}: an answer without a code")
            if status in (408, 429) or status >= 500:
                raise TransientSendError(message)
            raise PermanentSendError(message)
        if code in RATE_LIMITED or code in TOKEN_ERRORS or status == 429 or status >= 500:
            raise TransientSendError(message)
        if 500 <= code < 600 or 50000 <= code < 60000:  # Feishu's internal errors (as the SDK reads them)
            raise TransientSendError(message)
        raise PermanentSendError(f"{message} ({PERMANENT.get(code, 'rejected')})")

    async def upload_file(self, data: bytes, name: str) -> str:
        """im/v1/files (at most 30 MB, never empty): the file_key of a document to send; its type by the name
        (pdf, xls for spreadsheets, else stream)."""
        kind = {"pdf": "pdf", "xls": "xls", "xlsx": "xls", "doc": "doc", "docx": "doc"}.get(
            name.rsplit(".", 1)[-1].lower(), "stream"
        )
        for attempt in (1, 2):
            token = await self.token()
            form = aiohttp.FormData()
            form.add_field("file_type", kind)
            form.add_field("file_name", name)
            form.add_field("file", data, filename=name, content_type="application/octet-stream")
            status, answer = await self._request("POST", self.base + FILES_PATH, data=form,
                                                 headers={"Authorization": f"Bearer {token}"})  # fmt: skip
            if _code(answer) in TOKEN_ERRORS and attempt == 1:
                self._drop(token)
                continue
            return str(self._check(FILES_PATH, status, answer)["data"]["file_key"])
        raise AssertionError("unreachable")  # pragma: no cover

    async def _request(self, method: str, url: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        return await request_json(self.http, method, url, self.timeout, **kwargs)

    # --- messages -------------------------------------------------------------------------

    async def send(
        self, receive_id_type: str, receive_id: str, msg_type: str, content: Mapping[str, Any],
        *, uuid: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """A new message; ``uuid`` (at most 50 characters) makes Feishu drop a repeat within an hour.
        Returns the message (``message_id``, …)."""
        if receive_id_type not in RECEIVE_ID_TYPES:
            raise ValueError(f"receive_id_type {receive_id_type!r} is not one of {sorted(RECEIVE_ID_TYPES)}")
        payload: dict[str, Any] = {
            "receive_id": receive_id, "msg_type": msg_type, "content": json.dumps(content, ensure_ascii=False),
        }  # fmt: skip
        if uuid:
            payload["uuid"] = uuid[:50]
        data = await self.call(MESSAGES_PATH, payload, {"receive_id_type": receive_id_type})
        return dict(data.get("data") or {})
