"""Written proxies (委托书, issue 15): an owner authorises a verified resident; the proxy signs for the
owner's person (one counted ballot, the evidence naming the proxy); revoked proxies sign nothing; a
fourth proxy is refused; paper proxies need a second staff member; every step is in the audit chain."""
import pytest
from sqlalchemy import text

from app.extensions import db as _db
from app.models import AuditEntry, Ballot, Binding, Pledge, Proxy, VoteSlot
from app.services import evidence, verification
from app.services.bindings import record_approval
from tests import factories

SIG = factories.signature_png()


@pytest.fixture()
def place(app, db):
    """1栋 (1 unit × 3 floors × 2 flats), one grid with two grid workers; the owner of flat 0 bound;
    the proxy (a neighbour) bound as owner of flat 5; a family member of flat 0; a consultation open."""
    comp = factories.compound(buildings=(("1栋", 1, 3, 2),))
    g = factories.grid(comp, comp.buildings, name="第一网格")
    factories.staff("gw", "grid_worker", "grid", g.id)
    factories.staff("gw2", "grid_worker", "grid", g.id)
    factories.staff("committee", "committee", "compound", comp.id)
    flats = comp.buildings[0].units[0].flats
    owner = factories.resident("owner", flats[0])
    proxy = factories.resident("neighbour", flats[5])
    family = factories.user("family")
    kin = Binding(user=family, flat=flats[0], relation="family", name="家属", status="approved", method="staff")
    _db.session.add(kin)
    _db.session.flush()
    record_approval(kin)
    c = factories.consultation(("compound", comp))
    _db.session.commit()
    return {"comp": comp, "flats": flats, "owner": owner, "proxy": proxy, "family": family, "c": c}


def grant(client, headers, flat, holder, scope, signature=SIG, key=None, name=None):
    extra = {"Idempotency-Key": key} if key else {}
    return client.post("/api/v1/proxies", headers={**headers, **extra}, json={
        "flat_id": flat.id, "proxy_user_id": holder.id, "proxy_name": name or holder_name(holder),
        "scope": scope, "signature": signature})


def holder_name(user):
    return _db.session.scalar(_db.select(Binding.name).filter_by(user_id=user.id, status="approved").limit(1))


def sign(client, headers, c, flat, choice="agree"):
    return client.post(f"/api/v1/consultations/{c.id}/ballots", headers=headers,
                       json={"flat_id": flat.id, "choice": choice, "signature": SIG})


def test_a_proxys_ballot_counts_for_the_owner_and_the_evidence_names_the_proxy(client, login, place):
    """The neighbour signs for flat 0 under the owner's proxy: one ballot in the owner's vote slot,
    user the neighbour, proxy_id set; the tally counts one person; the evidence row says 代签 with the
    proxy's masked name and the proxy's number. The owner signing again afterwards is what counts."""
    c, flat = place["c"], place["flats"][0]
    resp = grant(client, login("owner"), flat, place["proxy"], {"type": "consultation", "id": c.id})
    assert resp.status_code == 201, resp.json
    number = resp.json["data"]["number"]
    assert resp.json["data"]["status"] == "active" and resp.json["data"]["role"] == "owner"
    neighbour = login("neighbour")
    shown = client.get(f"/api/v1/consultations/{c.id}?flat_id={flat.id}", headers=neighbour).json["data"]
    assert shown["cannot_sign"] is None and shown["signing_for"]["number"] == number
    assert "*" in shown["signing_for"]["owner"]
    assert sign(client, neighbour, c, flat).status_code == 201
    ballot = _db.session.scalar(_db.select(Ballot).where(Ballot.consultation_id == c.id))
    assert (ballot.user_id, ballot.person_key, ballot.status) == (place["proxy"].id, f"owner:{flat.owner_id}", "current")
    assert ballot.proxy_id == resp.json["data"]["id"]
    tally = client.get(f"/api/v1/consultations/{c.id}/tally", headers=login("committee")).json["data"]
    assert tally["participation"]["persons"] == 1
    row = next(r for r in evidence.evidence_rows(c) if r["ballot_id"] == ballot.id)
    assert row["handled_by"].startswith("代签：") and number in row["handled_by"]
    assert holder_name(place["proxy"]) not in row["handled_by"]  # masked
    assert verification.verify() == []

    assert sign(client, login("owner"), c, flat, "disagree").status_code == 201
    slot = _db.session.scalar(_db.select(VoteSlot).filter_by(consultation_id=c.id, person_key=f"owner:{flat.owner_id}"))
    assert _db.session.get(Ballot, slot.ballot_id).user_id == place["owner"].id
    assert _db.session.get(Ballot, ballot.id).status == "superseded"


