"""Quotes: the totals to the fen, a request in the chat becoming a quote with its documents, approvals, revisions,
resending, unclear products, the price list's import and the store on every backend."""

from __future__ import annotations

import base64
import io
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from bot.errors import ErrorHandler
from bot.inbox import InboxWorker
from handlers import build_router
from sales.model import Customer, Employee, InboxMessage, Role, StageChange, Team
from sales.quotes import (
    Discount,
    DiscountKind,
    Product,
    Quote,
    QuoteLine,
    QuoteStatus,
    capitals,
    totals,
)
from sales.stages import Stage
from store.errors import ConflictError
from store.repositories import UnitOfWorkFactory
from tests.conftest import NOW
from usecases.quote_docs import cjk_font
from usecases.services import Services

Genjin = Any
DAY = date(2026, 11, 1)
PRICE_LIST = [
    Product("A100", "A型设备", "台", Decimal("12800.00"), Decimal("0.13"), DAY, Decimal("10000"), Decimal("0.15"),
            ("A型",)),
    Product("A200", "A型配件包", "套", Decimal("499.99"), Decimal("0.13"), DAY, None, Decimal("0.10")),
    Product("S01", "实施服务", "年", Decimal("36000.00"), Decimal("0.06"), DAY, None, Decimal("0.20"), ("实施",)),
    Product("T01", "现场培训", "人天", Decimal("2333.33"), Decimal("0.06"), DAY, None, Decimal("0.10"), ("培训",)),
]  # fmt: skip


# --- the figures -------------------------------------------------------------------------------------------------


def test_three_lines_with_a_discount_add_up_to_the_fen() -> None:
    """10 × 12,800 + 1 × 36,000 + 3 × 2,333.33 = 170,999.99; 九折 takes 17,100.00 (170,999.99 × 0.9 = 153,899.991 →
    153,899.99); its shares by amount, in fen: 1,280,000.07 / 360,000.02 / 69,999.90 → 12,800.00 / 3,600.00 / 700.00
    (the last fen to the largest remainder); tax line by line: 115,200 × 13 % = 14,976.00, 32,400 × 6 % = 1,944.00,
    6,299.99 × 6 % = 377.9994 → 378.00; total 153,899.99 + 17,298.00 = 171,197.99."""
    lines = [QuoteLine.of(PRICE_LIST[0], Decimal(10)), QuoteLine.of(PRICE_LIST[2], Decimal(1)),
             QuoteLine.of(PRICE_LIST[3], Decimal(3))]  # fmt: skip
    f = totals(lines, Discount(DiscountKind.RATE, Decimal("0.9")))
    assert f.subtotal == Decimal("170999.99") and f.discount == Decimal("17100.00")
    assert [t.discount for t in f.lines] == [Decimal("12800.00"), Decimal("3600.00"), Decimal("700.00")]
    assert sum((t.discount for t in f.lines), Decimal(0)) == f.discount
    assert [t.tax for t in f.lines] == [Decimal("14976.00"), Decimal("1944.00"), Decimal("378.00")]
    assert f.tax == Decimal("17298.00") and f.total == Decimal("171197.99")
    off = totals(lines, Discount(DiscountKind.AMOUNT, Decimal("20000")))
    assert off.discount == Decimal("20000.00") and off.net == Decimal("150999.99")
    assert totals(lines, Discount(DiscountKind.AMOUNT, Decimal("1e9"))).net == 0  # never below nothing


def test_capitals_as_on_an_invoice() -> None:
    assert capitals(Decimal("171197.99")) == "壹拾柒万壹仟壹佰玖拾柒元玖角玖分"
    assert capitals(Decimal("100010")) == "壹拾万零壹拾元整"
    assert capitals(Decimal("1000000.07")) == "壹佰万元零柒分"
    assert capitals(Decimal("20002.02")) == "贰万零贰元零贰分"
    assert capitals(Decimal("0")) == "零元整"


# --- the chat ----------------------------------------------------------------------------------------------------


