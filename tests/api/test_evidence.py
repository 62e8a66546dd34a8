"""Evidence export: can staff hand a street office or a court every ballot, and nothing private?"""
import io
import re
import zipfile
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook

from app.extensions import db as _db
from app.models import Ballot, Owner, User
from app.services import audit
from app.services import ballots as ballot_service
from app.services import consultations as service
from tests import factories
from tests.services.test_posters import pdf_page_contents, pdf_pages_text

SIG = factories.signature_png()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def resident(app, name, flat):
    """A WeChat user dev-<name> bound as the owner of flat."""
    return factories.resident(name, flat)


def label(flat):
    return f"{flat.unit.building.name}{flat.unit.name}{flat.room}"


@pytest.fixture()
def world(app, db):
    """1栋 and 2栋 (1 unit × 3 floors × 2 flats each), a grid each; a consultation over the compound with
    online ballots (one answer changed), a confirmed paper ballot, a paper ballot conflicting with an
    online one, an unconfirmed paper ballot; then closed."""
    comp = factories.compound(buildings=(("1栋", 1, 3, 2), ("2栋", 1, 3, 2)))
    b1, b2 = comp.buildings
    g1, g2 = factories.grid(comp, [b1]), factories.grid(comp, [b2])
    committee = factories.staff("committee", "committee", "compound", comp.id)
    gw1 = factories.staff("gw1", "grid_worker", "grid", g1.id)
    gw1b = factories.staff("gw1b", "grid_worker", "grid", g1.id)
    factories.staff("gw2", "grid_worker", "grid", g2.id)
    factories.staff("street", "street_officer", "street", comp.community.street.id)
    c = factories.consultation(("compound", comp), by=committee)
    f = b1.units[0].flats
    owners = [resident(app, f"o{i}", f[i]) for i in range(3)]
    for user, flat in zip(owners, f):
        ballot_service.sign(user.id, c.id, flat.id, "agree", SIG)
    ballot_service.sign(owners[1].id, c.id, f[1].id, "disagree", SIG)  # changes the answer
    paper = ballot_service.enter_paper(gw1, c.id, f[3].id, "agree", SIG)
    ballot_service.confirm_paper(gw1b, paper.id)
    clash = ballot_service.enter_paper(gw1, c.id, f[0].id, "disagree", SIG)
    ballot_service.confirm_paper(gw1b, clash.id)  # f[0] already answered online: a conflict
    ballot_service.enter_paper(gw1, c.id, f[5].id, "disagree", SIG)  # never confirmed
    service.close(c.id, user=committee)
    _db.session.commit()
    expected = [  # room by room, oldest first
        (label(f[0]), "同意", "current"), (label(f[0]), "不同意", "conflict"),
        (label(f[1]), "同意", "superseded"), (label(f[1]), "不同意", "current"),
        (label(f[2]), "同意", "current"), (label(f[3]), "同意", "current"),
        (label(f[5]), "不同意", "unconfirmed"),
    ]
    return {"comp": comp, "c": c, "expected": expected, "gw1b": gw1b.id}


def get(client, login, c, ext, who="committee"):
    resp = client.get(f"/api/v1/consultations/{c.id}/evidence.{ext}", headers=login(who))
    assert resp.status_code == 200, resp.data[:300]
    return resp


def workbook(resp):
    return load_workbook(io.BytesIO(resp.data))


def ballot_sheet(wb):
    ws = wb["表决票"]
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def all_cells(wb):
    return [str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v is not None]


def chain_head(c):
    return audit.head(service.chain_name(c))


def test_xlsx_has_one_row_per_ballot_with_the_history(client, login, world):
    """Does the workbook list every ballot (superseded, conflict, unconfirmed too) with room, choice, status and hash?"""
    resp = get(client, login, world["c"], "xlsx")
    assert resp.mimetype == XLSX
    rows = ballot_sheet(workbook(resp))
    names = ballot_service.STATUS_NAMES
    assert [(r["房屋"], r["选择"], r["状态"]) for r in rows] == [
        (room, choice, names[status]) for room, choice, status in world["expected"]]
    stored = {b.receipt: b.content_hash
              for b in _db.session.scalars(_db.select(Ballot).filter_by(consultation_id=world["c"].id))}
    assert {r["回执码"]: r["表决票哈希（SHA-256）"] for r in rows} == stored and len(rows) == 7
    assert {r["渠道"] for r in rows} == {"线上签署", "纸质表决票"}
    confirmed = [r["录入 / 确认"] for r in rows if r["渠道"] == "纸质表决票"]
    assert all(f"#{world['gw1b']}" in text for text in confirmed[:2]) and "待确认" in confirmed[2]


