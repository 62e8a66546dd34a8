"""Can tests make the emulator's subscribe send fail (WeChat's errcode or an HTTP 5xx) or slow, and
read every send asked for? (The outbox's tests rely on these controls.)"""
import time

import pytest

from app.wechat.client import WeChatError

OPENID, TEMPLATE = "o-fault-1", "TPL-fault"
GOOD = {"thing1": "停水通知"}


def test_injected_errcodes_come_first_then_the_real_answer(wechat, raw, emu):
    """Do the next N sends answer the injected errcode without spending the quota, then send?"""
    emu.state.accept_subscribe(OPENID, TEMPLATE)
    assert raw.post("/__emulator__/fail", {"errcode": 45009, "times": 2}).json()["errcode"] == 0
    for _ in range(2):
        with pytest.raises(WeChatError) as err:
            wechat.send_subscribe(OPENID, TEMPLATE, GOOD)
        assert err.value.errcode == 45009
    assert emu.state.quota_of(OPENID, TEMPLATE) == 1
    wechat.send_subscribe(OPENID, TEMPLATE, GOOD)
    assert [a["errcode"] for a in raw.get("/__emulator__/attempts")] == [45009, 45009, 0]
    assert len(raw.get("/__emulator__/sent")) == 1


def test_an_http_5xx_is_a_network_error_to_the_client(wechat, raw, emu):
    """Does an injected HTTP 502 reach the product as WeChatError -1, with nothing sent?"""
    emu.state.accept_subscribe(OPENID, TEMPLATE)
    raw.post("/__emulator__/fail", {"status": 502})
    with pytest.raises(WeChatError) as err:
        wechat.send_subscribe(OPENID, TEMPLATE, GOOD)
    assert err.value.errcode == -1
    assert emu.state.sent == [] and emu.state.attempts[0]["status"] == 502


def test_a_fault_needs_a_code_and_reset_clears_it(raw, emu):
    """Is a fault without errcode or status refused, and are faults and delays gone after a reset?"""
    assert raw.post("/__emulator__/fail", {"times": 1}).json()["errcode"] == 47001
    raw.post("/__emulator__/fail", {"errcode": -1, "times": 5})
    raw.post("/__emulator__/delay", {"seconds": 2})
    raw.post("/__emulator__/reset")
    assert emu.state.faults == [] and emu.state.delays == {}


def test_a_delay_slows_each_send(wechat, raw, emu):
    """Does a delay make each send wait, and does 0 end it?"""
    emu.state.accept_subscribe(OPENID, TEMPLATE, 2)
    wechat.send_subscribe(OPENID, TEMPLATE, GOOD)  # the token is fetched outside the timing
    assert raw.post("/__emulator__/delay", {"seconds": 0.3}).json()["delays"]
    started = time.monotonic()
    wechat.send_subscribe(OPENID, TEMPLATE, GOOD)
    assert time.monotonic() - started >= 0.3
    assert raw.post("/__emulator__/delay", {"seconds": 0}).json()["delays"] == {}