class Rig:
    """The chat in process on each store, with the console taking files (as WeCom does) so that the documents can
    be read back."""

    def __init__(self, store: UnitOfWorkFactory) -> None:
        self.store, self.services, self.n = store, Services(), 0
        self.services.file_platforms = ("console",)

    async def setup(self) -> None:
        async with self.store() as uow:
            await uow.teams.add(Team(name="华东一组"))
            await uow.teams.add(Team(name="华东二组"))
            await uow.employees.add(Employee(id="A01", name="王敏", role=Role.ADMIN))
            await uow.employees.add(Employee(id="S01", name="陈静", role=Role.SUPERVISOR, team="华东一组"))
            await uow.employees.add(Employee(id="E01", name="张伟", team="华东一组", supervisor_id="S01"))
            await uow.employees.add(Employee(id="E02", name="李娜", team="华东二组"))
            for name, owner in (("杭州瑞达科技有限公司", "E01"), ("宁波海天精工", "E02")):
                c = await uow.customers.add(Customer(name=name, owner_id=owner, stage=Stage.DEMO,
                                                     stage_entered_at=NOW - timedelta(days=3),
                                                     created_at=NOW - timedelta(days=30)))  # fmt: skip
                assert c.id is not None
                await uow.stages.add(StageChange(c.id, None, Stage.DEMO, NOW - timedelta(days=3), owner))
            await uow.quotes.put_products(PRICE_LIST)
            await uow.commit()

    async def say(self, text: str, user: str = "E01") -> list[dict[str, Any]]:
        """The messages the bot queued for this one (to anyone), in order."""
        self.n += 1
        async with self.store() as uow:
            before = len(await uow.outbox.find())
            await uow.inbox.put(InboxMessage(platform="console", msg_id=f"m{self.n}", user_id=user,
                                             chat_id=f"console:{user}", text=text, received_at=NOW))  # fmt: skip
            await uow.commit()
        await InboxWorker(self.store, build_router(), ErrorHandler(), lambda: NOW, services=self.services).drain()
        async with self.store() as uow:
            return [dict(m.payload) | {"to": m.to_user} for m in (await uow.outbox.find())[before:]]


@pytest.fixture
async def rig(uow_factory: UnitOfWorkFactory) -> Rig:
    made = Rig(uow_factory)
    await made.setup()
    return made


def _files(sent: list[dict[str, Any]]) -> dict[str, bytes]:
    return {m["file_name"].rsplit(".", 1)[1]: base64.b64decode(m["file_b64"]) for m in sent if m.get("file_b64")}


async def _customer(rig: Rig, name: str) -> Customer:
    async with rig.store() as uow:
        found = await uow.customers.by_name(name)
    assert found is not None
    return found


