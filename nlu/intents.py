"""What a message is: a brief, a question about the data, a command, or small talk.

Every command word lives here (handlers read ``COMMAND_WORDS`` for their help text). A question
is told from a brief by what it asks (a question word, an imperative like 查/看看/列一下, or a bare
report name like 本周任务) and by what it does not say: a question names no event that happened.
"""

from __future__ import annotations

import re

from nlu.lexicon import SURNAMES

_TAIL = r"[\s!！。.~～?？呀啊呢吧哈嘛]*$"
_FILLER = r"^(?:(?:嗯|呃|哦|噢|那个|就是|额|诶|哎)[\s,，.。…~]*)*"
COMMAND_WORDS = {
    "help": ("帮助", "help", "/help", "怎么用", "你能做什么", "你是谁"),
    "undo": ("撤销", "撤回", "撤销上一条", "undo", "/undo"),
    "cancel": ("取消", "算了", "不用了", "/cancel"),
    "dashboard": ("看板", "打开看板", "/dashboard"),
}
# The admin and reward commands, read by their handlers (goals, points).
GOAL_OBJECTION = re.compile(r"^目标异议[\s:：,，]*(?P<reason>.*)$", re.S)
GOAL_SET = re.compile(r"^设[定置]目标[\s:：]+(?P<rest>.+)$", re.S)
GOAL_VALUE = re.compile(r"(?P<value>\d[\d,，]*(?:\.\d+)?\s*(?:亿|万|w|千|k)?)\s*(?:元|个|条|次)?", re.IGNORECASE)
REDEEM = re.compile(r"^兑换[\s:：]*(?P<what>.+)$")
# The channel report: 「渠道效果」「各渠道转化怎么样」「看看渠道分析」.
CHANNEL_REPORT = re.compile(
    r"^(?:看看|查看|查一下|查下)?(?:本月|这个月|全部)?(?:的)?(?:各个?|所有)?(?:线索)?渠道(?:的)?"
    r"(?:效果|分析|转化|表现|对比|情况|数据)"
)
# The public pool: 「公海」「公海里有哪些客户」; a rep claims one: 「领取杭州云启科技」.
POOL_LIST = re.compile(
    r"^(?:看看|查看|查一下)?公海(?:里|中)?(?:有(?:哪些|什么)(?:客户)?|的?客户|列表)?(?:呢|吗)?[?？。!！]*$"
)
POOL_CLAIM = re.compile(
    r"^(?:我要|我想)?领(?:取|走)(?:公海(?:里|中)?的?)?(?:客户)?[\s:：]*(?P<name>[^\s,，。!！?？]{2,40})[。!！]*$"
)
# A supervisor hands a lead (or a customer) to another rep: 「把云启科技分给李娜」「云启科技转给李娜跟进」.
REASSIGN = re.compile(
    r"^(?:请|麻烦)?(?:把|将)?(?P<what>[^\s,，。!！]{2,40}?)(?:这个|这条|这家)?(?:线索|客户)?"
    r"(?:分给|转给|交给|分配给|改派给|转交给)(?P<who>[^\s,，。!！]{2,10}?)(?:来|去)?(?:跟进|负责|跟)?(?:吧)?[\s。!！]*$"
)
# A supervisor (or an admin) in the team's group chat: this group is where the team's messages go. The team
# as written may end in 团队/团队群 (「绑定本群到华东一组团队」), or be a team whose name ends so (华东团队).
BIND_TEAM_SUFFIX = re.compile(r"的?团队群?$")
BIND_GROUP = re.compile(
    r"^(?P<verb>绑定|解绑|解除绑定|取消绑定)(?:本|这个|此|这)群(?:到|为|给|作为)?\s*(?P<team>[^\s,，。!！]*)[\s。!！]*$"
)
REDEEM_DECISION = re.compile(r"^(?P<verb>同意|批准|拒绝|驳回)(?:兑换)?\s*#?(?P<id>\d+)?[。!！]?$")
COMMANDS = {
    "help": re.compile(
        _FILLER
        + r"(?:/?help|/?帮助|帮助一下|使用说明|使用帮助|说明书|怎么用|如何使用|怎么使用|菜单|功能列表|/start|/menu|"
        r"你(?:都|还)?(?:能|会|可以)(?:做|干|帮我做|帮我干|帮)(?:些|点)?(?:什么|啥|嘛|哪些事)|你是谁|你是干(?:什么|啥)的|"
        r"(?:有|都有)(?:哪些|什么|啥)功能|(?:你)?能干(?:什么|啥|嘛)|怎么玩|(?:这个|这)?咋用|你是谁(?:啊|呀)?[\s,，]*(?:能干(?:嘛|啥|什么))?|(?:这个|这|你)?(?:机器人|助手|bot)?(?:该|要)?怎么用|怎么用你)"
        + _TAIL,
        re.IGNORECASE,
    ),
    "undo": re.compile(
        _FILLER + r"(?:/?undo|/?(?:撤销|撤回|撤消|回退)(?:一下)?"
        r"(?:上一条|上条|刚才(?:那|的)?条?|刚刚(?:那|的)?条?|刚才的|简报|最后一条)?"
        r"(?:简报|记录|消息|更新)?|(?:上一条|刚才那条|刚才的)(?:简报|记录)?(?:撤销|撤回|删掉|作废|不算)(?:掉)?|"
        r"(?:刚才|刚刚|上一条|上条|那条)[^,，。]{0,8}(?:发错了?|错了|不对)[\s,，。]*(?:帮我)?(?:撤回|撤销|撤掉|删掉|作废)(?:一下|吧)?|"
        r"(?:撤回|撤销|撤消)(?:一下)?(?:刚才|刚刚|上一条|上条)(?:那条|的|发的)?(?:简报|消息)?|"
        r"(?:撤回|撤销|撤消|/?undo)(?:一下)?(?:上一条|刚才那条|刚才的)?[\s,，。]+[^,，。]{0,10}(?:写错了?|发错了?|错了|不对)|"
        r"(?:上一条|刚才那条|刚才的|上条)(?:简报|消息)?(?:撤了|撤回|撤销|删了|不算)(?:吧)?(?:[\s,，。]+[^,，。]{0,10}(?:写错了?|错了|不对))?)"
        + _TAIL,
        re.IGNORECASE,
    ),
    "cancel": re.compile(
        _FILLER + r"(?:(?:/?cancel|/?取消(?:吧|了|掉)?|(?:那|那就)?算了(?:算了)?(?:吧)?|不用了(?:谢谢)?|不要了|"
        r"先不(?:用|弄)了|没事了)"
        r"[\s,，。!！]*){1,2}(?:(?:我自己|不用查了|不查了|不问了|我再看看|我去系统里?看)[^,，。]{0,8})?" + _TAIL,
        re.IGNORECASE,
    ),
    "dashboard": re.compile(
        _FILLER
        + r"(?:/?dashboard|(?:请|帮我)?(?:打开|进入|登录|登陆|给我|发我|发一下|要)?(?:一下)?(?:数据|销售|管理|团队)?"
        r"(?:看板|仪表盘|驾驶舱)(?:的)?(?:链接|地址|入口|网址)?)" + _TAIL,
        re.IGNORECASE,
    ),
}

