"""Quotes in the chat: 给瑞达出个报价:A型设备10台,实施服务1年,九折 → the summary and the documents, or a question
about a product, or the approval it waits for; the approver's buttons (or 批准/驳回 Q-2026-0001); and
把瑞达最新报价再发我."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping

from handlers.intake import Outcome, answer_key, consider, conversation, store_questions, summary
from handlers.messages import Attachment, Button, Incoming, Reply
from handlers.routing import Context, Router, intent_is, known_sender
from nlu import Update
from nlu.quotes import DECISION, RESEND, Line, headed_only, read_request
from sales.accounts import platform_user
from sales.model import AuditEntry, Brief, BriefStatus, Customer, Employee, PendingQuestion, Role
from sales.permissions import may_see, may_update
from sales.quotes import MAX_TOTAL, Product, Quote, QuoteLine, QuoteStatus, totals
from sales.stages import Stage
from usecases import quote_docs
from usecases.quotes import amended, create, decide, discount_of, documents, price_list
from usecases.quotes import summary as quote_summary

router = Router("quotes")
QUOTE_PRODUCT = "quote_product"  # a pending question: which product an item meant
_BUTTON = re.compile(r"^quote:(?P<verb>ok|no):(?P<id>\d{1,12})$")
EXAMPLE = "例如:给瑞达出个报价:A型设备10台,实施服务1年,九折,有效期一个月"


@router.message(known_sender, intent_is("quote"))
async def on_request(message: Incoming, ctx: Context) -> list[Reply]:
    assert ctx.employee is not None and ctx.parsed is not None
    parsed = ctx.parsed
    if parsed.candidates:
        listed = "、".join(parsed.candidates[:5])
        return [Reply(f"「{parsed.mention}」对应好几个客户:{listed}。请写全称再发一次。")]
    customer = await ctx.uow.customers.by_name(parsed.customer) if parsed.customer else None
    if customer is None:
        return [Reply(f"没看出是给哪个客户报价(要先有这个客户)。请带上客户名称,{EXAMPLE}")]
    return await _make(message, ctx, customer, message.text, parsed.mention, {})


async def _make(
    message: Incoming, ctx: Context, customer: Customer, text: str, mention: str, chosen: dict[str, str]
) -> list[Reply]:
    """Read the request against the price list in force; ask about an unclear product; else make the quote."""
    rep = ctx.employee
    assert rep is not None and customer.id is not None
    owner = rep if customer.owner_id == rep.id else await ctx.uow.employees.get(customer.owner_id)
    if not may_update(rep, owner):
        return [Reply(f"「{customer.name}」不是你的客户,不能给它出报价。")]
    today = ctx.now.astimezone(ctx.services.timezone).date()
    products, catalog = await price_list(ctx.uow, today)
    if not products:
        return [Reply("还没有价目表,请管理员先导入:genjin import products 文件")]
    request = read_request(text, catalog, customer=mention or None)
    if not request.lines and headed_only(text) and not chosen:  # 瑞达报价单:客户接受了 — a brief about a quote
        return await _as_brief(message, ctx)
    if request.problems:
        listed = ";".join(request.problems[:5])
        return [Reply(f"{listed}。报价没有生成,改好后再发一次。")]
    if request.unknown:
        missing = "、".join(f"「{w}」" for w in request.unknown[:5])
        return [Reply(f"价目表里没找到 {missing},报价没有生成。请用产品名称、简称或编码再发一次。")]
    lines: list[QuoteLine] = []
    for line in request.lines:
        code = line.code or chosen.get(line.words)
        if code is None:
            return [await _ask_product(message, ctx, customer, text, mention, chosen, line, products)]
        lines.append(QuoteLine.of(products[code], line.quantity))
    previous = await ctx.uow.quotes.latest(customer.id)
    if request.amends and previous is not None:
        lines, request = amended(previous, lines, request)
    if not lines:
        return [Reply(f"没读出要报价的产品和数量。{EXAMPLE}")]
    if totals(lines, discount_of(request)).total >= MAX_TOTAL:
        return [Reply("这份报价的合计超过一万亿元,应该是数量或单价写错了,报价没有生成。")]
    quote = await create(ctx.uow, ctx.services.quotes, rep, customer, lines, request, ctx.now, today)
    await ctx.uow.audit.add(_audit(ctx, rep, quote, "quote.created"))
    if quote.status is QuoteStatus.SENT:
        return await _final(message, ctx, quote, rep)
    return await _to_approver(ctx, quote, rep)


async def _as_brief(message: Incoming, ctx: Context) -> list[Reply]:
    """A message headed like a quote that names no product: read it as the brief it is."""
    from handlers.briefs import on_brief

    parser = await ctx.services.parser.get(ctx.uow)
    ctx.parsed = parser.parse(message.text, ctx.now, quotes=False)
    if ctx.parsed.intent != "brief":
        return [Reply(f"没读出要报价的产品和数量。{EXAMPLE}")]
    return await on_brief(message, ctx) or []


async def _ask_product(
    message: Incoming,
    ctx: Context,
    customer: Customer,
    text: str,
    mention: str,
    chosen: dict[str, str],
    line: Line,
    products: Mapping[str, Product],
) -> Reply:
    assert ctx.employee is not None
    names = [f"{products[c].name}({c})" for c in line.options]
    platform, chat, user = conversation(message)
    question = await ctx.uow.pending.add(
        PendingQuestion(
            platform=platform,
            chat_id=chat,
            user_id=user,
            employee_id=ctx.employee.id,
            kind=QUOTE_PRODUCT,
            created_at=ctx.now,
            expires_at=ctx.now + ctx.services.question_ttl,
            payload={
                "key": secrets.token_hex(4),
                "text": text,
                "mention": mention,
                "customer_id": customer.id,
                "words": line.words,
                "codes": list(line.options),
                "options": names,
                "chosen": chosen,
            },
        )
    )
    listed = " ".join(f"{i}. {n}" for i, n in enumerate(names, start=1))
    buttons = tuple(Button(answer_key(question, str(i)), n[:10]) for i, n in enumerate(names, start=1))
    return Reply(f"「{line.words}」对应多个产品,是哪一个?{listed}\n回复数字或名称", buttons=buttons)


async def chosen(message: Incoming, ctx: Context, question: PendingQuestion, word: str) -> list[Reply]:
    """The answer to "which product?": read the request again with that choice."""
    payload = question.payload
    if not word.isdigit():
        return [Reply("好的,这次报价没有生成。")]
    choice = dict(payload.get("chosen") or {})
    choice[str(payload["words"])] = str(payload["codes"][int(word) - 1])
    customer = await ctx.uow.customers.get(int(payload["customer_id"]))
    if customer is None:
        return [Reply("这个客户已经不在了,报价没有生成。")]
    return await _make(message, ctx, customer, str(payload["text"]), str(payload.get("mention") or ""), choice)


def _audit(ctx: Context, actor: Employee, quote: Quote, action: str) -> AuditEntry:
    return AuditEntry(ctx.now, action, actor.id, {"quote": quote.id, "number": quote.number, "version": quote.version,
                                                  "total": str(quote.total), "status": quote.status.value})  # fmt: skip


def _files(ctx: Context, quote: Quote, pdf: bytes | None, xlsx: bytes, platform: str, to: str | None) -> list[Reply]:
    """The documents: as files where the platform takes them, else the dashboard's download links."""
    kinds = [("pdf", pdf), ("xlsx", xlsx)]
    if platform in ctx.services.file_platforms:
        return [Reply(f"📎 {quote_docs.file_name(quote, k)}", file=Attachment(quote_docs.file_name(quote, k), data),
                      to_employee=to) for k, data in kinds if data is not None]  # fmt: skip
    if ctx.services.web_url:
        links = [f"{k.upper()}:{ctx.services.web_url}/web/quotes/{quote.id}.{k}" for k, data in kinds if data]
        return [Reply("下载报价单(需登录看板):\n" + "\n".join(links), to_employee=to)]
    return [Reply("这个平台不能直接发文件;打开看板(发「看板」)后可以下载报价单。", to_employee=to)]


