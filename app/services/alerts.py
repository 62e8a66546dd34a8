"""Alerts to staff, planned by the scheduler, each once however often (or by how many schedulers) a job runs.

- Threshold alerts (`check_thresholds`, job alert_thresholds every 5 minutes): the committee members
  of an open consultation's compound and the community staff of its community are told once when its
  live count first meets the whole rule (`passed`: every threshold, the required consenters and no
  veto) — "已达到通过条件" — and once when it can no longer pass — "已无法通过": some threshold's
  `needed` is None (unanimity broken), or even if every person who has not answered took part and
  agreed, a threshold would still be missed (`cannot_pass`, exact fractions from the tally's own
  numbers). Answers can still change before the deadline; the alert says "按目前的表决情况".
  Each alert is an outbox message (template threshold_reached, dedupe key
  alert:<consultation>:<kind>:<user>) and an inbox copy, written only when the message was new.
- The grid worker's daily list (`door_visit_lists`, job daily_door_visits every hour, acting from
  08:00 Beijing time on): for the buildings of the worker's grids, pending bindings (a count), flats
  locked for binding (rooms) and flats no subscribe message could reach in the last 7 days (failed
  with no_quota or 43101; rooms). Rooms only, never names or phones. An inbox item and no push; once
  a day, by an outbox row of channel "inbox" (never dispatched: the dispatcher sends channel
  "subscribe" only) whose dedupe key daily:<user>:<Beijing date> is unique.

Each consultation, and each grid worker, in its own transaction.
"""
from datetime import time as dtime, timedelta, timezone
from fractions import Fraction

from flask import current_app
from sqlalchemy import func, or_, select

from app.errors import ApiError
from app.extensions import db
from app.models import (Binding, Building, Compound, Consultation, Flat, InboxItem, OutboxMessage,
                        StaffRole, Unit)
from app.models.places import utcnow
from app.services import outbox
from app.services.consultations import live_tally, terms
from app.services.tally import MEASURE_NAMES

REACHED, IMPOSSIBLE = "reached", "impossible"
ALERT_TEMPLATE = "threshold_reached"
PHRASES = {REACHED: "达到", IMPOSSIBLE: "无法达到"}
HEADLINES = {REACHED: "已达到通过条件", IMPOSSIBLE: "已无法通过"}
DAILY_AT = dtime(8, 0)  # Beijing time
UNREACHED_DAYS = 7
LIST_LIMIT = 300  # rooms named per list; more are counted


# ---------------------------------------------------------------- can it still pass?

def _exact(value):
    """A tally number (an int, or an area as "210.50") as an exact Fraction."""
    return Fraction(str(value))


def _meets(value, base, share, strict):
    if base == 0:
        return False
    return value > share * base if strict else value >= share * base


def cannot_pass(result):
    """The thresholds the count can no longer meet, [] when it still can: for each, even if every
    person of the roll who has not answered took part and agreed, it would stay unmet (or its
    `needed` is None). Exact: Fractions of the tally's numbers, no rounding. Each item:
    {"what", "measure", "share", "base", "best", "of"} (the best reachable value against its base)."""
    roll, part = result["roll"], result["participation"]
    missed = []
    for section in (result["participation"], result["approval"]):
        for t in section["thresholds"]:
            if t["met"]:
                continue
            measure, share, strict = t["measure"], Fraction(t["share"]), bool(t["strict"])
            left = _exact(roll[measure]) - _exact(part[measure])  # persons / flats / area not answered yet
            value, base = _exact(t["value"]), _exact(t["of"])
            if t["base"] == "participants":
                # Each newcomer who agrees raises v/b ((v + x) / (b + x) grows with x while v <= b): all of them is the best.
                best, of = value + left, base + left
            else:
                best, of = value + left, base
            if t["needed"] is None or not _meets(best, of, share, strict):
                missed.append({"what": t["what"], "measure": measure, "share": t["share"], "base": t["base"],
                               "best": best, "of": of})
    return missed


