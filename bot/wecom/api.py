"""The few WeCom endpoints Genjin uses, over aiohttp, against a configurable base URL.

Not wechatpy's client: it is synchronous, retries token errors without limit and ignores
an overridden base URL for gettoken.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.outbox import PermanentSendError, TransientSendError

log = logging.getLogger("genjin.wecom")

TOKEN_ERRORS = (40014, 42001)  # invalid / expired access_token: refetch once
INVALID_CODE = (40029, 50001)  # OAuth: an invalid or used code; a redirect URI outside the trusted domain
BAD_SECRET = 40001
RATE_LIMITED = 45009
PERMANENT = {
    81013: "all recipients invalid",
    60020: "caller IP is not in the app's trusted IPs",
    60011: "the app cannot see the recipients (visible range)",
    40058: "message too long or malformed",
    86008: "group chat not found",
}
REFRESH_MARGIN = 300  # seconds before expiry when a token is fetched anew


SECRET_RETRY = 60.0  # seconds between gettoken tries while WeCom refuses the secret


class BadSecret(TransientSendError):
    """40001: the secret is refused. Nothing goes out until it works again (an admin fixes it, WeCom's side
    recovers), so messages wait with back-off instead of failing for good; gettoken is tried once a minute."""


@dataclass
class _Token:
    value: str
    expires_at: float


class WeComClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        base_url: str,
        corp_id: str,
        secret: str,
        agent_id: int,
        timeout: float = 10.0,
    ) -> None:
        self.session = session
        self.base = base_url.rstrip("/") + "/cgi-bin/"
        self.corp_id = corp_id
        self.secret = secret
        self.agent_id = agent_id
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._token: _Token | None = None
        self._lock = asyncio.Lock()
        self.token_fetches = 0
        self.broken: str | None = None  # set while the secret is refused
        self._secret_retry_at = 0.0

    async def token(self, *, force: bool = False) -> str:
        """The cached access token, fetched when missing, expiring or ``force``d (one fetch at a time)."""
        if self.broken and time.monotonic() < self._secret_retry_at:
            raise BadSecret(self.broken)
        async with self._lock:
            if not force and self._token and self._token.expires_at - REFRESH_MARGIN > time.monotonic():
                return self._token.value
            data = await self._get("gettoken", {"corpid": self.corp_id, "corpsecret": self.secret})
            code = int(data.get("errcode", 0))
            if code == BAD_SECRET:
                self.broken = "WeCom refused the secret (40001): check GENJIN_WECOM_SECRET"
                self._secret_retry_at = time.monotonic() + SECRET_RETRY
                log.error(self.broken)
                raise BadSecret(self.broken)
            if code:
                raise TransientSendError(f"gettoken errcode {code}: {data.get('errmsg')}")
            if self.broken:
                log.warning("WeCom accepts the secret again; sending resumes")
            self.broken = None
            self.token_fetches += 1
            self._token = _Token(str(data["access_token"]), time.monotonic() + int(data.get("expires_in", 7200)))
            return self._token.value

    async def call(self, endpoint: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST with the token; a token error gets one fresh token and one retry, never a loop."""
        for attempt in (1, 2):
            token = await self.token(force=attempt == 2)
            data = await self._post(endpoint, {"access_token": token}, payload)
            code = int(data.get("errcode", 0))
            if code in TOKEN_ERRORS and attempt == 1:
                log.info("token rejected (%s); fetching a new one", code)
                continue
            return self._check(endpoint, data)
        raise AssertionError("unreachable")  # pragma: no cover

    def _check(self, endpoint: str, data: dict[str, Any]) -> dict[str, Any]:
        code = int(data.get("errcode", 0))
        if code == 0:
            return data
        message = f"{endpoint} errcode {code}: {data.get('errmsg', '')}"
        if code == RATE_LIMITED or code in TOKEN_ERRORS or code == -1:
            raise TransientSendError(message)
        if code == BAD_SECRET:
            raise BadSecret(message)
        raise PermanentSendError(f"{message} ({PERMANENT.get(code, 'rejected')})")

    async def _get(self, endpoint: str, params: dict[str, str]) -> dict[str, Any]:
        return await self._request("GET", self.base + endpoint, params=params)

    async def _post(self, endpoint: str, params: dict[str, str], payload: dict[str, Any]) -> dict[str, Any]:
        return await self._request("POST", self.base + endpoint, params=params, json=payload)

    async def _request(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        try:
            async with self.session.request(method, url, timeout=self.timeout, **kwargs) as resp:
                if resp.status >= 500:
                    raise TransientSendError(f"HTTP {resp.status} from {url}")
                if resp.status >= 400:
                    raise PermanentSendError(f"HTTP {resp.status} from {url}")
                data = await resp.json(content_type=None)
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise TransientSendError(f"{type(exc).__name__}: {exc}") from exc
        if not isinstance(data, dict):
            raise TransientSendError(f"unexpected answer from {url}")
        return data

    async def user_of_code(self, code: str) -> str | None:
        """OAuth (``snsapi_base``): the member's userid for the code WeCom put in the redirect; None when the code
        is invalid or used (40029) or the visitor is not a member (an ``openid`` only)."""
        for attempt in (1, 2):
            token = await self.token(force=attempt == 2)
            data = await self._get("auth/getuserinfo", {"access_token": token, "code": code})
            errcode = int(data.get("errcode", 0))
            if errcode in TOKEN_ERRORS and attempt == 1:
                continue
            if errcode in INVALID_CODE:
                return None
            userid = self._check("auth/getuserinfo", data).get("userid") or data.get("UserId")
            return str(userid) if userid else None
        raise AssertionError("unreachable")  # pragma: no cover

    # --- messages -------------------------------------------------------------------------

    async def send(self, touser: str, msgtype: str, content: dict[str, Any], *, dedupe: bool = True) -> dict[str, Any]:
        payload: dict[str, Any] = {"touser": touser, "agentid": self.agent_id, "msgtype": msgtype, msgtype: content}
        if dedupe:
            payload.update(enable_duplicate_check=1, duplicate_check_interval=1800)
        data = await self.call("message/send", payload)
        if data.get("invaliduser"):
            log.warning("WeCom did not deliver to %s", data["invaliduser"])
        return data

    async def upload_image(self, png: bytes) -> str:
        """media/upload?type=image (valid three days): the media_id of a picture to send."""
        return await self.upload(png, "chart.png", "image/png", "image")

    async def upload_file(self, data: bytes, name: str) -> str:
        """media/upload?type=file (at most 20 MB, valid three days): the media_id of a document to send; WeCom shows
        the file under ``name``."""
        return await self.upload(data, name, "application/octet-stream", "file")

    async def upload(self, content: bytes, name: str, content_type: str, kind: str) -> str:
        for attempt in (1, 2):
            token = await self.token(force=attempt == 2)
            form = aiohttp.FormData()
            form.add_field("media", content, filename=name, content_type=content_type)
            data = await self._request("POST", self.base + "media/upload",
                                       params={"access_token": token, "type": kind}, data=form)  # fmt: skip
            if int(data.get("errcode", 0)) in TOKEN_ERRORS and attempt == 1:
                continue
            return str(self._check("media/upload", data)["media_id"])
        raise AssertionError("unreachable")  # pragma: no cover

    async def appchat_send(self, chat_id: str, msgtype: str, content: dict[str, Any]) -> dict[str, Any]:
        return await self.call("appchat/send", {"chatid": chat_id, "msgtype": msgtype, msgtype: content})

    async def webhook_send(self, key: str, msgtype: str, content: dict[str, Any]) -> dict[str, Any]:
        """A group robot: its own key, no access token, 20 messages a minute."""
        data = await self._post("webhook/send", {"key": key}, {"msgtype": msgtype, msgtype: content})
        return self._check("webhook/send", data)
