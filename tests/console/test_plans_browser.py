"""The console's contribution plans in Chromium: a plan built in the form, opened, pledged through the
API by residents, a paper pledge entered and confirmed by a second person, a payment recorded in yuan
and the ledger downloaded with totals that match the tally; a grid worker kept to the grid."""
import base64
import io
import re
from datetime import timedelta

from app.extensions import db as _db
from app.models import ContributionPlan, PlanPayment, Pledge
from app.models.places import utcnow
from app.services import plans as plan_service
from tests import factories
from tests.console.conftest import dev_sign_in, shot


def _photo(tmp_path, name="承诺书.png"):
    path = tmp_path / name
    path.write_bytes(base64.b64decode(factories.signature_png(640, 400)))
    return str(path)


def _sign_out(page):
    page.click("text=退出")
    page.wait_for_url("**/console/login")


def test_a_plan_built_opened_pledged_on_paper_paid_and_its_ledger_matches_the_tally(page, client, login, tmp_path):
    comp = factories.compound(buildings=(("1栋", 2, 3, 2),))
    b1 = comp.buildings[0]
    u1, u2 = b1.units
    factories.grid(comp, [b1], "第一网格")
    factories.staff("plan-chair", "committee", "compound", comp.id)
    factories.staff("plan-office", "community_staff", "community", comp.community_id)
    factories.staff("plan-gw", "grid_worker", "grid", b1.grid_id)
    flats = [f for u in b1.units for f in u.flats]
    for i, flat in enumerate(flats[:4]):
        factories.resident(f"plan-owner-{comp.id}-{i}", flat)
    _db.session.commit()

    dev_sign_in(page, "plan-chair")
    page.click("nav >> text=出资方案")
    page.click("text=新建出资方案")
    page.fill("input[name=title]", "1栋加装电梯出资方案")
    page.fill("textarea[name=body]", "一单元加装电梯，按楼层系数分摊，一楼免于分摊。")
    page.select_option("select[name=scope]", f"building:{b1.id}")
    page.fill("input[name=closes_at]", (utcnow() + timedelta(days=3, hours=8)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("input[name=i0_name]", "加装电梯")
    page.fill("input[name=i0_cost]", "120000")
    page.fill("input[name=i0_subsidy_name]", "政府补贴")
    page.fill("input[name=i0_subsidy]", "20000.00")
    page.select_option("select[name=i0_standard]", "floor_coefficient")
    page.fill("input[name=i0_coefs]", "1:0，2:1")  # floor 3 is missing: refused in words, nothing saved
    page.select_option("select[name=i0_applies]", f"unit:{u1.id}")
    page.fill("input[name=i1_name]", "楼道美化")
    page.fill("input[name=i1_cost]", "1200")
    page.uncheck("input[name=i1_required]")
    page.check("input[name=i1_allow_less]")
    page.check("input[name=methods][value=provident_fund]")
    shot(page, "20-plan-new")
    page.click("button:has-text('保存为草稿')")
    page.wait_for_url(re.compile(r".*/console/plans/\d+$"))
    plan_id = int(page.url.rsplit("/", 1)[1])
    plan = _db.session.get(ContributionPlan, plan_id)
    elevator = plan.items[0]
    assert elevator["cost_fen"] == 12_000_000 and elevator["subsidies"] == [{"name": "政府补贴", "amount_fen": 2_000_000}]
    assert elevator["applies_to"] == {"type": "unit", "id": u1.id} and plan.items[1]["required"] is False
    assert plan.methods == ["direct", "provident_fund"]
    page.click("button:has-text('开始认筹')")  # floor 3 has no coefficient: the service's 409 in words
    assert "3" in page.inner_text("main") and "系数" in page.inner_text("main")
    shot(page, "21-plan-refused")
    _db.session.expire_all()
    assert _db.session.get(ContributionPlan, plan_id).status == "draft"

    # A second plan, written right, is opened.
    page.goto("/console/plans/new")
    page.fill("input[name=title]", "1栋加装电梯出资方案")
    page.select_option("select[name=scope]", f"building:{b1.id}")
    page.fill("input[name=closes_at]", (utcnow() + timedelta(days=3, hours=8)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("input[name=i0_name]", "加装电梯")
    page.fill("input[name=i0_cost]", "120000")
    page.fill("input[name=i0_subsidy_name]", "政府补贴")
    page.fill("input[name=i0_subsidy]", "20000")
    page.select_option("select[name=i0_standard]", "floor_coefficient")
    page.fill("input[name=i0_coefs]", "1:0，2:1，3:1.5")
    page.select_option("select[name=i0_applies]", f"unit:{u1.id}")
    page.fill("input[name=i1_name]", "楼道美化")
    page.fill("input[name=i1_cost]", "1200")
    page.uncheck("input[name=i1_required]")
    page.fill("input[name=min_flat_share]", "1/2")
    page.click("button:has-text('保存为草稿')")
    page.wait_for_url(re.compile(r".*/console/plans/\d+$"))
    plan_id = int(page.url.rsplit("/", 1)[1])
    page.click("button:has-text('开始认筹')")
    page.wait_for_selector("h1 >> text=认筹中")

    for i, flat in enumerate(flats[2:4], 2):  # owners of u1's 2nd-floor flats pledge in the mini-program
        resp = client.post(f"/api/v1/plans/{plan_id}/pledges", headers=login(f"plan-owner-{comp.id}-{i}"),
                           json={"flat_id": flat.id, "lines": [{"item": "item1", "method": "direct"}],
                                 "signature": factories.signature_png()})
        assert resp.status_code == 201, resp.json
    _sign_out(page)

    paper_flat = flats[4]  # a 3rd-floor flat signs on paper; the grid worker enters it with its photo
    dev_sign_in(page, "plan-gw")
    page.goto(f"/console/plans/{plan_id}/paper")
    page.select_option("select[name=flat_id]", str(paper_flat.id))
    page.set_input_files("input[name=photo]", _photo(tmp_path))
    page.click("button:has-text('录入（待他人确认）')")
    page.wait_for_selector("text=纸质承诺待第二名工作人员确认")
    assert page.locator("button:has-text('照片与录入一致')").count() == 0  # not by who entered it
    _sign_out(page)

    dev_sign_in(page, "plan-office")
    page.goto(f"/console/plans/{plan_id}/paper")
    page.wait_for_function("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
    shot(page, "22-plan-paper")
    page.click("button:has-text('照片与录入一致，确认')")
    page.wait_for_selector("text=有效（计入统计）")
    _db.session.expire_all()
    paper = _db.session.scalar(_db.select(Pledge).filter_by(plan_id=plan_id, channel="paper"))
    assert paper.status == "current"

    page.goto(f"/console/plans/{plan_id}/pledges")
    assert page.locator("#plan-pledges tbody tr").count() == 3
    shot(page, "23-plan-pledges")
    page.click(f"#plan-pledges tr:has-text('{b1.name}{u1.name}{paper_flat.room}') >> text=登记缴款/退款")
    page.fill("input[name=amount]", "abc")
    page.click("button:has-text('登记')")
    assert "不是有效的金额" in page.inner_text("#form-errors")
    page.fill("input[name=amount]", "1000.50")
    page.fill("input[name=reference]", "POS-0001")
    page.set_input_files("input[name=photo]", _photo(tmp_path, "凭证.png"))
    page.click("button:has-text('登记')")
    page.wait_for_selector("#payments >> text=POS-0001")
    shot(page, "24-pledge-payment")
    _db.session.expire_all()
    payment = _db.session.scalar(_db.select(PlanPayment).filter_by(plan_id=plan_id))
    assert payment.amount_fen == 100_050 and payment.reference == "POS-0001" and payment.photo_id is not None
    with page.expect_download() as agreement:
        page.click("text=下载出资协议（PDF）")
    assert open(agreement.value.path(), "rb").read(5) == b"%PDF-"

    page.goto(f"/console/plans/{plan_id}")
    page.wait_for_function("document.querySelectorAll('#chart-plan canvas').length == 1")
    tally = plan_service.tally_for(_db.session.get(ContributionPlan, plan_id))
    assert tally["flats"]["pledging"] == 3 and tally["totals"]["net_paid_fen"] == 100_050
    assert f"承诺 {plan_service.yuan(tally['totals']['pledged_fen'])} 元" in page.inner_text("#plan-totals")
    shot(page, "25-plan-tally")
    page.click("text=未认筹房屋")
    assert page.locator("#plan-pending tbody tr").count() == len(flats) - 3
    shot(page, "26-plan-pending")
    page.go_back()
    with page.expect_download() as ledger:
        page.click("text=下载出资台账（Excel）")
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(open(ledger.value.path(), "rb").read())).active
    rows = [r for r in sheet.iter_rows(values_only=True)]
    header = next(r for r in rows if r and r[0] == "房屋")
    total = next(r for r in rows if r and r[0] == "合计")
    sums = dict(zip(header, total))
    assert round(sums["承诺合计（元）"] * 100) == tally["totals"]["pledged_fen"]
    assert round(sums["已缴合计（元）"] * 100) == tally["totals"]["net_paid_fen"]

    page.click("button:has-text('立即截止')")
    page.wait_for_selector("text=截止时已存档")
    _db.session.expire_all()
    assert _db.session.get(ContributionPlan, plan_id).status in ("funded", "not_funded")


def test_a_grid_worker_cannot_reach_another_grids_plan_pledges_or_pending_flats(page, client, login, tmp_path):
    comp = factories.compound(buildings=(("1栋", 1, 2, 2), ("2栋", 1, 2, 2)))
    b1, b2 = comp.buildings
    factories.grid(comp, [b1], "第一网格")
    factories.grid(comp, [b2], "第二网格")
    office = factories.staff("plans-office2", "community_staff", "community", comp.community_id)
    factories.staff("plans-gw1", "grid_worker", "grid", b1.grid_id)
    other_gw = factories.staff("plans-gw2", "grid_worker", "grid", b2.grid_id)
    whole = plan_service.create(office, {
        "scope": {"type": "compound", "id": comp.id}, "title": "小区出资", "items": [
            {"name": "屋面防水", "required": True, "cost_fen": 40_000, "standard": {"type": "fixed"}}],
        "methods": ["direct"], "funding_rule": {"required_items": True}, "closes_at": utcnow() + timedelta(days=2)})
    only_b2 = plan_service.create(office, {
        "scope": {"type": "building", "id": b2.id}, "title": "2栋出资", "items": [
            {"name": "外墙", "required": True, "cost_fen": 40_000, "standard": {"type": "fixed"}}],
        "methods": ["direct"], "funding_rule": {"required_items": True}, "closes_at": utcnow() + timedelta(days=2)})
    plan_service.open_(office, whole.id)
    plan_service.open_(office, only_b2.id)
    from app.services import pledges

    flat2 = b2.units[0].flats[0]
    theirs = pledges.enter_paper(other_gw, whole.id, flat2.id, [{"item": "item1", "method": "direct"}],
                                 factories.signature_png())
    pledges.confirm_paper(office, theirs.id)
    _db.session.commit()

    dev_sign_in(page, "plans-gw1")
    page.click("nav >> text=出资方案")
    assert "小区出资" in page.inner_text("main") and "2栋出资" not in page.inner_text("main")
    seen = {}
    for url in [f"/console/plans/{whole.id}", f"/console/plans/{whole.id}/pending",
                f"/console/plans/{whole.id}/pledges", f"/console/plans/{whole.id}/paper"]:
        page.goto(url)
        seen[url] = page.inner_text("main")
    shot(page, "27-grid-plan-paper")
    everything = "\n".join(seen.values())
    assert "2栋1单元" not in everything and "1栋1单元" in seen[f"/console/plans/{whole.id}/pending"]
    for url in [f"/console/plans/{only_b2.id}", f"/console/plans/{only_b2.id}/pending",
                f"/console/plans/{only_b2.id}/pledges", f"/console/plans/{only_b2.id}/ledger.xlsx",
                f"/console/pledges/{theirs.id}", f"/console/pledges/{theirs.id}/agreement.pdf",
                f"/console/paper-pledges/{theirs.id}/photo"]:
        resp = page.request.get(url)
        assert resp.status == 404, f"{url} → {resp.status}"
    # The compound plan's ledger holds the grid's flats only.
    resp = page.request.get(f"/console/plans/{whole.id}/ledger.xlsx")
    assert resp.status == 200
    from openpyxl import load_workbook

    text = "\n".join(str(v) for row in load_workbook(io.BytesIO(resp.body())).active.iter_rows(values_only=True)
                     for v in row if v is not None)
    assert "1栋1单元" in text and "2栋1单元" not in text
    page.goto(f"/console/plans/{whole.id}")
    assert "立即截止" not in page.inner_text("main")  # a grid worker does not manage a plan
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.content()).group(1)
    forced = page.request.post(f"/console/plans/{whole.id}/close", form={"csrf_token": token})
    assert forced.status == 403 and "不能截止出资方案" in forced.text()
