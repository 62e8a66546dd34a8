"""Can a committee put a question to the residents, and can every answer be trusted and checked?"""
import re
from datetime import timedelta

import pytest
from sqlalchemy import text

from app.extensions import db as _db
from app.models import Ballot, ConsultationResult, VoteSlot
from app.models.places import utcnow
from app.services import consultations as service
from app.services.consultations import close_due
from tests import factories

SIG = factories.signature_png()


@pytest.fixture()
def place(app, db):
    """A compound of 1栋 (2 units × 3 floors × 2 flats) and 2栋 (1 × 3 × 2), grids, committee and grid workers."""
    comp = factories.compound(buildings=(("1栋", 2, 3, 2), ("2栋", 1, 3, 2)))
    b1, b2 = comp.buildings
    g1, g2 = factories.grid(comp, [b1]), factories.grid(comp, [b2])
    factories.staff("committee", "committee", "compound", comp.id)
    factories.staff("gw1", "grid_worker", "grid", g1.id)
    factories.staff("gw1b", "grid_worker", "grid", g1.id)
    factories.staff("gw2", "grid_worker", "grid", g2.id)
    _db.session.commit()
    return comp


def owner_of(app, name, flat):
    """A resident dev-<name> bound as owner of flat, committed."""
    user = factories.resident(name, flat)
    _db.session.commit()
    return user


def new_consultation(client, headers, comp, **extra):
    body = {"scope": {"type": "compound", "id": comp.id}, "title": "1栋、2栋加装电梯", "body": "是否同意加装电梯",
            "kind": "elevator", "closes_at": (utcnow() + timedelta(days=7)).isoformat() + "Z", **extra}
    return client.post("/api/v1/consultations", json=body, headers=headers)


def post_ballot(client, login, consultation_id, who, flat, choice, signature=SIG):
    """POST a ballot as resident dev-<who> for flat, with a signature; the response."""
    return client.post(f"/api/v1/consultations/{consultation_id}/ballots", headers=login(who),
                       json={"flat_id": flat.id, "choice": choice, "signature": signature})


def flats(comp):
    return [f for b in comp.buildings for u in b.units for f in u.flats]


def test_create_open_sign_close_publish(app, client, login, place):
    """The whole life of a consultation over HTTP, as a committee, residents and a grid worker see it."""
    committee = login("committee")
    created = new_consultation(client, committee, place)
    assert created.status_code == 201, created.json
    c = created.json["data"]
    assert c["status"] == "draft" and c["rule"]["preset"] == "major"
    assert [o["key"] for o in c["options"]] == ["agree", "disagree", "abstain"]
    opened = client.post(f"/api/v1/consultations/{c['id']}/open", headers=committee).json["data"]
    assert opened["status"] == "open" and len(opened["roll_digest"]) == 64
    assert client.post(f"/api/v1/consultations/{c['id']}/open", headers=committee).status_code == 409

    all_flats = flats(place)
    for i, flat in enumerate(all_flats[:10]):
        owner_of(app, f"o{i}", flat)
    for i, flat in enumerate(all_flats[:10]):
        choice = "agree" if i < 8 else "disagree"
        resp = post_ballot(client, login, c["id"], f"o{i}", flat, choice)
        assert resp.status_code == 201, resp.json
        assert len(resp.json["data"]["receipt"]) == 12
    tally = client.get(f"/api/v1/consultations/{c['id']}/tally", headers=committee).json["data"]
    assert tally["roll"] == {"flats": 18, "persons": 18, "area": "1440.00", "digest": opened["roll_digest"]}
    assert (tally["participation"]["persons"], tally["participation"]["met"]) == (10, False)
    assert tally["still_needed"].startswith("参与还差 2 户 / 160.00 m²")
    assert [b["answered"] for b in tally["buildings"]] == [10, 0]

    closed = client.post(f"/api/v1/consultations/{c['id']}/close", headers=committee)
    assert closed.status_code == 200 and closed.json["data"]["passed"] is False
    late = post_ballot(client, login, c["id"], "o0", all_flats[0], "disagree")
    assert late.status_code == 409 and late.json["error"]["code"] == "closed"
    assert "已截止" in late.json["error"]["message"]

    resident = login("o1")
    assert client.get(f"/api/v1/consultations/{c['id']}/results?flat_id={all_flats[1].id}",
                      headers=resident).status_code == 409
    assert client.post(f"/api/v1/consultations/{c['id']}/publish", headers=committee).status_code == 200
    results = client.get(f"/api/v1/consultations/{c['id']}/results?flat_id={all_flats[1].id}", headers=resident)
    assert results.status_code == 200
    rooms = results.json["data"]["rooms"]
    assert len(rooms) == 18 and rooms[0] == {"room": "1栋1单元101", "choice": "agree", "choice_label": "同意"}
    assert rooms[-1]["choice_label"] == "未表决"
    text_ = results.get_data(as_text=True)
    assert not any(f.owner.name in text_ for f in all_flats)


