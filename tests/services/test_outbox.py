"""Does the outbox send each subscribe message once, fitted to WeChat's limits, held in quiet hours,
refused for good on 43101, retried with backoff on 45009 and 5xx, and never without a quota?
Everything goes through the project's WeChat emulator (the real wechatpy path)."""
from datetime import datetime, timedelta, timezone

import pytest
import requests

from app.extensions import db as _db
from app.models import OutboxMessage, SubscriptionQuota
from app.models.places import utcnow
from app.services import outbox
from app.wechat.emulator import find_server
from tests import factories

TEMPLATE = "ballot_reminder"


@pytest.fixture()
def emu(emulator):
    server = find_server(emulator)
    server.state.reset()
    yield server
    server.state.reset()


def daytime(days=1, hour_utc=2):
    """Tomorrow 10:00 in Beijing (02:00 UTC): after any row planned now, outside quiet hours."""
    base = utcnow() + timedelta(days=days)
    return base.replace(hour=hour_utc, minute=0, second=0, microsecond=0)


def template_id(app, name=TEMPLATE):
    return app.config["SUBSCRIBE_TEMPLATES"][name]["id"]


def person(app, emu, name, quota=1, wechat_quota=None, template=TEMPLATE):
    """A user with `quota` acceptances in our count and `wechat_quota` (default the same) at WeChat."""
    user = factories.user(name)
    _db.session.flush()
    for _ in range(quota):
        outbox.accept(user.id, [template])
    wechat_quota = quota if wechat_quota is None else wechat_quota
    if wechat_quota:
        emu.state.accept_subscribe(user.openid, template_id(app, template), wechat_quota)
    _db.session.commit()
    return user


def plan(user, key="m1", template=TEMPLATE, data=None, **kwargs):
    new = outbox.enqueue(user.id, template, data or {"thing1": "加装电梯意见征询", "time2": utcnow(),
                                                     "thing3": "请尽快表决"},
                         page="pages/consultation/index?id=1", dedupe_key=key, **kwargs)
    _db.session.commit()
    return new


def row(key="m1"):
    _db.session.expire_all()
    return _db.session.scalar(_db.select(OutboxMessage).filter_by(dedupe_key=key))


def left_sending(key, minutes):
    """The row as a dispatcher that died `minutes` after claiming it left it."""
    _db.session.execute(_db.update(OutboxMessage).where(OutboxMessage.dedupe_key == key)
                        .values(status="sending", next_attempt_at=utcnow() - timedelta(minutes=minutes)))
    _db.session.commit()


def remaining(user, template=TEMPLATE):
    _db.session.expire_all()
    return _db.session.scalar(_db.select(SubscriptionQuota.remaining).filter_by(user_id=user.id, template=template))


def test_a_message_planned_twice_is_sent_once(app, db, emu):
    """Is a dedupe key planned twice one row, sent once, with the quota spent on both sides?"""
    user = person(app, emu, "ob-once")
    assert plan(user) is True
    assert plan(user) is False  # a job run again: nothing new, and the transaction still works
    assert _db.session.scalar(_db.select(_db.func.count()).select_from(OutboxMessage)) == 1
    counts = outbox.dispatch(now=daytime())
    assert counts["sent"] == 1
    m = row()
    assert m.status == "sent" and m.attempts == 1 and m.sent_at is not None and m.last_error is None
    assert outbox.dispatch(now=daytime())["claimed"] == 0
    sent = emu.state.sent
    assert len(sent) == 1 and sent[0]["touser"] == user.openid and sent[0]["template_id"] == template_id(app)
    assert sent[0]["page"] == "pages/consultation/index?id=1"
    assert remaining(user) == 0 and emu.state.quota_of(user.openid, template_id(app)) == 0


def test_enqueue_refuses_an_unknown_template_and_keeps_the_session(app, db, emu):
    """Is an unknown template name refused, and is a duplicate key no IntegrityError later?"""
    user = person(app, emu, "ob-unknown")
    with pytest.raises(outbox.OutboxError):
        outbox.enqueue(user.id, "nope", {}, dedupe_key="x")
    plan(user, "dup")
    assert outbox.enqueue(user.id, TEMPLATE, {"thing1": "再来一次"}, dedupe_key="dup") is False
    assert outbox.enqueue(user.id, TEMPLATE, {"thing1": "新的"}, dedupe_key="dup2") is True
    _db.session.commit()
    assert row("dup2").status == "queued"


