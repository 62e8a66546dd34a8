"""公示 with an objection period: can only residents bound to a flat of its scope object, only during
the period, once per flat; does WeChat's check keep risky text out and hold what it wants reviewed
until staff of the scope release it; is the end recorded once?"""
from datetime import timedelta

import pytest

from app.extensions import db as _db
from app.models import Binding, Blob, Notice, Objection
from app.models.places import utcnow
from app.services import notices
from tests import factories


@pytest.fixture()
def place(app, db):
    """1栋 (grid 1) and 2栋 (grid 2); an owner and a tenant of one flat in 1栋, an owner in 2栋."""
    comp = factories.compound(buildings=(("1栋", 1, 2, 2), ("2栋", 1, 2, 2)))
    b1, b2 = comp.buildings
    g1, g2 = factories.grid(comp, [b1]), factories.grid(comp, [b2])
    factories.staff("pgw1", "grid_worker", "grid", g1.id)
    factories.staff("pgw2", "grid_worker", "grid", g2.id)
    factories.staff("pcommittee", "committee", "compound", comp.id)
    f1 = b1.units[0].flats[0]
    factories.resident("powner1", f1)
    _db.session.add(Binding(user=factories.user("ptenant1"), flat=f1, relation="tenant", name="李四",
                            status="approved"))
    factories.resident("powner2", b2.units[0].flats[0])
    _db.session.commit()
    return comp


def iso(value):
    return value.isoformat() + "Z"


def publish(client, headers, scope, start=None, end=None, **extra):
    start = start or utcnow()
    end = end or start + timedelta(days=7)
    return client.post("/api/v1/notices", headers=headers, json={
        "kind": "publicity", "scope": {"type": scope[0], "id": scope[1]}, "title": "电梯方案公示",
        "body": "1栋加装电梯方案公示，请提出意见。", "period": {"start": iso(start), "end": iso(end)}, **extra})


def object_to(client, headers, notice_id, flat_id, text="电梯井占了我的窗户，反对", kind="objection", **extra):
    return client.post(f"/api/v1/notices/{notice_id}/objections", headers=headers,
                       json={"flat_id": flat_id, "kind": kind, "text": text, **extra})


def first_flat(place, building=0):
    return place.buildings[building].units[0].flats[0].id


def stored():
    return _db.session.scalar(_db.select(_db.func.count(Objection.id)))


def test_is_a_publicity_written_with_its_period_and_read_in_the_inbox(client, login, place):
    resp = publish(client, login("pgw1"), ("building", place.buildings[0].id))
    assert resp.status_code == 201, resp.json
    data = resp.json["data"]
    assert data["kind"] == "publicity" and data["publicity"]["objections_open"] is True
    assert data["publicity"]["ended_at"] is None and data["recipients"] == 2
    item = client.get("/api/v1/inbox", headers=login("powner1")).json["data"]["items"][0]
    assert item["publicity"]["period"] == data["publicity"]["period"]
    plain = client.post("/api/v1/notices", headers=login("pgw1"), json={
        "scope": {"type": "building", "id": place.buildings[0].id}, "title": "停水", "body": "停水"}).json["data"]
    assert plain["kind"] == "notice" and plain["publicity"] is None


def test_is_a_publicity_without_a_sane_period_or_with_a_foreign_subject_refused(client, login, place):
    staff, scope = login("pcommittee"), ("compound", place.id)
    now = utcnow()
    assert publish(client, staff, scope, start=now + timedelta(days=2), end=now + timedelta(days=1)).status_code == 422
    assert publish(client, staff, scope, start=now - timedelta(days=3), end=now + timedelta(days=1)).status_code == 422
    no_period = client.post("/api/v1/notices", headers=staff, json={
        "kind": "publicity", "scope": {"type": "compound", "id": place.id}, "title": "公示", "body": "公示"})
    assert no_period.status_code == 422
    other = factories.compound(name="别的小区")
    foreign = factories.consultation(("compound", other))
    _db.session.commit()
    resp = publish(client, staff, scope, subject={"type": "consultation", "id": foreign.id})
    assert resp.status_code == 404
    own = factories.consultation(("compound", place))
    _db.session.commit()
    resp = publish(client, staff, scope, subject={"type": "consultation", "id": own.id})
    assert resp.status_code == 201 and resp.json["data"]["publicity"]["subject"] == {"type": "consultation", "id": own.id}
    assert _db.session.scalar(_db.select(_db.func.count(Notice.id))) == 1


