"""Stream mode: dingtalk-stream on its own thread and event loop, handing messages to ours.

Pinned to dingtalk-stream 0.24.4b1: 0.24.3 swallows ``task.cancel()`` (serve would hang on
shutdown) and opens connections with blocking ``requests`` on its loop; 0.24.4b1 has ``stop()``,
runs ``open_connection`` in an executor, backs off on reconnects and caches acks by messageId.
Its token fetch and ``reply_*`` are still synchronous, so Genjin replies with its own aiohttp
client and keeps the SDK on a thread of its own anyway; a watchdog reconnects a connection
that has gone silent.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

from bot.dingtalk.messages import DINGTALK_HOSTS, problem, to_inbox
from sales.model import InboxMessage

log = logging.getLogger("genjin.dingtalk")

Put = Callable[[InboxMessage], Coroutine[Any, Any, bool]]
HANDOFF_TIMEOUT = 5.0


class StreamRunner:
    def __init__(
        self,
        *,
        app_key: str,
        app_secret: str,
        api_base: str,
        put: Put,
        clock: Callable[[], Any],
        watchdog_seconds: float = 180.0,
        hosts: frozenset[str] = DINGTALK_HOSTS,
    ) -> None:
        self.hosts = hosts  # where a sessionWebhook may point
        self.app_key = app_key
        self.app_secret = app_secret
        self.api_base = api_base.rstrip("/")
        self.put = put
        self.clock = clock
        self.watchdog_seconds = watchdog_seconds
        self.connections = 0  # connection attempts, for tests and logs
        self.watchdog_reconnects = 0
        self.last_frame = time.monotonic()
        self._main: asyncio.AbstractEventLoop | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._client: Any = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = threading.Event()

    def start(self) -> None:
        """Start the stream thread; messages are stored through ``put`` on the calling loop."""
        from dingtalk_stream import DingTalkStreamClient

        self._main = asyncio.get_running_loop()
        # The SDK reads the endpoint from this class attribute (not a subclass or an instance).
        DingTalkStreamClient.OPEN_CONNECTION_API = f"{self.api_base}/v1.0/gateway/connections/open"
        self._thread = threading.Thread(target=self._run, name="dingtalk-stream", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from dingtalk_stream import ChatbotMessage, Credential, DingTalkStreamClient

        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        client = DingTalkStreamClient(
            Credential(self.app_key, self.app_secret),
            logger=logging.getLogger("genjin.dingtalk.sdk"),
            websocket_connect_options={"open_timeout": 10, "ping_interval": 20, "ping_timeout": 20},
        )
        client.register_callback_handler(ChatbotMessage.TOPIC, _BotHandler(self))
        dispatch, open_connection = client._dispatch_message, client.open_connection

        async def counted_dispatch(message: dict[str, Any]) -> Any:
            self.last_frame = time.monotonic()
            return await dispatch(message)

        def counted_open() -> Any:
            self.connections += 1
            self.last_frame = time.monotonic()
            return open_connection()

        client._dispatch_message = counted_dispatch
        client.open_connection = counted_open
        self._client = client
        self._task = loop.create_task(self._serve(client))
        try:
            loop.run_until_complete(self._task)
        except asyncio.CancelledError:
            pass  # stopped while the SDK slept before a reconnect
        except Exception:
            if not self._stopping.is_set():
                log.exception("DingTalk stream stopped")
        finally:
            loop.close()

    async def _serve(self, client: Any) -> None:
        await asyncio.gather(client.start(), self._watchdog())

    async def _watchdog(self) -> None:
        """A connection with no frame at all for a while is closed, so that the SDK reconnects."""
        while not self._stopping.is_set():
            await asyncio.sleep(min(5.0, self.watchdog_seconds / 4))
            websocket = self._client.websocket if self._client else None
            if websocket is not None and time.monotonic() - self.last_frame > self.watchdog_seconds:
                log.warning("DingTalk stream silent for %.0f s; reconnecting", self.watchdog_seconds)
                self.watchdog_reconnects += 1
                self.last_frame = time.monotonic()
                await websocket.close()

    async def handoff(self, data: dict[str, Any]) -> bool:
        """Store one bot message on the main loop (runs on the stream loop); True when stored or a repeat."""
        assert self._main is not None
        message = to_inbox(data, self.clock())
        future = asyncio.run_coroutine_threadsafe(self.put(message), self._main)
        await asyncio.wait_for(asyncio.wrap_future(future), HANDOFF_TIMEOUT)
        return True

    def stop(self, timeout: float = 3.0) -> None:
        """Close the connection and end the thread (blocking: call it in a thread)."""
        self._stopping.set()
        loop, client = self._loop, self._client
        if loop is not None and client is not None and not loop.is_closed():
            try:
                asyncio.run_coroutine_threadsafe(client.stop(), loop).result(timeout)
            except Exception as exc:  # the loop may already be gone
                log.info("stream stop: %s", exc)
            task = self._task
            if task is not None and not loop.is_closed():
                # the SDK sleeps before each reconnect and does not look at stop() meanwhile: cancel it
                try:
                    loop.call_soon_threadsafe(task.cancel)
                except RuntimeError:  # closed in between
                    pass
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def started(self) -> bool:
        """Started and not asked to stop: the thread should be alive."""
        return self._thread is not None and not self._stopping.is_set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


class _BotHandler:
    """The SDK's callback handler for bot messages: store, then acknowledge at once."""

    def __init__(self, runner: StreamRunner) -> None:
        from dingtalk_stream import CallbackHandler

        self.runner = runner
        self._base = CallbackHandler()
        self.dingtalk_client: Any = None

    def pre_start(self) -> None:
        return

    async def raw_process(self, callback: Any) -> Any:
        from dingtalk_stream import AckMessage
        from dingtalk_stream.frames import Headers

        code, text = AckMessage.STATUS_OK, "OK"
        data = callback.data
        wrong = problem(data, self.runner.hosts)
        if wrong is not None:  # can never be handled: acknowledged as bad, not redelivered
            log.warning("DingTalk stream message refused: %s", wrong)
            code, text = AckMessage.STATUS_BAD_REQUEST, "not a robot message"
        else:
            try:
                await self.runner.handoff(data)
            except Exception as exc:  # not stored: a non-OK ack makes DingTalk deliver it again
                log.error("DingTalk message %s not stored: %s", data.get("msgId"), exc)
                code, text = AckMessage.STATUS_SYSTEM_EXCEPTION, "retry"
        ack = AckMessage()
        ack.code = code
        ack.headers.message_id = callback.headers.message_id
        ack.headers.content_type = Headers.CONTENT_TYPE_APPLICATION_JSON
        ack.data = {"response": text}
        return ack
