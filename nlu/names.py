"""The name model: what a company name as a CRM holds it is made of, and which written forms fit it.

A canonical name is read as ``[places] brand [trades] [(place)] [legal suffix]``:

    江苏省常州市武进区 | 恒润 | 纺织 机械 | 有限公司
    安澜 | 保险 经纪 | （上海） | 有限公司
    Nordlicht | Optics | (苏州) | 有限公司

A rep names the company by its brand, with any of its trades, the trades' initials (纺织机械 → 纺机)
or a shorter trade word (医疗器械 → 医疗, 国际货运代理 → 货运), with or without its places; a
four-character brand may be cut to half when a trade follows (草原牧歌乳业 → 牧歌乳业). A written
place that the company does not have makes it another company (nlu/geo.conflicts).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from nlu import geo
from nlu.lexicon import INDUSTRY_SYNONYMS, INDUSTRY_WORDS, LEGAL_SUFFIXES

_TRADE_LENGTHS = sorted({len(w) for w in INDUSTRY_WORDS}, reverse=True)
_PLACE_FORMS = geo.written_forms()
_PLACE_LENGTHS = sorted({len(f) for f in _PLACE_FORMS}, reverse=True)


_Trie = dict[str, "_Trie"]


def _trie(forms: dict[str, str]) -> _Trie:
    """The forms by character, "" marking where one ends: the longest form at a position in one walk, where
    trying every form length in turn cost a quarter of building a large customer index."""
    root: _Trie = {}
    for form in forms:
        node = root
        for ch in form:
            node = node.setdefault(ch, {})
        node[""] = {}
    return root


_PLACE_TRIE = _trie(_PLACE_FORMS)
_ZONES: dict[str, tuple[str, ...]] = {}  # the bare zones (工业园区) by first character, in their order
for _zone in geo.BARE_ZONES:
    _ZONES[_zone[0]] = (*_ZONES.get(_zone[0], ()), _zone)


def _place_end(text: str, pos: int) -> int | None:
    """Where the longest place form written at ``pos`` ends, if one is."""
    node, end = _PLACE_TRIE, None
    for i in range(pos, len(text)):
        step = node.get(text[i])
        if step is None:
            break
        node = step
        if "" in node:
            end = i + 1
    return end


_BRACKET = re.compile(r"\s*[(（]([^()（）]{1,20})[)）]\s*")
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9&'.\-]*")
_UNKNOWN_DISTRICT = re.compile(r"([\u4e00-\u9fff]{2,3}?)(新区|区|县|镇|市|旗)|([\u4e00-\u9fff])(县)")
_LEGAL_LATIN = re.compile(r"[\s,]*(?:co\.?,?\s*ltd\.?|ltd\.?|inc\.?|llc|gmbh|corp\.?|limited)\s*$", re.IGNORECASE)


def _cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff"


@dataclass(frozen=True)
class Name:
    """One canonical name taken apart."""

    canonical: str
    places: tuple[tuple[str, int], ...]  # (place, level) as the name has them
    brand: str  # the distinctive part: 恒润, 百草堂, 草原牧歌; '' for a Latin-only name
    trades: tuple[str, ...]  # 纺织, 机械
    latin: tuple[str, ...] = ()  # Latin brand words, lower case: ('nordlicht',)
    alternatives: tuple[str, ...] = ()  # when no trade is known: the first three characters too

    @property
    def place_levels(self) -> dict[str, int]:
        return dict(self.places)

    @property
    def trade_text(self) -> str:
        return "".join(self.trades)

    def parts(self) -> tuple[str, ...]:
        """Halves of a long brand that reps write with a trade after them (草原牧歌 → 牧歌)."""
        b = self.brand
        if len(b) < 4 or not all(_cjk(ch) for ch in b):
            return ()
        out = {b[-2:], b[:2]}
        if len(b) >= 5:
            out |= {b[-3:], b[:3]}
        return tuple(sorted(out))


_LEGAL_END = re.compile(
    "(?:" + "|".join(re.escape(s) for s in sorted(LEGAL_SUFFIXES, key=len, reverse=True)) + r")\s*$", re.IGNORECASE
)


def strip_legal(text: str) -> str:
    """Without 有限公司, 股份有限公司, 集团, Co., Ltd. and the like at the end."""
    while True:
        tail = text.rstrip()[-1:]  # a Latin suffix ends in a letter or a dot: most names need no search for one
        latin = _LEGAL_LATIN.search(text) if tail.isascii() and (tail.isalpha() or tail == ".") else None
        if latin and latin.start() > 0:
            text = text[: latin.start()].rstrip()
            continue
        m = _LEGAL_END.search(text, max(0, len(text) - 12))
        if m is None or m.start() < 2:
            return text
        text = text[: m.start()].rstrip()


def _bracket_place(content: str) -> str | None:
    content = content.strip()
    low = content.lower().replace(" ", "")
    if low in geo.PINYIN_PLACES:
        return geo.PINYIN_PLACES[low] or ""
    return _PLACE_FORMS.get(content)


def leading_places(text: str, start: int = 0) -> list[tuple[int, int, str]]:
    """Places written one after another from ``start``: (start, end, place) each."""
    out: list[tuple[int, int, str]] = []
    pos = start
    while pos < len(text):
        end = _place_end(text, pos)
        hit = None if end is None else (pos, end, _PLACE_FORMS[text[pos:end]])
        if hit is None and out:
            m = _UNKNOWN_DISTRICT.match(text, pos)
            zone = next((z for z in _ZONES.get(text[pos], ()) if text.startswith(z, pos)), None)
            if zone:
                hit = (pos, pos + len(zone), zone)
            elif m and len(text) - m.end() >= 2:
                hit = (pos, m.end(), m.group(1) or m.group(3) + m.group(4))
        if hit is None:
            break
        out.append(hit)
        pos = hit[1]
    return out


def places_before(text: str, end: int) -> list[tuple[int, int, str]]:
    """Places written right before ``end`` (常州市武进区 before 恒润), nearest last."""
    out: list[tuple[int, int, str]] = []
    pos = end
    while pos > 0:
        hit = None
        for size in _PLACE_LENGTHS:
            if size > pos:
                continue
            form = text[pos - size : pos]
            if form in _PLACE_FORMS:
                hit = (pos - size, pos, _PLACE_FORMS[form])
                break
        if hit is None:
            break
        out.insert(0, hit)
        pos = hit[0]
    return out


@lru_cache(maxsize=65536)
def _segment(text: str) -> tuple[str, ...] | None:
    if not text:
        return ()
    best: tuple[str, ...] | None = None
    for size in sorted(_TRADE_LENGTHS):
        head = text[:size]
        if len(head) == size and head in INDUSTRY_WORDS:
            rest = _segment(text[size:])
            if rest is not None and (best is None or len(rest) + 1 > len(best)):
                best = (head, *rest)
    return best


def trailing_trades(core: str, keep: int = 2) -> tuple[str, tuple[str, ...]]:
    """Split ``core`` into the brand and the trades after it, leaving at least ``keep`` characters.

    A trade we do not know may follow one we know (蓝麦餐饮连锁 → 蓝麦 | 餐饮 连锁): the brand
    ends where the first known trade begins.
    """
    for cut in range(keep, len(core)):
        words = _segment(core[cut:])
        if words is not None:
            return core[:cut], words
    for cut in range(keep, len(core) - 1):
        for size in _TRADE_LENGTHS:
            if core[cut : cut + size] in INDUSTRY_WORDS and len(core) - cut - size >= 2:
                known = core[cut : cut + size]
                rest = _segment(core[cut + size :]) or (core[cut + size :],)
                return core[:cut], (known, *rest)
    return core, ()


def parse_name(canonical: str) -> Name:
    """Take a canonical name apart (see the module's docstring)."""
    text = unicodedata.normalize("NFKC", canonical).strip()
    places: list[tuple[str, int]] = []
    aliases: list[str] = []
    for m in list(_BRACKET.finditer(text)):
        place = _bracket_place(m.group(1))
        if place:
            level = geo.level_of(place)
            places.append((place, geo.CITY if level is None else level))
        elif place is None and _LATIN_WORD.fullmatch(m.group(1).strip().replace(" ", "")):
            aliases.append(m.group(1).strip().replace(" ", "").lower())  # 上海雍德(Yonder)智能科技
    text = _BRACKET.sub("", text)
    text = strip_legal(text).strip()
    latin_words = [w.lower() for w in _LATIN_WORD.findall(text)]
    if text[:1].isascii() and text[:1].isalpha():
        # A Latin brand; whatever follows is its trade, in either script.
        first = _LATIN_WORD.match(text)
        assert first is not None
        rest = text[first.end() :].strip()
        cjk_rest = "".join(ch for ch in rest if _cjk(ch))
        trades = _segment(cjk_rest) or ((cjk_rest,) if cjk_rest else ())
        return Name(canonical, tuple(places), "", trades, (first.group(0).lower(), *aliases))
    text = "".join(ch for ch in text if not ch.isspace())
    lead = leading_places(text)
    # Take off places from the front, but never the whole brand (安徽黄山旅游发展: 黄山 is the brand).
    for count in range(len(lead), -1, -1):
        core = text[lead[count - 1][1] :] if count else text
        brand, trades = trailing_trades(core)
        if len(brand) >= 2 and any(_cjk(ch) for ch in brand) and _segment(brand) is None:
            kept = _levels([p for _, _, p in lead[:count]])
            latin = tuple(w for w in latin_words if len(w) >= 3) + tuple(aliases)
            alternatives: tuple[str, ...] = ()
            if not trades and len(brand) >= 4 and all(_cjk(ch) for ch in brand):
                # No trade we know (岚亭户外用品): most brands are two characters, some three.
                brand, trades, alternatives = brand[:2], (brand[2:],), (brand[:3],)
            return Name(canonical, tuple(kept + places), brand, trades, latin, alternatives)
    return Name(canonical, tuple(places), text, (), tuple(aliases))


def _levels(names: list[str]) -> list[tuple[str, int]]:
    """Levels by position: the first a province if it is one, a city in it, then districts."""
    out: list[tuple[str, int]] = []
    for place in names:
        level = geo.level_of(place)
        province = next((p for p, lv in out if lv == geo.PROVINCE), None)
        if level == geo.CITY and province and geo.CITY_PROVINCE.get(place) != province:
            level = geo.DISTRICT  # 北京市朝阳区: a district, not the city in Liaoning
        if level is None or (out and level <= out[-1][1] and level != geo.DISTRICT):
            level = geo.DISTRICT
        out.append((place, level))
    return out


def initials(words: tuple[str, ...]) -> set[str]:
    """Two or three neighbouring trades by their first characters (纺织 机械 → 纺机; 电子商务 → 电商)."""
    out = {w[0] + w[2] for w in words if len(w) == 4}
    for size in (2, 3):
        for i in range(len(words) - size + 1):
            out.add("".join(w[0] for w in words[i : i + size]))
    return out


def trade_fits(written: str, name: Name) -> bool:
    """Whether a trade word written after the brand is one this company has (in some form)."""
    full = name.trade_text
    if not full:
        return False
    if written in full or written in initials(name.trades):
        return True
    return any(alt in full for alt in INDUSTRY_SYNONYMS.get(written, ()))


def trades_fit(written: tuple[str, ...], name: Name) -> bool:
    joined = "".join(written)
    return joined in name.trade_text or all(trade_fits(w, name) for w in written)


def trades_after(text: str, pos: int, limit: int = 4) -> tuple[int, tuple[str, ...]]:
    """Trade words written from ``pos`` on (at most ``limit``): where they end, and the words."""
    words: list[str] = []
    while len(words) < limit:
        hit = None
        for size in _TRADE_LENGTHS:
            piece = text[pos : pos + size]
            if len(piece) == size and piece in INDUSTRY_WORDS:
                hit = piece
                break
        if hit is None:
            hit = _synonym_at(text, pos)
        if hit is None:
            break
        words.append(hit)
        pos += len(hit)
    return pos, tuple(words)


_SYNONYM_KEYS = sorted(INDUSTRY_SYNONYMS, key=len, reverse=True)


def _synonym_at(text: str, pos: int) -> str | None:
    for key in _SYNONYM_KEYS:
        if text.startswith(key, pos):
            return key
    return None