# Asking: a question word, or an imperative aimed at the bot.
_QUESTION = re.compile(
    r"[?？]|吗|呢|多少|哪些|哪个|哪家|哪几|哪步|哪一步|哪了|几个|几家|第几|几单|怎么|怎样|咋|如何|什么|啥|是否|是不是|有没有|"
    r"谁|排名|还差|能不能|可不可以|多久|了没有?[?？]?$|没有?[?？]$"
)
# A yes/no question about what happened (签了没, 是不是黄了, 报价发了吗): it asks, it does not report.
YES_NO = re.compile(r"(?:了没有?|了吗|没有?|吗|么)[\s?？!！。~]*$|[?？]\s*$|是不是|有没有|是否|怎么|如何|咋")
_IMPERATIVE = re.compile(
    r"^(?:嗯|那个|就是)*(?:帮我|帮忙|麻烦|请|给我)?(?:查|查询|查一下|查下|查查|看看|看一下|看下|给我看|列出|列一下|列下|统计|显示|告诉我|"
    r"调一下|调出|调下|"
    r"我想知道|请问|说说|汇总|拉一下|发我|发一下|导出)|(?<!再)(?:列一下|列下|发我|发给我|给我看看?|看看|看一下|汇总一下|"
    r"(?:统计|汇总|列|看|查|拉|发)(?:一)?下)(?:一下)?$"
)
_KINDS: list[tuple[str, re.Pattern[str]]] = [
    (
        "recommend",
        re.compile(
            r"怎么(?:推进|推|打|跟|搞定|拿下|攻|做|办|突破|破局|谈|逼单|促成)|如何(?:推进|跟进|拿下|突破|打|推动|促成)|"
            r"该怎么|要怎么|类似|相似|同类|这种客户|这类客户|(?:给点|有什么|有啥|给个|出个)(?:建议|主意|招)|策略|打法|"
            r"推进建议|下一步(?:怎么|该|咋|如何)|怎么往前|咋推|咋搞|咋跟"
        ),
    ),
    (
        "tasks",
        re.compile(
            r"(?:本周|这周|这个星期|这礼拜|这个礼拜|下周|下个星期|下礼拜|下个礼拜|今天|今日|明天)(?:我)?(?:的)?(?:任务|待办|工作|计划|"
            r"拜访计划|安排|要做|该做|要跟|该跟|要拜访|需要跟|得跟|要联系|该联系|要跑|该跑|要见)|待办|任务清单|任务列表|to-?do|周任务"
        ),
    ),
    (
        "overdue",
        re.compile(
            r"超期|逾期|过期|超时|没跟进|未跟进|没有跟进|很久没|好久没|太久|停留|停滞|卡住|卡在|拖了|超过\s*\d+\s*天|"
            r"沉睡|掉线|没动静|没联系|该跟进了|需要跟进|要跟进|待跟进|stall|overdue"
        ),
    ),
    (
        "customers",
        re.compile(
            r"(?:^|我的|我负责的|我名下的?|我手上的?|我手里的?|[\u4e00-\u9fff]{2,3}的|他的|她的)客户(?:有哪些|都有哪些|都有谁|有谁|"
            r"列表|清单|名单|名录|都是哪些|有多少个?|一览)?"
            + _TAIL
            + r"|客户(?:列表|清单|名单|名录)|我有哪些客户|我(?:都)?跟(?:着|了)?哪些客户|负责哪些客户|"
            r"(?:手上|手里|名下|负责)(?:的|有|都有)?(?:哪些|多少|几个|所有|全部)?(?:的)?客户"
        ),
    ),
    (
        "activity",
        re.compile(
            r"日报|周报|简报(?!.*(?:签|演示|报价))|提交情况|交了没|谁没(?:交|发|写)|谁还没|活跃|团队动态|打卡|汇报情况|"
            r"执行情况|谁(?:今天|本周|这周)?(?:没有?|还没)|(?:大家|团队|组里|各位|同事们?)[^,，。]{0,6}(?:跟进|拜访|动态|情况|"
            r"表现|活动|执行)|activity"
        ),
    ),
    ("points", re.compile(r"积分|排行榜|积分榜|兑换|奖励|points", re.IGNORECASE)),
    ("commission", re.compile(r"提成|佣金|奖金|绩效工资|commission", re.IGNORECASE)),
    ("goal", re.compile(r"目标|完成率|完成度|KPI|指标|任务量|业绩任务|还差多少|达成率|quota", re.IGNORECASE)),
    (
        "forecast",
        re.compile(
            r"预测|预估|forecast|(?:预计|能|可以|会|还能)[^,，。]{0,8}(?:成交|签|收入|回款|业绩|出)[^,，。]{0,4}多少|"
            r"能签多少|能成交多少|能做到多少|业绩预期|(?:能|可以|会)[^,，。]{0,6}多少(?:业绩|单子|订单|钱|金额)|能出多少|"
            r"(?:能|还能)(?:出|签|成|拿下)几单",
            re.IGNORECASE,
        ),
    ),
    (
        "funnel",
        re.compile(r"漏斗|各个?阶段|阶段分布|每个阶段|按阶段|pipeline|管道|商机分布|销售阶段|funnel", re.IGNORECASE),
    ),
]
# One customer's state: what is asked about a customer the message names.
_CUSTOMER_STATE = re.compile(
    r"到哪一?步|到哪了|跟到哪|哪个阶段|什么阶段|啥阶段|进展|进度|情况|怎么样|咋样|如何了|详情|状态|最新|跟进记录|历史|"
    r"记录|是不是超期|超期了?吗|有没有超期|在哪个|啥情况|什么情况|最近|档案|资料|信息"
)
_BUSINESS = re.compile(
    r"拜访|沟通|电话|演示|报价|签约|签了|合同|需求|方案|客户|跟进|见面|会议|POC|poc|预算|丢单|成交|谈|采购|招标|"
    r"回款|交付|实施|微信|对接|调研|意向|确认|demo|quot|meeting|deal|proposal|汇报|介绍|联系|考察|试用|项目|签单|"
    r"中标|拿下|黄了|截胡|竞品|把握|PO\b|signed|公司|周报|部门会|开会|例会|培训|出差|加班|写方案|整理",
    re.IGNORECASE,
)
_CHITCHAT = re.compile(
    r"^(?:你好|您好|hi|hello|hey|早|早上好|早安|上午好|中午好|下午好|晚上好|晚安|谢谢|多谢|感谢|辛苦了?|好的|收到|"
    r"ok|嗯|哈+|呵呵|在吗|在不在|拜拜|再见|👍|厉害|牛)[!！。.~～\s]*$",
    re.IGNORECASE,
)


