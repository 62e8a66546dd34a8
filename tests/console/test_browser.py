"""The console in Chromium: sign-in by ticket, the roster, a consultation from draft to evidence,
and a grid worker who sees the grid's flats and nothing else."""
import io
import re
from datetime import timedelta

from app.extensions import db as _db
from app.models import Consultation, Flat
from app.models.places import utcnow
from tests import factories
from tests.console.conftest import dev_sign_in, shot


def test_sign_in_by_ticket_confirmed_in_the_mini_program(page, client, login):
    comp = factories.compound()
    factories.staff("ticket-office", "community_staff", "community", comp.community_id)
    _db.session.commit()
    page.goto("/console/login")
    ticket = page.get_attribute("img.qr", "data-ticket")
    assert page.locator("img.qr").evaluate("img => img.naturalWidth") > 100  # the QR code is drawn
    shot(page, "01-login")
    assert "/console/login" in page.url
    phone = login("ticket-office")  # the mini-program, signed in with WeChat, confirms what it scanned
    seen = client.get(f"/api/v1/console-tickets/{ticket}", headers=phone).json["data"]
    assert seen["state"] == "waiting" and "Chrome" in seen["console"]["client"]
    assert client.post(f"/api/v1/console-tickets/{ticket}/confirm", headers=phone).status_code == 200
    page.wait_for_url("**/console/", timeout=10_000)  # htmx polls every 2 s
    assert comp.name in page.inner_text("main")
    assert "社区工作人员" in page.inner_text("header")
    shot(page, "02-dashboard")
    page.click("text=退出")
    page.wait_for_url("**/console/login")
    page.goto("/console/")
    assert "/console/login" in page.url


BAD_ROSTER = ("楼栋,单元,房号,楼层,面积,面积来源,业主姓名,业主电话\n"
              "9栋,1单元,101,1,八十,不动产登记,王一,13900000001\n"
              "9栋,1单元,,1,80.00,不动产登记,王二,13900000002\n"
              "9栋,1单元,103,1,80.00,听说,王三,12345\n")
GOOD_ROSTER = ("楼栋,单元,房号,楼层,面积,面积来源,业主姓名,业主电话\n"
               "9栋,1单元,101,1,80.00,不动产登记,王一,13900000001\n"
               "9栋,1单元,102,1,75.50,不动产登记,王二,13900000002\n"
               "9栋,1单元,201,2,80.00,实测,王三,13900000003\n")


def _flats(compound_id):
    from app.models import Building, Unit

    _db.session.expire_all()
    return _db.session.scalar(_db.select(_db.func.count(Flat.id)).join(Unit).join(Building)
                              .where(Building.compound_id == compound_id))


