"""Every rule contract v2 adds (the NLU contract; README「简报解析」), each class with several paraphrases.

None of these sentences is from a dev set: they are written per class of phrasing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from nlu import BriefParser
from tests.conftest import TZ

CUSTOMERS = [
    "江苏省常州市武进区恒润纺织机械有限公司",
    "深圳市鼎晟电子科技有限公司",
    "东莞市鼎晟电气设备有限公司",
    "苏州远帆物流有限公司",
    "宁波远帆物流有限公司",
    "上海市闵行区德康医疗器械有限公司",
    "杭州市西湖区云栖数据科技有限公司",
    "安澜保险经纪（上海）有限公司",
    "Veloce Motion (上海) 有限公司",
]
HENGRUN, DS_ELEC, DS_GEAR = CUSTOMERS[0], CUSTOMERS[1], CUSTOMERS[2]
FRI = datetime(2026, 12, 4, 19, 0, tzinfo=TZ)  # a Friday


@pytest.fixture(scope="module")
def parser() -> BriefParser:
    return BriefParser(CUSTOMERS)


def _parse(parser: BriefParser, text: str, now: datetime = FRI) -> dict[str, Any]:
    return parser.parse(text, now).to_dict()


def _one(parser: BriefParser, text: str, now: datetime = FRI) -> dict[str, Any]:
    result = _parse(parser, text, now)
    assert result["intent"] == "brief", text
    [update] = result["updates"]
    return dict(update)


# -- intents ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["恒润现在啥情况", "恒润跟到哪了", "帮我看下恒润纺机", "恒润纺机是不是超期了？", "查一下恒润的跟进记录"]
)
def test_a_question_about_one_customer_is_a_customer_query(parser: BriefParser, text: str) -> None:
    result = _parse(parser, text)
    assert (result["intent"], result["query"], result["customer"]) == ("query", "customer", HENGRUN)
    assert result["updates"] == []


@pytest.mark.parametrize("text", ["恒润下一步怎么跟", "恒润该怎么推", "恒润纺机这单该怎么打"])
def test_how_to_push_a_customer_is_recommend(parser: BriefParser, text: str) -> None:
    assert _parse(parser, text)["query"] == "recommend" and _parse(parser, text)["customer"] == HENGRUN


@pytest.mark.parametrize(
    "text",
    [
        "这个客户怎么推进",
        "这家下一步怎么跟?",
        "那这单该怎么推",
        "刚才那家怎么拿下",
        "华光精工下一步怎么跟进",
        "金瑞达那单咋推",
    ],
)
def test_how_to_push_an_unnamed_or_unknown_customer_is_still_a_question(parser: BriefParser, text: str) -> None:
    result = _parse(parser, text)
    assert (result["intent"], result["query"], result["customer"], result["updates"]) == (
        "query",
        "recommend",
        None,
        [],
    )


@pytest.mark.parametrize(
    "text",
    [
        "客户说下一步怎么推进要等领导开会定",
        "恒润 老板说下一步怎么做等他们内部讨论完",
        "华光电子 下一步怎么推进还没定,下周再联系",
    ],
)
def test_a_report_of_what_the_customer_said_about_next_steps_is_a_brief(parser: BriefParser, text: str) -> None:
    assert _parse(parser, text)["intent"] == "brief"


@pytest.mark.parametrize(
    "text",
    ["恒润客户反馈怎么样了", "恒润王总说的方案演示做了没", "恒润那边老板说什么了?", "恒润纺机张总讲的那个需求确认了吗"],
)
def test_asking_what_the_customer_said_is_still_a_question(parser: BriefParser, text: str) -> None:
    result = _parse(parser, text)
    assert (result["intent"], result["customer"]) == ("query", HENGRUN) and result["updates"] == []


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("我的客户有哪些", "customers"),
        ("孙浩的客户", "customers"),
        ("列一下我名下所有客户", "customers"),
        ("本周任务", "tasks"),
        ("这周要跟哪些客户", "tasks"),
        ("下周要跟哪些客户", "tasks"),
        ("本周拜访计划", "tasks"),
        ("哪些客户超期了", "overdue"),
        ("有没有超过两周没跟进的客户", "overdue"),
        ("目前各个阶段的单子数量和金额汇总一下", "funnel"),
    ],
)
def test_list_queries(parser: BriefParser, text: str, kind: str) -> None:
    assert (_parse(parser, text)["intent"], _parse(parser, text)["query"]) == ("query", kind)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("撤销", "undo"),
        ("撤回上一条", "undo"),
        ("嗯那个撤回一下刚才那条", "undo"),
        ("撤销上一条,金额写错了", "undo"),
        ("取消", "cancel"),
        ("算了算了", "cancel"),
        ("不用了 取消吧", "cancel"),
        ("你能做什么", "help"),
        ("这个机器人怎么用啊", "help"),
    ],
)
def test_commands(parser: BriefParser, text: str, name: str) -> None:
    assert (_parse(parser, text)["intent"], _parse(parser, text)["query"]) == ("command", name)


@pytest.mark.parametrize(
    "text", ["恒润签了没", "恒润 签了?", "恒润是不是黄了", "恒润报价发了吗", "恒润那单凉了?", "怎么拿下恒润"]
)
def test_a_yes_no_question_about_what_happened_is_no_brief(parser: BriefParser, text: str) -> None:
    result = _parse(parser, text)
    assert (result["intent"], result["customer"], result["updates"]) == ("query", HENGRUN, [])


@pytest.mark.parametrize("text", ["恒润 需求确认了 下周三演示 这种客户一般怎么推?", "恒润 三家都没联系上"])
def test_reporting_and_asking_is_a_brief(parser: BriefParser, text: str) -> None:
    assert _parse(parser, text)["intent"] == "brief"


def test_a_brief_with_no_customer(parser: BriefParser) -> None:
    result = _parse(parser, "今天没出去 在公司写周报 下午开了个部门会")
    assert (result["intent"], result["updates"]) == ("brief", [])


# -- stages ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "stage"),
    [
        ("恒润 合同在走盖章流程 这周五应该能签", "negotiation"),
        ("恒润 合同快签了", "negotiation"),
        ("恒润 年前应该能签", "negotiation"),
        ("恒润 法务在审合同", "negotiation"),
        ("恒润 我们报的45万 他们想压到38", "negotiation"),
        ("恒润 预计月底签", None),
        ("恒润 争取年前签下来", None),
        ("恒润 签了框架协议", None),
        ("恒润 意向书签了", None),
        ("恒润 首付款到了 30万", None),
        ("恒润 验收通过", None),
        ("恒润 项目暂停了", None),
        ("恒润 预算没批下来 先搁置", None),
        ("恒润 预算没批 这单黄了", "lost"),
        ("恒润 被竞品截胡了", "lost"),
        ("恒润 上周五签的", "won"),
        ("恒润 PO下了", "won"),
        ("恒润 PPT讲完了 客户挺满意", "demo"),
        ("恒润 今天给信息中心做了一次上门演示", "demo"),
        ("恒润 需求上周摸清楚了", "qualified"),
        ("恒润 CIO加了我微信 聊了几句", "initial"),
        ("恒润 凉了", "lost"),
        ("恒润 quote 80k", "negotiation"),
        ("恒润 POC过了", "demo"),
        ("恒润 第一次上门 张总挺热情", "initial"),
        ("恒润 加了vx 意向不错", "initial"),
        ("恒润 选了 云枢", "lost"),
        ("恒润 下季度 启动招标", None),
        ("恒润 说 2/15 开工后 确认需求", None),
    ],
)
def test_stage_reached(parser: BriefParser, text: str, stage: str | None) -> None:
    assert _one(parser, text)["stage"] == stage


# -- customers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "candidates"),
    [("鼎晟 报价已发", [DS_GEAR, DS_ELEC]), ("远帆物流 需求确认了", ["宁波远帆物流有限公司", "苏州远帆物流有限公司"])],
)
def test_a_short_form_that_fits_several_gives_sorted_candidates(
    parser: BriefParser, text: str, candidates: list[str]
) -> None:
    update = _one(parser, text)
    assert update["customer"] is None and update["candidates"] == sorted(candidates)


@pytest.mark.parametrize(
    ("text", "customer"),
    [
        ("鼎晟 做电气那家 报价已发", DS_GEAR),
        ("鼎晟电子 报价已发", DS_ELEC),
        ("东莞鼎晟 报价已发", DS_GEAR),
        ("远帆 宁波那家 演示完了", "宁波远帆物流有限公司"),
        ("安澜保险 需求确认", "安澜保险经纪（上海）有限公司"),
        ("veloce 报价已发 1.5M", "Veloce Motion (上海) 有限公司"),
        ("云栖 签了", "杭州市西湖区云栖数据科技有限公司"),
    ],
)
def test_a_hint_or_a_form_picks_one(parser: BriefParser, text: str, customer: str) -> None:
    assert _one(parser, text)["customer"] == customer


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("杭州远帆物流 初次拜访 对方有意向", "杭州远帆物流"),
        ("北京德康医疗 第一次接触", "北京德康医疗"),
        ("今天拜访了温州瓯江阀门 王总 有意向", "温州瓯江阀门"),
    ],
)
def test_new_companies_and_the_place_rule(parser: BriefParser, text: str, name: str) -> None:
    update = _one(parser, text)
    assert (update["customer"], update["is_new"]) == (name, True)


@pytest.mark.parametrize("text", ["恒润 丢单了 客户选了用友", "恒润 被苏州鼎新软件截胡了"])
def test_a_competitor_gets_no_update(parser: BriefParser, text: str) -> None:
    assert [u["customer"] for u in _parse(parser, text)["updates"]] == [HENGRUN]


# -- dates -----------------------------------------------------------------------------------------

MON = datetime(2026, 11, 30, 10, 0, tzinfo=TZ)
SUN = datetime(2026, 12, 6, 10, 0, tzinfo=TZ)


@pytest.mark.parametrize(
    ("text", "now", "field", "day"),
    [
        ("恒润 上周五签的", MON, "expected_close", "2026-11-27"),
        ("恒润 周一签的合同", FRI, "expected_close", "2026-11-30"),
        ("恒润 这周一签的", FRI, "expected_close", "2026-11-30"),
        ("恒润 11月5号签的", datetime(2026, 11, 20, 9, 0, tzinfo=TZ), "expected_close", "2026-11-05"),
        ("恒润 报价已发 客户说周五前给答复", MON, "next_action_date", "2026-12-04"),
        ("恒润 月底前出方案", MON, "next_action_date", "2026-11-30"),
        ("恒润 8号前回复", MON, "next_action_date", "2026-12-08"),
        ("恒润 需求确认 年底前出方案", MON, "next_action_date", "2026-12-31"),
        ("恒润 需求确认 节后演示", datetime(2027, 9, 10, 9, 0, tzinfo=TZ), "next_action_date", "2027-09-16"),
        ("恒润 年后演示", datetime(2027, 1, 20, 9, 0, tzinfo=TZ), "next_action_date", "2027-02-13"),
        ("恒润 国庆后演示", datetime(2026, 9, 30, 9, 0, tzinfo=TZ), "next_action_date", "2026-10-08"),
        ("恒润 元旦后出方案", datetime(2026, 12, 31, 9, 0, tzinfo=TZ), "next_action_date", "2027-01-02"),
        ("恒润 五一后做演示", datetime(2027, 4, 30, 9, 0, tzinfo=TZ), "next_action_date", "2027-05-06"),
        ("恒润 端午后报价", datetime(2027, 5, 29, 9, 0, tzinfo=TZ), "next_action_date", "2027-06-10"),
        ("恒润 需求确认 预计Q3签", datetime(2027, 6, 30, 9, 0, tzinfo=TZ), "expected_close", "2027-09-30"),
        ("恒润 预计一季度末签", MON, "expected_close", "2027-03-31"),
        ("恒润 报价已发 下季度签", datetime(2027, 6, 30, 9, 0, tzinfo=TZ), "expected_close", "2027-07-01"),
        ("恒润 这周末去做POC", FRI, "next_action_date", "2026-12-05"),
        ("恒润 周末带样机过去", SUN, "next_action_date", "2026-12-06"),
        ("恒润 下个月再约", MON, "next_action_date", "2026-12-15"),
        ("恒润 下周星期一过去", MON, "next_action_date", "2026-12-07"),
        ("恒润 31号前发方案", datetime(2027, 4, 28, 9, 0, tzinfo=TZ), "next_action_date", "2027-04-30"),
        ("恒润 过两天发报价", MON, "next_action_date", "2026-12-02"),
        ("恒润 follow up 下周二", MON, "next_action_date", "2026-12-08"),
        ("恒润 demo 明天", MON, "next_action_date", "2026-12-01"),
        ("恒润 5/12 去做正式汇报", MON, "next_action_date", "2027-05-12"),
        ("1/8 去 恒润 做演示", MON, "next_action_date", "2027-01-08"),
        ("恒润 门店30多家 下周二 培训", MON, "next_action_date", "2026-12-08"),
        ("恒润 老板说 12月5号 过来签", MON, "expected_close", "2026-12-05"),
    ],
)
def test_dates(parser: BriefParser, text: str, now: datetime, field: str, day: str) -> None:
    assert _one(parser, text, now)[field] == day


@pytest.mark.parametrize(
    "text", ["恒润 下季度再说", "恒润 年后再说吧", "恒润 Q4再看", "恒润 月底再看看", "恒润 这两天再联系"]
)
def test_later_is_not_a_date(parser: BriefParser, text: str) -> None:
    assert _one(parser, text, MON)["next_action_date"] is None


@pytest.mark.parametrize(
    "text",
    [
        "12.31 日报 恒润 需求基本明确",
        "恒润 签了 明天元旦就不打扰了",
        "恒润 春节礼盒的单 报了12万",
        "周末也不消停 恒润 报了120k 对方压到100",
    ],
)
def test_decoy_dates(parser: BriefParser, text: str) -> None:
    assert _one(parser, text, datetime(2026, 12, 31, 18, 0, tzinfo=TZ))["next_action_date"] is None


@pytest.mark.parametrize(
    ("text", "step"),
    [("恒润 下周四前回复", "回复"), ("恒润 客户说周三前给反馈", "反馈"), ("恒润 回款预计12月20日", "回款")],
)
def test_next_action_is_a_clean_phrase(parser: BriefParser, text: str, step: str) -> None:
    update = _one(parser, text, MON)
    assert update["next_action"] == step, update["next_action"]


# -- amounts and confidence ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("恒润 报价单已经给了 165w 对方要压到150", 1_500_000),
        ("恒润 我们报的45万,他们还到38", 380_000),
        ("恒润 预算50-60万", 500_000),
        ("恒润 大概五六十万", 500_000),
        ("恒润 50到60万的单子", 500_000),
        ("恒润 合同12万8", 128_000),
        ("恒润 报了1.5M", 1_500_000),
        ("恒润 1.2个亿的项目", 120_000_000),
        ("恒润 40来万", 400_000),
        ("恒润 每月3.5k", None),
        ("恒润 单价3万买10套", None),
        ("恒润 上百万的项目", None),
        ("恒润 门店30多家", None),
        ("恒润 回款到了💰 50w", None),
    ],
)
def test_amounts(parser: BriefParser, text: str, amount: int | None) -> None:
    assert _one(parser, text)["amount"] == amount


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("恒润 七成把握", "high"),
        ("恒润 80%的把握", "high"),
        ("恒润 大概率能成", "high"),
        ("恒润 有戏", "high"),
        ("恒润 五成把握", "medium"),
        ("恒润 不好说", "medium"),
        ("恒润 【把握】一般", "medium"),
        ("恒润 把握:三成", "low"),
        ("恒润 估计就20%", "low"),
        ("恒润 够呛", "low"),
        ("恒润 客户挺满意", None),
    ],
)
def test_confidence(parser: BriefParser, text: str, level: str | None) -> None:
    assert _one(parser, text)["confidence"] == level
