"""Reading spreadsheets an admin exports: ``.xlsx`` or ``.csv`` in UTF-8 or GBK."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any


class UnreadableFile(Exception):
    """The whole file cannot be read; the message says why in one line."""


@dataclass
class Row:
    number: int  # as a spreadsheet shows it: the header is row 1
    values: dict[str, Any]


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile("文件编码无法识别(请存为 UTF-8 或 GBK)")


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, datetime) and value.hour == value.minute == value.second == 0:
        return value.date()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def read_rows(path: Path, headers: Mapping[str, str], required: tuple[str, ...]) -> list[Row]:
    """Rows keyed by canonical column name; ``headers`` maps every accepted header to it."""
    if not path.exists():
        raise UnreadableFile(f"文件不存在: {path}")
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        raw = list(_xlsx(path))
    elif suffix in (".csv", ".txt"):
        raw = list(_csv(path))
    elif suffix in (".jsonl", ".ndjson"):
        raw = _jsonl(path)
    else:
        raise UnreadableFile(f"只支持 .xlsx、.csv 和 .jsonl 文件: {path.name}")
    if not raw:
        raise UnreadableFile("文件是空的")
    columns: list[str | None] = []
    for header in raw[0]:
        key = _norm(header)
        columns.append(headers.get(key))
    missing = [r for r in required if r not in columns]
    if missing:
        raise UnreadableFile("缺少必需的列: " + ", ".join(missing))
    rows = []
    first = 1 if suffix in (".jsonl", ".ndjson") else 2  # a JSON Lines file has no header line: line N is row N
    for offset, cells in enumerate(raw[1:], start=first):
        values = {col: _cell(v) for col, v in zip(columns, cells, strict=False) if col is not None}
        if all(v is None for v in values.values()):
            continue
        rows.append(Row(offset, values))
    return rows


def _norm(header: Any) -> str:
    return str(header or "").strip().lstrip("\ufeff").lower().replace(" ", "_")


def _csv(path: Path) -> Iterator[list[Any]]:
    text = _decode(path.read_bytes())
    try:
        yield from csv.reader(io.StringIO(text))
    except csv.Error as exc:
        raise UnreadableFile(f"CSV 格式错误: {exc}") from exc


def _jsonl(path: Path) -> list[list[Any]]:
    """One JSON object a line, as a header row (every key seen, in order) and a row per line; a line that is not an
    object stops the import with its number."""
    objects: list[dict[str, Any]] = []
    for number, line in enumerate(_decode(path.read_bytes()).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UnreadableFile(f"第 {number} 行不是 JSON: {exc.msg}") from exc
        if not isinstance(value, dict):
            raise UnreadableFile(f"第 {number} 行不是一个 JSON 对象")
        objects.append(value)
    keys = list(dict.fromkeys(k for o in objects for k in o))
    return [keys, *([o.get(k) for k in keys] for o in objects)] if objects else []


def _xlsx(path: Path) -> Iterator[list[Any]]:
    from openpyxl import load_workbook  # imported here: only imports of .xlsx need it

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise UnreadableFile(f"无法读取 Excel 文件: {exc}") from exc
    try:
        sheet = book.worksheets[0]
        for cells in sheet.iter_rows(values_only=True):
            yield list(cells)
    finally:
        book.close()


def as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip() or None
