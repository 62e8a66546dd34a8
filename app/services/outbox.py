"""Subscribe messages: each user's quotas per template, the outbox, and the dispatcher that sends it.

WeChat lets a mini-program send one subscribe message per acceptance, so every send is precious and
a duplicate is a fault. What keeps a message from going out twice:

- Planning: one row per message and recipient with a unique dedupe key; `enqueue` inserts it or
  does nothing (INSERT IGNORE on MariaDB/MySQL, ON CONFLICT DO NOTHING on SQLite): a job run twice,
  or by two schedulers, plans it once.
- Claiming: `dispatch` takes due rows with SELECT ... FOR UPDATE SKIP LOCKED on MariaDB/MySQL (on
  SQLite, BEGIN IMMEDIATE: one writer at a time), marks them `sending` and commits that BEFORE any
  call to WeChat. Two dispatchers never hold the same row; a row is sent only by its claimer.
- A row left `sending` (the dispatcher died between the claim and recording the answer) is never
  sent again by itself: WeChat may or may not have delivered it. `stuck()` lists them (`flask
  outbox stuck`) and a person decides (`flask outbox retry ID`). While a row is `sending` its
  next_attempt_at holds the time it was claimed.
- An answer that leaves the outcome unknown (the request went out, no answer came back in time) is
  `held` for the same reason, with the spent quota left spent.

Quotas are counted in SubscriptionQuota (one per acceptance, `accept`); a send spends one first
(atomically, only while > 0), and gets it back when WeChat did not take it (bad data, bad page,
a retryable failure). No quota: `failed` "no_quota" without calling WeChat; 43101 from WeChat:
`failed` for good, the user's count set to 0. Either way the flat belongs on the door-visit list.

Quiet hours (QUIET_HOURS, Asia/Shanghai): due rows are moved to the end of the quiet hours, not sent.
Services flush; `enqueue` and `accept` leave the commit to their caller; `dispatch` and `retry`
commit (each message's result on its own).
"""
import logging
import re
from collections import Counter
from datetime import date, datetime, time as dtime, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, exists, insert, or_, select, update
from sqlalchemy.orm import joinedload

from app.extensions import db, retrying
from app.models import Binding, Building, Flat, OutboxMessage, SubscriptionQuota, Unit, User
from app.models.bindings import ACTIVE
from app.models.messages import OUTBOX_STATUSES
from app.models.places import utcnow
from app.services import scopes
from app.services.consultations import _begin_immediate_on_sqlite

log = logging.getLogger("gongjian.outbox")

SHANGHAI = ZoneInfo("Asia/Shanghai")
CHANNEL = "subscribe"
# Staff who may read the outbox of their scope.
READERS = ("grid_worker", "committee", "community_staff", "street_officer", "district_officer", "admin")
# A row `sending` for longer than this is listed as stuck, and only then may a person re-queue it.
STUCK_AFTER = timedelta(minutes=5)
# WeChat's answers that are final: the message as it is will never go.
NO_QUOTA = 43101
BAD_REQUEST = {47003: "bad data", 41030: "bad page", 40003: "bad openid", 40037: "bad template id"}
MAX_SUBSCRIBE_PER_CALL = 3
# last_error of a `sending` row from just before WeChat is asked until its answer is recorded: a
# stuck row that says so may have been delivered; one that does not never left.
IN_FLIGHT = "in flight: asked WeChat, no answer recorded"  # wx.requestSubscribeMessage asks for at most 3 templates at once


class OutboxError(ValueError):
    """A request the outbox refuses; the message is Chinese, for the person who asked."""


# ---------------------------------------------------------------- templates and their fields

def templates():
    """{name: {"id", "title", "fields": {key: kind}}} from config."""
    return current_app.config["SUBSCRIBE_TEMPLATES"]


def template_spec(name):
    spec = templates().get(name)
    if spec is None:
        raise OutboxError(f"没有名为 {name} 的订阅消息模板")
    return spec


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _text(value):
    """One line of text: control characters dropped, runs of white space made one space."""
    return " ".join(_CONTROL.sub(" ", "" if value is None else str(value)).split())