async def _final(message: Incoming, ctx: Context, quote: Quote, rep: Employee) -> list[Reply]:
    """A final quote: its documents, kept and sent to the rep, and the customer's amount and stage through the
    same intake as a brief (with its confirmations)."""
    pdf, xlsx = await documents(ctx.uow, ctx.services.quotes, quote)
    to = None if ctx.employee is not None and ctx.employee.id == rep.id else rep.id
    note = "" if pdf is not None else "\n(这台服务器没有中文字体,只生成了 Excel;装上 fonts-wqy-microhei 后会有 PDF)"
    pipeline = await _pipeline(message, ctx, quote, rep)
    head = Reply(quote_summary(quote) + note, to_employee=to)
    return [head, *_files(ctx, quote, pdf, xlsx, message.platform, to), *pipeline]


async def _pipeline(message: Incoming, ctx: Context, quote: Quote, rep: Employee) -> list[Reply]:
    """Record the quote as the rep's brief on the customer: the amount (the total with tax) and 报价谈判 unless the
    customer is already past it."""
    customer = await ctx.uow.customers.get(quote.customer_id)
    if customer is None:
        return []
    brief = await ctx.uow.briefs.add(Brief(sender_id=rep.id, platform=message.platform,
                                           text=f"[报价] {quote.label} 已发出,合计 ¥{quote.total:,.2f}",
                                           received_at=ctx.now, platform_msg_id=f"quote:{quote.id}"))  # fmt: skip
    assert brief.id is not None
    before = Stage.NEGOTIATION.rank > customer.stage.rank
    update = Update(customer=customer.name, stage=Stage.NEGOTIATION.value if before else None,
                    amount=float(quote.total), mention=customer.name)  # fmt: skip
    as_rep = Context(ctx.uow, ctx.now, rep, ctx.services)
    own = ctx.employee is not None and ctx.employee.id == rep.id
    user = message.user_id if own else platform_user(rep, message.platform) or rep.id
    incoming = message if own else Incoming(message.platform, user, "", ctx.now, f"quote:{quote.id}")
    outcome = Outcome()
    await consider(as_rep, incoming, brief.id, customer, update, outcome)
    await store_questions(as_rep, outcome)
    await ctx.uow.briefs.set_status(brief.id, BriefStatus.PENDING if outcome.asked else BriefStatus.APPLIED)
    text, buttons = summary(outcome)
    return [Reply(text, buttons=buttons, to_employee=None if own else rep.id)]


