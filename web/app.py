"""The dashboard as an aiohttp sub-application under ``/web``: sign-in (a one-time link from the chat, or WeCom
OAuth inside WeCom), the session cookie, CSRF on every POST, security headers, the pages and their exports."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp_jinja2
import jinja2
from aiohttp import web

from sales.model import Employee
from store.repositories import UnitOfWorkFactory
from usecases.services import Services
from usecases.web_auth import Revoked, open_session, redeem_link, same, session_of, sign_out
from web import views
from web.tables import Table, find, plain, shown, to_csv, to_xlsx

log = logging.getLogger("genjin.web")

COOKIE = "genjin_session"
STATE_COOKIE = "genjin_oauth"
HERE = Path(__file__).parent
SignIn = Callable[[str], Awaitable[str | None]]  # an OAuth code -> the platform's user id (None: refused)


@dataclass(frozen=True)
class WebConfig:
    """What the dashboard needs of the settings (``GENJIN_WEB_*``)."""

    base_url: str
    frame_ancestors: tuple[str, ...] = ()
    link_attempts: int = 20  # failed sign-ins per address per ATTEMPT_WINDOW
    wecom_corp_id: str | None = None
    wecom_agent_id: int | None = None
    behind_proxy: bool = False  # the client's address is the last one the proxy added to X-Forwarded-For

    @property
    def secure(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def same_site(self) -> str:
        """Lax, unless a platform frames the pages on another site: a framed page gets its cookie only with
        None, which browsers accept only with Secure."""
        return "None" if self.frame_ancestors and self.secure else "Lax"


@dataclass
class Deps:
    uow: UnitOfWorkFactory
    reader: UnitOfWorkFactory
    services: Services
    clock: Callable[[], datetime]
    config: WebConfig
    sign_in: Mapping[str, SignIn] = field(default_factory=dict)  # platform -> OAuth code exchange


DEPS = web.AppKey("genjin_web", Deps)
ATTEMPT_WINDOW = 300.0


class Attempts:
    """Failed sign-ins per address in a sliding window: a guessed token costs an attacker nothing else, and a
    team signing in in the morning (behind one proxy, one address) is never held up by its own successes."""

    def __init__(self, limit: int, window: float = ATTEMPT_WINDOW) -> None:
        self.limit, self.window = limit, window
        self._failed: dict[str, deque[float]] = {}
        self._pruned = time.monotonic()

    def allow(self, address: str) -> bool:
        now = time.monotonic()
        if now - self._pruned > self.window:  # forget every address whose failures are all old
            self._failed = {a: d for a, d in self._failed.items() if d and d[-1] > now - self.window}
            self._pruned = now
        failed = self._failed.get(address)
        while failed and failed[0] <= now - self.window:
            failed.popleft()
        return not failed or len(failed) < self.limit

    def failed(self, address: str) -> None:
        self._failed.setdefault(address, deque()).append(time.monotonic())


ATTEMPTS = web.AppKey("genjin_web_attempts", Attempts)


def _address(request: web.Request) -> str:
    """The client's address: behind a reverse proxy, the last one it added to X-Forwarded-For (the ones before it
    are the client's to write)."""
    if request.app[DEPS].config.behind_proxy:
        forwarded = request.headers.get("X-Forwarded-For", "").split(",")[-1].strip()
        if forwarded:
            return forwarded
    return request.remote or "-"


def _headers(config: WebConfig, response: web.StreamResponse, *, static: bool = False) -> None:
    ancestors = " ".join(config.frame_ancestors) or "'none'"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        f"base-uri 'none'; frame-ancestors {ancestors}"
    )
    if not config.frame_ancestors:
        response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"  # a link's token never leaves in a Referer
    if not static:
        response.headers["Cache-Control"] = "no-store"


