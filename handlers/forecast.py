"""The ``forecast`` answer and the weekly snapshot that makes its accuracy measurable."""

from __future__ import annotations

from handlers.messages import Incoming, Reply
from handlers.reports import scope
from handlers.routing import Context, Router, query_is
from sales.forecast import (
    BUCKETS,
    Forecast,
)
from sales.people import display_names
from sales.values import wan
from usecases.forecast import build_forecast
from usecases.format import fit

router = Router("forecast")


def render_forecast(f: Forecast, who: str, names: dict[str, str]) -> str:
    lines = [f"{who}成交预测(金额 × 赢单概率,按预计签约月份计):"]
    for key, label in BUCKETS.items():
        band = f.buckets[key]
        lines.append(f"· {label}:预计 {wan(band.expected)}(区间 {wan(band.low)} – {wan(band.high)})")
    corrected = {o: b for o, b in f.bias.items() if abs(b - 1) >= 0.05}
    if corrected:
        shown = [f"{names.get(o, o)} ×{b:.2f}({'常高估' if b < 1 else '常低估'})" for o, b in sorted(corrected.items())]
        lines.append("按各人历史准确度校正:" + "、".join(shown))
    if f.error is not None:
        lines.append(f"上季度预测误差:{f.error:.0%}(月初预测与实际成交相比)")
    else:
        lines.append("上季度还没有足够的预测快照来算误差(每周一自动保存)。")
    return fit(lines)


@router.message(query_is("forecast"))
async def answer(message: Incoming, ctx: Context) -> list[Reply]:
    assert ctx.employee is not None
    teams = [t.name for t in await ctx.uow.teams.find() if t.name in message.text]
    try:
        owners, who = await scope(ctx.uow, ctx.employee, teams[0] if teams else None)
    except ValueError:
        return [Reply(f"「{teams[0]}」不是你的团队,看不到它的预测。")]
    f = await build_forecast(ctx.uow, ctx.services, ctx.now, owners)
    names = display_names(await ctx.uow.employees.find())
    return [Reply(render_forecast(f, who, names))]
