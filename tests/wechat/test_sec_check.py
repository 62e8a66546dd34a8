"""Does msgSecCheck v2 answer pass, review or risky as WeChat does?"""
import pytest

from app.wechat.client import WeChatError
from app.wechat.emulator import REVIEW_WORDS, RISKY_WORDS


def test_ordinary_text_passes(wechat, emu):
    """Is an ordinary comment 'pass' with label 100, and recorded?"""
    assert wechat.msg_sec_check("o-1", "支持加装电梯，希望尽快开工")["suggest"] == "pass"
    result = wechat.msg_sec_check("o-1", "三楼以上都同意")
    assert (result["suggest"], result["label"]) == ("pass", 100) and result["trace_id"]
    assert emu.state.checks[-1]["content"] == "三楼以上都同意" and emu.state.checks[-1]["scene"] == 2


@pytest.mark.parametrize("word", sorted(REVIEW_WORDS))
def test_review_words_are_held_for_review(wechat, word):
    """Does text with a review word come back 'review' with that word's label?"""
    result = wechat.msg_sec_check("o-1", f"有事请{word}，谢谢")
    assert (result["suggest"], result["label"]) == ("review", REVIEW_WORDS[word])


@pytest.mark.parametrize("word", sorted(RISKY_WORDS))
def test_risky_words_are_risky(wechat, word):
    """Does text with a risky word come back 'risky' with that word's label, even beside a review word?"""
    result = wechat.msg_sec_check("o-1", f"加微信，{word}")
    assert (result["suggest"], result["label"]) == ("risky", RISKY_WORDS[word])


def test_text_over_2500_characters_is_45002(wechat):
    """Is content over 2,500 characters refused with 45002 while 2,500 pass?"""
    assert wechat.msg_sec_check("o-1", "好" * 2500)["suggest"] == "pass"
    with pytest.raises(WeChatError) as err:
        wechat.msg_sec_check("o-1", "好" * 2501)
    assert err.value.errcode == 45002


def test_bad_scene_or_missing_openid_is_refused(wechat):
    """Is scene 5 refused with 40129 and an empty openid with 40003?"""
    with pytest.raises(WeChatError) as err:
        wechat.msg_sec_check("o-1", "你好", scene=5)
    assert err.value.errcode == 40129
    with pytest.raises(WeChatError) as err:
        wechat.msg_sec_check("", "你好")
    assert err.value.errcode == 40003
