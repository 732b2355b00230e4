"""The ``genjin`` command line. Every command loads the settings first and fails in one line."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from bot.config import Settings

EXIT_CONFIG = 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="genjin", description="Genjin 跟进 — 企业微信、钉钉和飞书里的销售助手")
    p.add_argument("--config", help="配置文件路径(默认 $GENJIN_CONFIG 或 ./genjin.toml)")
    sub = p.add_subparsers(dest="command", required=True)

    init = sub.add_parser("init", help="写一份带注释的 genjin.toml 模板")
    init.add_argument("--path", default="genjin.toml")
    init.add_argument("--force", action="store_true", help="覆盖已有文件")

    serve = sub.add_parser("serve", help="启动服务(回调、收件箱、发件箱)")
    serve.add_argument(
        "--role", choices=("all", "web", "worker"),
        help="all(默认)全部;web 只收回调并确认;worker 只处理消息、发送和定时任务。大公司可分开运行",
    )  # fmt: skip

    parse = sub.add_parser("parse", help="解析简报:标准输入每行一个 JSON,输出每行一个结果")
    parse.add_argument("--customers", required=True, help="已知客户名单,每行一个名称")
    parse.add_argument("--now", help="默认的消息时间(ISO 8601),行内的 now 优先")

    chat = sub.add_parser("chat", help="在终端里和机器人对话")
    chat.add_argument("--user", required=True, help="以哪个员工(工号)的身份说话")
    chat.add_argument("--now", help="把时钟固定在这个时间(ISO 8601),用于演示和测试")

    demo = sub.add_parser("demo", help="生成演示公司的数据并打开终端对话")
    demo.add_argument("--database", help="数据库地址(默认 $GENJIN_DATABASE_URL 或 sqlite:///genjin-demo.db)")
    demo.add_argument("--yes", action="store_true", help="已有数据时不再询问,直接替换")
    demo.add_argument("--no-chat", action="store_true", help="只生成数据")
    demo.add_argument("--seed", type=int, default=7, help=argparse.SUPPRESS)

    db = sub.add_parser("db", help="数据库结构")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="升级到最新结构(启动时也会自动执行)")
    db_sub.add_parser("current", help="显示当前结构版本")

    remind = sub.add_parser("remind", help="停滞提醒")
    r_sub = remind.add_subparsers(dest="remind_command", required=True)
    r_run = r_sub.add_parser("run", help="立即检查一次停滞客户并发出提醒")
    r_run.add_argument("--now", help="按这个时间检查(ISO 8601)")
    r_run.add_argument("--dry-run", action="store_true", help="只看结果,不记录也不发送")
    r_run.add_argument("--json", action="store_true")

    report = sub.add_parser("report", help="漏斗、简报情况、成交预测、渠道效果")
    report.add_argument("kind", choices=["funnel", "activity", "forecast", "channels", "quality"])
    report.add_argument("--month", action="append", help="渠道效果:只算这些月份(YYYY-MM,可重复)进来的线索和花费")
    report.add_argument("--team")
    report.add_argument("--period", choices=["this_month", "last_month", "this_quarter", "this_week"],
                        default="this_month")  # fmt: skip
    report.add_argument("--now", help="按这个时间(ISO 8601)")
    report.add_argument("--json", action="store_true")

    commission = sub.add_parser("commission", help="提成")
    cm_sub = commission.add_subparsers(dest="commission_command", required=True)
    cm_report = cm_sub.add_parser("report", help="每个销售某月的提成明细")
    cm_report.add_argument("--month", help="YYYY-MM,默认本月")
    cm_report.add_argument("--team")
    cm_report.add_argument("--json", action="store_true")

    rec = sub.add_parser("recommend", help="相似客户与推进建议")
    rec.add_argument("--customer", required=True)
    rec.add_argument("--json", action="store_true")

    standup = sub.add_parser("standup", help="站会")
    standup.add_argument("action", choices=["open", "close"])
    standup.add_argument("--team", required=True)
    standup.add_argument("--now", help="按这个时间(ISO 8601)")

    schedule = sub.add_parser("schedule", help="定时任务")
    s_sub = schedule.add_subparsers(dest="schedule_command", required=True)
    s_sub.add_parser("list", help="列出定时任务和下次运行时间")

    imp = sub.add_parser("import", help="从 Excel/CSV 导入")
    imp.add_argument(
        "kind",
        choices=["employees", "teams", "customers", "followups", "goals", "leads", "events", "costs", "products"],
    )
    imp.add_argument("file")
    imp.add_argument("--json", action="store_true")

    customers = sub.add_parser("customers", help="查看客户")
    c_sub = customers.add_subparsers(dest="customers_command", required=True)
    c_list = c_sub.add_parser("list")
    c_list.add_argument("--owner")
    c_list.add_argument("--json", action="store_true")

    docs = sub.add_parser("docs", help="生成文档")
    docs.add_argument("what", choices=["metrics"])
    docs.add_argument("--out", default="docs/metrics.md", help="写到这里(默认 docs/metrics.md)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "init":
        return _init(Path(args.path), args.force)
    if args.command == "parse":
        from bot.parse_command import run_parse

        return run_parse(Path(args.customers), args.now, sys.stdin.buffer, sys.stdout)
    if args.command == "docs":  # written from the code: the definitions and the document cannot drift apart
        from sales.metrics import document

        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(document(), encoding="utf-8")
        print(f"已写入 {out}")
        return 0
    from bot.config import ConfigError, load_settings  # after parse: its start-up stays light

    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_CONFIG
    quiet = args.command in (
        "chat",
        "demo",
        "import",
        "customers",
        "remind",
        "schedule",
        "standup",
        "recommend",
        "report",
        "commission",
    )
    logging.basicConfig(
        level=logging.WARNING if quiet else getattr(logging, settings.log_level),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)  # its per-start plugin lines are noise
    try:
        return asyncio.run(_run(args, settings))
    except KeyboardInterrupt:
        return 130


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "serve":
        return await _serve(settings.model_copy(update={"role": args.role}) if args.role else settings)
    if args.command == "chat":
        return await _chat(settings, args.user, now=args.now)
    if args.command == "demo":
        return await _demo(settings, args)
    if args.command == "db":
        return await _db(settings, args.db_command)
    if args.command == "import":
        return await _import(settings, args.kind, Path(args.file), as_json=args.json)
    if args.command == "customers":
        return await _customers_list(settings, args.owner, as_json=args.json)
    if args.command == "remind":
        return await _remind(settings, args.now, dry_run=args.dry_run, as_json=args.json)
    if args.command == "schedule":
        return await _schedule_list(settings)
    if args.command == "standup":
        return await _standup(settings, args.action, args.team, args.now)
    if args.command == "report":
        return await _report(settings, args)
    if args.command == "commission":
        return await _commission_report(settings, args.month, args.team, as_json=args.json)
    if args.command == "recommend":
        return await _recommend(settings, args.customer, as_json=args.json)
    raise AssertionError(args.command)


def _init(path: Path, force: bool) -> int:
    from bot.config import TEMPLATE

    if path.exists() and not force:
        print(f"{path} 已存在;要覆盖请加 --force", file=sys.stderr)
        return 1
    path.write_text(TEMPLATE, encoding="utf-8")
    print(f"已写入 {path}")
    return 0


async def _serve(settings: Settings) -> int:
    from bot.bootstrap import build_app
    from bot.server import serve

    app = await build_app(settings)
    await serve(app)
    return 0


async def _chat(
    settings: Settings,
    user: str,
    database_url: str | None = None,
    intro: str | None = None,
    now: str | None = None,
) -> int:
    from bot.bootstrap import build_app
    from bot.console.adapter import PLATFORM, ConsoleChat, ConsoleSender
    from bot.parse_command import parse_time

    interactive = sys.stdin.isatty()
    sender = ConsoleSender(sys.stdout, interactive=interactive)
    clock = None
    if now:
        try:
            fixed = parse_time(now).astimezone(settings.tz)
        except ValueError:
            print(f"--now 不是 ISO 8601 时间: {now}", file=sys.stderr)
            return 2
        clock = lambda: fixed  # noqa: E731 - a fixed clock for demos and tests
    app = await build_app(settings, database_url=database_url, senders={PLATFORM: sender}, clock=clock)
    try:
        async with app.uow() as uow:
            employee = await uow.employees.get(user)
        if employee is None:
            # Same path as a stranger on WeCom or DingTalk: the bot keeps the message and says whom to ask.
            print(f"注意:{user} 不在员工名单里,机器人会把你当作陌生人。", file=sys.stderr)
        if intro:
            print(intro)
        elif interactive and employee is not None:
            print(f"你好,{employee.name}!输入消息和 Genjin 对话,输入「帮助」看看能做什么,exit 退出。")
        chat = ConsoleChat(app.uow, user, app.clock, app.worker.drain, app.outbox.drain)
        await chat.run(sys.stdin, interactive=interactive, out=sys.stdout)
    finally:
        await app.close()
    return 0


async def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from bot import demo
    from bot.bootstrap import build_app

    url = args.database or os.environ.get("GENJIN_DATABASE_URL") or demo.DEFAULT_URL
    app = await build_app(settings, database_url=url)
    try:
        async with app.uow() as uow:
            has_data = bool(await uow.employees.find())
        if has_data and not args.yes:
            if not sys.stdin.isatty():
                print(f"{url} 里已有数据;确认要替换请加 --yes", file=sys.stderr)
                return 1
            answer = await asyncio.to_thread(input, f"{url} 里已有数据,清空并重新生成演示数据吗?[y/N] ")
            if answer.strip().lower() not in ("y", "yes", "是"):
                print("已取消,数据没有改动。")
                return 1
        if has_data:
            await app.database.wipe()
        summary = await demo.seed(app.uow, app.clock(), seed=args.seed)
    finally:
        await app.close()
    print(summary.describe(url))
    if args.no_chat:
        return 0
    return await _chat(settings, summary.demo_user, database_url=url, intro=summary.intro())


async def _db(settings: Settings, command: str) -> int:
    from store.database import Database
    from store.migrate import head_revision

    database = Database(settings.database_url)
    try:
        if command == "upgrade":
            await database.upgrade()
        current = await database.revision()
        print(f"数据库结构版本: {current or '(空)'};最新: {head_revision()}")
    finally:
        await database.dispose()
    return 0


class ProgressBar:
    """One line on a terminal, redrawn: rows done, the rate and the time left (never in a pipe or --json)."""

    def __init__(self, what: str, out: TextIO) -> None:
        self.what, self.out, self.started = what, out, time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        spent = max(time.monotonic() - self.started, 1e-6)
        rate = done / spent
        left = (total - done) / rate if rate else 0.0
        width = 24
        filled = width * done // max(total, 1)
        self.out.write(f"\r{self.what} [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,} "
                       f"{rate:,.0f} 行/秒,还要约 {left:.0f} 秒 ")  # fmt: skip
        self.out.flush()

    def close(self) -> None:
        self.out.write("\n")
        self.out.flush()


async def _import(settings: Settings, kind: str, path: Path, *, as_json: bool) -> int:
    from bot.bootstrap import build_app
    from bot.platforms import labels
    from store import importers
    from store.tabular import Row, UnreadableFile
    from usecases.history_import import import_followups, read_followup_rows

    accounts = labels()  # every known platform's account column (企业微信账号, 钉钉账号, …)
    readers: dict[str, Callable[[Path], list[Row]]] = {
        "employees": partial(importers.read_employee_rows, platforms=accounts),
        "teams": partial(importers.read_team_rows, platforms=accounts),
        "customers": importers.read_customer_rows, "followups": read_followup_rows, "goals": importers.read_goal_rows,
        "leads": importers.read_lead_rows, "events": importers.read_event_rows, "costs": importers.read_cost_rows,
        "products": importers.read_product_rows,
    }  # fmt: skip
    reader = readers[kind]
    try:
        rows = await asyncio.to_thread(reader, path)
    except UnreadableFile as exc:
        print(f"无法导入 {path}: {exc}", file=sys.stderr)
        return 1
    app = await build_app(settings)
    try:
        async with app.uow() as uow:
            if kind == "employees":
                report = await importers.import_employees(uow, rows, app.clock(), accounts)
            elif kind == "teams":
                report = await importers.import_teams(uow, rows, app.clock())
            elif kind == "customers":
                bar = ProgressBar("导入客户", sys.stderr) if sys.stderr.isatty() and not as_json else None
                report = await importers.import_customers(uow, rows, app.clock(), settings.tz, bar)
                if bar is not None:
                    bar.close()
            elif kind == "goals":
                report = await importers.import_goals(uow, rows, app.clock())
            elif kind == "costs":
                report = await importers.import_costs(uow, rows, app.clock())
            elif kind == "products":
                today = app.clock().astimezone(settings.tz).date()
                report = await importers.import_products(uow, rows, app.clock(), today)
            elif kind in ("leads", "events"):
                report = await _import_leads(uow, app, kind, rows)
            else:
                parser = await app.services.parser.get(uow)
                report = await import_followups(uow, rows, parser, settings.tz, app.clock())
            await uow.commit()
    finally:
        await app.close()
    if as_json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        what = {"employees": "员工", "teams": "团队", "customers": "客户", "followups": "跟进记录", "goals": "目标",
                "leads": "线索", "events": "线索行为", "costs": "渠道花费", "products": "价目表"}  # fmt: skip
        print("\n".join(report.lines(what[kind])))
    return 0


async def _import_leads(uow: Any, app: Any, kind: str, rows: list[Any]) -> Any:
    """Leads or their events, then the leads scored again and the waiting ones handed to reps (each told in chat)."""
    from store import importers
    from usecases.leads import assign_waiting, rescore

    now, tz = app.clock(), app.settings.tz
    if kind == "leads":
        report = await importers.import_leads(uow, rows, now, tz)
    else:
        report, touched = await importers.import_events(uow, rows, now, tz)
        await rescore(uow, app.services, list(touched.values()), now)
    for handed in await assign_waiting(uow, app.services, now):
        if handed.assignment.rep_id is not None:
            report.notes.append(f"已分配 {handed.lead.name} → {handed.assignment.rep_id}({handed.score.score:.0f} 分)")
    return report


async def _remind(settings: Settings, now: str | None, *, dry_run: bool, as_json: bool) -> int:
    from bot.bootstrap import build_app
    from bot.parse_command import parse_time
    from scheduler.reminders import scan

    app = await build_app(settings)
    try:
        when = parse_time(now) if now else app.clock()
        notices = await scan(app.uow, app.services, when, dry_run=dry_run)
    finally:
        await app.close()
    if as_json:
        print(json.dumps([n.as_json() for n in notices], ensure_ascii=False))
        return 0
    if not notices:
        print("没有新的提醒要发。")
    for notice in notices:
        print(f"→ {notice.to}({notice.kind})\n{notice.text}\n")
    return 0


async def _report(settings: Settings, args: argparse.Namespace) -> int:
    import dataclasses

    if args.kind == "channels":
        return await _channels(settings, args.month, as_json=args.json)
    if args.kind == "quality":
        return await _quality(settings, as_json=args.json)
    from bot.bootstrap import build_app
    from bot.parse_command import parse_time
    from usecases.forecast import build_forecast, render_forecast
    from usecases.reports import build_activity, build_funnel, render_activity, render_funnel

    app = await build_app(settings)
    try:
        now = parse_time(args.now) if args.now else app.clock()
        async with app.uow() as uow:
            owners = {e.id for e in await uow.employees.find(team=args.team)} if args.team else None
            names = {e.id: e.name for e in await uow.employees.find()}
            if args.kind == "funnel":
                result: Any = await build_funnel(uow, app.services, now, owners, args.period)
                text = render_funnel(result, f"{args.team}团队" if args.team else "全公司", names)
            elif args.kind == "activity":
                result = await build_activity(uow, app.services, now, owners)
                text = render_activity(result, f"{args.team}团队" if args.team else "全公司", names)
            else:
                result = await build_forecast(uow, app.services, now, owners)
                text = render_forecast(result, f"{args.team}团队" if args.team else "全公司", names)
    finally:
        await app.close()
    if not args.json:
        print(text)
        return 0

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {str(getattr(k, "value", k)): plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        return _json_value(getattr(value, "value", value), settings)

    print(json.dumps(plain(dataclasses.asdict(result)), ensure_ascii=False))
    return 0


async def _quality(settings: Settings, *, as_json: bool) -> int:
    from bot.bootstrap import build_app
    from usecases.quality import render, review

    app = await build_app(settings)
    try:
        now = app.clock()
        async with app.uow() as uow:
            found = await review(uow, app.services, now)
    finally:
        await app.close()
    month = f"{now.astimezone(settings.tz):%Y-%m}"
    print(json.dumps(found.as_json(), ensure_ascii=False) if as_json else render(found, month))
    return 0


async def _channels(settings: Settings, months: list[str] | None, *, as_json: bool) -> int:
    import re

    from bot.bootstrap import build_app
    from usecases.channels import as_json as channel_rows
    from usecases.channels import build_channels, months_label, render_channels

    bad = [m for m in months or [] if not re.fullmatch(r"20[0-9]{2}-(0[1-9]|1[0-2])", m)]
    if bad:
        print(f"月份要写成 YYYY-MM,例如 2026-11: {bad[0]}", file=sys.stderr)
        return 2
    app = await build_app(settings)
    try:
        async with app.uow() as uow:
            lines = await build_channels(uow, app.services, months)
    finally:
        await app.close()
    print(
        json.dumps(channel_rows(lines), ensure_ascii=False) if as_json else render_channels(lines, months_label(months))
    )
    return 0


async def _commission_report(settings: Settings, month: str | None, team: str | None, *, as_json: bool) -> int:
    import re

    from bot.bootstrap import build_app
    from sales.model import Role
    from sales.months import month_key
    from usecases.commission import build_statements, report_rows, report_text
    from usecases.pool import POOL_ID

    if month is not None and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        print(f"月份要写成 YYYY-MM,例如 2026-11: {month}", file=sys.stderr)
        return 2
    app = await build_app(settings)
    try:
        month = month or month_key(app.clock().astimezone(settings.tz).date())
        async with app.uow() as uow:
            staff = await uow.employees.find()
            reps = [e for e in staff if e.role is Role.REP and e.id != POOL_ID and (team is None or e.team == team)]
            statements = await build_statements(uow, app.services, month, reps)
    finally:
        await app.close()
    rows = report_rows(statements, staff, app.services)
    print(json.dumps(rows, ensure_ascii=False) if as_json else report_text(rows, month))
    return 0


async def _recommend(settings: Settings, name: str, *, as_json: bool) -> int:
    from bot.bootstrap import build_app
    from usecases.recommend import render

    app = await build_app(settings)
    try:
        assert app.services.recommender is not None
        async with app.uow() as uow:
            customer = await uow.customers.by_name(name)
            if customer is None:  # the admin may type a short form: resolve it as the chat would
                parsed = (await app.services.parser.get(uow)).parse(name, app.clock())
                known = [u for u in parsed.updates if not u.is_new and not u.candidates]
                customer = await uow.customers.by_name(known[0].customer) if known else None
        if customer is None:
            print(f"没有找到客户「{name}」", file=sys.stderr)
            return 1
        rec = await app.services.recommender.recommend(customer.name, lambda _owner: True)
    finally:
        await app.close()
    assert rec is not None
    print(json.dumps(rec.as_json(), ensure_ascii=False) if as_json else render(rec))
    return 0


async def _standup(settings: Settings, action: str, team: str, now: str | None) -> int:
    from bot.bootstrap import build_app
    from bot.parse_command import parse_time
    from usecases.standup import close_standup, open_standup

    app = await build_app(settings)
    try:
        when = parse_time(now) if now else app.clock()
        if action == "open":
            opened = await open_standup(app.uow, app.services, when, team, any_weekday=True)
            if opened is None:
                print(f"没有开站会:团队「{team}」不存在、没启用站会、今天已经开过,或今天是节假日。", file=sys.stderr)
                return 1
            print(f"「{team}」站会已开始,{opened.closes_at.astimezone(settings.tz):%H:%M} 收尾。")
            return 0
        text = await close_standup(app.uow, app.services, when, team)
        if text is None:
            print(f"「{team}」没有进行中的站会。", file=sys.stderr)
            return 1
        print(text)
        return 0
    finally:
        await app.close()


async def _schedule_list(settings: Settings) -> int:
    from bot.bootstrap import build_app

    app = await build_app(settings)
    try:
        scheduler = app.scheduler()
        for job, when in scheduler.next_runs(app.clock()):
            print(f"{job.id}\t{when.isoformat() if when else '—'}\t{job.description}")
    finally:
        await app.close()
    return 0


def _json_value(value: Any, settings: Settings) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime):
        return value.astimezone(settings.tz).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


async def _customers_list(settings: Settings, owner: str | None, *, as_json: bool) -> int:
    from bot.bootstrap import build_app
    from sales.values import wan

    app = await build_app(settings)
    try:
        async with app.uow() as uow:
            customers = await uow.customers.find(owner_ids=[owner] if owner else None)
        scores = await app.services.recommender.scores() if app.services.recommender else {}
    finally:
        await app.close()
    if as_json:
        keys = (
            "stage",
            "stage_entered_at",
            "amount",
            "expected_close",
            "confidence",
            "next_action",
            "next_action_date",
            "last_followup_at",
        )
        out = [
            {
                "name": c.name,
                "owner": c.owner_id,
                **{k: _json_value(getattr(c, k), settings) for k in keys},
                **({"win_probability": round(scores[c.name], 3)} if c.name in scores else {}),
            }
            for c in customers
        ]
        print(json.dumps(out, ensure_ascii=False))
        return 0
    for c in customers:
        print(f"{c.name}\t{c.owner_id}\t{c.stage.label}\t{wan(c.amount)}\t{c.next_action or ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
