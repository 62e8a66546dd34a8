"""The sign route checks its token in its own first statement (issue 13: no round trip for the token
alone). Whatever else is wrong with a request, a missing, unknown, expired or ended token is the
same 401 as on any route, before any other error, before the image is decoded, with nothing written;
a live token changes nothing of what the route answers."""
import base64
from datetime import timedelta

import pytest

from app.extensions import db as _db
from app.models import AuditEntry, AuthSession, Ballot, Blob, VoteSlot
from app.services import ballots as ballot_service
from app.services import consultations as service
from tests import factories

SIG = factories.signature_png()
NOT_AN_IMAGE = base64.b64encode(b"not a png at all, just bytes" * 4).decode()


@pytest.fixture()
def place(app, db):
    comp = factories.compound(buildings=(("1栋", 1, 3, 2),))
    _db.session.commit()
    return comp


def flats(comp):
    return [f for b in comp.buildings for u in b.units for f in u.flats]


def post(client, headers, consultation_id, body, key=None):
    extra = {"Idempotency-Key": key} if key is not None else {}
    return client.post(f"/api/v1/consultations/{consultation_id}/ballots", headers={**headers, **extra}, json=body)


def written():
    return tuple(_db.session.scalar(_db.select(_db.func.count()).select_from(model))
                 for model in (Ballot, AuditEntry, Blob, VoteSlot))


@pytest.fixture()
def scene(client, login, place):
    """An owner who signed once (under key "k-1"), another flat's owner, an open and a closed
    consultation; the owner's live headers, and tokens that open nothing."""
    one, two = flats(place)[:2]
    factories.resident("owner", one)
    factories.resident("neighbour", two)
    c = factories.consultation(("compound", place))
    closed = factories.consultation(("compound", place))
    service.close(closed.id)
    _db.session.commit()
    owner = login("owner")
    assert post(client, owner, c.id, {"flat_id": one.id, "choice": "agree", "signature": SIG}, key="k-1").status_code == 201
    expired = login("neighbour")
    ended = login("neighbour")
    assert client.post("/api/v1/auth/logout", headers=ended).status_code in (200, 204)
    token = expired["Authorization"].split()[1]
    from app.services.auth import _hash

    session = _db.session.scalar(_db.select(AuthSession).filter_by(token_hash=_hash(token)))
    session.expires_at -= timedelta(days=365)
    _db.session.commit()
    bad = {"missing": {}, "unknown": {"Authorization": "Bearer nope-not-a-token"},
           "not bearer": {"Authorization": "Basic bm9wZTpub3Bl"}, "empty": {"Authorization": "Bearer "},
           "expired": expired, "ended": ended}
    return {"c": c, "closed": closed, "one": one, "two": two, "owner": owner, "bad": bad}


def cases(s):
    """(name, consultation id, body, Idempotency-Key) of requests wrong in every other way, and a good one."""
    good = {"flat_id": s["one"].id, "choice": "disagree", "signature": SIG}
    return [
        ("good", s["c"].id, good, None),
        ("no body fields", s["c"].id, {}, None),
        ("bad flat id", s["c"].id, {**good, "flat_id": "x"}, None),
        ("bad key header", s["c"].id, good, "k" * 65),
        ("not base64", s["c"].id, {**good, "signature": "!!!"}, None),
        ("not an image", s["c"].id, {**good, "signature": NOT_AN_IMAGE}, None),
        ("too large", s["c"].id, {**good, "signature": "A" * 300_000}, None),
        ("another's flat", s["c"].id, {**good, "flat_id": s["two"].id}, None),
        ("no such consultation", 987654, good, None),
        ("closed", s["closed"].id, good, None),
        ("bogus choice", s["c"].id, {**good, "choice": "bogus"}, None),
        ("replayed key, another body", s["c"].id, good, "k-1"),
        ("replayed key, same body", s["c"].id, {**good, "choice": "agree"}, "k-1"),
    ]


def test_a_bad_token_is_the_same_401_before_anything_else(client, scene, monkeypatch):
    """Every wrong request under every bad token: exactly /me's 401 (status, body, WWW-Authenticate),
    no image decoded, nothing written."""
    decoded = []
    real = ballot_service.image_mimetype
    monkeypatch.setattr(ballot_service, "image_mimetype", lambda *a: decoded.append(a) or real(*a))
    before = written()
    for token_name, headers in scene["bad"].items():
        expected = client.get("/api/v1/me", headers=headers)
        assert expected.status_code == 401
        for name, cid, body, key in cases(scene):
            resp = post(client, headers, cid, body, key)
            what = f"{token_name} token, {name}"
            assert resp.status_code == 401, (what, resp.json)
            assert resp.json == expected.json, what
            assert resp.headers.get("WWW-Authenticate") == expected.headers.get("WWW-Authenticate"), what
    assert decoded == []
    assert written() == before


