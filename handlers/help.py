"""``帮助``: what the bot understands, with examples — only what is installed."""

from __future__ import annotations

from handlers.messages import Incoming, Reply
from handlers.routing import Context, Router, command_is, kind_is, text_is

router = Router("help")

HELP_WORDS = ("help", "/help", "帮助", "？", "?", "怎么用", "使用说明", "菜单")

HELP_LINES: list[str] = [
    "发简报:直接说今天的进展,一条可以说好几个客户。例如「今天拜访了天成建材的王总,确认了需求,"
    "下周三做方案演示,预计月底签约,金额大概50万」",
    "查客户:「天成建材现在到哪一步了」「天成签了没」(只回答,不记成简报)",
    "我的客户:「我的客户有哪些」(主管可问「张伟手上有哪些客户」)",
    "本周任务:「本周任务」",
    "超期客户:「哪些客户超期了」(按工作日算,主管看团队)",
    "推进建议:「天成建材这类客户怎么推进」(参考相似的已成交客户,附赢单概率)",
    "成交预测:「本月预计能成交多少」(按赢单概率和预计签约月份,附区间和上季度误差)",
    "漏斗与简报情况:「本月漏斗」「上月漏斗」「团队这周日报提交情况」(主管看团队,管理员看全公司)",
    "目标:「我的目标还差多少」(各项指标的目标、完成、差额和每个工作日的节奏;主管看团队);"
    "有意见发「目标异议 理由」转给主管;管理员和主管可「设定目标 张伟 新签合同额 80万 12月」",
    "提成:「我的提成」「上个月的提成」(每单明细、合计与团队排名;只能看自己的,主管看团队)",
    "积分:「我现在积分多少」「积分排行榜」(本周、本月);「兑换 咖啡券」申请兑换,主管批准后扣分",
    "站会:周五站会时回复「本周完成:…;阻塞:…;下周计划:…」,私聊或在群里 @我",
    "团队群:主管在团队群里 @我 说「绑定本群」,站会和表彰就发到这个群(「解绑本群」取消)",
    "看板:发「看板」拿个人登录链接,在网页上看团队、客户和报表",
    "报价:「给天成建材出个报价:A型设备10台,九折」回 PDF 和 Excel;超出折扣权限的先给主管批",
    "撤销:撤回最后生效的一次改动(可以一直往前撤,24 小时内)",
    "取消:放弃正在等你回答的问题",
    "帮助:看这份说明",
]


def help_text() -> str:
    lines = ["我是跟进助手 Genjin,你可以这样用我:"]
    lines += [f"· {line}" for line in HELP_LINES]
    return "\n".join(lines)


@router.message(text_is(*HELP_WORDS))
async def show_help(message: Incoming, ctx: Context) -> list[Reply]:
    return [Reply(help_text())]


@router.message(kind_is("event:enter_agent"))
async def welcome(message: Incoming, ctx: Context) -> list[Reply]:
    name = ctx.employee.name if ctx.employee else ""
    return [Reply(f"{name}你好,欢迎使用跟进助手!\n" + help_text())]


@router.message(command_is("help"))
async def show_help_command(message: Incoming, ctx: Context) -> list[Reply]:
    return [Reply(help_text())]