async def _to_approver(ctx: Context, quote: Quote, rep: Employee) -> list[Reply]:
    waiting = await ctx.uow.employees.get(quote.waiting_for) if quote.waiting_for else None
    head = f"报价 {quote.label}(合计 ¥{quote.total:,.2f})需要审批:{quote.note}。"
    if waiting is None:  # no supervisor and no other admin: any admin may still approve it by its number
        return [Reply(head + f"现在没有能审批的主管或管理员,请管理员回复「批准 {quote.number}」。")]
    return [Reply(head + f"已交给{waiting.name},批准后发给你。"), _ask_approval(quote, rep, waiting)]


def _ask_approval(quote: Quote, rep: Employee, approver: Employee) -> Reply:
    text = (f"{rep.name}的报价待你审批:\n{quote_summary(quote)}\n原因:{quote.note}\n"
            f"回复「批准 {quote.number}」或「驳回 {quote.number} 原因」")  # fmt: skip
    buttons = (Button(f"quote:ok:{quote.id}", "批准"), Button(f"quote:no:{quote.id}", "驳回"))
    return Reply(text, buttons=buttons, to_employee=approver.id)


def _decision(message: Incoming) -> tuple[bool, int | None, str | None, int | None, str] | None:
    text = message.text.strip()
    if (b := _BUTTON.match(text)) is not None:
        return b["verb"] == "ok", int(b["id"]), None, None, ""
    if (d := DECISION.match(text)) is not None:
        version = int(d["version"]) if d["version"] else None
        return d["verb"] in ("批准", "同意", "通过"), None, d["number"], version, d["reason"].strip()
    return None