def _cut(text, limit, ellipsis="…"):
    return text if len(text) <= limit else text[: limit - len(ellipsis)] + ellipsis


def _instant(value):
    """A datetime in Beijing time from a datetime (naive = UTC, as stored) or an ISO string; a date
    stays a date; None when the value is neither."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        return value
    elif isinstance(value, str) and _ISO_DATE.match(value.strip()):
        return date.fromisoformat(value.strip())
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(SHANGHAI)


def _fit_thing(value):
    return _cut(_text(value), 20) or "—"


def _fit_phrase(value):
    return "".join(_CJK.findall(_text(value)))[:5] or "无"


def _fit_name(value):
    text = _text(value)
    return (text[:20] if text.isascii() else text[:10]) or "无"


def _fit_number(value):
    text = _text(value).replace(" ", "")
    if _NUMBER.match(text) and len(text) <= 32:
        return text
    return re.sub(r"\D", "", text)[:32] or "0"


def _fit_character_string(value):
    return "".join(c for c in _text(value) if "\x21" <= c <= "\x7e")[:32] or "-"


def _fit_time(value):
    moment = _instant(value)
    if isinstance(moment, datetime):
        return f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}"
    if isinstance(moment, date):
        return f"{moment.year}年{moment.month}月{moment.day}日 00:00"
    return _text(value)  # already written as WeChat wants it, or WeChat says 47003


def _fit_date(value):
    moment = _instant(value)
    if isinstance(moment, (datetime, date)):
        return f"{moment.year}年{moment.month}月{moment.day}日"
    return _text(value)


FITTERS = {
    "thing": _fit_thing,
    "phrase": _fit_phrase,
    "name": _fit_name,
    "number": _fit_number,
    "character_string": _fit_character_string,
    "time": _fit_time,
    "date": _fit_date,
}


def fit(template, data):
    """The template's fields of `data`, each fitted to its kind's limit (WeChat answers 47003
    otherwise): thing ≤ 20 characters (cut with "…"), phrase ≤ 5 Chinese characters, name ≤ 10
    (20 letters), number and character_string ≤ 32, time and date written in Beijing time. Keys the
    template does not have are left out."""
    fields = template_spec(template)["fields"]
    return {key: FITTERS.get(kind, _fit_thing)(data[key]) for key, kind in fields.items() if key in data}


def _storable(value):
    """A JSON value: datetimes as ISO 8601 in UTC with a Z (naive ones are UTC already), dates as ISO."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value.isoformat(timespec="seconds") + "Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (int, float, str)) or value is None:
        return value
    return str(value)


# ---------------------------------------------------------------- planning

def _dialect():
    return db.session.get_bind().dialect.name


def _insert_or_ignore(table, values):
    """INSERT that does nothing when a unique key exists; True when a row was inserted. No
    IntegrityError escapes and the caller's transaction stays usable."""
    name = _dialect()
    if name in ("mysql", "mariadb"):
        statement = insert(table).prefix_with("IGNORE").values(**values)
    elif name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        statement = sqlite_insert(table).values(**values).on_conflict_do_nothing()
    elif name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        statement = pg_insert(table).values(**values).on_conflict_do_nothing()
    else:  # pragma: no cover - a database the project does not run on
        from sqlalchemy.exc import IntegrityError

        try:
            with db.session.begin_nested():
                db.session.execute(insert(table).values(**values))
            return True
        except IntegrityError:
            return False
    return db.session.execute(statement).rowcount == 1


def enqueue(user_id, template, data, page=None, *, dedupe_key, flat_id=None, subject=None):
    """Plan one subscribe message to a user, unless a message with this dedupe key exists already.
    `data` maps the template's field keys to values (datetimes are fine: stored as UTC, sent in
    Beijing time). True when it was new. Flushes; the caller commits."""
    template_spec(template)
    if not dedupe_key or len(dedupe_key) > 128:
        raise OutboxError("去重键应为 1 到 128 个字符")
    if page is not None and (len(page) > 128 or page.startswith("/")):
        raise OutboxError("页面路径不超过 128 个字符，且不以 / 开头")
    db.session.flush()  # the user and flat the caller just added exist before the insert refers to them
    new = _insert_or_ignore(OutboxMessage.__table__, {
        "user_id": user_id, "channel": CHANNEL, "template": template,
        "data": {str(k): _storable(v) for k, v in (data or {}).items()}, "page": page,
        "dedupe_key": dedupe_key, "status": "queued", "attempts": 0, "next_attempt_at": utcnow(),
        "flat_id": flat_id, "subject": subject[:48] if subject else None, "created_at": utcnow(),
    })
    return new


