"""Written proxies (委托书, issue 15): an owner authorises another verified resident to sign ballots and
pledges for the owner's person of the roll — for one consultation, one plan, or until revoked — by
signing in the app, or a grid worker records a signed paper proxy with a photo that a second staff
member confirms (the two-person rule of paper ballots). Every grant, confirmation and revocation is an
entry of the compound's proxies chain (`compound:<id>/proxies`), which `flask audit verify` replays.

Proxies change who may sign, never how many persons count (DESIGN.md §3): a proxy's ballot is the
owner's person's ballot, in the owner's vote slot (the last ballot counts, whoever signed it). A user
holds at most PROXY_MAX_PER_CONSULTATION proxies covering one consultation, so nobody collects votes."""
import hashlib
import json
import secrets

from flask import current_app

from app.errors import ApiError
from app.extensions import db
from app.models import (AuditEntry, Binding, Building, Compound, Consultation, ContributionPlan, Flat, Owner, PlanFlat,
                        Proxy, RollEntry, Unit, User)
from app.models.places import utcnow
from app.models.proxies import SCOPES
from app.services import audit, scopes
from app.services.ballots import (PAPER_STAFF, PHOTO_MAX_BYTES, RECEIPT_ALPHABET, SIGNATURE_MAX_BYTES, decode_image,
                                  store_image)
from app.services.consultations import _begin_immediate_on_sqlite, co_owners_of, person_key, speaks_for

NOT_FOUND = "没有找到该委托书"
LIVE = ("active", "unconfirmed")  # count towards the holder's limit


def chain_name(compound_id):
    return f"compound:{compound_id}/proxies"


def content(proxy):
    """What a proxy says, as hashed when it is written (its status changes are entries of their own)."""
    return {
        "number": proxy.number, "compound": proxy.compound_id, "flat": proxy.flat_id, "person": proxy.person_key,
        "channel": proxy.channel, "grantor": proxy.grantor_user_id, "grantor_owner": proxy.grantor_owner_id,
        "entered_by": proxy.entered_by_id, "holder": proxy.proxy_user_id, "holder_name": proxy.proxy_name,
        "scope": proxy.scope, "consultation": proxy.consultation_id, "plan": proxy.plan_id,
        "image": proxy.image_sha256, "at": proxy.created_at.strftime("%Y-%m-%dT%H:%M:%S"),
    }


def content_hash(proxy):
    return audit.sha256(audit.canonical(content(proxy)))


def _number():
    return "WT" + "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(10))


def _compound_id(flat):
    return db.session.scalar(db.select(Building.compound_id).join(Unit, Unit.building_id == Building.id)
                             .where(Unit.id == flat.unit_id))


def _audit(proxy, kind, **extra):
    """An entry of the compound's proxies chain. The compound's row is locked first, so the first
    entries of two proxies cannot both start the chain."""
    db.session.execute(db.select(Compound.id).where(Compound.id == proxy.compound_id).with_for_update())
    audit.append(chain_name(proxy.compound_id), kind, "proxy", proxy.id, {
        "proxy": proxy.id, "content_hash": proxy.content_hash, "status": proxy.status, **extra})


# ---------------------------------------------------------------- what a proxy covers


