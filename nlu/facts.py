"""What a clause says about a customer: the stage reached, confidence, a contact person."""

from __future__ import annotations

import re
from dataclasses import dataclass

from nlu.lexicon import SURNAMES, TITLES

INITIAL, QUALIFIED, DEMO, NEGOTIATION, WON, LOST = "initial", "qualified", "demo", "negotiation", "won", "lost"
RANK = {INITIAL: 0, QUALIFIED: 1, DEMO: 2, NEGOTIATION: 3, WON: 4, LOST: 4}

_DONE = r"(?:了|完|完成|结束|过|好|成功|顺利|已发|发出|通过|做完|做了|搞定|已做)"
# Each stage's words for a step that happened; whether it happened or is only planned is
# decided by the words around it (stage_signals). Verb + object forms (发报价) need a sign that
# the step is done (了, 已, 过), since bare they are plans (明天发报价).
_STAGE_WORDS: dict[str, list[str]] = {
    WON: [
        r"签约(?!流程|仪式前)",
        r"签单",
        r"签[了下完好的](?:合同|约|单)?",
        r"已经?签",
        r"签(?:合同|协议)",
        r"合同(?:已经?|也)?(?:签了|签订|签署|签好|签完|盖了?章了|盖好章|盖完章|盖章了|回来了)",
        r"签(?:订|署)了?合同",
        r"盖[好了完]章|盖章(?:了|完|好)|已盖章",
        r"成交(?![价额量率金]|可能|概率|几率|把握)",
        r"拿下了?",
        r"中标",
        r"赢单",
        r"下单了",
        r"PO(?:已经?|也)?下(?:了|来了)|下了PO|收到PO|PO到了",
        r"\bsigned\b",
        r"closed[ -]won",
        r"deal closed",
        r"won the deal",
    ],
    LOST: [
        r"丢单",
        r"丢了",
        r"输了",
        r"输单",
        r"飞单",
        r"截胡",
        r"选(?:择)?了?(?:别家|竞品|其他家|其它家|其他供应商|友商|别的|对手|竞争对手)",
        r"(?:客户|对方|他们)?(?:最终|最后)?选(?:择)?了(?=[A-Za-z\u4e00-\u9fff])",
        r"选(?:择)?了\s*$",
        r"项目(?:取消|终止|黄了|作废|砍掉|砍了|没了)",
        r"取消了?(?:项目|采购|合作)",
        r"确定不(?:采购|买|做|上|合作|考虑)",
        r"不(?:采购|买|做|合作|考虑)了",
        r"决定放弃",
        r"放弃了?(?:采购|合作|项目)",
        r"没戏了?",
        r"凉了",
        r"黄了",
        r"流失",
        r"被(?:竞品|友商|别家|对手|竞争对手)(?:抢|拿)",
        r"没(?:拿下|签成|谈成)",
        r"转(?:向|投|用)?(?:竞品|友商|别家)",
        r"\blost\b",
    ],
    NEGOTIATION: [
        r"报价单?(?:已经?|也)(?:发|给|提交|递交|交|报)",
        r"报价单?(?:发|给|提交|递交|交|报)(?:了|过去了|出去了|出了|过去了|给他们了|客户了)",
        r"(?:已经?|刚刚?)(?:发|给|提交|递交|出)了?(?:正式|最终)?报价(?:单)?",
        r"(?:发|给|提交|递交|出)了(?:正式|最终)?报价(?:单)?",
        r"把报价(?:单)?[^,，。]{0,8}(?:发|给|递|交)[^,，。]{0,8}了",
        r"报价单?(?:发|给)给?[^,，。]{0,6}了",
        r"我们报的|报的是|报了个价|报价了|已报价",
        r"(?:我们|我方|已经?)报价(?!单?(?:还没|没))",
        r"报价[^,，。\d¥$]{0,3}(?:[¥$]|\d|[一二三四五六七八九十两](?=[\d一二三四五六七八九十两百千万]))",
        r"再降|降价|让利|让价|给折扣|要折扣|打折",
        r"报价中",
        r"在报价",
        r"报了价?",
        r"在谈",
        r"谈价",
        r"谈(?:折扣|价格|价钱|合同|商务)",
        r"价格谈判",
        r"商务谈判",
        r"议价",
        r"还价",
        r"还到",
        r"砍价",
        r"压价",
        r"压到",
        r"谈判中",
        r"合同条款",
        r"合同(?:在|正在)?(?:审核|审批|评审|流程|细节|在审|审)",
        r"合同[^,，。]{0,4}审(?:完|好|过|了)",
        r"法务",
        r"(?:在)?走(?:[\u4e00-\u9fff]{0,4})流程",
        r"在走合同|走合同|合同在走",
        r"盖章流程",
        r"采购流程",
        r"同意采购",
        r"确定采购",
        r"招标",
        r"投标",
        r"比价",
        r"商务条款",
        r"合同草稿",
        r"quotation sent",
        r"quote\s*[^,，。]{0,10}?(?:发了|已发|sent|发出)",
        r"quoted?\s*(?:[¥$]|\d)",
        r"quote sent",
        r"sent (?:the |a )?(?:quot|proposal)",
        r"proposal sent",
        r"negotiat",
    ],
    DEMO: [
        r"(?:方案)?(?:演示|demo|Demo|DEMO)" + _DONE,
        r"(?:demo|Demo|DEMO)(?:已经?|也)?(?:做完|做好|完成|结束|做了)",
        r"演示(?:效果|反馈)",
        r"演示很",
        r"演示得",
        r"演示了一下",
        r"演示(?:已经?|也)?(?:做完|做好|完成|结束|做了)",
        r"演示给\S{0,4}看",
        r"(?:做|完成|进行)[了完](?:方案|产品|系统)?演示",
        r"(?:做|完成|进行|搞)(?:了|完)[^,，。]{0,6}?(?:演示|demo|讲解)",
        r"(?:讲解|汇报)(?:已经?|也)?(?:了|完毕|完成|结束|完)",
        r"完成了?(?:方案)?演示",
        r"(?:已经?|刚刚?)(?:做完?|完成)?了?(?:方案)?演示",
        r"给(?:客户|对方|他们)?(?:做了|演示了)",
        r"POC\s*(?:测试)?\s*(?:已经?|也)?\s*(?:完成|结束|做完|做了|通过|演示|效果|验证|成功|了|跑通|过了)",
        r"(?:做了|完成了?|做完了?|跑通了?)\s*POC",
        r"试用[了完]|试用(?:结束|期满|反馈)",
        r"方案讲解" + _DONE,
        r"讲解了?方案",
        r"讲完(?:了)?(?:方案|PPT|ppt)?",
        r"(?:PPT|ppt|方案)讲(?:完|了)",
        r"方案汇报(?:已经?|也)?" + _DONE,
        r"demo(?:效果|反馈)",
        r"\bdemo(?:ed)? (?:done|completed|finished)",
        r"did (?:a |the )?demo",
        r"POC passed",
    ],
    QUALIFIED: [
        r"确[认定]了?(?:需求|预算|采购意向|项目(?!暂停|取消|终止|搁置|延期|推迟)|方向)",
        r"确[认定]了?[\u4e00-\u9fff]{1,3}需求",
        r"需求(?:已经?|也|基本|都)?(?:确认|确定|明确|清楚|敲定|定了|锁定|对齐|摸清|摸清楚|摸透|理清|梳理清楚|弄清楚|搞清楚)",
        r"需求[^,，。没未不]{0,5}(?:确认|确定|明确|清楚|敲定|锁定|摸清|摸透|理清|弄清楚|搞清楚)(?:了|完|下来)?",
        r"需求调研(?:完成|结束|做完|完了|已完成|已经完成)",
        r"调研(?:完成|结束|做完)",
        r"明确了?需求",
        r"摸清(?:楚)?了?需求",
        r"预算(?:已经?|也)?(?:确认|批了|批下来|到位|落实|申请下来|定了)",
        r"(?:基本|已经|已)确认",
        r"确[认定]要(?:上|做|买|采购)",
        r"立项",
        r"requirements? confirmed",
        r"budget confirmed",
    ],
    INITIAL: [
        r"初次(?:接触|沟通|拜访|见面|电话|联系|交流)",
        r"第一次(?:上门)?(?:电话|沟通|拜访|接触|见面|联系|交流|见|碰面|去)",
        r"(?:第一次|首次|初次)上门",
        r"加了?[^,，。]{0,6}?(?:vx|VX|v信|V信|薇信|wx|WX)",
        r"首次(?:上门)?(?:接触|沟通|拜访|见面|联系)",
        r"初步(?:介绍|接触|沟通|了解|交流|有意向|意向)",
        r"加了?[^,，。]{0,6}?(?:微信|好友)",
        r"有.{0,4}(?:意向|兴趣|需求)",
        r"感兴趣",
        r"刚认识",
        r"陌拜",
        r"\bfirst (?:call|contact|meeting)",
    ],
}
_COMPILED = [(stage, re.compile("|".join(words), re.IGNORECASE)) for stage, words in _STAGE_WORDS.items()]
# Words that make what follows a plan; the strong ones cannot be outweighed by a 了.
_STRONG_PLAN = re.compile(
    r"准备|计划|打算|争取|预计|预期|有望|希望|期待|能否|能不能|是否|如果|若|可能|想|等着|怎么|如何|咋|是不是|有没有"
)
# After the step: a question mark of a yes/no question (签了没, 发了吗).
_ASKED_AFTER = re.compile(r"^(?:[^,，。]{0,3}?(?:了没有?|了吗|没有?|吗)[\s?？!！。~]*|\s*[?？]+\s*)$")
_PLAN = re.compile(
    r"安排|将要|将|要|会|等待|等|待|约了|约好|约在|约个|约一下|定了|定在|需要|得|再|下次|下一步|之后|然后|接下来|看看|去|过去"
)
_DONE_AFTER = re.compile(r"了(?!吗|没)|完成|结束|成功|已发|发出|做完|搞定|的")
_NEGATED = re.compile(r"(?:没|没有|未|还没|尚未|不|无法|没能|还未)\s*$")
# A signing said to be near: the contract is in negotiation, not signed (应该能签, 快签了).
_IMMINENT = re.compile(r"(?:应该|应|估计|大概|基本)?(?:能|可以|会)$|快要?$|马上(?:就)?(?:要|能)?$|即将$|就要$|有望$")
# Signing said to be near reaches negotiation whatever date goes with it (年前应该能签, 周五应该能签).
_IMMINENT_SIGN = re.compile(
    r"(?:应该|应|估计|大概|基本|肯定)(?:能|可以|会)签|(?<![争预计划望])(?:能|可以)签(?:下来|了)|快(?:要)?签|马上(?:就)?(?:要|能)?签|"
    r"即将签|就要签|签约在即|这两天就签"
)
# Words that say a negotiation is going on: reached whatever is planned around them (他们想压到38).
_UNDER_WAY = re.compile(r"还价|压价|压到|砍价|议价|比价|谈判中|在谈|合同在审|在走[\u4e00-\u9fff]{0,4}流程|谈价格")
# Papers that are not the contract: signing them reaches no stage (框架协议, 意向书, NDA).
NOT_CONTRACT = re.compile(r"框架协议|保密协议|意向书|意向协议|合作备忘录|备忘录|NDA|MOU|战略合作协议", re.IGNORECASE)


