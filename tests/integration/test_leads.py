"""Leads: imports of leads and events (CSV, XLSX, JSON Lines), the store on every backend, the score, the assignment,
and the website's event endpoint."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web as aioweb
from aiohttp.test_utils import TestClient, TestServer
from openpyxl import Workbook

from bot.bootstrap import App, build_app
from bot.config import Settings
from bot.server import make_web_app
from sales.leads import EventKind, Lead, LeadEvent, Level, Rep, ScoreRules, assign, behaviour, decay, score
from sales.model import Customer, Employee, Role
from sales.stages import Stage
from store.repositories import UnitOfWorkFactory
from tests.conftest import NOW, Clock

Genjin = Any  # the conftest fixture: a callable with .cwd and .env
TOKEN = "site-token-0123456789"


# --- the score ---------------------------------------------------------------------------------------------------


def test_points_halve_every_half_life_and_a_view_counts_its_minutes() -> None:
    rules = ScoreRules(half_life_days=14)
    assert decay(NOW - timedelta(days=14), NOW, rules) == pytest.approx(0.5)
    assert decay(NOW - timedelta(days=28), NOW, rules) == pytest.approx(0.25)
    short = LeadEvent(1, EventKind.PAGE_VIEW, NOW, seconds=60, what="定价页")
    long = LeadEvent(1, EventKind.PAGE_VIEW, NOW, seconds=3600, what="定价页")  # capped at ten minutes
    assert behaviour([short], NOW, rules)[0] < behaviour([long], NOW, rules)[0]
    assert (
        behaviour([long], NOW, rules)[0]
        == behaviour(
            [
                long,
            ],
            NOW,
            rules,
        )[0]
    )
    old = LeadEvent(1, EventKind.FORM, NOW - timedelta(days=60))
    fresh = LeadEvent(1, EventKind.FORM, NOW - timedelta(hours=1))
    assert behaviour([old], NOW, rules)[0] < behaviour([fresh], NOW, rules)[0]
    assert behaviour([], NOW, rules) == (0.0, [])


def test_the_reasons_say_what_was_done_in_words() -> None:
    events = [
        LeadEvent(1, EventKind.DOWNLOAD, NOW - timedelta(days=1), what="白皮书"),
        LeadEvent(1, EventKind.DOWNLOAD, NOW - timedelta(days=2), what="白皮书"),
        LeadEvent(1, EventKind.PAGE_VIEW, NOW - timedelta(days=3), seconds=240, what="定价页"),
        LeadEvent(1, EventKind.EMAIL_OPEN, NOW - timedelta(days=20)),
    ]
    result = score(events, NOW, ScoreRules(), 0.3)
    assert result.reasons[:2] == ["近7天下载「白皮书」2次", "近7天浏览「定价页」4分钟"]
    assert result.reasons[-1] == "渠道历史成交率 30%" and 0 < result.score <= 100
    assert result.line().startswith(f"线索评分 {result.score:.0f}(近7天下载")
    assert score(events, NOW, ScoreRules(), None).fit is None


# --- the assignment ----------------------------------------------------------------------------------------------


def _reps(loads: dict[str, int], seniors: set[str]) -> list[Rep]:
    return [Rep(r, "T", Level.SENIOR if r in seniors else Level.JUNIOR, n) for r, n in loads.items()]


def test_the_top_band_goes_to_the_least_loaded_senior_and_the_rest_in_turn() -> None:
    reps = _reps({"E1": 5, "E2": 0, "E3": 0, "S1": 3, "S2": 1}, {"S1", "S2"})
    plan, turn = assign([(1, 90), (2, 80), (3, 20), (4, 10), (5, 5)], reps, top_band=60, cap=10)
    got = {a.lead_id: a.rep_id for a in plan}
    assert got[1] == "S2" and got[2] == "S2"  # 1 → S2 (load 1), then S2 has 2 < S1's 3
    assert [got[3], got[4], got[5]] == ["E1", "E2", "E3"] and turn == 3
    assert "资深" in plan[0].why and "轮流" in plan[2].why


def test_no_rep_goes_past_the_cap_and_a_lead_waits_when_all_are_full() -> None:
    reps = _reps({"E1": 2, "E2": 1, "S1": 2}, {"S1"})
    plan, _ = assign([(1, 95), (2, 30), (3, 20), (4, 10)], reps, top_band=60, cap=2)
    got = {a.lead_id: a.rep_id for a in plan}
    assert got[1] == "E2" and "资深销售都已满额" in plan[0].why  # the senior is full: in turn instead
    assert got[2] is None and got[3] is None and got[4] is None
    assert "上限" in plan[1].why


# --- the store ---------------------------------------------------------------------------------------------------


async def test_leads_and_events_in_the_store(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.employees.add(Employee(id="E01", name="张伟", seniority="senior"))
        lead = await uow.leads.add(Lead("杭州云启科技", "官网", NOW - timedelta(days=1), contact="李经理"))
        other = await uow.leads.add(Lead("宁波海纳物流", "展会", NOW))
        assert lead.id is not None and other.id is not None
        first = LeadEvent(lead.id, EventKind.PAGE_VIEW, NOW, seconds=90, what="定价页", key="k1")
        assert await uow.leads.add_events([first, LeadEvent(lead.id, EventKind.FORM, NOW, key="k2")]) == 2
        assert await uow.leads.add_events([first]) == 0  # the same key: stored once
        await uow.commit()
    async with uow_factory() as uow:
        assert (await uow.employees.get("E01")).seniority == "senior"  # type: ignore[union-attr]
        assert [x.name for x in await uow.leads.unassigned()] == ["杭州云启科技", "宁波海纳物流"]
        events = await uow.leads.events([lead.id])
        assert [(e.kind, e.seconds, e.what) for e in events] == [(EventKind.PAGE_VIEW, 90, "定价页"),
                                                                  (EventKind.FORM, None, None)]  # fmt: skip
        customer = await uow.customers.add(Customer(name="杭州云启科技", owner_id="E01", stage=Stage.WON,
                                                    stage_entered_at=NOW, created_at=NOW))  # fmt: skip
        stored = await uow.leads.by_name("杭州云启科技")
        assert stored is not None
        stored.owner_id, stored.assigned_at, stored.customer_id, stored.score = "E01", NOW, customer.id, 71.5
        await uow.leads.update(stored)
        await uow.commit()
    async with uow_factory() as uow:
        assert [x.name for x in await uow.leads.unassigned()] == ["宁波海纳物流"]
        assert [x.score for x in await uow.leads.find(owner_ids=["E01"])] == [71.5]
        assert await uow.leads.channel_outcomes() == {"官网": (1, 1)}


# --- the command line --------------------------------------------------------------------------------------------


def _org(genjin: Genjin) -> None:
    (genjin.cwd / "e.csv").write_text(
        "工号,姓名,角色,团队,级别\nS01,陈静,主管,华东一组,\nE01,张伟,销售,华东一组,资深\nE02,李娜,销售,华东一组,普通\n"
        "E03,王磊,销售,华东一组,\n",
        encoding="utf-8",
    )
    assert genjin("import", "employees", "e.csv").returncode == 0


def test_leads_and_events_from_files_are_scored_and_handed_to_reps(genjin: Genjin) -> None:
    _org(genjin)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["名称", "联系人", "来源", "获取时间"])
    sheet.append(["杭州云启科技", "李经理", "官网", "2026-11-25 10:00"])
    sheet.append(["宁波海纳物流", None, "展会", "2026-11-25"])
    sheet.append(["苏州明德教育", None, None, "2026-11-25"])  # no channel
    book.save(genjin.cwd / "leads.xlsx")
    events = [
        {"lead": "杭州云启科技", "type": "download", "what": "白皮书", "at": "2026-11-25T10:00:00+08:00", "id": "e1"},
        {"lead": "杭州云启科技", "type": "form", "at": "2026-11-25T10:05:00+08:00", "id": "e2"},
        {
            "lead": "杭州云启科技",
            "type": "page_view",
            "seconds": 300,
            "what": "定价页",
            "at": "2026-11-25T10:01:00+08:00",
        },
        {"lead": "宁波海纳物流", "type": "浏览", "at": "2026-11-25T10:00:00+08:00"},  # a view without its seconds
        {"lead": "没有这家", "type": "form", "at": "2026-11-25T10:00:00+08:00"},
    ]
    (genjin.cwd / "events.jsonl").write_text("\n".join(json.dumps(e, ensure_ascii=False) for e in events),
                                             encoding="utf-8")  # fmt: skip
    early = genjin("import", "events", "events.jsonl", "--json")
    assert json.loads(early.stdout)["added"] == 0  # the leads are not there yet: every event is refused
    report = json.loads(genjin("import", "leads", "leads.xlsx", "--json").stdout)
    assert (report["added"], [r["row"] for r in report["rejected"]]) == (2, [4])
    again = json.loads(genjin("import", "events", "events.jsonl", "--json").stdout)
    assert again["added"] == 3 and [r["row"] for r in again["rejected"]] == [4, 5]
    assert "页面浏览要填时长" in again["rejected"][0]["reason"]
    assert json.loads(genjin("import", "events", "events.jsonl", "--json").stdout)["unchanged"] == 3
    assert json.loads(genjin("import", "leads", "leads.xlsx", "--json").stdout)["unchanged"] == 2
    # both scored 0 when they came (no events yet): in turn, E01 then E02, each now a customer in 意向初探
    first = genjin("chat", "--user", "E01", input="我的客户有哪些\n").stdout
    second = genjin("chat", "--user", "E02", input="我的客户有哪些\n").stdout
    assert "杭州云启科技" in first and "意向初探" in first and "宁波海纳物流" in second
    funnel = json.loads(genjin("report", "funnel", "--json").stdout)
    assert funnel["entered"]["initial"] >= 2  # in the stage history as every new customer


# --- the website's endpoint --------------------------------------------------------------------------------------


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[tuple[App, TestClient[aioweb.Request, aioweb.Application]]]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'api.db'}", events_token=TOKEN)
    app = await build_app(settings, clock=Clock(NOW))
    async with app.uow() as uow:
        await uow.employees.add(Employee(id="E01", name="张伟"))
        await uow.leads.add(Lead("杭州云启科技", "官网", NOW))
        await uow.commit()
    client = TestClient(TestServer(make_web_app(app), host="127.0.0.1"))
    await client.start_server()
    yield app, client
    await client.close()
    await app.close()


async def _stored(app: App) -> int:
    async with app.uow() as uow:
        lead = await uow.leads.by_name("杭州云启科技")
        assert lead is not None and lead.id is not None
        return len(await uow.leads.events([lead.id]))


async def test_the_event_endpoint_stores_a_good_batch_once(api: tuple[App, Any]) -> None:
    app, client = api
    auth = {"Authorization": f"Bearer {TOKEN}"}
    batch = {"events": [
        {"lead": "杭州云启科技", "type": "download", "what": "白皮书", "at": "2026-11-26T10:00:00+08:00", "id": "a1"},
        {"lead": "杭州云启科技", "type": "page_view", "seconds": 120, "at": "2026-11-26T10:02:00+08:00", "id": "a2"},
    ]}  # fmt: skip
    resp = await client.post("/api/events", json=batch, headers=auth)
    assert resp.status == 200 and await resp.json() == {"stored": 2, "duplicates": 0}
    again = await client.post("/api/events", json=batch, headers=auth)
    assert await again.json() == {"stored": 0, "duplicates": 2} and await _stored(app) == 2
    async with app.uow() as uow:
        lead = await uow.leads.by_name("杭州云启科技")
        assert lead is not None and lead.score is not None and lead.score > 0  # scored again as events arrive


async def test_the_event_endpoint_refuses_and_stores_nothing(api: tuple[App, Any]) -> None:
    app, client = api
    auth = {"Authorization": f"Bearer {TOKEN}"}
    good = {"lead": "杭州云启科技", "type": "form", "at": "2026-11-26T10:00:00+08:00"}
    cases = [
        ({"Authorization": "Bearer wrong-token-0000000000"}, json.dumps({"events": [good]}), 401),
        ({}, json.dumps({"events": [good]}), 401),
        (auth, "not json", 400),
        (auth, json.dumps({"events": []}), 400),
        (auth, json.dumps({"events": [good, {**good, "type": "teleport"}]}), 422),
        (auth, json.dumps({"events": [good, {**good, "lead": "没有这家"}]}), 422),
        (auth, json.dumps({"events": [good, "x"]}), 422),
        (auth, json.dumps({"events": [good] * 1001}), 413),
    ]
    for headers, body, status in cases:
        resp = await client.post("/api/events", data=body, headers={**headers, "Content-Type": "application/json"})
        assert resp.status == status, (body[:60], status)
        assert "Traceback" not in await resp.text()
    assert await _stored(app) == 0
    bad = await client.post("/api/events", json={"events": [good, {**good, "type": "teleport"}]}, headers=auth)
    [problem] = (await bad.json())["problems"]
    assert problem["index"] == 1 and problem["reason"].startswith("事件类型看不懂: teleport")


async def test_without_a_token_set_there_is_no_endpoint(tmp_path: Path) -> None:
    app = await build_app(Settings(database_url=f"sqlite:///{tmp_path / 'n.db'}"))
    async with TestClient(TestServer(make_web_app(app), host="127.0.0.1")) as client:
        assert (await client.post("/api/events", json={"events": []})).status == 404
    await app.close()


def test_roles_are_unchanged_by_the_level_column() -> None:
    assert Employee(id="E01", name="张伟").seniority == "junior" and Role.REP.value == "rep"


async def test_once_enough_leads_closed_the_score_is_learnt_from_them() -> None:
    """Leads that filled forms were won, those that only opened emails were lost: the learnt score says so, where
    the admin's weights (a form 15, an email 1) would rank them the same way but not as a chance of winning."""
    from store.memory import MemoryStore
    from usecases.leads import rescore
    from usecases.services import Services

    store, services = MemoryStore(), Services()
    async with store() as uow:
        await uow.employees.add(Employee(id="E01", name="张伟"))
        for i in range(80):
            won = i % 2 == 0
            customer = await uow.customers.add(Customer(name=f"客户{i:02d}", owner_id="E01",
                                                        stage=Stage.WON if won else Stage.LOST,
                                                        stage_entered_at=NOW, created_at=NOW))  # fmt: skip
            lead = await uow.leads.add(Lead(f"客户{i:02d}", "官网", NOW - timedelta(days=10), owner_id="E01",
                                            assigned_at=NOW - timedelta(days=5), customer_id=customer.id))  # fmt: skip
            assert lead.id is not None
            kind = EventKind.FORM if won != (i % 10 == 0) else EventKind.EMAIL_OPEN  # a little noise
            await uow.leads.add_events([LeadEvent(lead.id, kind, NOW - timedelta(days=6), key=f"k{i}")])
        keen = await uow.leads.add(Lead("新线索甲", "官网", NOW))
        idle = await uow.leads.add(Lead("新线索乙", "官网", NOW))
        assert keen.id is not None and idle.id is not None
        await uow.leads.add_events(
            [
                LeadEvent(keen.id, EventKind.FORM, NOW - timedelta(hours=2), key="n1"),
                LeadEvent(idle.id, EventKind.EMAIL_OPEN, NOW - timedelta(hours=2), key="n2"),
            ]
        )
        scores = await rescore(uow, services, [keen, idle], NOW)
    assert services.lead_models is not None and services.lead_models[1] is not None
    alone, full = services.lead_models[1]
    assert alone.weights["form"] > 0 > alone.weights["email_open"] and full.leads == 80
    assert scores[keen.id].score > 60 > 40 > scores[idle.id].score
    assert scores[keen.id].reasons[0] == "近7天提交表单1次"