def _target(flat, scope, target_id):
    """(person key, consultation id, plan id) a new proxy of this scope speaks for: the person the
    consultation's or plan's frozen roll names for the flat (the roster's when not yet opened), or,
    standing, the roster's person now. 404 for a consultation or plan the flat is not part of, 409 for
    one that no longer takes ballots or pledges."""
    compound_id = _compound_id(flat)
    roster_person = person_key(flat, co_owners_of([flat.id]).get(flat.id, ()))
    if scope == "standing":
        return roster_person, None, None
    if target_id is None:
        raise ApiError(422, "validation_error", "请选择委托的征询或出资方案", {"scope": ["缺少 id"]})
    if scope == "consultation":
        from app.services.consultations import scope_flats_query

        c = db.session.get(Consultation, target_id)
        if c is None or c.compound_id != compound_id:
            raise ApiError(404, "not_found", "没有找到该征询")
        if c.status not in ("draft", "open"):
            raise ApiError(409, "closed", "征询已截止，不能再委托")
        if c.status == "open":
            person = db.session.scalar(db.select(RollEntry.person_key).filter_by(consultation_id=c.id, flat_id=flat.id))
        else:
            inside = db.session.scalar(scope_flats_query(c.scope_type, c.scope_id).with_only_columns(Flat.id)
                                       .where(Flat.id == flat.id))
            person = roster_person if inside else None
        if person is None:
            raise ApiError(422, "not_on_roll", "该房屋不在这次征询的范围内", {"flat_id": flat.id})
        return person, c.id, None
    plan = db.session.get(ContributionPlan, target_id)
    if plan is None or plan.compound_id != compound_id:
        raise ApiError(404, "not_found", "没有找到该出资方案")
    if plan.status not in ("draft", "open"):
        raise ApiError(409, "closed", "出资方案已截止，不能再委托")
    if plan.status == "open":
        person = db.session.scalar(db.select(PlanFlat.person_key).filter_by(plan_id=plan.id, flat_id=flat.id))
        if person is None:
            raise ApiError(422, "not_on_roll", "该房屋不在这个出资方案的范围内", {"flat_id": flat.id})
        return person, None, plan.id
    return roster_person, None, plan.id


def covering(user_id, flat_id, person, consultation_id=None, plan_id=None):
    """The active proxy held by user_id that lets them sign for this flat's person in this consultation
    (or plan): granted for this flat and the same person of the roll, for it or standing. None if none."""
    scoped = Proxy.consultation_id == consultation_id if consultation_id is not None else Proxy.plan_id == plan_id
    return db.session.scalar(
        db.select(Proxy).where(Proxy.proxy_user_id == user_id, Proxy.flat_id == flat_id, Proxy.person_key == person,
                               Proxy.status == "active", db.or_(Proxy.scope == "standing", scoped))
        .order_by(Proxy.id.desc()).limit(1))


def ensure_level(proxy, required, flat_id):
    """Where the frozen rule requires level 2, a proxy signs only when verified in person itself (level 2
    on one of its bindings) or holding a paper proxy a second staff member confirmed."""
    if required < 2 or proxy.channel == "paper":
        return
    level = db.session.scalar(db.select(db.func.max(Binding.level)).filter_by(user_id=proxy.proxy_user_id,
                                                                              status="approved"))
    if (level or 1) < 2:
        from app.services.bindings import grid_contact

        raise ApiError(403, "level_required", "本次表决要求当面核验：代签人须先经网格员当面核验身份（核验等级 2），"
                       f"或由网格员录入并经第二名工作人员确认纸质委托书；请联系{grid_contact(flat_id)}",
                       {"required_level": required, "level": level or 1})


# ---------------------------------------------------------------- granting


def _holder(user_id, name):
    """The proxy's user: a verified resident (an approved binding) whose binding carries the name given."""
    name = (name or "").strip()
    found = db.session.scalar(db.select(Binding.id).filter_by(user_id=user_id, status="approved", name=name).limit(1))
    if found is None:
        raise ApiError(422, "not_a_resident", "受托人须是已绑定房屋的居民，且姓名与其绑定时填写的一致；"
                       "请让受托人在“我的”页查看用户编号并核对姓名", {"proxy_user_id": ["未找到该居民"]})
    return user_id, name


