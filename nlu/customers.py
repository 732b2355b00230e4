"""Finding customers in a brief: canonical names, short forms, typos, and new names.

Every name is broken into the forms reps write — without the region in front, without
the legal and industry words behind (河北燕赵钢铁贸易 → 燕赵钢铁贸易, 燕赵钢铁, 燕赵).
Short forms that are also common words (光明, 长城) count only where a name can stand.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from nlu.lexicon import (
    INDUSTRY_WORDS,
    LEADING_NOISE,
    LEGAL_SUFFIXES,
    NOT_NAME_START,
    REGION_SUFFIXES,
    REGIONS,
)
from nlu.text import is_cjk
from nlu.tokenizer import Tokenizer, word_frequency

EXACT, DERIVED, WEAK = 0, 1, 2
COMMON_WORD = 300  # a jieba frequency above which a short form is also a common word
_EVERYDAY = 5000  # so common (中国, 发展) that it never stands for one customer alone
_TYPO_MIN = 3

# Before a short form that is also a common word: where a customer's name may start.
_LEFT_OK = tuple(
    (
        "拜访了 拜访 去了 去 见了 见 跟 和 与 同 及 联系了 联系 约了 约 "
        "回访了 回访 到了 到 陪 问了 问 给 对 、 客户 新客户"
    ).split()
)
# Org endings that, on their own, are too generic to reveal an unknown name.
_GENERIC_ENDINGS = frozenset(
    "服务 管理 技术 信息 发展 工程 材料 设备 教育 文化 数据 商业 国际 智能 制造 动力 健康 医疗 投资 金融 精密 "
    "自动化 互联网 民族 建设 咨询 网络 软件 科技 能源 贸易 包装 照明 包装 中心".split()
)
_NEW_MARKER = re.compile(
    r"(?:新客户|新开发的?客户|新增客户|新接触的?客户|新的客户|新签约?的?客户|一家新公司|新公司)\s*[:：,，]?\s*"
    r"(?:叫做|叫|是|为|名叫|名字叫)?\s*"
)
_NAME_STOP = re.compile(
    r"的|了|在|是|有|说|想|需|要|对|已|约|朋友|今天|明天|后天|昨天|下周|本周|这周|上午|下午|那边|这边|方面|"
    r"目前|现在|刚|感|很|也|都|和|跟|与|及|准备|计划|打算|主要|做|介绍|通过|经|"
    r"[王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁][总工经]"
)
_PARTICLES = set("的了在是和也都就把被给说要会能很还没不吗呢吧这那我你他她它们个")


@dataclass(frozen=True)
class Mention:
    """Where a customer is named. ``names`` has one canonical name when resolved, several
    when a short form fits more than one customer, none for a new customer."""

    start: int
    end: int
    text: str
    names: tuple[str, ...]
    how: str  # exact, alias, weak, typo, new

    @property
    def is_new(self) -> bool:
        return not self.names


def _strip_legal(name: str) -> str:
    changed = True
    while changed:
        changed = False
        for suffix in LEGAL_SUFFIXES:
            if name.endswith(suffix) and len(name) - len(suffix) >= 2:
                name = name[: -len(suffix)]
                changed = True
                break
    return name


def _strip_region(name: str) -> str | None:
    for size in (4, 3, 2):
        head = name[:size]
        if head in REGIONS:
            rest = name[size:]
            for suffix in REGION_SUFFIXES:
                if rest.startswith(suffix):
                    rest = rest[len(suffix) :]
                    break
            return rest if len(rest) >= 2 else None
    return None


def _strip_industry(name: str) -> tuple[str, list[str]]:
    """The name without trailing industry words, and the words taken off (in order)."""
    words: list[str] = []
    changed = True
    while changed:
        changed = False
        for size in (3, 2):
            tail = name[-size:]
            if tail in INDUSTRY_WORDS and len(name) - size >= 2:
                words.insert(0, tail)
                name = name[:-size]
                changed = True
                break
    return name, words


def forms_of(name: str) -> dict[str, int]:
    """The ways a rep may write ``name``, each with its level (exact, derived, weak)."""
    forms: dict[str, int] = {name: EXACT}
    base = _strip_legal(name)
    stems = [base]
    regionless = _strip_region(base)
    if regionless:
        stems.append(regionless)
    for stem in stems:
        core, words = _strip_industry(stem)
        candidates = [stem]
        partial = stem
        for word in reversed(words):
            partial = partial[: -len(word)]
            candidates.append(partial)
        candidates += [core + w for w in words]
        for form in candidates:
            if len(form) < 2 or form in REGIONS or form in INDUSTRY_WORDS or word_frequency(form) >= _EVERYDAY:
                continue
            weak = len(form) <= 2 or word_frequency(form) >= COMMON_WORD
            level = WEAK if weak else DERIVED
            forms[form] = min(forms.get(form, level), level)
    return forms


class CustomerIndex:
    """The known customers of one org, ready to be found in text."""

    def __init__(self, customers: Iterable[str | tuple[str, Sequence[str]]]) -> None:
        self.names: list[str] = []
        self._forms: dict[str, dict[int, int]] = {}
        for item in customers:
            name, aliases = (item, ()) if isinstance(item, str) else (item[0], tuple(item[1]))
            name = name.strip()
            if not name or name in self.names:
                continue
            cid = len(self.names)
            self.names.append(name)
            for form, level in forms_of(name).items():
                self._add(form, cid, level)
            for alias in aliases:
                alias = alias.strip()
                if len(alias) >= 2:
                    self._add(alias, cid, EXACT if len(alias) >= 3 else WEAK)
        self._lengths = sorted({len(f) for f in self._forms}, reverse=True)
        self._first = {f[0] for f in self._forms}
        # Typos: every eligible form with one character replaced by "?". One wrong character
        # leaves the first or last two characters intact (or, in a name of three, the outer
        # two), so only windows that share such an anchor with some name are looked up.
        self._wild: dict[str, set[int]] = {}
        for form in self._typo_forms():
            for j in range(len(form)):
                self._wild.setdefault(form[:j] + "?" + form[j + 1 :], set()).update(self._forms[form])
        self._starts: dict[str, set[int]] = {}  # first two characters -> name lengths
        self._ends: dict[str, set[int]] = {}  # last two characters -> name lengths
        self._outer: set[str] = set()  # first and last character of three-character names
        for form in self._typo_forms():
            self._starts.setdefault(form[:2], set()).add(len(form))
            self._ends.setdefault(form[-2:], set()).add(len(form))
            if len(form) == 3:
                self._outer.add(form[0] + form[2])
        self.tokenizer = Tokenizer(f for f, o in self._forms.items() if min(o.values()) != WEAK)

    def _typo_forms(self) -> list[str]:
        return [
            form
            for form, owners in self._forms.items()
            if len(form) >= _TYPO_MIN and min(owners.values()) != WEAK and all(is_cjk(ch) for ch in form)
        ]

    def _add(self, form: str, cid: int, level: int) -> None:
        owners = self._forms.setdefault(form, {})
        owners[cid] = min(owners.get(cid, level), level)

    def __len__(self) -> int:
        return len(self.names)

    def find(self, text: str, boundaries: set[int]) -> list[Mention]:
        """Known customers named in ``text`` (``boundaries``: token edges from jieba)."""
        found: list[Mention] = []
        i, n = 0, len(text)
        while i < n:
            if text[i] not in self._first:
                i += 1
                continue
            hit = None
            for size in self._lengths:
                if i + size > n:
                    continue
                owners = self._forms.get(text[i : i + size])
                if owners is None:
                    continue
                best = min(owners.values())
                if best == WEAK and not self._weak_ok(text, i, i + size, boundaries):
                    continue
                if best > EXACT and not self._edge_ok(text, i, i + size, boundaries):
                    continue
                chosen = tuple(self.names[c] for c, level in sorted(owners.items()) if level == best)
                hit = Mention(i, i + size, text[i : i + size], chosen, "exact" if best == EXACT else "alias")
                break
            if hit is None:
                i += 1
                continue
            found.append(hit)
            i = hit.end
        return found

    def _typo_windows(self, text: str) -> list[tuple[int, int]]:
        """(start, length) of the windows that share an intact anchor with some name."""
        windows: set[tuple[int, int]] = set()
        for p in range(len(text) - 1):
            pair = text[p : p + 2]
            for size in self._starts.get(pair, ()):
                windows.add((p, size))
            for size in self._ends.get(pair, ()):
                if p + 2 - size >= 0:
                    windows.add((p + 2 - size, size))
            if p + 2 < len(text) and text[p] + text[p + 2] in self._outer:
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
            if not all(is_cjk(ch) for ch in piece):
                continue
            if size == _TYPO_MIN and word_frequency(piece) > 50:
                continue  # an ordinary word, not a misspelt name
            owners: set[int] = set()
            for j in range(size):
                owners |= self._wild.get(piece[:j] + "?" + piece[j + 1 :], set())
            if len(owners) == 1 and self._edge_ok(text, start, end, boundaries, lenient=True):
                found.append(Mention(start, end, piece, (self.names[owners.pop()],), "typo"))
                covered[start:end] = [True] * size
        return found

    @staticmethod
    def _edge_ok(text: str, start: int, end: int, boundaries: set[int], *, lenient: bool = False) -> bool:
        """A derived form must not sit inside a longer word of CJK text."""
        left = start == 0 or not is_cjk(text[start - 1]) or start in boundaries or text[:start].endswith(_LEFT_OK)
        right = end == len(text) or not is_cjk(text[end]) or end in boundaries or lenient
        return left and right

    @staticmethod
    def _weak_ok(text: str, start: int, end: int, boundaries: set[int]) -> bool:
        """A short form that is also a common word counts only where a name can stand."""
        before = text[:start].rstrip()
        left = not before or not (is_cjk(before[-1]) or before[-1].isalnum()) or before.endswith(_LEFT_OK)
        right = end == len(text) or not is_cjk(text[end]) or end in boundaries
        return left and right


def strip_leading_noise(name: str) -> tuple[str, bool]:
    """Drop time words and verbs before a name; True when something was dropped."""
    dropped = False
    changed = True
    while changed and name:
        changed = False
        for word in sorted(LEADING_NOISE, key=len, reverse=True):
            if name.startswith(word) and len(name) > len(word):
                name = name[len(word) :]
                dropped = changed = True
                break
    return name, dropped


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
    return not (name in REGIONS or name in INDUSTRY_WORDS)


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
        if _valid_name(name) and free(start, start + len(name)):
            found.append(Mention(start, start + len(name), name, (), "new"))
    return found


def find_org_like(text: str, taken: list[tuple[int, int]]) -> list[Mention]:
    """Unknown names that look like companies (a region, a brand, an industry word)."""
    return _org_like(text, _free(taken, []))


def prefer(typos: list[Mention], orgs: list[Mention]) -> list[Mention]:
    """Settle a misspelt known name against a longer unknown company name around it.

    海之兰水产 is 海之蓝水产 misspelt; 宁夏塞上明珠酒业 is a new customer even though
    明珠酒业 is one character from 明德酒业: more than a region around the typo means new.
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
        extra = text_outside(org, typo)
        if extra and _strip_region(extra + "某某") != "某某" and extra not in REGIONS:
            dropped.update(inside)
            kept_orgs.append(org)
    return [t for i, t in enumerate(typos) if i not in dropped] + kept_orgs


