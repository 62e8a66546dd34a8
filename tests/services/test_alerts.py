"""Are the committee and community staff told once when a consultation passes or can no longer pass
(exactly, at the boundary), and does each grid worker get one door-visit list a day, rooms only?"""
from datetime import timedelta
from decimal import Decimal

import pytest

from app.extensions import db as _db
from app.models import InboxItem, OutboxMessage
from app.models.places import utcnow
from app.services import alerts, outbox, tally
from tests import factories
from tests.tamper import owned_compound, sign


def alerts_of(kind=None):
    rows = _db.session.execute(_db.select(OutboxMessage.user_id, OutboxMessage.dedupe_key, OutboxMessage.data)
                               .where(OutboxMessage.template == "threshold_reached")).all()
    return [r for r in rows if kind is None or f":{kind}:" in r.dedupe_key]


def inbox(user):
    return _db.session.scalars(_db.select(InboxItem).where(InboxItem.user_id == user.id).order_by(InboxItem.id)).all()


@pytest.fixture()
def place(app, db):
    """4 flats with bound owners dev-o0..o3 and dev-committee; community staff; another compound's committee."""
    comp, flats = owned_compound((("1栋", 1, 2, 2),))
    staff = factories.staff("cs", "community_staff", "community", comp.community_id)
    other = factories.compound()
    stranger = factories.staff("othercommittee", "committee", "compound", other.id)
    committee = factories.user("committee")
    _db.session.commit()
    return comp, flats, committee, staff, stranger


def test_a_passing_consultation_alerts_its_staff_once_and_no_other_compound(client, login, place):
    comp, flats, committee, staff, stranger = place
    c = factories.consultation(("compound", comp), hours=48)
    _db.session.commit()
    assert alerts.check_thresholds() == {}  # nobody answered: neither passed nor impossible
    for i in range(2):
        sign(client, login, c.id, i, flats[i])
    assert alerts.check_thresholds() == {}  # 2 of 4 took part: participation not yet 2/3
    sign(client, login, c.id, 2, flats[2])
    assert alerts.check_thresholds() == {c.id: 2}  # 3 of 4 took part, all agree
    sign(client, login, c.id, 3, flats[3])
    for _ in range(3):  # the job again, or a second scheduler: nothing new
        assert alerts.check_thresholds() == {c.id: 0}
    rows = alerts_of("reached")
    assert sorted(u for u, _, _ in rows) == sorted([committee.id, staff.id])
    assert all(key == f"alert:{c.id}:reached:{u}" for u, key, _ in rows)
    assert rows[0].data["thing1"] == c.title and rows[0].data["phrase2"] == "达到"
    assert not [r for r in alerts_of() if r.user_id == stranger.id] and inbox(stranger) == []
    for person in (committee, staff):
        (item,) = inbox(person)
        assert item.title == f"已达到通过条件：{c.title}" and "3 / 4 人参与" in item.body


def test_a_consultation_that_can_no_longer_pass_alerts_once(client, login, place):
    comp, flats, committee, staff, stranger = place
    c = factories.consultation(("compound", comp), hours=48)  # major: 3/4 of participants agree
    _db.session.commit()
    sign(client, login, c.id, 0, flats[0], "disagree")
    assert alerts.check_thresholds() == {}  # 3 agreeing newcomers: 3 of 4 = 3/4, still possible
    sign(client, login, c.id, 1, flats[1], "disagree")
    assert alerts.check_thresholds() == {c.id: 2}
    assert alerts.check_thresholds() == {c.id: 0}
    rows = alerts_of("impossible")
    assert {u for u, _, _ in rows} == {committee.id, staff.id}
    assert rows[0].data["phrase2"] == "无法达到"
    (item,) = inbox(committee)
    assert item.title == f"已无法通过：{c.title}" and "同意人数（参与者的 3/4）" in item.body
    assert outbox.fit("threshold_reached", rows[0].data)["phrase2"] == "无法达到"


def roll(n, areas=None):
    areas = areas or ["80.00"] * n
    return [tally.RollFlat(i, f"p{i}", Decimal(areas[i]), 1, 1, f"1栋1单元{i}") for i in range(n)]


def count(flats, votes, thresholds, preset="none"):
    return tally.count(flats, votes, tally.expand_rule(preset, thresholds))


