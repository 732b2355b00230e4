"""Finding customers in a brief with the name model of nlu/names.py, by a scored match.

A mention is found by its brand (or a half of a long brand, a Latin brand, an alias), then read
outwards: the places written before it and the trades after it. Each customer owning that brand
is kept only if the written places do not contradict its own and the written trades are among its
own. One left is the customer; several are candidates (unless a hint such as 做包装那家 picks one);
none because of a place is another company (宁波远帆物流 when the known one is in 苏州).

Order of strength: an exact brand beats a typo; a typo (one character, by sound, or in a long
name) is tried only where no name was found; a new company is a run that looks like a name.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from nlu import geo
from nlu.lexicon import INDUSTRY_WORDS, LEADING_NOISE, LEGAL_SUFFIXES, NOT_NAME_START
from nlu.names import (
    Name,
    leading_places,
    parse_name,
    places_before,
    strip_legal,
    trades_after,
    trades_fit,
)
from nlu.text import is_cjk
from nlu.tokenizer import Tokenizer, word_frequency

COMMON_WORD = 300  # a word frequency (nlu/tokenizer) from which a short form is also a common word
_TYPO_COMMON = 50  # a window this common is a word, not a misspelt name
_EVERYDAY = 5000  # 一下, 这个, 我们: never the start of a brand
BRAND, PART, ALIAS = 0, 1, 2

# Before a short form that is also a common word: where a customer's name may start.
_LEFT_OK = tuple(
    (
        "拜访了 拜访 去了 去 见了 见 跟 和 与 同 及 联系了 联系 约了 约 跑了 跑 回访了 回访 到了 到 陪 问了 问 给 对 "
        "、 客户 新客户 帮我看看 帮我看下 帮我看 看看 看下 查一下 查下 查查 查 我的 拿下 签下 搞定 签了 跟进 "
        "约 和 跟 找 上午 下午"
    ).split()
)
# After a name: words that start what is said of it.
_RIGHT_OK = re.compile(
    r"那边|这边|方面|那家|这家|的|这单|那单|项目|现在|目前|今天|昨天|已经|已|下一步|下周|本周|这周|明天|后天|"
    r"需求|报价|签|丢|合同|演示|方案|初次|第一次|首次|电话|还|也|又|说|是|有|在|跟|到|最近|怎么|该|啥|情况|进展|"
    r"发|出|做|打|约|见|聊|谈|去|来|送|寄|提交|对接|安排|沟通|回复|答复|反馈|采购|老板|总|经理|财务|信息|技术|"
    r"拜访|上门|开会|吃饭|演示|讲|签|报|拿|搞|都|一起|两家|三家"
)
_HINT = re.compile(
    r"[\s,，]*[(（]?(?:是|就是)?(?:做|搞|卖|生产|开)?(?P<hint>[\u4e00-\u9fff]{2,4}?)(?:的)?(?:那家|那个|那边|的)[)）]?"
)
_HINT_BEFORE = re.compile(r"(?:是|就是)?(?:做|搞|卖|生产|开)?(?P<hint>[\u4e00-\u9fff]{2,4}?)(?:的)?那家\s*$")
_COMPETITOR_BEFORE = re.compile(
    r"(?:选了|选择了|选|用了|换成了?|改用|转投|转向|被|给了|输给了?|竞品|竞争对手|友商|对手|截胡给)\s*$"
)
_PARTICLES = set("的了在是和也都就把被给说要会能很还没不吗呢吧这那我你他她它们个")
_VERBS = set("做搞去来到跟让对向从有看想找帮参加拿送发打开写")
_NAME_STOP = re.compile(
    r"的|了|在|是|有|说|想|需|要|对|已|约|朋友|今天|明天|后天|昨天|下周|本周|这周|上午|下午|那边|这边|方面|"
    r"目前|现在|刚|感|很|也|都|和|跟|与|及|准备|计划|打算|主要|做|介绍|通过|经|"
    r"[王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁][总工经]"
)
_NEW_MARKER = re.compile(
    r"(?:新客户|新开发的?客户|新增客户|新接触的?客户|新的客户|新签约?的?客户|一家新公司|新公司)\s*[:：,，]?\s*"
    r"(?:叫做|叫|是|为|名叫|名字叫)?\s*"
)
_NOT_BRAND_START = tuple(w for w in NOT_NAME_START if len(w) >= 2)
_VISIT = tuple("拜访了 拜访 跑了 去了 见了 走访了 考察了 接待了 陌拜了 约了 联系了 新客户".split())
_LATIN_RUN = re.compile(r"[A-Za-z][A-Za-z0-9&'\-]*(?:\s+[A-Za-z][A-Za-z0-9&'\-]*)?")
# Org endings that, on their own, are too generic to reveal an unknown name.
_GENERIC_ENDINGS = frozenset(
    "服务 管理 技术 信息 发展 工程 材料 设备 教育 文化 数据 商业 国际 智能 制造 动力 健康 医疗 投资 金融 精密 "
    "自动化 互联网 民族 建设 咨询 网络 软件 科技 能源 贸易 包装 照明 中心 开发 运营 设计 创新 生态 工业 数字 "
    "交通 规划 营销 策划 检测 认证 代理 外包 人力 劳务 回收 再生 娱乐 互动 体育 健身 卫生 环境 云计算 制品 "
    "研究院 研究所 实验室 门诊 诊所 医院 商行 配件 零件 客运 传播 会计 法律".split()
)
_ENDINGS = tuple(sorted((INDUSTRY_WORDS | set(LEGAL_SUFFIXES[:16])) - _GENERIC_ENDINGS, key=len, reverse=True))
_ENDING_RE = re.compile("|".join(map(re.escape, _ENDINGS)))
# Generic trades (科技, 服务, 管理) end a name only with a place in front of it (杭州云帆科技).
_ANY_ENDING_RE = re.compile(
    "|".join(map(re.escape, sorted(INDUSTRY_WORDS | set(LEGAL_SUFFIXES[:16]), key=len, reverse=True)))
)


@dataclass(frozen=True)
class Mention:
    """Where a customer is named. ``names`` has one canonical name when resolved, several
    when a short form fits more than one customer, none for a new customer."""

    start: int
    end: int
    text: str
    names: tuple[str, ...]
    how: str  # exact, alias, typo, new

    @property
    def is_new(self) -> bool:
        return not self.names


_PACK = 64  # customer and brand length in one int (a brand is a handful of characters)


def _fold(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).lower()  # split(): every whitespace, as isspace


def _full_keys(name: str) -> tuple[str, str]:
    """A canonical name folded, with and without its legal suffix: where it is written in full."""
    return _fold(name), _fold(strip_legal(unicodedata.normalize("NFKC", name)))


def _words(name: Name) -> tuple[str, ...]:
    """The words a customer's name gives the tokenizer: its brand, alone and with each of its trades."""
    if not name.brand:
        return ()
    return (name.brand, name.brand + name.trade_text, *(name.brand + t for t in name.trades))


