"""Applying what a brief says to the CRM: at once where it is plain, after a yes where it moves money or
rests on a guess.

A held change is held whole: until the rep confirms, nothing of it is written, not the follow-up time
and not a note. Every write belongs to one applied change, so undo takes back exactly the last one.
"""

from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from handlers.messages import Button, Incoming
from handlers.routing import Context
from nlu import Update
from sales.changes import Doubt, Proposal, Stated, doubts, propose
from sales.customers import snapshot
from sales.events import CustomerFollowedUp, StageReached
from sales.model import AppliedChange, BriefUpdate, Confidence, Customer, PendingQuestion, StageChange
from sales.permissions import may_update
from sales.stages import Stage
from sales.values import wan
from usecases.format import TEXT_LIMIT, day, fit, size

CONFIDENCE_LABEL = {"high": "高", "medium": "中", "low": "低"}
YES = tuple(
    ("是 是的 好 好的 对 对的 没错 没错的 确认 确认了 确定 可以 可以的 行 行的 嗯 嗯嗯 "
     "改 改吧 照改 新建 建 建吧 y yes ok").split()
)  # fmt: skip
NO = tuple("否 不 不是 不是的 不对 不对的 不用 不要 不改 不改了 别改 不建 别建 不用建 no n".split())
CONFIRM = "confirm"
LEGACY_CONFIRM = "confirm_stage"  # questions stored before every doubt was confirmed the same way

WHY = {
    Doubt.WON: "成交会计入提成、积分和目标",
    Doubt.LOST: "流失后不再提醒跟进",
    Doubt.BACKWARDS: "阶段往回退",
    Doubt.AMOUNT_LOW: "金额不到原来的三分之一",
    Doubt.AMOUNT_HIGH: "金额超过原来的三倍",
    Doubt.AMOUNT_UNIT: "金额和原来差了上百倍,万和元是不是写反了",
    Doubt.GUESS: "同名的其他客户不归你",
}


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
    payload = {**payload, "key": secrets.token_hex(4)}
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


def question_key(question: PendingQuestion) -> str:
    """A token for one question, never reused (row ids can be, once a question is deleted)."""
    return str(question.payload.get("key") or question.id)


def answer_key(question: PendingQuestion, value: str) -> str:
    """A button's key: the question it answers and the answer, so a stale card cannot answer a new question."""
    return f"q{question_key(question)}:{value}"


def question_text(question: PendingQuestion) -> tuple[str, tuple[Button, ...]]:
    """How a question is put, with the answers as buttons where the platform has them."""
    payload = question.payload
    yes_no = (Button(answer_key(question, "yes"), "确认"), Button(answer_key(question, "no"), "不改"))
    if question.kind == "new_customer":
        name = payload["update"]["customer"]
        will = ";".join(payload.get("preview") or [])
        lines = [f"没找到客户「{name}」,要新建吗?" + (f"将记为:{will}" if will else "")]
        create = (Button(answer_key(question, "yes"), "新建"), Button(answer_key(question, "no"), "不建"))
        return "\n".join([*lines, "回复 1 新建 / 2 不建"]), create
    if question.kind == "choose_customer":
        options = payload["options"]
        listed = " ".join(f"{i}. {name}" for i, name in enumerate(options, start=1))
        word = payload["update"].get("mention") or payload["update"]["customer"]
        buttons = tuple(Button(answer_key(question, str(i)), name[:10]) for i, name in enumerate(options, start=1))
        return f"「{word}」对应多个客户,是哪一个?{listed}\n回复数字或名称", buttons
    if question.kind == LEGACY_CONFIRM:
        old, new = Stage(payload["from"]).label, Stage(payload["to"]).label
        return f"「{payload['name']}」现在是{old},要改成{new}吗?\n回复 1 确认 / 2 不改", yes_no
    lines = [_confirm_head(payload)]
    lines += [f"· {piece}" for piece in payload.get("preview") or ["记下这次跟进"]]
    lines.append("这样改吗?回复 1 确认 / 2 不改")
    return "\n".join(lines), yes_no


def _confirm_head(payload: dict[str, Any]) -> str:
    name, found = payload["name"], [Doubt(d) for d in payload.get("doubts", [])]
    if Doubt.TYPO in found or Doubt.GUESS in found:
        head = f"你写的「{payload.get('mention') or name}」是「{name}」吗?要写入:"
    elif Doubt.CLOSED in found:
        head = f"「{name}」已经{Stage(payload['stage']).label},确定要改吗?要写入:"
    else:
        head = f"请确认「{name}」的改动:"
    why = [WHY[d] for d in found if d in WHY]
    return head + (f"({';'.join(why)})" if why else "")