def command(text: str) -> str | None:
    stripped = text.strip()
    for name, pattern in COMMANDS.items():
        if pattern.match(stripped):
            return name
    return None


def asks(text: str) -> bool:
    """Whether the message asks the bot something (a question word or an imperative)."""
    stripped = text.strip()
    return bool(_QUESTION.search(stripped) or _IMPERATIVE.search(stripped))


_BACK = re.compile(
    r"^(?:那|那么)?(?:这个客户|这家|这单|这个单子?|他们家?|他家|刚才(?:那|这)[个家单]|上面(?:那|这)[个家单]|该客户)"
)


def refers_back(text: str) -> bool:
    """The message is about the customer just talked about (这个客户怎么推进, 这家下一步怎么跟)."""
    return bool(_BACK.search(text.strip()))


def _asks_at_the_end(text: str, end: int) -> bool:
    """华光精工下一步怎么跟进(?): the question closes the message and nothing happened."""
    rest = re.sub(r"[\s?？。!！~呢吗啊呀]+$", "", text[end:])
    return len(rest) <= 2 and not _EVENT.search(text)


def query_kind(text: str, *, names_customer: bool) -> str | None:
    """The query kind when ``text`` reads as a question about the data, else None.

    A bare report name (本周任务, 本月漏斗, 我的积分) asks too, when the message is short.
    """
    stripped = text.strip()
    asking = asks(stripped) or len(stripped) <= 14
    if not asking:
        return None
    for kind, pattern in _KINDS:
        found = pattern.search(stripped)
        if not found:
            continue
        if kind == "recommend" and not names_customer and not re.search(r"类似|相似|同类|这种|这类", stripped):
            if not (refers_back(stripped) or _asks_at_the_end(stripped, found.end())):
                continue  # 下一步怎么推进还没定,下周再联系: a brief
        if kind in ("overdue", "customers") and names_customer:
            return "customer"  # 嘉利陶瓷是不是超期了: about that customer
        if kind == "activity" and re.search(r"签约|演示|报价|需求确认", stripped) and not _QUESTION.search(stripped):
            continue
        return kind
    if names_customer and (
        _CUSTOMER_STATE.search(stripped) or _IMPERATIVE.search(stripped) or _QUESTION.search(stripped)
    ):
        return "customer"
    return None