class CustomerIndex:
    """The known customers of one org, ready to be found in text."""

    def __init__(self, customers: Iterable[str | tuple[str, Sequence[str]]]) -> None:
        self.names: list[str] = []
        self.parsed: list[Name] = []
        self._ids: dict[str, int] = {}
        self._forms: dict[str, list[tuple[int, int]]] = {}  # written form → (customer, kind)
        self._latin: dict[str, list[int]] = {}
        self._full: dict[str, int] = {}  # the canonical name folded, with and without its suffix
        self._lengths: dict[str, tuple[int, ...]] = {}  # first character → lengths of the forms starting with it
        # typo key → customer * _PACK + length of the brand part: one int for the usual single owner, a set of
        # them when several share the key (a set of tuples per key was two thirds of a large index's memory)
        self._wild: dict[str, int | set[int]] = {}
        self._starts: dict[str, set[int]] = {}
        self._ends: dict[str, set[int]] = {}
        self._outer: set[str] = set()
        self._aliases: dict[int, tuple[str, ...]] = {}  # only the customers that have some: ``remove`` needs them
        self.tokenizer = Tokenizer()
        for item in customers:
            name, aliases = (item, ()) if isinstance(item, str) else (item[0], tuple(item[1]))
            self.add(name, aliases)

    def add(self, name: str, aliases: Sequence[str] = ()) -> bool:
        """Make one more customer findable, in time proportional to its own name (a new customer does not
        rebuild the index); False when the name is empty or known already."""
        name = name.strip()
        if not name or name in self._ids:
            return False
        cid = len(self.names)
        self._ids[name] = cid
        self.names.append(name)
        parsed = parse_name(name)
        self.parsed.append(parsed)
        for key in _full_keys(name):
            self._full.setdefault(key, cid)
        if parsed.brand:
            self._add(parsed.brand, cid, BRAND)
        for word in _words(parsed):
            self.tokenizer.add(word)
        for part in parsed.parts():
            self._add(part, cid, PART)
        for alt in parsed.alternatives:
            self._add(alt, cid, BRAND)
        for latin in parsed.latin:
            self._latin.setdefault(latin, []).append(cid)
        kept = tuple(a for a in (alias.strip() for alias in aliases) if len(a) >= 2)
        if kept:
            self._aliases[cid] = kept
        for alias in kept:
            self._add(alias, cid, ALIAS)
            if alias.isascii():
                self._latin.setdefault(_fold(alias), []).append(cid)
        for key, brand_len in self._typo_keys(parsed):
            self._add_wild(key, cid, brand_len)
        return True

    def extend(self, later: CustomerIndex) -> bool:
        """Take in an index built on its own of the customers that come after this one's (a build split over two
        processes), giving the index one build of the whole list would give; False, and nothing changed, when a
        name in ``later`` is known here already (one build would have skipped it and numbered the rest otherwise).
        """
        if any(name in self._ids for name in later._ids):
            return False
        shift = len(self.names)
        self._ids.update((name, cid + shift) for name, cid in later._ids.items())
        self.names += later.names
        self.parsed += later.parsed
        for key, cid in later._full.items():
            self._full.setdefault(key, cid + shift)
        for form, owners in later._forms.items():
            self._forms.setdefault(form, []).extend((cid + shift, kind) for cid, kind in owners)
        for first, sizes in later._lengths.items():
            self._lengths[first] = tuple(sorted({*self._lengths.get(first, ()), *sizes}, reverse=True))
        for key, cids in later._latin.items():
            self._latin.setdefault(key, []).extend(cid + shift for cid in cids)
        self._aliases.update((cid + shift, aliases) for cid, aliases in later._aliases.items())
        moved, wild = shift * _PACK, self._wild
        for key, have in later._wild.items():  # a million keys, most of them new here: no set made for those
            mine = wild.get(key)
            if isinstance(have, int):
                if mine is None:
                    wild[key] = have + moved
                    continue
                codes = {have + moved}
            else:
                codes = {code + moved for code in have}
                if mine is None:
                    wild[key] = codes
                    continue
            if isinstance(mine, int):
                wild[key] = {mine, *codes}
            else:
                mine |= codes
        for theirs, ours in ((later._starts, self._starts), (later._ends, self._ends)):
            for pair, lengths in theirs.items():
                ours.setdefault(pair, set()).update(lengths)
        self._outer |= later._outer
        self.tokenizer.extend(later.tokenizer)
        return True

    def remove(self, name: str) -> bool:
        """Make a customer unfindable (it was renamed, given other aliases, or deleted), in time proportional to its
        own name: every form and word ``add`` derived from it is taken out again, unless another customer derives it
        too. False when the name is not known.

        The slot in ``names`` stays (nothing points at it any more), and so do the typo anchors and the tokenizer's
        word lengths, which only bound where a match is tried, never what is found. One difference from a rebuild
        remains: where two customers fold to one full name (瑞达机电 and 瑞达机电有限公司), a rebuild gives it to the
        older customer, a renamed one comes back as the newest."""
        name = name.strip()
        cid = self._ids.pop(name, None)
        if cid is None:
            return False
        parsed = self.parsed[cid]
        aliases = self._aliases.pop(cid, ())
        forms = [parsed.brand] if parsed.brand else []
        for form in (*forms, *parsed.parts(), *parsed.alternatives, *aliases):
            owners = [o for o in self._forms.get(form, ()) if o[0] != cid]
            if owners:
                self._forms[form] = owners
            else:
                self._forms.pop(form, None)
        for key in (*parsed.latin, *(_fold(a) for a in aliases if a.isascii())):
            latin = [c for c in self._latin.get(key, ()) if c != cid]
            if latin:
                self._latin[key] = latin
            else:
                self._latin.pop(key, None)
        for key, brand_len in self._typo_keys(parsed):
            self._remove_wild(key, cid * _PACK + min(brand_len, _PACK - 1))
        near = sorted({c for form in (*forms, *_words(parsed)) for c, _ in self._forms.get(form, ())})
        for key in _full_keys(name):
            if self._full.get(key) == cid:
                del self._full[key]
                heir = next((c for c in near if key in _full_keys(self.names[c])), None)
                if heir is not None:
                    self._full[key] = heir
        still = {w for c in near for w in _words(self.parsed[c])}
        for word in _words(parsed):
            if word not in still:
                self.tokenizer.remove(word)
        return True

    def _add(self, form: str, cid: int, kind: int) -> None:
        owners = self._forms.setdefault(form, [])
        if all(c != cid for c, _ in owners):
            owners.append((cid, kind))
        lengths = self._lengths.get(form[0], ())
        if len(form) not in lengths:
            self._lengths[form[0]] = tuple(sorted((*lengths, len(form)), reverse=True))

    def __len__(self) -> int:
        return len(self._ids)

    # -- exact forms ---------------------------------------------------------------------------

    def find(self, text: str, boundaries: set[int]) -> list[Mention]:
        """Known customers named in ``text`` (``boundaries``: word edges, nlu/tokenizer)."""
        found: list[Mention] = []
        i, n = 0, len(text)
        latin = {m.start(): m for m in _LATIN_RUN.finditer(text)}
        while i < n:
            hit = None
            if i in latin:
                hit = self._latin_hit(text, latin[i], boundaries)
            for size in self._lengths.get(text[i], ()) if hit is None else ():
                owners = self._forms.get(text[i : i + size])
                if owners is None or i + size > n:
                    continue
                hit = self._resolve(text, i, i + size, owners, boundaries, typo=False)
                if hit is not None:
                    break
            if hit is None or (found and hit.start < found[-1].end):
                i += 1
                continue
            found.append(hit)
            i = hit.end
        return found

    def _latin_hit(self, text: str, run: re.Match[str], boundaries: set[int]) -> Mention | None:
        words = run.group(0).split()
        for count in (2, 1):
            if len(words) < count:
                continue
            key = "".join(words[:count]).lower()
            owners = self._latin.get(key)
            if owners:
                end = run.start() + len(" ".join(words[:count])) if count == 2 else run.start() + len(words[0])
                return self._resolve(text, run.start(), end, [(c, BRAND) for c in owners], boundaries, typo=False)
        return None

    def _resolve(
        self, text: str, start: int, end: int, owners: list[tuple[int, int]], boundaries: set[int], *, typo: bool
    ) -> Mention | None:
        """Read outwards from a brand at [start, end) and keep the owners that fit (module docstring)."""
        places = places_before(text, start)
        left = places[0][0] if places else start
        form = text[start:end]
        # A half of a long brand stands alone only where a name stands, and when it is no word (绒鼎).
        part_alone = (word_frequency(form) < _TYPO_COMMON or _stands_alone(text, start, end)) and (
            _clause_start(text, start) and _right_free(text, end)
        )
        written = [p for _, _, p in places]
        right, trades = trades_after(text, end)
        if not trades:  # a trade only this company's name has (海钧气体, 岚亭户外)
            own = sorted({t for c, _ in owners for t in self.parsed[c].trades if len(t) >= 2}, key=len, reverse=True)
            hit = next((t for t in own if text.startswith(t, end)), None)
            if hit:
                right, trades = end + len(hit), (hit,)
        right = _suffix_after(text, right)

        def fits(cid: int, kind: int, with_trades: bool) -> bool:
            name = self.parsed[cid]
            if with_trades and trades and not trades_fit(trades, name):
                return False
            if kind == PART and not (with_trades and trades):
                return part_alone
            return True

        by_place = [
            (c, k) for c, k in owners if not any(geo.conflicts(p, self.parsed[c].place_levels) for p in written)
        ]
        kept = [c for c, k in by_place if fits(c, k, True)]
        if not kept and trades:
            alone = [c for c, k in by_place if fits(c, k, False)]
            if alone and not self._ends_a_name(text, right, boundaries):
                kept, right = alone, _suffix_after(text, end)
            elif alone or (not by_place and owners):
                return self._new(text, left, right)
        if not kept:
            if owners and not by_place and written:
                return self._new(text, left, right)  # 杭州远帆物流: another company of the same brand
            return None
        bare = not places and right == end
        if bare and not typo:
            weak = len(form) <= 2 and (
                word_frequency(form) >= COMMON_WORD or not self._strong_edges(text, start, end, boundaries)
            )
            if weak and not _weak_ok(text, start, end, boundaries):
                return None
            if len(form) >= 3 and not _left_ok(text, start, boundaries):
                return None
        if len(set(kept)) > 1 and re.match(r"集团|控股", text[end:right] if right > end else text[end:]):
            group = [c for c in kept if "集团" in self.names[c] or "控股" in self.names[c]]
            kept = group if len(group) == 1 else kept  # 鼎珩集团: the group, not 鼎珩环境工程
        if len(set(kept)) > 1 and written:  # 常州凯沣: the one that has the place written
            having = [c for c in kept if any(p in self.parsed[c].place_levels for p in written)]
            kept = having or kept
        names = tuple(sorted({self.names[c] for c in kept}))
        if len(names) > 1:
            picked, right = self._hint(text, right, kept)
            if picked is None:
                before = _HINT_BEFORE.search(text[max(0, left - 10) : left])
                picked = self._fitting(before["hint"], kept) if before else None
            if picked is not None:
                names = (self.names[picked],)
        span = text[left:right]
        exact = len(names) == 1 and _fold(span) in self._full and self._full[_fold(span)] == self._ids[names[0]]
        how = "typo" if typo else ("exact" if exact else "alias")
        return Mention(left, right, span, names, how)

    def _strong_edges(self, text: str, start: int, end: int, boundaries: set[int]) -> bool:
        return (start == 0 or not is_cjk(text[start - 1]) or start in boundaries) and (
            end == len(text) or not is_cjk(text[end]) or end in boundaries
        )

    @staticmethod
    def _ends_a_name(text: str, pos: int, boundaries: set[int]) -> bool:
        """Whether a run of trades ending at ``pos`` closes a name (鼎晟光电 │ 报价已发)."""
        if pos >= len(text) or not is_cjk(text[pos]):
            return True
        return bool(_RIGHT_OK.match(text, pos)) and not re.match(r"部|处|科|组|室|线|事业", text[pos:])

    def _new(self, text: str, left: int, right: int) -> Mention | None:
        span = text[left:right]
        if len(span) < 4 or _COMPETITOR_BEFORE.search(text[max(0, left - 6) : left]):
            return None
        return Mention(left, right, span, (), "new")

    def _hint(self, text: str, pos: int, kept: list[int]) -> tuple[int | None, int]:
        """做包装那家, 宁波那家: a word after an ambiguous name that picks one of its customers."""
        m = _HINT.match(text, pos)
        if not m:
            return None, pos
        picked = self._fitting(m["hint"], kept)
        return (picked, m.end()) if picked is not None else (None, pos)

    def _fitting(self, hint: str, kept: list[int]) -> int | None:
        """The one customer of ``kept`` whose place or trade the hint names, if exactly one."""
        fitting = {
            c
            for c in kept
            if any(place in hint for place, _ in self.parsed[c].places)
            or any(t in hint or hint in t for t in self.parsed[c].trades)
            or trades_fit(trades_after(hint, 0)[1] or (hint,), self.parsed[c])
        }
        return fitting.pop() if len(fitting) == 1 else None

    # -- typos ---------------------------------------------------------------------------------

    def _typo_keys(self, name: Name) -> list[tuple[str, int]]:
        """Every typo-able form of one customer with one character replaced by "?", with the length of its brand
        part. The anchors that stay intact are recorded on the way (also when called by ``remove``: anchors shared
        by many names are never taken out, they only widen where a typo is looked for).

        A brand of three or more characters can be misspelt alone; a two-character brand only with
        a trade after it (常明光电), and only in the brand. One wrong character leaves the first or
        last two characters intact (or, in a form of three, the outer two).
        """
        brand = name.brand
        if not brand or not all(is_cjk(ch) for ch in brand):
            return []
        keys: list[tuple[str, int]] = []
        forms = [brand]
        if len(brand) == 2:
            keys += [(brand[:j] + "?" + brand[j + 1 :], 2) for j in range(2)]
        forms += [brand + t for t in name.trades] + ([brand + name.trade_text] if len(name.trades) > 1 else [])
        for form in forms:
            if len(form) == 2:
                continue
            keys += [(form[:j] + "?" + form[j + 1 :], len(brand)) for j in range(len(brand))]
            self._starts.setdefault(form[:2], set()).add(len(form))
            self._ends.setdefault(form[-2:], set()).add(len(form))
            if len(form) == 3:
                self._outer.add(form[0] + form[2])
        return keys

    def _add_wild(self, key: str, cid: int, brand_len: int) -> None:
        code = cid * _PACK + min(brand_len, _PACK - 1)
        have = self._wild.get(key)
        if have is None:
            self._wild[key] = code
        elif isinstance(have, int):
            if have != code:
                self._wild[key] = {have, code}
        else:
            have.add(code)

    def _remove_wild(self, key: str, code: int) -> None:
        have = self._wild.get(key)
        if have == code:
            del self._wild[key]
        elif isinstance(have, set):
            have.discard(code)
            if len(have) == 1:
                self._wild[key] = have.pop()

    def _wild_owners(self, key: str) -> list[tuple[int, int]]:
        """(customer, length of the brand part) of everyone whose name fits the typo key."""
        have = self._wild.get(key)
        if have is None:
            return []
        return [divmod(code, _PACK) for code in ((have,) if isinstance(have, int) else sorted(have))]

    def _typo_windows(self, text: str) -> list[tuple[int, int]]:
        """(start, length) of the windows that share an intact anchor with some typo-able form."""
        windows: set[tuple[int, int]] = set()
        wild, starts, ends, outer = self._wild, self._starts, self._ends, self._outer
        for p in range(len(text) - 1):
            if not is_cjk(text[p]):
                continue
            if text[p] + "?" in wild or "?" + text[p + 1] in wild:
                windows.add((p, 2))  # a two-character brand with one character wrong
            pair = text[p : p + 2]
            for size in starts.get(pair, ()):
                windows.add((p, size))
            for size in ends.get(pair, ()):
                if p + 2 - size >= 0:
                    windows.add((p + 2 - size, size))
            if p + 2 < len(text) and text[p] + text[p + 2] in outer:
                windows.add((p, 3))
        return sorted(windows, key=lambda w: (w[0], -w[1]))

    def find_typos(self, text: str, boundaries: set[int], taken: list[tuple[int, int]]) -> list[Mention]:
        """Names written with one wrong character (海之兰 for 海之蓝), outside ``taken`` spans."""
        found: list[Mention] = []
        n = len(text)
        covered = [False] * (n + 1)
        for a, b in taken:
            covered[a:b] = [True] * (b - a)
        for start, size in self._typo_windows(text):
            end = start + size
            if end > n or any(covered[start:end]):
                continue
            piece = text[start:end]
            if not all(is_cjk(ch) for ch in piece) or word_frequency(piece) >= _TYPO_COMMON:
                continue
            owners: dict[int, int] = {}
            for j in range(size):
                for cid, brand_len in self._wild_owners(piece[:j] + "?" + piece[j + 1 :]):
                    if j < brand_len and _plausible_typo(piece[j], self.parsed[cid].brand[j], brand_len, size):
                        owners[cid] = brand_len
            if len(owners) != 1:
                continue
            cid, brand_len = next(iter(owners.items()))
            if size == 2 and not (_clause_start(text, start) and _right_free(text, end)):
                continue  # 鑫凯 for 鑫楷 only where a name stands alone
            hit = self._resolve(text, start, start + brand_len, [(cid, BRAND)], boundaries, typo=True)
            if hit is None or hit.end < end or not _left_ok(text, hit.start, boundaries, lenient=True):
                continue
            found.append(hit)
            covered[hit.start : hit.end] = [True] * (hit.end - hit.start)
        return found


