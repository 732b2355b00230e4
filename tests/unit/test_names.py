"""The name model on lists we generate (tests/namegen.py): thousands of legal names, none from a dev set."""

from __future__ import annotations

import random
from datetime import datetime

import pytest

from nlu import BriefParser
from nlu.names import parse_name
from tests.conftest import TZ
from tests.namegen import GenName, latin_names, names, other_city

NOW = datetime(2026, 12, 3, 18, 0, tzinfo=TZ)
NAMES = names(3000)


@pytest.fixture(scope="module")
def parser() -> BriefParser:
    return BriefParser([n.canonical for n in NAMES] + [n.canonical for n in latin_names(5)])


def _updates(parser: BriefParser, text: str) -> list[tuple[str | None, bool, tuple[str, ...]]]:
    result = parser.parse(text, NOW).to_dict()
    return [(u["customer"], u["is_new"], tuple(u.get("candidates", ()))) for u in result["updates"]]


def _sample(k: int, seed: int) -> list[GenName]:
    return random.Random(seed).sample(NAMES, k)


def test_every_shape_is_taken_apart() -> None:
    for n in NAMES[:600]:
        parsed = parse_name(n.canonical)
        assert parsed.brand == n.brand, n.canonical
        assert "".join(parsed.trades) == n.trade, n.canonical
        assert n.city in dict(parsed.places) or n.city not in n.canonical, n.canonical


@pytest.mark.parametrize("form", ["brand+trade", "city+brand", "brand+short trade", "canonical", "brand"])
def test_written_forms_find_their_customer(parser: BriefParser, form: str) -> None:
    """Recall over 400 generated names per form; a short form fits one name here (brands differ)."""
    rng = random.Random(form)
    hits = 0
    sample = _sample(400, 3)
    for n in sample:
        written = {
            "brand+trade": n.brand + n.trade,
            "city+brand": (n.city if n.city in n.canonical else "") + n.brand,
            "brand+short trade": n.brand + rng.choice(n.written),
            "canonical": n.canonical,
            "brand": n.brand,
        }[form]
        hits += _updates(parser, f"{written} 需求确认了 下周三演示") == [(n.canonical, False, ())]
    assert hits / len(sample) >= 0.98


def test_another_place_is_another_company(parser: BriefParser) -> None:
    """宁波远帆物流 is not 苏州远帆物流: neither a short form nor a typo crosses a place."""
    rng = random.Random(5)
    for n in _sample(200, 4):
        city = other_city(n, rng)
        text = f"{city}{n.brand}{n.written[0]}"
        assert _updates(parser, f"今天拜访了{text} 有意向") == [(text, True, ())], n.canonical


def test_an_exact_form_beats_a_typo() -> None:
    p = BriefParser(["深圳市华信电子有限公司", "东莞市华新电气设备有限公司"])
    assert _updates(p, "华信电子 报价已发") == [("深圳市华信电子有限公司", False, ())]
    assert _updates(p, "华新电气 报价已发") == [("东莞市华新电气设备有限公司", False, ())]


@pytest.mark.parametrize(
    ("known", "written"),
    [
        ("福建省晋江市闽翔鞋业有限公司", "闽祥鞋业"),
        ("苏州工业园区捷迅半导体有限公司", "捷讯半导体"),
        ("佛山市南海区嘉利陶瓷有限公司", "佛山佳利陶瓷"),
        ("广州市番禺区百草堂中药饮片有限公司", "白草堂"),
        ("山东省临沂市兰山区鑫楷木业有限公司", "鑫凯"),
    ],
)
def test_a_typo_by_sound_finds_the_customer(known: str, written: str) -> None:
    p = BriefParser([known, "杭州云帆科技有限公司"])
    assert _updates(p, f"{written} 演示完了") == [(known, False, ())]


def test_a_typo_of_another_sound_in_a_short_brand_is_a_new_company() -> None:
    p = BriefParser(["苏州华港物流有限公司"])
    assert _updates(p, "宁波新港物流 初次拜访") == [("宁波新港物流", True, ())]
    assert _updates(p, "今天拜访了新港物流 有意向") == [("新港物流", True, ())]


