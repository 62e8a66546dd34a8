"""Every operation's success answer, from a real request with realistic data, matches the response
schema the OpenAPI document declares for it (app/api/outputs.py): every required field present,
every type right, and no field the schema does not declare (the check sets additionalProperties:
false on every object schema, whatever the document says). Files answer the media type declared.

This is what keeps the mini-program and the backend from drifting apart (issue 9): the mini-program's
tests check their fixtures against the same document (miniprogram/tests/openapi.json)."""
import copy
import itertools
import json
import re
from datetime import timedelta

import pytest
import schemathesis
from schemathesis.core.failures import Failure, FailureGroup

from app.extensions import db as _db
from app.models import Flat
from app.models.places import utcnow
from tests import factories

_codes = itertools.count(1)
_names = itertools.count(1)


def strict(document):
    """The document with additionalProperties: false on every object schema that does not say."""
    document = copy.deepcopy(document)

    def walk(node):
        if isinstance(node, dict):
            if "properties" in node and "additionalProperties" not in node:
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document.get("components", {}))
    walk(document.get("paths", {}))
    return document


def openapi_path(rule):
    return re.sub(r"<([^<:]+:)?", "{", rule).replace(">", "}")


class Checker:
    """Sends requests through the test client and checks each answer against the document."""

    def __init__(self, app, client):
        self.app, self.client = app, client
        self.document = client.get("/api/v1/openapi.json").get_json()
        self.schema = schemathesis.openapi.from_dict(strict(self.document))
        self.adapter = app.url_map.bind("localhost")
        self.checked = set()

    def operations(self):
        return {(path, method) for path, item in self.document["paths"].items() for method in item
                if method in {"get", "post", "put", "patch", "delete"}}

    def __call__(self, method, url, status=200, **kwargs):
        resp = self.client.open(url, method=method.upper(), **kwargs)
        assert resp.status_code == status, (method, url, resp.status_code, resp.get_data(as_text=True)[:500])
        rule, _ = self.adapter.match(url.split("?")[0], method=method.upper(), return_rule=True)
        path = openapi_path(rule.rule)
        documented = self.document["paths"][path][method.lower()]["responses"]
        assert str(status) in documented, f"{method.upper()} {path}: {status} is not documented"
        content = documented[str(status)]["content"]
        assert resp.mimetype in content, f"{method.upper()} {path}: answered {resp.mimetype}, documents {list(content)}"
        if resp.mimetype == "application/json":
            assert content["application/json"].get("schema"), f"{method.upper()} {path}: no schema for {status}"
            try:
                self.schema[path][method.upper()].validate_response(resp)
            except (Failure, FailureGroup) as exc:
                raise AssertionError(f"{method.upper()} {path} {status} does not match its schema:\n{exc}\n"
                                     f"answer: {json.dumps(resp.json, ensure_ascii=False)[:2000]}") from None
        else:
            assert resp.get_data(), f"{method.upper()} {path}: an empty file"
        self.checked.add((path, method.lower()))
        return resp.json if resp.mimetype == "application/json" else resp


@pytest.fixture()
def check(app, client):
    return Checker(app, client)


def sign_in(check, name):
    """Sign in through the emulator (the answer checked too); the Authorization header."""
    data = check("post", "/api/v1/auth/login", json={"code": f"dev-{name}.answers{next(_codes)}"})["data"]
    return {"Authorization": "Bearer " + data["token"]}


def _export_job(app, check, cid, staff):
    """A large export (the inline limit set to 0): 202 with the job, the job polled, run, and its file."""
    from app.services import exports

    before = {key: app.config.get(key) for key in ("EVIDENCE_INLINE_MAX", "JOB_RUNNER")}
    app.config.update(EVIDENCE_INLINE_MAX=0, JOB_RUNNER="none")
    try:
        job = check("get", f"/api/v1/consultations/{cid}/evidence.xlsx", status=202, headers=staff)["data"]
    finally:
        for key, value in before.items():  # as it was (an unset key stays unset: the default)
            if value is None:
                app.config.pop(key, None)
            else:
                app.config[key] = value
    assert check("get", job["url"], headers=staff)["data"]["status"] == "queued"
    assert exports.run(job["id"]) == "done"
    done = check("get", job["url"], headers=staff)["data"]
    assert done["progress"] == 100 and done["download_url"]
    assert check("get", done["download_url"], headers=staff).data.startswith(b"PK")