def _stands_alone(text: str, start: int, end: int) -> bool:
    """A common word written as a name: first in the message or after a separator, then a pause (未来 那边)."""
    before = text[start - 1] if start else ""
    return ((not before or before in " ,，;；。\n、") and (end >= len(text) or text[end] in " ,，:：")) or bool(
        re.match(r"那边|这边|那家|这单|跟到|现在|的单", text[end:])
    )


def _clause_start(text: str, pos: int) -> bool:
    """Where a name may start a phrase: at the start, after a space, punctuation or a list marker."""
    if pos == 0:
        return True
    before = text[pos - 1]
    return not (is_cjk(before) or before.isalnum()) or text[:pos].endswith(_LEFT_OK)


def _right_free(text: str, pos: int) -> bool:
    """What follows may follow a name: the end, a separator, or words that start a statement."""
    return pos >= len(text) or not (is_cjk(text[pos]) or text[pos].isalnum()) or bool(_RIGHT_OK.match(text, pos))


def _suffix_after(text: str, pos: int) -> int:
    """Past a legal suffix or a bracketed place written after a name."""
    m = re.match(r"\s*[(（][^()（）]{1,12}[)）]", text[pos:])
    if m:
        pos += m.end()
    for suffix in LEGAL_SUFFIXES[:16]:
        if text.startswith(suffix, pos):
            return pos + len(suffix)
    return pos