def test_a_revoked_proxy_cannot_sign_and_its_earlier_ballot_stays(client, login, place):
    """Revoked by the owner: the proxy's next ballot is refused (404: it has no binding to the flat)
    and nothing is written; the ballot cast before stays counted; revoking twice is a 409."""
    c, flat = place["c"], place["flats"][0]
    proxy_id = grant(client, login("owner"), flat, place["proxy"], {"type": "standing"}).json["data"]["id"]
    neighbour = login("neighbour")
    assert sign(client, neighbour, c, flat).status_code == 201
    resp = client.post(f"/api/v1/proxies/{proxy_id}/revoke", headers=login("owner"))
    assert resp.status_code == 200 and resp.json["data"]["status"] == "revoked"
    assert client.post(f"/api/v1/proxies/{proxy_id}/revoke", headers=login("owner")).status_code == 409
    before = _db.session.scalar(_db.select(_db.func.count(Ballot.id)))
    assert sign(client, neighbour, c, flat, "disagree").status_code == 404
    assert _db.session.scalar(_db.select(_db.func.count(Ballot.id))) == before
    assert _db.session.scalar(_db.select(Ballot.status).where(Ballot.user_id == place["proxy"].id)) == "current"
    assert client.post(f"/api/v1/proxies/{proxy_id}/revoke", headers=neighbour).status_code == 404  # not the holder's
    kinds = _db.session.scalars(_db.select(AuditEntry.kind).where(AuditEntry.chain.like("%/proxies"))
                                .order_by(AuditEntry.seq)).all()
    assert kinds == ["proxy_granted", "proxy_revoked"]
    assert verification.verify() == []


def test_a_fourth_proxy_is_refused(client, login, app, place):
    """Three owners name the same neighbour for the consultation (one of them standing): the fourth is
    a 409 in Chinese and nothing is written; a proxy for another consultation is still allowed."""
    c, flats, holder = place["c"], place["flats"], place["proxy"]
    assert app.config["PROXY_MAX_PER_CONSULTATION"] == 3
    for i, scope in ((1, {"type": "consultation", "id": c.id}), (2, {"type": "standing"}),
                     (3, {"type": "consultation", "id": c.id})):
        factories.resident(f"o{i}", flats[i])
        _db.session.commit()
        assert grant(client, login(f"o{i}"), flats[i], holder, scope).status_code == 201
    factories.resident("o4", flats[4])
    _db.session.commit()
    resp = grant(client, login("o4"), flats[4], holder, {"type": "consultation", "id": c.id})
    assert resp.status_code == 409 and resp.json["error"]["code"] == "too_many_proxies"
    assert "最多 3 户" in resp.json["error"]["message"]
    assert _db.session.scalar(_db.select(_db.func.count(Proxy.id))) == 3
    standing = grant(client, login("o4"), flats[4], holder, {"type": "standing"})
    assert standing.status_code == 409  # a standing proxy covers this consultation too
    other = factories.consultation(("compound", place["comp"]))
    _db.session.commit()
    assert grant(client, login("o4"), flats[4], holder, {"type": "consultation", "id": other.id}).status_code == 201