@pytest.mark.parametrize("beijing, end_beijing", [
    ((22, 0), (1, 8, 0)),   # evening: held until tomorrow 08:00
    ((1, 30), (0, 8, 0)),   # after midnight: until 08:00 the same day
])
def test_quiet_hours_hold_until_morning(app, db, emu, beijing, end_beijing):
    """Between 21:30 and 08:00 Beijing time, is nothing sent and the row moved to 08:00, then sent?"""
    user = person(app, emu, f"ob-quiet{beijing[0]}")
    plan(user)
    tz = timezone(timedelta(hours=8))
    day = (utcnow() + timedelta(days=2)).astimezone(tz).date()
    now = datetime(day.year, day.month, day.day, *beijing, tzinfo=tz).astimezone(timezone.utc).replace(tzinfo=None)
    counts = outbox.dispatch(now=now)
    assert counts["deferred"] == 1 and counts["claimed"] == 0
    m = row()
    morning = datetime(day.year, day.month, day.day, end_beijing[1], end_beijing[2], tzinfo=tz) + timedelta(
        days=end_beijing[0])
    assert m.status == "queued" and m.attempts == 0
    assert m.next_attempt_at == morning.astimezone(timezone.utc).replace(tzinfo=None)
    assert emu.state.attempts == []  # WeChat was not asked
    assert outbox.dispatch(now=m.next_attempt_at - timedelta(minutes=1))["claimed"] == 0
    assert outbox.dispatch(now=m.next_attempt_at)["sent"] == 1
    assert len(emu.state.sent) == 1


def test_quiet_hours_are_configurable(app, db, emu):
    """With QUIET_HOURS off, does a message go at 23:00 Beijing time?"""
    user = person(app, emu, "ob-noquiet")
    plan(user)
    app.config["QUIET_HOURS"], saved = None, app.config["QUIET_HOURS"]
    try:
        assert outbox.dispatch(now=daytime(hour_utc=15))["sent"] == 1
    finally:
        app.config["QUIET_HOURS"] = saved


def test_43101_is_final_and_never_retried(app, db, emu):
    """When WeChat refuses (43101: the user has no quota there), is the row failed for good after
    one call that the emulator saw, and never tried again, with our count set to 0?"""
    user = person(app, emu, "ob-refused", quota=2, wechat_quota=0)
    plan(user)
    counts = outbox.dispatch(now=daytime())
    assert counts["refused"] == 1
    m = row()
    assert (m.status, m.last_error, m.attempts) == ("failed", "43101 refused or no quota", 1)
    for days in (2, 3, 10):
        assert outbox.dispatch(now=daytime(days))["claimed"] == 0
    attempts = emu.state.attempts
    assert len(attempts) == 1 and attempts[0]["errcode"] == 43101 and attempts[0]["touser"] == user.openid
    assert emu.state.sent == []
    assert remaining(user) == 0


def test_45009_backs_off_doubling_then_sends(app, db, emu, emulator):
    """On 45009 twice, is the row queued again 60 s, then 120 s later (attempts counted, the quota
    given back each time), and then sent once?"""
    user = person(app, emu, "ob-backoff")
    plan(user)
    requests.post(emulator + "/__emulator__/fail", json={"errcode": 45009, "times": 2}, timeout=5)
    t0 = daytime()
    assert outbox.dispatch(now=t0)["retry"] == 1
    m = row()
    assert (m.status, m.attempts, m.next_attempt_at) == ("queued", 1, t0 + timedelta(seconds=60))
    assert m.last_error.startswith("45009 ") and remaining(user) == 1
    assert outbox.dispatch(now=t0 + timedelta(seconds=59))["claimed"] == 0  # not yet due
    t1 = t0 + timedelta(seconds=60)
    assert outbox.dispatch(now=t1)["retry"] == 1
    m = row()
    assert (m.status, m.attempts, m.next_attempt_at) == ("queued", 2, t1 + timedelta(seconds=120))
    assert outbox.dispatch(now=t1 + timedelta(seconds=120))["sent"] == 1
    m = row()
    assert (m.status, m.attempts) == ("sent", 3)
    assert [a["errcode"] for a in emu.state.attempts] == [45009, 45009, 0]
    assert len(emu.state.sent) == 1 and remaining(user) == 0


