"""Do the operators' commands do what their help says?"""
from PIL import Image

from app.extensions import db as _db
from app.models import StaffRole, User
from tests import factories


def test_staff_grant_list_and_revoke(cli, app):
    """Can an operator grant a scoped role by openid, see it listed, and take it back?"""
    comp = factories.compound(name="授权小区")
    _db.session.commit()
    granted = cli("staff", "grant", "--openid", "oStaff1", "--create", "--role", "committee", "--scope", f"compound:{comp.id}")
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
    scenes, comp_id = [b.scene for b in comp.buildings], comp.id
    _db.session.commit()
    lines = cli("qr", "list", "--compound", "二维码小区").output.strip().splitlines()
    assert lines[0].split("\t")[:2] == [f"# 小区 compound:{comp_id}", "二维码小区"]
    rows = [line.split("\t") for line in lines[1:]]
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


def test_qr_mode_switches_between_a_plain_qr_and_a_wechat_code(app, cli, tmp_path):
    """With QR_MODE=url, is the code a plain QR of QR_URL_BASE + scene made here (no WeChat call), and with wxacode one the WeChat API made for the building's scene?"""
    from app.services.qrcodes import SCAN_PAGE, code_png, plain_qr_png
    from app.wechat.emulator import find_server

    comp = factories.compound(name="链接小区", buildings=(("1栋", 1, 1, 1),))
    building = comp.buildings[0]
    state = find_server(app.config["WECHAT_API_BASE"]).state
    before = len(state.codes)
    app.config["QR_MODE"], base = "url", app.config["QR_URL_BASE"]
    app.config["QR_URL_BASE"] = "https://qr.example.org/s/"
    try:
        png = code_png(building)
    finally:
        app.config["QR_MODE"], app.config["QR_URL_BASE"] = "wxacode", base
    assert png == plain_qr_png("https://qr.example.org/s/" + building.scene)
    assert png != plain_qr_png(base + building.scene)
    assert len(state.codes) == before  # no WeChat call
    wxacode = code_png(building)
    assert wxacode[:8] == b"\x89PNG\r\n\x1a\n" and wxacode != png
    assert len(state.codes) == before + 1
    assert (state.codes[-1]["scene"], state.codes[-1]["page"]) == (building.scene, SCAN_PAGE)


def test_qr_posters_without_the_wechat_service_says_what_to_do(app, cli, tmp_path):
    """With the WeChat API unreachable (emulator not started), does `flask qr posters` exit 1 telling to start ./scripts/run or the emulator, or to set QR_MODE=url, without a traceback?"""
    import socket

    factories.compound(name="断网小区", buildings=(("1栋", 1, 1, 1),))
    _db.session.commit()
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    app.config["WECHAT_API_BASE"], base = closed, app.config["WECHAT_API_BASE"]
    try:
        result = cli("qr", "posters", "--compound", "断网小区", "--out", str(tmp_path / "out"))
    finally:
        app.config["WECHAT_API_BASE"] = base
    assert result.exit_code == 1
    assert "无法连接微信接口" in result.output and "./scripts/run" in result.output
    assert "python -m app.wechat.emulator" in result.output and "QR_MODE=url" in result.output
    assert "Traceback" not in result.output
    assert not list((tmp_path / "out").glob("*.png"))


def test_staff_grant_of_an_unknown_openid_needs_create(cli):
    """Is a grant to an openid nobody has signed in with refused (exit 1, Chinese) unless --create is given?"""
    comp = factories.compound(name="新人小区")
    _db.session.commit()
    args = ("staff", "grant", "--openid", "oTypo", "--role", "committee", "--scope", f"compound:{comp.id}")
    refused = cli(*args)
    assert refused.exit_code == 1 and "没有 openid 为 oTypo 的用户" in refused.output and "--create" in refused.output
    assert _db.session.scalar(_db.select(_db.func.count(User.id))) == 0
    assert cli(*args, "--create").exit_code == 0
    assert _db.session.scalar(_db.select(User).filter_by(openid="oTypo")).roles[0].scope_id == comp.id
    assert cli(*args).exit_code == 0  # now the user exists