@web.middleware
async def security(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> Any:
    deps = request.app[DEPS]
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status >= 400 and not exc.content_type.startswith("text/html"):  # aiohttp's own 404, 405, 413
            message = _MESSAGES.get(exc.status, exc.reason)
            exc.text = aiohttp_jinja2.render_string("error.html", request, {"message": message, "status": exc.status})
            exc.content_type = "text/html"
        _headers(deps.config, exc)
        raise
    _headers(deps.config, response, static=request.path.startswith("/web/static/"))
    return response


_MESSAGES = {
    400: "请求不对,请返回重试。",
    403: "页面已过期,请刷新后再试。",
    404: "没有这个页面,或者它不是你能查看的。",
    405: "不支持这种请求。",
    413: "提交的内容太大。",
    429: "尝试太频繁,请过几分钟再试。",
}


_ERRORS: dict[int, type[web.HTTPException]] = {
    400: web.HTTPBadRequest, 403: web.HTTPForbidden, 404: web.HTTPNotFound, 429: web.HTTPTooManyRequests,
    502: web.HTTPBadGateway,
}  # fmt: skip


def _error(request: web.Request, status: int, message: str) -> web.HTTPException:
    body = aiohttp_jinja2.render_string("error.html", request, {"message": message, "status": status})
    return _ERRORS[status](text=body, content_type="text/html")


@dataclass
class Session:
    employee: Employee
    csrf: str
    token: str


async def _session(request: web.Request) -> Session | None:
    deps = request.app[DEPS]
    token = request.cookies.get(COOKIE, "")
    if not token:
        return None
    async with deps.reader() as uow:
        found = await session_of(uow, token, deps.clock())
    if isinstance(found, Revoked):  # deactivated: every session of theirs ends now
        async with deps.uow() as uow:
            await uow.web.close_sessions_of(found.employee_id)
            await uow.commit()
        log.info("web sessions of deactivated %s closed", found.employee_id)
        return None
    return None if found is None else Session(found.employee, found.csrf, token)


async def _required(request: web.Request) -> Session:
    """The signed-in session; otherwise WeCom's own sign-in inside WeCom, or the page that says how to sign in."""
    session = await _session(request)
    if session is not None:
        return session
    deps = request.app[DEPS]
    if deps.config.wecom_corp_id and "wecom" in deps.sign_in and "wxwork" in request.headers.get("User-Agent", ""):
        raise _to_wecom(request, deps.config)
    body = aiohttp_jinja2.render_string("signin.html", request, {"message": ""})
    raise web.HTTPUnauthorized(text=body, content_type="text/html")


def _to_wecom(request: web.Request, config: WebConfig) -> web.HTTPFound:
    """WeCom OAuth, ``snsapi_base``: WeCom sends the browser back with a code; the state in a cookie ties the
    answer to this browser."""
    state = secrets.token_urlsafe(16)
    back = f"{config.base_url}/web/oauth/wecom?" + urlencode({"next": _next(request.path_qs)})
    query = urlencode({"appid": config.wecom_corp_id, "redirect_uri": back, "response_type": "code",
                       "scope": "snsapi_base", "state": state, "agentid": config.wecom_agent_id or ""})  # fmt: skip
    found = web.HTTPFound(f"https://open.weixin.qq.com/connect/oauth2/authorize?{query}#wechat_redirect")
    found.set_cookie(STATE_COOKIE, state, max_age=600, httponly=True, samesite="Lax", secure=config.secure,
                     path="/web/oauth/")  # fmt: skip
    return found


def _next(path: str) -> str:
    """Only a path of this dashboard: never an address elsewhere (an open redirect)."""
    return path if path.startswith("/web/") and not path.startswith("/web//") else "/web/"


def _signed(response: web.StreamResponse, config: WebConfig, token: str, max_age: int) -> None:
    response.set_cookie(COOKIE, token, max_age=max_age, httponly=True, samesite=config.same_site,
                        secure=config.secure, path="/web/")  # fmt: skip


# --- sign-in ----------------------------------------------------------------------------------------------------


async def login_page(request: web.Request) -> web.StreamResponse:
    """The link from the chat. Its token is spent only by the POST this page sends (its script does at once, a
    button otherwise): a link preview that fetches the page does not use the link up."""
    token = request.query.get("t", "")
    return aiohttp_jinja2.render_template("login.html", request, {"token": token})


def _same_origin(request: web.Request, config: WebConfig) -> bool:
    """A form posted from this dashboard's own pages: a page elsewhere must not sign a browser in to the account of
    the link it holds (login CSRF). Browsers send Origin with a POST; Sec-Fetch-Site where they know it."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("Origin")
    if origin is None or origin == "null":
        return site is not None or origin is None
    return origin in (config.base_url, f"{request.scheme}://{request.host}")


async def login(request: web.Request) -> web.StreamResponse:
    deps = request.app[DEPS]
    address, attempts = _address(request), request.app[ATTEMPTS]
    if not attempts.allow(address):
        raise _error(request, 429, _MESSAGES[429])
    if not _same_origin(request, deps.config):
        raise _error(request, 403, _MESSAGES[403])
    form = await request.post()
    token = str(form.get("t", ""))
    previous = request.cookies.get(COOKIE, "")
    async with deps.uow() as uow:
        opened = await redeem_link(uow, token, deps.clock(), deps.services.web_session_ttl)
        if opened is not None and previous:  # signing in again ends the session this browser had
            await sign_out(uow, previous)
        await uow.commit()
    if opened is None:
        attempts.failed(address)
        body = aiohttp_jinja2.render_string("signin.html", request, {"message": "链接已用过或已过期。"})
        raise web.HTTPForbidden(text=body, content_type="text/html")
    found = web.HTTPSeeOther("/web/")
    _signed(found, deps.config, opened.token, int(deps.services.web_session_ttl.total_seconds()))
    log.info("web sign-in by link: %s", opened.employee.id)
    _prepare(request.app)
    raise found


async def wecom_oauth(request: web.Request) -> web.StreamResponse:
    deps = request.app[DEPS]
    exchange = deps.sign_in.get("wecom")
    state = request.query.get("state", "")
    if exchange is None or not state or not same(state, request.cookies.get(STATE_COOKIE, "")):
        raise _error(request, 403, "登录已过期,请从企业微信里重新打开看板。")
    address, attempts = _address(request), request.app[ATTEMPTS]
    if not attempts.allow(address):
        raise _error(request, 429, _MESSAGES[429])
    try:
        user_id = await exchange(request.query.get("code", "")[:512])
    except Exception as exc:  # WeCom down or refusing: say so, never a 500
        log.warning("WeCom sign-in failed: %s", exc)
        raise _error(request, 502, "企业微信暂时无法确认你的身份,请稍后再试,或在聊天里发「看板」用链接登录。") from None
    async with deps.uow() as uow:
        employee = await uow.employees.by_platform_user("wecom", user_id) if user_id else None
        if employee is None or not employee.active:
            body = aiohttp_jinja2.render_string(
                "signin.html", request, {"message": "你的企业微信账号还没有登记为销售。"}
            )
            raise web.HTTPForbidden(text=body, content_type="text/html")
        opened = await open_session(uow, employee, deps.clock(), deps.services.web_session_ttl)
        await uow.commit()
    found = web.HTTPFound(_next(request.query.get("next", "/web/")))
    _signed(found, deps.config, opened.token, int(deps.services.web_session_ttl.total_seconds()))
    _prepare(request.app)
    found.del_cookie(STATE_COOKIE, path="/web/oauth/")
    raise found


BACKGROUND = web.AppKey("genjin_web_background", set[asyncio.Task[object]])


def _prepare(app: web.Application) -> None:
    """Someone signed in: the win probabilities' first build (seconds at 100,000 customers, in a thread) starts now,
    while they look at today's page, which does not need it; the customer pages and the forecast would wait for it."""
    recommender = app[DEPS].services.recommender
    if recommender is None or recommender.snapshot is not None:
        return
    task: asyncio.Task[object] = asyncio.create_task(_warm(recommender.ready()), name="recommender-first-build")
    tasks = app[BACKGROUND]
    tasks.add(task)
    task.add_done_callback(tasks.discard)


async def _warm(build: Awaitable[object]) -> object:
    try:
        return await build
    except Exception as exc:  # the page that needs it builds again, and says what went wrong there
        log.warning("the recommender's first build failed: %s", exc)
        return None


async def _cancel_background(app: web.Application) -> None:
    """Cancelled and waited for, so that a build reading the database has let go of it before the database closes
    (``serve`` closes it right after the HTTP server)."""
    tasks = [*app[BACKGROUND]]
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks, timeout=5)


