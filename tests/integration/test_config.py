from pathlib import Path

import pytest

from bot.config import TEMPLATE, ConfigError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in list(__import__("os").environ):
        if key.startswith("GENJIN_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


def test_defaults() -> None:
    s = load_settings()
    assert (s.database_url, s.timezone, s.host, s.port) == ("sqlite:///genjin.db", "Asia/Shanghai", "127.0.0.1", 8080)


def test_toml_then_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "custom.toml"
    path.write_text('port = 9000\nhost = "0.0.0.0"\n', encoding="utf-8")
    assert load_settings(str(path)).port == 9000
    monkeypatch.setenv("GENJIN_PORT", "9100")
    s = load_settings(str(path))
    assert (s.port, s.host) == (9100, "0.0.0.0")


def test_config_path_from_env_and_default_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "genjin.toml").write_text('timezone = "Asia/Urumqi"\n', encoding="utf-8")
    assert load_settings().timezone == "Asia/Urumqi"
    other = tmp_path / "other.toml"
    other.write_text('timezone = "Asia/Hong_Kong"\n', encoding="utf-8")
    monkeypatch.setenv("GENJIN_CONFIG", str(other))
    assert load_settings().timezone == "Asia/Hong_Kong"


def test_tables_flatten_to_prefixed_keys(tmp_path: Path) -> None:
    path = tmp_path / "g.toml"
    path.write_text('[database]\nurl = "sqlite:///x.db"\n', encoding="utf-8")
    assert load_settings(str(path)).database_url == "sqlite:///x.db"


@pytest.mark.parametrize(
    ("env", "value", "needle"),
    [
        ("GENJIN_PORT", "abc", "GENJIN_PORT"),
        ("GENJIN_PORT", "70000", "GENJIN_PORT"),
        ("GENJIN_TIMEZONE", "Mars/Olympus", "GENJIN_TIMEZONE"),
        ("GENJIN_DATABASE_URL", "mysql://x/y", "GENJIN_DATABASE_URL"),
        ("GENJIN_AUTO_REGISTER", "maybe", "GENJIN_AUTO_REGISTER"),
    ],
)
def test_bad_value_is_one_line_naming_the_key(
    monkeypatch: pytest.MonkeyPatch, env: str, value: str, needle: str
) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError) as err:
        load_settings()
    message = str(err.value)
    assert needle in message and "\n" not in message


def test_unknown_key_and_broken_file(tmp_path: Path) -> None:
    path = tmp_path / "g.toml"
    path.write_text("prot = 80\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="prot"):
        load_settings(str(path))
    path.write_text("port = \n", encoding="utf-8")
    with pytest.raises(ConfigError, match="格式错误"):
        load_settings(str(path))
    with pytest.raises(ConfigError, match="不存在"):
        load_settings(str(tmp_path / "missing.toml"))


def test_template_loads_as_is(tmp_path: Path) -> None:
    path = tmp_path / "genjin.toml"
    path.write_text(TEMPLATE, encoding="utf-8")
    assert load_settings(str(path)).port == 8080


def test_cli_init_and_bad_value(genjin) -> None:  # type: ignore[no-untyped-def]
    result = genjin("init")
    assert result.returncode == 0 and (genjin.cwd / "genjin.toml").exists()
    assert genjin("init").returncode == 1  # never overwrites silently
    result = genjin("db", "upgrade", extra_env={"GENJIN_PORT": "eighty"})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "GENJIN_PORT" in lines[0] and "Traceback" not in result.stderr


def test_wecom_settings_must_be_complete(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENJIN_WECOM_CORP_ID", "ww1436e0e65a779aee")
    with pytest.raises(ConfigError, match="wecom_agent_id"):
        load_settings()
    for key, value in {"AGENT_ID": "1000002", "SECRET": "s", "TOKEN": "t", "AES_KEY": "short"}.items():
        monkeypatch.setenv(f"GENJIN_WECOM_{key}", value)
    with pytest.raises(ConfigError, match="43"):
        load_settings()
    monkeypatch.setenv("GENJIN_WECOM_AES_KEY", "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt")
    settings = load_settings()
    assert settings.wecom_enabled and settings.wecom_api_base == "https://qyapi.weixin.qq.com"


def test_wecom_table_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "g.toml"
    path.write_text(
        '[wecom]\ncorp_id = "ww1"\nagent_id = 7\nsecret = "s"\ntoken = "t"\n'
        'aes_key = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"\napi_base = "http://127.0.0.1:9"\n',
        encoding="utf-8",
    )
    settings = load_settings(str(path))
    assert (settings.wecom_corp_id, settings.wecom_agent_id, settings.wecom_api_base) == (
        "ww1",
        7,
        "http://127.0.0.1:9",
    )


def test_dingtalk_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENJIN_DINGTALK_APP_KEY", "dingkey")
    with pytest.raises(ConfigError, match="dingtalk_app_secret"):
        load_settings()
    monkeypatch.setenv("GENJIN_DINGTALK_APP_SECRET", "secret")
    monkeypatch.setenv("GENJIN_DINGTALK_MODE", "websocket")
    with pytest.raises(ConfigError, match="GENJIN_DINGTALK_MODE"):
        load_settings()
    monkeypatch.setenv("GENJIN_DINGTALK_MODE", "http")
    settings = load_settings()
    assert settings.dingtalk_enabled and settings.dingtalk_api_base == "https://api.dingtalk.com"
    assert settings.dingtalk_oapi_base == "https://oapi.dingtalk.com"
