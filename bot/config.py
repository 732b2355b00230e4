"""Settings from ``genjin.toml`` and ``GENJIN_*`` environment variables (the environment wins)."""

from __future__ import annotations

import os
import tomllib
from datetime import time
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from sales.calendar import read_overrides
from sales.commission import DEFAULT_BANDS, Band, CommissionRules
from sales.leads import EventKind, LeadRules, PoolRules, ScoreRules
from sales.points import DEFAULT_REWARDS, PointsRules, Reward
from sales.quotes import QuoteRules
from sales.stages import Stage
from store.db import async_url

ENV_PREFIX = "GENJIN_"
_POINTS = PointsRules()
DEFAULT_CONFIG = Path("genjin.toml")


class ConfigError(Exception):
    """A setting is missing or wrong; the message is one line that names the key."""


class _TomlSource(PydanticBaseSettingsSource):
    """Reads ``genjin.toml``; a table ``[wecom]`` with ``corp_id`` sets ``wecom_corp_id``."""

    def __init__(self, settings_cls: type[BaseSettings], data: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self.data = data

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self.data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self.data)


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}{key}".replace("-", "_").lower()
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "_"))
        else:
            flat[name] = value
    return flat


class Settings(BaseSettings):
    """Everything an admin can set. Field ``x`` is ``GENJIN_X`` in the environment."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", validate_default=True)

    database_url: str = Field("sqlite:///genjin.db", description="数据库地址")
    timezone: str = Field("Asia/Shanghai", description="时区")
    host: str = Field("127.0.0.1", description="HTTP 服务监听地址")
    port: int = Field(8080, ge=1, le=65535, description="HTTP 服务端口")
    log_level: str = Field("INFO", description="日志级别")
    auto_register: bool = Field(False, description="陌生发送人自动登记为销售(试用时用)")
    max_body_bytes: int = Field(64 * 1024, ge=1024, le=1024 * 1024, description="回调请求体上限(字节)")
    send_concurrency: int = Field(8, ge=1, le=64, description="同时发送的收件人数(每人的消息仍按顺序)")
    inbox_workers: int = Field(
        1, ge=1, le=32, description="同时处理消息的任务数(只对 PostgreSQL 有效;每个人的消息仍按顺序)"
    )
    alert_after_minutes: float = Field(5.0, gt=0, le=24 * 60, description="消息超过这么多分钟没处理就告警给管理员")
    role: Literal["all", "web", "worker"] = Field(
        "all", description="serve 做什么:all 全部;web 只收回调并确认;worker 只处理消息、发送和定时任务"
    )
    worker_nice: int = Field(
        10, ge=0, le=19, description="worker 进程降低的调度优先级(nice 值;同一台机器上让 web 进程的确认先用 CPU)"
    )
    inbox_poll_seconds: float | None = Field(
        None, gt=0, le=60, description="没有新消息时多久查一次收件箱(秒;默认 all 为 1,worker 为 0.2)"
    )

    wecom_corp_id: str | None = Field(None, description="企业微信 企业ID(设置后启用企业微信)")
    wecom_agent_id: int | None = Field(None, description="企业微信 自建应用 AgentId")
    wecom_secret: str | None = Field(None, description="企业微信 自建应用 Secret")
    wecom_token: str | None = Field(None, description="企业微信 接收消息 Token")
    wecom_aes_key: str | None = Field(None, description="企业微信 接收消息 EncodingAESKey(43 位)")
    wecom_api_base: str = Field("https://qyapi.weixin.qq.com", description="企业微信 API 地址")

    holidays_file: Path | None = Field(None, description="额外的节假日/调休上班日文件,优先于内置日历")
    stall_initial_days: int = Field(5, ge=1, le=120, description="意向初探 停留上限(工作日)")
    stall_qualified_days: int = Field(5, ge=1, le=120, description="需求确认 停留上限(工作日)")
    stall_demo_days: int = Field(5, ge=1, le=120, description="方案演示 停留上限(工作日)")
    stall_negotiation_days: int = Field(7, ge=1, le=120, description="报价谈判 停留上限(工作日)")
    stall_supervisor_after: int = Field(2, ge=1, le=60, description="超限后再过几个工作日告知主管")
    stall_high_risk_after: int = Field(5, ge=1, le=60, description="超限后再过几个工作日标为高风险")
    scan_time: str = Field("10:00", pattern=r"^\d{2}:\d{2}$", description="每个工作日检查停滞客户的时间")

    @field_validator("holidays_file")
    @classmethod
    def _holidays_readable(cls, value: Path | None) -> Path | None:
        if value is not None:
            if not value.is_file():
                raise ValueError(f"no such file: {value}")
            read_overrides(value)  # a bad line stops start-up here, with its line number
        return value

    commission_bands: list[tuple[Decimal, Decimal]] = Field(
        default_factory=lambda: [(b.floor, b.rate) for b in DEFAULT_BANDS],
        description="提成档位:[毛利率下限, 提成比例],按毛利率从低到高",
    )
    commission_default_margin: Decimal = Field(Decimal("0.25"), ge=-1, le=1, description="成交没有毛利率时按此计")
    commission_big_deal_amount: Decimal | None = Field(
        Decimal("1000000"), ge=0, description="大客户奖:单笔不低于此金额"
    )
    commission_big_deal_bonus: Decimal = Field(Decimal("5000"), ge=0, description="大客户奖:每单奖励(元)")
    commission_fast_payment_days: int | None = Field(30, ge=0, le=365, description="回款奖:签约后几天内回款")
    commission_fast_payment_rate: Decimal = Field(Decimal("0.005"), ge=0, le=1, description="回款奖:合同额的比例")

    @model_validator(mode="after")
    def _commission_valid(self) -> Settings:
        try:
            self.commission_rules()
        except ValueError as exc:
            raise ValueError(f"commission_bands {exc}") from exc
        return self

    def inbox_poll(self) -> float:
        """How often an idle worker looks at the inbox. In one process a stored callback wakes it at once, and on
        PostgreSQL so does any process's NOTIFY; a worker of its own on SQLite, or behind a pooler that drops
        notifications, learns of new messages only by looking, so a worker looks more often."""
        if self.inbox_poll_seconds is not None:
            return self.inbox_poll_seconds
        return 0.2 if self.role == "worker" else 1.0

    def commission_rules(self) -> CommissionRules:
        return CommissionRules(
            bands=tuple(Band(floor, rate) for floor, rate in self.commission_bands),
            default_margin=self.commission_default_margin,
            big_deal_amount=self.commission_big_deal_amount,
            big_deal_bonus=self.commission_big_deal_bonus,
            fast_payment_days=self.commission_fast_payment_days,
            fast_payment_rate=self.commission_fast_payment_rate,
        )

    points_brief: int = Field(_POINTS.brief, ge=0, le=1000, description="积分:工作日截止前发简报(每天一次)")
    points_brief_deadline: str = Field(_POINTS.brief_deadline.strftime("%H:%M"), pattern=r"^\d{2}:\d{2}$",
                                       description="积分:简报截止时间")  # fmt: skip
    points_advance: int = Field(_POINTS.advance, ge=0, le=1000, description="积分:客户推进一个阶段")
    points_won: int = Field(_POINTS.won, ge=0, le=10000, description="积分:成交一单")
    points_standup: int = Field(_POINTS.standup, ge=0, le=1000, description="积分:站会时间内回答")
    points_reminder_cleared: int = Field(_POINTS.reminder_cleared, ge=0, le=1000,
                                         description="积分:停滞提醒后一天内跟进")  # fmt: skip
    points_forecast: int = Field(_POINTS.forecast, ge=0, le=10000, description="积分:近三个月预测误差在范围内")
    points_forecast_tolerance: float = Field(_POINTS.forecast_tolerance, gt=0, le=1, description="积分:预测误差范围")
    points_rewards: list[tuple[str, int]] = Field(
        default_factory=lambda: [(r.name, r.points) for r in DEFAULT_REWARDS],
        description="可兑换的奖励:[名称, 所需积分]",
    )

    @field_validator("points_rewards")
    @classmethod
    def _rewards(cls, value: list[tuple[str, int]]) -> list[tuple[str, int]]:
        names = [n.strip() for n, _ in value]
        if any(not n for n in names) or len(set(names)) != len(names):
            raise ValueError("reward names must be non-empty and distinct")
        if any(p <= 0 for _, p in value):
            raise ValueError("a reward costs at least 1 point")
        return value

    def points_rules(self) -> PointsRules:
        hour, minute = (int(x) for x in self.points_brief_deadline.split(":"))
        return PointsRules(
            brief=self.points_brief, brief_deadline=time(hour, minute), advance=self.points_advance,
            won=self.points_won, standup=self.points_standup, reminder_cleared=self.points_reminder_cleared,
            forecast=self.points_forecast, forecast_tolerance=self.points_forecast_tolerance,
        )  # fmt: skip

    def rewards(self) -> tuple[Reward, ...]:
        return tuple(Reward(name.strip(), points) for name, points in self.points_rewards)

    embedding_backend: Literal["tfidf", "sentence-transformers"] = Field("tfidf", description="相似客户的文本向量")
    embedding_model_path: Path | None = Field(None, description="sentence-transformers 模型所在的本地目录")
    index_cache: str = Field(
        "auto", description="客户索引的缓存目录(5,000 个客户以上才用):auto=用户缓存目录 ~/.cache/genjin,off=不缓存"
    )

    dingtalk_app_key: str | None = Field(None, description="钉钉 应用 AppKey / Client ID(设置后启用钉钉)")
    dingtalk_app_secret: str | None = Field(None, description="钉钉 应用 AppSecret / Client Secret")
    dingtalk_robot_code: str | None = Field(None, description="钉钉 机器人 robotCode(一般等于 AppKey)")
    dingtalk_mode: Literal["stream", "http"] = Field("stream", description="钉钉 接收消息的方式")
    dingtalk_api_base: str = Field("https://api.dingtalk.com", description="钉钉 新版 API 地址")
    dingtalk_oapi_base: str = Field("https://oapi.dingtalk.com", description="钉钉 旧版 API 地址")
    dingtalk_watchdog_seconds: float = Field(180.0, ge=1, description="钉钉 Stream 连接多久没有任何帧就重连")

    @model_validator(mode="after")
    def _dingtalk_complete(self) -> Settings:
        if self.dingtalk_app_key and not self.dingtalk_app_secret:
            raise ValueError("dingtalk_app_secret is required when dingtalk_app_key is set")
        return self

    @property
    def dingtalk_enabled(self) -> bool:
        return bool(self.dingtalk_app_key)

    @model_validator(mode="after")
    def _wecom_complete(self) -> Settings:
        """With the corp id set, WeCom needs every other key; say which one is missing."""
        if self.wecom_corp_id:
            for key in ("wecom_agent_id", "wecom_secret", "wecom_token", "wecom_aes_key"):
                if not getattr(self, key):
                    raise ValueError(f"{key} is required when wecom_corp_id is set")
            if len(self.wecom_aes_key or "") != 43:
                raise ValueError("wecom_aes_key must be the 43-character EncodingAESKey")
        return self

    @property
    def wecom_enabled(self) -> bool:
        return bool(self.wecom_corp_id)

    feishu_app_id: str | None = Field(None, description="飞书 应用 App ID(设置后启用飞书)")
    feishu_app_secret: str | None = Field(None, description="飞书 应用 App Secret")
    feishu_mode: Literal["ws", "http"] = Field("ws", description="飞书 接收事件的方式:长连接 ws 或回调 http")
    feishu_verification_token: str | None = Field(None, description="飞书 事件订阅 Verification Token(http 方式)")
    feishu_encrypt_key: str | None = Field(None, description="飞书 事件订阅 Encrypt Key(http 方式,建议设置)")
    feishu_api_base: str = Field("https://open.feishu.cn", description="飞书 开放平台地址(Lark 用 open.larksuite.com)")

    @model_validator(mode="after")
    def _feishu_complete(self) -> Settings:
        if self.feishu_app_id and not self.feishu_app_secret:
            raise ValueError("feishu_app_secret is required when feishu_app_id is set")
        if (
            self.feishu_app_id
            and self.feishu_mode == "http"
            and not (self.feishu_encrypt_key or self.feishu_verification_token)
        ):
            raise ValueError("feishu_encrypt_key or feishu_verification_token is required in http mode")
        return self

    @property
    def feishu_enabled(self) -> bool:
        return bool(self.feishu_app_id)

    pool_initial_days: int = Field(
        20, ge=0, le=365, description="公海:意向初探的客户多少个工作日没有简报就回到公海(0 不回)"
    )
    pool_qualified_days: int = Field(
        30, ge=0, le=365, description="公海:需求确认的客户多少个工作日没有简报就回到公海(0 不回)"
    )
    pool_demo_days: int = Field(
        30, ge=0, le=365, description="公海:方案演示的客户多少个工作日没有简报就回到公海(0 不回)"
    )
    pool_claims_per_day: int = Field(5, ge=1, le=1000, description="公海:每个销售每天最多领取几个客户")

    def pool_rules(self) -> PoolRules:
        days = {Stage.INITIAL: self.pool_initial_days, Stage.QUALIFIED: self.pool_qualified_days,
                Stage.DEMO: self.pool_demo_days}  # fmt: skip
        return PoolRules(days=days, claims_per_day=self.pool_claims_per_day)

    quote_company: str = Field("本公司", max_length=100, description="报价单抬头的公司名称")
    quote_terms: str = Field(
        "本报价含税(税率见明细),交货期以合同为准。", max_length=1000, description="报价单末尾的说明条款"
    )
    quote_logo: str | None = Field(None, description="报价单 PDF 左上角的 logo(PNG 或 JPEG 文件路径)")
    quote_font: str | None = Field(
        None, description="报价单 PDF 用的中文 TrueType 字体(.ttf/.ttc);不设就找系统里的文泉驿等字体"
    )
    quote_valid_days: int = Field(30, ge=1, le=365, description="报价请求没写有效期时,报价有效多少天")
    quote_admin_discount: float = Field(0.25, gt=0, lt=1, description="整单优惠超过这个比例时,主管批准后还要管理员批准")

    def quote_rules(self) -> QuoteRules:
        return QuoteRules(company=self.quote_company, terms=self.quote_terms, valid_days=self.quote_valid_days,
                          admin_rate=Decimal(str(self.quote_admin_discount)), logo=self.quote_logo,
                          font=self.quote_font)  # fmt: skip

    events_token: str | None = Field(
        None, min_length=16, description="网站推送线索行为(POST /api/events)用的 token,至少 16 位;不设则不开放"
    )
    leads_weight_page_view: float = Field(
        1.0, ge=0, le=100, description="线索评分:页面浏览每分钟的分(每次最多算 10 分钟)"
    )
    leads_weight_download: float = Field(8.0, ge=0, le=100, description="线索评分:下载资料一次的分")
    leads_weight_form: float = Field(15.0, ge=0, le=100, description="线索评分:提交表单一次的分")
    leads_weight_webinar: float = Field(12.0, ge=0, le=100, description="线索评分:参加直播一次的分")
    leads_weight_email_open: float = Field(1.0, ge=0, le=100, description="线索评分:打开邮件一次的分")
    leads_half_life_days: float = Field(14.0, gt=0, le=365, description="线索评分:行为的分过多少天减半")
    leads_top_band: float = Field(60.0, ge=0, le=100, description="线索评分不低于此分的线索分给资深销售")
    leads_rep_cap: int = Field(200, ge=1, le=100_000, description="销售在跟的客户到这么多个就不再分新线索")
    leads_response_hours: float = Field(
        4.0, gt=0, le=200, description="新线索分配后多少个工作小时(工作日 9:00–18:00)没跟进就提醒本人,两倍时告知主管"
    )

    def lead_rules(self) -> LeadRules:
        weights = {
            EventKind.PAGE_VIEW: self.leads_weight_page_view, EventKind.DOWNLOAD: self.leads_weight_download,
            EventKind.FORM: self.leads_weight_form, EventKind.WEBINAR: self.leads_weight_webinar,
            EventKind.EMAIL_OPEN: self.leads_weight_email_open,
        }  # fmt: skip
        rules = ScoreRules(weights=weights, half_life_days=self.leads_half_life_days, top_band=self.leads_top_band)
        return LeadRules(score=rules, cap=self.leads_rep_cap, response_hours=self.leads_response_hours)

    web_enabled: bool = Field(True, description="看板网页(随 serve 一起提供,路径 /web/)")
    web_base_url: str | None = Field(
        None,
        pattern=r"^https?://[^\s/]+(/[^\s]*)?$",
        description="看板的对外地址(例如 https://genjin.example.com),聊天里发的登录链接以它开头;默认 http://host:port",
    )
    web_link_minutes: int = Field(10, ge=1, le=60, description="看板登录链接的有效分钟数(只能用一次)")
    web_session_hours: float = Field(12.0, gt=0, le=24 * 30, description="看板登录后多少小时内有效")
    web_frame_ancestors: list[str] = Field(
        default_factory=list,
        description="允许把看板嵌进框架的网站(例如钉钉工作台);空表示不许嵌入(X-Frame-Options: DENY)",
    )
    web_link_attempts: int = Field(20, ge=1, le=1000, description="同一地址每 5 分钟最多登录失败几次(超过先等一等)")
    web_behind_proxy: bool = Field(
        False, description="看板在反向代理后面:按代理加在 X-Forwarded-For 里的最后一个地址算来访者(限速用)"
    )

    def web_url(self) -> str:
        """Where the dashboard is reached from outside: the setting, else this server's own address."""
        if self.web_base_url:
            return self.web_base_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_url(cls, value: str) -> str:
        async_url(value)  # raises ValueError naming what is wrong
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        upper = value.upper()
        if upper not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("one of DEBUG, INFO, WARNING, ERROR")
        return upper

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The TOML table arrives through init_settings (see load_settings), below the environment.
        return env_settings, init_settings