async def logout(request: web.Request) -> web.StreamResponse:
    session = await _checked(request)
    deps = request.app[DEPS]
    async with deps.uow() as uow:
        await sign_out(uow, session.token)
        await uow.commit()
    body = aiohttp_jinja2.render_string("signin.html", request, {"message": "已退出。"})
    response = web.Response(text=body, content_type="text/html")
    response.del_cookie(COOKIE, path="/web/")
    return response


async def _checked(request: web.Request) -> Session:
    """A POST's session and its CSRF token, compared in constant time."""
    session = await _required(request)
    form = await request.post()
    if not same(str(form.get("csrf", "")), session.csrf):
        raise _error(request, 403, _MESSAGES[403])
    return session


# --- pages ------------------------------------------------------------------------------------------------------

View = Callable[[views.Viewer, Mapping[str, str]], Awaitable[views.Page]]
NAV = (
    ("/web/", "今日"), ("/web/funnel", "漏斗"), ("/web/forecast", "预测"), ("/web/activity", "活跃度"),
    ("/web/goals", "目标"), ("/web/points", "积分"), ("/web/customers", "客户"), ("/web/commission", "提成"),
)  # fmt: skip


def _page(view: View) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        session = await _required(request)
        deps = request.app[DEPS]
        async with deps.reader() as uow:
            v = await views.viewer(uow, deps.services, session.employee, deps.clock())
            page = await view(v, request.query)
        return await _respond(request, session, page)

    return handle