def test_answer_can_change_until_the_deadline_and_the_last_counts(app, client, login, place):
    """Does a changed answer replace the first (kept as history), with a receipt for each?"""
    c = factories.consultation(("compound", place))
    flat = flats(place)[0]
    owner_of(app, "changer", flat)
    headers = login("changer")
    first = client.post(f"/api/v1/consultations/{c.id}/ballots", headers=headers,
                        json={"flat_id": flat.id, "choice": "agree", "signature": SIG}).json["data"]
    second = client.post(f"/api/v1/consultations/{c.id}/ballots", headers=headers,
                         json={"flat_id": flat.id, "choice": "disagree", "signature": SIG}).json["data"]
    view = client.get(f"/api/v1/consultations/{c.id}?flat_id={flat.id}", headers=headers).json["data"]
    assert view["ballot"]["choice"] == "disagree"
    old = client.get(f"/api/v1/receipts/{first['receipt']}").json["data"]
    new = client.get(f"/api/v1/receipts/{second['receipt'].lower()}").json["data"]
    assert (old["status"], old["counted"], old["choice_label"]) == ("superseded", False, "同意")
    assert (new["status"], new["counted"], new["room"]) == ("current", True, "1栋1单元101")
    assert flat.owner.name not in str(new)
    assert client.get("/api/v1/receipts/NOSUCHCODE").status_code == 404


def test_idempotency_key_records_one_ballot(app, client, login, place):
    """Does the same Idempotency-Key sent twice give the same receipt and one ballot row?"""
    c = factories.consultation(("compound", place))
    flat = flats(place)[0]
    owner_of(app, "retry", flat)
    headers = {**login("retry"), "Idempotency-Key": "abc-123"}
    body = {"flat_id": flat.id, "choice": "agree", "signature": SIG}
    one = client.post(f"/api/v1/consultations/{c.id}/ballots", headers=headers, json=body).json["data"]
    two = client.post(f"/api/v1/consultations/{c.id}/ballots", headers=headers, json=body).json["data"]
    assert one["receipt"] == two["receipt"]
    assert _db.session.scalar(_db.select(_db.func.count(Ballot.id))) == 1


def _noise_png(size=300):
    """A PNG that does not compress: over the 200 KB a signature may take."""
    import base64
    import io
    import os

    from PIL import Image

    out = io.BytesIO()
    Image.frombytes("RGBA", (size, size), os.urandom(size * size * 4)).save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


@pytest.mark.parametrize("signature, status", [
    ("not base64!!", 422),
    ("aGVsbG8=", 422),  # "hello": not an image
    (factories.signature_png(5000, 30), 422),  # wider than any signature pad
    (_noise_png(), 413),
])
def test_bad_signature_is_refused_and_changes_nothing(app, client, login, place, signature, status):
    c = factories.consultation(("compound", place))
    flat = flats(place)[0]
    owner_of(app, "sig", flat)
    resp = post_ballot(client, login, c.id, "sig", flat, "agree", signature)
    assert resp.status_code == status, resp.json
    assert "签名" in resp.json["error"]["message"]
    assert _db.session.scalar(_db.select(_db.func.count(Ballot.id))) == 0