async def test_a_request_with_three_lines_a_discount_and_validity_gives_the_quote_and_its_documents(rig: Rig) -> None:
    sent = await rig.say("给瑞达出个报价:A型设备10台,实施服务1年,培训3人天,九折,有效期一个月")
    text = sent[0]["text"]
    assert "Q-2026-0001 第1版" in text and "杭州瑞达科技有限公司" in text
    assert "合计 ¥171,197.99(壹拾柒万壹仟壹佰玖拾柒元玖角玖分)" in text and "有效期至 2026-12-26" in text
    files = _files(sent)
    assert set(files) == {"pdf", "xlsx"}
    if cjk_font(None) is not None:  # CI installs fonts-wqy-microhei; the README's demo machine may not have it
        reader = PdfReader(io.BytesIO(files["pdf"]))
        words = "".join(page.extract_text() for page in reader.pages)
        for expected in (
            "杭州瑞达科技有限公司",
            "A型设备",
            "实施服务",
            "现场培训",
            "171,197.99",
            "壹拾柒万壹仟壹佰玖拾柒元玖角玖分",
        ):
            assert expected in words
        page: Any = reader.pages[0]  # pypdf's objects are dynamically typed
        font = page["/Resources"]["/Font"]
        descriptors = [f.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
                       for f in font.values()]  # fmt: skip
        assert descriptors and all("/FontFile2" in d for d in descriptors)  # the glyphs are in the file
    sheet = load_workbook(io.BytesIO(files["xlsx"])).active
    assert sheet is not None
    cells = {(r, c): sheet.cell(r, c).value for r in range(1, sheet.max_row + 1) for c in range(1, 9)}
    assert any(v == 12800.0 for v in cells.values()) and any(v == 128000.0 for v in cells.values())
    total = next(cells[r, 7] for (r, c), v in cells.items() if v == "合计(含税)")
    assert isinstance(total, float) and total == 171197.99  # a number, not text
    customer = await _customer(rig, "杭州瑞达科技有限公司")
    assert customer.stage is Stage.NEGOTIATION and customer.amount == Decimal("171197.99")
    async with rig.store() as uow:
        assert customer.id is not None
        [quote] = await uow.quotes.for_customer(customer.id)
        briefs = await uow.briefs.by_sender("E01")
    assert quote.status is QuoteStatus.SENT and await _kept(rig, quote, "pdf") == files["pdf"]
    assert any("[报价] Q-2026-0001 第1版" in b.text for b in briefs)  # in the customer's history


async def _kept(rig: Rig, quote: Quote, kind: str) -> bytes | None:
    async with rig.store() as uow:
        assert quote.id is not None
        return await uow.quotes.file(quote.id, kind)


async def test_a_revision_keeps_the_number_and_bumps_the_version_and_the_latest_is_sent_again(rig: Rig) -> None:
    await rig.say("给瑞达出个报价:A型设备10台")
    sent = await rig.say("给瑞达重新报个价:A型设备12台,实施1年")
    assert "Q-2026-0001 第2版" in sent[0]["text"]
    again = await rig.say("把瑞达最新报价再发我")
    assert "Q-2026-0001 第2版" in again[0]["text"] and set(_files(again)) == {"pdf", "xlsx"}
    other = await rig.say("给海天出个报价:培训2人天", user="E02")
    assert "Q-2026-0002 第1版" in other[0]["text"]  # another customer: the next number


async def test_an_over_limit_discount_waits_for_the_supervisor_and_a_rejection_sends_nothing_final(rig: Rig) -> None:
    sent = await rig.say("给瑞达出个报价:A型设备10台,打8折")
    assert "需要审批" in sent[0]["text"] and "陈静" in sent[0]["text"] and not _files(sent)
    ask = next(m for m in sent if m["to"] == "S01")
    assert [b["label"] for b in ask["buttons"]] == ["批准", "驳回"] and "A型设备优惠 20.0%" in ask["text"]
    customer = await _customer(rig, "杭州瑞达科技有限公司")
    assert customer.stage is Stage.DEMO  # nothing recorded before approval
    assert (await rig.say(ask["buttons"][0]["key"], user="E02"))[0]["text"].startswith("没有找到")  # a rep cannot
    answer = await rig.say(ask["buttons"][1]["key"], user="S01")
    told = next(m for m in answer if m["to"] == "E01")
    assert "被陈静驳回" in told["text"] and not _files(answer)
    assert (await _customer(rig, "杭州瑞达科技有限公司")).stage is Stage.DEMO
    again = await rig.say(ask["buttons"][0]["key"], user="S01")
    assert "已经处理过了" in again[0]["text"]  # a late approval of a rejected quote changes nothing