def test_can_a_resident_of_another_building_object(client, login, place):
    """No: the 公示 is 1栋's; the owner in 2栋 gets a 404 for the own flat and for a flat of 1栋."""
    notice = publish(client, login("pgw1"), ("building", place.buildings[0].id)).json["data"]
    other = login("powner2")
    assert object_to(client, other, notice["id"], first_flat(place, 1)).status_code == 404
    assert object_to(client, other, notice["id"], first_flat(place, 0)).status_code == 404
    assert client.get(f"/api/v1/notices/{notice['id']}/objections", headers=other).status_code == 404
    assert stored() == 0


def test_can_a_resident_object_for_a_flat_of_the_scope_they_are_not_bound_to(client, login, place):
    notice = publish(client, login("pcommittee"), ("compound", place.id)).json["data"]
    resp = object_to(client, login("powner1"), notice["id"], first_flat(place, 1))
    assert resp.status_code == 404 and stored() == 0


def test_is_an_objection_outside_the_period_refused(client, login, place):
    staff = login("pgw1")
    later = publish(client, staff, ("building", place.buildings[0].id), start=utcnow() + timedelta(days=1)).json["data"]
    owner = login("powner1")
    resp = object_to(client, owner, later["id"], first_flat(place))
    assert resp.status_code == 409 and resp.json["error"]["message"] == "公示期未开始"
    over = publish(client, staff, ("building", place.buildings[0].id)).json["data"]
    row = _db.session.get(Notice, over["id"])
    row.period_start, row.period_end = utcnow() - timedelta(days=8), utcnow() - timedelta(seconds=1)
    _db.session.commit()
    resp = object_to(client, owner, over["id"], first_flat(place))
    assert resp.status_code == 409 and resp.json["error"]["message"] == "公示期已结束"
    assert stored() == 0


def test_does_risky_text_store_nothing(client, login, place):
    """Not the objection, and not its photo either."""
    notice = publish(client, login("pgw1"), ("building", place.buildings[0].id)).json["data"]
    resp = object_to(client, login("powner1"), notice["id"], first_flat(place), text="网络赌博了解一下",
                     photo=factories.signature_png())
    assert resp.status_code == 422 and resp.json["error"]["message"] == "内容含有不当信息，未能提交"
    assert stored() == 0 and _db.session.scalar(_db.select(_db.func.count(Blob.id))) == 0


def test_is_review_text_held_until_staff_of_the_scope_release_it(client, login, place):
    notice = publish(client, login("pgw1"), ("building", place.buildings[0].id)).json["data"]
    owner = login("powner1")
    resp = object_to(client, owner, notice["id"], first_flat(place), text="反对，有事加微信详谈")
    assert resp.status_code == 201 and resp.json["data"]["status"] == "held"
    held = resp.json["data"]["id"]
    mine = client.get(f"/api/v1/notices/{notice['id']}/objections", headers=owner).json["data"]
    assert mine["staff"] is False and [o["status"] for o in mine["objections"]] == ["held"] and mine["flats"] == []
    assert notices.objecting_flats(notice["id"]) == set()  # held: not an objection anyone counts
    # another grid's worker and the resident cannot release it
    assert client.post(f"/api/v1/objections/{held}/release", headers=login("pgw2")).status_code == 404
    assert client.post(f"/api/v1/objections/{held}/release", headers=owner).status_code == 404
    released = client.post(f"/api/v1/objections/{held}/release", headers=login("pgw1"))
    assert released.status_code == 200 and released.json["data"]["status"] == "visible"
    assert client.post(f"/api/v1/objections/{held}/release", headers=login("pgw1")).status_code == 409
    assert notices.objecting_flats(notice["id"]) == {first_flat(place)}
    seen = client.get(f"/api/v1/notices/{notice['id']}/objections", headers=login("pcommittee")).json["data"]
    entry = seen["objections"][0]
    assert seen["staff"] is True and entry["flat"]["label"] == "1栋1单元101" and "*" in entry["name"]
    answered = client.post(f"/api/v1/objections/{held}/answer", headers=login("pgw1"), json={"answer": "已转交设计单位"})
    assert answered.json["data"]["answer"] == "已转交设计单位"


