"""Applying what a brief says to the CRM, and asking first where a guess could be wrong."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from handlers import points
from handlers.format import day, fit
from handlers.messages import Button, Incoming
from handlers.routing import Context
from nlu import Update
from sales.customers import snapshot
from sales.model import BriefUpdate, Confidence, Customer, Employee, PendingQuestion, StageChange
from sales.permissions import may_update
from sales.stages import Stage
from sales.values import wan

CONFIDENCE_LABEL = {"high": "高", "medium": "中", "low": "低"}
YES = ("是", "是的", "好", "好的", "对", "对的", "确认", "可以", "嗯", "y", "yes", "ok")
NO = ("否", "不", "不是", "不用", "不要", "no", "n")


@dataclass
class Outcome:
    """What one brief (or one answer) did, for the reply."""

    changed: list[tuple[str, list[str]]] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    asked: list[PendingQuestion] = field(default_factory=list)  # new, in the order they arose
    waiting: list[PendingQuestion] = field(default_factory=list)  # asked before, still open
    notes: list[str] = field(default_factory=list)
    points: int = 0  # earned by what this brief did

    @property
    def questions(self) -> list[PendingQuestion]:
        """Open questions in the order they will be put: new ones first."""
        return self.asked + self.waiting


def conversation(message: Incoming) -> tuple[str, str, str]:
    """The key pending questions are kept under: (platform, chat, user)."""
    return message.platform, message.chat_id or f"dm:{message.user_id}", message.user_id


async def ask(
    ctx: Context, message: Incoming, brief_id: int | None, kind: str, payload: dict[str, Any], outcome: Outcome
) -> None:
    assert ctx.employee is not None
    platform, chat, user = conversation(message)
    outcome.asked.append(
        PendingQuestion(
            platform=platform,
            chat_id=chat,
            user_id=user,
            employee_id=ctx.employee.id,
            kind=kind,
            payload=payload,
            created_at=ctx.now,
            expires_at=ctx.now + ctx.services.question_ttl,
            brief_id=brief_id,
        )
    )


async def store_questions(ctx: Context, outcome: Outcome) -> None:
    """Keep the new questions; the one to put first is stored last (answers go to the newest)."""
    stored = [await ctx.uow.pending.add(q) for q in reversed(outcome.asked)]
    outcome.asked = list(reversed(stored))


def question_text(question: PendingQuestion) -> tuple[str, tuple[Button, ...]]:
    """How a question is put, with the answers as buttons where the platform has them."""
    payload = question.payload
    if question.kind == "new_customer":
        name = payload["update"]["customer"]
        return f"没找到客户「{name}」,要新建吗?回复 是 / 否", (Button("是", "是"), Button("否", "否"))
    if question.kind == "choose_customer":
        options = payload["options"]
        listed = " ".join(f"{i}. {name}" for i, name in enumerate(options, start=1))
        word = payload["update"].get("mention") or payload["update"]["customer"]
        buttons = tuple(Button(str(i), str(i)) for i in range(1, len(options) + 1))
        return f"「{word}」对应多个客户,是哪一个?{listed}(回复数字)", buttons
    old, new = Stage(payload["from"]).label, Stage(payload["to"]).label
    return f"「{payload['name']}」现在是{old},要改成{new}吗?回复 是 / 否", (Button("是", "是"), Button("否", "否"))


async def apply_update(ctx: Context, message: Incoming, brief_id: int, update: Update, outcome: Outcome) -> None:
    """One customer's part of a brief: apply it, refuse it, or ask about it."""
    if update.candidates:
        options = await _choices(ctx, sorted(update.candidates))
        if len(options) == 1:
            chosen = await ctx.uow.customers.by_name(options[0])
            if chosen is not None:
                update.customer, update.candidates = chosen.name, ()
                await update_known(ctx, message, brief_id, chosen, update, outcome)
                return
        await ask(ctx, message, brief_id, "choose_customer", {"update": update.to_dict(), "options": options}, outcome)
        return
    customer = await ctx.uow.customers.by_name(update.customer)
    if customer is None:
        await ask(ctx, message, brief_id, "new_customer", {"update": update.to_dict()}, outcome)
        return
    await update_known(ctx, message, brief_id, customer, update, outcome)


async def _choices(ctx: Context, names: list[str]) -> list[str]:
    """Of the customers a short form fits, those the sender may update (all, if none)."""
    assert ctx.employee is not None
    mine = []
    for name in names:
        customer = await ctx.uow.customers.by_name(name)
        if customer is not None and may_update(ctx.employee, await ctx.uow.employees.get(customer.owner_id)):
            mine.append(name)
    return mine or names


async def update_known(
    ctx: Context, message: Incoming, brief_id: int, customer: Customer, update: Update, outcome: Outcome
) -> None:
    assert ctx.employee is not None
    owner = await ctx.uow.employees.get(customer.owner_id)
    if not may_update(ctx.employee, owner):
        outcome.refused.append((customer.name, owner.name if owner else customer.owner_id))
        return
    await change(ctx, message, brief_id, customer, update, outcome)


