"""Each rule family of the parser with its own small examples."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from nlu import BriefParser, CustomerIndex
from nlu.dates import find_dates, holiday
from nlu.names import parse_name
from nlu.numbers import cn_to_int, find_amounts
from tests.conftest import TZ

THU = date(2026, 11, 26)  # a Thursday


def _dates(text: str, today: date = THU) -> list[str | None]:
    return [h.value.isoformat() if h.value else None for h in find_dates(text, today)]


@pytest.mark.parametrize(
    ("text", "today", "expected"),
    [
        ("明天", THU, "2026-11-27"),
        ("后天", THU, "2026-11-28"),
        ("大后天", THU, "2026-11-29"),
        ("5天后", THU, "2026-12-01"),
        ("一周后", THU, "2026-12-03"),
        ("3周后", THU, "2026-12-17"),
        ("下周三", THU, "2026-12-02"),
        ("下礼拜一", THU, "2026-11-30"),
        ("下星期天", THU, "2026-12-06"),
        ("下下周二", THU, "2026-12-08"),
        ("周五", THU, "2026-11-27"),  # later this week
        ("周三", THU, "2026-12-02"),  # already past: next week's
        ("本周四", THU, "2026-11-26"),
        ("下周", THU, "2026-12-04"),
        ("本周内", THU, "2026-11-27"),
        ("下周三", date(2026, 12, 30), "2027-01-06"),  # across the year end
        ("下周一", date(2027, 1, 31), "2027-02-01"),  # across a month end
        ("12月20日", THU, "2026-12-20"),
        ("3月5号", THU, "2027-03-05"),  # passed this year: next year's
        ("12.8", THU, "2026-12-08"),
        ("1/15", THU, "2027-01-15"),
        ("28号", THU, "2026-11-28"),
        ("20号", THU, "2026-12-20"),
        ("月底", THU, "2026-11-30"),
        ("月初", THU, "2026-12-10"),  # this month's has passed
        ("月中", date(2026, 11, 3), "2026-11-15"),
        ("中旬", date(2026, 11, 3), "2026-11-20"),
        ("下旬", THU, "2026-11-30"),
        ("下个月底", THU, "2026-12-31"),
        ("下月初", THU, "2026-12-10"),
        ("2月底", THU, "2027-02-28"),
        ("下个月8号", THU, "2026-12-08"),
        ("年底", THU, "2026-12-31"),
        ("季度末", date(2026, 5, 6), "2026-06-30"),
        ("下季度末", THU, "2027-03-31"),
        ("元旦", THU, "2027-01-01"),
        ("国庆前", THU, "2027-09-30"),
        ("五一", THU, "2027-05-01"),
        ("春节前", THU, "2027-02-05"),
        ("端午", date(2026, 6, 1), "2026-06-19"),
        ("中秋", date(2031, 1, 1), "2031-10-01"),
        ("春节", date(2044, 3, 1), "2045-02-17"),  # computed, no table
    ],
)
def test_dates(text: str, today: date, expected: str) -> None:
    assert _dates(text, today) == [expected]


@pytest.mark.parametrize("text", ["近期", "过段时间", "改天", "尽快", "明年再看"])
def test_vague_dates_are_none(text: str) -> None:
    assert _dates(text) == [None]


@pytest.mark.parametrize("text", ["65.5万", "2.3亿", "版本2.3 版", "提成10%", "1、", "二期", "3个人"])
def test_not_dates(text: str) -> None:
    assert [d for d in _dates(text) if d] == []


def test_holiday_is_the_next_to_come() -> None:
    assert holiday("中秋", date(2026, 9, 25)) == date(2026, 9, 25)
    assert holiday("中秋", date(2026, 9, 26)) == date(2027, 9, 15)


@pytest.mark.parametrize(
    ("text", "yuan"),
    [
        ("预算100万", [1_000_000]),
        ("一百五十万", [1_500_000]),
        ("两千万", [20_000_000]),
        ("¥860,000", [860_000]),
        ("65.5万", [655_000]),
        ("40来万", [400_000]),
        ("五十多万", [500_000]),
        ("80万左右", [800_000]),
        ("~30w", [300_000]),
        ("5k", [5_000]),
        ("1.2亿", [120_000_000]),
        ("报价80000", [80_000]),
        ("10%", []),
        ("3天后", []),
        ("50个用户", []),
        ("10万用户", []),
    ],
)
def test_amounts(text: str, yuan: list[int]) -> None:
    assert [a.yuan for a in find_amounts(text)] == yuan


def test_chinese_numerals() -> None:
    assert [cn_to_int(x) for x in ("十", "十五", "二十", "一百零五", "两千三百", "一二三", "一亿二千万")] == [
        10,
        15,
        20,
        105,
        2300,
        123,
        120_000_000,
    ]


def test_name_model_takes_a_name_apart() -> None:
    name = parse_name("浙江天成建材有限公司")
    assert (name.brand, name.trades, name.places) == ("天成", ("建材",), (("浙江", 0),))


def _names(parser: BriefParser, text: str) -> list[tuple[str, bool]]:
    result = parser.parse(text, datetime(2026, 11, 26, 18, 30, tzinfo=TZ))
    return [(u.customer, u.is_new) for u in result.updates]


@pytest.fixture(scope="module")
def parser() -> BriefParser:
    return BriefParser(
        ["上海瑞达机电", "深圳瑞达电子", "青岛海之蓝水产", "光明乳业集团", "重庆长城汽配", "北京中联咨询"]
    )


def test_short_forms_typos_and_suffixes(parser: BriefParser) -> None:
    assert _names(parser, "瑞达机电确认了需求") == [("上海瑞达机电", False)]
    assert _names(parser, "海之兰那边签约了") == [("青岛海之蓝水产", False)]
    assert _names(parser, "青岛海之蓝水产有限公司 已报价") == [("青岛海之蓝水产", False)]
    assert _names(parser, "中联咨询公司 需求确认") == [("北京中联咨询", False)]


def test_ambiguous_short_form_lists_candidates(parser: BriefParser) -> None:
    result = parser.parse("瑞达确认需求了", datetime(2026, 11, 26, tzinfo=TZ))
    [update] = result.updates
    assert update.to_dict()["customer"] is None and update.to_dict()["candidates"] == ["上海瑞达机电", "深圳瑞达电子"]


def test_common_words_are_not_customers(parser: BriefParser) -> None:
    assert _names(parser, "客户说前景很光明,需求确认了") == []
    assert _names(parser, "爬长城的时候聊了需求") == []
    assert _names(parser, "光明那边演示完了") == [("光明乳业集团", False)]


def test_new_customers(parser: BriefParser) -> None:
    assert _names(parser, "新客户:杭州云帆科技,初次拜访") == [("杭州云帆科技", True)]
    assert _names(parser, "拜访了一家新客户宁波新港物流,有意向") == [("宁波新港物流", True)]
    assert _names(parser, "今天接触了一个新客户,叫苏州恒美纺织") == [("苏州恒美纺织", True)]
    assert _names(parser, "今天在公司写方案,没有拜访客户") == []
    assert _names(parser, "我们公司的售后服务很好") == []


def test_multi_customer_briefs_keep_facts_apart(parser: BriefParser) -> None:
    now = datetime(2026, 11, 26, 18, 30, tzinfo=TZ)
    result = parser.parse("①瑞达机电:签约了,50万\n②中联咨询:需求确认,预算20万;光明乳业 丢单了", now)
    got = {u.customer: (u.stage, u.amount) for u in result.updates}
    assert got == {
        "上海瑞达机电": ("won", 500_000),
        "北京中联咨询": ("qualified", 200_000),
        "光明乳业集团": ("lost", None),
    }
    both = parser.parse("瑞达机电、中联咨询都做完演示了", now)
    assert [(u.customer, u.stage) for u in both.updates] == [("上海瑞达机电", "demo"), ("北京中联咨询", "demo")]


@pytest.mark.parametrize(
    ("text", "stage"),
    [
        ("瑞达机电 确认了需求,下周三做方案演示", "qualified"),  # reached, not planned
        ("瑞达机电 准备下周做演示", None),
        ("瑞达机电 演示定在周五", None),
        ("瑞达机电 还没签约", None),
        ("瑞达机电 项目暂停", None),  # a pause is not a loss
        ("瑞达机电 还在观望", None),
        ("瑞达机电 预算冻结", None),
        ("瑞达机电 预计月底签约", None),
        ("瑞达机电 合同签了", "won"),
        ("瑞达机电 选了竞品", "lost"),
        ("瑞达机电 报价已发", "negotiation"),
        ("瑞达机电 第一次见面,加了微信", "initial"),
        ("瑞达机电 POC完成", "demo"),
    ],
)
def test_stage_reached_versus_planned(parser: BriefParser, text: str, stage: str | None) -> None:
    [update] = parser.parse(text, datetime(2026, 11, 26, 18, 30, tzinfo=TZ)).updates
    assert update.stage == stage


def test_latest_figure_and_confidence(parser: BriefParser) -> None:
    now = datetime(2026, 11, 26, 18, 30, tzinfo=TZ)
    [u] = parser.parse("瑞达机电 我们报45万,他们还价到38万,把握一般", now).updates
    assert (u.amount, u.confidence) == (380_000, "medium")
    [u] = parser.parse("瑞达机电 客户挺满意的", now).updates
    assert u.confidence is None
    [u] = parser.parse("瑞达机电 首付20万,合同总额100万,希望不大", now).updates
    assert (u.amount, u.confidence) == (1_000_000, "low")


@pytest.mark.parametrize(
    ("text", "intent", "query"),
    [
        ("帮助", "command", "help"),
        ("/help", "command", "help"),
        ("撤销", "command", "undo"),
        ("取消", "command", "cancel"),
        ("你好", "chitchat", None),
        ("谢谢!", "chitchat", None),
        ("哪些客户超期了", "query", "overdue"),
        ("本月漏斗", "query", "funnel"),
        ("这季度预测能成交多少", "query", "forecast"),
        ("我的提成是多少", "query", "commission"),
        ("我的目标完成了多少", "query", "goal"),
        ("我的积分", "query", "points"),
        ("今天谁还没交简报", "query", "activity"),
        ("瑞达机电现在什么情况", "query", "customer"),
        ("瑞达机电这类客户怎么推进", "query", "recommend"),
        ("瑞达机电 演示完了,客户问能不能再便宜点?", "brief", None),
    ],
)
def test_intents(parser: BriefParser, text: str, intent: str, query: str | None) -> None:
    result = parser.parse(text, datetime(2026, 11, 26, tzinfo=TZ))
    assert (result.intent, result.query) == (intent, query)


def test_customer_lists_do_not_leak_between_indexes() -> None:
    a = CustomerIndex(["上海瑞达机电"])
    b = CustomerIndex(["北京博远咨询"])
    assert "瑞达机电" in a.tokenizer.cut("上海瑞达机电签约")
    assert "瑞达机电" not in b.tokenizer.cut("上海瑞达机电签约")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "😀" * 50,
        "hello world, nothing to see",
        "\x00\x01\x7f\ufeff\u200b",
        "\ufffd\ufffd",
        "签" * 20_000,
        "瑞达机电 " * 4000,
        "1、" * 5000 + "下周三" * 1000,
    ],
)
def test_bad_input_gives_a_valid_result_quickly(parser: BriefParser, text: str) -> None:
    import time

    started = time.perf_counter()
    result = parser.parse(text, datetime(2026, 11, 26, tzinfo=TZ)).to_dict("x")
    assert result["intent"] in ("brief", "query", "command", "chitchat")
    assert time.perf_counter() - started < 5  # a hang guard, not a benchmark