def _left_ok(text: str, start: int, boundaries: set[int], *, lenient: bool = False) -> bool:
    if start == 0 or not is_cjk(text[start - 1]) or start in boundaries:
        return True
    return lenient and text[:start].endswith(_LEFT_OK)


def _weak_ok(text: str, start: int, end: int, boundaries: set[int]) -> bool:
    """A short form that is also a common word counts only where a name can stand."""
    before = text[:start]
    left = not before or not (is_cjk(before[-1]) or before[-1].isalnum()) or before.endswith(_LEFT_OK)
    right = end == len(text) or not is_cjk(text[end]) or bool(_RIGHT_OK.match(text, end))
    return left and right and (end in boundaries or end == len(text) or not is_cjk(text[end]))


def warm_sounds() -> None:
    """Load the pinyin tables now (0.1-0.2 s; with the collector walking a large index, a second) rather than at the
    first misspelt name."""
    _sounds("一")


@lru_cache(maxsize=8192)
def _sounds(ch: str) -> frozenset[str]:
    """A character's readings without tones, folded as pinyin input methods fold them (zh=z, ng=n)."""
    from pypinyin import Style, pinyin

    out = set()
    for reading in pinyin(ch, style=Style.NORMAL, heteronym=True, errors="ignore")[0] if is_cjk(ch) else []:
        r = reading.replace("zh", "z").replace("ch", "c").replace("sh", "s")
        r = r.replace("ng", "n").replace("l", "n", 1) if r.startswith("l") else r.replace("ng", "n")
        out.add(r)
    return frozenset(out)