async def test_an_approval_sends_the_documents_and_a_big_discount_needs_the_admin_too(rig: Rig) -> None:
    sent = await rig.say("给瑞达出个报价:A型设备10台,打85折")  # 15 %: the product's limit, approved by nobody
    assert "需要审批" not in sent[0]["text"] and _files(sent)
    sent = await rig.say("给瑞达出个报价:A型设备10台,减3万")  # 23.4 %: the supervisor
    ask = next(m for m in sent if m["to"] == "S01")
    approved = await rig.say("批准 Q-2026-0001", user="S01")
    assert "已批准" in approved[0]["text"] and any(m["to"] == "E01" and m.get("file_b64") for m in approved)
    sent = await rig.say("给瑞达出个报价:A型设备10台,七折")  # 30 %: the supervisor, then the admin
    ask = next(m for m in sent if m["to"] == "S01")
    passed = await rig.say(ask["buttons"][0]["key"], user="S01")
    assert "还需要王敏审批" in passed[0]["text"] and not any(m.get("file_b64") for m in passed)
    to_admin = next(m for m in passed if m["to"] == "A01")
    final = await rig.say(to_admin["buttons"][0]["key"], user="A01")
    assert any(m["to"] == "E01" and m.get("file_b64") for m in final)


async def test_an_unclear_product_is_asked_about_and_an_unknown_one_makes_nothing(rig: Rig) -> None:
    sent = await rig.say("给瑞达出个报价:A型配件 5套,实施1年")
    assert "价目表里没找到" not in sent[0]["text"]
    sent = await rig.say("给瑞达出个报价:C型设备3台,实施1年")
    assert "价目表里没找到 「C型设备3台」" in sent[0]["text"] and not _files(sent)
    sent = await rig.say("给瑞达出个报价:配件 2套")  # one product holds the word: no question
    assert "A型配件包" in sent[0]["text"]
    async with rig.store() as uow:
        await uow.quotes.put_products([Product("A300", "A型配件箱", "套", Decimal(800), Decimal("0.13"), DAY)])
        await uow.commit()
    asked = await rig.say("给瑞达出个报价:配件 2套")
    assert "对应多个产品" in asked[0]["text"] and len(asked[0]["buttons"]) == 2
    made = await rig.say("2")
    assert "A型配件箱" in made[0]["text"] and _files(made)


async def test_another_teams_customer_gets_no_quote(rig: Rig) -> None:
    sent = await rig.say("给海天出个报价:A型设备1台")
    assert "不是你的客户" in sent[0]["text"]


# --- the store and the import ------------------------------------------------------------------------------------


async def test_quotes_and_the_price_list_in_the_store(uow_factory: UnitOfWorkFactory) -> None:
    later = Product("A100", "A型设备", "台", Decimal("13800.00"), Decimal("0.13"), DAY + timedelta(days=30))
    async with uow_factory() as uow:
        assert await uow.quotes.put_products(PRICE_LIST) == (4, 0, 0)
        assert await uow.quotes.put_products([*PRICE_LIST[:1], later]) == (1, 0, 1)
        assert len(await uow.quotes.products()) == 5
        line = QuoteLine.of(PRICE_LIST[0], Decimal(2))
        quote = Quote("Q-2026-0001", 1, 7, "杭州瑞达科技有限公司", "E01", (line,),
                      Discount(DiscountKind.RATE, Decimal("0.9")), DAY, "预付30%", NOW, QuoteStatus.PENDING,
                      waiting_for="S01", total=Decimal("28928.00"))  # fmt: skip
        stored = await uow.quotes.add(quote)
        assert stored.id is not None
        with pytest.raises(ConflictError):
            await uow.quotes.add(Quote("Q-2026-0001", 1, 7, "x", "E01", (line,), None, DAY, None, NOW))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.quotes.next_serial(2026) == 2 and await uow.quotes.next_serial(2027) == 1
        got = await uow.quotes.get(stored.id)
        assert got is not None and got.lines == (line,) and got.discount == quote.discount
        assert got.total == Decimal("28928.00") and got.figures().total == quote.figures().total
        got.status, got.decided_by, got.waiting_for = QuoteStatus.SENT, "S01", None
        assert await uow.quotes.decide(got, QuoteStatus.PENDING, "S01")
        assert not await uow.quotes.decide(got, QuoteStatus.PENDING, "S01")  # the second click
        await uow.quotes.put_files(stored.id, b"%PDF", b"PK")
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.quotes.file(stored.id, "pdf") == b"%PDF"
        latest = await uow.quotes.latest(7)
        assert latest is not None and latest.status is QuoteStatus.SENT
        assert [q.version for q in await uow.quotes.versions("Q-2026-0001")] == [1]


