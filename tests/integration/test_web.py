"""The dashboard in process, on the demo company in SQLite: sign-in from the chat, permissions, CSRF, headers, the
what-if, exports, and WeCom OAuth against the fake WeCom API. (The real browser: tests/e2e/test_dashboard.py.)"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp import web as aioweb
from aiohttp.test_utils import TestClient, TestServer
from openpyxl import load_workbook

from bot.bootstrap import App, build_app
from bot.config import Settings
from bot.demo import seed
from bot.server import make_web_app
from sales.model import Role
from tests.conftest import NOW, Clock
from tests.fakes.wecom import AES_KEY, AGENT_ID, CORP_ID, SECRET, TOKEN, FakeWeCom
from usecases.web_auth import issue_link

CELL = re.compile(r'<td data-value="([^"]*)"')


@dataclass
class Web:
    app: App
    client: TestClient[aioweb.Request, aioweb.Application]
    clock: Clock
    fake: FakeWeCom

    async def link(self, employee_id: str, *, minutes: int = 0) -> str:
        """A sign-in link as ``看板`` makes it (the chat's own answer: test_the_chat_sends_a_private_link)."""
        async with self.app.uow() as uow:
            employee = await uow.employees.get(employee_id)
            assert employee is not None
            url = await issue_link(uow, employee, "http://127.0.0.1", self.clock() + timedelta(minutes=minutes),
                                   self.app.services.web_link_ttl)  # fmt: skip
            await uow.commit()
        return url.split("t=", 1)[1]

    async def sign_in(self, employee_id: str) -> None:
        self.client.session.cookie_jar.clear()
        resp = await self.client.post("/web/login", data={"t": await self.link(employee_id)}, allow_redirects=False)
        assert resp.status == 303 and resp.headers["Location"] == "/web/"

    async def page(self, path: str, status: int = 200) -> str:
        resp = await self.client.get(path, allow_redirects=False)
        text = await resp.text()
        assert resp.status == status, text[:300]
        return text

    async def csrf(self) -> str:
        found = re.search(r'name="csrf" value="([^"]+)"', await self.page("/web/"))
        assert found is not None
        return found.group(1)


@pytest.fixture
async def web(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Web]:
    """Served over plain HTTP here (the cookie is not ``Secure``, or the client would keep it back); a test that
    asks for ``https`` gets the base URL that makes it so."""
    fake = FakeWeCom()
    api = TestServer(fake.app(), host="127.0.0.1")
    await api.start_server()
    clock = Clock(NOW)
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'web.db'}", wecom_corp_id=CORP_ID, wecom_agent_id=AGENT_ID,
        wecom_secret=SECRET, wecom_token=TOKEN, wecom_aes_key=AES_KEY,
        wecom_api_base=str(api.make_url("/")).rstrip("/"), web_base_url=getattr(request, "param", "http://genjin.example.com"),
        web_link_attempts=8,
    )  # fmt: skip
    app = await build_app(settings, clock=clock)
    await seed(app.uow, NOW, customers=120)
    client = TestClient(TestServer(make_web_app(app), host="127.0.0.1"))
    await client.start_server()
    yield Web(app, client, clock, fake)
    await client.close()
    await app.close()
    await api.close()


@pytest.mark.parametrize("web", ["https://genjin.example.com"], indirect=True)
async def test_behind_https_the_cookie_is_secure(web: Web) -> None:
    resp = await web.client.post("/web/login", data={"t": await web.link("E01")}, allow_redirects=False)
    assert resp.status == 303 and "Secure" in resp.headers["Set-Cookie"]


async def test_a_link_signs_in_once_and_sets_a_safe_cookie(web: Web) -> None:
    token = await web.link("E01")
    page = await web.client.get(f"/web/login?t={token}")  # what a link preview fetches: it spends nothing
    assert page.status == 200 and 'id="login"' in await page.text()
    resp = await web.client.post("/web/login", data={"t": token}, allow_redirects=False)
    assert resp.status == 303
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/web/" in cookie and "Secure" not in cookie
    assert "张伟" in await web.page("/web/")
    web.client.session.cookie_jar.clear()
    again = await web.client.post("/web/login", data={"t": token}, allow_redirects=False)
    assert again.status == 403 and "链接已用过或已过期" in await again.text()
    assert "Traceback" not in await again.text()