def test_every_operation_answers_what_its_schema_declares(app, db, client, check):
    """Does every operation's real answer (resident, reviewer and committee views; open, closed and
    published consultations; online and paper ballots) match its documented schema, no field more?"""
    n = next(_names)
    comp = factories.compound(buildings=(("1栋", 2, 2, 2), ("2栋", 1, 1, 2)))
    building = comp.buildings[0]
    grid = factories.grid(comp, comp.buildings)
    committee = factories.staff(f"ans-committee{n}", "committee", "compound", comp.id)
    factories.staff(f"ans-grid{n}", "grid_worker", "grid", grid.id)
    factories.staff(f"ans-admin{n}", "admin")
    flats = [f for u in building.units for f in u.flats]
    factories.resident(f"ans-owner{n}", flats[0])
    owner2_phone = flats[2].owner.phone
    _db.session.get(Flat, flats[5].id).binding_locked_at = utcnow()
    draft = factories.consultation(("building", building), by=committee, open_=False)
    ids = {"flat": [f.id for f in flats], "building": building.id, "scene": building.scene, "draft": draft.id}
    _db.session.commit()

    # who am I: a resident with a binding, a reviewer with a scoped role, an admin with no scope
    owner = sign_in(check, f"ans-owner{n}")
    worker = sign_in(check, f"ans-grid{n}")
    staff = sign_in(check, f"ans-committee{n}")
    admin = sign_in(check, f"ans-admin{n}")
    me = check("get", "/api/v1/me", headers=owner)["data"]
    assert me["bindings"] and me["roles"] == []
    assert check("get", "/api/v1/me", headers=worker)["data"]["roles"][0]["scope"]["type"] == "grid"
    assert check("get", "/api/v1/me", headers=admin)["data"]["roles"][0]["scope"] is None
    check("get", "/healthz")

    # a resident scans, verifies a phone, binds at once; a tenant and a family member wait for review
    newcomer, tenant, family = (sign_in(check, f"ans-{who}{n}") for who in ("newcomer", "tenant", "family"))
    scanned = check("get", f"/api/v1/scan/{ids['scene']}", headers=newcomer)["data"]
    assert scanned["units"][0]["flats"]
    check("post", "/api/v1/auth/phone", headers=newcomer, json={"code": f"phone-{owner2_phone}"})
    bound = check("post", "/api/v1/bindings", 201, headers=newcomer,
                  json={"flat_id": ids["flat"][2], "relation": "owner", "name": "新业主"})["data"]
    assert bound["status"] == "approved"
    waiting = check("post", "/api/v1/bindings", 201, headers=tenant,
                    json={"flat_id": ids["flat"][0], "relation": "tenant", "name": "租客"})["data"]
    refused = check("post", "/api/v1/bindings", 201, headers=family,
                    json={"flat_id": ids["flat"][1], "relation": "family", "name": "家人", "phone_last4": "0000"})["data"]
    queue = check("get", "/api/v1/bindings?status=pending", headers=worker)["data"]
    assert {b["id"] for b in queue} == {waiting["id"], refused["id"]}
    assert "applicant" not in check("get", f"/api/v1/bindings/{waiting['id']}", headers=tenant)["data"]
    assert "applicant" in check("get", f"/api/v1/bindings/{waiting['id']}", headers=worker)["data"]
    check("post", f"/api/v1/bindings/{waiting['id']}/approve", headers=worker)
    assert check("post", f"/api/v1/bindings/{waiting['id']}/confirm-in-person", headers=worker)["data"]["level"] == 2
    check("post", f"/api/v1/bindings/{refused['id']}/reject", headers=worker, json={"reason": "未能核实"})
    check("delete", f"/api/v1/bindings/{bound['binding']['id']}", headers=newcomer, json={"reason": "已搬走"})

    # a flat locked after failed attempts, unlocked by its grid worker
    locked = check("get", "/api/v1/bindings/locked-flats", headers=worker)["data"]
    assert [f["id"] for f in locked] == [ids["flat"][5]]
    check("post", f"/api/v1/flats/{ids['flat'][5]}/unlock", headers=worker, json={"reason": "已与业主核实"})

    # the building's code and poster
    check("get", f"/api/v1/buildings/{ids['building']}/qrcode.png", headers=worker)
    check("get", f"/api/v1/buildings/{ids['building']}/poster.png", headers=worker)

    # a consultation: created, listed, opened, signed online and on paper, counted, closed, published
    closes_at = (utcnow() + timedelta(days=3)).isoformat() + "Z"
    created = check("post", "/api/v1/consultations", 201, headers=staff, json={
        "scope": {"type": "compound", "id": comp.id}, "title": "加装电梯", "body": "1栋加装电梯方案", "kind": "elevator",
        "rule": {"preset": "major", "required_consent_flat_ids": [ids["flat"][1]], "objection_veto": True,
                 "thresholds": [{"what": "agree", "measure": "flats", "base": "all", "share": "1/2"}]},
        "closes_at": closes_at})["data"]
    cid = created["id"]
    check("post", f"/api/v1/consultations/{cid}/open", headers=staff)
    assert len(check("get", "/api/v1/consultations", headers=staff)["data"]) == 2  # the draft too
    check("get", f"/api/v1/consultations/{ids['draft']}", headers=staff)
    signed = check("post", f"/api/v1/consultations/{cid}/ballots", 201, headers=owner, json={
        "flat_id": ids["flat"][0], "choice": "agree", "signature": factories.signature_png()},
    )["data"]
    paper = check("post", f"/api/v1/consultations/{cid}/paper-ballots", 201, headers=worker, json={
        "flat_id": ids["flat"][3], "choice": "disagree", "photo": factories.signature_png()})["data"]
    check("get", f"/api/v1/paper-ballots/{paper['id']}/photo", headers=staff)
    entered = check("get", f"/api/v1/consultations/{cid}/paper-ballots", headers=worker)["data"]
    assert entered[0]["confirmed_by"] is None
    check("post", f"/api/v1/paper-ballots/{paper['id']}/confirm", headers=staff)
    assert check("get", f"/api/v1/consultations/{cid}/paper-ballots", headers=worker)["data"][0]["confirmed_by"]
    listed = check("get", f"/api/v1/consultations?flat_id={ids['flat'][0]}", headers=owner)["data"]
    assert listed[0]["ballot"]["choice"] == "agree"
    hidden = check("get", f"/api/v1/consultations/{cid}?flat_id={ids['flat'][0]}", headers=tenant)["data"]
    assert hidden["answered"] is True and hidden["ballot"] is None  # a tenant sees no choice before publication
    check("get", f"/api/v1/consultations/{cid}", headers=staff)

    # written proxies (issue 15): the owner names the tenant for this consultation, then revokes; a grid
    # worker enters a paper proxy, a second staff member confirms it beside its photo
    tenant_id = check("get", "/api/v1/me", headers=tenant)["data"]["user"]["id"]
    granted = check("post", "/api/v1/proxies", 201, headers=owner, json={
        "flat_id": ids["flat"][0], "proxy_user_id": tenant_id, "proxy_name": "租客",
        "scope": {"type": "consultation", "id": cid}, "signature": factories.signature_png()})["data"]
    as_proxy = check("get", f"/api/v1/consultations/{cid}?flat_id={ids['flat'][0]}", headers=tenant)["data"]
    assert as_proxy["signing_for"]["number"] == granted["number"] and as_proxy["cannot_sign"] is None
    assert check("get", "/api/v1/proxies", headers=tenant)["data"][0]["role"] == "holder"
    check("get", f"/api/v1/proxies/{granted['id']}", headers=owner)
    assert check("post", f"/api/v1/proxies/{granted['id']}/revoke", headers=owner)["data"]["status"] == "revoked"
    paper_proxy = check("post", "/api/v1/proxies/paper", 201, headers=worker, json={
        "flat_id": ids["flat"][1], "proxy_user_id": tenant_id, "proxy_name": "租客", "scope": {"type": "standing"},
        "photo": factories.signature_png()})["data"]
    check("get", f"/api/v1/proxies/{paper_proxy['id']}/photo", headers=staff)
    assert check("get", f"/api/v1/proxies?flat_id={ids['flat'][1]}", headers=worker)["data"][0]["status"] == "unconfirmed"
    check("post", f"/api/v1/proxies/{paper_proxy['id']}/confirm", headers=staff)

    live = check("get", f"/api/v1/consultations/{cid}/tally", headers=staff)["data"]
    assert live["stored"] is False and live["buildings"]
    pending = check("get", f"/api/v1/consultations/{cid}/pending-flats", headers=worker)["data"]
    assert pending and pending[0]["owner"]["phone"]
    check("get", f"/api/v1/receipts/{signed['receipt']}")
    assert check("get", f"/api/v1/receipts/{paper['receipt']}")["data"]["confirmed_at"]
    check("get", f"/api/v1/consultations/{cid}/evidence.xlsx", headers=staff)
    check("get", f"/api/v1/consultations/{cid}/evidence.pdf", headers=staff)
    _export_job(app, check, cid, staff)
    closed = check("post", f"/api/v1/consultations/{cid}/close", headers=staff)["data"]
    assert closed["passed"] is False
    stored = check("get", f"/api/v1/consultations/{cid}/tally", headers=staff)["data"]
    assert stored["stored"] is True and stored["counted_at"]
    check("post", f"/api/v1/consultations/{cid}/publish", headers=staff)
    shown = check("get", f"/api/v1/consultations/{cid}?flat_id={ids['flat'][0]}", headers=tenant)["data"]
    assert shown["result"]["passed"] is False and shown["ballot"]["choice"] == "agree"
    results = check("get", f"/api/v1/consultations/{cid}/results?flat_id={ids['flat'][0]}", headers=owner)["data"]
    assert {r["choice"] for r in results["rooms"]} >= {None, "agree", "disagree"}

    # a notice to the compound, read in the inbox
    notice = check("post", "/api/v1/notices", 201, headers=staff, json={
        "scope": {"type": "compound", "id": comp.id}, "title": "停水通知", "body": "明日上午停水。"})["data"]
    assert notice["recipients"] >= 1
    check("get", "/api/v1/notices", headers=staff)
    check("get", "/api/v1/notices/scopes", headers=staff)
    box = check("get", "/api/v1/inbox", headers=owner)["data"]
    check("post", f"/api/v1/inbox/{box['items'][0]['id']}/read", headers=owner)
    check("post", "/api/v1/inbox/read-all", headers=owner)

    # a 公示 on the consultation with its objection period: an opinion held by WeChat's check, shown
    # with its photo, released and answered; another held one refused
    period = {"start": utcnow().isoformat() + "Z", "end": (utcnow() + timedelta(days=7)).isoformat() + "Z"}
    publicities = [check("post", "/api/v1/notices", 201, headers=staff, json={
        "kind": "publicity", "scope": {"type": "compound", "id": comp.id}, "title": f"公示{i}", "body": "方案公示",
        "period": period, "subject": {"type": "consultation", "id": cid}})["data"] for i in (1, 2)]
    assert check("get", "/api/v1/inbox", headers=owner)["data"]["items"][0]["publicity"]["objections_open"]
    filed = [check("post", f"/api/v1/notices/{p['id']}/objections", 201, headers=owner, json={
        "flat_id": ids["flat"][0], "kind": "opinion", "text": "可以私下交易吗", "photo": factories.signature_png()})["data"]
        for p in publicities]
    assert filed[0]["status"] == "held"
    check("get", f"/api/v1/notices/{publicities[0]['id']}/objections", headers=owner)
    check("get", f"/api/v1/objections/{filed[0]['id']}/photo", headers=staff)
    check("post", f"/api/v1/objections/{filed[0]['id']}/release", headers=staff)
    check("post", f"/api/v1/objections/{filed[0]['id']}/answer", headers=staff, json={"answer": "已收到，谢谢"})
    check("post", f"/api/v1/objections/{filed[1]['id']}/reject", headers=staff, json={"reason": "与公示无关"})
    assert check("get", f"/api/v1/notices/{publicities[0]['id']}/objections", headers=staff)["data"]["objections"]

    # subscribe consent, and the outbox as staff read it
    check("get", "/api/v1/subscriptions", headers=owner)
    check("post", "/api/v1/subscriptions", headers=owner, json={"accepted": ["notice", "ballot_reminder"]})
    from app.services import outbox

    outbox.enqueue(me["user"]["id"], "notice", {"thing1": "停水通知"}, dedupe_key=f"answers-{n}", flat_id=ids["flat"][0],
                   subject="notice")
    _db.session.commit()
    assert check("get", "/api/v1/outbox", headers=worker)["data"]

    # a renovation project: created, linked to the consultation on its plan, moved on, listed, shown
    project = check("post", "/api/v1/projects", 201, headers=staff, json={
        "compound_id": comp.id, "title": "综合改造", "body": "雨污分流与加装电梯",
        "items": [{"name": "雨污分流", "level": "basic"}, {"name": "加装电梯", "level": "improvement"}],
        "budget_fen": 120_000_000})["data"]
    check("post", f"/api/v1/projects/{project['id']}/links", headers=staff, json={"plan_consultation_id": cid})
    moved = check("post", f"/api/v1/projects/{project['id']}/phase", headers=staff, json={"phase": "plan"})["data"]
    assert moved["next"]["met"] is False and moved["consultation"]["passed"] is False
    check("get", "/api/v1/projects", headers=staff)
    assert check("get", f"/api/v1/projects?flat_id={ids['flat'][0]}", headers=owner)["data"][0]["id"] == project["id"]
    check("get", f"/api/v1/projects/{project['id']}", headers=owner)

    # a contribution plan: created, opened, explained to an owner and a tenant, pledged online and on
    # paper, paid and refunded, tallied, listed, closed (not funded), the ledger and the agreement
    plan = check("post", "/api/v1/plans", 201, headers=staff, json={
        "scope": {"type": "building", "id": ids["building"]}, "title": "1栋加装电梯出资", "body": "出资方案",
        "items": [{"key": "lift", "name": "加装电梯", "cost_fen": 8_000_000,
                   "subsidies": [{"name": "政府补贴", "amount_fen": 2_000_000}],
                   "standard": {"type": "floor_coefficient", "coefficients": {"1": "0", "2": "1.2"}},
                   "applies_to": {"type": "unit", "id": building.units[0].id}},
                  {"key": "paint", "name": "楼道粉刷", "required": False, "cost_fen": 80_000,
                   "standard": {"type": "flat_coefficient", "coefficients": {str(ids["flat"][0]): "2"}}}],
        "methods": ["direct", "labour"], "labour_rate_fen": 2500,
        "funding_rule": {"min_flat_share": "2/3", "required_flat_ids": [ids["flat"][1]]}, "closes_at": closes_at})["data"]
    pid = plan["id"]
    check("get", f"/api/v1/plans/{pid}", headers=staff)
    check("post", f"/api/v1/plans/{pid}/open", headers=staff)
    mine = check("get", f"/api/v1/plans/{pid}?flat_id={ids['flat'][0]}", headers=owner)["data"]["flat"]
    assert mine["items"][0]["explanation"]
    assert check("get", f"/api/v1/plans?flat_id={ids['flat'][0]}", headers=tenant)["data"][0]["flat"]["pledge"] is None
    pledged = check("post", f"/api/v1/plans/{pid}/pledges", 201, headers=owner, json={
        "flat_id": ids["flat"][0], "lines": [{"item": "lift", "method": "direct"},
                                             {"item": "paint", "method": "labour", "hours": 8}],
        "signature": factories.signature_png()})["data"]
    on_paper = check("post", f"/api/v1/plans/{pid}/paper-pledges", 201, headers=worker, json={
        "flat_id": ids["flat"][3], "lines": [{"item": "lift", "method": "direct"}], "photo": factories.signature_png()})["data"]
    check("get", f"/api/v1/plans/{pid}/paper-pledges", headers=worker)
    check("get", f"/api/v1/paper-pledges/{on_paper['id']}/photo", headers=staff)
    check("post", f"/api/v1/paper-pledges/{on_paper['id']}/confirm", headers=staff)
    paid = check("post", f"/api/v1/pledges/{pledged['id']}/payments", 201, headers=admin, json={
        "amount_fen": 10_000, "method": "direct", "paid_on": "2026-11-01", "reference": "转账 001",
        "photo": factories.signature_png()})["data"]
    check("get", f"/api/v1/payments/{paid['payments'][0]['id']}/photo", headers=staff)
    check("get", f"/api/v1/plans/{pid}/pledges", headers=staff)
    check("get", f"/api/v1/plans/{pid}/tally", headers=staff)
    check("get", f"/api/v1/plans/{pid}/pending-flats", headers=worker)
    check("get", f"/api/v1/plans", headers=staff)
    check("get", "/api/v1/pledges", headers=owner)
    check("get", f"/api/v1/pledges/{pledged['id']}", headers=owner)
    check("get", f"/api/v1/pledges/{pledged['id']}/agreement.pdf", headers=owner)
    check("get", f"/api/v1/plans/{pid}/ledger.xlsx", headers=staff)
    assert check("post", f"/api/v1/plans/{pid}/close", headers=staff)["data"]["outcome"]["funded"] is False
    assert check("get", f"/api/v1/plans/{pid}/tally", headers=staff)["data"]["refunds_due"]
    check("post", f"/api/v1/pledges/{pledged['id']}/refunds", 201, headers=admin, json={
        "amount_fen": 10_000, "method": "direct", "paid_on": "2026-11-02"})

    # site reports during works (a photo, an answer, resolved and reopened; a doubtful one held and
    # released, another rejected), then the representatives' acceptance with a defect resolved
    from app.models.projects import PHASES
    from app.services import projects as project_service

    works_project = project_service.create(committee, {"compound_id": comp.id, "title": "综合改造", "budget_fen": 100,
                                                       "items": [{"name": "雨污分流", "level": "basic"}]})
    for phase in PHASES[1:PHASES.index("works") + 1]:
        project_service._enter(works_project, phase, committee, "测试")
    factories.staff(f"ans-sup{n}", "supervisor", "compound", comp.id)
    factories.staff(f"ans-rep{n}", "representative", "compound", comp.id)
    prid = works_project.id
    _db.session.commit()
    supervisor, representative = sign_in(check, f"ans-sup{n}"), sign_in(check, f"ans-rep{n}")
    site_report = check("post", f"/api/v1/projects/{prid}/reports", 201, headers=owner, json={
        "text": "楼道堆放建材", "place": {"building_id": ids["building"], "unit_id": building.units[0].id},
        "photos": [factories.signature_png()]})["data"]
    held = [check("post", f"/api/v1/projects/{prid}/reports", 201, headers=supervisor, json={
        "text": f"有人说可以私下交易{i}", "place": {"text": "小区东门"}})["data"] for i in (1, 2)]
    assert held[0]["text_state"] == "held"
    check("get", f"/api/v1/reports/{site_report['id']}/photos/1", headers=owner)
    check("post", f"/api/v1/reports/{site_report['id']}/answer", headers=staff, json={"answer": "已清理"})
    check("post", f"/api/v1/reports/{site_report['id']}/resolve", headers=owner)
    check("post", f"/api/v1/reports/{site_report['id']}/reopen", headers=supervisor, json={"reason": "又堆上了"})
    check("post", f"/api/v1/reports/{held[0]['id']}/release", headers=staff)
    check("post", f"/api/v1/reports/{held[1]['id']}/reject", headers=staff, json={"reason": "与施工无关"})
    assert check("get", f"/api/v1/reports/{site_report['id']}", headers=owner)["data"]["history"]
    assert len(check("get", f"/api/v1/projects/{prid}/reports", headers=staff)["data"]["reports"]) == 3
    check("get", f"/api/v1/projects/{prid}/reports?status=reopened", headers=owner)
    project_service._enter(project_service.lock(prid), "acceptance", committee, "主体完工")
    _db.session.commit()
    accepted = check("post", f"/api/v1/projects/{prid}/acceptance", 201, headers=representative, json={
        "opinion": "fail", "remarks": "外墙需整改", "defects": ["3栋外墙空鼓"], "signature": factories.signature_png()})["data"]
    check("post", f"/api/v1/defects/{accepted['defects']['open'][0]['id']}/resolve", headers=staff,
          json={"note": "已重新抹灰"})
    assert check("get", f"/api/v1/projects/{prid}/acceptance", headers=owner)["data"]["defects"]["resolved"]

    # evaluation figures: a compound with its consultation, plan and a satisfaction survey (rated
    # through the models here) as rows; its community with the compound as a child row; the workbook
    from app.models.projects import Survey, SurveyResponse

    rated = Survey(compound_id=comp.id, scope_type="compound", scope_id=comp.id, kind="satisfaction", title="满意度",
                   questions=[{"key": "overall", "kind": "rating", "text": "总体", "options": [], "required": True}],
                   status="open", closes_at=utcnow() + timedelta(days=3), flats=len(ids["flat"]))
    _db.session.add(rated)
    _db.session.flush()
    _db.session.add_all(SurveyResponse(survey_id=rated.id, flat_id=f, user_id=me["user"]["id"], current=True,
                                       answers={"overall": v}) for f, v in zip(ids["flat"][:3], (5, 4, 2)))
    _db.session.commit()
    figures = check("get", f"/api/v1/stats?node=compound:{comp.id}", headers=staff)["data"]
    assert figures["items"] and figures["figures"]["satisfaction"]["mean_exact"] == "11/3"
    assert check("get", f"/api/v1/stats?node=community:{comp.community_id}", headers=admin)["data"]["children"]
    check("get", f"/api/v1/stats.xlsx?node=compound:{comp.id}", headers=staff)

    # surveys: a needs survey with every kind of question and a satisfaction survey (the preset),
    # created, listed as drafts, opened, answered by the owner and the tenant of a flat (texts held),
    # one released and one rejected, results live for staff (rooms) and closed for a resident, the workbook
    needs = check("post", "/api/v1/surveys", 201, headers=staff, json={
        "scope": {"type": "building", "id": ids["building"]}, "kind": "needs", "title": "改造需求调查", "body": "请选择",
        "closes_at": closes_at, "questions": [
            {"kind": "single", "text": "最需要的项目", "options": [{"key": "lift", "label": "加装电梯"},
                                                              {"key": "roof", "label": "屋面防水"}]},
            {"kind": "multiple", "text": "还需要", "options": [{"key": "light", "label": "路灯"}, {"key": "park", "label": "车位"}]},
            {"kind": "rating", "text": "现状评分"}, {"key": "note", "kind": "text", "text": "建议", "required": False}]})["data"]
    satisfaction = check("post", "/api/v1/surveys", 201, headers=staff, json={
        "scope": {"type": "compound", "id": comp.id}, "kind": "satisfaction", "title": "满意度评价", "closes_at": closes_at})["data"]
    assert check("get", "/api/v1/surveys", headers=staff)["data"][0]["status"] == "draft"
    check("post", f"/api/v1/surveys/{needs['id']}/open", headers=staff)
    check("post", f"/api/v1/surveys/{satisfaction['id']}/open", headers=staff)
    needed = check("post", f"/api/v1/surveys/{needs['id']}/responses", 201, headers=owner, json={
        "flat_id": ids["flat"][0], "answers": {"q1": "lift", "q2": ["light", "park"], "q3": 2, "note": "有事加微信"}})["data"]
    rated_by_tenant = check("post", f"/api/v1/surveys/{satisfaction['id']}/responses", 201, headers=tenant, json={
        "flat_id": ids["flat"][0], "answers": {"quality": 5, "site_management": 4, "environment": 4, "management": 3,
                                               "overall": 5, "comment": "可以私下交易吗"}})["data"]
    assert needed["text_state"] == rated_by_tenant["text_state"] == "held"
    assert check("get", f"/api/v1/surveys?flat_id={ids['flat'][0]}", headers=tenant)["data"][0]["flat"]["response"]
    check("get", f"/api/v1/surveys/{needs['id']}?flat_id={ids['flat'][0]}", headers=owner)
    assert len(check("get", f"/api/v1/surveys/{needs['id']}/held", headers=staff)["data"]) == 1
    check("post", f"/api/v1/survey-responses/{needed['id']}/release", headers=staff)
    check("post", f"/api/v1/survey-responses/{rated_by_tenant['id']}/reject", headers=staff, json={"reason": "与改造无关"})
    live = check("get", f"/api/v1/surveys/{needs['id']}/results", headers=staff)["data"]
    assert live["questions"][3]["comments"][0]["room"]
    check("post", f"/api/v1/surveys/{satisfaction['id']}/close", headers=staff)
    public = check("get", f"/api/v1/surveys/{satisfaction['id']}/results?flat_id={ids['flat'][0]}", headers=owner)["data"]
    assert public["overall"]["mean"] == "21/5"
    check("get", f"/api/v1/surveys/{satisfaction['id']}/results.xlsx", headers=staff)

    # the staff console's sign-in: a committee member's phone reads the scanned ticket and confirms it
    from app.services import console_tickets

    ticket, _ = console_tickets.issue("Chrome · 127.0.0.1")
    _db.session.commit()
    assert check("get", f"/api/v1/console-tickets/{ticket}", headers=staff)["data"]["state"] == "waiting"
    assert check("post", f"/api/v1/console-tickets/{ticket}/confirm", headers=staff)["data"]["state"] == "confirmed"

    check("post", "/api/v1/auth/logout?all=1", headers=family)

    missed = sorted(check.operations() - check.checked)
    assert not missed, f"operations whose answer no request checked: {missed}"