def test_5xx_until_the_limit_fails_with_the_quota_back(app, db, emu, emulator):
    """After OUTBOX_MAX_ATTEMPTS answers of HTTP 502, is the row failed "retries exhausted" with
    the acceptance still counted (WeChat never took it)?"""
    user = person(app, emu, "ob-5xx")
    plan(user)
    limit = app.config["OUTBOX_MAX_ATTEMPTS"]
    requests.post(emulator + "/__emulator__/fail", json={"status": 502, "times": limit}, timeout=5)
    now = daytime()
    for attempt in range(1, limit + 1):
        counts = outbox.dispatch(now=now)
        m = row()
        assert m.attempts == attempt
        if attempt < limit:
            assert counts["retry"] == 1 and m.status == "queued"
            assert m.next_attempt_at - now == timedelta(seconds=app.config["OUTBOX_BACKOFF_SECONDS"] * 2 ** (attempt - 1))
            now = m.next_attempt_at
    assert counts["exhausted"] == 1
    assert m.status == "failed" and m.last_error.startswith("retries exhausted: -1")
    assert remaining(user) == 1 and emu.state.quota_of(user.openid, template_id(app)) == 1
    assert emu.state.sent == [] and len(emu.state.attempts) == limit


def test_no_quota_fails_without_calling_wechat(app, db, emu):
    """With no acceptance in our count, is the row failed "no_quota" and WeChat never asked?"""
    user = person(app, emu, "ob-noquota", quota=0, wechat_quota=1)
    plan(user, flat_id=None)
    assert outbox.dispatch(now=daytime())["no_quota"] == 1
    m = row()
    assert (m.status, m.last_error, m.attempts) == ("failed", "no_quota", 0)
    assert emu.state.attempts == []


def test_47003_gives_the_quota_back(app, db, emu, emulator):
    """When WeChat answers 47003 (bad data), is the row failed with WeChat's message, not retried,
    and the acceptance counted again (WeChat did not spend it)?"""
    user = person(app, emu, "ob-47003")
    plan(user)
    requests.post(emulator + "/__emulator__/fail", json={"errcode": 47003, "times": 1}, timeout=5)
    assert outbox.dispatch(now=daytime())["bad_request"] == 1
    m = row()
    assert m.status == "failed" and m.last_error.startswith("47003 ")
    assert remaining(user) == 1
    assert outbox.dispatch(now=daytime(3))["claimed"] == 0
    assert len(emu.state.attempts) == 1


def test_a_long_thing_arrives_as_20_characters(app, db, emu):
    """Does a 30-character thing arrive at WeChat as 19 characters and "…", and every other kind
    fitted (phrase 5 Chinese characters, character_string ASCII ≤ 32, time in Beijing time)?"""
    user = person(app, emu, "ob-fit", template="report_answered")
    long_thing = "阳光里小区一号楼加装电梯工程第二次意见征询结果已经公布请查看"
    assert len(long_thing) == 30
    when = datetime(2026, 12, 1, 1, 5)  # UTC: 09:05 in Beijing
    plan(user, template="report_answered", data={
        "character_string1": "报修 No.2026-0042", "phrase2": "已经受理完毕", "thing3": long_thing, "time4": when,
        "extra9": "not in the template"})
    assert outbox.dispatch(now=daytime())["sent"] == 1
    data = emu.state.sent[0]["data"]
    assert data["thing3"] == long_thing[:19] + "…" and len(data["thing3"]) == 20
    assert data == {"character_string1": "No.2026-0042", "phrase2": "已经受理完", "thing3": long_thing[:19] + "…",
                    "time4": "2026年12月1日 09:05"}


def test_fit_each_kind():
    """Is each kind cut to its limit and each time written in Beijing time?"""
    from app import create_app

    with create_app("testing").app_context():
        got = outbox.fit("notice", {"thing1": "一" * 20, "name2": "欧阳" * 6, "time3": "2026-12-01T16:30:00Z"})
        assert got == {"thing1": "一" * 20, "name2": "欧阳" * 5, "time3": "2026年12月2日 00:30"}
        assert outbox.fit("notice", {"thing1": "第一行\n第二行", "name2": "Zhang Jianguo Smith-Jones"})["thing1"] == "第一行 第二行"
        assert outbox.fit("notice", {"name2": "A" * 25})["name2"] == "A" * 20
        assert outbox.fit("plan_deadline", {"date2": "2026-12-01", "thing1": ""}) == {"date2": "2026年12月1日",
                                                                                     "thing1": "—"}
        assert outbox.fit("result_published", {"phrase2": "passed通过了"})["phrase2"] == "通过了"
        with pytest.raises(outbox.OutboxError):
            outbox.fit("nope", {})


