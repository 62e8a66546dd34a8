"""Is every subscribe message sent exactly once when dispatchers race or die?

Counted from the WeChat emulator's own record of sends (each message carries its number in thing1).
Two dispatchers at once need MariaDB/MySQL (FOR UPDATE SKIP LOCKED; SQLite has one writer and hides
races); a dispatcher killed with SIGKILL in the middle of a batch runs on both.
"""
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest

from app.extensions import db as _db
from app.models import OutboxMessage, SubscriptionQuota
from app.models.places import utcnow
from app.services import outbox
from app.wechat.emulator import find_server
from config import TestingConfig
from tests import factories

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEMPLATE = "ballot_reminder"
on_mariadb = pytest.mark.skipif(
    not TestingConfig.SQLALCHEMY_DATABASE_URI.startswith("mysql"),
    reason="racing dispatchers need TEST_DATABASE_URL=mysql+pymysql://… (SQLite serialises writers and hides races)",
)


@pytest.fixture()
def emu(emulator):
    server = find_server(emulator)
    server.state.reset()
    yield server
    server.state.reset()


def campaign(app, emu, users, per_user, prefix):
    """users × per_user queued messages, numbered in thing1; every user has the quota on both sides."""
    tid = app.config["SUBSCRIBE_TEMPLATES"][TEMPLATE]["id"]
    n = 0
    for u in range(users):
        user = factories.user(f"{prefix}{u}")
        _db.session.flush()
        _db.session.add(SubscriptionQuota(user_id=user.id, template=TEMPLATE, remaining=per_user))
        emu.state.accept_subscribe(user.openid, tid, per_user)
        for _ in range(per_user):
            n += 1
            outbox.enqueue(user.id, TEMPLATE, {"thing1": f"消息{n}", "time2": utcnow(), "thing3": "请表决"},
                           dedupe_key=f"{prefix}-{n}")
        _db.session.commit()
    return n


def sent_per_message(emu):
    """{message number: times the emulator delivered it}."""
    return Counter(int(m["data"]["thing1"][2:]) for m in emu.state.sent)


def statuses():
    _db.session.expire_all()
    return dict(_db.session.execute(
        _db.select(OutboxMessage.status, _db.func.count()).group_by(OutboxMessage.status)).all())


def numbers(status):
    return {int(m.data["thing1"][2:]) for m in _db.session.scalars(_db.select(OutboxMessage).filter_by(status=status))}


def daytime():
    return (utcnow() + timedelta(days=1)).replace(hour=2, minute=0, second=0, microsecond=0)  # 10:00 in Beijing


