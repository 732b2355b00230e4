"""``POST /api/events``: a website pushes what leads did, in batches of JSON, with the token the admin set.

A batch is all or nothing: a wrong token is 401, a body that is not JSON or too big is 400/413, and a batch with any
event that cannot be read is 422 with each problem listed; nothing of it is stored. The same event sent again (its
``id``, or the same content) is stored once, so a site may retry freely."""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from aiohttp import web

from bot.bootstrap import App
from sales.leads import LeadEvent
from store.importers import lead_for, parse_event
from usecases.leads import rescore

log = logging.getLogger("genjin.events")
MAX_EVENTS = 1000
APP = web.AppKey("genjin_events_app", App)


def _problem(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


async def post_events(request: web.Request) -> web.Response:
    app = request.app[APP]
    token = app.settings.events_token or ""
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not token or not hmac.compare_digest(given.encode(), token.encode()):
        return _problem(401, "token 不对")
    try:
        body = json.loads(await request.read())
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _problem(400, "请求体不是 JSON")
    items = body.get("events") if isinstance(body, dict) else body
    if not isinstance(items, list) or not items:
        return _problem(400, '要一个非空的事件数组:{"events": [...]}')
    if len(items) > MAX_EVENTS:
        return _problem(413, f"一批最多 {MAX_EVENTS} 个事件")
    tz, now = app.settings.tz, app.clock()
    parsed, problems = [], []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            problems.append({"index": index, "reason": "不是一个对象"})
            continue
        values = {"lead": item.get("lead"), "kind": item.get("type", item.get("kind")), "at": item.get("at"),
                  "seconds": item.get("seconds"), "what": item.get("what"), "key": item.get("id")}  # fmt: skip
        try:
            parsed.append((index, parse_event(values, tz)))
        except ValueError as exc:
            problems.append({"index": index, "reason": str(exc)})
    if problems:
        return _problem(422, "这批事件有看不懂的,一个都没有存", problems=problems)
    async with app.uow() as uow:
        stored, touched, unknown = 0, {}, []
        for index, (name, kind, at, seconds, what, key) in parsed:
            lead = await lead_for(uow, name, now)
            if lead is None or lead.id is None:
                unknown.append({"index": index, "reason": f"没有这个线索或客户: {name}"})
                continue
            if await uow.leads.add_events([LeadEvent(lead.id, kind, at, seconds, what, key)]):
                stored += 1
                touched[lead.id] = lead
        if unknown:  # rolled back: the batch is all or nothing
            return _problem(422, "这批事件有不认识的线索,一个都没有存", problems=unknown)
        await rescore(uow, app.services, list(touched.values()), now)
        await uow.commit()
    log.info("events: %d stored, %d seen before", stored, len(parsed) - stored)
    return web.json_response({"stored": stored, "duplicates": len(parsed) - stored})


def routes(app: App) -> web.Application:
    """The API as a sub-application at /api (only where ``GENJIN_EVENTS_TOKEN`` is set)."""
    api = web.Application()
    api[APP] = app
    api.router.add_post("/events", post_events)
    return api
