"""What a message is: a brief, a question about the data, a command, or small talk."""

from __future__ import annotations

import re

COMMANDS = {
    "help": re.compile(r"^(?:/?help|/?帮助|帮助一下|使用说明|怎么用|菜单|\?|？|/start)$", re.IGNORECASE),
    "undo": re.compile(r"^/?(?:撤销|撤回|undo)(?:上一条|刚才那条|简报)?$", re.IGNORECASE),
    "cancel": re.compile(r"^/?(?:取消|cancel|算了)$", re.IGNORECASE),
}

_QUESTION = re.compile(
    r"[?？]|吗|呢|多少|哪些|哪个|哪家|几个|几家|怎么|怎样|如何|什么|是否|有没有|谁|排名|还差|"
    r"^(?:查|查询|查一下|看看|看一下|给我看|帮我|列出|列一下|统计|显示|告诉我|我想知道|请问)"
)
_KINDS: list[tuple[str, re.Pattern[str]]] = [
    (
        "recommend",
        re.compile(
            r"怎么(?:推进|打|跟|搞定|拿下|攻|做|办|突破)|如何(?:推进|跟进|拿下|突破|打)|类似|相似|同类|"
            r"这种客户|这类客户|(?:给点|有什么|有啥)建议|策略|打法|推进建议|下一步怎么"
        ),
    ),
    (
        "overdue",
        re.compile(
            r"超期|逾期|过期|没跟进|未跟进|没有跟进|很久没|太久|停留|停滞|卡住|卡在|拖了|超过\s*\d+\s*天|"
            r"沉睡|掉线|没动静|没联系|该跟进|需要跟进|要跟进|待跟进"
        ),
    ),
    (
        "activity",
        re.compile(
            r"日报|周报|简报(?!.*(?:签|演示|报价))|提交情况|交了没|谁没(?:交|发|写)|谁还没|活跃|团队动态|"
            r"打卡|汇报情况|谁(?:今天|本周|这周)?(?:没有?|还没)"
        ),
    ),
    ("points", re.compile(r"积分|排行榜|积分榜|兑换|奖励")),
    ("commission", re.compile(r"提成|佣金|奖金|绩效工资")),
    ("goal", re.compile(r"目标|完成率|完成度|KPI|kpi|指标|任务量|业绩任务|还差多少")),
    (
        "forecast",
        re.compile(
            r"预测|预估|forecast|(?:预计|能|可以|会)[^,，。]{0,8}(?:成交|签|收入|回款|业绩)[^,，。]{0,4}多少|"
            r"能签多少|能成交多少|能做到多少|业绩预期|(?:能|可以|会)[^,，。]{0,6}多少(?:业绩|单子|订单|钱|金额)"
        ),
    ),
    ("funnel", re.compile(r"漏斗|各阶段|阶段分布|每个阶段|pipeline|管道|商机分布|销售阶段")),
    (
        "customer",
        re.compile(
            r"^(?:帮我|帮忙|请)?(?:查|查一下|查下|查查|看看|看一下|看下|给我看看?)|到哪一?步|哪个阶段|什么阶段|进展(?:如何|怎么样|到哪)?|情况(?:如何|怎么样)?|详情|状态|"
            r"怎么样了|最新|跟进记录|历史"
        ),
    ),
]
_BUSINESS = re.compile(
    r"拜访|沟通|电话|演示|报价|签约|签了|合同|需求|方案|客户|跟进|见面|会议|POC|poc|预算|丢单|成交|谈|采购|招标|"
    r"回款|交付|实施|微信|对接|调研|意向|确认|demo|quot|meeting|deal|proposal|汇报|介绍|联系|考察|试用|项目"
)
_CHITCHAT = re.compile(
    r"^(?:你好|您好|hi|hello|hey|早|早上好|早安|上午好|中午好|下午好|晚上好|晚安|谢谢|多谢|感谢|辛苦了?|好的|收到|"
    r"ok|嗯|哈+|呵呵|在吗|在不在|拜拜|再见|👍|厉害|牛)[!！。.~～\s]*$",
    re.IGNORECASE,
)


def command(text: str) -> str | None:
    stripped = text.strip().rstrip("!！。.")
    for name, pattern in COMMANDS.items():
        if pattern.match(stripped):
            return name
    return None


def query_kind(text: str, *, names_customer: bool) -> str | None:
    """The query kind when ``text`` asks about the data, else None."""
    stripped = text.strip()
    asks = bool(_QUESTION.search(stripped)) or len(stripped) <= 12
    for kind, pattern in _KINDS:
        if kind == "customer" and not names_customer:
            continue
        if kind == "recommend" and not (asks or names_customer):
            continue
        if pattern.search(stripped) and (asks or len(stripped) <= 24):
            if (
                kind == "activity"
                and re.search(r"签约|演示|报价|需求确认", stripped)
                and not _QUESTION.search(stripped)
            ):
                continue
            return kind
    if names_customer and len(stripped) <= 16 and re.search(r"[?？]|吗|呢|怎么样|如何", stripped):
        return "customer"
    return None


def looks_like_business(text: str) -> bool:
    return bool(_BUSINESS.search(text))


def is_chitchat(text: str) -> bool:
    return bool(_CHITCHAT.match(text.strip()))