def test_the_price_list_is_imported_with_the_usual_row_report(genjin: Genjin, tmp_path: Path) -> None:
    path = tmp_path / "价目表.csv"
    path.write_text(
        "编码,名称,单位,标准价,底价,最大优惠,税率,生效日期,简称,套餐包含\n"
        "A100,A型设备,台,12800,10000,15%,13%,2026-11-01,A型,\n"
        "S01,实施服务,年,36000,,20%,6%,2026-11-01,实施,\n"
        "K01,入门套餐,套,45000,,10%,13%,2026-11-01,,A100*2;S01\n"
        "B1,坏价格,台,-5,,,13%,,,\n",
        encoding="utf-8",
    )
    out = genjin("import", "products", str(path))
    assert "新增 3" in out.stdout, out.stdout + out.stderr
    assert "第 5 行" in out.stdout
    again = genjin("import", "products", str(path))
    assert "新增 0, 更新 0, 未变 3" in again.stdout


# --- what a review found ---------------------------------------------------------------------------------------


def test_what_cannot_be_read_is_a_problem_never_a_guess() -> None:
    from nlu.quotes import Catalog, Item, read_request

    catalog = Catalog([Item("A100", "A型设备", "台", ("A型",)), Item("S01", "实施服务", "年", ("实施",))])

    def read(tail: str) -> Any:
        return read_request("给瑞达出个报价:" + tail, catalog, customer="瑞达")

    terms = read("A型设备10台,付款方式:货到付款,实施服务1年,九折")  # the terms stop before the next item
    assert [x.code for x in terms.lines] == ["A100", "S01"] and terms.rate == Decimal("0.9")
    assert terms.payment_terms == "货到付款"
    assert read("A型设备10台,月结60天,九折").rate == Decimal("0.9")
    assert read("预付30%,A型设备10台").payment_terms == "预付30%"
    assert read("A型设备10台,付款方式:30%预付,70%验收后").payment_terms == "30%预付,70%验收后"
    for bad in ("A型设备0台", "A型设备-5台", "A型设备 x 1000000000000", "A型设备10台,优惠100%",
                "A型设备10台,九折再减5000", "A型设备10台,有效期0天"):  # fmt: skip
        assert read(bad).problems, bad
    assert read("A型设备1.2万台").lines[0].quantity == Decimal(12000)
    assert read("A型设备一万台").lines[0].quantity == Decimal(10000)
    full = read("A型设备10台,打10折")  # 十折 is the full price
    assert full.rate is None and not full.problems
    assert capitals(Decimal("1234500000000")) == "壹万贰仟叁佰肆拾伍亿元整"


def test_a_long_message_is_read_in_bounded_time() -> None:
    import time

    from nlu.quotes import Catalog, asks_for_quote, read_request

    started = time.perf_counter()
    asks_for_quote("给" + "请" * 20_000)
    read_request("给瑞达出个报价:" + " " * 20_000 + "A型设备1台", Catalog([]))
    assert time.perf_counter() - started < 5  # was 8 s and more: a generous bound, not a benchmark


async def test_an_amendment_keeps_the_other_lines_and_terms(rig: Rig) -> None:
    await rig.say("给瑞达出个报价:A型设备10台,实施服务1年,培训3人天,九折,付款方式:预付30%")
    sent = await rig.say("给瑞达改一下报价:A型设备改成5台,其余不变")
    text = sent[0]["text"]
    assert "第2版" in text and "A型设备 5台" in text and "实施服务 1年" in text and "现场培训 3人天" in text
    assert "优惠 10%" in text and "付款:预付30%" in text
    third = (await rig.say("给瑞达改一下报价:去掉实施服务"))[0]["text"]
    assert "第3版" in third and "实施服务" not in third and "A型设备 5台" in third and "现场培训 3人天" in third