def _lock_and_count(holder_id, scope, consultation_id, plan_id):
    """Lock the holder's row (two grants to one holder are counted one after the other), then refuse a
    grant beyond PROXY_MAX_PER_CONSULTATION proxies covering one consultation or plan."""
    _begin_immediate_on_sqlite()
    db.session.execute(db.select(User.id).where(User.id == holder_id).with_for_update())
    limit = current_app.config["PROXY_MAX_PER_CONSULTATION"]
    live = db.select(Proxy).where(Proxy.proxy_user_id == holder_id, Proxy.status.in_(LIVE)).subquery()
    standing = db.session.scalar(db.select(db.func.count()).select_from(live).where(live.c.scope == "standing"))
    if scope == "consultation":
        scoped = db.session.scalar(db.select(db.func.count()).select_from(live).where(live.c.consultation_id == consultation_id))
    elif scope == "plan":
        scoped = db.session.scalar(db.select(db.func.count()).select_from(live).where(live.c.plan_id == plan_id))
    else:  # a standing proxy covers every consultation: the busiest one counts
        scoped = max([0, *db.session.scalars(
            db.select(db.func.count()).select_from(live).where(live.c.scope != "standing")
            .group_by(live.c.consultation_id, live.c.plan_id))])
    if standing + scoped >= limit:
        raise ApiError(409, "too_many_proxies",
                       f"受托人在同一次征询（或出资方案）中已受托 {standing + scoped} 户（含长期委托），每人最多 {limit} 户；"
                       "为防止集中代投，请委托其他人，或请网格员上门服务", {"limit": limit})


def _replay(flat_id, key, same_sender, same_body):
    found = db.session.scalar(db.select(Proxy).filter_by(flat_id=flat_id, idempotency_key=key)) if key else None
    if found is None:
        return None
    if not same_sender(found):
        raise ApiError(409, "idempotency_conflict", "该请求编号已被使用")
    if not same_body(found):
        raise ApiError(422, "idempotency_mismatch", "该请求编号已用于另一份内容不同的委托书，请勿重复使用",
                       {"Idempotency-Key": ["已用于另一份委托书"]})
    return found


def grant(user, data, idempotency_key=None):
    """An owner signs a written proxy in the app: data {flat_id, proxy_user_id, proxy_name, scope:
    {type, id}, signature}. The owner's binding must speak for the flat's person of the roll."""
    raw, mimetype = decode_image(data["signature"], ("PNG",), SIGNATURE_MAX_BYTES, "签名")
    digest = hashlib.sha256(raw).hexdigest()
    flat = db.session.get(Flat, data["flat_id"])
    binding = db.session.scalar(db.select(Binding).filter_by(user_id=user.id, flat_id=data["flat_id"], status="approved")
                                .order_by(Binding.id.desc()).limit(1)) if flat is not None else None
    if binding is None:
        raise ApiError(404, "not_found", "没有找到该房屋，或您尚未绑定该房屋")
    scope = data["scope"]
    replay = _replay(flat.id, idempotency_key, lambda p: p.grantor_user_id == user.id,
                     lambda p: (p.proxy_user_id, p.scope, p.consultation_id or p.plan_id, p.image_sha256)
                     == (data["proxy_user_id"], scope["type"], scope.get("id") if scope["type"] != "standing" else None, digest))
    if replay is not None:
        return replay
    if binding.relation != "owner":
        raise ApiError(403, "not_owner", "只有业主本人可以委托他人代为签署；家庭成员和租户不能委托")
    person, consultation_id, plan_id = _target(flat, scope["type"], scope.get("id"))
    if not speaks_for(binding.owner_id, flat.id, person):
        raise ApiError(403, "not_roll_owner", "您绑定时核对的业主与名册登记的业主不一致，不能委托；请联系网格员核实")
    if data["proxy_user_id"] == user.id:
        raise ApiError(422, "validation_error", "不能委托给自己", {"proxy_user_id": ["不能是本人"]})
    holder_id, name = _holder(data["proxy_user_id"], data.get("proxy_name"))
    _lock_and_count(holder_id, scope["type"], consultation_id, plan_id)
    image_id = store_image(raw, mimetype, digest)
    return _write(flat, person, "online", holder_id, name, scope["type"], consultation_id, plan_id, image_id, digest,
                  idempotency_key, grantor=user.id, grantor_owner=binding.owner_id)