@dataclass(frozen=True)
class StageSignal:
    stage: str
    reached: bool


def stage_signals(clause: str, future_dates: list[tuple[int, int]] | bool, *, asked: bool = False) -> list[StageSignal]:
    """Stages a clause mentions, each reached (done) or not (planned or denied).

    The patterns name completed steps; a step is only planned when a future date stands before
    it (or right after it), an intent word (预计, 争取, …) goes with it, or a softer one (要, 再,
    约) without a 了. ``future_dates``: the (start, end) of the clause's dates after today.
    """
    spans = [(-1, 0)] if future_dates is True else (future_dates or [])
    out: list[StageSignal] = []
    for m in _IMMINENT_SIGN.finditer(clause):
        if not _NEGATED.search(clause[: m.start()][-4:]) and not _STRONG_PLAN.search(clause[: m.start()]):
            out.append(StageSignal(NEGOTIATION, True))
    for stage, pattern in _COMPILED:
        for m in pattern.finditer(clause):
            before = clause[: m.start()]
            if stage == WON and NOT_CONTRACT.search(clause):
                continue
            if _NEGATED.search(before[-4:]):
                out.append(StageSignal(stage, False))
                continue
            if stage == WON and _IMMINENT.search(before[-4:].rstrip()):
                out.append(StageSignal(NEGOTIATION, True))  # 周五应该能签, 快签了
                continue
            if stage == NEGOTIATION and _UNDER_WAY.fullmatch(m.group(0)):
                out.append(StageSignal(stage, True))
                continue
            future = any(s < m.start() for s, _ in spans)
            question = asked or bool(_ASKED_AFTER.match(clause[m.end() :]))
            firmly_planned = future or question or bool(_STRONG_PLAN.search(before))
            softly_planned = bool(_PLAN.search(before))
            done_marker = bool(_DONE_AFTER.search(clause[m.start() : m.end() + 6]))
            reached = not firmly_planned and (not softly_planned or done_marker)
            out.append(StageSignal(stage, reached))
    return out