def config_path(explicit: str | None = None) -> Path | None:
    """``--config``, else ``GENJIN_CONFIG``, else ``./genjin.toml`` when it exists."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("GENJIN_CONFIG")
    if env:
        return Path(env)
    return DEFAULT_CONFIG if DEFAULT_CONFIG.exists() else None


def load_settings(explicit: str | None = None, **overrides: Any) -> Settings:
    """Read and check the settings; raise ConfigError with one line naming the key."""
    path = config_path(explicit)
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = _flatten(tomllib.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError as exc:
            raise ConfigError(f"配置文件不存在: {path}") from exc
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"配置文件 {path} 格式错误: {exc}") from exc
    data.update(overrides)
    try:
        return Settings(**data)
    except ValidationError as exc:
        raise ConfigError(_one_line(exc, path)) from exc


def _one_line(exc: ValidationError, path: Path | None) -> str:
    first = exc.errors()[0]
    key = str(first["loc"][0]) if first["loc"] else "?"
    if not first["loc"]:  # a rule across keys names its key in the message
        message = first["msg"].removeprefix("Value error, ")
        named = message.split(" ")[0]
        return f"配置错误: {named}(环境变量 {ENV_PREFIX}{named.upper()}): {message}"
    where = f"{key}(环境变量 {ENV_PREFIX}{key.upper()},或 {path or 'genjin.toml'} 里的 {key})"
    if first["type"] == "extra_forbidden":
        return f"配置错误: 未知配置项 {key} ({path or 'genjin.toml'})"
    value = first.get("input")
    message = first["msg"].removeprefix("Value error, ")
    return f"配置错误: {where} = {value!r}: {message}"


TEMPLATE = """\
# Genjin 配置文件。每一项也可以用环境变量覆盖,例如 port 对应 GENJIN_PORT,
# [wecom] 表里的 corp_id 对应 GENJIN_WECOM_CORP_ID。环境变量优先于本文件。

