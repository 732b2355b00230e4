"""Fail any test that reaches beyond this machine (python-telegram-bot's OfflineRequest idea)."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any


class NetworkAccessError(OSError):
    """A test tried to open a connection outside loopback (an OSError, as a refused connection is)."""


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo
LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def is_local(host: Any) -> bool:
    if host in (None, "", b""):
        return True
    if isinstance(host, bytes):
        host = host.decode()
    host = str(host)
    if host in LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _check(sock: socket.SocketType, address: Any) -> None:
    if sock.family == getattr(socket, "AF_UNIX", None) or isinstance(address, (str, bytes)):
        return
    if not is_local(address[0]):
        raise NetworkAccessError(f"test tried to connect to {address!r}; only loopback is allowed")


# socket.SocketType is _socket.socket, the class that defines connect and connect_ex (socket.socket inherits them)
def _connect(self: socket.SocketType, address: Any) -> None:
    _check(self, address)
    _real_connect(self, address)


def _connect_ex(self: socket.SocketType, address: Any) -> int:
    _check(self, address)
    return _real_connect_ex(self, address)


def _getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if not is_local(host):
        raise NetworkAccessError(f"test tried to resolve {host!r}; only loopback is allowed")
    return _real_getaddrinfo(host, *args, **kwargs)


def install() -> None:
    socket.socket.connect = _connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = _getaddrinfo
