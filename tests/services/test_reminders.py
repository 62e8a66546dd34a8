"""Are residents whose flat has not answered reminded once per round before the deadline, and
nobody else, however often the job runs?"""
from datetime import timedelta

import pytest

from app.extensions import db as _db
from app.models import InboxItem, OutboxMessage
from app.models.places import utcnow
from app.services import reminders
from tests import factories
from tests.tamper import owned_compound, sign


@pytest.fixture()
def place(app, db):
    """4 flats, each with its bound owner dev-o<i>."""
    return owned_compound((("1栋", 1, 2, 2),))


def planned():
    return sorted(_db.session.execute(_db.select(OutboxMessage.user_id, OutboxMessage.flat_id,
                                                 OutboxMessage.dedupe_key)).all())


def test_each_unanswered_flat_is_reminded_once_per_round(client, login, place):
    comp, flats = place
    c = factories.consultation(("compound", comp), hours=48)
    _db.session.commit()
    sign(client, login, c.id, 0, flats[0])
    now = utcnow()
    assert reminders.plan(now) == {f"consultation:{c.id}": 3}  # the 72-hour round: flats 2-4
    assert reminders.plan(now) == {f"consultation:{c.id}": 0}  # run again (or a second scheduler): nothing new
    rows = planned()
    assert {flat for _, flat, _ in rows} == {f.id for f in flats[1:]}
    assert all(key.startswith(f"reminder:{c.id}:72h:") for _, _, key in rows)
    sign(client, login, c.id, 1, flats[1])
    assert reminders.plan(now + timedelta(hours=30)) == {f"consultation:{c.id}": 2}  # the 24-hour round: flats 3-4
    assert reminders.plan(now + timedelta(hours=30)) == {f"consultation:{c.id}": 0}
    assert reminders.plan(now + timedelta(hours=49)) == {f"consultation:{c.id}": 0}  # past the deadline: no round


def test_a_reminder_leaves_an_inbox_copy_and_names_the_room(client, login, place):
    comp, flats = place
    c = factories.consultation(("compound", comp), hours=20)
    _db.session.commit()
    reminders.plan(utcnow())
    message = _db.session.scalar(_db.select(OutboxMessage).where(OutboxMessage.flat_id == flats[0].id))
    assert message.template == "ballot_reminder" and message.page == f"pages/consultation/index?id={c.id}&flat_id={flats[0].id}"
    assert message.data["thing1"] == c.title and "尚未表决" in message.data["thing3"]
    item = _db.session.scalar(_db.select(InboxItem).where(InboxItem.user_id == message.user_id))
    assert item.title == f"表决提醒：{c.title}" and "截止时间" in item.body


def test_nothing_is_planned_long_before_the_deadline_or_for_a_closed_consultation(client, login, place):
    comp, flats = place
    early = factories.consultation(("compound", comp), hours=24 * 10)
    closed = factories.consultation(("compound", comp), hours=10)
    from app.services import consultations

    consultations.close(closed.id)
    _db.session.commit()
    assert reminders.plan(utcnow()) == {f"consultation:{early.id}": 0}
    assert planned() == []


def test_the_scheduler_plans_reminders_and_the_cli_runs_it_once(app, client, login, place, cli):
    """The reminders are a job of the scheduler process, run once by `flask jobs run plan_reminders`."""
    from app.jobs import JOBS, plan_reminders

    assert plan_reminders in [job for job, _ in JOBS]
    comp, flats = place
    factories.consultation(("compound", comp), hours=20)
    _db.session.commit()
    result = cli("jobs", "run", "plan_reminders")
    assert result.exit_code == 0, result.output
    assert _db.session.scalar(_db.select(_db.func.count(OutboxMessage.id))) == 4


def test_a_flat_no_reminder_could_reach_is_marked_on_the_door_visit_list(client, login, place, emulator):
    """No consent for the reminder template: the message fails for good, and the grid worker's list
    of unanswered flats marks that flat unreachable (the others not)."""
    from app.services import outbox

    comp, flats = place
    grid = factories.grid(comp, comp.buildings)
    factories.staff("gw", "grid_worker", "grid", grid.id)
    c = factories.consultation(("compound", comp), hours=20)
    _db.session.commit()
    reminders.plan(utcnow())
    import requests
    from flask import current_app

    allowed = factories.user("o1")  # only flat 2's owner allowed it: in WeChat, and so in our quotas
    requests.post(f"{emulator}/__emulator__/subscribe", json={
        "openid": allowed.openid, "template_id": current_app.config["SUBSCRIBE_TEMPLATES"]["ballot_reminder"]["id"]})
    outbox.accept(allowed.id, ["ballot_reminder"])
    _db.session.commit()
    outbox.dispatch(now=(utcnow() + timedelta(days=1)).replace(hour=4))  # 12:00 Beijing: not quiet hours
    listed = client.get(f"/api/v1/consultations/{c.id}/pending-flats", headers=login("gw")).json["data"]
    marks = {f["flat_id"]: f["unreachable"] for f in listed}
    assert marks[flats[0].id] is True and marks[flats[1].id] is False


def test_flats_that_owe_and_have_not_pledged_are_reminded_before_a_plan_closes(client, login, place):
    """A contribution plan's reminders: each round once, to the flats owing something with no pledge;
    not to a flat that pledged, nor to one exempt (a ground floor with coefficient 0)."""
    from app.services import plans, pledges

    comp, flats = place
    admin = factories.staff("reminder-admin", "admin")
    plan = plans.create(admin, {"scope": {"type": "compound", "id": comp.id}, "title": "加装电梯出资",
                                "items": [{"key": "lift", "name": "电梯", "required": True, "cost_fen": 90_000,
                                           "standard": {"type": "floor_coefficient",
                                                        "coefficients": {"1": "0", "2": "1"}}}],
                                "methods": ["direct"], "closes_at": utcnow() + timedelta(hours=48)})
    plans.open_(admin, plan.id)
    upstairs = [f for f in flats if f.floor == 2]
    owner = factories.user("o2")  # place binds dev-o<i> to flats[i]
    pledges.sign(owner, plan.id, flats[2].id, [{"item": "lift", "method": "direct"}], factories.signature_png())
    _db.session.commit()
    assert [f.id for f in upstairs] == [flats[2].id, flats[3].id]
    now = utcnow()
    assert reminders.plan(now)[f"plan:{plan.id}"] == 1  # flats[3]: owes and has not pledged
    assert reminders.plan(now)[f"plan:{plan.id}"] == 0
    rows = _db.session.execute(_db.select(OutboxMessage.flat_id, OutboxMessage.template, OutboxMessage.page)
                               .where(OutboxMessage.subject == f"plan:{plan.id}")).all()
    assert rows == [(flats[3].id, "plan_deadline", f"pages/plan/index?id={plan.id}&flat_id={flats[3].id}")]
    inbox = _db.session.scalars(_db.select(InboxItem.body).where(InboxItem.title.like("认筹提醒%"))).all()
    assert len(inbox) == 1 and "尚未签署出资承诺" in inbox[0]
    assert reminders.plan(now + timedelta(hours=30))[f"plan:{plan.id}"] == 1  # the 24-hour round
