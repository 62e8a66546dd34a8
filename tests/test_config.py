"""Does production refuse to start with a development secret, the emulator or no AppID?"""
import pytest

from app import SettingsError, create_app
from config import DEV_SECRETS, Config, ProductionConfig

# Every subscribe-message template with a real (non-development) WeChat template id.
REAL_TEMPLATES = {name: {**spec, "id": f"real-{name}-tmpl-id"} for name, spec in Config.SUBSCRIBE_TEMPLATES.items()}
GOOD = {
    "SECRET_KEY": "s" * 40, "OWNER_KEY_SECRET": "o" * 40, "AUDIT_KEY": "a" * 40,
    "WECHAT_APPID": "wx1234567890abcdef", "WECHAT_SECRET": "real-secret",
    "WECHAT_API_BASE": "https://api.weixin.qq.com", "SQLALCHEMY_DATABASE_URI": "sqlite://",
    "SUBSCRIBE_TEMPLATES": REAL_TEMPLATES,
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


@pytest.mark.parametrize("name", sorted(Config.SUBSCRIBE_TEMPLATES))
def test_a_development_template_id_is_refused(name):
    """A subscribe template still on its TPL-dev-... id (or with none) keeps production from starting,
    naming the WECHAT_TPL_<NAME> setting to fill in."""
    for dev_id in (Config.SUBSCRIBE_TEMPLATES[name]["id"], "", None):
        templates = {**REAL_TEMPLATES, name: {**REAL_TEMPLATES[name], "id": dev_id}}
        with pytest.raises(SettingsError) as refused:
            create_app(production(SUBSCRIBE_TEMPLATES=templates))
        assert f"WECHAT_TPL_{name.upper()} 未设置" in str(refused.value)
        others = [p for p in ProductionConfig.problems({**GOOD, "SUBSCRIBE_TEMPLATES": templates})]
        assert len(others) == 1  # only that template is named


def test_development_ids_are_what_the_defaults_hold():
    """Without WECHAT_TPL_* in the environment every template is on a development id: all refused."""
    problems = ProductionConfig.problems({**GOOD, "SUBSCRIBE_TEMPLATES": Config.SUBSCRIBE_TEMPLATES})
    assert all(Config.SUBSCRIBE_TEMPLATES[n]["id"].startswith("TPL-dev-") for n in Config.SUBSCRIBE_TEMPLATES)
    assert sorted(p.split(" ")[0] for p in problems) == sorted(f"WECHAT_TPL_{n.upper()}" for n in Config.SUBSCRIBE_TEMPLATES)


def test_development_runs_with_its_own_keys():
    """The development defaults are what production refuses, and development accepts them."""
    app = create_app("development")
    assert all(app.config[name] == value for name, value in DEV_SECRETS.items())