def test_a_paper_proxy_needs_a_second_staff_member(client, login, place):
    """The grid worker enters a paper proxy with its photo: unconfirmed, it signs nothing; the same grid
    worker cannot confirm it (403); a second one does, and then the proxy signs — also where level 2
    is required, since a confirmed paper proxy was checked by two staff members."""
    comp, flat = place["comp"], place["flats"][0]
    c = factories.consultation(("compound", comp), required_level=2)
    _db.session.commit()
    gw = login("gw")
    resp = client.post("/api/v1/proxies/paper", headers=gw, json={
        "flat_id": flat.id, "proxy_user_id": place["proxy"].id, "proxy_name": holder_name(place["proxy"]),
        "scope": {"type": "consultation", "id": c.id}, "photo": SIG})
    assert resp.status_code == 201 and resp.json["data"]["status"] == "unconfirmed"
    proxy_id = resp.json["data"]["id"]
    neighbour = login("neighbour")
    assert sign(client, neighbour, c, flat).status_code == 404
    assert client.post(f"/api/v1/proxies/{proxy_id}/confirm", headers=gw).status_code == 403
    photo = client.get(f"/api/v1/proxies/{proxy_id}/photo", headers=login("gw2"))
    assert photo.status_code == 200 and photo.data[:4] == b"\x89PNG"
    resp = client.post(f"/api/v1/proxies/{proxy_id}/confirm", headers=login("gw2"))
    assert resp.status_code == 200 and resp.json["data"]["status"] == "active"
    assert client.post(f"/api/v1/proxies/{proxy_id}/confirm", headers=login("gw2")).status_code == 409
    assert sign(client, neighbour, c, flat).status_code == 201
    assert verification.verify() == []


def test_an_online_proxy_below_level_two_cannot_sign_where_it_is_required(client, login, place):
    """The owner's online proxy is a level-1 resident: refused with a Chinese reason where the frozen
    rule requires level 2; once a grid worker confirms the proxy in person, it signs."""
    comp, flat = place["comp"], place["flats"][0]
    c = factories.consultation(("compound", comp), required_level=2)
    _db.session.commit()
    assert grant(client, login("owner"), flat, place["proxy"], {"type": "consultation", "id": c.id}).status_code == 201
    neighbour = login("neighbour")
    resp = sign(client, neighbour, c, flat)
    assert resp.status_code == 403 and resp.json["error"]["code"] == "level_required" and "代签人" in resp.json["error"]["message"]
    shown = client.get(f"/api/v1/consultations/{c.id}?flat_id={flat.id}", headers=neighbour).json["data"]
    assert "当面核验" in shown["cannot_sign"]
    binding = _db.session.scalar(_db.select(Binding).filter_by(user_id=place["proxy"].id))
    assert client.post(f"/api/v1/bindings/{binding.id}/confirm-in-person", headers=login("gw")).status_code == 200
    assert sign(client, neighbour, c, flat).status_code == 201


def test_a_proxy_pledges_for_the_owner(client, login, place):
    """A plan's proxy signs the flat's pledge: it counts for the flat, records the proxy, and verify
    is content with the plan's chain."""
    from datetime import timedelta

    from app.models.places import utcnow
    from app.services import plans

    comp, flat = place["comp"], place["flats"][0]
    admin = factories.staff("plan-admin", "admin")
    plan = plans.create(admin, {"scope": {"type": "compound", "id": comp.id}, "title": "电梯出资",
                                "items": [{"key": "lift", "name": "电梯", "required": True, "cost_fen": 60_000,
                                           "standard": {"type": "fixed"}}],
                                "methods": ["direct"], "closes_at": utcnow() + timedelta(days=3)})
    plans.open_(admin, plan.id)
    _db.session.commit()
    body = {"flat_id": flat.id, "lines": [{"item": "lift", "method": "direct"}], "signature": SIG}
    neighbour = login("neighbour")
    page = f"/api/v1/plans/{plan.id}?flat_id={flat.id}"
    assert client.get(page, headers=neighbour).status_code == 404  # no proxy yet: not their flat
    assert client.post(f"/api/v1/plans/{plan.id}/pledges", headers=neighbour, json=body).status_code == 404
    granted = grant(client, login("owner"), flat, place["proxy"], {"type": "plan", "id": plan.id})
    assert granted.status_code == 201
    # The plan page, as the holder sees it before pledging: the flat's amounts, whom they pledge for.
    seen = client.get(page, headers=neighbour).json["data"]["flat"]
    assert seen["relation"] == "proxy" and seen["cannot_pledge"] is None
    assert seen["signing_for"]["number"] == granted.json["data"]["number"] and seen["due_fen"] == 10_000
    resp = client.post(f"/api/v1/plans/{plan.id}/pledges", headers=neighbour, json=body)
    assert resp.status_code == 201, resp.json
    pledge = _db.session.scalar(_db.select(Pledge).where(Pledge.plan_id == plan.id))
    assert pledge.proxy_id is not None and pledge.user_id == place["proxy"].id and pledge.status == "current"
    assert client.get(page, headers=neighbour).json["data"]["flat"]["pledge"]["receipt"] == pledge.receipt
    assert verification.verify() == []
    # Revoked: the page is no longer theirs, and nothing more is pledged under it.
    revoked = client.post(f"/api/v1/proxies/{granted.json['data']['id']}/revoke", headers=login("owner"))
    assert revoked.status_code == 200, revoked.json
    assert client.get(page, headers=neighbour).status_code == 404
    assert client.post(f"/api/v1/plans/{plan.id}/pledges", headers=neighbour, json=body).status_code == 404