@router.message(known_sender, lambda m, _ctx: m.kind == "text" and _decision(m) is not None)
async def on_decision(message: Incoming, ctx: Context) -> list[Reply]:
    by = ctx.employee
    assert by is not None
    found = _decision(message)
    assert found is not None
    approve, quote_id, number, version, reason = found
    quote = await ctx.uow.quotes.get(quote_id) if quote_id is not None else await _by_number(ctx, number, version)
    if quote is None or by.role is Role.REP:
        return [Reply("没有找到等你审批的这份报价。")]
    rep = await ctx.uow.employees.get(quote.rep_id)
    assert rep is not None
    result, following = await decide(ctx.uow, quote, by, approve, reason or None)
    if result == "stale":
        return [Reply(f"报价 {quote.label} 已经处理过了(或不归你审批),没有再改动。")]
    await ctx.uow.audit.add(_audit(ctx, by, quote, f"quote.{result}"))
    if result == "rejected":
        why = f",原因:{quote.note}" if quote.note else ""
        told = f"你的报价 {quote.label}({quote.customer_name})被{by.name}驳回{why}。报价单没有发出,可以调整后重新报价。"
        return [Reply(f"已驳回报价 {quote.label}。"), Reply(told, to_employee=rep.id)]
    if result == "passed" and following is not None:
        return [Reply(f"已批准,报价 {quote.label} 还需要{following.name}审批。"),
                Reply(f"报价 {quote.label} {by.name}已批准,还需要{following.name}审批。", to_employee=rep.id),
                _ask_approval(quote, rep, following)]  # fmt: skip
    return [Reply(f"已批准报价 {quote.label},已发给{rep.name}。"), *await _final(message, ctx, quote, rep)]


async def _by_number(ctx: Context, number: str | None, version: int | None) -> Quote | None:
    """The version named, else the newest version of that number waiting for a decision."""
    if number is None:
        return None
    found = [q for q in await ctx.uow.quotes.versions(number) if version is None or q.version == version]
    pending = [q for q in found if q.status is QuoteStatus.PENDING]
    return max(pending or found, key=lambda q: q.version) if found else None


@router.message(known_sender, lambda m, _ctx: m.kind == "text" and RESEND.match(m.text.strip()) is not None)
async def on_resend(message: Incoming, ctx: Context) -> list[Reply]:
    """把瑞达最新报价再发我: the last final version's documents again."""
    assert ctx.employee is not None
    match = RESEND.match(message.text.strip())
    assert match is not None
    words = (match["who"] or match["who2"] or "").strip()
    parser = await ctx.services.parser.get(ctx.uow)
    named = parser.named(words)
    if not named or len(named[0]) != 1:
        found = "、".join(named[0][:5]) if named else ""
        return [Reply(f"「{words}」对应好几个客户:{found}。请写全称。" if found else f"没找到客户「{words}」。")]
    customer = await ctx.uow.customers.by_name(named[0][0])
    if customer is None or customer.id is None:
        return [Reply(f"没找到客户「{words}」。")]
    if not may_see(ctx.employee, await ctx.uow.employees.get(customer.owner_id)):
        return [Reply(f"没找到客户「{words}」。")]
    sent = [q for q in await ctx.uow.quotes.for_customer(customer.id) if q.status is QuoteStatus.SENT]
    if not sent:
        return [Reply(f"「{customer.name}」还没有发出过的报价。")]
    quote = sent[-1]
    assert quote.id is not None
    pdf, xlsx = await ctx.uow.quotes.file(quote.id, "pdf"), await ctx.uow.quotes.file(quote.id, "xlsx")
    if xlsx is None:
        pdf, xlsx = await documents(ctx.uow, ctx.services.quotes, quote)
    return [Reply(f"「{customer.name}」最新的报价是 {quote.label},合计 ¥{quote.total:,.2f}。"),
            *_files(ctx, quote, pdf, xlsx, message.platform, None)]  # fmt: skip
