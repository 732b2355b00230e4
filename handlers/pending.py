"""Answers to the bot's questions, kept per (platform, chat, user).

A rep answers as they would to a colleague: 是/对/确认/1, 否/不是/不改/2, a number or a name for
"which one?", or a button, whose key names the question so a stale card never answers a newer one.
取消/算了 drops every open question and changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from handlers.intake import (
    CONFIRM,
    LEGACY_CONFIRM,
    NO,
    YES,
    Outcome,
    consider,
    conversation,
    create,
    question_key,
    question_text,
    store_questions,
    summary,
)
from handlers.messages import Incoming, Reply
from handlers.quotes import QUOTE_PRODUCT
from handlers.quotes import chosen as quote_product_chosen
from handlers.routing import Context, Router
from nlu import update_from_dict
from nlu.intents import command
from sales.customers import snapshot
from sales.model import BriefStatus, PendingQuestion

router = Router("pending")

_ANSWER = re.compile(r"^(?:[^\s。!！.?？,，]{1,4}|\d{1,2})$")
_PARTS = re.compile(r"[\s,，、。!！.~～]+")
_KEY = re.compile(r"^q([0-9a-z]{1,16}):(yes|no|\d{1,2})$")
_NAME = re.compile(r"^[^\s,，。!！?？;；]{2,30}$")
_NAME_FILLERS = re.compile(r"^(?:是|选|就是)|(?:那家|那个|这家|吧|的)$")
CANCEL, YES_WORD, NO_WORD = "cancel", "yes", "no"
EXPIRED = "刚才的问题已经超过 30 分钟,过期作废了,没有做任何改动。需要的话请重新发一次简报。"
STALE = "这个问题已经回答过或过期了,没有再做改动。"


@dataclass(frozen=True)
class Answer:
    word: str  # yes, no, cancel, a number, or the text itself (a name, for "which one?")
    question: str | None = None  # from a button: the key of the question it belongs to


CANCEL_ANSWER = Answer(CANCEL)


def _read(message: Incoming) -> Answer | None:
    """The message as an answer, or None when it cannot be one."""
    if message.kind != "text":
        return None
    text = message.text.strip()
    key = _KEY.match(text)
    if key:
        return Answer(key.group(2), key.group(1))
    if command(text) == "cancel":  # 取消, 算了, 不用了 …: the words live in nlu/intents
        return CANCEL_ANSWER
    words = [w for w in _PARTS.split(text.lower()) if w]
    if words and all(_ANSWER.match(w) for w in words):
        if all(w in YES for w in words):
            return Answer(YES_WORD)  # 对,改吧
        if all(w in NO for w in words):
            return Answer(NO_WORD)  # 不是的,别改
        if len(words) == 1 and words[0].isdigit():
            return Answer(words[0])
    if _NAME.match(text):
        return Answer(text)  # maybe a name; only a "which one?" question takes it
    return None


def _plain(answer: Answer) -> bool:
    """An answer to any question (not a name that only "which one?" takes)."""
    return answer.word in (YES_WORD, NO_WORD, CANCEL) or answer.word.isdigit() or answer.question is not None


@router.message(lambda m, ctx: m.kind == "text" and ctx.employee is not None and _read(m) is not None)
async def on_answer(message: Incoming, ctx: Context) -> list[Reply] | None:
    answer = _read(message)
    assert answer is not None
    questions = await ctx.uow.pending.for_conversation(*conversation(message))
    live = sorted((q for q in questions if q.expires_at > ctx.now), key=lambda q: q.id or 0, reverse=True)
    for q in questions:
        if q.expires_at <= ctx.now and q.id is not None:
            await ctx.uow.pending.delete(q.id)
    if answer.word == CANCEL:
        for q in live:
            assert q.id is not None
            await ctx.uow.pending.delete(q.id)
        if live:
            await _settle_all(ctx, live)
            return [Reply(f"好的,已取消 {len(live)} 个待确认的问题,这些内容都没有写入。")]
        return [Reply("现在没有等你回答的问题。")]
    if answer.question is not None:
        question = next((q for q in live if question_key(q) == answer.question), None)
        if question is None:
            return [Reply(STALE)]
    elif not live:
        if questions and _plain(answer):
            return [Reply(EXPIRED)]
        return None  # not an answer to anything: an ordinary message
    else:
        question = live[0]
    word = _meaning(question, answer)
    if word is None:
        if not _plain(answer):
            return None  # a short message that is not a name on offer: read it as an ordinary message
        text, buttons = question_text(question)
        return [Reply("没看懂这个回答。" + text + "\n或回复「取消」放弃。", buttons=buttons)]
    assert question.id is not None
    if not await ctx.uow.pending.delete(question.id):
        return [Reply(STALE)]  # answered meanwhile (another instance, a double tap): applied once
    if question.kind == QUOTE_PRODUCT:
        return await quote_product_chosen(message, ctx, question, word)
    outcome = Outcome()
    await _answer(message, ctx, question, word, outcome)
    if ctx.services.recommender is not None and outcome.changed:
        ctx.services.recommender.notice()  # a confirmed change is history too
    await store_questions(ctx, outcome)
    outcome.waiting = [q for q in live if q.id != question.id]
    if question.brief_id is not None and not any(q.brief_id == question.brief_id for q in outcome.questions):
        await _settle(ctx, question.brief_id)
    text, buttons = summary(outcome)
    return [Reply(text, buttons=buttons)]


def _meaning(question: PendingQuestion, answer: Answer) -> str | None:
    """What the answer means for this question: yes, no or an option's number; None when it does not fit."""
    if question.kind in ("choose_customer", QUOTE_PRODUCT):
        options: list[str] = question.payload["options"]
        if answer.word.isdigit():
            return answer.word if 1 <= int(answer.word) <= len(options) else None
        if answer.word == NO_WORD:
            return NO_WORD
        if answer.word == YES_WORD:
            return None
        return _option_named(options, answer.word)
    if answer.word in (YES_WORD, "1"):
        return YES_WORD
    if answer.word in (NO_WORD, "2"):
        return NO_WORD
    return None