def test_a_shared_brand_gives_sorted_candidates_until_something_picks_one() -> None:
    rng = random.Random(9)
    pairs = 0
    for n in _sample(60, 8):
        trade, written = next(t for t in [("家具", ("家具",)), ("食品", ("食品",))] if t[0] != n.trade)
        city = other_city(n, rng)
        twin = f"{city}市{n.brand}{trade}有限公司"
        p = BriefParser([n.canonical, twin, "杭州云帆科技有限公司"])
        both = tuple(sorted([n.canonical, twin]))
        assert _updates(p, f"{n.brand} 报价已发") == [(None, False, both)]
        assert _updates(p, f"{n.brand}{written[0]} 报价已发") == [(twin, False, ())]
        assert _updates(p, f"{city}{n.brand} 报价已发") == [(twin, False, ())]
        assert _updates(p, f"{n.brand} {city}那家 报价已发") == [(twin, False, ())]
        assert _updates(p, f"{n.brand} 做{written[0]}那家 报价已发") == [(twin, False, ())]
        pairs += 1
    assert pairs == 60


def test_a_place_in_brackets(parser: BriefParser) -> None:
    rng = random.Random(2)
    bracketed = [n for n in NAMES if "（" in n.canonical][:100]
    for n in bracketed:
        assert _updates(parser, f"{n.city}{n.brand} 签了")[0][:2] == (n.canonical, False)
        city = other_city(n, rng)
        assert _updates(parser, f"{city}{n.brand}{n.written[0]} 签了") == [(f"{city}{n.brand}{n.written[0]}", True, ())]


def test_english_names(parser: BriefParser) -> None:
    for n in latin_names(5):
        for written in (n.brand, n.brand.upper(), n.brand.lower(), f"{n.brand} {n.trade}"):
            assert _updates(parser, f"{written} 报价已发 80万") == [(n.canonical, False, ())], written
    p = BriefParser(["上海雍德(Yonder)智能科技有限公司"])
    assert _updates(p, "Yonder 初步介绍了产品") == [("上海雍德(Yonder)智能科技有限公司", False, ())]


def test_a_competitor_gets_no_update() -> None:
    p = BriefParser(["杭州云帆科技有限公司"])
    for text in (
        "云帆科技 丢单了 客户选了苏州鼎新软件",
        "云帆 被宁波海曙软件截胡了",
        "云帆 黄了 用了深圳迈科电子的方案",
    ):
        assert [u[0] for u in _updates(p, text)] == ["杭州云帆科技有限公司"], text


@pytest.mark.parametrize(
    "text",
    [
        "今天拜访了温州瓯江阀门 王总 有意向",
        "跑了常熟虞畔服饰 第一次见",
        "泰州舟浦船舶配件 加了微信",
        "新客户 南宁绿城物业 初次接触",
    ],
)
def test_a_new_company_needs_no_marker(text: str) -> None:
    p = BriefParser(["杭州云帆科技有限公司"])
    [(name, is_new, _)] = _updates(p, text)
    assert name is not None
    assert is_new and name in text and len(name) >= 4


def test_the_longest_place_at_a_position_is_found_in_one_walk() -> None:
    """``leading_places`` walks a trie of the place forms; it finds what trying every form length found."""
    from nlu import names

    def slow(text: str, pos: int) -> int | None:
        for size in names._PLACE_LENGTHS:
            if len(text[pos : pos + size]) == size and text[pos : pos + size] in names._PLACE_FORMS:
                return pos + size
        return None

    rng = random.Random(3)
    forms = sorted(names._PLACE_FORMS)
    for _ in range(3000):
        pieces = [rng.choice(forms) if rng.random() < 0.7 else rng.choice("恒瑞达市区县省新工业园") for _ in range(4)]
        text = "".join(pieces)
        for pos in range(len(text)):
            assert names._place_end(text, pos) == slow(text, pos), (text, pos)
