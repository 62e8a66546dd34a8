"""Can a resident sign in with WeChat, and is nothing secret handed back?"""
from app.extensions import db as _db
from app.models import AuthSession, User


def test_login_gives_a_token_and_the_same_user_each_time(client):
    """Do two logins of one WeChat user give two tokens but one user?"""
    first = client.post("/api/v1/auth/login", json={"code": "dev-li.1"}).json["data"]
    second = client.post("/api/v1/auth/login", json={"code": "dev-li.2"}).json["data"]
    assert first["token"] != second["token"]
    assert first["user"]["id"] == second["user"]["id"]
    assert first["bindings"] == [] and first["user"]["roles"] == []
    assert "session_key" not in str(first) and "openid" not in str(first)
    stored = _db.session.scalars(_db.select(AuthSession)).all()
    assert len(stored) == 2
    columns = {c.name for c in AuthSession.__table__.columns}
    assert "session_key" not in columns  # no feature needs WeChat's session_key: it is not kept
    assert first["token"] not in {s.token_hash for s in stored}  # only a hash is stored


def test_reused_code_is_refused_in_chinese(client):
    """Is a wx.login code used twice refused with 400 and a Chinese message?"""
    assert client.post("/api/v1/auth/login", json={"code": "dev-li.3"}).status_code == 200
    resp = client.post("/api/v1/auth/login", json={"code": "dev-li.3"})
    assert resp.status_code == 400
    assert resp.json["error"]["code"] == "invalid_code"
    assert "重新打开小程序" in resp.json["error"]["message"]


def test_risky_user_cannot_log_in(client):
    """Does WeChat's high-risk verdict (40226) become a 403?"""
    resp = client.post("/api/v1/auth/login", json={"code": "dev-risky-x.1"})
    assert resp.status_code == 403 and resp.json["error"]["code"] == "risky_user"


def test_login_needs_a_code(client):
    """Is a login without a code a 422 naming the field?"""
    resp = client.post("/api/v1/auth/login", json={})
    assert resp.status_code == 422
    assert resp.json["error"]["details"]["json"]["code"] == ["必填项"]


def test_me_needs_a_live_token(client, login):
    """Does /me answer 401 without a token, with a wrong one, and 200 with a real one?"""
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer nope"}).json["error"]["code"] == "unauthorized"
    headers = login("wu")
    me = client.get("/api/v1/me", headers=headers).json["data"]
    assert me["user"]["id"] and me["bindings"] == [] and me["roles"] == []


def test_expired_session_is_refused(client, login):
    """Is a session past its expiry refused?"""
    from datetime import timedelta

    headers = login("wu")
    for s in _db.session.scalars(_db.select(AuthSession)):
        s.expires_at -= timedelta(days=30)
    _db.session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_logout_ends_the_session(client, login):
    """Does logout end this session only, leaving the user's other phone signed in?"""
    headers, other_phone = login("wu"), login("wu")
    resp = client.post("/api/v1/auth/logout", headers=headers)
    assert resp.status_code == 200 and resp.json["data"]["sessions_ended"] == 1
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert client.get("/api/v1/me", headers=other_phone).status_code == 200


def test_logout_all_ends_every_session_of_the_user_only(client, login):
    """A lost phone: does ?all=1 end every session of the user, and nobody else's?"""
    phones = [login("lost") for _ in range(3)]
    neighbour = login("neighbour")
    resp = client.post("/api/v1/auth/logout?all=1", headers=phones[0])
    assert resp.status_code == 200 and resp.json["data"]["sessions_ended"] == 3
    assert [client.get("/api/v1/me", headers=h).status_code for h in phones] == [401, 401, 401]
    assert client.get("/api/v1/me", headers=neighbour).status_code == 200


def test_a_stored_token_hash_opens_nothing_without_the_secret_key(client, login):
    """The session table holds HMACs under SECRET_KEY: a plain SHA-256 of the token is not in it."""
    import hashlib

    token = login("wu")["Authorization"].split()[1]
    stored = set(_db.session.scalars(_db.select(AuthSession.token_hash)))
    assert len(stored) == 1 and hashlib.sha256(token.encode()).hexdigest() not in stored


def test_phone_is_stored_and_shown_masked(client, login):
    """Does a WeChat phone code store the number and answer it masked?"""
    headers = login("wu")
    resp = client.post("/api/v1/auth/phone", json={"code": "phone-13812345678"}, headers=headers)
    assert resp.status_code == 200 and resp.json["data"]["phone"] == "138****5678"
    assert _db.session.scalar(_db.select(User.phone).where(User.phone.is_not(None))) == "13812345678"
    assert client.get("/api/v1/me", headers=headers).json["data"]["user"]["phone"] == "138****5678"
    again = client.post("/api/v1/auth/phone", json={"code": "phone-13812345678"}, headers=headers)
    assert again.status_code == 400 and again.json["error"]["code"] == "invalid_code"
