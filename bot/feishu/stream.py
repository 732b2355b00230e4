"""Feishu's long connection (长连接) through the official SDK, on a thread and loop of its own.

``lark_oapi.ws.Client`` keeps its event loop in a module global and its ``start()`` never returns, so
it cannot share our loop: the thread sets that global to a loop it owns, connects, and runs until
``stop()`` cancels it. Each event is handed to the main loop and stored before the SDK acknowledges it;
a failure to store makes the acknowledgement an error, and Feishu delivers the event again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from bot.feishu.messages import to_inbox
from sales.model import InboxMessage

log = logging.getLogger("genjin.feishu")
HANDOFF_TIMEOUT = 5.0
CONNECT_TIMEOUT = 10.0
WATCH_SECONDS = 1.0  # how often the connection is looked at
RETRY_FIRST, RETRY_MAX = 2.0, 300.0  # back-off between failed connects
DOWN_ALERT_SECONDS = 60.0  # down this long: the adapter reports it (health check, alerts)

Put = Callable[[InboxMessage], Coroutine[Any, Any, bool]]


class LongConnection:
    def __init__(self, *, app_id: str, app_secret: str, domain: str, put: Put, clock: Callable[[], datetime]) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.domain = domain.rstrip("/")
        self.put = put
        self.clock = clock
        self.connects = 0  # connections made, for tests and logs
        self.problem: str | None = None  # why the last connect failed
        self._down_since: float | None = time.monotonic()
        self._main: asyncio.AbstractEventLoop | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._client: Any = None

    def start(self) -> None:
        """Start the thread (the SDK's import takes seconds: it happens there, not on our loop)."""
        self._main = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._run, name="feishu-ws", daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def trouble(self) -> str | None:
        """Why no event can arrive, once that has lasted a minute; None while connected."""
        if self._stopping.is_set():
            return None
        down = self._down_since
        if down is None or time.monotonic() - down < DOWN_ALERT_SECONDS:
            return None
        return "飞书长连接断开超过一分钟" + (f"({self.problem})" if self.problem else "")

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        import lark_oapi as lark
        import lark_oapi.ws.client as ws_client
        import requests

        ws_client.loop = loop  # the SDK schedules everything on this module global

        class _Timed:  # the SDK fetches its endpoint with requests.post and no timeout
            @staticmethod
            def post(url: str, **kwargs: Any) -> requests.Response:
                return requests.post(url, timeout=CONNECT_TIMEOUT, **kwargs)

        ws_client.requests = _Timed()
        logging.getLogger("Lark").handlers.clear()  # through our logging, not the SDK's print to stdout
        handler = (
            lark.EventDispatcherHandler.builder("", "")  # frames on this connection are neither encrypted nor signed
            .register_p2_im_message_receive_v1(self._on_event)
            .register_p2_card_action_trigger(self._on_event)
            .build()
        )
        client = lark.ws.Client(self.app_id, self.app_secret, event_handler=handler, domain=self.domain,
                                log_level=lark.LogLevel.WARNING, auto_reconnect=False)  # fmt: skip
        # We reconnect ourselves (_serve): the SDK's own reconnect gives up for good after a few tries, and
        # racing it would trip its lock. Its receive task then ends with the error it logged already.
        loop.set_exception_handler(lambda _loop, context: log.info("feishu sdk: %s", context.get("message")))
        self._client = client
        self._loop = loop
        self._task = loop.create_task(self._serve(client))
        if self._stopping.is_set():  # stop() came while the SDK was being imported
            self._task.cancel()
        try:
            loop.run_until_complete(self._task)
        except asyncio.CancelledError:
            pass
        except Exception:
            if not self._stopping.is_set():
                log.exception("Feishu long connection ended")
        finally:
            loop.run_until_complete(self._shutdown(client))
            loop.close()

    async def _serve(self, client: Any) -> None:
        """Keep one connection open until stop() cancels: connect, and connect again whenever it dropped,
        backing off while Feishu refuses (a wrong secret is said in the log and the health check)."""
        asyncio.get_running_loop().create_task(client._ping_loop())
        delay = RETRY_FIRST
        while True:
            if client._conn is not None:
                self._down_since, self.problem, delay = None, None, RETRY_FIRST
                await asyncio.sleep(WATCH_SECONDS)
                continue
            if self._down_since is None:
                self._down_since = time.monotonic()
                log.warning("Feishu long connection dropped; reconnecting")
            try:
                await client._connect()
                self.connects += 1
            except Exception as exc:
                self.problem = f"{type(exc).__name__}: {exc}"[:200]
                log.error("Feishu long connection: %s; next try in %.0f s", self.problem, delay)
                await client._disconnect()
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX)

    @staticmethod
    async def _shutdown(client: Any) -> None:
        """Cancel what the SDK left on the loop (receive loop, pings, a reconnect asleep), then close."""
        me = asyncio.current_task()
        others = [t for t in asyncio.all_tasks() if t is not me]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)
        await client._disconnect()

    def _on_event(self, data: Any) -> None:
        """On the SDK's loop: back to a plain event, stored on the main loop before the SDK acknowledges."""
        import lark_oapi as lark

        if self._stopping.is_set():  # not stored: the error acknowledgement makes Feishu send it again
            raise RuntimeError("stopping")
        payload = json.loads(lark.JSON.marshal(data))
        message = to_inbox(payload, self.clock())
        if message is None:
            return
        assert self._main is not None
        asyncio.run_coroutine_threadsafe(self.put(message), self._main).result(HANDOFF_TIMEOUT)

    def stop(self, timeout: float = 3.0) -> None:
        """Close the connection and end the thread (blocking: call it in a thread)."""
        self._stopping.set()
        loop, task = self._loop, self._task
        if loop is not None and task is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(task.cancel)
            except RuntimeError:  # the loop closed in between
                pass
        if self._thread is not None:
            self._thread.join(timeout)