def _plausible_typo(written: str, meant: str, brand_len: int, form_len: int) -> bool:
    """Reps type by sound: a character of the same sound, or any one in a long, distinctive form."""
    if _sounds(written) & _sounds(meant):
        return True
    return brand_len >= 3 and form_len >= 4


# -- new companies -------------------------------------------------------------------------------


_NOISE = sorted(
    LEADING_NOISE + "跑了 跑 去见了 陪客户 今天跑了 下午去 上午去 和 及 还有".split(), key=len, reverse=True
)
_NOISE_TUPLE = tuple(_NOISE)


def _cut_name(run: str) -> str:
    """The name at the start of ``run``: up to a stop word, ending on an org word when there is one."""
    stop = _NAME_STOP.search(run, 2)
    if stop:
        run = run[: stop.start()]
    last = -1
    for ending in sorted(INDUSTRY_WORDS | set(LEGAL_SUFFIXES), key=len, reverse=True):
        pos = run.rfind(ending)
        if pos >= 2:
            last = max(last, pos + len(ending))
    return run[:last] if last > 0 else run


def _valid_name(name: str) -> bool:
    if len(name) < 2 or len(name) > 25 or any(name.startswith(w) for w in NOT_NAME_START):
        return False
    return not (name in geo.ALL_PLACES or name in INDUSTRY_WORDS)