def test_the_learnt_score_weighs_the_pages_buyers_read() -> None:
    """Buyers and the others view pages as often and as long; only buyers read the pricing page. The model learns that
    page from the closed leads and names it first; a page too few leads saw gets no weight of its own."""
    from recommender.leadmodel import MIN_SUPPORT, learn
    from sales.leads import features

    rules = ScoreRules()
    rows = []
    for i in range(200):
        won = i % 2 == 0
        page = "定价页" if won != (i % 20 == 0) else "招聘页"  # a little noise
        events = [LeadEvent(i, EventKind.PAGE_VIEW, NOW - timedelta(days=2), 120, page)]
        if i < MIN_SUPPORT - 1:
            events.append(LeadEvent(i, EventKind.PAGE_VIEW, NOW - timedelta(days=2), 60, "冷门页"))
        rows.append((features(events, NOW, rules), 0.1, won))
    learned = learn(rows)
    assert learned is not None
    alone, _ = learned
    assert alone.weights["page_view:定价页"] > 0 > alone.weights["page_view:招聘页"]
    assert "page_view:冷门页" not in alone.weights
    pricing = [LeadEvent(1, EventKind.PAGE_VIEW, NOW - timedelta(days=1), 120, "定价页")]
    jobs = [LeadEvent(2, EventKind.PAGE_VIEW, NOW - timedelta(days=1), 120, "招聘页")]
    keen, idle = score(pricing, NOW, rules, 0.1, learned), score(jobs, NOW, rules, 0.1, learned)
    assert keen.behaviour > 60 > 40 > idle.behaviour
    assert keen.reasons[0] == "近7天浏览「定价页」2分钟"