def enqueue_many(messages):
    """Plan many subscribe messages at once, each unless its dedupe key exists already: one
    insert-or-ignore statement for the whole list (callers pass a batch, e.g. 1,000). `messages`:
    dicts with user_id, template, data, page, dedupe_key and optionally flat_id and subject, checked
    as `enqueue` checks them. Returns the set of dedupe keys inserted now, exactly: the statement
    returns the rows it inserted (INSERT IGNORE ... RETURNING on MariaDB >= 10.5, ON CONFLICT DO
    NOTHING RETURNING on SQLite >= 3.35 and PostgreSQL), so a row another planner inserted meanwhile
    is never taken for ours; elsewhere one `_insert_or_ignore` per message. Flushes; the caller commits."""
    if not messages:
        return set()
    db.session.flush()
    now = utcnow()
    rows, keys = [], set()
    for m in messages:
        template_spec(m["template"])
        key, page, subject = m["dedupe_key"], m.get("page"), m.get("subject")
        if not key or len(key) > 128:
            raise OutboxError("去重键应为 1 到 128 个字符")
        if page is not None and (len(page) > 128 or page.startswith("/")):
            raise OutboxError("页面路径不超过 128 个字符，且不以 / 开头")
        if key in keys:
            continue  # the same message twice in one batch: planned once
        keys.add(key)
        rows.append({
            "user_id": m["user_id"], "channel": CHANNEL, "template": m["template"],
            "data": {str(k): _storable(v) for k, v in (m.get("data") or {}).items()}, "page": page,
            "dedupe_key": key, "status": "queued", "attempts": 0, "next_attempt_at": now,
            "flat_id": m.get("flat_id"), "subject": subject[:48] if subject else None, "created_at": now,
        })
    table = OutboxMessage.__table__
    dialect = db.session.get_bind().dialect
    if not getattr(dialect, "insert_returning", False):
        return {r["dedupe_key"] for r in rows if _insert_or_ignore(table, r)}
    if dialect.name in ("mysql", "mariadb"):
        statement = insert(table).prefix_with("IGNORE")
    elif dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        statement = sqlite_insert(table).on_conflict_do_nothing()
    elif dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        statement = pg_insert(table).on_conflict_do_nothing()
    else:  # pragma: no cover - a database the project does not run on
        return {r["dedupe_key"] for r in rows if _insert_or_ignore(table, r)}
    # Executemany with RETURNING: SQLAlchemy sends it as multi-row VALUES statements ("insertmanyvalues",
    # compiled once), and RETURNING names the rows inserted.
    return set(db.session.execute(statement.returning(table.c.dedupe_key), rows).scalars())


# ---------------------------------------------------------------- quotas

def accept(user_id, names):
    """The user accepted these templates in wx.requestSubscribeMessage: one more send of each.
    Counted in the database (UPDATE remaining = remaining + 1, or an insert), so acceptances from
    two devices at once both count. Flushes; the caller commits."""
    names = list(names)
    unknown = [n for n in names if n not in templates()]
    if unknown:
        raise OutboxError(f"没有这些订阅消息模板：{'、'.join(unknown)}")
    if len(names) > MAX_SUBSCRIBE_PER_CALL:
        raise OutboxError(f"一次最多订阅 {MAX_SUBSCRIBE_PER_CALL} 个模板")
    if len(set(names)) != len(names):
        raise OutboxError("模板名称重复")
    table = SubscriptionQuota.__table__
    for name in names:
        if _add_quota(user_id, name, 1):
            continue
        if not _insert_or_ignore(table, {"user_id": user_id, "template": name, "remaining": 1, "updated_at": utcnow()}):
            _add_quota(user_id, name, 1)  # inserted meanwhile by another request: count on it
    db.session.flush()