def test_hostile_grants_change_nothing(client, login, place):
    """A bad PNG, another owner's flat, a family member granting, a proxy not a resident or misnamed,
    oneself, a consultation of another compound: each refused in Chinese, nothing written. A replayed
    Idempotency-Key answers the same proxy; reused for another body it is a 422."""
    c, flat, holder = place["c"], place["flats"][0], place["proxy"]
    owner = login("owner")
    scope = {"type": "consultation", "id": c.id}
    stranger = factories.user("stranger")
    other = factories.compound(buildings=(("9栋", 1, 1, 1),))
    elsewhere = factories.consultation(("compound", other))
    _db.session.commit()
    cases = [
        (grant(client, owner, flat, holder, scope, signature="iVBORw0KGgo="), 422),
        (grant(client, owner, place["flats"][1], holder, scope), 404),
        (grant(client, login("family"), flat, holder, scope), 403),
        (grant(client, owner, flat, stranger, scope, name="陌生人"), 422),
        (grant(client, owner, flat, holder, scope, name="别人"), 422),
        (grant(client, owner, flat, place["owner"], scope), 422),
        (grant(client, owner, flat, holder, {"type": "consultation", "id": elsewhere.id}), 404),
        (grant(client, owner, flat, holder, {"type": "consultation"}), 422),
    ]
    for resp, status in cases:
        assert resp.status_code == status, resp.json
        assert resp.json["error"]["message"]
    assert _db.session.scalar(_db.select(_db.func.count(Proxy.id))) == 0
    first = grant(client, owner, flat, holder, scope, key="grant-1")
    again = grant(client, owner, flat, holder, scope, key="grant-1")
    assert first.status_code == again.status_code == 201 and first.json["data"]["id"] == again.json["data"]["id"]
    assert grant(client, owner, flat, holder, {"type": "standing"}, key="grant-1").status_code == 422
    assert _db.session.scalar(_db.select(_db.func.count(Proxy.id))) == 1


def test_lists_show_the_holder_and_the_owner_their_proxies(client, login, place):
    c, flat = place["c"], place["flats"][0]
    proxy_id = grant(client, login("owner"), flat, place["proxy"], {"type": "consultation", "id": c.id}).json["data"]["id"]
    held = client.get("/api/v1/proxies", headers=login("neighbour")).json["data"]
    assert [(p["id"], p["role"], p["can_revoke"]) for p in held] == [(proxy_id, "holder", False)]
    mine = client.get("/api/v1/proxies", headers=login("owner")).json["data"]
    assert [(p["id"], p["role"], p["can_revoke"]) for p in mine] == [(proxy_id, "owner", True)]
    assert mine[0]["scope"]["title"] == c.title
    assert client.get(f"/api/v1/proxies?flat_id={flat.id}", headers=login("gw")).json["data"][0]["role"] == "staff"
    assert client.get(f"/api/v1/proxies?flat_id={flat.id}", headers=login("neighbour")).status_code == 404
    assert client.get(f"/api/v1/proxies/{proxy_id}", headers=login("family")).status_code == 404


@pytest.mark.parametrize("tamper, words", [
    ("UPDATE proxy SET proxy_user_id = {other}", "被改动"),
    ("UPDATE proxy SET status = 'active', revoked_at = NULL, revoked_by_id = NULL", "状态"),
    ("DELETE FROM proxy", "被删除"),
])
def test_verify_names_a_proxy_edited_or_deleted_behind_the_apps_back(client, login, place, tamper, words):
    c, flat = place["c"], place["flats"][0]
    proxy_id = grant(client, login("owner"), flat, place["proxy"], {"type": "standing"}).json["data"]["id"]
    client.post(f"/api/v1/proxies/{proxy_id}/revoke", headers=login("owner"))
    assert verification.verify() == []
    _db.session.execute(text(tamper.format(other=place["family"].id)))
    _db.session.commit()
    problems = [p for p in verification.verify() if p.chain.endswith("/proxies")]
    assert problems and words in problems[0].what, problems