def test_a_read_timeout_is_held_not_retried(app, db, emu, emulator):
    """When WeChat got the request but no answer came in time, is the row held (it may have been
    delivered) with its quota spent, not sent again, and re-queued only by a person?"""
    user = person(app, emu, "ob-timeout", quota=2, wechat_quota=2)
    plan(user)
    requests.post(emulator + "/__emulator__/delay", json={"seconds": 1.0}, timeout=5)
    app.config["WECHAT_TIMEOUT"], saved = 0.3, app.config["WECHAT_TIMEOUT"]
    try:
        assert outbox.dispatch(now=daytime())["held"] == 1
    finally:
        app.config["WECHAT_TIMEOUT"] = saved
        requests.post(emulator + "/__emulator__/delay", json={"seconds": 0}, timeout=5)
    m = row()
    assert m.status == "held" and "ReadTimeout" in m.last_error and remaining(user) == 1
    assert outbox.dispatch(now=daytime(2))["claimed"] == 0
    outbox.retry(m.id)
    assert row().status == "queued"
    assert outbox.dispatch(now=daytime(2))["sent"] == 1


def test_stuck_rows_are_listed_and_retried_only_by_a_person(app, db, emu):
    """Is a row left sending listed by stuck() and never sent by dispatch; may a person re-queue it
    only once it is old enough, and never a sent one?"""
    user = person(app, emu, "ob-stuck")
    plan(user, "a")
    plan(user, "b")
    for key, minutes in (("a", 30), ("b", 1)):
        left_sending(key, minutes)
    assert outbox.dispatch(now=daytime())["claimed"] == 0
    assert [m.dedupe_key for m in outbox.stuck()] == ["a"]
    assert [m.dedupe_key for m in outbox.stuck(timedelta(0))] == ["a", "b"]
    with pytest.raises(outbox.OutboxError, match="正在发送"):
        outbox.retry(row("b").id)
    outbox.retry(row("a").id)
    m = row("a")
    assert (m.status, m.attempts) == ("queued", 0) and m.last_error.startswith("retried by a person; was sending")
    assert outbox.dispatch(now=daytime())["sent"] == 1
    with pytest.raises(outbox.OutboxError, match="已发送"):
        outbox.retry(row("a").id)
    with pytest.raises(outbox.OutboxError, match="没有编号"):
        outbox.retry(999999)


def test_accept_counts_and_refuses_what_wechat_would(app, db):
    """Do acceptances add up per template, and are unknown, repeated or more than 3 names refused?"""
    user = factories.user("ob-accept")
    _db.session.flush()
    outbox.accept(user.id, ["notice", "ballot_reminder"])
    outbox.accept(user.id, ["notice"])
    _db.session.commit()
    have = {q["template"]: q["remaining"] for q in outbox.quotas(user.id)}
    assert have["notice"] == 2 and have["ballot_reminder"] == 1 and have["plan_deadline"] == 0
    for names in (["nope"], ["notice", "notice"], ["notice", "ballot_reminder", "plan_deadline", "report_answered"]):
        with pytest.raises(outbox.OutboxError):
            outbox.accept(user.id, names)


def test_the_cli_runs_the_job_and_lists_stuck_rows(app, db, emu, cli):
    """Do `flask jobs list`, `flask jobs run dispatch_outbox`, `flask outbox stuck` and
    `flask outbox retry` do what their help says?"""
    user = person(app, emu, "ob-cli", quota=2)
    user_id = user.id
    app.config["QUIET_HOURS"], saved = None, app.config["QUIET_HOURS"]
    try:
        plan(user, "c1")
        listed = cli("jobs", "list")
        assert listed.exit_code == 0 and "dispatch_outbox\t每 30 秒" in listed.output
        ran = cli("jobs", "run", "dispatch_outbox")
        assert ran.exit_code == 0 and "'sent': 1" in ran.output
        assert cli("jobs", "run", "nope").exit_code != 0
        outbox.enqueue(user_id, TEMPLATE, {"thing1": "第二条"}, dedupe_key="c2")
        _db.session.commit()
        left_sending("c2", 60)
        message_id = row("c2").id
        out = cli("outbox", "stuck")
        assert out.exit_code == 0 and out.output.startswith(f"{message_id}\t{user_id}\t{TEMPLATE}\t")
        retried = cli("outbox", "retry", str(message_id))
        assert retried.exit_code == 0 and "已放回队列" in retried.output
        refused = cli("outbox", "retry", str(row("c1").id))
        assert refused.exit_code == 1 and "已发送" in refused.output
    finally:
        app.config["QUIET_HOURS"] = saved
    assert "stuck" in cli("outbox", "--help").output and "发件箱" in cli("outbox", "--help").output