async def test_a_waiting_older_version_cannot_be_approved_once_a_newer_one_is_sent(rig: Rig) -> None:
    sent = await rig.say("给瑞达出个报价:A型设备10台,打8折")
    ask = next(m for m in sent if m["to"] == "S01")
    await rig.say("给瑞达重新报个价:A型设备10台,九折")
    late = await rig.say(ask["buttons"][0]["key"], user="S01")
    assert "已经处理过了" in late[0]["text"] and not any(m.get("file_b64") for m in late)


async def test_only_the_approver_or_an_admin_decides_and_never_on_their_own_quote(rig: Rig) -> None:
    async with rig.store() as uow:
        await uow.employees.add(Employee(id="S02", name="周强", role=Role.SUPERVISOR, team="华东二组"))
        await uow.commit()
    await rig.say("给瑞达出个报价:A型设备10台,打8折")
    other = await rig.say("批准 Q-2026-0001", user="S02")  # another team's supervisor
    assert "已经处理过了" in other[0]["text"] or "没有找到" in other[0]["text"]
    own = await rig.say("给海天出个报价:A型设备10台,五折", user="A01")  # an admin's own quote: no other approver
    assert "没有能审批的主管或管理员" in own[0]["text"]
    mine = await rig.say("批准 Q-2026-0002", user="A01")
    assert not any(m.get("file_b64") for m in mine) and "已批准" not in mine[0]["text"]


async def test_a_brief_headed_like_a_quote_is_kept_as_a_brief(rig: Rig) -> None:
    """Not read as a request (no item follows the heading); or read as one, but no product is found (客户要5台):
    either way the brief is kept and applied."""
    for text in ("瑞达报价单:客户接受了,准备签合同", "瑞达报价单:客户要5台,下周签合同"):
        sent = await rig.say(text)
        assert "价目表" not in sent[0]["text"] and "报价没有生成" not in sent[0]["text"], sent[0]["text"]
    async with rig.store() as uow:
        briefs = await uow.briefs.by_sender("E01")
    assert [b.text for b in briefs] == ["瑞达报价单:客户接受了,准备签合同", "瑞达报价单:客户要5台,下周签合同"]


async def test_an_amount_discount_shows_what_it_took_off(rig: Rig) -> None:
    sent = await rig.say("给瑞达出个报价:A型设备1台,减2万")  # all of it: waits for the supervisor, then an admin
    ask = next(m for m in sent if m["to"] == "S01")
    assert "优惠 12,800.00 元:-12,800.00" in ask["text"] and "合计 ¥0.00(零元整)" in ask["text"]


async def test_a_waiting_quote_is_recalled_to_its_approver_on_the_next_working_day(rig: Rig) -> None:
    from usecases.quotes import remind_approvers

    await rig.say("给瑞达出个报价:A型设备10台,打8折")
    assert await remind_approvers(rig.store, rig.services, NOW) == 0  # asked today: not yet
    friday = NOW + timedelta(days=1)
    assert await remind_approvers(rig.store, rig.services, friday) == 1
    assert await remind_approvers(rig.store, rig.services, friday) == 0  # once a day
    assert await remind_approvers(rig.store, rig.services, NOW + timedelta(days=2)) == 0  # Saturday
    async with rig.store() as uow:
        told = [m for m in await uow.outbox.find() if m.key.startswith("quote-approvals:")]
    assert [m.to_user for m in told] == ["S01"]
    assert (
        "Q-2026-0001 第1版 杭州瑞达科技有限公司" in told[0].payload["text"]
        and "已等 1 个工作日" in told[0].payload["text"]
    )
    await rig.say("驳回 Q-2026-0001 折扣太大", user="S01")
    assert await remind_approvers(rig.store, rig.services, NOW + timedelta(days=4)) == 0  # decided: no more
