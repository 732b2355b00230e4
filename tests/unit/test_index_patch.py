"""A customer index patched in place (``remove`` then ``add``) finds what a fresh build of the new list finds: the
forms, aliases, Latin names, typo keys and tokenizer words of the old names are gone, shared ones stay."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from nlu.customers import CustomerIndex
from nlu.parser import BriefParser

NOW = datetime(2026, 12, 1, 18, 0, tzinfo=ZoneInfo("Asia/Shanghai"))

CUSTOMERS: list[tuple[str, list[str]]] = [
    ("江苏省苏州市工业园区恒瑞达精密机械股份有限公司", []),
    ("上海瑞达机电设备有限公司", ["瑞达"]),
    ("瑞达机电", []),  # folds to the same full name as the one above without its suffix
    ("宁波新港物流股份有限公司", ["小港"]),
    ("杭州新港物流有限公司", []),  # the same brand and trade in another city
    ("浙江天成建材有限公司", []),
    ("广州市番禺区百草堂中药饮片有限公司", []),
    ("深圳市Apex智能科技有限公司", ["APEX"]),
    ("佛山市南海区嘉利陶瓷有限公司", []),
    ("青岛海之蓝水产有限公司", []),
    ("常州华润纺织机械有限公司", []),
    ("常州华闰纺织机械有限公司", []),  # one character apart: they share typo keys
    ("北京云帆科技有限公司", ["云帆"]),
]
RENAMED = {
    "上海瑞达机电设备有限公司": ("上海瑞达智能装备有限公司", ["瑞达"]),
    "宁波新港物流股份有限公司": ("宁波新港物流股份有限公司", ["港哥"]),  # only the alias changes
    "深圳市Apex智能科技有限公司": ("深圳市Nova智能科技有限公司", ["NOVA"]),
    "常州华润纺织机械有限公司": ("常州华润纺织机械集团有限公司", []),
}
REMOVED = {"青岛海之蓝水产有限公司", "北京云帆科技有限公司", "瑞达机电"}

BRIEFS = [
    "今天拜访了恒瑞达精密,确认了需求,金额50万",
    "瑞达机电 方案演示完成,下周报价",
    "瑞达智能装备 报价已发,预计月底签",
    "瑞达 需求确认了",
    "小港 下周三演示",
    "港哥 报价30万",
    "新港物流 需求确认了",
    "杭州新港物流 有意向",
    "Apex 方案演示完成",
    "NOVA 下周去拜访",
    "Nova智能 报价20万",
    "天成建材 签了,金额80万",
    "百草堂饮片 需求调研完成,预算一百五十万",
    "嘉利陶瓷 约了下周二见面",
    "海之蓝水产 丢了,选了别家",
    "云帆 下周一演示",
    "华润纺织 报价已发",
    "华闰纺织 方案演示完成",
    "华润纺机集团 确认需求",
    "常州华润纺织机械集团有限公司 签约了",
    "恒瑞大精密 确认需求",  # a typo
]


def _answers(index: CustomerIndex) -> list[str]:
    parser = BriefParser(index)
    return [repr(parser.parse(text, NOW)) for text in BRIEFS]


def test_a_patched_index_finds_what_a_fresh_build_finds() -> None:
    patched = CustomerIndex(CUSTOMERS)
    before = _answers(patched)
    for name in REMOVED:
        assert patched.remove(name)
    for old, (new, aliases) in RENAMED.items():
        assert patched.remove(old) and patched.add(new, aliases)
    assert not patched.remove("不存在的客户")
    final = [RENAMED.get(n, (n, a)) for n, a in CUSTOMERS if n not in REMOVED]
    fresh = CustomerIndex(final)
    assert len(patched) == len(fresh) == len(final)
    after = _answers(fresh)
    assert after != before  # the changes matter to these briefs: the comparison below can fail
    assert _answers(patched) == after
    assert patched.tokenizer._extra == fresh.tokenizer._extra
    assert patched._full.keys() == fresh._full.keys()


def test_a_name_shared_with_another_customer_stays_findable() -> None:
    """Two customers fold to one full name and share a brand: removing one leaves the other's forms and words."""
    index = CustomerIndex([("瑞达机电有限公司", []), ("瑞达机电", [])])
    assert index.remove("瑞达机电有限公司")
    fresh = CustomerIndex([("瑞达机电", [])])
    assert index._full.keys() == fresh._full.keys() and index.tokenizer._extra == fresh.tokenizer._extra
    assert _answers(index) == _answers(fresh)
