"""``genjin parse``: JSON Lines in, one contract-shaped JSON object out per line, in order."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from nlu import BriefParser
from nlu.index_cache import cache_dir
from usecases.parsing import build_parser

SHANGHAI = ZoneInfo("Asia/Shanghai")


def parse_time(value: str) -> datetime:
    """ISO 8601; a time without an offset is Beijing time."""
    when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=SHANGHAI)


def load_customers(path: Path) -> list[str]:
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def answer(parser: BriefParser, line: str, default_now: datetime | None) -> dict[str, Any]:
    """One output object for one input line; never raises."""
    if not line.strip():
        return {"error": "empty line"}
    try:
        item = json.loads(line)
    except (json.JSONDecodeError, RecursionError) as exc:
        return {"error": f"not JSON: {exc}"[:200]}
    if not isinstance(item, dict):
        return {"error": "expected a JSON object with id and text"}
    message_id = item.get("id")
    text = item.get("text")
    if not isinstance(text, str):
        return {"id": message_id, "error": "missing text"}
    try:
        now = parse_time(item["now"]) if item.get("now") else default_now or datetime.now(SHANGHAI)
    except (TypeError, ValueError) as exc:
        return {"id": message_id, "error": f"bad now: {exc}"[:200]}
    try:
        return parser.parse(text, now).to_dict(message_id)
    except Exception as exc:  # a parser bug must not stop the run
        return {"id": message_id, "error": f"internal error: {type(exc).__name__}"}


def run_parse(customers: Path, now: str | None, lines: Iterable[bytes], out: TextIO) -> int:
    try:
        names = load_customers(customers)
    except OSError as exc:
        print(f"无法读取客户名单 {customers}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    try:
        default_now = parse_time(now) if now else None
    except ValueError:
        print(f"--now 不是 ISO 8601 时间: {now}", file=sys.stderr)
        return 2
    parser, keep = build_parser(names, cache_dir(os.environ.get("GENJIN_INDEX_CACHE")), freeze=True)
    try:
        for raw in lines:
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            out.write(json.dumps(answer(parser, line, default_now), ensure_ascii=False) + "\n")
            out.flush()
    except KeyboardInterrupt:  # asked to stop: at once, not after writing the index
        raise
    except BaseException:  # the reader went away (a broken pipe): the index is still worth keeping
        keep()
        raise
    keep()  # a new index is kept for the next run once the answers are out, not before the first
    return 0