def _free(taken: list[tuple[int, int]], found: list[Mention]) -> Callable[[int, int], bool]:
    def free(a: int, b: int) -> bool:
        return not any(x < b and a < y for x, y in taken + [(m.start, m.end) for m in found])

    return free


def find_marked_new(text: str, taken: list[tuple[int, int]]) -> list[Mention]:
    """Names a rep announces as new: 新客户 X, 拜访了一家新客户X, 新客户,叫X."""
    found: list[Mention] = []
    free = _free(taken, found)
    for marker in _NEW_MARKER.finditer(text):
        run = re.match(r"[\u3400-\u9fffA-Za-z0-9·&()（）]+", text[marker.end() :])
        if not run:
            continue
        name = _cut_name(run.group(0))
        start = marker.end()
        introduced = bool(re.search(r"叫|是|为|[:：]", marker.group(0)))
        org_like = _ENDING_RE.search(name, 2) is not None or strip_legal(name) != name or bool(leading_places(name))
        if _NAME_STOP.match(name) or not (introduced or org_like):
            continue  # 宜宾三江酒业 新客户 有意向: the marker follows the name
        if _valid_name(name) and free(start, start + len(name)):
            found.append(Mention(start, start + len(name), name, (), "new"))
    return found


def find_org_like(text: str, taken: list[tuple[int, int]], edges: set[int] | None = None) -> list[Mention]:
    """Unknown names that look like companies, read back from a trade word: [places] brand trades.

    常熟虞畔服饰, 今天拜访了温州瓯江阀门, 泰州舟浦船舶配件; not a rival's (选了XX科技), not what a
    company does (做户外用品的), and never starting inside a word (对方对气体监测: 方对 is no brand).
    """
    out: list[Mention] = []
    free = _free(taken, [])
    pos = 0
    while (ending := _ANY_ENDING_RE.search(text, pos)) is not None:
        pos = ending.end()
        a = ending.start()
        generic = ending.group(0) in _GENERIC_ENDINGS
        while (back := _trade_ending_at(text, a)) is not None:
            a -= len(back)  # 岱麓矿山设备有限公司: the brand stands before the trades
        right, _ = trades_after(text, a)
        right = _suffix_after(text, max(right, ending.end()))
        found = _name_before(text, a, right, placed_only=generic)
        if found is None:
            continue
        left = found
        if _COMPETITOR_BEFORE.search(text[max(0, left - 6) : left]) or not free(left, right):
            continue
        if _DOES_BEFORE.search(text[max(0, left - 4) : left]):
            continue
        if edges is not None and not _edge_ok(text, left, edges):
            continue
        out.append(Mention(left, right, text[left:right], (), "new"))
        pos = right
    for m in _PLACE_LED.finditer(text):  # 赣州章贡稀土 刚加微信: a place and a name, its trade unknown to us
        left, right = m.start(1), m.end(1)
        core = text[m.start(2) : right]
        if (
            free(left, right)
            and _brand_like(core[:2])
            and not any(w in core for w in _NOT_IN_NAME)
            and word_frequency(core[:2]) < COMMON_WORD
            and _name_can_start(text, left)
            and not any(o.start < right and left < o.end for o in out)
            and not _COMPETITOR_BEFORE.search(text[max(0, left - 6) : left])
        ):
            out.append(Mention(left, right, text[left:right], (), "new"))
    for m in _LATIN_COMPANY.finditer(text):  # Halcyra Foods: a Latin name with a company word
        if free(m.start(), m.end()) and not _COMPETITOR_BEFORE.search(text[max(0, m.start() - 6) : m.start()]):
            out.append(Mention(m.start(), m.end(), m.group(0), (), "new"))
    return sorted(out, key=lambda o: o.start)