# A clause that says a deal was signed or lost: its bare days are in the past.
PAST_DEAL = re.compile(
    r"(?<!还没)(?<!没有)(?<![没未])签(?:约|单|合同|下|好|完)?(?:了|的)|签约成功|签单成功|成交了|拿下了|中标了|丢单了?|丢了|"
    r"截胡|盖[好了完]章|盖章了|黄了|没戏了|输了"
)
SIGN_WORDS = re.compile(r"签约|签单|签合同|签下|签订|签署|签|成交|落地|下单|拿下|中标|赢单|closing|close|signed")

_CONFIDENCE: list[tuple[str, list[str]]] = [
    (
        "low",
        [
            r"可能性(?:较|很|比较|非常|偏|不)?(?:低|小)",
            r"可能性不大",
            r"希望不大",
            r"把握不大",
            r"把握(?:较|很|比较)?小",
            r"没(?:什么)?把握",
            r"难度(?:很|较|比较)?大",
            r"悬了?",
            r"够呛",
            r"玄",
            r"希望渺茫",
            r"小概率",
            r"不太乐观",
            r"机会(?:不大|渺茫|较小)",
            r"成单率低",
            r"chance is low",
            r"unlikely",
        ],
    ),
    (
        "medium",
        [
            r"五五开",
            r"一半一半",
            r"可能性(?:中|中等|一般|一半)",
            r"把握一般",
            r"把握(?:不大不小|中等|一半)",
            r"说不准",
            r"不好说",
            r"有一定把握",
            r"fifty[- ]fifty",
        ],
    ),
    (
        "high",
        [
            r"把握(?:很|较|比较|非常|挺|相当)?大",
            r"(?:成单|成交|签约|赢单)?(?:可能性|概率|几率)(?:很|较|比较|非常|挺|相当)?高",
            r"(?:成功率|机会|希望)(?:很|较|比较|非常|挺)?(?:大|高)",
            r"十拿九稳",
            r"八九不离十",
            r"稳了",
            r"大概率",
            r"有戏",
            r"十有八九",
            r"板上钉钉",
            r"基本(?:能|可以)?(?:签|拿下|成)",
            r"有把握",
            r"胜算(?:很|较)?大",
            r"很有希望",
            r"very likely",
            r"high chance",
        ],
    ),
]
_CONFIDENCE_RE = [(level, re.compile("|".join(words), re.IGNORECASE)) for level, words in _CONFIDENCE]