def _threshold_text(m):
    what = "参与" if m["what"] == "participate" else "同意"
    base = "全体" if m["base"] == "all" else "参与者"
    return f"{what}{MEASURE_NAMES.get(m['measure'], m['measure'])}（{base}的 {m['share']}）"


def kind_of(result):
    """REACHED when the count passes now, IMPOSSIBLE when it can no longer, else None."""
    if result["passed"]:
        return REACHED
    if cannot_pass(result):
        return IMPOSSIBLE
    return None


# ---------------------------------------------------------------- threshold alerts

def recipients(consultation):
    """User ids of the committee members of the consultation's compound and the community staff of its community."""
    community_id = db.session.scalar(select(Compound.community_id).where(Compound.id == consultation.compound_id))
    return sorted(set(db.session.scalars(
        select(StaffRole.user_id).where(or_(
            (StaffRole.role == "committee") & (StaffRole.scope_type == "compound")
            & (StaffRole.scope_id == consultation.compound_id),
            (StaffRole.role == "community_staff") & (StaffRole.scope_type == "community")
            & (StaffRole.scope_id == community_id),
        ))
    )))


def check_thresholds(now=None):
    """For every open consultation, alert its staff once per kind; {consultation id: alerts planned}
    (only consultations with something to say). Each consultation in its own transaction."""
    now = now or utcnow()
    ids = db.session.scalars(select(Consultation.id).where(Consultation.status == "open")).all()
    db.session.rollback()
    planned = {}
    for consultation_id in ids:
        try:
            new = _alert_one(db.session.get(Consultation, consultation_id), now)
            db.session.commit()
        except ApiError:
            db.session.rollback()  # a broken freeze: close() and verify say why
            continue
        except Exception:
            db.session.rollback()
            current_app.logger.exception("threshold alerts for consultation %s failed", consultation_id)
            continue
        if new is not None:
            planned[consultation_id] = new
    return planned


def _alert_one(consultation, now):
    frozen = terms(consultation)
    if now >= frozen.closes_at:
        return None  # past its deadline: closing counts it and publishes the result
    result = live_tally(consultation, frozen)
    kind = kind_of(result)
    if kind is None:
        return None
    page = f"pages/consultation/index?id={consultation.id}"
    body = _alert_body(kind, result)
    new = 0
    for user_id in recipients(consultation):
        if outbox.enqueue(user_id, ALERT_TEMPLATE,
                          {"thing1": consultation.title, "phrase2": PHRASES[kind], "time3": now},
                          page=page, dedupe_key=f"alert:{consultation.id}:{kind}:{user_id}",
                          subject=f"consultation:{consultation.id}"):
            db.session.add(InboxItem(user_id=user_id, title=f"{HEADLINES[kind]}：{consultation.title}"[:100],
                                     page=page, body=body))
            new += 1
    if new:
        current_app.logger.info("consultation %s %s: %d staff alerted", consultation.id, kind, new)
    return new


def _alert_body(kind, result):
    part, roll = result["participation"], result["roll"]
    counted = f"目前已有 {part['persons']} / {roll['persons']} 人参与表决（面积 {part['area']} / {roll['area']} m²）。"
    if kind == REACHED:
        return f"按目前的表决情况，本事项已达到表决规则的全部要求。{counted}截止前业主仍可更改意见，以截止时的计票为准。"
    missed = "、".join(_threshold_text(m) for m in cannot_pass(result))
    return (f"按目前的表决情况，即使其余业主全部参与并同意，也无法达到：{missed}。{counted}"
            "截止前已表决的业主仍可更改意见，以截止时的计票为准。")


# ---------------------------------------------------------------- the grid worker's daily list

def _beijing(now):
    return now.replace(tzinfo=timezone.utc).astimezone(outbox.SHANGHAI)


def _room():
    return Building.name + Unit.name + Flat.room  # "1栋1单元101", as the roll labels rooms


def _in_grids(query, grid_ids):
    return query.join(Unit, Flat.unit_id == Unit.id).join(Building, Unit.building_id == Building.id) \
        .where(Building.grid_id.in_(grid_ids))


