"""Issue 15 in the console: paper proxies confirmed by a second staff member beside their photos,
and owners verified in person (level 2), each through the services the API uses."""
import re

from app.extensions import db as _db
from app.models import Binding, Proxy
from app.services import verification
from tests import factories
from tests.console.test_roster_jobs import sign_in

SIG = factories.signature_png()


def test_a_paper_proxy_is_confirmed_beside_its_photo_and_an_owner_is_verified_in_person(app, client, login):
    comp = factories.compound(buildings=(("1栋", 1, 3, 2),))
    g = factories.grid(comp, comp.buildings, name="第一网格")
    factories.staff("cp-gw", "grid_worker", "grid", g.id)
    factories.staff("cp-gw2", "grid_worker", "grid", g.id)
    other = factories.compound(buildings=(("9栋", 1, 1, 1),))
    factories.staff("cp-far", "grid_worker", "grid", factories.grid(other, other.buildings, name="远处网格").id)
    flats = comp.buildings[0].units[0].flats
    owner = factories.resident("cp-owner", flats[0])
    neighbour = factories.resident("cp-neighbour", flats[5])
    c = factories.consultation(("compound", comp))
    _db.session.commit()
    name = _db.session.scalar(_db.select(Binding.name).filter_by(user_id=neighbour.id))
    entered = client.post("/api/v1/proxies/paper", headers=login("cp-gw"), json={
        "flat_id": flats[0].id, "proxy_user_id": neighbour.id, "proxy_name": name,
        "scope": {"type": "consultation", "id": c.id}, "photo": SIG})
    assert entered.status_code == 201, entered.json
    proxy_id = entered.json["data"]["id"]

    # The grid worker who entered it sees it, but no button: a second person confirms.
    gw = app.test_client()
    sign_in(gw, "cp-gw")
    page = gw.get("/console/proxies").get_data(as_text=True)
    assert entered.json["data"]["number"] in page and "由您录入" in page and "核对无误，确认" not in page
    gw2 = app.test_client()
    token2 = sign_in(gw2, "cp-gw2")
    page = gw2.get("/console/proxies").get_data(as_text=True)
    assert "核对无误，确认" in page
    assert gw2.get(f"/console/proxies/{proxy_id}/photo").data[:4] == b"\x89PNG"
    far = app.test_client()
    far_token = sign_in(far, "cp-far")
    assert far.get(f"/console/proxies/{proxy_id}/photo").status_code == 404
    assert far.post(f"/console/proxies/{proxy_id}/confirm", data={"csrf_token": far_token}).status_code == 404
    assert entered.json["data"]["number"] not in far.get("/console/proxies").get_data(as_text=True)
    assert gw2.post(f"/console/proxies/{proxy_id}/confirm", data={"csrf_token": token2}).status_code == 302
    _db.session.expire_all()
    assert _db.session.get(Proxy, proxy_id).status == "active"

    # The owner, bound by the roster match (level 1), verified in person from the bindings page.
    binding = _db.session.scalar(_db.select(Binding).filter_by(user_id=owner.id))
    page = gw2.get("/console/bindings").get_data(as_text=True)
    assert "待当面核验的业主" in page and f"/console/bindings/{binding.id}/confirm-in-person" in page
    assert far.post(f"/console/bindings/{binding.id}/confirm-in-person", data={"csrf_token": far_token}).status_code == 404
    assert gw2.post(f"/console/bindings/{binding.id}/confirm-in-person", data={"csrf_token": token2}).status_code == 302
    _db.session.expire_all()
    binding = _db.session.get(Binding, binding.id)
    assert binding.level == 2 and binding.level_by_id is not None
    assert f"/console/bindings/{binding.id}/confirm-in-person" not in gw2.get("/console/bindings").get_data(as_text=True)
    assert verification.verify() == []


def test_the_rule_builder_can_require_in_person_verification(app, client):
    """The console's rule builder: 要求当面核验 sets the rule's required_level to 2, and the page says it."""
    from app.models import Consultation

    comp = factories.compound(buildings=(("1栋", 1, 1, 2),))
    factories.staff("cp-committee", "committee", "compound", comp.id)
    _db.session.commit()
    token = sign_in(client, "cp-committee")
    form = {"csrf_token": token, "scope": f"compound:{comp.id}", "title": "1栋加装电梯", "body": "",
            "kind": "elevator", "preset": "major", "closes_at": "2031-01-01T12:00", "required_level": "2"}
    page = client.get("/console/consultations/new").get_data(as_text=True)
    scope_field = re.search(r'<select name="(scope[^"]*)"', page).group(1)
    value = re.search(r'<option value="([^"]*' + str(comp.id) + r')"', page).group(1)
    form.pop("scope")
    form[scope_field] = value
    answer = client.post("/console/consultations/new", data=form)
    assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]
    c = _db.session.scalar(_db.select(Consultation).order_by(Consultation.id.desc()))
    assert c.rule["required_level"] == 2
    assert "线上签署须经网格员当面核验身份（核验等级 2）" in client.get(answer.headers["Location"]).get_data(as_text=True)