def test_xlsx_carries_the_roll_digest_the_chain_head_and_the_result(client, login, world):
    """Does the summary sheet give the roll digest, the audit chain head, the rule in Chinese and the result?"""
    c = world["c"]
    cells = all_cells(workbook(get(client, login, c, "xlsx")))
    text = "\n".join(cells)
    assert len(c.roll_digest) == 64 and c.roll_digest in text
    assert chain_head(c) != audit.GENESIS and chain_head(c) in text
    assert service.slots_digest(c) in text  # the person chains' heads, sealed into the chain at closing
    assert "参与人数 ≥ 2/3（全体）" in text and "同意面积 ≥ 3/4（参与者）" in text
    assert "未通过" in text and c.title in text and world["comp"].name in text


def test_owners_shown_are_those_of_the_frozen_roll(client, login, world, db):
    """After the vote, when the roster gives a flat a new owner or marks one developer-held, does the evidence still show the owner who was on the roll?"""
    c = world["c"]
    before = {(r["房屋"], r["选择"]): r["业主（脱敏）"] for r in ballot_sheet(workbook(get(client, login, c, "xlsx")))}
    flats = {label(f): f for b in world["comp"].buildings for u in b.units for f in u.flats}
    sold, taken_back = flats[world["expected"][2][0]], flats[world["expected"][4][0]]
    sold.owner = Owner(name="钱新来", phone="13900000000")
    taken_back.owner, taken_back.developer_held = None, True
    _db.session.commit()
    after = {(r["房屋"], r["选择"]): r["业主（脱敏）"] for r in ballot_sheet(workbook(get(client, login, c, "xlsx")))}
    assert after == before and "钱**" not in after.values() and "开发商（未售）" not in after.values()


def test_xlsx_embeds_a_signature_image_per_ballot(client, login, world):
    """Is a signature image shown on each ballot that has a signature or photo, each distinct image stored once?"""
    resp = get(client, login, world["c"], "xlsx")
    signed = _db.session.scalar(_db.select(_db.func.count(Ballot.id)).where(
        Ballot.consultation_id == world["c"].id, Ballot.signature_id.isnot(None)))
    ws = workbook(resp)["表决票"]
    assert signed == 7 and len(ws._images) == signed
    media = [n for n in zipfile.ZipFile(io.BytesIO(resp.data)).namelist() if n.startswith("xl/media/")]
    distinct = set(_db.session.scalars(_db.select(Ballot.signature_sha256).where(Ballot.consultation_id == world["c"].id)))
    assert len(media) == len(distinct) == 1  # one stored image per distinct signature, shown on every row
    anchors = sorted(img.anchor._from.row for img in ws._images)
    assert anchors == list(range(1, signed + 1))  # one image on each ballot row (0-based rows after the heading)


def test_no_full_name_and_no_phone_in_either_file(client, login, world):
    """Does neither file hold an owner's full name or phone number (names masked as 业**)?"""
    owners = _db.session.execute(_db.select(Owner.name, Owner.phone)).all()
    assert owners
    cells = all_cells(workbook(get(client, login, world["c"], "xlsx")))
    pdf = get(client, login, world["c"], "pdf").data
    pdf_text = "".join(pdf_pages_text(pdf))
    for name, phone in owners:
        assert not any(name in v or phone in v for v in cells), name
        assert name not in pdf_text and phone not in pdf_text and phone.encode() not in pdf
    masked = [r["业主（脱敏）"] for r in ballot_sheet(workbook(get(client, login, world["c"], "xlsx")))]
    assert all(re.fullmatch(r"\w\*+", m) for m in masked), masked


def test_pdf_is_readable_chinese_with_footer_on_every_page(client, login, world):
    """Does the PDF read back as the Chinese title and rooms, with the digest, chain head and page number on each page?"""
    c = world["c"]
    resp = get(client, login, c, "pdf")
    assert resp.mimetype == "application/pdf" and resp.data.startswith(b"%PDF")
    disposition = resp.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and unquote(disposition.split("UTF-8''")[1]) == f"{c.title}-表决证据.pdf"
    pages = pdf_pages_text(resp.data)
    whole = "".join("".join(page.split("\n")) for page in pages)
    assert c.title in whole and world["comp"].name in whole and "参与人数 ≥ 2/3（全体）" in whole
    for room, _, _ in world["expected"]:
        assert room in whole
    for n, page in enumerate(pages, 1):
        line = "".join(page.split("\n"))  # the extractor breaks lines where reportlab switches font subsets
        assert c.roll_digest in line and chain_head(c) in line and f"第 {n} / {len(pages)} 页" in line


def test_pdf_embeds_wenquanyi_and_draws_each_signature(client, login, world):
    """Does the PDF embed a WenQuanYi subset (no Helvetica) and draw one signature image per ballot?"""
    pdf = get(client, login, world["c"], "pdf").data
    assert re.search(rb"/FontName /[A-Z]{6}\+WenQuanYiMicroHei", pdf) and b"/FontFile2" in pdf
    assert b"Helvetica" not in pdf
    draws = sum(len(re.findall(rb"/FormXob\.\w+ Do", content)) for content in pdf_page_contents(pdf))
    assert draws == 7


