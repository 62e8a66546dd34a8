"""Does getwxacodeunlimit give a real PNG, and refuse what WeChat refuses?"""
import io

import pytest
from PIL import Image

from app.wechat.client import WeChatError
from config import TestingConfig


@pytest.mark.parametrize("width", [280, 430, 860, 1280])
def test_code_is_a_png_of_the_requested_width(wechat, emu, width):
    """Is the answer a PNG that PIL opens, width x width pixels?"""
    png = wechat.wxacode_unlimited("b=12&t=Ab3", page="pages/scan/index", width=width)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (width, width)
    code = emu.state.codes[-1]
    assert code["scene"] == "b=12&t=Ab3" and code["page"] == "pages/scan/index" and code["env_version"] == "release"
    assert code["text"] == f"wxacode:{TestingConfig.WECHAT_APPID}:pages/scan/index?scene=b=12&t=Ab3&env_version=release"


def test_width_outside_the_range_is_clamped(wechat):
    """Is a width under 280 or over 1280 clamped as WeChat does?"""
    assert Image.open(io.BytesIO(wechat.wxacode_unlimited("s1", width=100))).size == (280, 280)
    assert Image.open(io.BytesIO(wechat.wxacode_unlimited("s2", width=5000))).size == (1280, 1280)


def test_trial_code_skips_the_page_check(wechat, emu):
    """Does a trial code go out with env_version trial and check_path false?"""
    wechat.wxacode_unlimited("s3", page="pages/scan/index", env_version="trial")
    assert emu.state.codes[-1]["env_version"] == "trial" and emu.state.codes[-1]["check_path"] is False


@pytest.mark.parametrize("scene", ["", "x" * 33, "楼栋=12", "a%20b", "a b"])
def test_bad_scene_is_40169(wechat, scene):
    """Is an empty, over-32, non-ASCII, '%' or space scene refused with 40169?"""
    with pytest.raises(WeChatError) as err:
        wechat.wxacode_unlimited(scene)
    assert err.value.errcode == 40169


def test_every_allowed_scene_character_passes(wechat):
    """Is a 32-character scene of the allowed punctuation accepted?"""
    scene = "!#$&'()*+,/:;=?@-._~Az09" + "x" * 8
    assert len(scene) == 32
    assert wechat.wxacode_unlimited(scene)[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("kwargs, errcode", [
    ({"page": "/pages/scan/index"}, 41030),
    ({"page": "pages/scan/index?b=1"}, 41030),
    ({"env_version": "beta"}, 40097),
])
def test_bad_page_or_env_version_is_refused(wechat, kwargs, errcode):
    """Is a page with '/' or a query refused with 41030, and an unknown env_version with 40097?"""
    with pytest.raises(WeChatError) as err:
        wechat.wxacode_unlimited("s4", **kwargs)
    assert err.value.errcode == errcode
