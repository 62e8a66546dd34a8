"""Does production refuse to start with a development secret, the emulator or no AppID?"""
import pytest

from app import SettingsError, create_app
from config import DEV_SECRETS, ProductionConfig

GOOD = {
    "SECRET_KEY": "s" * 40, "OWNER_KEY_SECRET": "o" * 40, "AUDIT_KEY": "a" * 40,
    "WECHAT_APPID": "wx1234567890abcdef", "WECHAT_SECRET": "real-secret",
    "WECHAT_API_BASE": "https://api.weixin.qq.com", "SQLALCHEMY_DATABASE_URI": "sqlite://",
}


def production(**overrides):
    return type("Prod", (ProductionConfig,), {**GOOD, **overrides})


def test_a_well_set_production_starts():
    app = create_app(production())
    assert app.config["AUDIT_KEY"] == "a" * 40


@pytest.mark.parametrize("name", sorted(DEV_SECRETS))
def test_a_development_key_is_refused(name):
    with pytest.raises(SettingsError) as refused:
        create_app(production(**{name: DEV_SECRETS[name]}))
    assert f"{name} 未设置或仍为开发用的值" in str(refused.value)


@pytest.mark.parametrize("name", sorted(DEV_SECRETS))
def test_a_missing_or_short_key_is_refused(name):
    with pytest.raises(SettingsError, match=name):
        create_app(production(**{name: None}))
    with pytest.raises(SettingsError, match=f"{name} 太短"):
        create_app(production(**{name: "short"}))


@pytest.mark.parametrize("overrides, words", [
    ({"WECHAT_APPID": "wxdev0000000000000"}, "WECHAT_APPID 未设置"),
    ({"WECHAT_APPID": None}, "WECHAT_APPID 未设置"),
    ({"WECHAT_SECRET": "dev-app-secret"}, "WECHAT_SECRET 未设置"),
    ({"WECHAT_API_BASE": "http://127.0.0.1:8090"}, "WECHAT_API_BASE 应为微信的 https 地址"),
    ({"SQLALCHEMY_DATABASE_URI": None}, "DATABASE_URL 未设置"),
])
def test_the_emulator_or_a_missing_setting_is_refused(overrides, words):
    with pytest.raises(SettingsError, match=words):
        create_app(production(**overrides))


def test_development_runs_with_its_own_keys():
    """The development defaults are what production refuses, and development accepts them."""
    app = create_app("development")
    assert all(app.config[name] == value for name, value in DEV_SECRETS.items())