def test_only_bound_owners_sign(app, client, login, place):
    """Are a tenant of the flat, an owner of another flat and a choice off the list refused?"""
    from app.models import Binding

    c = factories.consultation(("compound", place))
    flat, other = flats(place)[:2]
    tenant = factories.user("tenant")
    _db.session.add(Binding(user=tenant, flat=flat, relation="tenant", name="租户", status="approved"))
    owner_of(app, "neighbour", other)
    _db.session.commit()
    resp = post_ballot(client, login, c.id, "tenant", flat, "agree")
    assert resp.status_code == 403 and resp.json["error"]["code"] == "not_owner"
    resp = post_ballot(client, login, c.id, "neighbour", flat, "agree")  # not bound to it at all
    assert resp.status_code == 404 and resp.json["error"]["code"] == "not_found"
    resp = post_ballot(client, login, c.id, "neighbour", other, "maybe")
    assert resp.status_code == 422
    assert _db.session.scalar(_db.select(_db.func.count(Ballot.id))) == 0


def test_paper_ballot_needs_a_second_staff_member_and_one_ballot_counts(app, client, login, place):
    """Does a paper ballot count only once another staff member confirms it, and is a second channel a conflict?"""
    c = factories.consultation(("compound", place))
    flat = flats(place)[0]
    owner_of(app, "paperowner", flat)
    gw1, gw1b = login("gw1"), login("gw1b")
    entered = client.post(f"/api/v1/consultations/{c.id}/paper-ballots", headers=gw1,
                          json={"flat_id": flat.id, "choice": "agree", "photo": SIG})
    assert entered.status_code == 201 and entered.json["data"]["status"] == "unconfirmed"
    pid = entered.json["data"]["id"]
    tally = client.get(f"/api/v1/consultations/{c.id}/tally", headers=login("committee")).json["data"]
    assert tally["participation"]["persons"] == 0
    same = client.post(f"/api/v1/paper-ballots/{pid}/confirm", headers=gw1)
    assert same.status_code == 403 and same.json["error"]["code"] == "same_person"
    other_grid = client.post(f"/api/v1/paper-ballots/{pid}/confirm", headers=login("gw2"))
    assert other_grid.status_code == 404
    ok_ = client.post(f"/api/v1/paper-ballots/{pid}/confirm", headers=gw1b)
    assert ok_.status_code == 200 and ok_.json["data"]["status"] == "current"
    assert client.post(f"/api/v1/paper-ballots/{pid}/confirm", headers=login("committee")).status_code == 409

    online = post_ballot(client, login, c.id, "paperowner", flat, "disagree")
    assert online.status_code == 409 and online.json["error"]["code"] == "ballot_conflict"
    assert online.json["error"]["details"]["status"] == "conflict"
    tally = client.get(f"/api/v1/consultations/{c.id}/tally", headers=login("committee")).json["data"]
    assert tally["choices"]["agree"]["persons"] == 1 and tally["choices"]["disagree"]["persons"] == 0
    listed = client.get(f"/api/v1/consultations/{c.id}/paper-ballots", headers=gw1).json["data"]
    assert [(p["id"], p["status"]) for p in listed] == [(pid, "current")]


def test_pending_flats_are_the_grid_workers_own_and_masked(app, client, login, place):
    c = factories.consultation(("compound", place))
    flat = flats(place)[0]
    owner_of(app, "voter", flat)
    post_ballot(client, login, c.id, "voter", flat, "agree")
    mine = client.get(f"/api/v1/consultations/{c.id}/pending-flats", headers=login("gw1")).json["data"]
    assert len(mine) == 11 and all(p["room"].startswith("1栋") for p in mine)
    assert flat.id not in {p["flat_id"] for p in mine}
    assert all("****" in p["owner"]["phone"] and p["owner"]["name"].endswith("*") for p in mine)
    everyone = client.get(f"/api/v1/consultations/{c.id}/pending-flats", headers=login("committee")).json["data"]
    assert len(everyone) == 17


