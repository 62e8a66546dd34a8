"""Do POST /subscriptions count acceptances and refuse what WeChat would not allow, and does
GET /outbox show staff the messages of their scope only, without openids or phone numbers?"""
import json
from datetime import timedelta

from flask import current_app

from app.extensions import db as _db
from app.models import OutboxMessage
from app.models.places import utcnow
from app.services import outbox
from tests import factories


def test_accepting_templates_adds_one_quota_each(client, login):
    """Does each accepted template add one send, twice accepted two, and GET list every template?"""
    me = login("sub-resident")
    resp = client.post("/api/v1/subscriptions", headers=me, json={"accepted": ["ballot_reminder", "notice"]})
    assert resp.status_code == 200, resp.json
    have = {q["template"]: q["remaining"] for q in resp.json["data"]["quotas"]}
    configured = set(current_app.config["SUBSCRIBE_TEMPLATES"])
    assert have == {name: {"ballot_reminder": 1, "notice": 1}.get(name, 0) for name in configured}
    assert {"ballot_reminder", "result_published", "notice", "plan_deadline", "report_answered"} <= configured
    client.post("/api/v1/subscriptions", headers=me, json={"accepted": ["notice"]})
    listed = client.get("/api/v1/subscriptions", headers=me).json["data"]["quotas"]
    notice = next(q for q in listed if q["template"] == "notice")
    assert notice["remaining"] == 2 and notice["title"] == "通知公告" and notice["template_id"]
    other = login("sub-other")
    assert all(q["remaining"] == 0 for q in client.get("/api/v1/subscriptions", headers=other).json["data"]["quotas"])


def test_unknown_repeated_or_four_templates_are_422_in_chinese(client, login):
    """Is an unknown template, a repeated one, or more than 3 at once a 422 that says why in Chinese,
    with nothing counted?"""
    me = login("sub-bad")
    unknown = client.post("/api/v1/subscriptions", headers=me, json={"accepted": ["notice", "lottery"]})
    assert unknown.status_code == 422
    assert "没有这些订阅消息模板：lottery" in json.dumps(unknown.json, ensure_ascii=False)
    four = client.post("/api/v1/subscriptions", headers=me,
                       json={"accepted": ["notice", "ballot_reminder", "plan_deadline", "report_answered"]})
    assert four.status_code == 422 and "一次最多订阅 3 个模板" in json.dumps(four.json, ensure_ascii=False)
    twice = client.post("/api/v1/subscriptions", headers=me, json={"accepted": ["notice", "notice"]})
    assert twice.status_code == 422 and "重复" in json.dumps(twice.json, ensure_ascii=False)
    assert client.post("/api/v1/subscriptions", headers=me, json={"accepted": "notice"}).status_code == 422
    assert client.post("/api/v1/subscriptions", json={"accepted": ["notice"]}).status_code == 401
    quotas = client.get("/api/v1/subscriptions", headers=me).json["data"]["quotas"]
    assert all(q["remaining"] == 0 for q in quotas)


def test_staff_see_the_outbox_of_their_scope_only(app, client, login, db):
    """Does a grid worker see the messages to residents of its grid (flat label, status, reason),
    filtered by status, and nothing of another grid; is a resident refused; is no openid or
    phone number in the answer?"""
    comp = factories.compound(buildings=(("1栋", 1, 2, 2), ("2栋", 1, 1, 2)))
    b1, b2 = comp.buildings
    g1, g2 = factories.grid(comp, [b1]), factories.grid(comp, [b2])
    factories.staff("ob-gw1", "grid_worker", "grid", g1.id)
    factories.staff("ob-gw2", "grid_worker", "grid", g2.id)
    factories.staff("ob-committee", "committee", "compound", comp.id)
    flat1, flat2 = b1.units[0].flats[0], b2.units[0].flats[0]
    near = factories.resident("ob-near", flat1)
    far = factories.resident("ob-far", flat2)
    outbox.enqueue(near.id, "notice", {"thing1": "停水"}, dedupe_key="n1", flat_id=flat1.id, subject="notice:1")
    outbox.enqueue(near.id, "notice", {"thing1": "停电"}, dedupe_key="n2")  # no flat: found through the binding
    outbox.enqueue(far.id, "notice", {"thing1": "停水"}, dedupe_key="f1", flat_id=flat2.id)
    _db.session.execute(_db.update(OutboxMessage).where(OutboxMessage.dedupe_key == "n2")
                        .values(status="failed", last_error="no_quota", attempts=0))
    secrets = [near.openid, far.openid, flat1.owner.phone]
    label = f"{comp.name} 1栋{b1.units[0].name}{flat1.room}"
    _db.session.commit()

    gw1 = login("ob-gw1")
    items = client.get("/api/v1/outbox", headers=gw1).json["data"]
    assert sorted(i["subject"] or "-" for i in items) == ["-", "notice:1"]
    by_flat = {i["flat_id"]: i for i in items}
    assert by_flat[flat1.id]["flat_label"] == label and by_flat[flat1.id]["status"] == "queued"
    assert by_flat[flat1.id]["template_title"] == "通知公告" and by_flat[flat1.id]["status_name"] == "待发送"
    failed = client.get("/api/v1/outbox?status=failed", headers=gw1).json["data"]
    assert [(i["last_error"], i["flat_label"]) for i in failed] == [("no_quota", None)]
    gw2 = client.get("/api/v1/outbox", headers=login("ob-gw2")).json["data"]
    assert [i["flat_id"] for i in gw2] == [flat2.id]
    assert len(client.get("/api/v1/outbox", headers=login("ob-committee")).json["data"]) == 3
    assert client.get("/api/v1/outbox", headers=login("ob-near")).status_code == 403
    assert client.get("/api/v1/outbox?status=lost", headers=gw1).status_code == 422
    text = client.get("/api/v1/outbox", headers=gw1).get_data(as_text=True)
    assert not [s for s in secrets if s and s in text]


def test_a_sending_row_shows_when_it_was_claimed(client, login, db):
    """Does a row left sending show next_attempt_at as the time it was claimed, for staff to judge?"""
    comp = factories.compound(buildings=(("1栋", 1, 1, 1),))
    flat = comp.buildings[0].units[0].flats[0]
    factories.staff("ob-admin", "admin")
    near = factories.resident("ob-stuck-api", flat)
    outbox.enqueue(near.id, "notice", {"thing1": "x"}, dedupe_key="s1", flat_id=flat.id)
    claimed = (utcnow() - timedelta(minutes=20)).replace(microsecond=0)
    _db.session.execute(_db.update(OutboxMessage).values(status="sending", next_attempt_at=claimed))
    _db.session.commit()
    (item,) = client.get("/api/v1/outbox?status=sending", headers=login("ob-admin")).json["data"]
    assert item["next_attempt_at"] == claimed.isoformat() + "Z" and item["status_name"] == "发送中"
