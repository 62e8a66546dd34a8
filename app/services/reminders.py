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
    """Plan the reminders due now for every open consultation, and for every open contribution plan
    (flats that owe something and have not pledged); {"consultation:<id>" or "plan:<id>": planned}.
    Each in its own transaction."""
    from app.models import ContributionPlan

    now = now or utcnow()
    subjects = [("consultation", i, Consultation, _plan_one) for i in db.session.scalars(
        db.select(Consultation.id).where(Consultation.status == "open"))]
    subjects += [("plan", i, ContributionPlan, _plan_pledges) for i in db.session.scalars(
        db.select(ContributionPlan.id).where(ContributionPlan.status == "open"))]
    db.session.rollback()
    planned = {}
    for kind, subject_id, model, planner in subjects:
        def one():
            count = planner(db.session.get(model, subject_id), now)
            db.session.commit()
            return count

        try:
            # A deadlock with the other scheduler's planning or dispatching: rolled back, run again
            # (the dedupe keys make what the other one planned meanwhile a no-op).
            planned[f"{kind}:{subject_id}"] = retrying(one)
        except ApiError:
            db.session.rollback()  # a broken freeze: close() and verify say why
        except Exception:
            db.session.rollback()
            current_app.logger.exception("planning reminders for %s %s failed", kind, subject_id)
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
        new += _enqueue(messages, inbox)
    current_app.logger.info("consultation %s: %d reminders planned (%dh round)", consultation.id, new, hours)
    return new


def _enqueue(messages, inbox):
    """Plan a page of messages; an inbox copy of each message planned now, never of one planned before."""
    inserted = outbox.enqueue_many(messages)
    if inserted:
        db.session.execute(insert(InboxItem), [item for key, item in inbox.items() if key in inserted])
    return len(inserted)


def _plan_pledges(plan, now):
    """A contribution plan's reminders: to the bound residents of each flat that owes something and
    has no pledge that counts, once per round before the frozen deadline (template plan_deadline)."""
    from app.models import PlanFlat
    from app.services.plans import terms as plan_terms

    deadline = plan_terms(plan)["closes_at"]
    hours = _due_round(deadline, now)
    if hours is None:
        return 0
    new, after, when = 0, 0, _beijing(deadline)
    while True:
        rows = db.session.execute(
            db.select(Binding.user_id, PlanFlat.flat_id, PlanFlat.label)
            .join(Binding, (Binding.flat_id == PlanFlat.flat_id) & (Binding.status == "approved"))
            .where(PlanFlat.plan_id == plan.id, PlanFlat.pledge_id.is_(None), PlanFlat.due_fen > 0,
                   PlanFlat.flat_id > after)
            .order_by(PlanFlat.flat_id, Binding.user_id).limit(BATCH)).all()
        if not rows:
            break
        if len(rows) == BATCH:  # the page ends inside a flat: keep whole flats, the rest comes next
            last = rows[-1].flat_id
            rows = [r for r in rows if r.flat_id != last] or rows
        after = rows[-1].flat_id
        messages, inbox = [], {}
        for user_id, flat_id, room in rows:
            page = f"pages/plan/index?id={plan.id}&flat_id={flat_id}"
            key = f"reminder:plan:{plan.id}:{hours}h:{user_id}:{flat_id}"
            messages.append({"user_id": user_id, "template": "plan_deadline",
                             "data": {"thing1": plan.title, "date2": deadline, "thing3": f"{room}尚未认筹，请在截止前确认"},
                             "page": page, "dedupe_key": key, "flat_id": flat_id, "subject": f"plan:{plan.id}"})
            inbox[key] = {"user_id": user_id, "title": f"认筹提醒：{plan.title}"[:100], "page": page, "notice_id": None,
                          "body": f"{room}尚未签署出资承诺。截止时间：{when}，截止前可以在小程序里查看本户应缴金额并签署。",
                          "created_at": utcnow()}
        new += _enqueue(messages, inbox)
    current_app.logger.info("plan %s: %d reminders planned (%dh round)", plan.id, new, hours)
    return new


def _beijing(value):
    return (value + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M")