ALL_3_4 = [{"what": "agree", "measure": "persons", "base": "all", "share": "3/4"}]
PARTICIPANTS_3_4 = [{"what": "agree", "measure": "persons", "base": "participants", "share": "3/4"}]


def test_can_no_longer_pass_at_the_boundary_of_all_persons():
    """3/4 of 8 persons must agree (6): 2 against, 6 unanswered: needs 6 = the unanswered, still
    possible; 3 against, 5 unanswered: impossible."""
    flats = roll(8)
    two = count(flats, {"p0": "disagree", "p1": "disagree"}, ALL_3_4)
    assert two["approval"]["thresholds"][0]["needed"] == 6
    assert alerts.cannot_pass(two) == [] and alerts.kind_of(two) is None
    three = count(flats, {"p0": "disagree", "p1": "disagree", "p2": "disagree"}, ALL_3_4)
    assert three["approval"]["thresholds"][0]["needed"] == 6  # one more than the 5 left
    assert [m["measure"] for m in alerts.cannot_pass(three)] == ["persons"]
    assert alerts.kind_of(three) == alerts.IMPOSSIBLE


def test_can_no_longer_pass_at_the_boundary_of_participants():
    """3/4 of participants: 1 against and 3 agreeing newcomers make 3/4 exactly; 2 against never can."""
    flats = roll(4)
    one = count(flats, {"p0": "disagree"}, PARTICIPANTS_3_4)
    assert one["approval"]["thresholds"][0]["needed"] == 3 and alerts.cannot_pass(one) == []
    two = count(flats, {"p0": "disagree", "p1": "disagree"}, PARTICIPANTS_3_4)
    assert alerts.kind_of(two) == alerts.IMPOSSIBLE
    strict = [{**PARTICIPANTS_3_4[0], "strict": True}]  # more than 3/4: 3 of 4 is no longer enough
    assert alerts.kind_of(count(flats, {"p0": "disagree"}, strict)) == alerts.IMPOSSIBLE


def test_can_no_longer_pass_by_area_is_exact_to_the_cent():
    """2/3 of 100.00 m² is 66.666…: 33.33 + 33.34 = 66.67 left is enough, 33.33 + 33.33 = 66.66 is not."""
    areas = ["33.33", "33.33", "33.34"]
    rule = [{"what": "agree", "measure": "area", "base": "all", "share": "2/3"}]
    assert alerts.cannot_pass(count(roll(3, areas), {"p0": "disagree"}, rule)) == []
    assert alerts.kind_of(count(roll(3, areas), {"p2": "disagree"}, rule)) == alerts.IMPOSSIBLE


def test_participation_that_can_no_longer_be_reached_and_unanimity_broken():
    flats = roll(3)
    unanimous = [{"what": "agree", "measure": "persons", "base": "participants", "share": "1"}]
    broken = count(flats, {"p0": "disagree"}, unanimous)
    assert broken["approval"]["thresholds"][0]["needed"] is None and alerts.kind_of(broken) == alerts.IMPOSSIBLE
    passed = count(flats, {f"p{i}": "agree" for i in range(3)}, [], preset="major")
    assert alerts.kind_of(passed) == alerts.REACHED


# ---------------------------------------------------------------- the daily list


def morning(days=1, hour=2):
    return (utcnow() + timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)  # 10:00 Beijing


@pytest.fixture()
def grids(app, db):
    """Two buildings, each its own grid with its worker; flats of building 1: one locked, one no quota,
    one refused by WeChat, one pending binding; an old failure (8 days) and building 2's own."""
    from app.models import Binding

    comp = factories.compound(buildings=(("1栋", 1, 1, 4), ("2栋", 1, 1, 2)))
    b1, b2 = comp.buildings
    g1, g2 = factories.grid(comp, [b1]), factories.grid(comp, [b2])
    w1 = factories.staff("gw1", "grid_worker", "grid", g1.id)
    w2 = factories.staff("gw2", "grid_worker", "grid", g2.id)
    f1 = [f for u in b1.units for f in u.flats]
    f2 = [f for u in b2.units for f in u.flats]
    f1[0].binding_locked_at = utcnow()
    resident = factories.user("r1")
    _db.session.add(Binding(user=resident, flat=f1[3], relation="tenant", name="租户", status="pending"))
    now = morning()
    for i, (flat, error, age) in enumerate([(f1[1], "no_quota", 1), (f1[2], "43101 refused or no quota", 2),
                                            (f1[3], "no_quota", 8), (f2[0], "no_quota", 1)]):
        outbox.enqueue(resident.id, "ballot_reminder", {"thing1": "x"}, dedupe_key=f"t{i}", flat_id=flat.id)
        _db.session.flush()
        _db.session.execute(_db.update(OutboxMessage).where(OutboxMessage.dedupe_key == f"t{i}")
                            .values(status="failed", last_error=error, next_attempt_at=now - timedelta(days=age)))
    _db.session.commit()
    return now, (w1, w2), (b1, b2), f1, f2