async def test_an_expired_link_is_refused(web: Web) -> None:
    token = await web.link("E01", minutes=-11)  # issued eleven minutes ago: valid for ten
    resp = await web.client.post("/web/login", data={"t": token}, allow_redirects=False)
    assert resp.status == 403 and "链接已用过或已过期" in await resp.text()
    assert (await web.client.get("/web/", allow_redirects=False)).status == 401


async def test_link_redemption_is_rate_limited(web: Web) -> None:
    for _ in range(8):
        assert (await web.client.post("/web/login", data={"t": "guess"}, allow_redirects=False)).status == 403
    limited = await web.client.post("/web/login", data={"t": await web.link("E01")}, allow_redirects=False)
    assert limited.status == 429 and "太频繁" in await limited.text()


async def test_without_a_session_a_page_says_how_to_sign_in(web: Web) -> None:
    resp = await web.client.get("/web/funnel", allow_redirects=False)
    assert resp.status == 401 and "看板" in await resp.text()


async def test_every_page_answers_with_the_security_headers(web: Web) -> None:
    await web.sign_in("S01")
    for path in ("/web/", "/web/funnel?period=last_month", "/web/forecast", "/web/activity", "/web/goals",
                 "/web/points", "/web/customers?stalled=1", "/web/commission", "/web/customers/1"):  # fmt: skip
        resp = await web.client.get(path, allow_redirects=False)
        assert resp.status in (200, 404), path
        csp = resp.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert resp.headers["X-Frame-Options"] == "DENY" and resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Referrer-Policy"] == "no-referrer" and resp.headers["Cache-Control"] == "no-store"
        assert "<script>" not in await resp.text()  # no inline script anywhere


async def test_a_quote_document_downloads_for_its_team_only(web: Web) -> None:
    """The link the chat sends where a platform takes no files: the kept PDF or XLSX, 404 for another team."""
    from decimal import Decimal

    from sales.quotes import Product, Quote, QuoteLine, QuoteStatus

    async with web.app.uow() as uow:
        mine = (await uow.customers.find(owner_ids=["E01"]))[0]
        assert mine.id is not None
        line = QuoteLine.of(Product("A100", "A型设备", "台", Decimal(100), Decimal("0.13"), NOW.date()), Decimal(2))
        quote = await uow.quotes.add(Quote("Q-2026-0001", 1, mine.id, mine.name, "E01", (line,), None, NOW.date(),
                                           None, NOW, QuoteStatus.SENT, total=Decimal("226.00")))  # fmt: skip
        assert quote.id is not None
        await uow.quotes.put_files(quote.id, b"%PDF-1.4 kept", b"PK kept")
        await uow.commit()
    await web.sign_in("E01")
    page = await web.page(f"/web/customers/{mine.id}")  # the customer's page lists it, with its downloads
    assert "Q-2026-0001" in page and f"/web/quotes/{quote.id}.pdf" in page and "已发出" in page
    resp = await web.client.get(f"/web/quotes/{quote.id}.pdf")
    assert resp.status == 200 and await resp.read() == b"%PDF-1.4 kept"
    assert resp.headers["Content-Type"] == "application/pdf" and "Q-2026-0001-v1.pdf" in resp.headers[
        "Content-Disposition"]  # fmt: skip
    await web.page(f"/web/quotes/{quote.id}.exe", 404)
    await web.sign_in("E05")
    await web.page(f"/web/quotes/{quote.id}.xlsx", 404)


async def test_a_rep_gets_404_for_another_teams_customer_and_sees_only_own_pay(web: Web) -> None:
    async with web.app.uow() as uow:
        theirs = (await uow.customers.find(owner_ids=["E05"]))[0]
        mine = (await uow.customers.find(owner_ids=["E01"]))[0]
        staff = {e.id: e.name for e in await uow.employees.find()}
    await web.sign_in("E01")
    denied = await web.page(f"/web/customers/{theirs.id}", 404)
    assert theirs.name not in denied and "不是你能查看的" in denied
    assert await web.page("/web/customers/987654", 404) == denied  # the same answer as for one that does not exist
    assert mine.name in await web.page(f"/web/customers/{mine.id}")
    listed = await web.page("/web/customers")
    assert mine.name in listed and theirs.name not in listed
    assert theirs.name not in await web.page(f"/web/customers?owner={theirs.owner_id}")  # a filter widens nothing
    pay = await web.page("/web/commission")
    assert staff["E01"] in pay and staff["E02"] not in pay and staff["E05"] not in pay
    # a supervisor sees the team, not the other team; an admin sees everyone
    await web.sign_in("S01")
    team = await web.page("/web/commission")
    assert staff["E02"] in team and staff["E05"] not in team
    await web.page(f"/web/customers/{theirs.id}", 404)
    await web.sign_in("A01")
    assert staff["E05"] in await web.page("/web/commission")
    assert theirs.name in await web.page(f"/web/customers/{theirs.id}")


