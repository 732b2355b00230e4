"""``genjin demo``: a realistic sales org with six months of history, for trying Genjin out.

The history has structure on purpose: each industry has its own winning moves, sources and
sizes change the odds, lost deals die of typical causes at typical stages — so that what
learns from history (recommendations, lead scores, forecasts) has something to find.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from bot import platforms
from handlers.help import HELP_LINES
from sales.calendar import WorkCalendar, china_provider
from sales.goals import Goal, Kpi, Level, days_left
from sales.model import (
    Brief,
    BriefStatus,
    BriefUpdate,
    Confidence,
    Customer,
    Employee,
    Role,
    StageChange,
    Team,
)
from sales.months import month_key
from sales.points import PointsEntry, PointsRules
from sales.quotes import Product
from sales.stages import OPEN_STAGES, Stage
from sales.values import wan
from store.repositories import UnitOfWork, UnitOfWorkFactory

DEFAULT_URL = "sqlite:///genjin-demo.db"
DEMO_USER = "E01"
HISTORY_DAYS = 180

TEAMS = {
    "华东一组": ("S01", "陈静", [("E01", "张伟"), ("E02", "李娜"), ("E03", "王磊"), ("E04", "赵敏")]),
    "华南二组": ("S02", "刘洋", [("E05", "孙浩"), ("E06", "周婷"), ("E07", "吴刚"), ("E08", "郑丽")]),
}
REGIONS = {
    "华东一组": ["上海", "杭州", "苏州", "南京", "宁波", "无锡", "合肥", "常州", "嘉兴", "绍兴"],
    "华南二组": ["广州", "深圳", "东莞", "佛山", "厦门", "福州", "珠海", "中山", "惠州", "南宁"],
}
BRANDS = [
    "瑞达",
    "星辰",
    "海之蓝",
    "天成",
    "博远",
    "华信",
    "恒通",
    "金桥",
    "新视界",
    "远航",
    "鼎盛",
    "长青",
    "宏图",
    "嘉禾",
    "蓝海",
    "中联",
    "汇丰源",
    "明德",
    "永泰",
    "佳利",
    "安达",
    "华港",
    "正泰来",
    "万象",
    "泰和",
    "凯升",
    "光启",
    "锦程",
    "东方红日",
    "北辰",
    "立信",
    "盛达",
    "九州通达",
    "康宁",
    "同创",
    "卓越",
]


@dataclass(frozen=True)
class Segment:
    industry: str
    suffixes: tuple[str, ...]
    play: str  # the move that most often came right before winning
    play_text: str
    objection: str
    answer: str
    base_win: float
    days: tuple[int, int, int, int]  # typical calendar days in each open stage
    amount: tuple[int, int]  # in 万


SEGMENTS = [
    Segment(
        "制造",
        ("机电", "装备", "汽配", "电子"),
        "POC",
        "做了 POC 验证,现场跑通了产线数据",
        "担心实施周期长",
        "提出分阶段上线,先上一条产线",
        0.4,
        (6, 9, 12, 14),
        (40, 200),
    ),
    Segment(
        "物流",
        ("物流", "供应链"),
        "高层拜访",
        "安排了高层拜访,对方总经理亲自参加",
        "担心司机不会用",
        "安排了驻场培训",
        0.35,
        (4, 7, 8, 10),
        (30, 150),
    ),
    Segment(
        "医药",
        ("医药", "生物"),
        "案例参观",
        "带客户参观了同行的上线案例",
        "合规审核严格",
        "提供了等保和 GSP 合规材料",
        0.3,
        (8, 12, 15, 20),
        (60, 300),
    ),
    Segment(
        "消费",
        ("食品", "茶业", "酒业", "服饰"),
        "快速报价",
        "演示后三天内就发了报价",
        "觉得价格偏高",
        "给了首年优惠和分期方案",
        0.45,
        (3, 5, 6, 7),
        (15, 80),
    ),
    Segment(
        "建材",
        ("建材", "建工"),
        "技术交流",
        "组织了技术交流会,对方工程部都来了",
        "和现有系统对接难",
        "给了接口方案和对接排期",
        0.35,
        (5, 8, 10, 12),
        (50, 250),
    ),
]
SOURCES = {"转介绍": 0.2, "老客户": 0.25, "展会": -0.1, "官网": 0.0, "电话开发": -0.15}
SIZES = {"小型": 0.05, "中型": 0.0, "大型": -0.1}
LOSS = [
    (Stage.NEGOTIATION, "价格", "对方嫌价格高,选了更便宜的方案"),
    (Stage.DEMO, "竞品", "客户选了竞品"),
    (Stage.QUALIFIED, "预算冻结", "客户预算冻结,项目取消了"),
    (Stage.INITIAL, "没有需求", "对方确定暂不采购"),
]


@dataclass
class Summary:
    teams: int
    supervisors: int
    reps: int
    customers: int
    briefs: int
    won: int
    lost: int
    demo_user: str
    demo_name: str
    demo_team: str
    demo_customers: int
    examples: list[tuple[str, str, str]]  # (name, short form, stage) of a few of the demo rep's customers

    def describe(self, url: str) -> str:
        return (
            f"演示公司已生成: {self.teams} 个团队, {self.supervisors} 位主管, {self.reps} 位销售, "
            f"{self.customers} 个客户(已成交 {self.won}, 流失 {self.lost}), 近 6 个月 {self.briefs} 条简报。"
            f"\n数据库: {url}"
        )

    def _tries(self) -> list[str]:
        if not self.examples:
            return [f"  · {line}" for line in HELP_LINES]
        first = self.examples[0][1]
        second = self.examples[-1][1]
        return [
            f"  · 发简报:「{first} 方案演示完成,客户很满意,下周三报价,预计月底签约,金额80万」",
            f"  · 一条说几个客户:「1、{first} 下周一再约 2、{second} 报价已发,把握很大」",
            "  · 新客户:「今天拜访了新客户宁波新港物流,对方有意向」(会先问你要不要新建)",
            f"  · 查客户:「{first}现在到哪一步了」",
            f"  · 出报价:「给{first}出个报价:A型设备10台,实施服务1年,九折」(PDF 和 Excel 存到 genjin-files/)",
            "  · 目标、提成、积分:「我的目标还差多少」「我的提成」「积分排行榜」",
            "  · 撤销:「撤销」撤回最后生效的一次改动;「帮助」看全部用法",
        ]

    def intro(self) -> str:
        lines = [
            f"你现在是「{self.demo_team}」的销售 {self.demo_name}(工号 {self.demo_user}),"
            f"名下 {self.demo_customers} 个客户。",
            "名下的客户例如:" + "、".join(f"{name}({stage})" for name, _, stage in self.examples) + "。",
            "可以试试:",
            *self._tries(),
            "输入 exit 退出;想换个身份: genjin chat --user S01(主管)或 E05(另一组的销售)。",
        ]
        return "\n".join(lines)


def _workday(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


class _History:
    """The clock and the counter shared while one org's history is written."""

    def __init__(self, rng: random.Random, now: datetime) -> None:
        self.rng = rng
        self.now = now
        self.briefs = 0

    def at(self, day: date) -> datetime:
        """A time in working hours on ``day``, in the org's time zone."""
        return datetime.combine(day, time(self.rng.randint(9, 17), self.rng.choice((0, 15, 30, 45))), self.now.tzinfo)

    async def brief(self, uow: UnitOfWork, owner: str, customer_id: int, when: datetime, text: str) -> int:
        """A brief and its link to the customer, as intake would have stored it."""
        stored = await uow.briefs.add(
            Brief(sender_id=owner, platform="demo", text=text, received_at=when, status=BriefStatus.APPLIED)
        )
        self.briefs += 1
        assert stored.id is not None
        await uow.briefs.add_update(BriefUpdate(stored.id, customer_id, {}, {}))
        return stored.id