_SHARE = re.compile(
    r"(?:估计|大概|感觉|就|差不多|只有|也就|有)\s*(?P<b>[1-9]0|100)\s*%|^\s*(?P<c>[1-9]0|100)\s*%\s*(?:吧|左右|的样子)?\s*$|"
    r"(?P<d>[1-9]0|100)\s*%\s*(?:吧|左右|的样子)|"
    r"(?:把握|可能性|信心|胜算)(?P<m>[1-9]|[一二两三四五六七八九十])\s*成|"
    r"(?P<n>[1-9]|[一二两三四五六七八九十])\s*成(?:以上|多)?(?:的)?(?:把握|可能|希望|胜算)|"
    r"(?:把握|可能性|概率|成功率|胜算)[^,，。\d]{0,3}(?P<p>[1-9]0|100)\s*%|(?P<q>[1-9]0|100)\s*%\s*(?:的)?(?:把握|可能|概率|成功率)"
)
_TENTHS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}


def confidence(clause: str) -> str | None:
    """high, medium or low from what the rep says of the chance; a share counts (七成把握, 80%)."""
    clause = re.sub(r"[【】\[\]:：\s]", "", clause)  # 【成单把握】较大, 把握：三成
    share = _SHARE.search(clause)
    if share:
        n = share["n"] or share["m"]
        if n:
            tenths = int(n) if n.isdigit() else _TENTHS[n]
        else:
            tenths = int(share["p"] or share["q"] or share["b"] or share["c"] or share["d"]) // 10
        return "high" if tenths >= 7 else ("medium" if tenths >= 4 else "low")
    for level, pattern in _CONFIDENCE_RE:
        if pattern.search(clause):
            return level
    return None


_CONTACT = re.compile(
    r"(?P<who>["
    + SURNAMES
    + r"](?:"
    + "|".join(sorted(TITLES, key=len, reverse=True))
    + r"))(?![\u4e00-\u9fff]{0,0}体|结|监督)"
)
_CONTACT_LEFT = (
    "跟",
    "和",
    "与",
    "同",
    "见",
    "见了",
    "找",
    "约",
    "约了",
    "拜访",
    "拜访了",
    "的",
    "联系",
    "联系了",
    "向",
    "给",
    "对方",
    "客户",
    "、",
    "陪",
    "请",
    "请了",
    "是",
)


def contact(clause: str) -> str | None:
    """A person on the customer's side named by surname and title (王总, 张经理)."""
    for m in _CONTACT.finditer(clause):
        before = clause[: m.start()]
        if m.start() == 0 or not ("\u4e00" <= before[-1] <= "\u9fff") or before.endswith(_CONTACT_LEFT):
            return m["who"]
    return None