async def test_posts_need_the_sessions_csrf_token(web: Web) -> None:
    await web.sign_in("S01")
    token = await web.csrf()
    assert (await web.client.post("/web/forecast", data={"rate_demo": "50"})).status == 403
    assert (await web.client.post("/web/forecast", data={"rate_demo": "50", "csrf": "x" + token})).status == 403
    assert (await web.client.post("/web/logout", data={})).status == 403
    assert (await web.client.post("/web/forecast", data={"rate_demo": "50", "csrf": token})).status == 200
    out = await web.client.post("/web/logout", data={"csrf": token})
    assert out.status == 200 and "已退出" in await out.text()
    assert (await web.client.get("/web/", allow_redirects=False)).status == 401


async def test_the_what_if_changes_the_figure_and_saves_nothing(web: Web) -> None:
    await web.sign_in("A01")
    base = await web.page("/web/forecast")

    def expected(html: str) -> list[str]:
        table = html.split('data-table="buckets"', 1)[1].split("</section>", 1)[0]
        return CELL.findall(table)  # each period's expected, low and high

    async with web.app.uow() as uow:
        deals = [d for d in await uow.customers.open_deals() if d.amount]
        before = [(c.id, c.expected_close, c.stage, c.amount) for c in await uow.customers.find()]
    month = f"{NOW.year + 1}-06"
    moved = next(d for d in deals if d.expected_close is None or d.expected_close.month == NOW.month)
    token = await web.csrf()
    changed = await web.client.post("/web/forecast", data={
        "csrf": token, "rate_negotiation": "100", "rate_demo": "90", "move_deal": str(moved.id), "move_month": month,
    })  # fmt: skip
    text = await changed.text()
    assert changed.status == 200 and 'id="whatif-note"' in text and "没有保存" in text
    assert expected(text) != expected(base)
    wrong = await web.client.post("/web/forecast", data={"csrf": token, "rate_demo": "abc"})
    assert wrong.status == 200 and "不是数字" in await wrong.text()
    async with web.app.uow() as uow:
        after = [(c.id, c.expected_close, c.stage, c.amount) for c in await uow.customers.find()]
    assert after == before
    assert expected(await web.page("/web/forecast")) == expected(base)  # nothing was kept


