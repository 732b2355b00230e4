"""What a clause says about a customer: the stage reached, confidence, a contact person."""

from __future__ import annotations

import re
from dataclasses import dataclass

from nlu.lexicon import SURNAMES, TITLES

INITIAL, QUALIFIED, DEMO, NEGOTIATION, WON, LOST = "initial", "qualified", "demo", "negotiation", "won", "lost"
RANK = {INITIAL: 0, QUALIFIED: 1, DEMO: 2, NEGOTIATION: 3, WON: 4, LOST: 4}

_DONE = r"(?:了|完|完成|结束|过|好|成功|顺利|已发|发出|通过|做完|做了|搞定|已做)"
# Each stage's words for a step that happened; whether it happened or is only planned is
# decided by the words around it (stage_signals).
_STAGE_WORDS: dict[str, list[str]] = {
    WON: [
        r"签约",
        r"签单",
        r"签[了下完好](?:合同|约|单)?",
        r"已经?签",
        r"签(?:合同|协议)",
        r"合同(?:已经?|也)?(?:签|签订|签署|签好|签完|盖章|盖了章)",
        r"签(?:订|署)了?合同",
        r"盖[好了]?章",
        r"成交(?![价额量率金]|可能|概率|几率|把握)",
        r"拿下了?",
        r"中标",
        r"赢单",
        r"下单了",
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
        r"选(?:择)?了?(?:别家|竞品|其他家|其它家|其他供应商|友商|别的|对手|竞争对手)",
        r"项目(?:取消|终止|黄了|作废|砍掉|砍了|没了)",
        r"取消了?(?:项目|采购|合作)",
        r"确定不(?:采购|买|做|上|合作|考虑)",
        r"不(?:采购|买|做|合作|考虑)了",
        r"决定放弃",
        r"放弃了?(?:采购|合作|项目)",
        r"没戏了?",
        r"黄了",
        r"流失",
        r"被(?:竞品|友商|别家|对手|竞争对手)(?:抢|拿)",
        r"没(?:拿下|签成|谈成)",
        r"转(?:向|投|用)?(?:竞品|友商|别家)",
        r"\blost\b",
    ],
    NEGOTIATION: [
        r"报价单?(?:已经?|也)?(?:发|给|提交|递交|交|发出|发过去|发给|报过去)",
        r"(?:已经?|刚)?(?:发|给|提交|递交|出)了?(?:正式|最终)?报价(?:单)?",
        r"(?:我们|我方|已经?)报价",
        r"报价\s*\d",
        r"报价中",
        r"在报价",
        r"报了价?",
        r"在谈",
        r"谈价",
        r"谈(?:折扣|价格|价钱|合同)",
        r"价格谈判",
        r"商务谈判",
        r"议价",
        r"还价",
        r"砍价",
        r"压价",
        r"谈判中",
        r"合同条款",
        r"合同(?:在|正在)?(?:审核|审批|评审|流程|细节)",
        r"法务",
        r"走(?:合同|采购|审批)流程",
        r"采购流程",
        r"同意采购",
        r"确定采购",
        r"招标",
        r"投标",
        r"比价",
        r"商务条款",
        r"合同草稿",
        r"quotation sent",
        r"quote sent",
        r"sent (?:the |a )?(?:quot|proposal)",
        r"proposal sent",
        r"negotiat",
    ],
    DEMO: [
        r"(?:方案)?演示" + _DONE,
        r"演示效果",
        r"演示很",
        r"演示得",
        r"演示给\S{0,4}看",
        r"(?:做|完成|进行)[了完](?:方案)?演示",
        r"完成了?(?:方案)?演示",
        r"(?:已经?|刚刚?)(?:做完?|完成)?了?(?:方案)?演示",
        r"给(?:客户|对方|他们)?(?:做了|演示了)",
        r"POC\s*(?:测试)?\s*(?:已经?|也)?\s*(?:完成|结束|做完|做了|通过|演示|效果|验证|成功|了|跑通)",
        r"(?:做了|完成了?|做完了?|跑通了?)\s*POC",
        r"试用[了中完]",
        r"方案讲解" + _DONE,
        r"讲解了?方案",
        r"讲完方案",
        r"方案汇报" + _DONE,
        r"\bdemo(?:ed)? (?:done|completed|finished)",
        r"did (?:a |the )?demo",
    ],
    QUALIFIED: [
        r"确[认定]了?(?:需求|预算|采购意向|项目|方向)",
        r"确[认定]了?[\u4e00-\u9fff]{1,3}需求",
        r"需求(?:已经?|也|基本)?(?:确认|确定|明确|清楚|敲定|定了|锁定|对齐)",
        r"需求调研(?:完成|结束|做完|完了|已完成|已经完成)",
        r"调研(?:完成|结束|做完)",
        r"明确了?需求",
        r"预算(?:已经?|也)?(?:确认|批了|批下来|到位|落实|申请下来)",
        r"(?:基本|已经|已)确认",
        r"确[认定]要(?:上|做|买|采购)",
        r"立项",
        r"requirements? confirmed",
    ],
    INITIAL: [
        r"初次(?:接触|沟通|拜访|见面|电话|联系|交流)",
        r"第一次(?:电话|沟通|拜访|接触|见面|联系|交流)",
        r"首次(?:接触|沟通|拜访|见面|联系)",
        r"初步(?:介绍|接触|沟通|了解|交流|有意向|意向)",
        r"加了?(?:微信|好友)",
        r"有.{0,4}(?:意向|兴趣|需求)",
        r"感兴趣",
        r"刚认识",
        r"陌拜",
        r"\bfirst (?:call|contact|meeting)",
    ],
}
_COMPILED = [(stage, re.compile("|".join(words), re.IGNORECASE)) for stage, words in _STAGE_WORDS.items()]
# Words that make what follows a plan; the strong ones cannot be outweighed by a 了.
_STRONG_PLAN = re.compile(r"准备|计划|打算|争取|预计|预期|有望|希望|期待|能否|能不能|是否|如果|若|可能|想")
_PLAN = re.compile(r"安排|将要|将|要|会|等待|等|待|约了|约|定了|定在|需要|得|再|下次|下一步|之后|然后|接下来|看看")
_DONE_AFTER = re.compile(r"了(?!吗|没)|完成|结束|成功|已发|发出|做完|搞定")
_NEGATED = re.compile(r"(?:没|没有|未|还没|尚未|不|无法|没能)\s*$")


@dataclass(frozen=True)
class StageSignal:
    stage: str
    reached: bool


def stage_signals(clause: str, future_date: bool) -> list[StageSignal]:
    """Stages a clause mentions, each reached (done) or not (planned or denied).

    The patterns name completed steps; a step is only planned when a future date or an
    intent word (预计, 争取, …) goes with it, or a softer one (要, 再, 约) without a 了.
    """
    out: list[StageSignal] = []
    for stage, pattern in _COMPILED:
        for m in pattern.finditer(clause):
            before = clause[: m.start()]
            if _NEGATED.search(before[-4:]):
                out.append(StageSignal(stage, False))
                continue
            firmly_planned = future_date or bool(_STRONG_PLAN.search(before)) or "前" in before[-3:]
            softly_planned = bool(_PLAN.search(before))
            done_marker = bool(_DONE_AFTER.search(clause[m.start() : m.end() + 6]))
            reached = not firmly_planned and (not softly_planned or done_marker)
            out.append(StageSignal(stage, reached))
    return out


SIGN_WORDS = re.compile(r"签约|签单|签合同|签下|签订|签署|签|成交|落地|下单|拿下|closing|close")

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
            r"50%",
            r"五成",
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


def confidence(clause: str) -> str | None:
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
