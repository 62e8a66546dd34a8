"""Reminders before a consultation's deadline: to the bound residents of every flat whose person
has no counted ballot, once per round (by default 3 days and 1 day before the frozen deadline).

Planned into the outbox with a dedupe key per consultation, round, user and flat, so running the
job twice, or two schedulers at once, plans each reminder once; each also lands in the inbox."""
from datetime import timedelta

from flask import current_app
from sqlalchemy import insert

from app.extensions import db, retrying
from app.models import Binding, Consultation, InboxItem, RollEntry, VoteSlot
from app.models.places import utcnow
from app.services import outbox
from app.services.consultations import terms
from app.errors import ApiError


def rounds():
    """Hours before the deadline at which residents are reminded, largest first."""
    return sorted(current_app.config.get("REMINDER_HOURS_BEFORE", (72, 24)), reverse=True)


def _due_round(closes_at, now):
    """The round (hours before the deadline) that is due now, or None: the latest round whose time has come."""
    due = [hours for hours in rounds() if closes_at - timedelta(hours=hours) <= now < closes_at]
    return min(due) if due else None


def _unanswered(consultation_id):
    """(user id, flat id, room) of every approved binding to a flat of the roll whose person has no counted ballot."""
    return db.session.execute(
        db.select(Binding.user_id, RollEntry.flat_id, RollEntry.label)
        .join(Binding, (Binding.flat_id == RollEntry.flat_id) & (Binding.status == "approved"))
        .join(VoteSlot, (VoteSlot.consultation_id == RollEntry.consultation_id)
              & (VoteSlot.person_key == RollEntry.person_key))
        .where(RollEntry.consultation_id == consultation_id, VoteSlot.ballot_id.is_(None))
        .order_by(RollEntry.flat_id, Binding.user_id)
    ).all()


def plan(now=None):
    """Plan the reminders due now for every open consultation; {consultation id: reminders planned}.
    Each consultation in its own transaction."""
    now = now or utcnow()
    ids = db.session.scalars(db.select(Consultation.id).where(Consultation.status == "open")).all()
    db.session.rollback()
    planned = {}
    for consultation_id in ids:
        def one():
            count = _plan_one(db.session.get(Consultation, consultation_id), now)
            db.session.commit()
            return count

        try:
            # A deadlock with the other scheduler's planning or dispatching: rolled back, run again
            # (the dedupe keys make what the other one planned meanwhile a no-op).
            planned[consultation_id] = retrying(one)
        except ApiError:
            db.session.rollback()  # a broken freeze: close() and verify say why
        except Exception:
            db.session.rollback()
            current_app.logger.exception("planning reminders for consultation %s failed", consultation_id)
    return planned


BATCH = 1000  # unanswered rows read, and messages inserted, per statement


def _unanswered_batches(consultation_id, size=BATCH):
    """`_unanswered` page after page: the next `size` flats of the roll (by flat id, on the roll's
    unique index), then the unanswered bindings of those flats. Memory stays one page whatever the
    roll's size, each page is an index range (no scan from the start), and no result is left open
    while the page's messages are written."""
    after = 0
    while True:
        flat_ids = db.session.scalars(
            db.select(RollEntry.flat_id)
            .where(RollEntry.consultation_id == consultation_id, RollEntry.flat_id > after)
            .order_by(RollEntry.flat_id).limit(size)
        ).all()
        if not flat_ids:
            return
        rows = db.session.execute(
            db.select(Binding.user_id, RollEntry.flat_id, RollEntry.label)
            .join(Binding, (Binding.flat_id == RollEntry.flat_id) & (Binding.status == "approved"))
            .join(VoteSlot, (VoteSlot.consultation_id == RollEntry.consultation_id)
                  & (VoteSlot.person_key == RollEntry.person_key))
            .where(RollEntry.consultation_id == consultation_id, RollEntry.flat_id >= flat_ids[0],
                   RollEntry.flat_id <= flat_ids[-1], VoteSlot.ballot_id.is_(None))
            .order_by(RollEntry.flat_id, Binding.user_id)
        ).all()
        if rows:
            yield rows
        if len(flat_ids) < size:
            return
        after = flat_ids[-1]


def _plan_one(consultation, now):
    deadline = terms(consultation).closes_at
    hours = _due_round(deadline, now)
    if hours is None:
        return 0
    new = 0
    title = f"表决提醒：{consultation.title}"[:100]
    when = _beijing(deadline)
    for rows in _unanswered_batches(consultation.id):
        messages, inbox = [], {}
        for user_id, flat_id, room in rows:
            page = f"pages/consultation/index?id={consultation.id}&flat_id={flat_id}"
            key = f"reminder:{consultation.id}:{hours}h:{user_id}:{flat_id}"
            messages.append({"user_id": user_id, "template": "ballot_reminder",
                             "data": {"thing1": consultation.title, "time2": deadline,
                                      "thing3": f"{room}尚未表决，请在截止前表决"},
                             "page": page, "dedupe_key": key, "flat_id": flat_id,
                             "subject": f"consultation:{consultation.id}"})
            inbox[key] = {"user_id": user_id, "title": title, "page": page, "notice_id": None,
                          "body": f"{room}尚未表决。截止时间：{when}，截止前可以在小程序里签署。", "created_at": utcnow()}
        inserted = outbox.enqueue_many(messages)
        if inserted:  # an inbox copy of each message planned now, never of one planned before
            db.session.execute(insert(InboxItem), [item for key, item in inbox.items() if key in inserted])
            new += len(inserted)
    current_app.logger.info("consultation %s: %d reminders planned (%dh round)", consultation.id, new, hours)
    return new


def _beijing(value):
    return (value + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M")