async def create(ctx: Context, message: Incoming, brief_id: int, update: Update, outcome: Outcome) -> None:
    """A new customer, owned by the sender, in the stage the brief reached (else 意向初探)."""
    assert ctx.employee is not None
    stage = Stage(update.stage) if update.stage else Stage.INITIAL
    customer = await ctx.uow.customers.add(
        Customer(
            name=update.customer,
            owner_id=ctx.employee.id,
            stage=stage,
            stage_entered_at=ctx.now,
            created_at=ctx.now,
            closed_at=ctx.now if stage.is_closed else None,
        )
    )
    assert customer.id is not None
    await ctx.uow.stages.add(StageChange(customer.id, None, stage, ctx.now, ctx.employee.id, brief_id))
    outcome.points += await points.on_stage(ctx, customer.id, customer.name, None, stage, brief_id)
    await change(ctx, message, brief_id, customer, update, outcome, created=True, lead=f"新建客户,{stage.label}")


async def change(
    ctx: Context,
    message: Incoming,
    brief_id: int,
    customer: Customer,
    update: Update,
    outcome: Outcome,
    *,
    created: bool = False,
    stage_confirmed: bool = False,
    lead: str | None = None,
) -> None:
    """Write the stated facts, keep the rest, and record before/after for undo."""
    assert ctx.employee is not None and customer.id is not None
    before: dict[str, Any] = {} if created else snapshot(customer)
    pieces = [lead] if lead else []
    target = Stage(update.stage) if update.stage else None
    if target is not None and target != customer.stage and not created:
        backwards = target.rank < customer.stage.rank or customer.stage.is_closed
        if backwards and not stage_confirmed:
            payload = {"customer_id": customer.id, "name": customer.name, "from": customer.stage.value,
                       "to": target.value, "update": update.to_dict()}  # fmt: skip
            await ask(ctx, message, brief_id, "confirm_stage", payload, outcome)
        else:
            await ctx.uow.stages.add(
                StageChange(customer.id, customer.stage, target, ctx.now, ctx.employee.id, brief_id)
            )
            outcome.points += await points.on_stage(ctx, customer.id, customer.name, customer.stage, target, brief_id)
            pieces.append(f"阶段 {customer.stage.label}→{target.label}")
            customer.stage, customer.stage_entered_at = target, ctx.now
            customer.closed_at = ctx.now if target.is_closed else None
    if update.stage == Stage.WON.value and customer.stage is Stage.WON and update.expected_close is None:
        update.expected_close = ctx.now.astimezone(ctx.services.timezone).date()
    if update.amount is not None and Decimal(str(update.amount)).quantize(Decimal("0.01")) != customer.amount:
        customer.amount = Decimal(str(update.amount)).quantize(Decimal("0.01"))
        pieces.append(f"金额 {wan(customer.amount)}")
    if update.expected_close is not None and update.expected_close != customer.expected_close:
        customer.expected_close = update.expected_close
        label = "签约日期" if customer.stage is Stage.WON else "预计签约"
        pieces.append(f"{label} {day(customer.expected_close)}")
    if update.confidence and update.confidence != (customer.confidence.value if customer.confidence else None):
        customer.confidence = Confidence(update.confidence)
        pieces.append(f"把握 {CONFIDENCE_LABEL[update.confidence]}")
    if update.next_action_date is not None and (
        update.next_action_date != customer.next_action_date
        or (update.next_action or customer.next_action) != customer.next_action
    ):
        customer.next_action = update.next_action or customer.next_action
        customer.next_action_date = update.next_action_date
        pieces.append(f"下一步 {customer.next_action or ''} {day(customer.next_action_date)}".replace("  ", " "))
    customer.last_followup_at = ctx.now
    outcome.points += await points.on_followup(ctx, customer.id, customer.name, brief_id)
    await ctx.uow.customers.update(customer)
    await ctx.uow.briefs.add_update(
        BriefUpdate(brief_id, customer.id, before, snapshot(customer), created_customer=created)
    )
    outcome.changed.append((customer.name, pieces))


def summary(outcome: Outcome, *, unparsed: bool = False) -> tuple[str, tuple[Button, ...]]:
    """One short message: what changed per customer, what was refused, the first open question."""
    lines: list[str] = []
    if outcome.changed:
        lines.append(f"已更新 {len(outcome.changed)} 个客户:" if len(outcome.changed) > 1 else "已更新:")
        for name, pieces in outcome.changed:
            lines.append(f"· {name}:" + (";".join(pieces) if pieces else "已记下这次跟进,没有新的变化"))
    for name, owner in outcome.refused:
        lines.append(f"「{name}」是 {owner} 的客户,这部分没有改动;需要调整请联系 {owner} 或主管。")
    lines += outcome.notes
    if unparsed:
        lines.append(
            "简报已保存,不过没认出是哪个客户。带上客户名称再发一次就好,例如「天成建材 确认了需求,下周三演示」。"
        )
    buttons: tuple[Button, ...] = ()
    if outcome.questions:
        text, buttons = question_text(outcome.questions[0])
        lines.append(text)
        if len(outcome.questions) > 1:
            lines.append(f"(还有 {len(outcome.questions) - 1} 个问题,答完这个接着问;回复「取消」全部放弃)")
    if not lines:
        lines.append("收到,已记下。")
    if outcome.points:
        lines.append(f"积分 +{outcome.points}")
    return fit(lines, more=lambda n: f"……另有 {n} 条已保存,没有一一列出。"), buttons


def employee_name(employee: Employee | None) -> str:
    return employee.name if employee else "未知"