async def test_the_clock_and_the_pools_reads_on_every_store(uow_factory: UnitOfWorkFactory) -> None:
    """for_customer, waiting_for_contact and the audit's count: what the first-response clock and the pool's daily
    limit read."""
    from sales.model import AuditEntry

    async with uow_factory() as uow:
        await uow.employees.add(Employee(id="E01", name="张伟"))
        c = await uow.customers.add(Customer(name="杭州云启科技", owner_id="E01", stage=Stage.INITIAL,
                                             stage_entered_at=NOW, created_at=NOW))  # fmt: skip
        assert c.id is not None
        waiting = await uow.leads.add(
            Lead("杭州云启科技", "官网", NOW, owner_id="E01", assigned_at=NOW, customer_id=c.id)
        )
        await uow.leads.add(Lead("宁波海纳物流", "展会", NOW, owner_id="E01", assigned_at=NOW - timedelta(hours=1),
                                 first_response_at=NOW))  # fmt: skip
        await uow.leads.add(Lead("苏州明德教育", "展会", NOW))  # not handed out
        for minutes in (0, 5, 60 * 25):
            await uow.audit.add(AuditEntry(at=NOW - timedelta(minutes=minutes), action="pool.claim", actor="E01"))
        await uow.audit.add(AuditEntry(at=NOW, action="pool.claim", actor="E02"))
        await uow.commit()
    async with uow_factory() as uow:
        found = await uow.leads.for_customer(c.id)
        assert found is not None and found.id == waiting.id and await uow.leads.for_customer(c.id + 999) is None
        assert [x.name for x in await uow.leads.waiting_for_contact()] == ["杭州云启科技"]
        assert await uow.audit.count("pool.claim", "E01", NOW - timedelta(hours=1)) == 2
        assert await uow.audit.count("pool.claim", "E02", NOW - timedelta(hours=1)) == 1
        assert await uow.audit.count("pool.claim", "E01", NOW + timedelta(minutes=1)) == 0