def _add_quota(user_id, template, n):
    return db.session.execute(
        update(SubscriptionQuota).where(SubscriptionQuota.user_id == user_id, SubscriptionQuota.template == template)
        .values(remaining=SubscriptionQuota.remaining + n, updated_at=utcnow())
    ).rowcount > 0


def _spend_quota(user_id, template):
    """Take one send from the user's quota, only if there is one left; True when taken."""
    return db.session.execute(
        update(SubscriptionQuota)
        .where(SubscriptionQuota.user_id == user_id, SubscriptionQuota.template == template,
               SubscriptionQuota.remaining > 0)
        .values(remaining=SubscriptionQuota.remaining - 1, updated_at=utcnow())
    ).rowcount > 0


def quotas(user_id):
    """Every configured template with the sends the user allows: [{template, title, template_id, remaining}]."""
    have = dict(db.session.execute(
        select(SubscriptionQuota.template, SubscriptionQuota.remaining).where(SubscriptionQuota.user_id == user_id)
    ).all())
    return [{"template": name, "title": spec.get("title") or name, "template_id": spec["id"],
             "remaining": have.get(name, 0)} for name, spec in templates().items()]


# ---------------------------------------------------------------- quiet hours

def _clock(text):
    hours, minutes = text.strip().split(":")
    return dtime(int(hours), int(minutes))


def quiet_until(now):
    """When `now` (naive UTC) falls in the quiet hours, their end (naive UTC); otherwise None."""
    hours = current_app.config.get("QUIET_HOURS")
    if not hours:
        return None
    start, end = (_clock(h) for h in hours)
    if start == end:
        return None
    local = now.replace(tzinfo=timezone.utc).astimezone(SHANGHAI)
    moment = local.time()
    if start < end:
        quiet, day = start <= moment < end, local.date()
    else:  # across midnight, 21:30-08:00
        quiet = moment >= start or moment < end
        day = local.date() + timedelta(days=1) if moment >= start else local.date()
    if not quiet:
        return None
    return datetime.combine(day, end, tzinfo=SHANGHAI).astimezone(timezone.utc).replace(tzinfo=None)


# ---------------------------------------------------------------- dispatching

def _claim(now, batch):
    """Claim up to `batch` due rows: (ids claimed for sending, rows moved past the quiet hours).
    The claim is committed before anything is sent; a deadlock with another dispatcher or planner
    (InnoDB can pick the claim as its victim) is rolled back and the claim made again."""
    return retrying(lambda: _claim_once(now, batch))


def _claim_once(now, batch):
    _begin_immediate_on_sqlite()
    query = (
        select(OutboxMessage.id)
        .where(OutboxMessage.status == "queued", OutboxMessage.channel == CHANNEL,
               OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(batch)
    )
    if _dialect() in ("mysql", "mariadb", "postgresql"):
        query = query.with_for_update(skip_locked=True)
    ids = list(db.session.scalars(query))
    if not ids:
        db.session.commit()
        return [], 0
    quiet_end = quiet_until(now)
    claimed = update(OutboxMessage).where(OutboxMessage.id.in_(ids), OutboxMessage.status == "queued")
    if quiet_end is not None:
        db.session.execute(claimed.values(next_attempt_at=quiet_end))
        db.session.commit()
        return [], len(ids)
    # While `sending`, next_attempt_at records when the row was claimed (stuck() reads it).
    db.session.execute(claimed.values(status="sending", next_attempt_at=utcnow()))
    db.session.commit()
    return ids, 0


def _record(message_id, *, give_back=None, zero_quota=None, **values):
    """The outcome of one claimed row, committed: only a row still `sending` (ours) is changed. A
    deadlock is retried: an outcome lost after a send would leave the row stuck as `sending`."""
    retrying(lambda: _record_once(message_id, give_back=give_back, zero_quota=zero_quota, **values))


def _record_once(message_id, *, give_back=None, zero_quota=None, **values):
    if give_back:
        _add_quota(*give_back, 1)
    if zero_quota:
        db.session.execute(
            update(SubscriptionQuota).where(SubscriptionQuota.user_id == zero_quota[0],
                                            SubscriptionQuota.template == zero_quota[1])
            .values(remaining=0, updated_at=utcnow())
        )
    changed = db.session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.status == "sending").values(**values)
    ).rowcount
    db.session.commit()
    if not changed:
        log.warning("outbox %s was no longer sending when its outcome (%s) came", message_id, values.get("status"))