def stated(update: Update) -> Stated:
    """The parser's update as typed facts."""
    return Stated(
        stage=Stage(update.stage) if update.stage else None,
        amount=Decimal(str(update.amount)) if update.amount is not None else None,
        expected_close=update.expected_close,
        confidence=Confidence(update.confidence) if update.confidence else None,
        next_action=update.next_action,
        next_action_date=update.next_action_date,
    )


def money(amount: Decimal | None) -> str:
    """万 for deal sizes, 元 below that, so a unit slip is visible."""
    if amount is not None and abs(amount) < 10_000:
        return f"{amount.normalize():f}元"
    return wan(amount)


def describe(proposal: Proposal, *, was: bool = False) -> list[str]:
    """The changes a rep notices, one piece each; ``was`` shows the old amount too (for questions)."""
    before, after = proposal.before, proposal.after
    pieces = []
    if proposal.moved is not None:
        pieces.append(f"阶段 {before.stage.label}→{after.stage.label}")
    if "amount" in proposal.changed:
        old = f"{money(before.amount)}→" if was and before.amount is not None else ""
        pieces.append(f"金额 {old}{money(after.amount)}")
    if "expected_close" in proposal.changed:
        label = "签约日期" if after.stage is Stage.WON else "预计签约"
        pieces.append(f"{label} {day(after.expected_close)}")
    if "confidence" in proposal.changed and after.confidence is not None:
        pieces.append(f"把握 {CONFIDENCE_LABEL[after.confidence.value]}")
    if "next_action" in proposal.changed:
        pieces.append(f"下一步 {after.next_action or ''} {day(after.next_action_date)}".replace("  ", " "))
    return pieces


async def apply_update(ctx: Context, message: Incoming, brief_id: int, update: Update, outcome: Outcome) -> None:
    """One customer's part of a brief: apply it, refuse it, or ask about it."""
    if update.candidates:
        options = await _choices(ctx, sorted(update.candidates))
        if len(options) == 1:  # the only one the sender may change: still a guess, so asked with the rest
            chosen = await ctx.uow.customers.by_name(options[0])
            if chosen is not None:
                update.customer, update.candidates = chosen.name, ()
                await consider(ctx, message, brief_id, chosen, update, outcome, guessed=True)
                return
        await ask(ctx, message, brief_id, "choose_customer", {"update": update.to_dict(), "options": options}, outcome)
        return
    customer = await ctx.uow.customers.by_name(update.customer)
    if customer is None:
        blank, proposal = _new_customer(ctx, update)
        payload = {"update": update.to_dict(), "preview": [blank.stage.label, *describe(proposal)]}
        await ask(ctx, message, brief_id, "new_customer", payload, outcome)
        return
    await consider(ctx, message, brief_id, customer, update, outcome)


async def _choices(ctx: Context, names: list[str]) -> list[str]:
    """Of the customers a short form fits, those the sender may update (all, if none)."""
    assert ctx.employee is not None
    mine = []
    for name in names:
        customer = await ctx.uow.customers.by_name(name)
        if customer is not None and may_update(ctx.employee, await ctx.uow.employees.get(customer.owner_id)):
            mine.append(name)
    return mine or names


async def consider(
    ctx: Context,
    message: Incoming,
    brief_id: int,
    customer: Customer,
    update: Update,
    outcome: Outcome,
    *,
    confirmed: bool = False,
    guessed: bool = False,
) -> None:
    """A known customer: refuse another rep's, hold a doubtful change whole until confirmed, apply the rest."""
    assert ctx.employee is not None and customer.id is not None
    # most briefs are about the sender's own customers: no second read of the sender
    owner = ctx.employee if customer.owner_id == ctx.employee.id else await ctx.uow.employees.get(customer.owner_id)
    if not may_update(ctx.employee, owner):
        outcome.refused.append((customer.name, owner.name if owner else customer.owner_id))
        return
    proposal = propose(customer, stated(update), ctx.now, _today(ctx))
    found = [] if confirmed else doubts(proposal, typo=update.matched == "typo", guess=guessed)
    if found:
        payload = {
            "customer_id": customer.id,
            "name": customer.name,
            "seen": snapshot(customer),  # a yes applies only to the customer as shown
            "stage": customer.stage.value,
            "mention": update.mention,
            "doubts": [d.value for d in found],
            "preview": describe(proposal, was=True),
            "update": update.to_dict(),
        }
        await ask(ctx, message, brief_id, CONFIRM, payload, outcome)
        return
    await write(ctx, brief_id, proposal, outcome)


def _today(ctx: Context) -> date:
    return ctx.now.astimezone(ctx.services.timezone).date()