async def _respond(request: web.Request, session: Session, page: views.Page) -> web.StreamResponse:
    export = request.query.get("export", "")
    if export:
        key, _, kind = export.rpartition(".")
        table = find(page.tables, key)
        if table is None or kind not in ("csv", "xlsx"):
            raise _error(request, 404, _MESSAGES[404])
        return await _download(table, kind, page.title)
    context = {"page": page, "me": session.employee, "csrf": session.csrf, "nav": NAV, "path": request.path,
               "export": _export_link(request)}  # fmt: skip
    return aiohttp_jinja2.render_template(page.template, request, context)


def _export_link(request: web.Request) -> Callable[[Table, str], str]:
    def link(table: Table, kind: str) -> str:
        query = {k: v for k, v in request.query.items() if k != "export"} | {"export": f"{table.key}.{kind}"}
        return f"{request.path}?{urlencode(query)}"

    return link


async def _download(table: Table, kind: str, title: str) -> web.Response:
    """Written in a thread: 100,000 rows of XLSX take seconds, and the callbacks share this event loop."""
    body = await asyncio.to_thread(to_csv if kind == "csv" else to_xlsx, table)
    kinds = {"csv": "text/csv; charset=utf-8",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}  # fmt: skip
    name = f"{title}-{table.title}.{kind}"
    disposition = f"attachment; filename=\"genjin-{table.key}.{kind}\"; filename*=UTF-8''{quote(name)}"
    return web.Response(body=body, headers={"Content-Type": kinds[kind], "Content-Disposition": disposition})


async def what_if(request: web.Request) -> web.StreamResponse:
    """The forecast again with the form's changes: computed for this answer only, nothing is written."""
    session = await _checked(request)
    deps = request.app[DEPS]
    form = {k: str(v) for k, v in (await request.post()).items()}
    async with deps.reader() as uow:
        v = await views.viewer(uow, deps.services, session.employee, deps.clock())
        page = await views.forecast(v, request.query, form)
    return await _respond(request, session, page)


async def customer_page(request: web.Request) -> web.StreamResponse:
    session = await _required(request)
    deps = request.app[DEPS]
    raw = request.match_info["id"]
    if not views.ID.fullmatch(raw):
        raise _error(request, 404, _MESSAGES[404])
    try:
        async with deps.reader() as uow:
            v = await views.viewer(uow, deps.services, session.employee, deps.clock())
            page = await views.customer(v, int(raw))
    except views.NotFound:
        raise _error(request, 404, _MESSAGES[404]) from None
    return await _respond(request, session, page)


_QUOTE_FILE = re.compile(r"^(?P<id>[0-9]{1,12})\.(?P<kind>pdf|xlsx)$")


async def quote_download(request: web.Request) -> web.StreamResponse:
    """A quote's PDF or XLSX, for platforms that cannot take files (the chat answers with this link)."""
    session = await _required(request)
    deps = request.app[DEPS]
    found = _QUOTE_FILE.fullmatch(request.match_info["name"])
    if found is None:
        raise _error(request, 404, _MESSAGES[404])
    try:
        async with deps.reader() as uow:
            v = await views.viewer(uow, deps.services, session.employee, deps.clock())
            name, body = await views.quote_file(v, int(found["id"]), found["kind"])
    except views.NotFound:
        raise _error(request, 404, _MESSAGES[404]) from None
    kinds = {"pdf": "application/pdf", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
    disposition = f'attachment; filename="{name}"'
    return web.Response(body=body, headers={"Content-Type": kinds[found["kind"]], "Content-Disposition": disposition})


def make_dashboard(deps: Deps) -> web.Application:
    """The sub-application ``genjin serve`` mounts at ``/web``."""
    app = web.Application(middlewares=[security])
    app[DEPS] = deps
    app[ATTEMPTS] = Attempts(deps.config.link_attempts)
    background: set[asyncio.Task[object]] = set()
    app[BACKGROUND] = background
    app.on_cleanup.append(_cancel_background)
    env = aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True)
    env.filters.update(shown=shown, plain=plain)
    env.globals.update(link_minutes=int(deps.services.web_link_ttl.total_seconds() // 60))
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
    app.router.add_get("/oauth/wecom", wecom_oauth)
    app.router.add_get("/", _page(views.today))
    app.router.add_get("/funnel", _page(views.funnel))
    app.router.add_get("/forecast", _page(lambda v, q: views.forecast(v, q)))
    app.router.add_post("/forecast", what_if)
    app.router.add_get("/activity", _page(views.activity))
    app.router.add_get("/goals", _page(views.goals))
    app.router.add_get("/points", _page(views.points))
    app.router.add_get("/customers", _page(views.customers))
    app.router.add_get("/customers/{id}", customer_page)
    app.router.add_get("/quotes/{name}", quote_download)
    app.router.add_get("/commission", _page(views.commission))
    app.router.add_static("/static/", HERE / "static", append_version=True)
    return app