def _write(flat, person, channel, holder_id, name, scope, consultation_id, plan_id, image_id, digest, key,
           grantor=None, grantor_owner=None, entered_by=None):
    proxy = Proxy(number=_number(), compound_id=_compound_id(flat), flat_id=flat.id, person_key=person, channel=channel,
                  grantor_user_id=grantor, grantor_owner_id=grantor_owner, entered_by_id=entered_by,
                  proxy_user_id=holder_id, proxy_name=name, scope=scope, consultation_id=consultation_id,
                  plan_id=plan_id, status="active" if channel == "online" else "unconfirmed", image_id=image_id,
                  image_sha256=digest, idempotency_key=key, created_at=utcnow().replace(microsecond=0))
    proxy.content_hash = content_hash(proxy)
    db.session.add(proxy)
    db.session.flush()
    _audit(proxy, "proxy_granted" if channel == "online" else "proxy_entered")
    current_app.logger.info("proxy %s %s for flat %s", proxy.id, proxy.status, flat.id)
    return proxy


def _staff_flat(user, flat_id):
    flat = db.session.get(Flat, flat_id)
    if flat is None or not scopes.can(user, flat.unit.building, *PAPER_STAFF):
        raise ApiError(404, "not_found", "没有找到该房屋")
    return flat


def enter_paper(user, data, idempotency_key=None):
    """A grid worker records a signed paper proxy with its photo: data {flat_id, proxy_user_id,
    proxy_name, scope, photo}. It counts once a second staff member confirms it."""
    raw, mimetype = decode_image(data["photo"], ("JPEG", "PNG"), PHOTO_MAX_BYTES, "委托书照片")
    digest = hashlib.sha256(raw).hexdigest()
    flat = _staff_flat(user, data["flat_id"])
    scope = data["scope"]
    replay = _replay(flat.id, idempotency_key, lambda p: p.entered_by_id == user.id,
                     lambda p: (p.proxy_user_id, p.scope, p.image_sha256) == (data["proxy_user_id"], scope["type"], digest))
    if replay is not None:
        return replay
    person, consultation_id, plan_id = _target(flat, scope["type"], scope.get("id"))
    if person.startswith("developer"):
        raise ApiError(422, "validation_error", "开发商持有的房屋不能委托", {"flat_id": [flat.id]})
    holder_id, name = _holder(data["proxy_user_id"], data.get("proxy_name"))
    _lock_and_count(holder_id, scope["type"], consultation_id, plan_id)
    image_id = store_image(raw, mimetype, digest)
    return _write(flat, person, "paper", holder_id, name, scope["type"], consultation_id, plan_id, image_id, digest,
                  idempotency_key, entered_by=user.id)


def _locked(proxy_id):
    return db.session.scalar(db.select(Proxy).where(Proxy.id == proxy_id).with_for_update()
                             .execution_options(populate_existing=True))


def confirm(user, proxy_id):
    """A second staff member of the flat's scope confirms a paper proxy beside its photo."""
    proxy = db.session.get(Proxy, proxy_id)
    if proxy is None or proxy.channel != "paper":
        raise ApiError(404, "not_found", NOT_FOUND)
    _staff_flat(user, proxy.flat_id)
    if proxy.entered_by_id == user.id:
        raise ApiError(403, "same_person", "录入人不能确认自己录入的纸质委托书，请由另一名工作人员确认")
    proxy = _locked(proxy_id)
    if proxy.status != "unconfirmed":
        raise ApiError(409, "already_confirmed", "该委托书已确认或已撤销", {"status": proxy.status})
    proxy.status, proxy.confirmed_by_id, proxy.confirmed_at = "active", user.id, utcnow().replace(microsecond=0)
    db.session.flush()
    _audit(proxy, "proxy_confirmed", by=user.id, at=proxy.confirmed_at.strftime("%Y-%m-%dT%H:%M:%S"))
    return proxy