def test_pdf_paginates_hundreds_of_rows(app, client, login, db):
    """With 60 signed flats, does the PDF run to several pages, the heading row and footer on each?"""
    comp = factories.compound(buildings=(("3栋", 2, 6, 5),))  # 60 flats
    committee = factories.staff("committee", "committee", "compound", comp.id)
    c = factories.consultation(("compound", comp), by=committee)
    flats = [f for u in comp.buildings[0].units for f in u.flats]
    for i, flat in enumerate(flats):
        ballot_service.sign(resident(app, f"big{i}", flat).id, c.id, flat.id, "agree", SIG)
    _db.session.commit()
    pdf = get(client, login, c, "pdf").data
    pages = pdf_pages_text(pdf)
    assert len(pages) >= 4 and re.search(rb"/Count %d\b" % len(pages), pdf)
    whole = "".join("".join(p.split("\n")) for p in pages)
    assert all(label(f) in whole for f in flats)
    for page in pages:
        assert "表决票哈希" in "".join(page.split("\n"))  # the heading row repeats
        assert chain_head(c) in page
    rows = ballot_sheet(workbook(get(client, login, c, "xlsx")))
    assert len(rows) == 60 and rows[-1]["房屋"] == label(flats[-1])


def test_an_open_consultation_exports_a_live_count(client, login, world):
    """While open, does the export work and say the count is live, not the result?"""
    comp = world["comp"]
    committee = _db.session.scalar(_db.select(User).filter_by(name="committee"))
    c = factories.consultation(("compound", comp), by=committee)
    _db.session.commit()
    text = "\n".join(all_cells(workbook(get(client, login, c, "xlsx"))))
    assert "尚未截止" in text and "实时计数" in text
    assert ballot_sheet(workbook(get(client, login, c, "xlsx"))) == []
    assert get(client, login, c, "pdf").data.startswith(b"%PDF")


def test_staff_of_the_scope_get_it_and_others_do_not(app, client, login, world):
    """Do a street officer of the scope get through, and another grid's worker, a resident and nobody get 404/404/401?"""
    c = world["c"]
    assert get(client, login, c, "pdf", who="street").status_code == 200
    for ext in ("xlsx", "pdf"):
        url = f"/api/v1/consultations/{c.id}/evidence.{ext}"
        for who, status in (("gw2", 404), ("o0", 404)):
            resp = client.get(url, headers=login(who))
            assert resp.status_code == status, (who, ext)
            assert resp.json["error"]["code"] == "not_found"
        anonymous = client.get(url)
        assert anonymous.status_code == 401 and "error" in anonymous.json
        assert client.get(f"/api/v1/consultations/{c.id + 999}/evidence.{ext}", headers=login("committee")).status_code == 404


def test_a_draft_has_no_evidence(client, login, world):
    """Is a draft consultation answered 409 in the one error shape?"""
    committee = _db.session.scalar(_db.select(User).filter_by(name="committee"))
    draft = factories.consultation(("compound", world["comp"]), by=committee, open_=False)
    _db.session.commit()
    for ext in ("xlsx", "pdf"):
        resp = client.get(f"/api/v1/consultations/{draft.id}/evidence.{ext}", headers=login("committee"))
        assert resp.status_code == 409 and resp.json["error"]["code"] == "not_open"


def test_text_that_looks_like_a_formula_stays_text(app, client, login, db):
    """Are a title =HYPERLINK(...) and a room beginning =1+1 written as text cells that read exactly as typed, never as formulas?"""
    comp = factories.compound(buildings=(("=1+1", 1, 1, 2),))
    flat = comp.buildings[0].units[0].flats[0]
    flat.room = "@101"
    committee = factories.staff("committee", "committee", "compound", comp.id)
    c = factories.consultation(("compound", comp), by=committee, open_=False)
    c.title = '=HYPERLINK("http://x","y")'
    service.open_(committee, c.id)
    ballot_service.sign(resident(app, "formula", flat).id, c.id, flat.id, "agree", SIG)
    _db.session.commit()
    wb = workbook(get(client, login, c, "xlsx"))
    summary = {row[0].value: row[1] for row in wb["概要"].iter_rows(min_row=3) if len(row) > 1}
    title = summary["征询事项"]
    assert title.value == '=HYPERLINK("http://x","y")' and title.data_type == "s"
    sheet = wb["表决票"]
    room = sheet.cell(2, 2)
    assert room.value == "=1+11单元@101" and room.data_type == "s"
    formulas = [cell.coordinate for ws in wb.worksheets for row in ws.iter_rows() for cell in row if cell.data_type == "f"]
    assert formulas == []