def test_creating_is_for_staff_of_the_scope(app, client, login, place):
    """Are a grid worker, a resident, a bad rule and a past deadline each refused?"""
    assert new_consultation(client, login("gw1"), place).status_code == 403
    assert new_consultation(client, login("nobody"), place).status_code == 403
    bad_rule = new_consultation(client, login("committee"), place,
                                rule={"thresholds": [{"what": "participate", "measure": "persons", "base": "participants", "share": "2/3"}]})
    assert bad_rule.status_code == 422 and bad_rule.json["error"]["message"] == "表决规则有误"
    past = new_consultation(client, login("committee"), place, closes_at="2020-01-01T00:00:00Z")
    assert past.status_code == 422
    bad_share = new_consultation(client, login("committee"), place, rule={"thresholds": [
        {"what": "agree", "measure": "flats", "base": "all", "share": "0.66"}]})
    assert bad_share.status_code == 422


def test_scheduler_closes_what_is_due_once(app, db, place):
    """Does the scheduled job close a consultation past its deadline, store the result once, and skip it next time?"""
    c = factories.consultation(("compound", place), hours=1)
    not_due = factories.consultation(("compound", place), hours=24)
    _db.session.commit()
    later = utcnow() + timedelta(hours=2)
    assert close_due(now=later) == [c.id]
    assert close_due(now=later) == []
    results = _db.session.scalars(_db.select(ConsultationResult)).all()
    assert [r.consultation_id for r in results] == [c.id]
    assert _db.session.get(type(not_due), not_due.id).status == "open"


def test_scheduler_opens_drafts_at_their_opening_time(app, db, place):
    """Does a draft open (roll frozen, chain started) once its opens_at has come, and only then?"""
    from app.jobs import open_due_consultations

    later = factories.consultation(("compound", place), open_=False)
    due = factories.consultation(("compound", place), open_=False)
    later.opens_at = utcnow() + timedelta(hours=1)
    due.opens_at = utcnow() - timedelta(minutes=1)
    _db.session.commit()
    assert open_due_consultations(app) == [due.id]
    assert open_due_consultations(app) == []
    _db.session.expire_all()
    assert (due.status, later.status) == ("open", "draft")
    assert due.roll_digest and later.roll_digest is None


def test_stored_result_never_changes(app, client, login, place):
    """After closing, do roster edits and new bindings leave the stored tally exactly as it was?"""
    c = factories.consultation(("compound", place))
    flat = flats(place)[0]
    owner_of(app, "o", flat)
    post_ballot(client, login, c.id, "o", flat, "agree")
    committee = login("committee")
    client.post(f"/api/v1/consultations/{c.id}/close", headers=committee)
    before = client.get(f"/api/v1/consultations/{c.id}/tally", headers=committee).json["data"]
    for f in flats(place):
        f.area = f.area * 2
    _db.session.commit()
    after = client.get(f"/api/v1/consultations/{c.id}/tally", headers=committee).json["data"]
    assert after == before and after["stored"] is True and after["roll"]["area"] == "1440.00"


def test_audit_verify_names_an_edited_ballot(app, client, login, place, cli):
    """Does editing a ballot row in the database make `flask audit verify` fail and name the ballot?"""
    c = factories.consultation(("compound", place))
    all_flats = flats(place)
    for i, flat in enumerate(all_flats[:3]):
        owner_of(app, f"a{i}", flat)
        post_ballot(client, login, c.id, f"a{i}", flat, "disagree")
    ok_ = cli("audit", "verify")
    assert ok_.exit_code == 0 and "审计校验通过" in ok_.output, ok_.output
    target = _db.session.scalars(_db.select(Ballot).order_by(Ballot.id)).all()[1]
    with _db.engine.begin() as conn:
        conn.execute(text("UPDATE ballot SET choice = 'agree' WHERE id = :id"), {"id": target.id})
    bad = cli("audit", "verify")
    assert bad.exit_code != 0
    assert f"表决票 id {target.id}（1栋1单元102，回执 {target.receipt}）被改动" in bad.output