_EVENT = re.compile(
    r"拜访|见了|见面|聊了|谈了|打了电话|电话没人接|没人接|没接|联系上|联系了|发了|发过去|签了|演示了|做了|去了|来了|"
    r"反馈|答应|同意|拒绝|回复了|约了|加了|确认了|完成了|讲完|搞定|(?:老板|客户|对方|他们|领导|采购|甲方)(?:那边)?说"
)


_SAID = re.compile(rf"(?:老板|客户|对方|他们|领导|采购|甲方|[{SURNAMES}](?:总|经理))(?:那边)?(?:说|讲)(?!的)")
_ENDS_ASKING = re.compile(
    r"(?:了没有?|了吗|没有?|吗|么|呢|[?？]|怎么样了?|如何了?|啥情况|什么情况|咋样了?)[\s。!！~]*$"
)


def reports_event(text: str) -> bool:
    """Something happened with the customer: then a question in the same message does not make it one.

    What a yes/no question names (签了没, 报价发了吗) did not happen as far as the message says.
    """
    said = _SAID.search(text)
    if said and _QUESTION.search(text, said.end()) and not _ENDS_ASKING.search(text):
        return True  # 老板说下一步怎么做等他们定: the question is the customer's words, reported
    return bool(_EVENT.search(text)) and not YES_NO.search(text)


def looks_like_business(text: str) -> bool:
    return bool(_BUSINESS.search(text))


def is_chitchat(text: str) -> bool:
    return bool(_CHITCHAT.match(text.strip()))