def _deadline_passed(proxy):
    """A proxy for one consultation or plan can be revoked until its deadline; a standing one any time."""
    from app.services import consultations, plans

    if proxy.consultation_id is not None:
        c = db.session.get(Consultation, proxy.consultation_id)
        if c.status == "draft":
            return False
        return not consultations.is_accepting(c, closes_at=consultations.terms(c).closes_at)
    if proxy.plan_id is not None:
        plan = db.session.get(ContributionPlan, proxy.plan_id)
        return plan.status != "draft" and not plans.is_accepting(plan, plans.terms(plan))
    return False


def _owner_speaks(user, proxy):
    return any(speaks_for(owner_id, proxy.flat_id, proxy.person_key) for owner_id in db.session.scalars(
        db.select(Binding.owner_id).filter_by(user_id=user.id, flat_id=proxy.flat_id, status="approved", relation="owner")))


def can_see(user, proxy):
    return (proxy.proxy_user_id == user.id or proxy.grantor_user_id == user.id or _owner_speaks(user, proxy)
            or scopes.can(user, db.session.get(Flat, proxy.flat_id).unit.building, *PAPER_STAFF))


def visible(user, proxy_id):
    proxy = db.session.get(Proxy, proxy_id)
    if proxy is None or not can_see(user, proxy):
        raise ApiError(404, "not_found", NOT_FOUND)
    return proxy


def revoke(user, proxy_id):
    """The owner (any owner binding that speaks for the proxy's person: a co-owner too) or staff of the
    flat's scope (the owner at the office) revokes, until the deadline. A ballot the proxy already cast
    stays, unless the owner signs again (the last ballot counts)."""
    proxy = db.session.get(Proxy, proxy_id)
    staff = proxy is not None and scopes.can(user, db.session.get(Flat, proxy.flat_id).unit.building, *PAPER_STAFF)
    if proxy is None or not (staff or proxy.grantor_user_id == user.id or _owner_speaks(user, proxy)):
        raise ApiError(404, "not_found", NOT_FOUND)
    proxy = _locked(proxy_id)
    if proxy.status == "revoked":
        raise ApiError(409, "already_revoked", "该委托书已撤销")
    if _deadline_passed(proxy):
        raise ApiError(409, "closed", "委托的征询或出资方案已截止，委托书不能再撤销；已代签的表决仍然有效")
    proxy.status, proxy.revoked_at, proxy.revoked_by_id = "revoked", utcnow().replace(microsecond=0), user.id
    db.session.flush()
    _audit(proxy, "proxy_revoked", by=user.id, at=proxy.revoked_at.strftime("%Y-%m-%dT%H:%M:%S"))
    return proxy


def image(user, proxy_id):
    """The paper proxy's photo, for staff of its flat's scope: (bytes, mimetype)."""
    from app.models import Blob

    proxy = db.session.get(Proxy, proxy_id)
    if proxy is None or proxy.channel != "paper":
        raise ApiError(404, "not_found", NOT_FOUND)
    _staff_flat(user, proxy.flat_id)
    blob = db.session.get(Blob, proxy.image_id)
    return blob.data, blob.mimetype


def listed(user, flat_id=None):
    """With flat_id: the flat's proxies, for its owners and staff of its scope. Without: the proxies the
    user holds and those granted for flats the user owns, newest first."""
    if flat_id is not None:
        flat = db.session.get(Flat, flat_id)
        if flat is None:
            raise ApiError(404, "not_found", "没有找到该房屋")
        found = db.session.scalars(db.select(Proxy).filter_by(flat_id=flat_id).order_by(Proxy.id.desc())).all()
        if scopes.can(user, flat.unit.building, *PAPER_STAFF):
            return found
        owns = db.session.scalar(db.select(Binding.id).filter_by(user_id=user.id, flat_id=flat_id, status="approved",
                                                                 relation="owner").limit(1))
        if owns is None:
            raise ApiError(404, "not_found", "没有找到该房屋")
        return [p for p in found if _owner_speaks(user, p)]
    owned = db.select(Binding.flat_id).filter_by(user_id=user.id, status="approved", relation="owner")
    found = db.session.scalars(db.select(Proxy).where(db.or_(Proxy.proxy_user_id == user.id, Proxy.flat_id.in_(owned)))
                               .order_by(Proxy.id.desc())).all()
    return [p for p in found if p.proxy_user_id == user.id or _owner_speaks(user, p)]


