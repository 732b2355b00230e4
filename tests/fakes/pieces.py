"""An HTTP POST whose body arrives in several TCP writes, as it does on the internet."""

from __future__ import annotations

import asyncio


async def post_in_pieces(
    host: str, port: int, path: str, headers: dict[str, str], body: bytes, piece: int = 300
) -> str:
    """Write the request by hand, the body ``piece`` bytes at a time 1 ms apart; the status line back."""
    reader, writer = await asyncio.open_connection(host, port)
    lines = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    writer.write(f"POST {path} HTTP/1.1\r\nHost: {host}\r\n{lines}Content-Length: {len(body)}\r\n"
                 "Connection: close\r\n\r\n".encode())  # fmt: skip
    for start in range(0, len(body), piece):
        await writer.drain()
        await asyncio.sleep(0.001)
        writer.write(body[start : start + piece])
    await writer.drain()
    status = (await reader.readline()).decode()
    writer.close()
    return status
