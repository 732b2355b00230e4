"""Reading a callback body whole, however the network delivers it, and never past a limit."""

from __future__ import annotations

from aiohttp import web


class BodyTooLarge(Exception):
    """The body is over the limit: answered with 413, nothing read past the limit."""


async def read_body(request: web.Request, limit: int) -> bytes:
    """Every byte of the body up to ``limit``.

    ``request.content.read(n)`` returns what is buffered so far, which on the internet is often a
    part: a body written in pieces must be read until the end, or it is cut and refused as malformed.
    """
    if request.content_length is not None and request.content_length > limit:
        raise BodyTooLarge(f"body over {limit} bytes")
    parts: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.read(limit + 1 - size)
        if not chunk:
            return b"".join(parts)
        parts.append(chunk)
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"body over {limit} bytes")