def owner_names(person_keys):
    """{person key: the masked names of its roster owners ("张*、李*")}, in one statement."""
    from app.services.privacy import mask_name

    ids = {}
    for key in person_keys:
        kind, _, ident = key.partition(":")
        ids[key] = [int(i) for i in ident.split("+")] if kind in ("owner", "owners") else []
    wanted = {i for v in ids.values() for i in v}
    names = dict(db.session.execute(db.select(Owner.id, Owner.name).where(Owner.id.in_(wanted))).all()) if wanted else {}
    return {key: "、".join(mask_name(names.get(i)) or "—" for i in v) or "业主" for key, v in ids.items()}


# ---------------------------------------------------------------- verification


def verify(broken):
    """Every proxy row against its compound's proxies chain: its content hash, and its status (and who
    confirmed or revoked it) replayed from the entries; rows inserted, edited or deleted behind the
    application's back are named (the first of each compound); the image bytes against their hash."""
    from app.services.audit import Problem
    from app.services.verification import blobs_swapped

    entries = {}
    for entry in db.session.scalars(db.select(AuditEntry).where(AuditEntry.chain.like("compound:%/proxies"))
                                    .order_by(AuditEntry.chain, AuditEntry.seq)):
        entries.setdefault(entry.chain, []).append(entry)
    rows = {}
    for proxy in db.session.scalars(db.select(Proxy).order_by(Proxy.id)):
        rows.setdefault(chain_name(proxy.compound_id), []).append(proxy)
    problems = []
    for chain in sorted(set(entries) | set(rows)):
        if chain in broken:
            continue
        problem = _verify_chain(entries.get(chain, []), {p.id: p for p in rows.get(chain, [])})
        if problem is None:
            swapped = blobs_swapped([(p.image_id, p.image_sha256) for p in rows.get(chain, [])])
            if swapped:
                proxy = next(p for p in rows[chain] if p.image_id == swapped[0])
                problem = f"委托书 {proxy.number} 的签名或照片被替换（与记录的哈希不符） / its signature or photo was replaced"
        if problem:
            problems.append(Problem(chain, problem))
    return problems


REPLAY = {"proxy_granted": "active", "proxy_entered": "unconfirmed", "proxy_confirmed": "active",
          "proxy_revoked": "revoked"}


def _verify_chain(entries, rows):
    state = {}  # proxy id → (status, confirmed by, revoked by)
    for entry in entries:
        payload = json.loads(entry.payload)
        proxy = rows.get(payload["proxy"])
        if proxy is None:
            return f"委托书 id {payload['proxy']} 被删除 / proxy {payload['proxy']} was deleted"
        if content_hash(proxy) != payload["content_hash"] or proxy.content_hash != payload["content_hash"]:
            return f"委托书 {proxy.number}（id {proxy.id}）被改动 / proxy {proxy.id} was edited"
        status, confirmed, revoked = state.get(proxy.id, (None, None, None))
        if entry.kind == "proxy_confirmed":
            confirmed = payload["by"]
        if entry.kind == "proxy_revoked":
            revoked = payload["by"]
        state[proxy.id] = (REPLAY[entry.kind], confirmed, revoked)
    for proxy in rows.values():
        if proxy.id not in state:
            return f"委托书 {proxy.number}（id {proxy.id}）未经系统记录（被插入） / proxy {proxy.id} was inserted"
        if state[proxy.id] != (proxy.status, proxy.confirmed_by_id, proxy.revoked_by_id):
            return (f"委托书 {proxy.number}（id {proxy.id}）的状态或确认、撤销人被改动（记录为 {state[proxy.id][0]}，"
                    f"现为 {proxy.status}） / proxy {proxy.id}'s status was edited")
    return None