@on_mariadb
def test_two_dispatchers_send_500_messages_exactly_once(app, db, emu):
    """Two dispatchers (threads, each with its own app context and connection) over 500 queued
    messages: is every message sent exactly once, counted from the emulator's record?"""
    total = campaign(app, emu, users=50, per_user=10, prefix="race")
    assert total == 500
    now = daytime()
    results = [Counter(), Counter()]
    gate = threading.Barrier(2)
    errors = []

    def dispatcher(i):
        try:
            with app.app_context():
                gate.wait()
                idle = 0
                while idle < 3:  # the other may hold rows for a moment: look again before stopping
                    counts = outbox.dispatch(now=now, batch=20)
                    results[i].update(counts)
                    idle = idle + 1 if not counts["claimed"] else 0
                    if not counts["claimed"]:
                        time.sleep(0.05)
                _db.session.remove()
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))

    threads = [threading.Thread(target=dispatcher, args=(i,), daemon=True) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not errors and not any(t.is_alive() for t in threads)
    per_message = sent_per_message(emu)
    assert len(per_message) == 500 and set(per_message.values()) == {1}, "a message sent twice or not at all"
    assert results[0]["claimed"] > 0 and results[1]["claimed"] > 0, f"one dispatcher did everything: {results}"
    assert results[0]["sent"] + results[1]["sent"] == 500
    assert statuses() == {"sent": 500}
    assert len(emu.state.attempts) == 500  # no send was even tried twice


def flask_job(emulator, *args):
    env = {**os.environ, "FLASK_APP": "wsgi", "APP_ENV": "testing", "WECHAT_API_BASE": emulator,
           "QUIET_HOURS": "off", "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.Popen([sys.executable, "-m", "flask", "jobs", "run", "dispatch_outbox", *args], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_dispatcher_killed_mid_batch_sends_nothing_twice(app, db, emu, emulator, cli):
    """A dispatcher process (`flask jobs run dispatch_outbox`) killed with SIGKILL in the middle of a
    batch, against a slow WeChat, then started again: is no message sent twice (the emulator's
    record), are the rows it left `sending` listed by `flask outbox stuck` (with whether WeChat may
    have had them), and does every message end sent or listed, none lost without a recorded state?"""
    total = campaign(app, emu, users=8, per_user=10, prefix="kill")
    emu.state.set_delay(seconds=0.05)
    proc = flask_job(emulator)
    deadline = time.monotonic() + 60
    while len(emu.state.sent) < 10 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    assert proc.poll() is None, f"the dispatcher ended before it could be killed: {proc.communicate()}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    time.sleep(0.3)  # a send WeChat was handling when the client died still completes there
    emu.state.set_delay(seconds=0)

    after_kill = statuses()
    assert 9 <= after_kill["sent"] < total and after_kill.get("sending", 0) >= 1, after_kill
    assert sum(after_kill.values()) == total and set(after_kill) <= {"sent", "sending", "queued"}
    delivered = sent_per_message(emu)
    assert set(delivered.values()) == {1}
    assert numbers("sent") <= set(delivered)
    stuck_rows = outbox.stuck(timedelta(0))
    in_flight = [m for m in stuck_rows if outbox.may_have_been_sent(m)]
    never_left = [m for m in stuck_rows if not outbox.may_have_been_sent(m)]
    assert len(in_flight) <= 1  # one process sends one message at a time
    assert not {int(m.data["thing1"][2:]) for m in never_left} & set(delivered), "a row said 'not sent' was sent"
    stuck_ids = [m.id for m in stuck_rows]

    listed = cli("outbox", "stuck", "--older-than", "0")
    lines = {int(line.split("\t")[0]): line for line in listed.stdout.splitlines()}
    assert list(lines) == stuck_ids
    assert all(lines[m.id].endswith("\t未发出 not sent") for m in never_left)
    assert all(lines[m.id].endswith("\t可能已发出 may have been sent") for m in in_flight)

    # Started again: the queued rest is sent, the stuck rows are not touched.
    again = flask_job(emulator)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    final = statuses()
    assert final.get("sending", 0) == len(stuck_ids) and final["sent"] == total - len(stuck_ids)
    delivered = sent_per_message(emu)
    assert set(delivered.values()) == {1}, "a message was sent twice"
    assert numbers("sent") <= set(delivered)
    assert [m.id for m in outbox.stuck(timedelta(0))] == stuck_ids

    # A person re-queues the rows that never left; each is then sent once.
    for m in never_left:
        outbox.retry(m.id, min_age=timedelta(0))
    assert outbox.dispatch_due(now=daytime())["sent"] == len(never_left)
    delivered = sent_per_message(emu)
    assert set(delivered.values()) == {1} and len(delivered) >= total - len(in_flight)
    assert statuses() == ({"sent": total - len(in_flight), "sending": len(in_flight)} if in_flight else {"sent": total})


@on_mariadb
def test_two_scheduler_processes_send_2000_messages_once(app, db, emu, emulator):
    """Two dispatcher processes at once against one MariaDB, 2,000 messages: each sent exactly once?"""
    total = campaign(app, emu, users=100, per_user=20, prefix="procs")
    procs = [flask_job(emulator) for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    for _ in range(3):  # a run stops after its time budget (25 s); the scheduler runs it again 30 s later
        if "queued" not in statuses():
            break
        assert flask_job(emulator).wait(300) == 0
    delivered = sent_per_message(emu)
    assert len(delivered) == total and set(delivered.values()) == {1}
    assert statuses() == {"sent": total}
    assert all("'sent'" in out for out, _ in outputs), outputs  # both did some of the work


def scheduler_round(emulator):
    """One scheduler process doing what its jobs do: plan the due reminders, then dispatch."""
    env = {**os.environ, "FLASK_APP": "wsgi", "APP_ENV": "testing", "WECHAT_API_BASE": emulator,
           "QUIET_HOURS": "off", "PYTHONDONTWRITEBYTECODE": "1"}
    script = ("set -e; {py} -m flask jobs run plan_reminders; {py} -m flask jobs run dispatch_outbox"
              .format(py=sys.executable))
    return subprocess.Popen(["bash", "-c", script], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@on_mariadb
def test_two_schedulers_plan_and_send_a_2000_flat_campaign_once(app, db, emu, emulator):
    """A campaign of 2,000 flats (a consultation closing in 20 hours, every flat with a bound resident
    who allowed one reminder): two scheduler processes plan and dispatch at once. Is every resident
    reminded exactly once, counted from the emulator's record of sends, and planned once?"""
    from app.models import Binding, InboxItem, User
    from app.wechat.dev import dev_openid

    comp = factories.compound(buildings=(("1栋", 10, 20, 10),))
    flats = [f for b in comp.buildings for u in b.units for f in u.flats]
    assert len(flats) == 2000
    tid = app.config["SUBSCRIBE_TEMPLATES"][TEMPLATE]["id"]
    users = [User(openid=dev_openid(TestingConfig.WECHAT_APPID, f"camp{i}"), name=f"camp{i}") for i in range(2000)]
    _db.session.add_all(users)
    _db.session.flush()
    _db.session.execute(_db.insert(Binding), [
        {"user_id": u.id, "flat_id": f.id, "relation": "tenant", "name": "住户", "status": "approved",
         "created_at": utcnow()} for u, f in zip(users, flats)])
    _db.session.execute(_db.insert(SubscriptionQuota), [
        {"user_id": u.id, "template": TEMPLATE, "remaining": 1, "updated_at": utcnow()} for u in users])
    for u in users:
        emu.state.accept_subscribe(u.openid, tid, 1)
    c = factories.consultation(("compound", comp), hours=20)
    _db.session.commit()
    procs = [scheduler_round(emulator) for _ in range(2)]
    outputs = [p.communicate(timeout=600) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    for _ in range(4):  # a dispatch run stops after its time budget; the scheduler runs it again
        if "queued" not in statuses():
            break
        assert flask_job(emulator).wait(300) == 0
    delivered = Counter(m["touser"] for m in emu.state.sent)
    assert len(delivered) == 2000 and set(delivered.values()) == {1}
    assert statuses() == {"sent": 2000}
    inbox = _db.session.scalar(_db.select(_db.func.count(InboxItem.id)).where(InboxItem.title.like("表决提醒%")))
    assert inbox == 2000  # one inbox copy each, however many schedulers planned
    assert _db.session.scalar(_db.select(_db.func.count(OutboxMessage.id)).where(
        OutboxMessage.subject == f"consultation:{c.id}")) == 2000