def test_a_live_token_changes_nothing(client, scene):
    """The same requests under the owner's live token: each the answer it always was."""
    answers = {name: post(client, scene["owner"], cid, body, key) for name, cid, body, key in cases(scene)}
    got = {name: (r.status_code, (r.json.get("error") or {}).get("code")) for name, r in answers.items()}
    assert got == {
        "good": (201, None),
        "no body fields": (422, "validation_error"),
        "bad flat id": (422, "validation_error"),
        "bad key header": (422, "validation_error"),
        "not base64": (422, "validation_error"),
        "not an image": (422, "validation_error"),
        "too large": (413, "too_large"),
        "another's flat": (404, "not_found"),
        "no such consultation": (404, "not_found"),
        "closed": (409, "closed"),
        "bogus choice": (422, "validation_error"),
        "replayed key, another body": (422, "idempotency_mismatch"),
        "replayed key, same body": (201, None),
    }
    assert answers["replayed key, same body"].json["data"]["ballot_id"] == _db.session.scalar(
        _db.select(Ballot.id).filter_by(idempotency_key="k-1"))
    # another signed-in user replaying the owner's key: the conflict, not the owner's receipt
    stranger = client.post("/api/v1/auth/login", json={"code": "dev-stranger.1"}).json["data"]["token"]
    resp = post(client, {"Authorization": "Bearer " + stranger}, scene["c"].id,
                {"flat_id": scene["one"].id, "choice": "agree", "signature": SIG}, key="k-1")
    assert resp.status_code == 404  # not bound: a stranger learns nothing, as before


def test_an_image_error_still_comes_before_a_404_for_a_live_token(client, scene):
    """The signed-in caller's order is kept: a bad image is a 422 even on a consultation that does not exist."""
    resp = post(client, scene["owner"], 987654, {"flat_id": scene["one"].id, "choice": "agree", "signature": NOT_AN_IMAGE})
    assert resp.status_code == 422 and resp.json["error"]["details"] == {"签名": ["格式无效"]}


def test_an_unsettled_session_has_no_user(app):
    """Nothing can act for a token the route has not checked: asking for its user raises."""
    from flask import g

    from app.api.common import current_user_id
    from app.services.auth import PendingSession, SessionRefused

    with app.test_request_context():
        g.flask_httpauth_user = PendingSession("whatever")
        with pytest.raises(RuntimeError):
            current_user_id()
        with pytest.raises(SessionRefused):
            g.flask_httpauth_user.settle(None, None)
        with pytest.raises(RuntimeError):
            current_user_id()


def test_only_the_sign_route_is_deferred(app):
    """Every other route that asks for a token looks it up before its view runs."""
    deferred = sorted(rule.rule for rule in app.url_map.iter_rules() if _deferred_view(app.view_functions[rule.endpoint]))
    assert deferred == ["/api/v1/consultations/<int:consultation_id>/ballots"]


def _deferred_view(view):
    """Is view wrapped by auth_deferred (which marks its wrapper; functools.wraps carries the mark out)?"""
    return getattr(view, "auth_deferred", False) is True


def test_signing_works_in_a_fresh_worker(client, scene, monkeypatch):
    """PIL's Image.MIME is empty in a fresh process until an image is opened (a gunicorn worker's
    first ballot): the checks, made before the image is decoded, must not read it."""
    from PIL import Image

    opened = []
    real_open = Image.open

    class Fresh(dict):
        def __getitem__(self, key):
            if not opened:
                raise KeyError(key)
            return {"PNG": "image/png", "JPEG": "image/jpeg"}[key]

    monkeypatch.setattr(Image, "MIME", Fresh())
    monkeypatch.setattr(Image, "open", lambda *a, **k: opened.append(1) or real_open(*a, **k))
    resp = post(client, scene["owner"], scene["c"].id, {"flat_id": scene["one"].id, "choice": "abstain", "signature": SIG})
    assert resp.status_code == 201, resp.json
