"""Is there one access token for the whole deployment, fetched from stable_token and shared?"""
import logging
import time
from datetime import datetime, timedelta, timezone

import pytest
import redis
from sqlalchemy import text

from app.extensions import db as _db
from app.models import District, WechatToken
from app.wechat.client import RedisTokenStore, WeChat, WeChatError, get_wechat
from config import TestingConfig

APPID, SECRET = TestingConfig.WECHAT_APPID, TestingConfig.WECHAT_SECRET


def _stable(raw, force=False, secret=SECRET, appid=APPID):
    return raw.post("/cgi-bin/stable_token", {"grant_type": "client_credential", "appid": appid,
                                              "secret": secret, "force_refresh": force}).json()


def _works(raw, token):
    """The errcode of a call made with `token` (0 when the token is good)."""
    body = {"content": "你好", "version": 2, "scene": 2, "openid": "o-test"}
    return raw.post("/wxa/msg_sec_check", body, access_token=token).json()["errcode"]


def test_stable_token_is_reused_until_forced(raw):
    """Is stable_token the same token while valid, and a new one on force_refresh that cancels the old?"""
    first, again = _stable(raw), _stable(raw)
    assert first["access_token"] == again["access_token"]
    assert first["expires_in"] == 7200 and 7190 <= again["expires_in"] <= 7200
    forced = _stable(raw, force=True)
    assert forced["access_token"] != first["access_token"]
    assert _works(raw, first["access_token"]) == 40001
    assert _works(raw, forced["access_token"]) == 0


def test_stable_token_renews_in_its_last_five_minutes(raw, emu):
    """With under five minutes left, does stable_token hand out a new token?"""
    first = _stable(raw)["access_token"]
    emu.state.advance(7200 - 200)
    renewed = _stable(raw)
    assert renewed["access_token"] != first and renewed["expires_in"] == 7200
    assert _works(raw, first) == 0  # the old one lives out its last minutes
    emu.state.advance(201)
    assert _works(raw, first) == 42001


def test_plain_token_cancels_the_previous_one(raw, emu):
    """Does each cgi-bin/token cancel the last (after WeChat's 5-minute overlap), leaving stable_token be?"""
    stable = _stable(raw)["access_token"]
    a = raw.get("/cgi-bin/token", grant_type="client_credential", appid=APPID, secret=SECRET)
    b = raw.get("/cgi-bin/token", grant_type="client_credential", appid=APPID, secret=SECRET)
    assert a["access_token"] != b["access_token"] and b["expires_in"] == 7200
    assert _works(raw, a["access_token"]) == 0
    emu.state.advance(301)
    assert _works(raw, a["access_token"]) == 40001
    assert _works(raw, b["access_token"]) == 0
    assert _works(raw, stable) == 0


def test_token_errors_are_wechats(raw, emu):
    """Are wrong appid, wrong secret, missing, unknown and expired token 40013, 40125, 41001, 40001, 42001?"""
    assert _stable(raw, appid="wxnotours")["errcode"] == 40013
    assert _stable(raw, secret="wrong")["errcode"] == 40125
    assert raw.get("/cgi-bin/token", grant_type="client_credential", appid=APPID, secret="wrong")["errcode"] == 40125
    assert _works(raw, "") == 41001
    assert _works(raw, "made-up") == 40001
    token = _stable(raw)["access_token"]
    emu.state.advance(7201)
    assert _works(raw, token) == 42001


def test_two_processes_share_one_token_through_the_table(app, db, emu):
    """Do two clients (as two processes would) fetch the token once and both use it from the table?"""
    first, second = get_wechat(), get_wechat()
    first.msg_sec_check("o-test", "你好")
    second.msg_sec_check("o-test", "你好")
    assert emu.state.stats()["stable_token"] == 1
    row = db.session.get(WechatToken, APPID)
    assert row.token == emu.state.stable_token
    assert row.expires_at > datetime.now(timezone.utc).replace(tzinfo=None) + timedelta(seconds=7000)


def test_hand_built_clients_with_own_memory_still_agree(emulator, emu):
    """Without a shared store, do two clients each fetch yet get the same stable token (nothing cancelled)?"""
    a, b = WeChat(APPID, SECRET, emulator), WeChat(APPID, SECRET, emulator)
    a.msg_sec_check("o-test", "你好")
    b.msg_sec_check("o-test", "你好")
    a.msg_sec_check("o-test", "你好")
    stats = emu.state.stats()
    assert stats["stable_token"] == 2 and stats["stable_token_issued"] == 1 and stats["token"] == 0


def test_token_is_refreshed_with_under_five_minutes_left(app, db, emu):
    """With under five minutes left in the table, is a fresh token fetched before the call?"""
    wechat = get_wechat()
    wechat.msg_sec_check("o-test", "你好")
    soon = datetime.now(timezone.utc).replace(tzinfo=None) + timedelta(seconds=200)
    with _db.engine.begin() as conn:
        conn.execute(WechatToken.__table__.update().values(expires_at=soon))
    get_wechat().msg_sec_check("o-test", "你好")
    assert emu.state.stats()["stable_token"] == 2
    db.session.expire_all()
    assert db.session.get(WechatToken, APPID).expires_at > soon + timedelta(seconds=6000)


