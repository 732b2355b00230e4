"""One JSON call to a platform's API, the same way for every platform: any answer is read as far as it is
JSON (an error page is an empty object, its status still said), and a network failure is worth a retry."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from bot.outbox import TransientSendError


async def request_json(
    http: aiohttp.ClientSession, method: str, url: str, limits: aiohttp.ClientTimeout, **kwargs: Any
) -> tuple[int, dict[str, Any]]:
    """(HTTP status, the body as an object); TransientSendError on a timeout or a connection failure."""
    try:
        async with http.request(method, url, timeout=limits, **kwargs) as resp:
            try:
                data = await resp.json(content_type=None)
            except (json.JSONDecodeError, aiohttp.ContentTypeError, UnicodeDecodeError):
                data = {}
            return resp.status, data if isinstance(data, dict) else {}
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise TransientSendError(f"{type(exc).__name__}: {exc}") from exc
