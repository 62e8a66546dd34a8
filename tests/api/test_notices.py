"""Can staff write a notice to their own scope only, and does it reach exactly the residents bound
there, read state and all?"""
import pytest

from app.extensions import db as _db
from app.models import Binding, InboxItem, Notice
from tests import factories


@pytest.fixture()
def place(app, db):
    """1栋 (grid 1) and 2栋 (grid 2); an owner and a tenant in 1栋, an owner in 2栋, a pending one in 1栋."""
    comp = factories.compound(buildings=(("1栋", 2, 2, 2), ("2栋", 1, 2, 2)))
    b1, b2 = comp.buildings
    g1, g2 = factories.grid(comp, [b1]), factories.grid(comp, [b2])
    factories.staff("gw1", "grid_worker", "grid", g1.id)
    factories.staff("gw2", "grid_worker", "grid", g2.id)
    factories.staff("committee", "committee", "compound", comp.id)
    f1, f2 = b1.units[0].flats[:2]
    factories.resident("owner1", f1)
    tenant = factories.user("tenant1")
    _db.session.add(Binding(user=tenant, flat=f1, relation="tenant", name="租客", status="approved"))
    _db.session.add(Binding(user=factories.user("waiting"), flat=f2, relation="tenant", name="待审", status="pending"))
    factories.resident("owner2", b2.units[0].flats[0])
    _db.session.commit()
    return comp


def write(client, headers, scope_type, scope_id, **extra):
    return client.post("/api/v1/notices", headers=headers, json={
        "scope": {"type": scope_type, "id": scope_id}, "title": "停水通知", "body": "明日 9:00-12:00 1栋停水。\n请提前储水。",
        **extra})


def test_a_grid_worker_writes_to_a_building_of_the_grid_and_its_residents_read_it(client, login, place):
    b1 = place.buildings[0]
    resp = write(client, login("gw1"), "building", b1.id)
    assert resp.status_code == 201, resp.json
    assert (resp.json["data"]["recipients"], resp.json["data"]["pushes_queued"]) == (2, 0)
    owner = login("owner1")
    box = client.get("/api/v1/inbox", headers=owner).json["data"]
    assert box["unread"] == 1 and box["items"][0]["title"] == "停水通知" and box["items"][0]["read"] is False
    assert "\n" in box["items"][0]["body"]
    assert client.get("/api/v1/inbox", headers=login("owner2")).json["data"] == {"items": [], "unread": 0}
    assert client.get("/api/v1/inbox", headers=login("waiting")).json["data"]["unread"] == 0  # not yet bound
    item = box["items"][0]["id"]
    read = client.post(f"/api/v1/inbox/{item}/read", headers=owner)
    assert read.json["data"] == {"marked": 1, "unread": 0}
    assert client.get("/api/v1/inbox", headers=owner).json["data"]["items"][0]["read"] is True


def test_a_grid_worker_cannot_write_beyond_the_grid(client, login, place):
    """Another grid's building and the whole compound are refused with a Chinese 403; nothing is stored."""
    b2 = place.buildings[1]
    for scope in (("building", b2.id), ("compound", place.id)):
        resp = write(client, login("gw1"), *scope)
        assert resp.status_code == 403 and "网格" in resp.json["error"]["message"]
    resp = write(client, login("owner1"), "building", place.buildings[0].id)
    assert resp.status_code == 403 and resp.json["error"]["message"] == "仅限工作人员发通知"
    assert _db.session.scalar(_db.select(_db.func.count(Notice.id))) == 0
    assert _db.session.scalar(_db.select(_db.func.count(InboxItem.id))) == 0


def test_a_committee_writes_to_the_compound_and_each_resident_gets_one_copy(client, login, place):
    """The tenant and the owner of one flat, and the owner of 2栋: three inboxes, one copy each."""
    resp = write(client, login("committee"), "compound", place.id)
    assert resp.json["data"]["recipients"] == 3
    rows = _db.session.execute(_db.select(InboxItem.user_id, _db.func.count()).group_by(InboxItem.user_id)).all()
    assert sorted(n for _, n in rows) == [1, 1, 1]
    listed = client.get("/api/v1/notices", headers=login("committee")).json["data"]
    assert [n["title"] for n in listed] == ["停水通知"] and listed[0]["compound"]["name"] == place.name


def test_nobody_reads_or_marks_someone_elses_inbox(client, login, place):
    write(client, login("gw1"), "building", place.buildings[0].id)
    theirs = _db.session.scalar(_db.select(InboxItem.id).order_by(InboxItem.id))
    resp = client.post(f"/api/v1/inbox/{theirs}/read", headers=login("owner2"))
    assert resp.status_code == 404
    assert _db.session.get(InboxItem, theirs).read_at is None
    assert client.post("/api/v1/inbox/read-all", headers=login("owner2")).json["data"]["marked"] == 0


def test_a_staff_list_shows_only_notices_of_the_callers_scope(client, login, place):
    write(client, login("gw1"), "building", place.buildings[0].id)
    write(client, login("gw2"), "building", place.buildings[1].id)
    titles = lambda who: [n["scope"]["id"] for n in client.get("/api/v1/notices", headers=login(who)).json["data"]]
    assert titles("gw1") == [place.buildings[0].id]
    assert sorted(titles("committee")) == sorted(b.id for b in place.buildings)
    assert client.get("/api/v1/notices", headers=login("owner1")).status_code == 403


def test_bad_notices_are_refused_in_chinese(client, login, place):
    headers = login("committee")
    assert write(client, headers, "compound", 999999).status_code == 404
    resp = client.post("/api/v1/notices", headers=headers, json={"scope": {"type": "compound", "id": place.id},
                                                                  "title": "", "body": "x\u0000y"})
    assert resp.status_code == 422 and set(resp.json["error"]["details"]["json"]) == {"title", "body"}
    assert _db.session.scalar(_db.select(_db.func.count(Notice.id))) == 0


def test_the_places_one_may_write_to(client, login, place):
    """A grid worker: the buildings of the grid; a committee: the compound and all its buildings."""
    b1, b2 = place.buildings
    got = client.get("/api/v1/notices/scopes", headers=login("gw1")).json["data"]
    assert [(s["type"], s["id"]) for s in got] == [("building", b1.id)] and got[0]["name"].endswith("1栋")
    got = client.get("/api/v1/notices/scopes", headers=login("committee")).json["data"]
    assert [(s["type"], s["id"]) for s in got] == [("compound", place.id), ("building", b1.id), ("building", b2.id)]
    assert client.get("/api/v1/notices/scopes", headers=login("owner1")).status_code == 403


def test_a_pushed_notice_queues_one_message_per_resident_once(client, login, place):
    """push: each bound resident of the scope gets one subscribe message planned, in the notice
    template's fields (title, who sent it, when); the outbox's dedupe key names notice and user."""
    from app.models import OutboxMessage

    resp = write(client, login("gw1"), "building", place.buildings[0].id, push=True)
    assert (resp.json["data"]["recipients"], resp.json["data"]["pushes_queued"]) == (2, 2)
    rows = _db.session.scalars(_db.select(OutboxMessage).order_by(OutboxMessage.user_id)).all()
    notice_id = resp.json["data"]["id"]
    assert [r.dedupe_key for r in rows] == [f"notice:{notice_id}:user:{r.user_id}" for r in rows]
    assert {(r.template, r.data["thing1"], r.data["name2"], r.page) for r in rows} == {
        ("notice", "停水通知", "网格员", f"pages/inbox/index?notice_id={notice_id}")}