async def test_an_owner_changes_only_if_it_is_still_the_expected_one(uow_factory: UnitOfWorkFactory) -> None:
    """The pool's claim and sweep: one conditional statement, so of two claims one wins, and a brief that came after
    the sweep read the customer keeps it."""
    async with uow_factory() as uow:
        await uow.employees.add(Employee(id="E01", name="张伟"))
        await uow.employees.add(Employee(id="E02", name="李娜"))
        c = await uow.customers.add(Customer(name="杭州云启科技", owner_id="E01", stage=Stage.INITIAL,
                                             stage_entered_at=NOW, created_at=NOW, last_followup_at=NOW))  # fmt: skip
        assert c.id is not None
        await uow.commit()
    async with uow_factory() as uow:
        assert not await uow.customers.change_owner(c.id, "E01", "E02", followed_before=NOW - timedelta(hours=1))
        assert await uow.customers.change_owner(c.id, "E01", "E02", followed_before=NOW)
        assert not await uow.customers.change_owner(c.id, "E01", "E02")
        await uow.commit()
    async with uow_factory() as uow:
        found = await uow.customers.get(c.id)
        assert found is not None and found.owner_id == "E02"


async def test_the_reviews_cases_of_leads(api: tuple[App, Any]) -> None:
    """Non-finite seconds and year-0 times are refused (not a 500); two leads' events may share a source id; an
    existing customer's event starts no clock; a lead asked for a rep in the file, or already a customer, goes to that
    rep (a customer made, the rep told), not through the round."""
    from usecases.leads import assign_waiting

    app, client = api
    auth = {"Authorization": f"Bearer {TOKEN}"}
    for bad in ({"seconds": "Infinity", "type": "page_view"}, {"seconds": 1e999, "type": "page_view"},
                {"at": "0001-01-01T00:00:00+08:00"}):  # fmt: skip
        item = {"lead": "杭州云启科技", "type": "form", "at": "2026-11-26T10:00:00+08:00", **bad}
        resp = await client.post("/api/events", data=json.dumps({"events": [item]}),
                                 headers={**auth, "Content-Type": "application/json"})  # fmt: skip
        assert resp.status == 422, bad
    async with app.uow() as uow:
        await uow.employees.add(Employee(id="E02", name="李娜"))
        await uow.customers.add(Customer(name="宁波海纳物流", owner_id="E02", stage=Stage.NEGOTIATION,
                                         stage_entered_at=NOW, created_at=NOW - timedelta(days=90)))  # fmt: skip
        await uow.leads.add(Lead("苏州明德教育", "展会", NOW, owner_id="E02"))  # asked for E02 in the file
        await uow.commit()
    same_id = [{"lead": name, "type": "form", "at": "2026-11-26T10:00:00+08:00", "id": "1"}
               for name in ("杭州云启科技", "宁波海纳物流")]  # fmt: skip
    resp = await client.post("/api/events", json={"events": same_id}, headers=auth)
    assert await resp.json() == {"stored": 2, "duplicates": 0}
    async with app.uow() as uow:
        assert [x.name for x in await uow.leads.waiting_for_contact()] == []  # 宁波海纳物流: long followed already
        handed = {h.lead.name: h.assignment for h in await assign_waiting(uow, app.services, NOW)}
        await uow.commit()
    assert handed["苏州明德教育"].rep_id == "E02" and "指定" in handed["苏州明德教育"].why
    async with app.uow() as uow:
        made = await uow.customers.by_name("苏州明德教育")
        assert made is not None and made.owner_id == "E02" and made.stage is Stage.INITIAL
        sent = [m.payload["text"] for m in await uow.outbox.find()]
    assert any("新线索「苏州明德教育」分给你了" in str(t) for t in sent)