def test_a_token_cancelled_elsewhere_is_replaced_once(raw, app, db, emu):
    """When WeChat says the stored token is cancelled (40001) or expired (42001), does one refetch save the call?"""
    wechat = get_wechat()
    wechat.msg_sec_check("o-test", "你好")
    _stable(raw, force=True)  # someone answering a leak
    assert wechat.msg_sec_check("o-test", "你好")["suggest"] == "pass"
    assert db.session.get(WechatToken, APPID).token == emu.state.stable_token
    emu.state.advance(7201)  # WeChat's clock says it has expired; ours does not know
    assert wechat.msg_sec_check("o-test", "你好")["suggest"] == "pass"
    assert emu.state.stats()["stable_token"] == 4  # the client's three and the forced one


def test_a_pending_write_in_the_request_does_not_stall_the_token(app, db, emu):
    """With the request's own write pending (SQLite locks the file), is the token still fetched and used quickly?"""
    db.session.add(District(name="测试区"))
    db.session.flush()
    started = time.monotonic()
    assert get_wechat().msg_sec_check("o-test", "你好")["suggest"] == "pass"
    assert time.monotonic() - started < 2
    db.session.rollback()


def test_wrong_secret_is_40125_and_never_shown(app, db):
    """Is a wrong AppSecret a WeChatError 40125 that does not contain the secret?"""
    wechat = WeChat(APPID, "a-wrong-secret-value", app.config["WECHAT_API_BASE"])
    with pytest.raises(WeChatError) as err:
        wechat.msg_sec_check("o-test", "你好")
    assert err.value.errcode == 40125
    assert "a-wrong-secret-value" not in str(err.value) and err.value.__cause__ is None


def test_unreachable_wechat_is_an_error_without_secrets(app):
    """When WeChat cannot be reached, is it WeChatError -1 naming no URL, secret or code?"""
    wechat = WeChat(APPID, SECRET, "http://127.0.0.1:9", timeout=2)
    with pytest.raises(WeChatError) as err:
        wechat.code_to_session("dev-zhang")
    assert err.value.errcode == WeChatError.NETWORK == -1
    assert SECRET not in str(err.value) and "dev-zhang" not in str(err.value) and "127.0.0.1" not in str(err.value)


def test_logs_hold_no_secret_token_or_session_key(wechat, emu, caplog, monkeypatch):
    """With every logger at DEBUG, do the logs of a login and an API call hold no secret, token, code or session_key?"""
    for name in ("urllib3.connectionpool", "wechatpy.client.base", "app.wechat.client"):
        monkeypatch.setattr(logging.getLogger(name), "disabled", False)  # alembic's fileConfig turns them off
    caplog.set_level(logging.DEBUG)
    session = wechat.code_to_session("dev-zhang.log")
    wechat.msg_sec_check(session["openid"], "你好")
    assert "jscode2session" in caplog.text and "msg_sec_check" in caplog.text  # the requests were logged
    for secret in (SECRET, emu.state.stable_token, session["session_key"], "dev-zhang.log"):
        assert secret not in caplog.text


def _redis_or_skip():
    client = redis.Redis.from_url("redis://127.0.0.1:6379/15")
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    return client


def test_with_redis_the_token_is_shared_there(app, db, emu):
    """With REDIS_URL set, do two clients share one token in Redis under wechatpy's key, with a TTL?"""
    client = _redis_or_skip()
    key = f"wechatpy:{APPID}_access_token"
    client.delete(key)
    app.config["REDIS_URL"] = "redis://127.0.0.1:6379/15"
    app.extensions.pop("wechat_redis", None)
    try:
        first, second = get_wechat(), get_wechat()
        assert isinstance(first._client.session, RedisTokenStore)
        first.msg_sec_check("o-test", "你好")
        second.msg_sec_check("o-test", "你好")
        assert emu.state.stats()["stable_token"] == 1
        assert client.get(key).decode().strip('"') == emu.state.stable_token
        assert 7000 < client.ttl(key) <= 7200
        with _db.engine.connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM wechat_token")).scalar() == 0
    finally:
        app.config["REDIS_URL"] = None
        app.extensions.pop("wechat_redis", None)
        client.delete(key)


def test_with_redis_down_calls_still_go_through(app, db, emu):
    """With REDIS_URL pointing at nothing, does the client still fetch a token and make the call?"""
    app.config["REDIS_URL"] = "redis://127.0.0.1:9/0"
    app.extensions.pop("wechat_redis", None)
    try:
        assert get_wechat().msg_sec_check("o-test", "你好")["suggest"] == "pass"
        assert emu.state.stats()["stable_token"] == 1
    finally:
        app.config["REDIS_URL"] = None
        app.extensions.pop("wechat_redis", None)