def text_outside(outer: Mention, inner: Mention) -> str:
    return outer.text[: inner.start - outer.start] + outer.text[inner.end - outer.start :]


_RUN = re.compile(r"[\u3400-\u9fffA-Za-z0-9]{3,40}")


_ENDINGS = tuple(sorted((INDUSTRY_WORDS | set(LEGAL_SUFFIXES)) - _GENERIC_ENDINGS, key=len, reverse=True))


_ENDING_RE = re.compile("|".join(map(re.escape, _ENDINGS)))


def _org_end(chunk: str) -> int:
    """Where the first company-looking name in ``chunk`` ends (物流集团, 科技有限公司 …), or -1."""
    first = _ENDING_RE.search(chunk, 2)
    if first is None:
        return -1
    end = first.end()
    while (nxt := _ENDING_RE.match(chunk, end)) is not None:
        end = nxt.end()
    return end


def _org_like(text: str, free: Callable[[int, int], bool]) -> list[Mention]:
    """A run that ends in a company word and starts where a name can start."""
    out: list[Mention] = []
    for run in _RUN.finditer(text):
        chunk = run.group(0)
        end = _org_end(chunk)
        if end <= 0:
            continue
        candidate, dropped = strip_leading_noise(chunk[:end])
        offset = run.start() + end - len(candidate)
        core = _strip_industry(_strip_legal(candidate))[0]
        if not _valid_name(candidate) or any(ch in _PARTICLES for ch in core):
            continue
        if not (run.start() == 0 or not is_cjk(text[run.start() - 1]) or dropped):
            continue
        has_legal = candidate != _strip_legal(candidate)
        has_region = _strip_region(core) is not None or core in REGIONS
        if not (has_legal or has_region or word_frequency(core) < COMMON_WORD):
            continue
        if free(offset, offset + len(candidate)):
            out.append(Mention(offset, offset + len(candidate), candidate, (), "new"))
    return out