async def test_exports_hold_what_the_page_shows(web: Web) -> None:
    await web.sign_in("S01")
    for path, key in (("/web/funnel", "stages"), ("/web/commission", "deals"), ("/web/customers", "customers"),
                      ("/web/", "stalled")):  # fmt: skip
        html = await web.page(path)
        section = html.split(f'data-table="{key}"', 1)[1].split("</section>", 1)[0]
        shown = CELL.findall(section)
        joiner = "&" if "?" in path else "?"
        resp = await web.client.get(f"{path}{joiner}export={key}.csv")
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/csv")
        assert "attachment" in resp.headers["Content-Disposition"]
        rows = list(csv.reader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
        assert [cell for row in rows[1:] for cell in row] == [_unescape(v) for v in shown]
        book = await web.client.get(f"{path}{joiner}export={key}.xlsx")
        sheet = load_workbook(io.BytesIO(await book.read())).active
        assert sheet is not None and sheet.max_row == len(rows)
    assert (await web.client.get("/web/funnel?export=nothing.csv")).status == 404


def _unescape(value: str) -> str:
    return (
        value.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#34;", '"')
        .replace("&#39;", "'")
    )


async def test_xlsx_cells_hold_numbers(web: Web) -> None:
    await web.sign_in("A01")
    resp = await web.client.get("/web/funnel?export=stages.xlsx")
    sheet = load_workbook(io.BytesIO(await resp.read())).active
    assert sheet is not None
    counts = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert counts and all(isinstance(n, int) for n in counts)


async def test_a_deactivated_employees_session_dies(web: Web) -> None:
    await web.sign_in("E02")
    await web.page("/web/")
    async with web.app.uow() as uow:
        employee = await uow.employees.get("E02")
        assert employee is not None
        employee.active = False
        await uow.employees.update(employee)
        await uow.commit()
    assert (await web.client.get("/web/", allow_redirects=False)).status == 401


async def test_the_session_expires(web: Web) -> None:
    await web.sign_in("E01")
    await web.page("/web/")
    web.clock.now = NOW + web.app.services.web_session_ttl + timedelta(seconds=1)
    assert (await web.client.get("/web/", allow_redirects=False)).status == 401


async def test_inside_wecom_oauth_signs_in_without_a_link(web: Web) -> None:
    inside = {"User-Agent": "Mozilla/5.0 (Linux; Android 14) wxwork/4.1.22 MicroMessenger/7.0.1"}
    resp = await web.client.get("/web/funnel", headers=inside, allow_redirects=False)
    assert resp.status == 302
    target = urlsplit(resp.headers["Location"])
    assert target.netloc == "open.weixin.qq.com" and target.fragment == "wechat_redirect"
    query = {k: v[0] for k, v in parse_qs(target.query).items()}
    assert query["appid"] == CORP_ID and query["scope"] == "snsapi_base" and query["agentid"] == str(AGENT_ID)
    back = urlsplit(query["redirect_uri"])
    assert back.netloc == "genjin.example.com" and back.path == "/web/oauth/wecom"
    # WeCom sends the browser back with a code and the state; the code names the member through the API
    code = web.fake.oauth_code("rep01")  # the demo's WeCom account of E01 张伟
    landing = await web.client.get(f"{back.path}?{back.query}&code={code}&state={query['state']}",
                                   allow_redirects=False)  # fmt: skip
    assert landing.status == 302 and landing.headers["Location"] == "/web/funnel"
    assert "张伟" in await web.page("/web/funnel")
    # a code used again, a state that is not this browser's, a non-member
    web.client.session.cookie_jar.clear()
    refused = await web.client.get(f"/web/oauth/wecom?code={code}&state={query['state']}", allow_redirects=False)
    assert refused.status == 403  # no state cookie any more
    resp = await web.client.get("/web/", headers=inside, allow_redirects=False)
    state = parse_qs(urlsplit(resp.headers["Location"]).query)["state"][0]
    used = await web.client.get(f"/web/oauth/wecom?code={code}&state={state}", allow_redirects=False)
    assert used.status == 403 and "还没有登记" in await used.text()
    stranger = web.fake.oauth_code("nobody")
    resp = await web.client.get("/web/", headers=inside, allow_redirects=False)
    state = parse_qs(urlsplit(resp.headers["Location"]).query)["state"][0]
    assert (await web.client.get(f"/web/oauth/wecom?code={stranger}&state={state}")).status == 403


async def test_an_open_redirect_is_not_possible(web: Web) -> None:
    inside = {"User-Agent": "wxwork/4.1"}
    resp = await web.client.get("/web/", headers=inside, allow_redirects=False)
    state = parse_qs(urlsplit(resp.headers["Location"]).query)["state"][0]
    code = web.fake.oauth_code("rep01")  # the demo's WeCom account of E01 张伟
    landing = await web.client.get(f"/web/oauth/wecom?next=https://evil.example.com/&code={code}&state={state}",
                                   allow_redirects=False)  # fmt: skip
    assert landing.status == 302 and landing.headers["Location"] == "/web/"


async def test_a_supervisor_sees_the_team_on_every_page(web: Web) -> None:
    async with web.app.uow() as uow:
        staff = await uow.employees.find()
    team = [e.name for e in staff if e.team == "华东一组" and e.role is Role.REP]
    other = [e.name for e in staff if e.team == "华南二组" and e.role is Role.REP]
    await web.sign_in("S01")
    for path in ("/web/", "/web/activity", "/web/goals", "/web/points", "/web/forecast"):
        html = await web.page(path)
        assert any(name in html for name in team), path
        assert not any(name in html for name in other), path


async def test_where_a_platform_frames_the_dashboard_the_csp_names_it() -> None:
    """DingTalk's workbench opens an app's page in a frame: the admin lists it, and X-Frame-Options goes."""
    from store.memory import MemoryStore
    from usecases.services import Services
    from web.app import Deps, WebConfig, make_dashboard

    store = MemoryStore()
    config = WebConfig("https://genjin.example.com", frame_ancestors=("https://*.dingtalk.com",))
    app = aioweb.Application()
    app.add_subapp("/web", make_dashboard(Deps(store, store, Services(), lambda: NOW, config)))
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        resp = await client.get("/web/login?t=x")
        assert resp.status == 200 and "X-Frame-Options" not in resp.headers
        assert "frame-ancestors https://*.dingtalk.com" in resp.headers["Content-Security-Policy"]
        missing = await client.get("/web/no-such-page")
        assert missing.status == 404 and "没有这个页面" in await missing.text()
        assert "frame-ancestors https://*.dingtalk.com" in missing.headers["Content-Security-Policy"]


async def test_bad_values_in_addresses_and_forms_get_a_clear_answer_not_a_500(web: Web) -> None:
    await web.sign_in("A01")
    for path in ("/web/customers/²", "/web/customers/99999999999", "/web/customers/-1", "/web/customers/1.5"):
        assert (await web.client.get(path)).status == 404, path
    this_month = f"{NOW:%Y-%m}"
    for month in ("0000-01", "2026-13", "2026-01%0A", "٢٠٢٦-٠١", "x" * 500):
        for page in ("/web/goals", "/web/commission"):
            html = await web.page(f"{page}?month={month}")
            assert f'value="{this_month}"' in html, (page, month)  # the current month instead
    for query in ("period=xxx", "stage=nope&owner=E99&close=0000-01&stalled=2", "export=stages.pdf"):
        resp = await web.client.get(f"/web/funnel?{query}" if "period" in query else f"/web/customers?{query}")
        assert resp.status in (200, 404) and "Traceback" not in await resp.text()
    token = await web.csrf()
    for deal, month in (("²", "2027-01"), ("9" * 5000, "2027-01"), ("1", "0000-01"), ("1", "2027-1")):
        resp = await web.client.post("/web/forecast", data={"csrf": token, "move_deal": deal, "move_month": month})
        assert resp.status == 200 and "月份不对" in await resp.text()
    resp = await web.client.post("/web/forecast", data={"csrf": token, "rate_demo": "nan", "rate_qualified": "1e999"})
    assert resp.status == 200 and "0 到 100" in await resp.text()


async def test_a_reps_pay_page_ranks_them_in_the_team_and_inactive_reps_keep_their_pay(web: Web) -> None:
    async def totals() -> dict[str, list[str]]:
        html = await web.page("/web/commission")
        section = html.split('data-table="totals"', 1)[1].split("</section>", 1)[0]
        rows = [CELL.findall(row) for row in section.split("<tr>")[1:]]
        return {row[0]: row for row in rows if row}

    await web.sign_in("S01")
    team = await totals()
    await web.sign_in("E01")
    mine = await totals()
    assert list(mine) == ["E01"] and mine["E01"][5] == team["E01"][5]  # the same place in the team as the chat
    async with web.app.uow() as uow:
        paid = next(e for e in await uow.employees.find() if e.id in team and e.id != "E01")
        paid.active = False
        await uow.employees.update(paid)
        await uow.commit()
    await web.sign_in("S01")
    assert paid.id in await totals()  # deactivated: still paid for the month, as `genjin commission report` says


async def test_exports_never_carry_a_formula_or_break_on_control_characters(web: Web) -> None:
    async with web.app.uow() as uow:
        [customer] = [c for c in await uow.customers.find(owner_ids=["E01"])][:1]
        customer.name = '=HYPERLINK("http://evil.example.com","点我")'
        customer.next_action = "打电话\x0b给王总"
        await uow.customers.update(customer)
        await uow.commit()
    await web.sign_in("E01")
    sheet = load_workbook(
        io.BytesIO(await (await web.client.get("/web/customers?export=customers.xlsx")).read())
    ).active
    assert sheet is not None
    cells = {c.value: c.data_type for row in sheet.iter_rows(min_row=2) for c in row if isinstance(c.value, str)}
    assert cells[customer.name] == "s" and "打电话给王总" in cells
    text = (await (await web.client.get("/web/customers?export=customers.csv")).read()).decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text


async def test_only_failed_sign_ins_count_and_a_proxys_address_is_the_clients(web: Web) -> None:
    for _ in range(10):  # more successes than the limit of failures: a team signing in in the morning
        await web.sign_in("E01")
    from web.app import Attempts

    attempts = Attempts(2, window=60)
    attempts.failed("a")
    assert attempts.allow("a") and attempts.allow("b")
    attempts.failed("a")
    assert not attempts.allow("a") and attempts.allow("b")


async def test_a_sign_in_posted_from_another_site_is_refused(web: Web) -> None:
    token = await web.link("E01")
    for headers in ({"Origin": "https://evil.example.com"}, {"Sec-Fetch-Site": "cross-site"}):
        resp = await web.client.post("/web/login", data={"t": token}, headers=headers, allow_redirects=False)
        assert resp.status == 403
    ours = {"Origin": "http://genjin.example.com", "Sec-Fetch-Site": "same-origin"}
    assert (await web.client.post("/web/login", data={"t": token}, headers=ours, allow_redirects=False)).status == 303


async def test_signing_in_again_ends_the_browsers_previous_session(web: Web) -> None:
    await web.sign_in("E01")
    [old] = [c.value for c in web.client.session.cookie_jar if c.key == "genjin_session"]
    resp = await web.client.post("/web/login", data={"t": await web.link("E02")}, allow_redirects=False)
    assert resp.status == 303
    async with web.app.uow() as uow:
        from usecases.web_auth import signed_in

        assert await signed_in(uow, old, web.clock()) is None


async def test_wecom_down_during_sign_in_is_a_502_page(web: Web) -> None:
    web.fake.secret_refused = True
    inside = {"User-Agent": "wxwork/4.1"}
    resp = await web.client.get("/web/", headers=inside, allow_redirects=False)
    state = parse_qs(urlsplit(resp.headers["Location"]).query)["state"][0]
    failed = await web.client.get(f"/web/oauth/wecom?code=abc&state={state}", allow_redirects=False)
    assert failed.status == 502 and "企业微信暂时无法确认" in await failed.text()


def test_a_framed_dashboard_needs_a_cookie_a_frame_gets() -> None:
    from web.app import WebConfig

    assert WebConfig("https://g.example.com", frame_ancestors=("https://*.dingtalk.com",)).same_site == "None"
    assert WebConfig("https://g.example.com").same_site == "Lax"
    assert WebConfig("http://g.example.com", frame_ancestors=("https://x",)).same_site == "Lax"  # None needs Secure


async def test_goals_show_the_team_and_the_company_beside_each_rep(web: Web) -> None:
    await web.sign_in("S01")
    html = await web.page("/web/goals")
    assert 'data-table="totals"' in html and "华东一组团队" in html and "华南二组团队" not in html
    await web.sign_in("A01")
    html = await web.page("/web/goals")
    assert "全公司" in html and "华南二组团队" in html
    await web.sign_in("E01")
    assert 'data-table="totals"' not in await web.page("/web/goals")


async def test_expired_links_and_sessions_are_purged_at_night(web: Web) -> None:
    from usecases.web_auth import purge

    await web.sign_in("E01")
    await web.link("E02")
    assert await purge(web.app.uow, web.clock() + timedelta(days=2)) == 3  # two links (one used) and the session
    assert await purge(web.app.uow, web.clock() + timedelta(days=2)) == 0


async def test_a_wecom_menu_button_sends_the_link_and_the_link_signs_in(web: Web) -> None:
    """The app's menu in WeCom has a button whose key is 看板: the click arrives encrypted, the link goes back
    through message/send, and it opens the dashboard."""
    from tests.fakes.wecom import encrypted_callback, event_message

    query, body = encrypted_callback(event_message("rep01", "click", key="看板"))
    resp = await web.client.post(f"/wecom/callback?{query}", data=body)
    assert resp.status == 200
    await web.app.worker.drain()
    await web.app.outbox.drain()
    [text] = web.fake.texts_for("rep01")
    found = re.search(r"http://genjin\.example\.com/web/login\?t=([\w-]+)", text)
    assert found is not None and "10 分钟内有效" in text and len(text.encode()) <= 2048
    signed = await web.client.post("/web/login", data={"t": found.group(1)}, allow_redirects=False)
    assert signed.status == 303 and "张伟" in await web.page("/web/")


async def test_signing_in_starts_the_win_probabilities_first_build(web: Web) -> None:
    """The customer pages and the forecast wait for it; today's page, where a sign-in lands, does not."""
    recommender = web.app.services.recommender
    assert recommender is not None and recommender.snapshot is None
    await web.sign_in("S01")
    deadline = asyncio.get_running_loop().time() + 60
    while recommender.snapshot is None:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.05)
    assert "赢单概率" in await web.page("/web/customers")
