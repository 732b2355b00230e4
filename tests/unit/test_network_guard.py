import asyncio
import socket

import pytest

from tests.netguard import NetworkAccessError


def test_connect_outside_loopback_fails() -> None:
    with socket.socket() as s, pytest.raises(NetworkAccessError):
        s.connect(("203.0.113.7", 80))


def test_name_lookup_outside_loopback_fails() -> None:
    with pytest.raises(NetworkAccessError):
        socket.getaddrinfo("qyapi.weixin.qq.com", 443)


async def test_asyncio_connection_outside_loopback_fails() -> None:
    with pytest.raises(NetworkAccessError):
        await asyncio.open_connection("198.51.100.9", 443)


async def test_loopback_is_allowed() -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"ok")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        reader, writer = await asyncio.open_connection("localhost", port)
        assert await reader.read(2) == b"ok"
        writer.close()
