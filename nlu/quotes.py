"""Reading a request for a quote (报价单), as documented in ``docs/nlu-quotes.md``.

``asks_for_quote`` tells a request (给瑞达出个报价, 帮我做一份报价单) from a brief that reports one (报价已发,
给瑞达报了价); ``read_request`` reads its lines against the price list, its discount, validity and payment terms.
Products are found by code, name or short name; what fits several products, or none, comes back to be asked about.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from nlu.numbers import CN_NUM, cn_to_int
from nlu.text import normalize

# A request, not a report: the message opens with the ask (请/帮我/给瑞达/出个…) and a verb that makes a quote
# (出/做/开/生成/拉/起草), or 报个价; or it is headed 报价单: with its lines. A brief that plans one (下周一出报价)
# opens with the customer or the day, and a past tense (报了价, 发了报价, 报价已发) is never a request.
_VERB = (
    r"(?:出|做|开|生成|拉|起草|制作|准备|弄|整|来)(?:一?[个份张版]|一下)?(?:新的?|正式的?)?报价(?:单|表)?(?!了|过|已)"
    r"|报(?:个|一下|一个)价(?!了)|(?:重新|再)报(?:个|一次)?价(?!了)|(?:改|修改|更新)(?:一下)?报价(?!了|过|已)"
)
_PLEASE = r"(?:请|麻烦|帮我|帮忙|帮|你|重新|再|马上|赶紧|尽快)*+"  # possessive: a wall of 请 is read once
_VERB_ASK = re.compile(rf"^{_PLEASE}(?:[给为替][^\s,:。!?]{{1,40}}?)?{_PLEASE}(?:{_VERB})")
_HEADED = re.compile(rf"^{_PLEASE}(?:[给为替])?[^\s,:。!?]{{0,40}}?的?报价单?\s*:\s*\S")
_PAST = re.compile(
    r"报(?:了|过)价|报价(?:已|了|过)|(?:发了|发过|给了|出了|做了)(?:一?[个份张版])?报价"
    r"|报价单?(?:的事|的事情|这件事|那件事)|(?:已经?|刚)(?:发送|发出|发过去|确认|接受|同意|签)|接受了|再说"
)
# 把瑞达最新报价再发我 / 重发瑞达的报价 / 瑞达的报价单发我一下
RESEND = re.compile(
    r"^(?:请|麻烦)?(?:把|将)?(?P<who>[^\s,,。!！?？]{2,40}?)的?(?:最新的?|上次的?|刚才的?)?(?:那份|那个)?报价(?:单)?"
    r"(?:的?(?:pdf|PDF|excel|Excel|xlsx|表格))?(?:再|重新)?(?:发|给|传)(?:给)?我(?:一下|一份|一次)?[。!！]*$"
    r"|^(?:请|麻烦)?(?:再|重新)(?:发|给)(?:我)?(?:一下|一份)?(?P<who2>[^\s,,。!！?？]{2,40}?)的?(?:最新的?)?报价(?:单)?[。!！]*$"
)
# 批准 Q-2026-0001 / 驳回 Q-2026-0001 折扣太大 (typed where a platform has no buttons)
DECISION = re.compile(
    r"^(?P<verb>批准|同意|通过|驳回|拒绝|不同意)\s*(?:报价)?\s*(?P<number>Q-\d{4}-\d{4,})(?:\s*(?:第|v|V)?(?P<version>\d+)版?)?"
    r"[\s,,:：。]*(?P<reason>.*)$",
    re.S,
)

_NUM = rf"\d+(?:\.\d+)?(?:万|千)?|[{CN_NUM}万]+|半"
_UNIT_WORDS = (
    "个月 人天 人月 个用户 台 套 个 件 年 月 天 次 项 份 块 张 箱 批 用户 人 "
    "站点 点 路 只 支 部 组 把 米 吨 公斤 kg 间 层 期 课时 节 license License"
)
_UNITS = "|".join(sorted(_UNIT_WORDS.split(), key=len, reverse=True))  # 个月 before 个
# 10台 / 10 套 / x10 / ×10 / *10 / 改成2台 / 各两台 / 一年半
_CHANGE = r"(?:改成|改为|改到|调成|调整为|调到|增加到|减少到|改|要|共|一共|各|每样|都)?"
_QTY_AFTER = re.compile(
    rf"^\s*{_CHANGE}\s*(?:[x×X*]\s*(?P<n1>{_NUM})\s*(?P<u1>{_UNITS})?|(?P<n2>{_NUM})\s*(?P<u2>{_UNITS}))(?P<half>半)?"
)
_QTY_BEFORE = re.compile(rf"(?P<n>{_NUM})\s*(?P<u>{_UNITS})(?P<half>半)?\s*(?:的)?\s*$")
_EACH = re.compile(rf"各\s*(?P<n>{_NUM})\s*(?P<u>{_UNITS})?")
_QTY_ALONE = re.compile(
    rf"{_CHANGE}\s*(?:[x×X*]\s*)?(?<![\d.A-Za-z])(?:(?P<n>\d+(?:\.\d+)?(?:万|千)?)(?![\d.A-Za-z])\s*(?P<u>{_UNITS})?"
    rf"|(?P<cn>[{CN_NUM}万]+|半)\s*(?P<cu>{_UNITS}))(?P<half>半)?"
)

# 九折, 打85折, 8.5折, 九五折, 打个九折
_RATE = re.compile(r"打?(?:个)?(?P<n>\d{1,2}(?:\.\d)?|[一二三四五六七八九][一二三四五六七八九五]?)\s*折")
# 优惠10%, 让利 5%, 降价百分之十, 折扣10% (off)
_PERCENT_OFF = re.compile(
    r"(?:优惠|让利|降价|降|折让|折扣|便宜|少收)\s*(?:了)?\s*(?:(?P<p>\d+(?:\.\d+)?)\s*[%％]|百分之(?P<cn>[一二三四五六七八九十两零]+))"
)
# 减2万, 优惠5000元, 让利3万, 便宜两万块, 直降1万
_AMOUNT_OFF = re.compile(
    rf"(?:减|减免|优惠|让利|直降|便宜|少收|抹)\s*(?:了)?\s*(?P<n>\d+(?:\.\d+)?|[{CN_NUM}]+)\s*(?P<u>万|千|k|w|元|块)?(?![%％\d])"
)
# 有效期一个月 / 有效期30天 / 两周内有效 / 有效期至2027-01-31
_VALID = re.compile(
    rf"有效期(?:为|是)?\s*(?P<n>{_NUM}|半)\s*(?P<u>个月|月|天|日|周|星期|个星期|年)"
    rf"|(?P<n2>{_NUM}|半)\s*(?P<u2>个月|月|天|日|周|星期|个星期)(?:内)?有效"
    r"|有效期(?:至|到)\s*(?P<y>\d{4})[-/.年](?P<m>\d{1,2})[-/.月](?P<d>\d{1,2})日?"
)
_PAYMENT = re.compile(
    r"(?:付款方式|付款条件|付款|结算方式|账期)\s*[:：]?\s*(?P<terms>[^。\n]+)"
    r"|(?P<terms2>(?:预付|首付|货到付款|款到发货|月结|验收后付|分期)[^。\n]*)"
)
_TRIGGER_HEAD = re.compile(
    r"^.*?(?:报价单?|报(?:个|一下|一个)价)\s*[:：,]?\s*(?:(?:包括|包含|内容|明细|如下)\s*[:：]?\s*)?"
)
_SEGMENT = re.compile(r"[,;\n]|(?<!\d)\.(?!\d)")
_JOIN = re.compile(r"[、+]|和|以及|另加|外加|加上|再加|还有|另外|及|跟")
_FILLER = re.compile(
    r"^(?:[\s:]|给|为|替|再|另|还要|要|需要|含|包括|包含|共|一共|加|的|是)+|(?:[\s:]|的|吧|哈|呀|啊)+$"
)
# words around the items that are no item (总价减5万, 报价有效期…, 其余不变, 谢谢)
_NOT_ITEM = re.compile(
    r"总价|整单|合计|报价|价格|折扣|优惠|改成|改为|其余不变|其他不变|其它不变|不变|谢谢|辛苦|尽快|马上|今天|明天|客户要|客户|一下|发我|发给我|给我|发一下|^个|"
    r"[\s:,。!?~]"
)


@dataclass(frozen=True)
class Item:
    """A product the price list knows, as the catalog sees it."""

    code: str
    name: str
    unit: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Line:
    """A line of the request: the product (or the ones it may be), the quantity and the words written."""

    words: str
    quantity: Decimal
    unit: str | None
    code: str | None = None  # one product
    options: tuple[str, ...] = ()  # several fit: ask which


@dataclass
class Request:
    lines: list[Line] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # item words no product fits
    rate: Decimal | None = None  # 九折: 0.9 paid
    off: Decimal | None = None  # yuan off
    valid_days: int | None = None
    valid_until: tuple[int, int, int] | None = None
    payment_terms: str | None = None
    problems: list[str] = field(default_factory=list)  # what could not be read: nothing is made until it is fixed
    amends: bool = False  # 改成5台, 其余不变: a change to the last version, not a whole new list
    removed: list[str] = field(default_factory=list)  # codes taken out of the last version (去掉实施服务)


def asks_for_quote(text: str) -> bool:
    """A request for a quote document, not a brief that says one was sent (the ask opens the message: only its
    first lines are looked at). A 报价单: heading asks only when items with quantities follow (A型 5台, x10): a
    brief may be headed so too (报价:瑞达 120万,对方还价100万)."""
    text = normalize(text[:400]).strip()
    if _PAST.search(text) or RESEND.match(text) is not None:
        return False
    return _VERB_ASK.search(text) is not None or (_HEADED.search(text) is not None and _ITEMS.search(text) is not None)


def headed_only(text: str) -> bool:
    """Asked only by a 报价单: heading, without a verb that makes one (给瑞达出个报价): when no product is read
    after it, the message is a brief about a quote (瑞达报价单:客户接受了), not a request."""
    return _VERB_ASK.search(normalize(text[:400]).strip()) is None


class Catalog:
    """The price list's names, codes and short names, for finding the products in a request."""

    def __init__(self, items: Sequence[Item]) -> None:
        self.items = {i.code: i for i in items}
        forms: dict[str, set[str]] = {}
        for i in items:
            for form in (i.code, i.name, *i.aliases):
                key = _fold(form)
                if len(key) >= 1:
                    forms.setdefault(key, set()).add(i.code)
        self.forms = forms
        self._by_length = sorted(forms, key=len, reverse=True)

    def fits(self, words: str) -> tuple[str, ...]:
        """The codes a written item fits: an exact code, name or short name; else the longest form inside the words;
        else the products whose name holds the words (A型 → A型设备, A型配件)."""
        key = _fold(words)
        if not key:
            return ()
        if key in self.forms:
            return tuple(sorted(self.forms[key]))
        inside = [f for f in self._by_length if len(f) >= 2 and f in key]
        if inside:
            longest = [f for f in inside if len(f) == len(inside[0])]
            return tuple(sorted({c for f in longest for c in self.forms[f]}))
        if len(key) >= 2 or key.isascii():
            return tuple(sorted({c for f, codes in self.forms.items() if key in f for c in codes}))
        return ()