def test_staff_revoke_of_a_role_not_held_fails(cli):
    """Does revoking a role the user lacks in that scope, or a scoped role without --scope, say so and exit non-zero, revoking nothing?"""
    one, two = factories.compound(name="甲小区"), factories.compound(name="乙小区")
    user = factories.staff("revoker", "committee", "compound", one.id)
    uid, one_id, two_id = str(user.id), one.id, two.id
    _db.session.commit()
    other_scope = cli("staff", "revoke", "--user", uid, "--role", "committee", "--scope", f"compound:{two_id}")
    assert other_scope.exit_code != 0 and "没有范围" in other_scope.output and f"compound:{one_id}" in other_scope.output
    other_role = cli("staff", "revoke", "--user", uid, "--role", "admin")
    assert other_role.exit_code != 0 and "没有角色 admin" in other_role.output
    no_scope = cli("staff", "revoke", "--user", uid, "--role", "committee")
    assert no_scope.exit_code != 0 and "--scope" in no_scope.output
    nobody = cli("staff", "revoke", "--openid", "oNobody", "--role", "admin")
    assert nobody.exit_code == 1 and "没有 openid 为 oNobody 的用户" in nobody.output and "--create" not in nobody.output
    assert _db.session.scalar(_db.select(_db.func.count(StaffRole.id))) == 1
    done = cli("staff", "revoke", "--user", uid, "--role", "committee", "--scope", f"compound:{one_id}")
    assert done.exit_code == 0 and "已收回" in done.output
    assert _db.session.scalar(_db.select(_db.func.count(StaffRole.id))) == 0


def test_grid_list_and_assign(cli):
    """Does `flask grid list` show each grid's id, name and buildings, and `grid assign` move a building, creating the grid if needed?"""
    from app.models import Building, Grid

    comp = factories.compound(name="网格小区", buildings=(("1栋", 1, 1, 1), ("2栋", 1, 1, 1), ("3栋", 1, 1, 1)))
    g = factories.grid(comp, comp.buildings[:2], name="一网格")
    g_id, comp_id = g.id, comp.id
    _db.session.commit()
    lines = cli("grid", "list", "--compound", "网格小区").output.strip().splitlines()
    assert lines == [f"{g_id}\t一网格\t1栋、2栋", "-\t未划入网格\t3栋"]
    moved = cli("grid", "assign", "--compound", "网格小区", "--building", "2栋", "--building", "3栋", "--grid", "二网格")
    assert moved.exit_code == 0, moved.output
    assert "已新建" in moved.output and "2栋、3栋" in moved.output
    new = _db.session.scalar(_db.select(Grid).filter_by(name="二网格"))
    new_id = new.id
    assert new.compound_id == comp_id
    assert {b.name: b.grid_id for b in _db.session.scalars(_db.select(Building))} == {"1栋": g_id, "2栋": new_id, "3栋": new_id}
    assert cli("grid", "list", "--compound", "网格小区").output.strip().splitlines() == [
        f"{g_id}\t一网格\t1栋", f"{new_id}\t二网格\t2栋、3栋"]
    again = cli("grid", "assign", "--compound", "网格小区", "--building", "1栋", "--grid", "一网格")
    assert again.exit_code == 0 and "未改变" in again.output
    missing = cli("grid", "assign", "--compound", "网格小区", "--building", "9栋", "--grid", "一网格")
    assert missing.exit_code == 1 and "没有楼栋「9栋」" in missing.output
    assert cli("grid", "list", "--compound", "无此小区").exit_code == 1


def test_grid_worker_granted_by_grid_name_or_id(cli):
    """Can a grid worker's grid be given by name (with --compound) or by id, and is an unknown or ambiguous name refused?"""
    one, two = factories.compound(name="甲小区"), factories.compound(name="乙小区")
    g1 = factories.grid(one, one.buildings, name="一网格")
    g2 = factories.grid(two, two.buildings, name="一网格")
    g1_id, g2_id = g1.id, g2.id
    _db.session.commit()
    by_name = cli("staff", "grant", "--openid", "oGrid", "--create", "--role", "grid_worker", "--grid", "一网格", "--compound", "乙小区")
    assert by_name.exit_code == 0, by_name.output
    by_id = cli("staff", "grant", "--openid", "oGrid", "--role", "grid_worker", "--scope", f"grid:{g1_id}")
    assert by_id.exit_code == 0, by_id.output
    user = _db.session.scalar(_db.select(User).filter_by(openid="oGrid"))
    assert sorted(r.scope_id for r in user.roles) == sorted([g1_id, g2_id])
    ambiguous = cli("staff", "grant", "--openid", "oGrid", "--role", "grid_worker", "--grid", "一网格")
    assert ambiguous.exit_code == 1 and "--compound" in ambiguous.output
    unknown = cli("staff", "grant", "--openid", "oGrid", "--role", "grid_worker", "--grid", "九网格", "--compound", "甲小区")
    assert unknown.exit_code == 1 and "没有网格「九网格」" in unknown.output
    assert cli("staff", "grant", "--openid", "oGrid", "--role", "grid_worker", "--grid", str(g1_id)).exit_code == 0