def test_an_undeclared_or_missing_field_fails_the_check(app, db, client, check):
    """Does the check catch a field the schema does not declare, and a required field missing?"""
    resp = client.get("/healthz")
    good = resp.json
    check.schema["/healthz"]["GET"].validate_response(resp)
    resp.set_data(json.dumps({"data": {**good["data"], "extra": 1}}))
    with pytest.raises((Failure, FailureGroup), match="'extra' was unexpected"):
        check.schema["/healthz"]["GET"].validate_response(resp)
    resp.set_data(json.dumps({"data": {"status": "ok"}}))
    with pytest.raises((Failure, FailureGroup), match='"database" is a required property'):
        check.schema["/healthz"]["GET"].validate_response(resp)


def test_every_success_answer_is_documented(app, client):
    """Does every operation declare its success answer: a JSON schema of {"data": ...}, or a file type?"""
    document = client.get("/api/v1/openapi.json").get_json()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            success = {s: r for s, r in operation["responses"].items() if s.startswith("2")}
            # one success answer; an export also 202 with the job to poll (app/api/evidence.py)
            assert len(success) == 1 or sorted(success) == ["200", "202"], (method, path, list(success))
            for response in success.values():
                content = response["content"]
                if "application/json" in content:
                    ref = content["application/json"]["schema"]["$ref"]
                    envelope = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
                    assert envelope["required"] == ["data"] and list(envelope["properties"]) == ["data"], (method, path)
                else:
                    assert sorted(content) in (["image/png"], ["image/jpeg", "image/png"], ["application/pdf"], [
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"], [
                        "application/pdf", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"]), (
                        method, path, list(content))