@pytest.mark.parametrize("tamper, finding", [
    ("DELETE FROM audit_entry WHERE kind = 'ballot' AND seq = 2",
     r"\[consultation:\d+\] owner:\d+ 的表决记录链：链尾记录缺失：应有 2 条，实有 1 条 / entries at the end are missing"),
    ("DELETE FROM audit_entry WHERE kind = 'ballot' AND seq = 1",
     r"\[consultation:\d+\] owner:\d+ 的表决记录链：第 1 条记录缺失（被删除） / entry 1 is missing \(deleted\)"),
    ("DELETE FROM audit_entry WHERE kind = 'roll_frozen'",
     r"\[consultation:\d+\] 链尾记录缺失：应有 1 条，实有 0 条 / entries at the end are missing"),
    ("UPDATE audit_entry SET payload = REPLACE(payload, 'current', 'conflict') WHERE kind = 'ballot' AND seq = 2",
     r"\[consultation:\d+\] owner:\d+ 的表决记录链：第 2 条记录（id \d+，ballot）被改动 / entry 2 \(id \d+, ballot\) was edited"),
    ("UPDATE vote_slot SET ballot_id = NULL",
     r"\[consultation:\d+\] 计票位（owner:\d+）指向的表决票被改动 / the counted ballot of owner:\d+ was changed"),
    ("UPDATE vote_slot SET head = '" + "f" * 64 + "' WHERE seq = 2",
     r"\[consultation:\d+\] owner:\d+ 的表决记录链：链头与最后一条记录不符（链头记为第 2 条） / the chain's head does not match its last entry"),
    ("UPDATE ballot SET status = 'current'",
     r"\[consultation:\d+\] 表决票 id \d+（1栋1单元101，回执 \w+）状态被改动（记录为 superseded，现为 current） / status was edited"),
    ("UPDATE roll_entry SET area = area + 1",
     r"\[consultation:\d+\] 冻结名册被改动（摘要不符） / the frozen roll was changed \(digest mismatch\)"),
])
def test_audit_verify_finds_other_tampering(app, client, login, place, cli, tamper, finding):
    """Does `flask audit verify` notice an entry deleted or edited, a slot or a head moved, a ballot's
    status or the roll changed, each by its own finding and nothing else?"""
    c = factories.consultation(("compound", place))
    flat = flats(place)[0]
    owner_of(app, "t", flat)
    for choice in ("agree", "disagree"):  # the person's chain: the first answer, then the changed one
        post_ballot(client, login, c.id, "t", flat, choice)
    assert cli("audit", "verify").exit_code == 0
    with _db.engine.begin() as conn:
        conn.execute(text(tamper))
    result = cli("audit", "verify")
    lines = [line for line in result.output.splitlines() if line.startswith("[")]
    assert result.exit_code != 0 and len(lines) == 1 and re.fullmatch(finding, lines[0]), result.output


def test_a_closed_consultation_seals_every_persons_chain(app, client, login, place, cli):
    """Once closed, does verify notice a ballot erased with its whole trail (entries, slot head, the ballot itself)?"""
    c = factories.consultation(("compound", place))
    all_flats = flats(place)
    for i, flat in enumerate(all_flats[:2]):
        owner_of(app, f"s{i}", flat)
        post_ballot(client, login, c.id, f"s{i}", flat, "agree")
    service.close(c.id)
    _db.session.commit()
    assert cli("audit", "verify").exit_code == 0
    erased = _db.session.scalars(_db.select(Ballot).order_by(Ballot.id)).all()[1]
    slot = _db.session.scalar(_db.select(VoteSlot).filter_by(consultation_id=c.id, person_key=erased.person_key))
    with _db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entry WHERE chain = :chain"), {"chain": slot.chain})
        conn.execute(text("UPDATE vote_slot SET ballot_id = NULL, seq = 0, head = :genesis WHERE id = :id"),
                     {"genesis": "0" * 64, "id": slot.id})
        conn.execute(text("DELETE FROM ballot WHERE id = :id"), {"id": erased.id})
    result = cli("audit", "verify")
    assert result.exit_code != 0 and "截止后计票位或个人表决记录链被改动" in result.output, result.output