def test_roster_errors_by_row_and_column_then_a_good_sheet(page, tmp_path):
    comp = factories.compound(buildings=(("1栋", 1, 1, 1),))
    factories.staff("roster-office", "community_staff", "community", comp.community_id)
    _db.session.commit()
    before = _flats(comp.id)
    dev_sign_in(page, "roster-office")
    page.click("nav >> text=名册导入")
    bad = tmp_path / "名册-有错.csv"
    bad.write_text(BAD_ROSTER, encoding="utf-8")
    page.set_input_files("input[name=sheet]", str(bad))
    page.click("button[value=import]")
    table = page.locator("#roster-errors")
    table.wait_for()
    text = table.inner_text()
    assert "未写入任何数据" in text
    rows = [r.inner_text() for r in table.locator("tbody tr").all()]
    assert any(r.startswith("2\t面积") for r in rows), rows
    assert any(r.startswith("3\t房号") for r in rows), rows
    assert any(r.startswith("4\t面积来源") for r in rows), rows
    assert _flats(comp.id) == before
    assert "/console/jobs/" in page.url  # the sheet went to a job; the page polled it
    shot(page, "03-roster-errors")

    good = tmp_path / "名册.csv"
    good.write_text(GOOD_ROSTER, encoding="utf-8")
    page.click("text=返回名册导入")
    page.set_input_files("input[name=sheet]", str(good))
    page.click("button[value=check]")
    page.locator("#roster-report").wait_for()
    assert "检查通过（未写入）" in page.inner_text("#roster-report")
    assert _flats(comp.id) == before  # a dry run writes nothing
    page.click("text=返回名册导入")
    page.set_input_files("input[name=sheet]", str(good))
    page.click("button[value=import]")
    page.wait_for_selector("#roster-report >> text=导入完成")
    assert "新增 3 户" in page.inner_text("#roster-report")
    assert _flats(comp.id) == before + 3
    shot(page, "04-roster-imported")
    page.click("nav >> text=楼栋与二维码")
    page.wait_for_selector("figure.code >> text=9栋")
    page.wait_for_function("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
    shot(page, "05-buildings")
    with page.expect_download() as download:
        page.click("figure.code:has-text('9栋') >> text=海报 PDF")
    assert open(download.value.path(), "rb").read(5) == b"%PDF-"


def test_a_consultation_created_opened_signed_closed_and_its_evidence_downloaded(page, client, login):
    comp = factories.compound(buildings=(("1栋", 2, 2, 2), ("2栋", 1, 2, 2)))
    factories.staff("chair", "committee", "compound", comp.id)
    b1 = comp.buildings[0]
    flats = [f for u in b1.units for f in u.flats]
    for i, flat in enumerate(flats):
        factories.resident(f"owner-{comp.id}-{i}", flat)
    _db.session.commit()
    dev_sign_in(page, "chair")
    page.click("nav >> text=征询表决")
    page.click("text=发起征询")
    shot(page, "06-consultation-new")
    page.fill("input[name=title]", "1栋加装电梯")
    page.fill("textarea[name=body]", "拟在 1栋 两个单元各加装一部电梯。")
    page.select_option("select[name=scope]", f"building:{b1.id}")
    page.select_option("select[name=kind]", "elevator")
    closes = (utcnow() + timedelta(days=3, hours=8)).strftime("%Y-%m-%dT%H:%M")  # Beijing wall time
    page.fill("input[name=closes_at]", closes)
    page.check("input[name=preset][value=major]")
    page.select_option("select[name=t0_what]", "agree")
    page.select_option("select[name=t0_measure]", "flats")
    page.select_option("select[name=t0_base]", "all")
    page.fill("input[name=t0_share]", "2/3")
    page.select_option("select[name=required]", [str(flats[0].id)])
    page.check("input[name=objection_veto]")
    page.click("button:has-text('保存为草稿')")
    page.wait_for_url(re.compile(r".*/console/consultations/\d+$"))
    c_id = int(page.url.rsplit("/", 1)[1])
    c = _db.session.get(Consultation, c_id)
    assert c.rule["required_consent_flat_ids"] == [flats[0].id] and c.rule["objection_veto"] is True
    assert {"what": "agree", "measure": "flats", "base": "all", "share": "2/3", "strict": False} in c.rule["thresholds"]
    page.click("button:has-text('开始征询')")
    page.wait_for_selector("h1 >> text=征询中")
    for i, flat in enumerate(flats[:6]):  # residents sign in the mini-program
        resp = client.post(f"/api/v1/consultations/{c_id}/ballots", headers=login(f"owner-{comp.id}-{i}"),
                           json={"flat_id": flat.id, "choice": "agree", "signature": factories.signature_png()})
        assert resp.status_code == 201, resp.json
    page.reload()
    assert "6 人 / 8 人" in page.inner_text("main")
    page.wait_for_function("document.querySelectorAll('#chart-buildings canvas, #chart-units canvas').length == 2")
    shot(page, "07-consultation-tally")
    page.click("text=未表决房屋")
    rows = page.locator("#pending-flats tbody tr")
    assert rows.count() == 2
    assert re.search(r"139\*{4}\d{4}", page.inner_text("#pending-flats"))  # masked phones only
    shot(page, "08-pending-flats")
    page.go_back()
    page.click("button:has-text('立即截止并计票')")
    page.wait_for_selector("text=截止时已存档")
    assert "通过" in page.inner_text("main")
    shot(page, "09-consultation-closed")
    with page.expect_download() as xlsx:
        page.click("text=下载签名表（Excel）")
    with page.expect_download() as pdf:
        page.click("text=下载签名表（PDF）")
    assert open(xlsx.value.path(), "rb").read(2) == b"PK"
    assert open(pdf.value.path(), "rb").read(5) == b"%PDF-"
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(open(xlsx.value.path(), "rb").read())).active
    text = "\n".join(str(v) for row in sheet.iter_rows(values_only=True) for v in row if v is not None)
    assert "共 6 张表决票" in text
    page.click("button:has-text('公布结果')")
    page.wait_for_selector("text=已公布")


