"""Answers to the bot's questions (是/否, a number, the cancel command), kept per (platform, chat, user)."""

from __future__ import annotations

import re

from handlers.intake import (
    NO,
    YES,
    Outcome,
    change,
    conversation,
    create,
    question_text,
    store_questions,
    summary,
    update_known,
)
from handlers.messages import Incoming, Reply
from handlers.routing import Context, Router
from nlu import update_from_dict
from nlu.intents import command
from sales.model import BriefStatus, PendingQuestion

router = Router("pending")

_ANSWER = re.compile(r"^\s*([^\s。!！.?？]{1,4}|\d{1,2})\s*[。!！.]?\s*$")
CANCEL = "cancel"
EXPIRED = "刚才的问题已经超过 30 分钟,过期作废了,没有做任何改动。需要的话请重新发一次简报。"


def _word(message: Incoming) -> str | None:
    """The message as an answer (是, 否, a number, 取消), or None when it is something else."""
    if message.kind != "text":
        return None
    if command(message.text) == "cancel":  # 取消, 算了, 不用了 …: the words live in nlu/intents
        return CANCEL
    m = _ANSWER.match(message.text)
    word = m.group(1).lower() if m else None
    if word is None or not (word in YES or word in NO or word.isdigit()):
        return None
    return word


@router.message(lambda m, ctx: m.kind == "text" and ctx.employee is not None and _word(m) is not None)
async def on_answer(message: Incoming, ctx: Context) -> list[Reply] | None:
    word = _word(message)
    assert word is not None
    questions = await ctx.uow.pending.for_conversation(*conversation(message))
    live = sorted((q for q in questions if q.expires_at > ctx.now), key=lambda q: q.id or 0, reverse=True)
    for q in questions:
        if q.expires_at <= ctx.now and q.id is not None:
            await ctx.uow.pending.delete(q.id)
    if word == CANCEL:
        for q in live:
            assert q.id is not None
            await ctx.uow.pending.delete(q.id)
        if live:
            return [Reply(f"好的,已取消 {len(live)} 个待确认的问题,相关内容没有改动。")]
        return [Reply("现在没有等你回答的问题。")]
    if not live:
        if questions and (word in YES or word in NO or word.isdigit()):
            return [Reply(EXPIRED)]
        return None  # not an answer to anything: an ordinary message
    question = live[0]
    outcome = Outcome()
    handled = await _answer(message, ctx, question, word, outcome)
    if not handled:
        text, buttons = question_text(question)
        return [Reply("没看懂这个回答。" + text + ",或回复「取消」。", buttons=buttons)]
    assert question.id is not None
    await ctx.uow.pending.delete(question.id)
    await store_questions(ctx, outcome)
    outcome.waiting = live[1:]
    if question.brief_id is not None and not any(q.brief_id == question.brief_id for q in outcome.questions):
        await _settle(ctx, question.brief_id)
    text, buttons = summary(outcome)
    return [Reply(text, buttons=buttons)]


async def _answer(message: Incoming, ctx: Context, q: PendingQuestion, word: str, outcome: Outcome) -> bool:
    """Carry out one answer; False when the answer does not fit the question."""
    brief_id = q.brief_id or 0
    update = update_from_dict(q.payload["update"])
    if q.kind == "new_customer":
        if word in YES:
            existing = await ctx.uow.customers.by_name(update.customer)
            if existing is None:
                await create(ctx, message, brief_id, update, outcome)
            else:
                await update_known(ctx, message, brief_id, existing, update, outcome)
            return True
        if word in NO:
            outcome.notes.append(f"好的,没有新建「{update.customer}」。")
            return True
        return False
    if q.kind == "choose_customer":
        options: list[str] = q.payload["options"]
        if word.isdigit() and 1 <= int(word) <= len(options):
            chosen = await ctx.uow.customers.by_name(options[int(word) - 1])
            if chosen is None:
                outcome.notes.append(f"「{options[int(word) - 1]}」已经不在了,这部分没有改动。")
                return True
            update.customer, update.candidates = chosen.name, ()
            await update_known(ctx, message, brief_id, chosen, update, outcome)
            return True
        if word in NO:
            outcome.notes.append(f"好的,「{update.customer}」这部分先不改。")
            return True
        return False
    customer = await ctx.uow.customers.get(int(q.payload["customer_id"]))
    if customer is None:
        outcome.notes.append(f"「{q.payload['name']}」已经不在了,没有改动。")
        return True
    if word in YES:
        stage_only = update_from_dict({"customer": customer.name, "stage": q.payload["to"]})
        await change(ctx, message, brief_id, customer, stage_only, outcome, stage_confirmed=True)
        return True
    if word in NO:
        outcome.notes.append(f"好的,「{customer.name}」保持在{customer.stage.label}。")
        return True
    return False


async def _settle(ctx: Context, brief_id: int) -> None:
    brief = await ctx.uow.briefs.get(brief_id)
    if brief is not None and brief.status is BriefStatus.PENDING:
        await ctx.uow.briefs.set_status(brief_id, BriefStatus.APPLIED)