async def _goals_and_points(uow: UnitOfWork, now: datetime, reps_by_team: dict[str, list[str]]) -> None:
    """This month's goals (company key results, split by the rules like an admin's file would be) and the
    points the history would have earned under the default rules, with the live keys."""
    tz = now.tzinfo
    assert isinstance(tz, ZoneInfo)
    calendar = WorkCalendar(provider=china_provider())
    today = now.date()
    month = month_key(today)
    recent = [c for c in await uow.customers.find(stages=[Stage.WON])
              if c.closed_at and c.closed_at >= now - timedelta(days=90)]  # fmt: skip
    monthly = sum((c.amount or Decimal(0) for c in recent), Decimal(0)) / 3
    target = max((monthly * Decimal("1.2") / 100_000).to_integral_value() * 100_000, Decimal(1_000_000))
    objective = "年底冲刺:新签合同额比前三个月的月均高两成"
    await uow.goals.put(Goal(month, Level.COMPANY, "", Kpi.SIGNED_AMOUNT, target, objective))
    await uow.goals.put(Goal(month, Level.COMPANY, "", Kpi.WON_COUNT, Decimal(max(len(recent) // 3 + 2, 4)), objective))
    days = days_left(calendar, today.replace(day=1), month)
    for team, reps in reps_by_team.items():
        await uow.goals.put(Goal(month, Level.TEAM, team, Kpi.BRIEFS, Decimal(len(reps) * days * 3)))
    rules = PointsRules()
    entries = [
        PointsEntry(sender, f"brief:{sender}:{day}", "brief", rules.brief, datetime.combine(day, time(12), tz))
        for sender, day, _ in await uow.briefs.sent_per_day(now - timedelta(days=HISTORY_DAYS + 60), tz)
        if calendar.is_workday(day)
    ]
    names = {c.id: c.name for c in await uow.customers.find()}
    for ch in await uow.stages.everything():
        if ch.employee_id is None or ch.from_stage is None:
            continue
        if ch.to_stage is Stage.WON:
            entries.append(PointsEntry(ch.employee_id, f"won:{ch.customer_id}", "won", rules.won, ch.changed_at,
                                       note=names.get(ch.customer_id, "")))  # fmt: skip
        elif ch.to_stage is not Stage.LOST and ch.to_stage.rank > ch.from_stage.rank:
            entries.append(PointsEntry(ch.employee_id, f"advance:{ch.customer_id}:{ch.to_stage.value}", "advance",
                                       rules.advance, ch.changed_at, note=names.get(ch.customer_id, "")))  # fmt: skip
    await uow.points.award(entries)


def _names(rng: random.Random, count: int) -> list[tuple[str, str, Segment, str]]:
    """Unique (name, short form, segment, team) tuples.

    Brand + industry word is unique (天成医药 names one customer) while a bare brand is
    shared (天成 fits several), as in a real customer list.
    """
    out: list[tuple[str, str, Segment, str]] = []
    taken: set[tuple[str, str]] = set()
    while len(out) < count:
        team = rng.choice(list(TEAMS))
        segment = rng.choice(SEGMENTS)
        brand = rng.choice(BRANDS)
        suffix = rng.choice(segment.suffixes)
        if (brand, suffix) in taken:
            continue
        taken.add((brand, suffix))
        name = rng.choice(REGIONS[team]) + brand + suffix
        if rng.random() < 0.2:
            name += rng.choice(("集团", "有限公司", "股份"))
        out.append((name, brand + suffix, segment, team))
    return out


def _accounts(user: str) -> dict[str, str]:
    """The demo person's id on every platform: ``user`` on the first, ``<4 letters>_user`` on the others
    (wangmin on WeCom, ding_wangmin on DingTalk, …)."""
    names = [p.name for p in platforms.PLATFORMS]
    return {name: user if index == 0 else f"{name[:4]}_{user}" for index, name in enumerate(names)}


_SINCE = date(2026, 1, 1)
# a small price list, so that 「给…出个报价」 works in the demo (genjin import products replaces it)
PRICE_LIST = [
    Product("A100", "A型设备", "台", Decimal(12800), Decimal("0.13"), _SINCE, Decimal(10000), Decimal("0.15"),
            ("A型",)),
    Product("B200", "B型控制柜", "台", Decimal(26500), Decimal("0.13"), _SINCE, Decimal(21000), Decimal("0.12"),
            ("B型",)),
    Product("S01", "实施服务", "年", Decimal(36000), Decimal("0.06"), _SINCE, None, Decimal("0.20"), ("实施",)),
    Product("T01", "现场培训", "人天", Decimal(2400), Decimal("0.06"), _SINCE, None, Decimal("0.10"), ("培训",)),
    Product("M01", "年度维保", "年", Decimal(9800), Decimal("0.06"), _SINCE, None, Decimal("0.10"), ("维保",)),
]  # fmt: skip


async def seed(uow_factory: UnitOfWorkFactory, now: datetime, *, seed: int = 7, customers: int = 300) -> Summary:
    """Seed the org and its history in one unit of work."""
    rng = random.Random(seed)
    history = _History(rng, now)
    won = lost = 0
    async with uow_factory() as uow:
        await uow.employees.add(Employee(id="A01", name="王敏", role=Role.ADMIN, accounts=_accounts("wangmin")))
        reps_by_team: dict[str, list[str]] = {}
        for team, (sup_id, sup_name, reps) in TEAMS.items():
            await uow.teams.add(Team(name=team))
            pinyin = f"sup{sup_id[-2:]}"
            await uow.employees.add(
                Employee(
                    id=sup_id,
                    name=sup_name,
                    role=Role.SUPERVISOR,
                    team=team,
                    accounts=_accounts(pinyin),
                )
            )
            for rep_id, rep_name in reps:
                await uow.employees.add(
                    Employee(
                        id=rep_id,
                        name=rep_name,
                        role=Role.REP,
                        team=team,
                        supervisor_id=sup_id,
                        accounts=_accounts(f"rep{rep_id[-2:]}"),
                        mobile=f"1380000{rep_id[-2:]}00",
                    )
                )
            reps_by_team[team] = [r for r, _ in reps]
        shorts: dict[str, str] = {}
        for name, short, segment, team in _names(rng, customers):
            owner = rng.choice(reps_by_team[team])
            outcome = await _customer(uow, history, name, short, segment, team, owner)
            won += outcome == Stage.WON
            lost += outcome == Stage.LOST
            shorts[name] = short
        await _goals_and_points(uow, now, reps_by_team)
        await uow.quotes.put_products(PRICE_LIST)
        mine = await uow.customers.find(owner_ids=[DEMO_USER])
        examples = [(c.name, shorts[c.name], c.stage.label) for c in mine if not c.stage.is_closed][:3]
        await uow.commit()
    return Summary(
        teams=len(TEAMS),
        supervisors=len(TEAMS),
        reps=sum(len(r) for r in reps_by_team.values()),
        customers=customers,
        briefs=history.briefs,
        won=won,
        lost=lost,
        demo_user=DEMO_USER,
        demo_name=TEAMS["华东一组"][2][0][1],
        demo_team="华东一组",
        demo_customers=len(mine),
        examples=examples,
    )


async def _customer(
    uow: UnitOfWork, h: _History, name: str, short: str, segment: Segment, team: str, owner: str
) -> Stage:
    """One customer's life up to now; returns the stage it ends in."""
    rng, now = h.rng, h.now
    source = rng.choice(list(SOURCES))
    size = rng.choices(list(SIZES), weights=(4, 4, 2))[0]
    win_p = min(0.9, max(0.1, segment.base_win + SOURCES[source] + SIZES[size]))
    fate_win = rng.random() < win_p
    plays = rng.random() < (0.8 if fate_win else 0.25)  # winners mostly made the segment's move
    loss_stage, loss_reason, loss_text = rng.choice(LOSS)
    age = rng.randint(3, HISTORY_DAYS) if rng.random() < 0.4 else rng.randint(2, 40)  # a live pipeline now
    created = h.at(_workday((now - timedelta(days=age)).date()))
    amount = Decimal(rng.randint(*segment.amount) * 10_000)
    customer = await uow.customers.add(
        Customer(
            name=name,
            owner_id=owner,
            stage=Stage.INITIAL,
            stage_entered_at=created,
            created_at=created,
            industry=segment.industry,
            region=name[:2],
            size=size,
            source=source,
        )
    )
    assert customer.id is not None
    cid = customer.id
    opening = rng.choice(("加了微信", "初次电话沟通", "初步介绍了产品"))
    brief_id = await h.brief(uow, owner, cid, created, f"新客户 {name},{source}来的,{opening},对方有意向")
    await uow.stages.add(StageChange(cid, None, Stage.INITIAL, created, owner, brief_id))
    stage, entered, last_touch = Stage.INITIAL, created, created
    for index, next_stage in enumerate((*OPEN_STAGES[1:], Stage.WON)):
        base = segment.days[index]
        span = max(1, int(rng.gauss(base * (0.8 if plays else 1.25), base / 3)))
        gap = rng.randint(2, 4) if fate_win else rng.randint(4, 9)  # winners are followed up more often
        touch = entered + timedelta(days=gap)
        while touch < entered + timedelta(days=span) and touch < now:
            note = rng.choice(("对方在内部讨论", "回答了几个技术问题", "发了资料", "电话沟通了进度"))
            await h.brief(uow, owner, cid, touch, f"{short} 跟进了一次,{note}")
            last_touch = touch
            touch += timedelta(days=gap)
        moved_at = h.at(_workday((entered + timedelta(days=span)).date()))
        if moved_at >= now:
            break
        if not fate_win and stage == loss_stage:
            lost_brief = await h.brief(uow, owner, cid, moved_at, f"{short} {loss_text}")
            await uow.stages.add(StageChange(cid, stage, Stage.LOST, moved_at, owner, lost_brief))
            customer.stage, customer.stage_entered_at, customer.closed_at = Stage.LOST, moved_at, moved_at
            customer.lost_reason, customer.last_followup_at = loss_reason, moved_at
            customer.amount = amount if stage.rank >= Stage.QUALIFIED.rank else None
            await uow.customers.update(customer)
            return Stage.LOST
        advance = await h.brief(
            uow, owner, cid, moved_at, _advance_text(short, next_stage, segment, amount, plays, rng)
        )
        await uow.stages.add(StageChange(cid, stage, next_stage, moved_at, owner, advance))
        stage, entered, last_touch = next_stage, moved_at, moved_at
    customer.stage, customer.stage_entered_at, customer.last_followup_at = stage, entered, max(last_touch, entered)
    if stage == Stage.WON:
        customer.closed_at, customer.amount, customer.expected_close = entered, amount, entered.date()
        finance = random.Random(cid)  # its own stream, so the rest of the demo stays as it was
        customer.margin = Decimal(finance.randint(12, 48)) / 100  # as finance would import it
        if entered.date() + timedelta(days=75) < now.date() or finance.random() < 0.5:
            paid = entered.date() + timedelta(days=finance.randint(7, 70))
            customer.paid_on = paid if paid <= now.date() else None
        await uow.customers.update(customer)
        return Stage.WON
    if stage.rank >= Stage.QUALIFIED.rank:
        customer.amount = amount
    if stage.rank >= Stage.DEMO.rank:
        customer.expected_close = (now + timedelta(days=rng.randint(10, 75))).date()
        customer.confidence = rng.choice((Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW, None))
    if rng.random() < 0.6:
        customer.next_action = NEXT_ACTION[stage]
        customer.next_action_date = _workday((now + timedelta(days=rng.randint(-6, 12))).date())
    await uow.customers.update(customer)
    return stage


NEXT_ACTION = {
    Stage.INITIAL: "需求调研",
    Stage.QUALIFIED: "方案演示",
    Stage.DEMO: "发正式报价",
    Stage.NEGOTIATION: "合同条款确认",
}


def _advance_text(short: str, stage: Stage, segment: Segment, amount: Decimal, plays: bool, rng: random.Random) -> str:
    play = f",{segment.play_text}" if plays and rng.random() < 0.8 else ""
    objection = f"。对方{segment.objection},我们{segment.answer}" if rng.random() < 0.4 else ""
    if stage == Stage.QUALIFIED:
        return f"{short} 确认了需求,预算{wan(amount)}左右{objection}"
    if stage == Stage.DEMO:
        return f"{short} 方案演示完成{play}{objection}"
    if stage == Stage.NEGOTIATION:
        return f"{short} 报价已发,{wan(amount)},对方在走采购流程{play}"
    return f"{short} 签约了!合同金额{wan(amount)}{play}"