def _outcome_unknown(exc):
    """The request reached WeChat (or may have) but no answer came: it may have been delivered."""
    return exc.errcode == -1 and "ReadTimeout" in exc.errmsg


def _deliver(wechat, message_id, now):
    """Send one claimed row; its outcome is committed. Returns the outcome's name."""
    from app.wechat.client import WeChatError

    row = db.session.execute(
        select(OutboxMessage.user_id, OutboxMessage.template, OutboxMessage.data, OutboxMessage.page,
               OutboxMessage.attempts, User.openid)
        .join(User, User.id == OutboxMessage.user_id)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == "sending")
    ).first()
    if row is None:  # re-queued by a person meanwhile
        db.session.commit()
        return "skipped"
    user_id, template, data, page, attempts, openid = row
    spec = templates().get(template)
    if spec is None:
        _record(message_id, status="failed", last_error=f"unknown template {template}"[:200])
        return "failed"
    try:
        fitted = fit(template, data or {})
    except Exception as exc:  # noqa: BLE001  (whatever the data holds, the row gets a recorded state)
        _record(message_id, status="failed", last_error=f"bad data: {type(exc).__name__}")
        return "failed"
    def take_quota_and_mark():
        # Committed before WeChat is asked: the quota is spent, and the row, still `sending`, says
        # that it may reach WeChat from now on (a row left `sending` without it never did).
        if not _spend_quota(user_id, template):
            db.session.rollback()
            return False
        db.session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id).values(last_error=IN_FLIGHT))
        db.session.commit()
        return True

    if not retrying(take_quota_and_mark):  # a deadlock here is retried, not left `sending`
        _record(message_id, status="failed", last_error="no_quota")  # the flat joins the door-visit list
        return "no_quota"

    attempts += 1
    try:
        wechat.send_subscribe(openid, spec["id"], fitted, page)
    except WeChatError as exc:
        error = f"{exc.errcode} {exc.errmsg}"
        if exc.errcode == NO_QUOTA:
            _record(message_id, status="failed", attempts=attempts, last_error="43101 refused or no quota",
                    zero_quota=(user_id, template))
            return "refused"
        if exc.errcode in BAD_REQUEST:
            _record(message_id, status="failed", attempts=attempts, last_error=error[:200],
                    give_back=(user_id, template))
            return "bad_request"
        if _outcome_unknown(exc):
            _record(message_id, status="held", attempts=attempts,
                    last_error=f"outcome unknown, may have been sent: {error}"[:200])
            return "held"
        if attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
            _record(message_id, status="failed", attempts=attempts, last_error=f"retries exhausted: {error}"[:200],
                    give_back=(user_id, template))
            return "exhausted"
        delay = current_app.config["OUTBOX_BACKOFF_SECONDS"] * 2 ** (attempts - 1)
        _record(message_id, status="queued", attempts=attempts, last_error=error[:200],
                next_attempt_at=now + timedelta(seconds=delay), give_back=(user_id, template))
        return "retry"
    _record(message_id, status="sent", attempts=attempts, sent_at=utcnow(), last_error=None)
    return "sent"


def dispatch(now=None, batch=50):
    """Claim up to `batch` due messages and send each (see the module's docstring). Commits the
    claim, then each message's outcome. Returns a Counter: claimed, deferred (quiet hours), and
    one count per outcome (sent, retry, refused, no_quota, bad_request, exhausted, held, failed)."""
    from app.wechat.client import get_wechat

    now = now or utcnow()
    ids, deferred = _claim(now, batch)
    counts = Counter(claimed=len(ids))
    if deferred:
        counts["deferred"] = deferred
    wechat = get_wechat() if ids else None
    for message_id in ids:
        try:
            counts[_deliver(wechat, message_id, now)] += 1
        except Exception:
            # The row stays `sending` (listed by stuck()); the others of the batch still go.
            db.session.rollback()
            log.exception("outbox %s: could not record its outcome", message_id)
            counts["error"] += 1
    return counts