def test_is_a_rejected_objection_told_to_its_writer_and_never_counted(client, login, place):
    notice = publish(client, login("pgw1"), ("building", place.buildings[0].id)).json["data"]
    owner = login("powner1")
    held = object_to(client, owner, notice["id"], first_flat(place), text="私下交易可以吗").json["data"]["id"]
    rejected = client.post(f"/api/v1/objections/{held}/reject", headers=login("pgw1"), json={"reason": "与公示无关"})
    assert rejected.json["data"]["status"] == "rejected"
    mine = client.get(f"/api/v1/notices/{notice['id']}/objections", headers=owner).json["data"]["objections"][0]
    assert mine["reason"] == "与公示无关" and mine["status_name"] == "未采纳"
    assert notices.objecting_flats(notice["id"]) == set()


def test_is_a_second_objection_for_the_same_flat_refused(client, login, place):
    """Once per user and flat; the tenant of the same flat is another user and may file too."""
    notice = publish(client, login("pgw1"), ("building", place.buildings[0].id)).json["data"]
    owner = login("powner1")
    assert object_to(client, owner, notice["id"], first_flat(place)).status_code == 201
    again = object_to(client, owner, notice["id"], first_flat(place), kind="opinion", text="补充意见")
    assert again.status_code == 409 and stored() == 1
    assert object_to(client, login("ptenant1"), notice["id"], first_flat(place), kind="opinion",
                     text="希望晚上不要施工").status_code == 201
    # staff see both, the owner only their own
    assert len(client.get(f"/api/v1/notices/{notice['id']}/objections", headers=login("pgw1")).json["data"]["objections"]) == 2
    assert len(client.get(f"/api/v1/notices/{notice['id']}/objections", headers=owner).json["data"]["objections"]) == 1


def test_does_the_end_job_record_the_count_once(app, client, login, place, cli):
    """Two objections for one flat and an opinion from another: 1 flat objected. A second run (a second
    scheduler) changes nothing, not even ended_at."""
    notice = publish(client, login("pcommittee"), ("compound", place.id)).json["data"]
    object_to(client, login("powner1"), notice["id"], first_flat(place, 0))
    object_to(client, login("ptenant1"), notice["id"], first_flat(place, 0))  # the same flat: counted once
    object_to(client, login("powner2"), notice["id"], first_flat(place, 1), kind="opinion", text="支持")
    assert notices.end_due() == []  # still running
    row = _db.session.get(Notice, notice["id"])
    row.period_end = utcnow() - timedelta(seconds=1)
    _db.session.commit()
    result = cli("jobs", "run", "end_publicities")
    assert result.exit_code == 0 and str(notice["id"]) in result.output
    row = _db.session.get(Notice, notice["id"])
    ended_at = row.ended_at
    assert (row.objection_count, ended_at is not None) == (1, True)
    assert notices.end_due(now=utcnow() + timedelta(hours=1)) == []
    _db.session.expire_all()
    row = _db.session.get(Notice, notice["id"])
    assert (row.objection_count, row.ended_at) == (1, ended_at)
    shown = client.get("/api/v1/notices", headers=login("pcommittee")).json["data"][0]["publicity"]
    assert shown["objection_count"] == 1 and shown["objections_open"] is False