def test_each_grid_worker_gets_one_list_a_day_with_rooms_only(grids):
    now, (w1, w2), (b1, b2), f1, f2 = grids
    assert alerts.door_visit_lists(now - timedelta(hours=3)) == {}  # 07:00 Beijing: not yet
    written = alerts.door_visit_lists(now)
    assert set(written) == {w1.id, w2.id}
    assert alerts.door_visit_lists(now) == {} and alerts.door_visit_lists(now + timedelta(hours=5)) == {}
    (item,) = inbox(w1)
    room = lambda f: f"{b1.name}{f.unit.name}{f.room}"  # noqa: E731
    assert "待审核的绑定申请：1 件" in item.body
    assert f"绑定已锁定的房屋（1 户）：{room(f1[0])}" in item.body
    assert f"无法送达的房屋（2 户）：{room(f1[1])}、{room(f1[2])}" in item.body  # f1[3] failed 8 days ago
    assert f"{b2.name}" not in item.body  # the other grid's flat
    for flat in f1 + f2:  # rooms only: no owner's name or phone
        assert flat.owner.name not in item.body and flat.owner.phone[-4:] not in item.body
    (other,) = inbox(w2)
    assert f"无法送达的房屋（1 户）：{b2.name}" in other.body
    # no push: the day's marker is an inbox-channel row the dispatcher never claims
    markers = _db.session.scalars(_db.select(OutboxMessage).where(OutboxMessage.channel == "inbox")).all()
    assert sorted(m.dedupe_key for m in markers) == sorted(f"daily:{w.id}:{(now + timedelta(hours=8)).date()}"
                                                           for w in (w1, w2))
    assert outbox.dispatch(now)["claimed"] == 0
    assert len(alerts.door_visit_lists(now + timedelta(days=1))) == 2  # the next day: a new list
    assert len(inbox(w1)) == 2


def test_the_scheduler_runs_both_jobs_and_the_cli_runs_each_once(app, cli, place):
    from app.jobs import JOBS, alert_thresholds, daily_door_visits

    jobs = dict(JOBS)
    assert jobs[alert_thresholds] == 300 and jobs[daily_door_visits] == 3600
    for name in ("alert_thresholds", "daily_door_visits"):
        result = cli("jobs", "run", name)
        assert result.exit_code == 0, result.output


# ---------------------------------------------------------------- planning in bulk (reminders use it)


def test_enqueue_many_inserts_each_key_once_and_names_exactly_the_new_ones(app, db):
    users = [factories.user(f"bulk{i}") for i in range(3)]
    _db.session.commit()

    def batch(keys):
        return [{"user_id": users[i % 3].id, "template": "ballot_reminder", "data": {"thing1": k, "time2": utcnow()},
                 "page": "pages/inbox/index", "dedupe_key": k, "flat_id": None, "subject": "bulk"} for i, k in enumerate(keys)]

    assert outbox.enqueue(users[0].id, "ballot_reminder", {"thing1": "a"}, dedupe_key="k1") is True
    assert outbox.enqueue_many(batch(["k1", "k2", "k3", "k3"])) == {"k2", "k3"}
    _db.session.commit()
    assert outbox.enqueue_many(batch(["k2", "k3", "k4"])) == {"k4"}
    assert outbox.enqueue_many([]) == set()
    _db.session.commit()
    rows = _db.session.scalars(_db.select(OutboxMessage).order_by(OutboxMessage.dedupe_key)).all()
    assert [r.dedupe_key for r in rows] == ["k1", "k2", "k3", "k4"] and all(r.status == "queued" for r in rows)
    with pytest.raises(outbox.OutboxError):
        outbox.enqueue_many([{**batch(["k9"])[0], "template": "nope"}])
