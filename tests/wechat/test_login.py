"""Does login (code2session) and the phone number behave like WeChat's, through wechatpy?"""
import pytest

from app.wechat.client import WeChatError
from app.wechat.dev import dev_openid
from config import TestingConfig


def test_dev_code_gives_a_stable_openid_and_fresh_session_keys(wechat):
    """Do two logins of one name give the same openid, another name another, and new session_keys?"""
    first = wechat.code_to_session("dev-zhang")
    second = wechat.code_to_session("dev-zhang.2")
    other = wechat.code_to_session("dev-li")
    assert first["openid"] == second["openid"] == dev_openid(TestingConfig.WECHAT_APPID, "zhang")
    assert other["openid"] == dev_openid(TestingConfig.WECHAT_APPID, "li") != first["openid"]
    assert first["session_key"] and first["session_key"] != second["session_key"]
    assert first["unionid"] is None
    assert len(first["openid"]) == 28 and first["openid"].startswith("o")


def test_login_needs_no_access_token(wechat, emu):
    """Does a login go through without fetching an access token first?"""
    wechat.code_to_session("dev-zhang")
    assert emu.state.stats()["stable_token"] == 0 and emu.state.stats()["token"] == 0


def test_reused_code_is_40029(wechat):
    """Is a code used a second time refused with 40029?"""
    wechat.code_to_session("dev-wang")
    with pytest.raises(WeChatError) as err:
        wechat.code_to_session("dev-wang")
    assert err.value.errcode == WeChatError.INVALID_CODE == 40029


@pytest.mark.parametrize("code", ["", "zhang", "dev-", "071abcDEF"])
def test_malformed_code_is_40029(wechat, code):
    """Is a code not of the dev-<name> form refused with 40029?"""
    with pytest.raises(WeChatError) as err:
        wechat.code_to_session(code)
    assert err.value.errcode == 40029


def test_too_many_logins_a_minute_is_45011(wechat, emu):
    """Past the per-minute limit for one name, is it 45011, and is the code still good a minute later?"""
    emu.login_limit_per_minute = 3
    for i in range(3):
        wechat.code_to_session(f"dev-busy.{i}")
    with pytest.raises(WeChatError) as err:
        wechat.code_to_session("dev-busy.3")
    assert err.value.errcode == WeChatError.RATE_LIMITED == 45011
    assert wechat.code_to_session("dev-calm")["openid"]  # other people are not limited
    emu.state.advance(61)
    assert wechat.code_to_session("dev-busy.3")["openid"] == dev_openid(TestingConfig.WECHAT_APPID, "busy")


def test_high_risk_user_is_40226(wechat):
    """Is a dev-risky-<x> code refused with 40226?"""
    with pytest.raises(WeChatError) as err:
        wechat.code_to_session("dev-risky-x")
    assert err.value.errcode == WeChatError.HIGH_RISK_USER == 40226


def test_phone_code_gives_the_number_once(wechat):
    """Does a phone-<number> code give the pure number, and only once?"""
    assert wechat.phone_number("phone-13800001234") == "13800001234"
    with pytest.raises(WeChatError) as err:
        wechat.phone_number("phone-13800001234")
    assert err.value.errcode == 40029
    with pytest.raises(WeChatError) as err:
        wechat.phone_number("phone-1380000")
    assert err.value.errcode == 40029


def test_phone_answer_has_wechats_shape(raw, wechat, emu):
    """Does getuserphonenumber answer phone_info with countryCode 86 and our appid in the watermark?"""
    wechat.msg_sec_check("o-any", "你好")  # makes the client fetch a token
    token = emu.state.stable_token
    body = raw.post("/wxa/business/getuserphonenumber", {"code": "phone-13912345678"}, access_token=token).json()
    assert body["errcode"] == 0
    info = body["phone_info"]
    assert info["phoneNumber"] == info["purePhoneNumber"] == "13912345678"
    assert info["countryCode"] == "86" and info["watermark"]["appid"] == TestingConfig.WECHAT_APPID
