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
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from bot.feishu.messages import to_inbox
from sales.model import InboxMessage

log = logging.getLogger("genjin.feishu")
HANDOFF_TIMEOUT = 5.0
CONNECT_TIMEOUT = 10.0

Put = Callable[[InboxMessage], Coroutine[Any, Any, bool]]


class LongConnection:
    def __init__(self, *, app_id: str, app_secret: str, domain: str, put: Put, clock: Callable[[], datetime]) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.domain = domain.rstrip("/")
        self.put = put
        self.clock = clock
        self.events = 0  # events stored, for tests and logs
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

    @property
    def connected(self) -> bool:
        return self._client is not None and getattr(self._client, "_conn", None) is not None

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
                                log_level=lark.LogLevel.WARNING)  # fmt: skip
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
                log.exception("Feishu long connection ended")  # wrong app id/secret: the SDK refuses at once
        finally:
            client._auto_reconnect = False  # a closing socket must not start a reconnect
            loop.run_until_complete(self._shutdown(client))
            loop.close()

    @staticmethod
    async def _serve(client: Any) -> None:
        from lark_oapi.ws.exception import ClientException

        try:
            await client._connect()
        except ClientException:
            raise
        except Exception as exc:  # the gateway is down: the SDK's own back-off and reconnect
            log.warning("Feishu long connection: %s; reconnecting", exc)
            await client._disconnect()
            await client._reconnect()
        asyncio.get_running_loop().create_task(client._ping_loop())
        await asyncio.Event().wait()  # until stop() cancels

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

        payload = json.loads(lark.JSON.marshal(data))
        message = to_inbox(payload, self.clock())
        if message is None:
            return
        assert self._main is not None
        asyncio.run_coroutine_threadsafe(self.put(message), self._main).result(HANDOFF_TIMEOUT)
        self.events += 1

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
