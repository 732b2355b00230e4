"""The dashboard in a real headless Chromium (Debian's ``chromium`` and ``chromium-driver``, driven by selenium)
against ``genjin serve`` on the demo company: sign-in by the link ``看板`` answers in ``genjin chat``, the figures
against ``genjin report … --json`` and ``genjin commission report --json``, permissions, links refused, the
what-if, an export, and a screenshot of every page on a desktop and a 390-px phone (``build/screenshots/``)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
SCREENSHOTS = Path(os.environ.get("GENJIN_SCREENSHOTS", ROOT / "build" / "screenshots"))
PAGES = {
    "today": "/web/", "funnel": "/web/funnel", "forecast": "/web/forecast", "activity": "/web/activity",
    "goals": "/web/goals", "points": "/web/points", "customers": "/web/customers", "commission": "/web/commission",
}  # fmt: skip
START_SECONDS = 120

if not Path(CHROMEDRIVER).exists():
    # CI installs Chromium (.ci/run); there, its absence is a failure, not a skip
    if os.environ.get("CI"):
        raise RuntimeError("chromium-driver is not installed: .ci/run installs it")
    pytest.skip("Chromium is not installed (apt-get install chromium chromium-driver)", allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    """``genjin serve`` on the demo company, and the ``genjin`` command on the same database."""

    url: str
    env: dict[str, str]
    folder: Path

    def genjin(self, *args: str, stdin: str = "") -> str:
        done = subprocess.run([sys.executable, "-m", "bot.cli", *args], input=stdin, capture_output=True, text=True,
                              env=self.env, cwd=self.folder, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    def link(self, user: str) -> str:
        """What ``看板`` answers in the chat."""
        found = re.search(r"http://\S+/web/login\?t=\S+", self.genjin("chat", "--user", user, stdin="看板\n"))
        assert found is not None
        return found.group(0)

    def report(self, *args: str) -> Any:
        return json.loads(self.genjin(*args, "--json"))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("dashboard")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GENJIN_")}
    env.update(GENJIN_DATABASE_URL=f"sqlite:///{folder / 'demo.db'}", GENJIN_PORT=str(port), PYTHONPATH=str(ROOT),
               GENJIN_INDEX_CACHE="off")  # fmt: skip
    it = Served(f"http://127.0.0.1:{port}", env, folder)
    it.genjin("demo", "--no-chat", "--yes")
    log = (folder / "serve.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], env=env, cwd=folder, stdout=log,
                            stderr=subprocess.STDOUT)  # fmt: skip
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                with urllib.request.urlopen(f"{it.url}/healthz", timeout=2) as resp:
                    if json.load(resp).get("warm_up") == "done":
                        break
            except OSError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, (folder / "serve.log").read_text()
            time.sleep(0.2)
        yield it
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900",
                "--lang=zh-CN"):  # fmt: skip
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def _sign_in(browser: WebDriver, served: Served, user: str) -> None:
    browser.delete_all_cookies()
    browser.get(served.link(user))  # the page posts its form itself
    WebDriverWait(browser, 20).until(lambda d: d.current_url.endswith("/web/"))


def _cells(browser: WebDriver, table: str) -> list[list[str]]:
    rows = browser.find_elements(By.CSS_SELECTOR, f'section[data-table="{table}"] tbody tr')
    return [[td.get_attribute("data-value") or "" for td in row.find_elements(By.TAG_NAME, "td")] for row in rows]


def _money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def test_sign_in_by_the_chats_link_and_the_figures_equal_the_reports(browser: WebDriver, served: Served) -> None:
    _sign_in(browser, served, "A01")
    assert "王敏" in browser.find_element(By.CSS_SELECTOR, "header .who").text
    # the funnel, as `genjin report funnel --json`
    browser.get(f"{served.url}/web/funnel")
    report = served.report("report", "funnel")
    rows = {r[0]: r for r in _cells(browser, "stages")}
    labels = {"initial": "意向初探", "qualified": "需求确认", "demo": "方案演示", "negotiation": "报价谈判"}
    for line in report["stages"]:
        row = rows[labels[line["stage"]]]
        assert (int(row[1]), _money(row[2])) == (line["count"], _money(line["amount"]))
    assert (int(rows["成交"][1]), _money(rows["成交"][2])) == (report["won"]["count"], _money(report["won"]["amount"]))
    assert int(rows["流失"][1]) == report["lost"]["count"]
    # the forecast, as `genjin report forecast --json`
    browser.get(f"{served.url}/web/forecast")
    forecast = served.report("report", "forecast")
    shown = _cells(browser, "buckets")
    for row, key in zip(shown, ("this_month", "next_month", "this_quarter", "next_90_days"), strict=True):
        band = forecast["buckets"][key]
        assert abs(_money(row[1]) - _money(band["expected"])) <= Decimal("0.01"), key
        assert abs(_money(row[2]) - _money(band["low"])) <= Decimal("0.01"), key
        assert abs(_money(row[3]) - _money(band["high"])) <= Decimal("0.01"), key
    # commission, as `genjin commission report --json`
    browser.get(f"{served.url}/web/commission")
    statements = {r["employee_id"]: r for r in served.report("commission", "report")}
    totals = {row[0]: row for row in _cells(browser, "totals")}
    assert set(totals) == set(statements)
    for employee, row in totals.items():
        assert _money(row[4]) == _money(statements[employee]["total"])
        assert int(row[3]) == len(statements[employee]["deals"])


def test_a_supervisors_team_funnel_equals_the_teams_report(browser: WebDriver, served: Served) -> None:
    _sign_in(browser, served, "S01")
    browser.get(f"{served.url}/web/funnel?period=last_month")
    report = served.report("report", "funnel", "--team", "华东一组", "--period", "last_month")
    counts = [int(r[1]) for r in _cells(browser, "stages")]
    assert counts == [line["count"] for line in report["stages"]] + [report["won"]["count"], report["lost"]["count"]]


def test_a_rep_opening_another_teams_customer_gets_404(browser: WebDriver, served: Served) -> None:
    customers = served.report("customers", "list")
    theirs = next(c for c in customers if c["owner"] == "E05")
    _sign_in(browser, served, "A01")
    browser.get(f"{served.url}/web/customers?owner=E05")
    link = browser.find_element(By.LINK_TEXT, theirs["name"]).get_attribute("href")
    assert link is not None
    _sign_in(browser, served, "E01")
    browser.get(link)
    error = browser.find_element(By.ID, "error")
    assert error.get_attribute("data-status") == "404" and theirs["name"] not in browser.page_source


def test_a_reused_or_expired_link_is_refused(browser: WebDriver, served: Served) -> None:
    link = served.link("E01")
    browser.delete_all_cookies()
    browser.get(link)
    WebDriverWait(browser, 20).until(lambda d: d.current_url.endswith("/web/"))
    browser.delete_all_cookies()
    browser.get(link)
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.ID, "signin"))
    assert "链接已用过或已过期" in browser.find_element(By.ID, "signin").text
    expired = _expired_link(served, "E01")
    browser.get(expired)
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.ID, "signin"))
    assert "链接已用过或已过期" in browser.find_element(By.ID, "signin").text
    browser.get(f"{served.url}/web/")
    assert browser.find_elements(By.ID, "signin")  # not signed in


def _expired_link(served: Served, user: str) -> str:
    """A link made eleven minutes ago (they last ten), written to the served database as ``看板`` writes one."""
    from bot.bootstrap import build_app
    from bot.config import Settings
    from usecases.web_auth import issue_link

    async def make() -> str:
        app = await build_app(Settings(database_url=served.env["GENJIN_DATABASE_URL"]))
        try:
            async with app.uow() as uow:
                employee = await uow.employees.get(user)
                assert employee is not None
                then = app.clock() - timedelta(minutes=11)
                url = await issue_link(uow, employee, served.url, then, app.services.web_link_ttl)
                await uow.commit()
            return url
        finally:
            await app.close()

    return asyncio.run(make())


def test_the_what_if_changes_the_figure_and_saves_nothing(browser: WebDriver, served: Served) -> None:
    _sign_in(browser, served, "A01")
    before = served.report("customers", "list")
    browser.get(f"{served.url}/web/forecast")
    base = _cells(browser, "buckets")
    form = browser.find_element(By.ID, "whatif")
    for stage in ("initial", "qualified", "demo", "negotiation"):
        field = form.find_element(By.NAME, f"rate_{stage}")
        field.clear()
        field.send_keys("100")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.ID, "whatif-note"))
    changed = _cells(browser, "buckets")
    assert [r[1] for r in changed] != [r[1] for r in base]
    assert sum(_money(r[3]) for r in changed) >= sum(_money(r[3]) for r in base)
    browser.get(f"{served.url}/web/forecast")
    assert _cells(browser, "buckets") == base and not browser.find_elements(By.ID, "whatif-note")
    assert served.report("customers", "list") == before


def test_a_csv_export_matches_the_page(browser: WebDriver, served: Served) -> None:
    _sign_in(browser, served, "S01")
    browser.get(f"{served.url}/web/customers")
    shown = _cells(browser, "customers")
    href = browser.find_element(By.CSS_SELECTOR, 'section[data-table="customers"] a[data-export="csv"]')
    url = href.get_attribute("href")
    assert url is not None
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in browser.get_cookies())
    with urllib.request.urlopen(urllib.request.Request(url, headers={"Cookie": cookie}), timeout=20) as resp:
        rows = list(csv.reader(io.StringIO(resp.read().decode("utf-8-sig"))))
    assert rows[1 : len(shown) + 1] == shown and len(shown) > 10  # a long list shows its first rows
    assert len(rows) - 1 == len(shown) or "导出包含全部" in browser.page_source


def test_screenshots_of_every_page_on_a_desktop_and_a_phone(browser: WebDriver, served: Served) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    _sign_in(browser, served, "S01")
    browser.get(f"{served.url}/web/customers")
    customer = browser.find_element(By.CSS_SELECTOR, 'section[data-table="customers"] tbody a').get_attribute("href")
    assert customer is not None
    pages = {**{name: f"{served.url}{path}" for name, path in PAGES.items()}, "customer": customer}
    written = []
    try:
        for device, (width, height) in {"desktop": (1280, 900), "phone": (390, 844)}.items():
            browser.set_window_size(width, height)
            for name, url in pages.items():
                browser.get(url)
                assert browser.find_elements(By.CSS_SELECTOR, "main h1"), name
                # nothing wider than the phone's screen but the tables' own scrolling boxes
                width_used = browser.execute_script("return document.documentElement.scrollWidth")
                assert width_used <= width + 1, (device, name, width_used)
                path = SCREENSHOTS / f"{name}-{device}.png"
                assert browser.save_screenshot(str(path))
                written.append(path)
    finally:
        browser.set_window_size(1280, 900)
    assert all(p.stat().st_size > 5_000 and p.read_bytes()[:4] == b"\x89PNG" for p in written)
