"""Do the operators' commands do what their help says?"""
from PIL import Image

from app.extensions import db as _db
from app.models import StaffRole, User
from tests import factories


def test_staff_grant_list_and_revoke(cli, app):
    """Can an operator grant a scoped role by openid, see it listed, and take it back?"""
    comp = factories.compound(name="授权小区")
    _db.session.commit()
    granted = cli("staff", "grant", "--openid", "oStaff1", "--role", "committee", "--scope", f"compound:{comp.id}")
    assert granted.exit_code == 0, granted.output
    assert "业委会/居民代表" in granted.output and "授权小区" in granted.output
    user = _db.session.scalar(_db.select(User).filter_by(openid="oStaff1"))
    assert "\tcommittee\t" in cli("staff", "list").output
    wrong = cli("staff", "grant", "--user", str(user.id), "--role", "grid_worker", "--scope", f"compound:{comp.id}")
    assert wrong.exit_code != 0 and "grid:<id>" in wrong.output
    missing = cli("staff", "grant", "--user", str(user.id), "--role", "committee", "--scope", "compound:99999")
    assert missing.exit_code != 0 and "不存在" in missing.output
    assert cli("staff", "revoke", "--user", str(user.id), "--role", "committee", "--scope", f"compound:{comp.id}").exit_code == 0
    assert _db.session.scalar(_db.select(_db.func.count(StaffRole.id))) == 0


def test_qr_list_is_tab_separated(cli):
    comp = factories.compound(name="二维码小区", buildings=(("1栋", 1, 1, 1), ("2栋", 1, 1, 1)))
    scenes = [b.scene for b in comp.buildings]
    _db.session.commit()
    lines = cli("qr", "list", "--compound", "二维码小区").output.strip().splitlines()
    rows = [line.split("\t") for line in lines]
    assert [r[1] for r in rows] == ["1栋", "2栋"]
    assert [r[2] for r in rows] == scenes
    assert all(r[3].startswith("https://") and r[3].endswith(r[2]) for r in rows)
    assert cli("qr", "list", "--compound", "无此小区").exit_code != 0


def test_qr_posters_writes_a_png_per_building_and_one_pdf(cli, tmp_path):
    """Does `flask qr posters` write an A4 PNG per building (with the WeChat code) and a PDF of the compound?"""
    factories.compound(name="海报小区", buildings=(("1栋", 1, 1, 1), ("2栋", 1, 1, 1)))
    _db.session.commit()
    result = cli("qr", "posters", "--compound", "海报小区", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["海报小区-1栋.png", "海报小区-2栋.png", "海报小区-楼栋二维码.pdf"]
    assert Image.open(tmp_path / "海报小区-1栋.png").size == (1240, 1754)
    pdf = (tmp_path / "海报小区-楼栋二维码.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and b"/Count 2" in pdf


def test_url_mode_gives_a_plain_qr(app, cli, tmp_path):
    """With QR_MODE=url, is the code a plain QR made here (no WeChat call)?"""
    from app.services.qrcodes import code_png

    comp = factories.compound(name="链接小区", buildings=(("1栋", 1, 1, 1),))
    app.config["QR_MODE"] = "url"
    try:
        png = code_png(comp.buildings[0])
    finally:
        app.config["QR_MODE"] = "wxacode"
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert Image.open(__import__("io").BytesIO(png)).size[0] > 200