def dispatch_due(now=None, batch=50, budget_seconds=25.0):
    """Dispatch batch after batch until nothing is due or the time budget is spent (the scheduler
    runs this every 30 s). Returns the summed Counter."""
    import time

    started = time.monotonic()
    total = Counter()
    while True:
        counts = dispatch(now, batch)
        total.update(counts)
        if not counts["claimed"] and not counts["deferred"]:
            break
        if time.monotonic() - started > budget_seconds:
            break
    return +total


# ---------------------------------------------------------------- for people

def may_have_been_sent(message):
    """For a stuck row: True when WeChat may have been asked (check with the user before a retry),
    False when it was claimed and never left."""
    return message.last_error == IN_FLIGHT


def stuck(older_than=STUCK_AFTER, now=None):
    """Rows left `sending` longer than `older_than` (a dispatcher died after claiming them): a person
    decides. `may_have_been_sent` tells those WeChat may have had from those that never left."""
    cutoff = (now or utcnow()) - older_than
    return db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.status == "sending", OutboxMessage.next_attempt_at <= cutoff)
        .order_by(OutboxMessage.id)
    ).all()


def retry(message_id, now=None, min_age=STUCK_AFTER):
    """A person decided: put a failed, held or stuck `sending` row back in the queue (attempts from
    0). A row `sending` for less than `min_age` may still be on its way and is refused. Commits."""
    now = now or utcnow()
    _begin_immediate_on_sqlite()
    message = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.id == message_id).with_for_update()
        .execution_options(populate_existing=True)
    )
    if message is None:
        db.session.rollback()
        raise OutboxError(f"没有编号为 {message_id} 的消息")
    if message.status not in ("failed", "held", "sending"):
        status = message.status
        db.session.rollback()
        raise OutboxError(f"消息 {message_id} 的状态为「{OUTBOX_STATUSES.get(status, status)}」，"
                          "只有未送达、已搁置或卡在发送中的消息可以重发")
    if message.status == "sending" and message.next_attempt_at > now - min_age:
        db.session.rollback()
        raise OutboxError(f"消息 {message_id} 正在发送（{int(min_age.total_seconds())} 秒内领取），请稍后再看")
    was = f"{message.status}: {message.last_error or ''}".strip()
    message.status, message.attempts, message.next_attempt_at = "queued", 0, now
    message.last_error = f"retried by a person; was {was}"[:200]
    db.session.commit()
    return message


def visible(user, status=None, limit=200):
    """Messages of users bound to flats in the staff member's scope (or about such a flat), newest
    first, each with its flat (or None)."""
    in_scope = (
        select(Flat.id).join(Unit, Flat.unit_id == Unit.id).join(Building, Unit.building_id == Building.id)
    )
    in_scope = scopes.join_place_tree(in_scope).where(scopes.buildings_condition(user, *READERS))
    bound_here = exists().where(Binding.user_id == OutboxMessage.user_id, Binding.status.in_(ACTIVE),
                                Binding.flat_id.in_(in_scope))
    query = select(OutboxMessage).where(or_(
        OutboxMessage.flat_id.in_(in_scope),
        and_(OutboxMessage.flat_id.is_(None), bound_here),
    ))
    if status:
        query = query.where(OutboxMessage.status == status)
    messages = db.session.scalars(query.order_by(OutboxMessage.id.desc()).limit(limit)).all()
    flat_ids = {m.flat_id for m in messages if m.flat_id}
    flats = {f.id: f for f in db.session.scalars(select(Flat).where(Flat.id.in_(flat_ids)).options(
        joinedload(Flat.unit).joinedload(Unit.building).joinedload(Building.compound)))} if flat_ids else {}
    return [(m, flats.get(m.flat_id)) for m in messages]
