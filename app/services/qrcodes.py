"""Building QR codes: a WeChat mini-program code, or a plain QR of an https link (QR_MODE=url)."""
import io
import secrets
import string

import qrcode
from flask import current_app

from app.extensions import db
from app.models import Building

SCAN_PAGE = "pages/scan/index"
# Letters and digits only (a subset of WeChat's scene alphabet), without look-alikes such as 0/O, 1/l.
SCENE_ALPHABET = "".join(c for c in string.ascii_letters + string.digits if c not in "0Oo1lI")


def new_scene():
    """A short unguessable scene: 'b' and 9 characters (≤ 32, WeChat's allowed set)."""
    return "b" + "".join(secrets.choice(SCENE_ALPHABET) for _ in range(9))


def ensure_scene(building):
    if not building.scene:
        building.scene = new_scene()
        db.session.flush()
    return building.scene


def scan_url(building):
    """The https link a plain QR carries; WeChat opens the mini-program for a configured link prefix."""
    return current_app.config["QR_URL_BASE"] + ensure_scene(building)


def code_png(building, width=860):
    """PNG bytes of the building's code, as configured."""
    scene = ensure_scene(building)
    if current_app.config["QR_MODE"] == "url":
        return plain_qr_png(scan_url(building))
    from app.wechat.client import get_wechat

    return get_wechat().wxacode_unlimited(
        scene, page=SCAN_PAGE, width=width, env_version=current_app.config.get("WECHAT_ENV_VERSION", "release")
    )


def plain_qr_png(text, box_size=20):
    img = qrcode.make(text, box_size=box_size, border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def compound_buildings(compound_name):
    from app.models import Compound

    compounds = db.session.scalars(db.select(Compound).where(Compound.name == compound_name)).all()
    if len(compounds) != 1:
        raise LookupError(
            f"没有名为「{compound_name}」的小区" if not compounds else f"有多个名为「{compound_name}」的小区"
        )
    return compounds[0], db.session.scalars(
        db.select(Building).where(Building.compound_id == compounds[0].id).order_by(Building.id)
    ).all()


def unreachable_help(exc):
    """What an operator should do when WeChat would not make a code (exc: WeChatError), in Chinese and English."""
    from app.wechat.client import WeChatError

    base = current_app.config["WECHAT_API_BASE"]
    if exc.errcode == WeChatError.NETWORK:
        return (
            f"无法连接微信接口 {base}，未生成海报。开发环境请先启动 ./scripts/run（它会启动微信模拟器），"
            "或单独启动模拟器：.venv/bin/python -m app.wechat.emulator；"
            "不用小程序码时可设置 QR_MODE=url（并设置 QR_URL_BASE），生成普通链接二维码。\n"
            f"The WeChat API at {base} is unreachable: start ./scripts/run or the emulator "
            "(python -m app.wechat.emulator), or set QR_MODE=url for plain QR codes of QR_URL_BASE + scene."
        )
    return (
        f"微信未能生成小程序码（错误码 {exc.errcode}：{exc.errmsg}），未生成海报；请检查 WECHAT_APPID、WECHAT_SECRET "
        "和小程序是否已发布（或设置 WECHAT_ENV_VERSION=trial），也可设置 QR_MODE=url 生成普通链接二维码。\n"
        f"WeChat refused the code (errcode {exc.errcode}); check the credentials and the published version, or set QR_MODE=url."
    )