def _option_named(options: list[str], text: str) -> str | None:
    """The number of the one option a typed name fits (鼎晟电子, 东莞那家 → its place), if exactly one does."""
    word = _NAME_FILLERS.sub("", _NAME_FILLERS.sub("", text))
    if len(word) < 2:
        return None
    exact = [i for i, name in enumerate(options, start=1) if word == name]
    fits = exact or [i for i, name in enumerate(options, start=1) if word in name]
    return str(fits[0]) if len(fits) == 1 else None


async def _answer(message: Incoming, ctx: Context, q: PendingQuestion, word: str, outcome: Outcome) -> None:
    """Carry out one answer that fits its question."""
    brief_id = q.brief_id or 0
    update = update_from_dict(q.payload["update"])
    if q.kind == "new_customer":
        if word == NO_WORD:
            outcome.notes.append(f"好的,没有新建「{update.customer}」,这部分没有写入。")
            return
        existing = await ctx.uow.customers.by_name(update.customer)
        if existing is None:
            await create(ctx, message, brief_id, update, outcome)
        else:
            await consider(ctx, message, brief_id, existing, update, outcome)
        return
    if q.kind == "choose_customer":
        if word == NO_WORD:
            outcome.notes.append(f"好的,「{update.mention or update.customer}」这部分没有写入。")
            return
        options: list[str] = q.payload["options"]
        chosen = await ctx.uow.customers.by_name(options[int(word) - 1])
        if chosen is None:
            outcome.notes.append(f"「{options[int(word) - 1]}」已经不在了,这部分没有改动。")
            return
        update.customer, update.candidates, update.matched = chosen.name, (), "exact"
        await consider(ctx, message, brief_id, chosen, update, outcome)
        return
    assert q.kind in (CONFIRM, LEGACY_CONFIRM), q.kind
    customer = await ctx.uow.customers.get(int(q.payload["customer_id"]))
    if customer is None:
        outcome.notes.append(f"「{q.payload['name']}」已经不在了,没有改动。")
        return
    if word == NO_WORD:
        outcome.notes.append(f"好的,「{customer.name}」没有改动。")
        return
    if q.kind == LEGACY_CONFIRM:
        update = update_from_dict({"customer": customer.name, "stage": q.payload["to"]})
    update.customer = customer.name
    seen = q.payload.get("seen")
    if seen is not None and seen != snapshot(customer):  # changed since it was shown: show it again
        outcome.notes.append(f"「{customer.name}」在你回答之前又有了改动,请按现在的情况再确认一次。")
        await consider(ctx, message, brief_id, customer, update, outcome)
        return
    await consider(ctx, message, brief_id, customer, update, outcome, confirmed=True)


async def _settle(ctx: Context, brief_id: int) -> None:
    brief = await ctx.uow.briefs.get(brief_id)
    if brief is not None and brief.status is BriefStatus.PENDING:
        await ctx.uow.briefs.set_status(brief_id, BriefStatus.APPLIED)


async def _settle_all(ctx: Context, dropped: list[PendingQuestion]) -> None:
    for brief_id in {q.brief_id for q in dropped if q.brief_id is not None}:
        await _settle(ctx, brief_id)