def test_verify_names_a_proxy_inserted_behind_the_apps_back(client, login, place):
    """A row copied from a real one under another number, with no entry in the chain, is named."""
    flat = place["flats"][0]
    grant(client, login("owner"), flat, place["proxy"], {"type": "standing"})
    real = _db.session.scalar(_db.select(Proxy))
    columns = [col.name for col in Proxy.__table__.columns if col.name != "id"]
    values = {col: getattr(real, col) for col in columns}
    values.update(number="WTFORGED00", idempotency_key=None)
    _db.session.execute(Proxy.__table__.insert().values(**values))
    _db.session.commit()
    problems = [p for p in verification.verify() if p.chain.endswith("/proxies")]
    assert problems and "被插入" in problems[0].what


def test_a_standing_proxys_holder_finds_the_owners_consultations_and_plans(client, login, place):
    """A standing proxy covers every consultation and plan of the owner's flat: its holder lists them
    with the flat's id (as the owner would), and nothing once it is revoked; a stranger gets 404."""
    from datetime import timedelta

    from app.models.places import utcnow
    from app.services import plans

    comp, flat, c = place["comp"], place["flats"][0], place["c"]
    admin = factories.staff("plan-admin2", "admin")
    plan = plans.create(admin, {"scope": {"type": "compound", "id": comp.id}, "title": "楼道出资",
                                "items": [{"key": "paint", "name": "粉刷", "required": True, "cost_fen": 6_000,
                                           "standard": {"type": "fixed"}}],
                                "methods": ["direct"], "closes_at": utcnow() + timedelta(days=3)})
    plans.open_(admin, plan.id)
    _db.session.commit()
    neighbour = login("neighbour")
    assert client.get(f"/api/v1/consultations?flat_id={flat.id}", headers=neighbour).status_code == 404
    assert client.get(f"/api/v1/plans?flat_id={flat.id}", headers=neighbour).status_code == 404
    granted = grant(client, login("owner"), flat, place["proxy"], {"type": "standing"})
    assert granted.status_code == 201, granted.json
    listed = client.get(f"/api/v1/consultations?flat_id={flat.id}", headers=neighbour)
    assert listed.status_code == 200 and [x["id"] for x in listed.json["data"]] == [c.id]
    plans_listed = client.get(f"/api/v1/plans?flat_id={flat.id}", headers=neighbour).json["data"]
    assert [p["id"] for p in plans_listed] == [plan.id] and plans_listed[0]["flat"]["relation"] == "proxy"
    assert client.get(f"/api/v1/consultations?flat_id={flat.id}", headers=login("family")).status_code == 200  # bound
    client.post(f"/api/v1/proxies/{granted.json['data']['id']}/revoke", headers=login("owner"))
    assert client.get(f"/api/v1/consultations?flat_id={flat.id}", headers=neighbour).status_code == 404
    assert client.get(f"/api/v1/plans?flat_id={flat.id}", headers=neighbour).status_code == 404


def test_an_owner_binding_that_does_not_speak_for_the_rolls_person_cannot_grant(client, login, place):
    """The flat changed hands after the roll froze: the previous owner's binding (verified against the
    owner the roll no longer names) is refused in Chinese, and no proxy is written."""
    from app.models import Owner

    comp, flat, c = place["comp"], place["flats"][0], place["c"]
    previous = factories.user("previous-owner")
    other_owner = Owner(name="前业主", phone="13900009999")
    _db.session.add(other_owner)
    _db.session.flush()
    binding = Binding(user=previous, flat=flat, relation="owner", name="前业主", status="approved",
                      method="roster_phone", owner_id=other_owner.id)
    _db.session.add(binding)
    _db.session.flush()
    record_approval(binding)
    _db.session.commit()
    resp = grant(client, login("previous-owner"), flat, place["proxy"], {"type": "consultation", "id": c.id})
    assert resp.status_code == 403 and resp.json["error"]["code"] == "not_roll_owner", resp.json
    assert "业主不一致" in resp.json["error"]["message"]
    assert _db.session.scalar(_db.select(_db.func.count(Proxy.id))) == 0