_LATIN_COMPANY = re.compile(
    r"(?<![A-Za-z])[A-Z][A-Za-z]{2,}(?:\s+[A-Z][A-Za-z]+)?\s+(?:Foods?|Labs?|Tech|Technologies|Technology|Logistics|"
    r"Medical|Motion|Robotics|Systems|Solutions|Group|Holdings|Industries|Industrial|Trading|Materials|Optics|"
    r"Analytics|Software|Pharma|Pharmaceuticals|Biotech|Bio|Energy|Electric|Electronics|Devices|Motors|Capital|"
    r"Partners|Consulting|Media|Apparel|Textiles|Machinery|Precision|Instruments|Networks|Semiconductor|Chemicals|"
    r"Packaging|Retail|Health|Healthcare|Automation|Engineering|Co\.?|Inc\.?|Ltd\.?|GmbH|LLC|Corp\.?)(?![A-Za-z])"
)


def _edge_ok(text: str, pos: int, edges: set[int]) -> bool:
    return pos == 0 or not is_cjk(text[pos - 1]) or pos in edges or text[:pos].endswith(_NOISE_TUPLE)


# What a company does, or what it is (对方是烘焙连锁), is no name.
_DOES_BEFORE = re.compile(r"(?:做|搞|卖|开|生产|经营|主营|是做|(?:对方|他们|客户|那边|人家)是)$")
_PLACE_NAMES = sorted(geo.CITIES + tuple(geo.PROVINCES), key=len, reverse=True)
_PLACE_LED = re.compile(
    "((?:" + "|".join(_PLACE_NAMES) + r")"
    r"(?:市|省)?([\u4e00-\u9fff]{4,6}))(?=[\s,，。;；!！、]|$)"
)
_NOT_IN_NAME = tuple(
    "那边 这边 那家 这家 客户 公司 老板 项目 需求 报价 合同 演示 方案 出差 开会 拜访 今天 明天 昨天".split()
)


