"""Numbers as reps write them: Arabic, Chinese numerals, and money with its units."""

from __future__ import annotations

import re
from dataclasses import dataclass

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_SMALL = {"十": 10, "百": 100, "千": 1000}
_BIG = {"万": 10_000, "亿": 100_000_000}
CN_NUM = "零〇一二两三四五六七八九十百千"


def cn_to_int(text: str) -> int | None:
    """一百五十 → 150, 十二 → 12, 两千零五 → 2005, 一二 → 12 (digit by digit); None if not a numeral."""
    if not text or any(ch not in _DIGITS and ch not in _SMALL and ch not in _BIG for ch in text):
        return None
    if all(ch in _DIGITS for ch in text):
        return int("".join(str(_DIGITS[ch]) for ch in text))
    total, section, digit = 0, 0, None
    for ch in text:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
        elif ch in _SMALL:
            section += (1 if digit is None else digit) * _SMALL[ch]
            digit = None
        else:
            section += digit or 0
            total += (section or 1) * _BIG[ch]
            section, digit = 0, None
    return total + section + (digit or 0)


def to_number(text: str) -> float | None:
    """An Arabic (with thousands commas) or Chinese number."""
    text = text.replace(",", "")
    try:
        return float(text)
    except ValueError:
        value = cn_to_int(text)
        return None if value is None else float(value)


_UNIT = {"亿": 1e8, "千万": 1e7, "百万": 1e6, "十万": 1e5, "万": 1e4, "w": 1e4, "千": 1e3, "k": 1e3, "元": 1, "块": 1}
_MONEY_WORDS = (
    "金额|预算|报价|价格|总价|合同额|合同金额|总额|规模|单价|费用|成交价|标的|价钱|价|deal|"
    "报了|报|还价到|压到|降到|控制在"
)
AMOUNT = re.compile(
    r"(?P<pre>[¥$]|rmb|RMB|人民币)?\s*"
    r"(?P<num>\d+(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|[" + CN_NUM + r"]+)\s*"
    r"(?P<approx>来|多|余)?\s*"
    r"(?P<unit>千万|百万|十万|亿|万|[wWkK](?![a-zA-Z])|千|元|块)?"
    r"(?P<unit2>元|块|人民币)?"
    r"(?P<after>\s*(?:左右|上下|出头|多))?"
)
_NOT_MONEY_AFTER = re.compile(
    r"\s*(?:%|％|个点|折|倍|成(?!交|单|了)|天|日|号|周|个月|月|年|人|个|家|次|台|套|件|吨|平|公里|条|份|张|期|小时|分钟|点|号线|楼|层|岁|届|轮|款|站|座|辆|只|名|位|级|项|万人|万用户|度|斤|米|克|户|用户|员工|人次|字|行|辆车)"
)
_CONTEXT_BEFORE = re.compile(r"(?:" + _MONEY_WORDS + r")\s*(?:是|为|约|大约|大概|在|:)?\s*$", re.IGNORECASE)
_DEPOSIT_BEFORE = re.compile(r"(?:首付|首款|定金|订金|预付|回款|尾款|押金|付了|付款|已付)\s*$")


@dataclass(frozen=True)
class Amount:
    start: int
    end: int
    yuan: float
    partial: bool  # a deposit or payment, not the deal's size


def find_amounts(text: str) -> list[Amount]:
    """Money mentioned in ``text``: with a unit, a currency sign, or after a money word."""
    out: list[Amount] = []
    for m in AMOUNT.finditer(text):
        num = m["num"]
        if not num or (m["unit"] is None and m["pre"] is None and m["unit2"] is None and not _money_context(text, m)):
            continue
        if m.start("num") > 0 and (text[m.start("num") - 1].isdigit() or text[m.start("num") - 1] in ".-/:"):
            continue
        unit = (m["unit"] or "").lower()
        after = text[m.end() :]
        if _NOT_MONEY_AFTER.match(after) and unit not in ("元", "块") and not m["unit2"]:
            continue
        if num[0] in CN_NUM and not unit and not m["unit2"]:
            continue  # a bare Chinese numeral is a count, not money
        if num in ("十", "百", "千") and not unit:
            continue
        value = to_number(num)
        if value is None or value == 0:
            continue
        if unit == "千" and num[-1] in "十百千":
            continue
        yuan = value * _UNIT.get(unit, 1)
        if yuan < 100 and not unit:
            continue
        partial = bool(_DEPOSIT_BEFORE.search(text[max(0, m.start() - 4) : m.start()]))
        start = m.start("pre") if m["pre"] else m.start("num")
        out.append(Amount(start, m.end(), round(yuan, 2), partial))
    return out


def _money_context(text: str, m: re.Match[str]) -> bool:
    before = text[max(0, m.start() - 8) : m.start()]
    if _CONTEXT_BEFORE.search(before):
        return True
    return bool(
        re.search(r"[~约]\s*$", before) and re.search(r"(?:deal|预算|金额)", text[max(0, m.start() - 12) : m.start()])
    )