def test_ballots_chained_before_person_chains_still_verify(app, client, login, place, cli):
    """Are ballots recorded in the consultation's own chain (before migration 0005) still checked, edits named?"""
    from app.services import audit

    c = factories.consultation(("compound", place))
    flat = flats(place)[0]
    owner_of(app, "old", flat)
    post_ballot(client, login, c.id, "old", flat, "agree")
    ballot = _db.session.scalar(_db.select(Ballot).filter_by(consultation_id=c.id))
    slot = _db.session.scalar(_db.select(VoteSlot).filter_by(consultation_id=c.id, person_key=ballot.person_key))
    # Rewrite the trail as revision 0004 wrote it: the entry in the consultation's chain, no person chain.
    with _db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entry WHERE chain = :chain"), {"chain": slot.chain})
        conn.execute(text("UPDATE vote_slot SET seq = 0, head = :genesis WHERE id = :id"), {"genesis": "0" * 64, "id": slot.id})
    audit.append(service.chain_name(c), "ballot", "ballot", ballot.id, {
        "ballot": ballot.id, "content_hash": ballot.content_hash, "person": ballot.person_key, "status": "current",
        "replaces": None})
    _db.session.commit()
    assert cli("audit", "verify").exit_code == 0
    with _db.engine.begin() as conn:
        conn.execute(text("UPDATE ballot SET choice = 'disagree' WHERE id = :id"), {"id": ballot.id})
    result = cli("audit", "verify")
    assert result.exit_code != 0 and f"表决票 id {ballot.id}" in result.output and "被改动" in result.output, result.output


def test_staff_list_only_their_scope(app, client, login, place):
    """Does the staff list show a building's consultation to its grid worker only, and nothing of another compound?"""
    b1, b2 = place.buildings
    whole = factories.consultation(("compound", place))
    only_b1 = factories.consultation(("building", b1))
    other = factories.compound()
    elsewhere = factories.consultation(("compound", other))
    factories.staff("othercommittee", "committee", "compound", other.id)
    _db.session.commit()

    def ids(name):
        resp = client.get("/api/v1/consultations", headers=login(name))
        assert resp.status_code == 200, resp.json
        return [c["id"] for c in resp.json["data"]]

    assert ids("committee") == [only_b1.id, whole.id]
    assert ids("gw1") == [only_b1.id, whole.id]
    assert ids("gw2") == [whole.id]
    assert ids("othercommittee") == [elsewhere.id]
    assert client.get("/api/v1/consultations", headers=login("plainresident")).status_code == 403


def test_a_grid_worker_is_told_who_may_open_close_and_publish(app, client, login, place):
    """A grid worker sees the consultation but may not manage it: a 403 naming who may; a stranger a 404."""
    c = factories.consultation(("compound", place))
    draft = factories.consultation(("compound", place), open_=False)
    _db.session.commit()
    worker, stranger = login("gw1"), login("stranger")
    for cid, action in ((c.id, "close"), (draft.id, "open"), (c.id, "publish")):
        resp = client.post(f"/api/v1/consultations/{cid}/{action}", headers=worker)
        assert resp.status_code == 403, resp.json
        assert "业委会" in resp.json["error"]["message"] and "网格员不能" in resp.json["error"]["message"]
        assert client.post(f"/api/v1/consultations/{cid}/{action}", headers=stranger).status_code == 404
    assert _db.session.get(type(c), c.id).status == "open"