def _name_before(text: str, a: int, right: int, *, placed_only: bool = False) -> int | None:
    """Where an unknown name whose trades start at ``a`` begins (``placed_only``: a place must lead it)."""
    for size in (2, 3, 4):  # with places in front: the brand between them and the trade
        brand = text[a - size : a] if a >= size else ""
        places = places_before(text, a - size) if brand else []
        if places and _brand_like(brand):
            left = places[0][0]
            if _name_can_start(text, left):
                return left
    if placed_only:
        return None
    for size in (4, 3, 2):
        brand = text[a - size : a] if a >= size else ""
        if brand and _brand_like(brand) and _name_can_start(text, a - size):
            has_legal = strip_legal(text[a - size : right]) != text[a - size : right]
            visited = text[: a - size].endswith(_VISIT)  # 拜访了新港物流: a company, however common the word
            has_trade = trades_after(text, a)[1] != ()
            if word_frequency(brand) >= COMMON_WORD and not ((has_legal and has_trade) or visited):
                continue  # 参加公司, 做小区绿化: words, not names
            return a - size
    return None


def _starts_with_city(text: str) -> bool:
    lead = leading_places(text + "某某")
    return bool(lead) and geo.level_of(lead[0][2]) != geo.DISTRICT


def _trade_ending_at(text: str, pos: int) -> str | None:
    for size in (4, 3, 2):
        if pos - size >= 2 and text[pos - size : pos] in INDUSTRY_WORDS:
            return text[pos - size : pos]
    return None


def _brand_like(brand: str) -> bool:
    if not all(is_cjk(ch) for ch in brand) or any(ch in _PARTICLES for ch in brand) or brand[0] in _VERBS:
        return False
    if any(ch in "做搞卖" for ch in brand) or (len(brand) > 2 and _starts_with_city(brand)):
        return False  # 泉州做: a place and a verb, not a brand
    big_place = brand in geo.ALL_PLACES and geo.level_of(brand) != geo.DISTRICT  # 越秀, 长安: brands too
    if big_place or brand in INDUSTRY_WORDS or any(brand.startswith(w) for w in _NOT_BRAND_START):
        return False
    if len(brand) > 2 and word_frequency(brand[:2]) >= _EVERYDAY:
        return False  # 一下闽祥: an everyday word is no part of a brand
    return not any(word in brand for word in _NOISE if len(word) >= 2)


def _name_can_start(text: str, pos: int) -> bool:
    if pos == 0 or not (is_cjk(text[pos - 1]) or text[pos - 1].isalnum()):
        return True
    return text[:pos].endswith(tuple(_NOISE) + _LEFT_OK + _INTRODUCED)


_INTRODUCED = ("叫", "叫做", "名叫", "是", "就是", "拜访", "去了一趟", "一趟", "给", "与", "跟")


def prefer(typos: list[Mention], orgs: list[Mention]) -> list[Mention]:
    """Settle a misspelt known name against a longer unknown company name around it.

    海之兰水产 is 海之蓝水产 misspelt; 宁夏塞上明珠酒业 is a new customer even though
    明珠酒业 is one character from 明德酒业: more than a place around the typo means new.
    """
    kept_orgs: list[Mention] = []
    dropped: set[int] = set()
    for org in orgs:
        inside = [i for i, t in enumerate(typos) if org.start <= t.start and t.end <= org.end]
        if not inside:
            if not any(t.start < org.end and org.start < t.end for t in typos):
                kept_orgs.append(org)
            continue
        typo = typos[inside[0]]
        extra = org.text[: typo.start - org.start] + org.text[typo.end - org.start :]
        if extra and not places_before(extra, len(extra)) and _brand_like(extra[-4:]):
            dropped.update(inside)
            kept_orgs.append(org)
    return [t for i, t in enumerate(typos) if i not in dropped] + kept_orgs