def door_visit_list(grid_ids, now):
    """{"pending_bindings": n, "locked": [rooms], "unreached": [rooms]} for the buildings of these grids."""
    pending = db.session.scalar(_in_grids(
        select(func.count(Binding.id)).select_from(Binding).join(Flat, Binding.flat_id == Flat.id), grid_ids
    ).where(Binding.status == "pending"))
    locked = db.session.scalars(_in_grids(select(_room()).select_from(Flat), grid_ids)
                                .where(Flat.binding_locked_at.is_not(None))
                                .order_by(Building.id, Unit.id, Flat.id)).all()
    since = now - timedelta(days=UNREACHED_DAYS)
    unreached = db.session.scalars(_in_grids(
        select(_room()).select_from(OutboxMessage).join(Flat, OutboxMessage.flat_id == Flat.id), grid_ids
    ).where(OutboxMessage.channel == outbox.CHANNEL, OutboxMessage.status == "failed",
            or_(OutboxMessage.last_error == "no_quota", OutboxMessage.last_error.like(f"{outbox.NO_QUOTA}%")),
            # next_attempt_at: when the row was last claimed, i.e. when it failed
            OutboxMessage.next_attempt_at >= since)
        .group_by(Building.id, Unit.id, Flat.id, Building.name, Unit.name, Flat.room)
        .order_by(Building.id, Unit.id, Flat.id)).all()
    return {"pending_bindings": pending or 0, "locked": list(locked), "unreached": list(unreached)}


def _rooms(rooms):
    if not rooms:
        return "无"
    named = "、".join(rooms[:LIST_LIMIT])
    return named + (f" 等 {len(rooms)} 户" if len(rooms) > LIST_LIMIT else "")


def door_visit_body(listing):
    lines = [
        f"待审核的绑定申请：{listing['pending_bindings']} 件",
        f"绑定已锁定的房屋（{len(listing['locked'])} 户）：{_rooms(listing['locked'])}",
        f"近 {UNREACHED_DAYS} 天订阅消息无法送达的房屋（{len(listing['unreached'])} 户）：{_rooms(listing['unreached'])}",
    ]
    if not (listing["pending_bindings"] or listing["locked"] or listing["unreached"]):
        lines.append("今天没有需要上门的房屋。")
    return "\n".join(lines)


def door_visit_lists(now=None):
    """Each grid worker's door-visit list for today (Beijing), once a day from 08:00 on; {user id:
    rooms listed} for the lists written now (none before 08:00, none twice a day). Each worker in
    its own transaction."""
    now = now or utcnow()
    local = _beijing(now)
    if local.time() < DAILY_AT:
        return {}
    day = local.date().isoformat()
    grids = {}
    for user_id, grid_id in db.session.execute(
        select(StaffRole.user_id, StaffRole.scope_id)
        .where(StaffRole.role == "grid_worker", StaffRole.scope_type == "grid", StaffRole.scope_id.is_not(None))
    ):
        grids.setdefault(user_id, set()).add(grid_id)
    db.session.rollback()
    written = {}
    for user_id, grid_ids in sorted(grids.items()):
        try:
            listing = door_visit_list(sorted(grid_ids), now)
            if outbox._insert_or_ignore(OutboxMessage.__table__, {
                "user_id": user_id, "channel": "inbox", "template": "door_visits",
                "data": {"pending_bindings": listing["pending_bindings"], "locked": len(listing["locked"]),
                         "unreached": len(listing["unreached"])},
                "page": None, "dedupe_key": f"daily:{user_id}:{day}", "status": "sent", "attempts": 0,
                "next_attempt_at": now, "flat_id": None, "subject": f"door_visits:{day}",
                "created_at": utcnow(), "sent_at": utcnow(),
            }):
                db.session.add(InboxItem(user_id=user_id, title=f"今日上门清单（{day}）", page=None,
                                         body=door_visit_body(listing)))
                written[user_id] = len(listing["locked"]) + len(listing["unreached"])
            db.session.commit()
        except Exception:
            db.session.rollback()
            current_app.logger.exception("door-visit list for user %s failed", user_id)
    return written
