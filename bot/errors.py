"""One error handler for messages and scheduled jobs alike: log it, keep it, answer kindly."""

from __future__ import annotations

import logging
import traceback

from handlers.messages import Incoming, Reply

log = logging.getLogger("genjin.errors")

APOLOGY = "抱歉,处理这条消息时出了点问题,消息已保存,我们会尽快处理。你可以稍后再发一次。"


class ErrorHandler:
    """Turns an exception into a log line with its traceback and, for a message, a reply."""

    def __init__(self) -> None:
        self.count = 0

    def on_message(self, exc: BaseException, message: Incoming) -> list[Reply]:
        self.count += 1
        log.error("message %s/%s failed: %s", message.platform, message.msg_id, _describe(exc), exc_info=exc)
        return [Reply(APOLOGY)]

    def on_job(self, exc: BaseException, job: str) -> None:
        self.count += 1
        log.error("job %s failed: %s", job, _describe(exc), exc_info=exc)

    @staticmethod
    def summary(exc: BaseException) -> str:
        """What is stored beside the message: the type and the last frame, not the whole stack."""
        frames = traceback.extract_tb(exc.__traceback__)
        where = f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
        return f"{_describe(exc)}{where}"[:2000]


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