def _fold(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


def _number(text: str) -> Decimal | None:
    """10, 2.5, 1.2万, 三千, 一万, 半."""
    if text == "半":
        return Decimal("0.5")
    scale = 1
    if text[-1:] in ("万", "千") and text[:-1] and text[:-1].replace(".", "", 1).isdigit():
        scale, text = (10_000 if text[-1] == "万" else 1_000), text[:-1]
    try:
        return Decimal(text) * scale
    except ArithmeticError:
        value = cn_to_int(text)
        return None if value is None else Decimal(value)


def _rate(text: str) -> Decimal | None:
    """九 → 0.9, 85 → 0.85, 8.5 → 0.85, 九五 → 0.95, 10 (十折: the full price) → 1."""
    digits = "".join(str(cn_to_int(ch)) if not ch.isdigit() and ch != "." else ch for ch in text)
    if digits in ("10", "10.0"):
        return Decimal(1)
    try:
        value = Decimal(digits)
    except ArithmeticError:
        return None
    if "." in digits:
        value /= 10
    elif len(digits) == 1:
        value /= 10
    else:
        value /= 100
    return value if Decimal("0.1") <= value < 1 else None


_NEGATIVE = re.compile(rf"[-负]\s*\d+(?:\.\d+)?\s*(?:{_UNITS})")  # A型设备-5台
MAX_QUANTITY = 10_000_000  # of one line: beyond it a typo, not an order
_ITEMS = re.compile(rf"(?:\d+(?:\.\d+)?|[{CN_NUM}]+)\s*(?:{_UNITS})|[x×*]\s*\d")  # 5台, 两年, x10
_REMOVE = re.compile(r"(?:去掉|删掉|删除|拿掉|减掉|不要了?)\s*(?P<what>[^,;。\n]{1,30})")
_AMEND = re.compile(r"改成|改为|改到|改一下|修改|调整|其余不变|其他不变|其它不变|别的不变|其余照旧|其他照旧")
MAX_REQUEST = 1000  # characters: a quote request is a few lines; longer text is refused, never slowly read


def read_request(text: str, catalog: Catalog, *, customer: str | None = None) -> Request:
    """The lines, discount, validity and payment terms of a request; ``customer`` (the words naming the customer)
    is taken out before the lines are read. What cannot be read (a zero quantity, 优惠100%, two discounts at once)
    is listed in ``problems``: a quote is never made by guessing."""
    text = normalize(text)[:MAX_REQUEST]
    out = Request()
    spans: list[tuple[int, int]] = []

    def take(match: re.Match[str]) -> None:
        spans.append(match.span())

    if (v := _VALID.search(text)) is not None:
        if v["y"]:
            out.valid_until = (int(v["y"]), int(v["m"]), int(v["d"]))
        else:
            n, unit = _number(v["n"] or v["n2"]), v["u"] or v["u2"]
            per = {"天": 1, "日": 1, "周": 7, "星期": 7, "个星期": 7, "个月": 30, "月": 30, "年": 365}[unit]
            out.valid_days = int(n * per) if n else None
            if not out.valid_days:
                out.problems.append(f"有效期「{v.group(0)}」要大于 0 天")
        take(v)
    _discounts(text, out, take)
    _payment(text, catalog, out, spans)
    for drop in _REMOVE.finditer(text):  # 去掉实施服务: a line of the last version taken out
        codes = catalog.fits(drop["what"])
        if len(codes) == 1:
            out.removed.append(codes[0])
        else:
            out.problems.append(f"「{drop.group(0)}」" + ("对应多个产品,请写全称" if codes else "在价目表里没找到"))
        spans.append(drop.span())
    out.amends = _AMEND.search(text) is not None or bool(out.removed)
    masked = list(text)
    for s, e in spans:
        masked[s:e] = " " * (e - s)
    body = "".join(masked)
    head = _TRIGGER_HEAD.match(body)
    if head is not None:
        body = body[head.end() :]
    if customer:
        body = body.replace(customer, " ", 1)
    for segment in _SEGMENT.split(body):
        parts = [p for joined in _JOIN.split(segment) for p in _pieces(joined, catalog)]
        first = len(out.lines)
        for part in parts:
            _item(part.strip(), catalog, out)
        each = _EACH.search(segment)
        if each is not None and (n := _number(each["n"])) is not None:  # A型设备和X5服务器各两台
            for i in range(first, len(out.lines)):
                line = out.lines[i]
                out.lines[i] = Line(line.words, n, each["u"] or line.unit, line.code, line.options)
    return out


def _inside(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(s <= span[0] < e for s, e in spans)


def _discounts(text: str, out: Request, take: Callable[[re.Match[str]], None]) -> None:
    """One discount: a rate (九折, 优惠10%) or an amount (减2万). 10折 and 优惠0% mean none; 优惠100%, a rate that
    cannot be read and two discounts at once are problems."""
    found: list[tuple[re.Match[str], Decimal | None, Decimal | None]] = []
    for r in _PERCENT_OFF.finditer(text):
        share = Decimal(r["p"]) if r["p"] else Decimal(cn_to_int(r["cn"]) or 0)
        found.append((r, 1 - share / 100 if Decimal(0) <= share < 100 else None, None))
    for r in _RATE.finditer(text):
        found.append((r, _rate(r["n"]), None))
    for a in _AMOUNT_OFF.finditer(text):
        if any(m.start() <= a.start() < m.end() for m, _, _ in found):
            continue  # 优惠10% is a rate, not an amount
        n = _number(a["n"])
        scale = {"万": 10_000, "w": 10_000, "千": 1_000, "k": 1_000}.get(a["u"] or "", 1)
        found.append((a, None, n * scale if n is not None else None))
    for match, _, _ in found:
        take(match)
    if len(found) > 1:
        out.problems.append("一次只能用一种折扣:" + "、".join(m.group(0).strip() for m, _, _ in found))
        return
    if found:
        match, rate, off = found[0]
        if (rate is None and off is None) or (off is not None and off <= 0):
            out.problems.append(f"折扣「{match.group(0).strip()}」看不懂")
        elif rate is not None and rate < 1:
            out.rate = rate
        elif off is not None:
            out.off = off


_TERMS = re.compile(r"\d+(?:\.\d+)?\s*%|百分之|付|款|验收|月结|账期|到货|发货|签约|合同|分期|尾款|首付|预付|\d+\s*天")


def _payment(text: str, catalog: Catalog, out: Request, spans: list[tuple[int, int]]) -> None:
    """The payment terms: from their keyword to the end of the sentence, clause by clause while a clause reads as
    terms (a share, 付, 款, 验收, 月结…) and holds no product, discount or validity."""
    p = _PAYMENT.search(text)
    if p is None or _inside(p.span(), spans):
        return
    start = p.start("terms") if p["terms"] is not None else p.start("terms2")
    end = start
    for clause in re.finditer(r"[^,;。\n]+", text[start:]):
        c_start, c_end = start + clause.start(), start + clause.end()
        words = clause.group(0)
        if c_start != start and (not _TERMS.search(words) or catalog.fits(words) or _inside((c_start, c_end), spans)):
            break
        if _inside((c_start, c_end), spans):
            break
        end = c_end
    terms = text[start:end].strip(" ,;。:")
    if terms:
        out.payment_terms = terms
        spans.append((p.start(), end))


def _pieces(segment: str, catalog: Catalog) -> list[str]:
    """A segment that names several products without commas (A100 x 20 M12 x 3, 设备 10台 维保 1年) cut before each
    product after the first, and before a quantity written just ahead of it (10台A型设备)."""
    key = segment.lower()
    taken: list[tuple[int, int]] = []
    for form in catalog._by_length:
        if len(form) < 2 and not form.isascii():
            continue
        at = key.find(form)
        while at >= 0:
            end = at + len(form)
            free = all(end <= s or at >= e for s, e in taken)
            edge = not (
                form.isascii()
                and (
                    (at and key[at - 1].isalnum() and key[at - 1].isascii())
                    or (end < len(key) and key[end].isalnum() and key[end].isascii())
                )
            )
            if free and edge:
                taken.append((at, end))
            at = key.find(form, end)
    cuts: list[int] = []
    for start, end in sorted(taken):
        ahead = _QTY_BEFORE.search(segment[:start])
        behind = _QTY_AFTER.match(segment[end:])  # its own quantity after it: the one ahead is the previous item's
        cut = ahead.start() if ahead is not None and behind is None else start
        if segment[:cut].strip() and (not cuts or cut > cuts[-1]):
            cuts.append(cut)
    bounds = [0, *cuts, len(segment)]
    return [segment[i:j] for i, j in itertools.pairwise(bounds) if segment[i:j].strip()]


def _quantity(n: str | None, half: str | None) -> Decimal | None:
    value = _number(n) if n else None
    if value is not None and half:
        value += Decimal("0.5")
    return value


def _item(part: str, catalog: Catalog, out: Request) -> None:
    """One written item: its product(s) and quantity; words that are no item (好的, 总价, 谢谢) are left alone."""
    part = _FILLER.sub("", part).strip()
    if not part:
        return
    codes = catalog.fits(part)
    quantity: Decimal | None = None
    unit: str | None = None
    form = _matched_form(part, codes, catalog) if codes else None
    if form is not None:  # the product's own words are not a quantity (A100型): it is before or after them
        start = _fold(part).find(form)
        before, after = _unfold_split(part, start, len(form))
        if (q := _QTY_AFTER.match(after)) is not None:
            quantity, unit = _quantity(q["n1"] or q["n2"], q["half"]), q["u1"] or q["u2"]
        elif (b := _QTY_BEFORE.search(before)) is not None:
            quantity, unit = _quantity(b["n"], b["half"]), b["u"]
    elif not codes or len(codes) > 1:
        q = _QTY_ALONE.search(part)
        words = _FILLER.sub("", (part[: q.start()] + part[q.end() :])).strip() if q is not None else part
        again = catalog.fits(words) if q is not None else codes
        if again:
            codes = again
            if q is not None:
                quantity, unit = _quantity(q["n"] or q["cn"], q["half"]), q["u"] or q["cu"]
        elif q is not None or _NOT_ITEM.sub("", words):
            out.unknown.append(part)  # an item no product fits
            return
        else:
            return
    if (quantity is not None and not 0 < quantity <= MAX_QUANTITY) or _NEGATIVE.search(part):
        out.problems.append(f"「{part}」的数量要是大于 0、不超过 {MAX_QUANTITY:,} 的数")
        return
    amount = quantity if quantity is not None else Decimal(1)
    if unit in ("个月", "月") and len(codes) == 1 and catalog.items[codes[0]].unit == "年":
        amount, unit = amount / 12, "年"
    if len(codes) == 1:
        out.lines.append(Line(part, amount, unit, code=codes[0]))
    else:
        out.lines.append(Line(part, amount, unit, options=codes))


def _matched_form(part: str, codes: tuple[str, ...], catalog: Catalog) -> str | None:
    key = _fold(part)
    forms = [f for f in catalog._by_length if f in key and set(catalog.forms[f]) & set(codes)]
    return forms[0] if forms else None


def _unfold_split(part: str, start: int, length: int) -> tuple[str, str]:
    """The text before and after a folded match (spaces removed, lower case) in the original words."""
    index, seen = [], 0
    for i, ch in enumerate(part):
        if not ch.isspace():
            index.append(i)
            seen += 1
    if start >= len(index):
        return part, ""
    first = index[start]
    last = index[min(start + length, len(index)) - 1] + 1
    return part[:first], part[last:]