# 数据库地址。默认内嵌 SQLite;生产环境用 PostgreSQL:
#   postgresql://用户:密码@主机:5432/数据库
database_url = "sqlite:///genjin.db"

# 时区,用于日期理解、提醒和工作日计算。
timezone = "Asia/Shanghai"

# `genjin serve` 监听的地址和端口(各平台的 HTTP 回调指向这里)。
host = "127.0.0.1"
port = 8080

# 日志级别: DEBUG, INFO, WARNING, ERROR
log_level = "INFO"

# 陌生发送人是否自动登记为销售(只建议试用时打开)。
auto_register = false

# 停滞提醒:每个阶段最多停留几个工作日;超限提醒负责人,再过 supervisor_after 个工作日告知主管,
# 再过 high_risk_after 个工作日标为高风险。
# [stall]
# initial_days = 5
# qualified_days = 5
# demo_days = 5
# negotiation_days = 7
# supervisor_after = 2
# high_risk_after = 5

# 额外的节假日和调休上班日(内置日历没有数据的年份要靠它),每行一个日期,例如:
#   2027-01-01 休
#   2027-02-07 上班
# holidays_file = "holidays.txt"

# 提成:按每笔成交的毛利率分档计提,另有大客户奖和回款奖。金额单位元,比例写小数(0.03 = 3%)。
# [commission]
# bands = [[0, 0.02], [0.20, 0.03], [0.30, 0.04], [0.40, 0.05]]   # [毛利率下限, 提成比例]
# default_margin = 0.25          # 成交没有毛利率时按此计
# big_deal_amount = 1000000      # 大客户奖:单笔不低于此金额……
# big_deal_bonus = 5000          # ……每单奖励
# fast_payment_days = 30         # 回款奖:签约后这么多天内回款……
# fast_payment_rate = 0.005      # ……奖励合同额的这个比例