def _new_customer(ctx: Context, update: Update) -> tuple[Customer, Proposal]:
    """The customer a brief would create (owned by the sender, in the stage it reached, else 意向初探)
    and the facts written over it."""
    assert ctx.employee is not None
    stage = Stage(update.stage) if update.stage else Stage.INITIAL
    blank = Customer(name=update.customer, owner_id=ctx.employee.id, stage=stage, stage_entered_at=ctx.now,
                     created_at=ctx.now, closed_at=ctx.now if stage.is_closed else None)  # fmt: skip
    facts = stated(update)
    signed = facts.expected_close or (_today(ctx) if stage is Stage.WON else None)
    facts = dataclasses.replace(facts, stage=None, expected_close=signed)
    return blank, propose(blank, facts, ctx.now, _today(ctx))


async def create(ctx: Context, message: Incoming, brief_id: int, update: Update, outcome: Outcome) -> None:
    """A new customer, owned by the sender, after the rep said yes."""
    assert ctx.employee is not None
    blank, proposal = _new_customer(ctx, update)
    customer = await ctx.uow.customers.add(blank)
    assert customer.id is not None
    change_id = await current_change(ctx, brief_id)
    await ctx.uow.stages.add(
        StageChange(customer.id, None, customer.stage, ctx.now, ctx.employee.id, brief_id, change_id)
    )
    outcome.points += await ctx.publish(StageReached(ctx.employee.id, customer.id, customer.name, None, customer.stage,
                                                     ctx.now, brief_id, change_id))  # fmt: skip
    after = dataclasses.replace(proposal.after, id=customer.id)
    await _store(ctx, brief_id, change_id, {}, after, outcome, created=True)
    outcome.changed.append((customer.name, [f"新建客户,{customer.stage.label}", *describe(proposal)]))


async def write(ctx: Context, brief_id: int, proposal: Proposal, outcome: Outcome) -> None:
    """Apply a proposal as part of this message's change: fields, stage history, points."""
    assert ctx.employee is not None
    customer = proposal.after
    assert customer.id is not None
    change_id = await current_change(ctx, brief_id)
    moved = proposal.moved
    if moved is not None:
        await ctx.uow.stages.add(StageChange(customer.id, moved[0], moved[1], ctx.now, ctx.employee.id, brief_id,
                                             change_id))  # fmt: skip
        outcome.points += await ctx.publish(StageReached(ctx.employee.id, customer.id, customer.name, *moved, ctx.now,
                                                         brief_id, change_id))  # fmt: skip
    await _store(ctx, brief_id, change_id, snapshot(proposal.before), customer, outcome)
    outcome.changed.append((customer.name, describe(proposal)))


async def _store(
    ctx: Context,
    brief_id: int,
    change_id: int,
    before: dict[str, Any],
    customer: Customer,
    outcome: Outcome,
    *,
    created: bool = False,
) -> None:
    assert customer.id is not None
    assert ctx.employee is not None
    followed = CustomerFollowedUp(ctx.employee.id, customer.id, customer.name, ctx.now, brief_id, change_id)
    outcome.points += await ctx.publish(followed)
    await ctx.uow.customers.update(customer)
    await ctx.uow.briefs.add_update(
        BriefUpdate(brief_id, customer.id, before, snapshot(customer), created_customer=created, change_id=change_id)
    )


def opened_change(ctx: Context, brief_id: int) -> int | None:
    """The change this message has opened for a brief, if it wrote anything."""
    found = ctx.notes.get(f"change:{brief_id}")
    return found if isinstance(found, int) else None


async def current_change(ctx: Context, brief_id: int) -> int:
    """The applied change this message writes into: one per message and brief, opened on the first write."""
    assert ctx.employee is not None
    found = opened_change(ctx, brief_id)
    if found is not None:
        return found
    change = await ctx.uow.changes.add(AppliedChange(ctx.employee.id, brief_id, ctx.now))
    assert change.id is not None
    ctx.notes[f"change:{brief_id}"] = change.id
    return change.id


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
    if outcome.points:
        lines.append(f"积分 +{outcome.points}")
    buttons: tuple[Button, ...] = ()
    question = ""
    if outcome.questions:
        question, buttons = question_text(outcome.questions[0])
        if len(outcome.questions) > 1:
            lines.append(f"(还有 {len(outcome.questions) - 1} 个问题,答完这个接着问;回复「取消」全部放弃)")
    if not lines and not question:
        lines.append("收到,已记下。")
    room = TEXT_LIMIT - (size(question) + 1 if question else 0)
    body = fit(lines, limit=room, more=lambda n: f"……另有 {n} 条已保存,没有一一列出。") if lines else ""
    # the question comes last, whole: WeCom puts its last line on the button card
    return "\n".join(part for part in (body, question) if part), buttons