def test_a_grid_worker_sees_the_grid_and_nothing_of_another(page, client, login):
    comp = factories.compound(buildings=(("1栋", 1, 2, 2), ("2栋", 1, 2, 2)))
    b1, b2 = comp.buildings
    factories.grid(comp, [b1], "第一网格")
    factories.grid(comp, [b2], "第二网格")
    gw = factories.staff("gw-one", "grid_worker", "grid", b1.grid_id)
    c = factories.consultation(("compound", comp))
    from app.services import ballots

    other_paper = ballots.enter_paper(factories.staff("gw-two", "grid_worker", "grid", b2.grid_id), c.id,
                                      b2.units[0].flats[0].id, "agree", factories.signature_png())
    mine_paper = ballots.enter_paper(gw, c.id, b1.units[0].flats[0].id, "agree", factories.signature_png())
    _db.session.commit()
    dev_sign_in(page, "gw-one")
    visited = {}
    for name, url in [("10-grid-dashboard", "/console/"), ("11-grid-buildings", "/console/buildings"),
                      ("12-grid-consultation", f"/console/consultations/{c.id}"),
                      ("13-grid-pending", f"/console/consultations/{c.id}/pending"),
                      ("14-grid-paper", f"/console/consultations/{c.id}/paper"),
                      ("15-grid-bindings", "/console/bindings")]:
        page.goto(url)
        if "buildings" in url:
            page.wait_for_function("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
        shot(page, name)
        visited[url] = page.inner_text("main")
    everything = "\n".join(visited.values())
    assert "1栋" in visited["/console/buildings"] and "2栋" not in everything
    assert "2栋1单元" not in everything and "1栋1单元" in visited[f"/console/consultations/{c.id}/pending"]
    assert "下载签名表" not in visited[f"/console/consultations/{c.id}"]  # evidence is not a grid worker's
    assert "名册导入" not in page.inner_text("header")
    for url in [f"/console/buildings/{b2.id}/qrcode.png", f"/console/buildings/{b2.id}/poster.pdf",
                f"/console/paper-ballots/{other_paper.id}/photo", f"/console/consultations/{c.id}/evidence.xlsx",
                f"/console/consultations/{c.id}/evidence.pdf", "/console/roster"]:
        resp = page.request.get(url)
        assert resp.status in (403, 404), f"{url} → {resp.status}"
    resp = page.request.post(f"/console/paper-ballots/{other_paper.id}/confirm")
    assert resp.status in (400, 403, 404)
    assert page.request.get(f"/console/paper-ballots/{mine_paper.id}/photo").status == 200
    # The compound's poster PDF (drawn by a job the page polls) holds the grid's one building only.
    page.goto("/console/buildings")
    page.click("text=生成我的楼栋海报（PDF）")
    page.wait_for_selector("#job-file")
    shot(page, "15b-grid-posters-job")
    resp = page.request.get(page.get_attribute("#job-file a.button", "href"))
    assert resp.status == 200
    import pypdfium2

    pdf = pypdfium2.PdfDocument(io.BytesIO(resp.body()))
    assert len(pdf) == 1
    assert "1栋" in pdf[0].get_textpage().get_text_range() and "2栋" not in pdf[0].get_textpage().get_text_range()


def test_a_paper_ballot_confirmed_beside_its_photo_and_a_binding_approved(page, client, login):
    comp = factories.compound(buildings=(("1栋", 1, 2, 2),))
    b1 = comp.buildings[0]
    factories.grid(comp, [b1], "第一网格")
    worker = factories.staff("paper-gw", "grid_worker", "grid", b1.grid_id)
    factories.staff("paper-office", "community_staff", "community", comp.community_id)
    c = factories.consultation(("compound", comp))
    from app.services import ballots

    paper = ballots.enter_paper(worker, c.id, b1.units[0].flats[0].id, "agree", factories.signature_png())
    _db.session.commit()
    flat = b1.units[0].flats[1]
    asked = client.post("/api/v1/bindings", headers=login("paper-tenant"),
                        json={"flat_id": flat.id, "relation": "tenant", "name": "租户甲"})
    assert asked.status_code == 201 and asked.json["data"]["status"] == "pending"

    dev_sign_in(page, "paper-gw")  # who entered it cannot confirm it
    page.goto(f"/console/consultations/{c.id}/paper")
    assert "须由另一位工作人员对照照片确认" in page.inner_text("main")
    assert page.locator("button:has-text('确认')").count() == 0
    page.click("text=退出")

    dev_sign_in(page, "paper-office")
    page.goto(f"/console/consultations/{c.id}/paper")
    page.wait_for_function("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
    shot(page, "16-paper-ballot")
    page.click("button:has-text('照片与录入一致，确认')")
    page.wait_for_selector("text=有效（计入统计）")
    _db.session.expire_all()
    from app.models import Ballot

    assert _db.session.get(Ballot, paper.id).status == "current"
    page.click("nav >> text=绑定审核")
    assert "租户甲" in page.inner_text("#pending-bindings")
    shot(page, "17-bindings")
    page.click("#pending-bindings button:has-text('通过')")
    page.wait_for_selector("text=没有待审核的申请")
    from app.models import Binding

    _db.session.expire_all()
    assert _db.session.get(Binding, asked.json["data"]["id"]).status == "approved"
