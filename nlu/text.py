"""Cleaning chat text and cutting it into segments (list items, lines) and clauses."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_CHARS = 20_000  # far beyond a chat message (WeCom: 2,048 bytes); keeps the worst case bounded

_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_LIST_MARKER = re.compile(
    r"(?:^|(?<=[\n;；。!?]))\s*(?:\d{1,2}[、.．)）](?!\d)|[(（]\d{1,2}[)）]|[①-⑳]|[一二三四五六七八九十]{1,2}、)\s*"
)
_SEGMENT_BREAK = re.compile(r"[\n;；]+|(?=[①-⑳])|(?<=\S)\s+(?=\d{1,2}[、．)]\S)|(?<=[。!?])\s*(?=\d{1,2}[、.．)]\S)")
# Spaces separate phrases between Chinese words ("合同签了 80万 下周二启动"), not between a Latin
# word and what it goes with ("POC 已完成", "quotation sent").
# "#" stands for a masked customer name (nlu/parser.py): a space beside it separates phrases too.
_CLAUSE_BREAK = re.compile(
    r"[,，。!！?？:：;；、\n\ufffd]+|(?<=[^\x00-\x2f\x3a-\x7f])\s+(?=[\u3400-\u9fff0-9#])|(?<=[0-9#%])\s+(?=[\u3400-\u9fff0-9#])|"
    r"\s+(?=[~¥])|(?<=[\u3400-\u9fff])\s+(?=[A-Za-z])|"
    # After a Latin word a space ends the phrase unless what follows finishes it (POC 完成, quote 发了).
    r"(?<=[A-Za-z])\s+(?=[\u3400-\u9fff]|\d+\s*[月号日/.])(?![\u3400-\u9fff]?(?:完成|结束|做完|通过|已|发|下了|效果|反馈|是|过|跑通|测试|做了|搞定|签|演示|报价))"
)


def is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff"


def normalize(text: str) -> str:
    """Full-width to half-width, no control or zero-width characters, bounded length."""
    text = unicodedata.normalize("NFKC", text[: MAX_CHARS * 2])
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    cleaned = "".join(
        ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    )
    cleaned = _THOUSANDS.sub("", cleaned)  # 350,000 is one number, not two clauses
    return cleaned.replace("\t", " ")[:MAX_CHARS]


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str


def segments(text: str) -> list[Span]:
    """Lines, numbered items and semicolon parts: each usually speaks of its own customer."""
    out: list[Span] = []
    pos = 0
    for m in _SEGMENT_BREAK.finditer(text):
        if m.start() > pos:
            out.append(Span(pos, m.start(), text[pos : m.start()]))
        pos = m.end()
    if pos < len(text):
        out.append(Span(pos, len(text), text[pos:]))
    return [s for s in out if s.text.strip()]


def strip_marker(span: Span) -> Span:
    """Drop a leading list marker (1、 2. ③ (4) 五、) from a segment."""
    m = _LIST_MARKER.match(span.text)
    if not m or m.end() == 0:
        return span
    return Span(span.start + m.end(), span.end, span.text[m.end() :])


# A report's field name: it belongs to the value after it (把握：三成, 【下一步】年底前提交).
_FIELD = re.compile(
    r"[【\[]?(?:成单)?(?:把握|可能性|信心|进展|进度|计划|下一步|下步|明日计划|节后计划|金额|预算|阶段|状态|备注|时间|"
    r"跟进情况|客户反馈|反馈|报价|报价单|合同额|总价|报了|quote|Quote)[】\]]?"
)


def clauses(span: Span) -> list[Span]:
    """Comma-, colon- and space-separated parts; a fact belongs to its clause's action."""
    out = _clauses(span)
    merged: list[Span] = []
    for part in out:
        if merged and _FIELD.fullmatch(merged[-1].text.strip()):
            label = merged.pop()
            part = Span(label.start, part.end, label.text + " " * (part.start - label.end) + part.text)
        merged.append(part)
    return merged


def _clauses(span: Span) -> list[Span]:
    out: list[Span] = []
    pos = 0
    for m in _CLAUSE_BREAK.finditer(span.text):
        if m.start() > pos:
            out.append(Span(span.start + pos, span.start + m.start(), span.text[pos : m.start()]))
        pos = m.end()
    if pos < len(span.text):
        out.append(Span(span.start + pos, span.end, span.text[pos:]))
    return [c for c in out if c.text.strip()]