# 积分:每件事只记一次。奖励目录里的东西发「兑换 名称」申请,主管批准后扣分。
# [points]
# brief = 2                      # 工作日截止前发简报(每天一次)
# brief_deadline = "20:00"
# advance = 3                    # 客户推进一个阶段(每个客户每个阶段一次)
# won = 10                       # 成交一单
# standup = 1                    # 站会时间内回答
# reminder_cleared = 2           # 停滞提醒后一天内发了这个客户的简报
# forecast = 10                  # 近三个月的月初预测合计与实际成交相差不超过 forecast_tolerance
# forecast_tolerance = 0.10
# rewards = [["咖啡券", 30], ["京东卡 100 元", 200], ["额外半天假", 500]]

# 企业微信自建应用。填了 corp_id 就会启用,其余几项都要填。
# 回调地址:http(s)://你的域名/wecom/callback
# [wecom]
# corp_id = "ww..."            # 我的企业 → 企业ID
# agent_id = 1000002           # 应用管理 → 自建应用 → AgentId
# secret = "..."               # 同上 → Secret
# token = "..."                # 应用 → 接收消息 → API 接收 → Token
# aes_key = "..."              # 同上 → EncodingAESKey(43 位)
# api_base = "https://qyapi.weixin.qq.com"

# 钉钉企业内部应用的机器人。填了 app_key 就会启用。
# [dingtalk]
# app_key = "ding..."          # 应用 → 凭证与基础信息 → Client ID (AppKey)
# app_secret = "..."           # 同上 → Client Secret (AppSecret)
# robot_code = "ding..."       # 机器人 → robotCode,一般与 AppKey 相同
# mode = "stream"              # stream:长连接,无需公网地址;http:回调地址 /dingtalk/callback

# 飞书企业自建应用(开启机器人能力)。填了 app_id 就会启用。
# [feishu]
# app_id = "cli_..."           # 凭证与基础信息 → App ID
# app_secret = "..."           # 同上 → App Secret
# mode = "ws"                  # ws:长连接,无需公网地址;http:请求地址 /feishu/callback
# verification_token = "..."   # 事件与回调 → 加密策略 → Verification Token(http 方式)
# encrypt_key = "..."          # 同上 → Encrypt Key(http 方式,建议设置)
"""
