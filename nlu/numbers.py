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


_UNIT = {
    "亿": 1e8,
    "个亿": 1e8,
    "千万": 1e7,
    "百万": 1e6,
    "十万": 1e5,
    "万": 1e4,
    "w": 1e4,
    "千": 1e3,
    "k": 1e3,
    "m": 1e6,
    "元": 1,
    "块": 1,
}
_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|[" + CN_NUM + r"]+"
AMOUNT = re.compile(
    r"(?P<pre>[¥￥$]|rmb|RMB|人民币)?\s*"
    r"(?P<num>" + _NUM + r")"
    r"(?:\s*(?:[-~～到至]|或)\s*(?P<num2>" + _NUM + r"))?\s*"
    r"(?P<approx>来|多|余)?\s*"
    r"(?P<unit>千万|百万|十万|个亿|亿|万|[wWkKmM](?![a-zA-Z])|千|元|块)?"
    r"(?P<tail>(?<=[万千wWkK])\d(?![\d.]))?"
    r"(?P<unit2>元|块|人民币)?"
    r"(?P<after>\s*(?:左右|上下|出头|多|以上|以内))?"
)
# Right after a number: it counts things, or is a share, not money.
_NOT_MONEY_AFTER = re.compile(
    r"(?:%|％|个点|折|倍|成(?!交|单|了)|天|日|号|周|个月|月|年|人|个|家|次|台|套|件|吨|平|公里|条|份|张|期|小时|分钟|点|"
    r"号线|楼|层|岁|届|轮|款|站|座|辆|只|名|位|级|项|万人|万用户|度|斤|米|克|户|用户|员工|人次|字|行|辆车|G\b|T\b)"
)
_UNIT_THINGS = re.compile(r"(?:人|用户|台|套|件|吨|平|个|家|户|次|元/|字)")
_MONEY_WORDS = (
    "金额|预算|报价|价格|总价|合同额|合同金额|总额|规模|单价|费用|成交价|标的|价钱|价|deal|"
    "报了|报|还价到|还到|压到|降到|砍到|给到|出到|控制在|谈到|定在"
)
_CONTEXT_BEFORE = re.compile(r"(?:" + _MONEY_WORDS + r")\s*(?:是|为|约|大约|大概|在|:)?\s*$", re.IGNORECASE)
# Said of a price the other side answers with: a bare number takes the unit of the amount before it.
_ANSWER_BEFORE = re.compile(r"(?:还价?到|还价|压到|压价到|降到|砍到|给到|出到|谈到|让到|最多|最低|只给|只肯出)\s*$")
_DEPOSIT_BEFORE = re.compile(
    r"(?:首付款?|首款|定金|订金|预付款?|回款|尾款|押金|付了|付款|已付|打款|到账|款)\s*(?:了|是|为|共|已|到了|到账)?\s*$"
)
_PAYMENT_NEAR = re.compile(r"首付|首款|定金|订金|预付|回款|尾款|押金|到账|款到|打款|付款")
_DEPOSIT_AFTER = re.compile(r"^(?:已?到账|到了|已到|已付|打过来了?)")
# Not the deal's size: a per-period or unit price, a vague size (几十万, 上百万).
_NOT_DEAL_BEFORE = re.compile(
    r"(?:每月|每年|每个月|每季度?|月费|年费|月租|单价|一套|每套|每台|每人|/月|上|好几|几|数|近)\s*$"
)
_NOT_DEAL_AFTER = re.compile(r"^\s*(?:/月|/年|每月|每年|一个月|一年|/套|/台|/人|一套|一台)")


@dataclass(frozen=True)
class Amount:
    start: int
    end: int
    yuan: float
    partial: bool  # a deposit or payment, not the deal's size
    unit: float = 1.0  # the unit it was written in (for a bare number after it)
    bare: bool = False  # no unit or sign: a number that may inherit the unit before it


_PAIR = re.compile(r"([一二三四五六七八九])[一二三四五六七八九](?=[十百千万])")


def _lower_of_pair(num: str) -> str:
    """五六十 → 五十, 一百二三十 → 一百二十 (a range said as two neighbouring digits: its lower end)."""
    return _PAIR.sub(r"\1", num, count=1)


def find_amounts(text: str) -> list[Amount]:
    """Money mentioned in ``text``: with a unit, a currency sign, or after a money word.

    A range is its lower end; 12万8 is 128000; a bare number after 还到/压到 inherits the unit of
    the amount before it (报价165w 对方压到150 → 1500000).
    """
    out: list[Amount] = []
    last_unit: float | None = None
    for m in AMOUNT.finditer(text):
        num = m["num"]
        if not num:
            continue
        if m.start("num") > 0 and (text[m.start("num") - 1].isdigit() or text[m.start("num") - 1] in ".-/:"):
            continue
        unit = (m["unit"] or "").lower()
        sign = bool(m["pre"] or m["unit2"])
        before = text[max(0, m.start() - 8) : m.start()]
        end = m.start() + len(m.group(0).rstrip())
        after = text[end:]  # right after the figure: 3周 is no money, "3600000 年底" is
        if not unit and not sign:
            inherit = bool(_ANSWER_BEFORE.search(before)) and last_unit is not None
            if not inherit and not _CONTEXT_BEFORE.search(before):
                continue
            if _NOT_MONEY_AFTER.match(after) or (num[0] in CN_NUM and not inherit):
                continue
        elif unit not in ("元", "块") and not m["unit2"] and _NOT_MONEY_AFTER.match(after) and unit in ("", "千"):
            continue
        if unit in ("万", "亿", "w") and _UNIT_THINGS.match(after):
            continue  # 5万台, 10万用户
        if num in ("十", "百", "千") and not unit:
            continue
        num = _lower_of_pair(num)
        value = to_number(num)
        if value is None or value == 0:
            continue
        if unit == "千" and num[-1] in "十百千":
            continue
        scale = _UNIT.get(unit, 1.0)
        if not unit and not sign and _ANSWER_BEFORE.search(before) and last_unit is not None:
            scale = last_unit
        yuan = value * scale
        if m["tail"]:
            yuan += int(m["tail"]) * scale / 10  # 12万8
        if yuan < 100 and not unit and not sign:
            continue
        if _NOT_DEAL_BEFORE.search(text[max(0, m.start() - 3) : m.start("num")]) or _NOT_DEAL_AFTER.match(after):
            continue
        near = re.split(r"[,，。;；\n]", text[max(0, m.start() - 10) : m.start()])[-1]
        partial = bool(
            _DEPOSIT_BEFORE.search(text[max(0, m.start() - 6) : m.start()])
            or _DEPOSIT_AFTER.match(after)
            or _PAYMENT_NEAR.search(near)  # 回款到了💰 50w: money received, not the deal
        )
        start = m.start("pre") if m["pre"] else m.start("num")
        out.append(Amount(start, end, round(yuan, 2), partial, scale, not unit and not sign))
        last_unit = scale
    return out
