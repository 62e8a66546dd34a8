"""Are subscribe messages one-time, checked field by field, and recorded by the emulator?"""
import pytest
import requests

from app.wechat.client import WeChat, WeChatError

OPENID, TEMPLATE = "o-resident-1", "TPL-consultation-open"
GOOD = {"thing1": "阳光里小区加装电梯意见征询", "time2": "2026年12月1日 09:00", "phrase3": "进行中"}


def _accept(emulator, openid=OPENID, template_id=TEMPLATE, count=None):
    body = {"openid": openid, "template_id": template_id}
    if count is not None:
        body["count"] = count
    return requests.post(emulator + "/__emulator__/subscribe", json=body, timeout=5).json()


def test_no_acceptance_means_43101(wechat):
    """Without the user's acceptance, is the send refused with 43101 (NO_QUOTA)?"""
    with pytest.raises(WeChatError) as err:
        wechat.send_subscribe(OPENID, TEMPLATE, GOOD)
    assert err.value.errcode == WeChatError.NO_QUOTA == WeChat.NO_QUOTA == 43101


def test_one_acceptance_allows_one_message(wechat, emulator, emu):
    """After one acceptance, does the first send go and the second get 43101?"""
    assert _accept(emulator)["quota"] == 1
    msgid = wechat.send_subscribe(OPENID, TEMPLATE, GOOD, page="pages/consultation/index?id=7")
    assert msgid == 1
    with pytest.raises(WeChatError) as err:
        wechat.send_subscribe(OPENID, TEMPLATE, GOOD)
    assert err.value.errcode == 43101
    sent = requests.get(emulator + "/__emulator__/sent", timeout=5).json()
    assert len(sent) == 1 and sent == emu.state.sent
    assert sent[0]["touser"] == OPENID and sent[0]["template_id"] == TEMPLATE
    assert sent[0]["data"] == GOOD and sent[0]["page"] == "pages/consultation/index?id=7"


def test_quota_is_per_template_and_counts(wechat, emulator):
    """Does an acceptance for one template leave another template at 43101, and do acceptances add up?"""
    _accept(emulator, count=2)
    with pytest.raises(WeChatError) as err:
        wechat.send_subscribe(OPENID, "TPL-other", GOOD)
    assert err.value.errcode == 43101
    wechat.send_subscribe(OPENID, TEMPLATE, GOOD)
    wechat.send_subscribe(OPENID, TEMPLATE, GOOD)
    with pytest.raises(WeChatError):
        wechat.send_subscribe(OPENID, TEMPLATE, GOOD)


def test_long_thing_is_47003_naming_the_field_and_keeps_the_quota(wechat, emulator, emu):
    """Is a 21-character thing refused with 47003 naming data.thing1, with the acceptance still unspent?"""
    _accept(emulator)
    with pytest.raises(WeChatError) as err:
        wechat.send_subscribe(OPENID, TEMPLATE, {**GOOD, "thing1": "一" * 21})
    assert err.value.errcode == WeChatError.BAD_DATA == 47003
    assert "data.thing1.value" in err.value.errmsg
    assert emu.state.quota_of(OPENID, TEMPLATE) == 1
    wechat.send_subscribe(OPENID, TEMPLATE, {**GOOD, "thing1": "一" * 20})
    assert emu.state.quota_of(OPENID, TEMPLATE) == 0


@pytest.mark.parametrize("key, value", [
    ("phrase3", "正在进行中了"),      # more than 5
    ("phrase3", "ok"),               # not Chinese
    ("name4", "欧阳" * 6),            # 12 Chinese characters
    ("name4", "A" * 21),             # 21 letters
    ("number5", "12a"),
    ("number5", "1" * 33),
    ("character_string6", "X" * 33),
    ("letter7", "abc1"),
    ("symbol8", "!!!!!!"),
    ("phone_number9", "1" * 18),
    ("time10", "明天上午"),
    ("date11", "下周一"),
    ("amount12", "¥12345678901"),
    ("thing13", ""),
    ("keyword1", "旧版模板的字段"),
])
def test_field_limits_are_47003(wechat, emulator, key, value):
    """Is each value outside its type's limit refused with 47003 naming the field?"""
    _accept(emulator)
    with pytest.raises(WeChatError) as err:
        wechat.send_subscribe(OPENID, TEMPLATE, {**GOOD, key: value})
    assert err.value.errcode == 47003 and f"data.{key}" in err.value.errmsg


def test_values_at_the_limits_are_accepted(wechat, emulator, emu):
    """Are values exactly at each type's limit sent?"""
    data = {"thing1": "一" * 20, "phrase2": "已经受理了", "name3": "欧阳" * 5, "name4": "Zhang Jian Guo Smith",
            "number5": "1" * 32, "character_string6": "NO.2026-001", "letter7": "abc", "symbol8": "#%&*!",
            "phone_number9": "+86-0731-88888888", "amount10": "¥1280.50", "time11": "15:01~16:30",
            "date12": "2026年12月1日", "date13": "2026-12-01 09:00"}
    _accept(emulator)
    wechat.send_subscribe(OPENID, TEMPLATE, data)
    assert emu.state.sent[0]["data"] == data


def test_page_with_leading_slash_is_41030(wechat, emulator, emu):
    """Is a page starting with '/' refused with 41030 without spending the acceptance?"""
    _accept(emulator)
    with pytest.raises(WeChatError) as err:
        wechat.send_subscribe(OPENID, TEMPLATE, GOOD, page="/pages/index/index")
    assert err.value.errcode == 41030
    assert emu.state.quota_of(OPENID, TEMPLATE) == 1


def test_reset_clears_what_was_sent(wechat, emulator, emu):
    """Does POST /__emulator__/reset forget messages and quotas?"""
    _accept(emulator)
    wechat.send_subscribe(OPENID, TEMPLATE, GOOD)
    assert requests.post(emulator + "/__emulator__/reset", timeout=5).json()["errcode"] == 0
    assert requests.get(emulator + "/__emulator__/sent", timeout=5).json() == []
    assert emu.state.quota_of(OPENID, TEMPLATE) == 0
