"""Ballots: an owner signs online, a grid worker enters a paper ballot that a second staff member
confirms; one ballot counts per person of the roll, across channels; every ballot has a receipt."""
import base64
import binascii
import hashlib
import io
import secrets
from types import SimpleNamespace

from flask import current_app
from PIL import Image, UnidentifiedImageError
from sqlalchemy import bindparam as param

from app.errors import ApiError
from app.extensions import db, written
from app.models import AuditEntry, AuthSession, Ballot, Binding, Blob, Consultation, RollEntry, VoteSlot
from app.models.consultations import slot_chain
from app.models.places import utcnow
from app.services import audit, scopes
from app.services.consultations import (_begin_immediate_on_sqlite, chain_name, is_accepting, lock, speaks_for, terms,
                                        terms_from, visible_building_ids)
from app.services.thumbnails import store_thumbnail  # issue 13: evidence thumbnails made once

SIGNATURE_MAX_BYTES = 200 * 1024
PHOTO_MAX_BYTES = 3 * 1024 * 1024
RECEIPT_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud on the phone
PAPER_STAFF = ("grid_worker", "community_staff", "committee", "admin")
STATUS_NAMES = {
    "current": "有效（计入统计）",
    "superseded": "已被本人后来的表决替代",
    "conflict": "与该户另一渠道的有效票冲突，未计入",
    "unconfirmed": "纸质票待第二名工作人员确认",
    "late": "纸质票在截止后才确认，未计入",
}


def decode_image(data, kinds, max_bytes, what):
    """Base64 (or a data: URL) → validated image bytes and mimetype; raises 422 in Chinese."""
    raw = image_bytes(data, max_bytes, what)
    return raw, image_mimetype(raw, kinds, what)


def image_bytes(data, max_bytes, what):
    """The first half of decode_image: the bytes of base64 (or a data: URL), within max_bytes; no
    image decoding yet."""
    if not isinstance(data, str) or not data:
        raise ApiError(422, "validation_error", f"缺少{what}", {what: ["必填项"]})
    if data.startswith("data:"):
        data = data.partition(",")[2]
    if len(data) > max_bytes * 4 // 3 + 16:
        raise ApiError(413, "too_large", f"{what}过大（不超过 {max_bytes // 1024} KB）")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(422, "validation_error", f"{what}不是有效的 base64 数据", {what: ["格式无效"]})
    if len(raw) > max_bytes:
        raise ApiError(413, "too_large", f"{what}过大（不超过 {max_bytes // 1024} KB）")
    return raw


def image_mimetype(raw, kinds, what):
    """The second half of decode_image: the image decoded and verified (one of kinds, a sensible
    size); its mimetype."""
    try:
        image = Image.open(io.BytesIO(raw))
        image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ApiError(422, "validation_error", f"{what}不是有效的图片", {what: ["格式无效"]})
    if image.format not in kinds:
        raise ApiError(422, "validation_error", f"{what}应为 {' / '.join(kinds)} 图片", {what: ["格式无效"]})
    width, height = image.size
    if not (20 <= width <= 4000 and 20 <= height <= 4000):
        raise ApiError(422, "validation_error", f"{what}尺寸不合适", {what: [f"{width}×{height}"]})
    return Image.MIME[image.format]


_RECEIPTS = len(RECEIPT_ALPHABET) ** 12


def _receipt():
    """12 characters, each uniform and independent (as 12 secrets.choice, in one call to the system's
    randomness, not twelve): the digits of a uniform number below 31**12."""
    n, chars = secrets.randbelow(_RECEIPTS), []
    for _ in range(12):
        n, digit = divmod(n, len(RECEIPT_ALPHABET))
        chars.append(RECEIPT_ALPHABET[digit])
    return "".join(chars)


def content(ballot):
    """What a ballot says, as hashed: fixed at writing, checked by `flask audit verify`. The receipt
    (unique) identifies it, so the hash is known before the row is inserted."""
    return {
        "consultation": ballot.consultation_id, "flat": ballot.flat_id,
        "person": ballot.person_key, "channel": ballot.channel, "choice": ballot.choice,
        "user": ballot.user_id, "entered_by": ballot.entered_by_id, "signature": ballot.signature_sha256,
        "receipt": ballot.receipt, "at": ballot.created_at.strftime("%Y-%m-%dT%H:%M:%S"),
        # Signed under a written proxy (issue 15): hashed only when set, so older ballots hash as before.
        **({"proxy": ballot.proxy_id} if getattr(ballot, "proxy_id", None) else {}),
    }


def content_hash(ballot):
    return audit.sha256(audit.canonical(content(ballot)))


def _accepting(consultation_id):
    """The consultation locked (shared) and its frozen terms; 409 unless ballots are taken now."""
    consultation = lock(consultation_id, shared=True)
    if consultation.status == "draft":
        raise ApiError(409, "not_open", "征询尚未开始")
    frozen = terms(consultation)
    _ensure_accepting(consultation, frozen)
    return consultation, frozen


def _ensure_accepting(consultation, frozen):
    """409 unless ballots are taken now, by the status and the frozen deadline (`consultation`:
    anything with a status, a row or a model)."""
    if consultation.status == "draft":
        raise ApiError(409, "not_open", "征询尚未开始")
    if not is_accepting(consultation, closes_at=frozen.closes_at):
        raise ApiError(409, "closed", "征询已截止，不能再表决")


def _check_choice(frozen, choice):
    keys = [o["key"] for o in frozen.options]
    if choice not in keys:
        raise ApiError(422, "validation_error", "请选择有效的选项", {"choice": keys})


def by_idempotency_key(consultation_id, key):
    return db.session.scalar(db.select(Ballot).filter_by(consultation_id=consultation_id, idempotency_key=key))


_ballot, _binding, _blob, _roll, _slot_t = (Ballot.__table__, Binding.__table__, Blob.__table__,
                                            RollEntry.__table__, VoteSlot.__table__)
_consultation, _freeze = Consultation.__table__, AuditEntry.__table__.alias("freeze")
_session = AuthSession.__table__
_replay = _ballot.alias("replay")


# The hot path's statements are built once: building a statement costs more than running it.
_FIND_BLOB = (db.select(_blob.c.id).where(_blob.c.sha256 == param("sha256"), _blob.c.mimetype == param("mimetype"))
              .order_by(_blob.c.id).limit(1))


NOT_LOOKED_UP = object()


def store_image(raw, mimetype, digest=None, found=NOT_LOOKED_UP):
    """The id of the Blob holding an image: `found` (what the caller's own lookup with _FIND_BLOB
    gave: an id, or None for no such image yet), or the first stored with the same SHA-256 and
    mimetype, or a new one. One copy however many ballots
    and pledges carry the image; two requests racing may each store one, two correct copies. Verify
    hashes every blob a ballot or pledge points at against the SHA-256 that record carries, so a
    shared blob is checked for each of them."""
    digest = digest or hashlib.sha256(raw).hexdigest()
    execute = db.session.connection().execute
    if found is NOT_LOOKED_UP:
        found = execute(_FIND_BLOB, {"sha256": digest, "mimetype": mimetype}).scalar()
    if found is not None:
        return found
    return execute(_INSERT_BLOB, {"sha256": digest, "mimetype": mimetype, "data": raw}).inserted_primary_key[0]


# The roll-freeze entry as the text its keyed hash covers (audit.entry_hash: its fields joined by "|"),
# joined by the database: one column, not seven (a column costs a field descriptor per execution).
_BAR = db.literal_column("'|'", db.String)
_FREEZE_TEXT = (_freeze.c.chain + _BAR + db.cast(_freeze.c.seq, db.String) + _BAR + _freeze.c.kind + _BAR
                + _freeze.c.subject_type + _BAR + db.cast(_freeze.c.subject_id, db.String) + _BAR + _freeze.c.payload
                + _BAR + _freeze.c.prev_hash).label("freeze_text")


def _checks_statement(with_replay, by_token):
    """What sign() checks, in one statement: the consultation row under the shared lock (only the
    columns the checks read), its roll-freeze entry (the frozen deadline and options), the caller's
    binding to the flat (any relation), the roll entry, the signature image if stored already and,
    with_replay, a ballot already recorded under the Idempotency-Key.

    by_token: the caller is the session of a token (the sign route, under auth_deferred): the
    statement starts from the session row found by the token's hash (its user and expiry: no row, no
    session) and the binding is the session user's; the consultation's columns are NULL when there is
    no such consultation. Otherwise the caller is the user_id given and there is no row without the
    consultation."""
    columns = [_consultation.c.status, _consultation.c.options, _FREEZE_TEXT, _freeze.c.hash.label("freeze_hash"),
               _binding.c.id.label("binding_id"), _binding.c.relation, _binding.c.owner_id, _binding.c.level,
               _roll.c.person_key]
    if by_token:
        query = (db.select(_session.c.user_id.label("session_user_id"), _session.c.expires_at.label("session_expires_at"),
                           *columns)
                 .select_from(_session)
                 .outerjoin(_consultation, _consultation.c.id == param("consultation_id")))
        user_id = _session.c.user_id
    else:
        query = db.select(*columns).select_from(_consultation)
        user_id = param("user_id")
    query = (
        query
        .outerjoin(_freeze, db.and_(_freeze.c.chain == param("chain"), _freeze.c.seq == 1,
                                    _freeze.c.subject_id == _consultation.c.id))
        .outerjoin(_roll, db.and_(_roll.c.consultation_id == _consultation.c.id, _roll.c.flat_id == param("flat_id")))
        # coalesce(roll's flat, the flat asked for) is the flat asked for; written so, the join names
        # a table it hangs from (no cartesian product for SQLAlchemy's linter to warn of)
        .outerjoin(_binding, db.and_(_binding.c.user_id == user_id,
                                     _binding.c.flat_id == db.func.coalesce(_roll.c.flat_id, param("flat_id")),
                                     _binding.c.status == "approved"))
    )
    # The signature image stored already (one copy per content hash): its id, or NULL.
    query = query.add_columns(_FIND_BLOB.scalar_subquery().label("blob_id"))
    if with_replay:
        query = query.add_columns(_replay.c.id.label("replay_id")).outerjoin(
            _replay, db.and_(_replay.c.consultation_id == _consultation.c.id, _replay.c.idempotency_key == param("key")))
    if by_token:
        query = query.where(_session.c.token_hash == param("token_hash"))
    else:
        query = query.where(_consultation.c.id == param("consultation_id"))
    return query.limit(1).with_for_update(read=True)


_CHECKS = {(replay, by_token): _checks_statement(replay, by_token) for replay in (False, True) for by_token in (False, True)}
# The person's vote slot, locked, with the channel of the ballot that counts now and the head of
# the person's chain.
_SLOT = (
    db.select(_slot_t.c.id, _slot_t.c.ballot_id, _ballot.c.channel, _slot_t.c.seq, _slot_t.c.head)
    .select_from(_slot_t).outerjoin(_ballot, _ballot.c.id == _slot_t.c.ballot_id)
    .where(_slot_t.c.consultation_id == param("consultation_id"), _slot_t.c.person_key == param("person"))
    .with_for_update()
)
_INSERT_BLOB, _INSERT_BALLOT = _blob.insert(), _ballot.insert()
_SUPERSEDE = _ballot.update().where(_ballot.c.id == param("replaced_id")).values(status="superseded")
_ADVANCE_SLOT = _slot_t.update().where(_slot_t.c.id == param("slot_id")).values(
    ballot_id=param("new_ballot_id"), seq=param("new_seq"), head=param("new_head"))
# MySQL/MariaDB: the ballot that counted superseded and the slot moved in one multi-table UPDATE (the
# same two rows, already locked: the slot by _SLOT, the ballot by nobody else while the slot is held).
_SUPERSEDE_AND_ADVANCE = _slot_t.update().where(
    _slot_t.c.id == param("slot_id"), _ballot.c.id == param("replaced_id"),
    _ballot.c.consultation_id == _slot_t.c.consultation_id,  # true of it; a join for SQLAlchemy's linter
).values(
    {_slot_t.c.ballot_id: param("new_ballot_id"), _slot_t.c.seq: param("new_seq"), _slot_t.c.head: param("new_head"),
     _ballot.c.status: "superseded"})
_ROLL_PERSON = db.select(_roll.c.person_key).where(_roll.c.consultation_id == param("consultation_id"),
                                                    _roll.c.flat_id == param("flat_id"))


def _sign_checks(signer, consultation_id, flat_id, idempotency_key, digest, mimetype):
    """The checks' row (see _checks_statement), the signer's session settled from it when the signer is
    a PendingSession (SessionRefused, a 401, when the token opens no live session); None when there is
    no such consultation. Returns (the row, the signer's user id)."""
    # Imported here: app.services.auth brings the WeChat client, which a job's process does without.
    from app.services.auth import PendingSession

    _begin_immediate_on_sqlite()
    if isinstance(signer, PendingSession) and signer.settled:  # looked up already (SQLite)
        signer = signer.user_id
    by_token = isinstance(signer, PendingSession)
    row = db.session.execute(_CHECKS[bool(idempotency_key), by_token], {
        "consultation_id": consultation_id, "flat_id": flat_id, "key": idempotency_key,
        "chain": chain_name(consultation_id), "sha256": digest, "mimetype": mimetype,
        **({"token_hash": signer.token_hash} if by_token else {"user_id": signer}),
    }).first()
    if not by_token:
        return row, signer
    user_id = signer.settle(*(row[:2] if row is not None else (None, None)))
    return (row if row.status is not None else None), user_id


def _frozen(row):
    """The terms in the checks' row (the freeze entry's hashed text and hash), checked against the
    entry's keyed hash: terms_from checks the entry the text splits into, whose fields join back into
    the very text the database gave (audit.entry_hash joins them with "|" as _FREEZE_TEXT does)."""
    if row.status == "draft":
        raise ApiError(409, "not_open", "征询尚未开始")
    entry = None
    if row.freeze_text is not None:
        # chain|seq|kind|subject_type|subject_id|payload|prev_hash: the payload may hold "|", the rest not
        parts = row.freeze_text.split("|", 5)
        if len(parts) == 6:
            chain, seq, kind, subject_type, subject_id, rest = parts
            payload, _, prev_hash = rest.rpartition("|")
            entry = SimpleNamespace(chain=chain, seq=int(seq) if seq.isdigit() else seq, kind=kind,
                                    subject_type=subject_type, subject_id=subject_id, payload=payload,
                                    prev_hash=prev_hash, hash=row.freeze_hash)
    return terms_from(entry, row.options)


def sign(signer, consultation_id, flat_id, choice, signature, idempotency_key=None):
    """The online ballot of the signed-in owner (signer). The last online answer counts; a ballot
    already counted from the paper channel stands, and this one is kept as a conflict.

    The order of the checks tells a stranger nothing: a flat the caller is not bound to is a 404
    before any state or option is looked at. Only an owner binding verified against the person the
    frozen roll names for the flat signs: a previous owner, after the roster changed, does not.

    The hot path: one statement locks the consultation (shared) and reads the binding, roll entry
    and a replayed Idempotency-Key; one locks the person's vote slot, which holds the ballot counted
    now and the head of the person's audit chain; the rows are written with Core statements (no
    unit of work). Nothing here is locked by every ballot of the consultation.

    signer: the user id, or the request's auth.PendingSession (the sign route): its session is read
    by the checks' statement and settled before anything else is looked at; a token that opens no
    live session is SessionRefused (a 401) before the image is decoded or anything written.

    Returns the ballot as written (its columns as attributes, not an ORM object), or, for an
    Idempotency-Key already used with the same request, the Ballot recorded then."""
    raw = image_bytes(signature, SIGNATURE_MAX_BYTES, "签名")
    digest = hashlib.sha256(raw).hexdigest()
    # A PNG, or a 422 below: the stored copy looked up as image/png (the one mimetype that can pass;
    # a literal: PIL's Image.MIME is empty in a fresh worker until an image has been opened)
    row, user_id = _sign_checks(signer, consultation_id, flat_id, idempotency_key, digest, "image/png")
    mimetype = image_mimetype(raw, ("PNG",), "签名")  # a signed-in caller's image errors come first, as before
    proxy = None
    if row is not None and row.person_key is not None and not (
            row.binding_id is not None and row.relation == "owner" and speaks_for(row.owner_id, flat_id, row.person_key)):
        # Not the owner's own binding: a written proxy held for this flat's person (issue 15). Looked up
        # only here, so an owner's ballot costs no statement more.
        from app.services.proxies import covering

        proxy = covering(user_id, flat_id, row.person_key, consultation_id=consultation_id)
    if row is None or (row.binding_id is None and proxy is None):
        raise ApiError(404, "not_found", "没有找到该征询，或您尚未绑定该房屋")
    if idempotency_key and row.replay_id is not None:
        return _replayed(row.replay_id, user_id, flat_id, choice, digest)
    frozen = _frozen(row)
    _ensure_accepting(row, frozen)
    _check_choice(frozen, choice)
    if proxy is not None:
        from app.services.proxies import ensure_level as ensure_proxy_level

        ensure_proxy_level(proxy, required_level(frozen), flat_id)
        blob_id = store_image(raw, mimetype, digest, found=row.blob_id)
        return write_ballot(consultation_id, flat_id, row.person_key, "online", choice, user_id=user_id,
                            signature_id=blob_id, signature_sha256=digest, idempotency_key=idempotency_key,
                            proxy_id=proxy.id)
    if row.relation != "owner":
        raise ApiError(403, "not_owner", "只有业主本人（或其书面委托人）可以签署表决票；家庭成员和租户可以查看该户是否已表决")
    if row.person_key is None:
        raise ApiError(422, "not_on_roll", "该房屋不在本次征询范围内", {"flat_id": flat_id})
    if not speaks_for(row.owner_id, flat_id, row.person_key):
        raise ApiError(403, "not_roll_owner", "您绑定时核对的业主与本次征询名册登记的业主不一致，不能签署；"
                       "如房屋已过户，请新业主重新绑定，或联系网格员核实")
    ensure_level(frozen, row.level, flat_id)
    blob_id = store_image(raw, mimetype, digest, found=row.blob_id)
    return write_ballot(consultation_id, flat_id, row.person_key, "online", choice, user_id=user_id,
                        signature_id=blob_id, signature_sha256=digest, idempotency_key=idempotency_key)


def required_level(frozen):
    """The verification level the frozen rule asks of online signers (1 unless it says 2)."""
    return frozen.rule.get("required_level", 1)


def ensure_level(frozen, level, flat_id):
    """403 in Chinese, saying why and how to reach level 2, when the frozen rule asks more than `level`."""
    if (level or 1) < required_level(frozen):
        from app.services.bindings import level_required_message

        raise ApiError(403, "level_required", level_required_message(flat_id),
                       {"required_level": required_level(frozen), "level": level or 1})


def signing(user_id, consultation, flat_id):
    """(why the signed-in user may not sign online for this flat now, in words, or None when they may;
    the written proxy they would sign under, or None): the checks sign() makes, so the page says so
    before the resident signs (as plans' cannot_pledge) and names the owner a proxy signs for."""
    if consultation.status == "draft":
        return "征询尚未开始", None
    try:
        frozen = terms(consultation)
    except ApiError as exc:
        return exc.message, None
    person = db.session.execute(_ROLL_PERSON, {"consultation_id": consultation.id, "flat_id": flat_id}).scalar()
    if person is None:
        return "该房屋不在本次征询范围内", None
    binding = db.session.scalar(db.select(Binding).filter_by(user_id=user_id, flat_id=flat_id, status="approved"))
    proxy = None
    if binding is None or binding.relation != "owner" or not speaks_for(binding.owner_id, flat_id, person):
        from app.services.proxies import covering

        proxy = covering(user_id, flat_id, person, consultation_id=consultation.id)
    if not is_accepting(consultation, closes_at=frozen.closes_at):
        return "征询已截止，不能再表决", proxy
    if proxy is not None:
        from app.services.proxies import ensure_level as ensure_proxy_level

        try:
            ensure_proxy_level(proxy, required_level(frozen), flat_id)
        except ApiError as exc:
            return exc.message, proxy
        return None, proxy
    if binding is None:
        return "您尚未绑定该房屋", None
    if binding.relation != "owner":
        return "只有业主本人（或其书面委托人）可以签署表决票；家庭成员和租户可以查看该户是否已表决", None
    if not speaks_for(binding.owner_id, flat_id, person):
        return "您绑定时核对的业主与本次征询名册登记的业主不一致，不能签署；如房屋已过户，请新业主重新绑定，或联系网格员核实", None
    if binding.level < required_level(frozen):
        from app.services.bindings import level_required_message

        return level_required_message(flat_id), None
    return None, None


def _replayed(ballot_id, user_id, flat_id, choice, signature_sha256):
    """The ballot stored under an Idempotency-Key, when this is the same request again (Stripe's rule:
    a key names one request; the same key with another body is an error, not the old answer)."""
    replay = db.session.get(Ballot, ballot_id)
    if replay.user_id != user_id:
        raise ApiError(409, "idempotency_conflict", "该请求编号已被使用")
    if (replay.flat_id, replay.choice, replay.signature_sha256) != (flat_id, choice, signature_sha256):
        raise ApiError(422, "idempotency_mismatch", "该请求编号已用于另一份内容不同的表决，请勿重复使用",
                       {"Idempotency-Key": ["已用于另一份表决"]})
    return replay


def write_ballot(consultation_id, flat_id, person, channel, choice, *, user_id=None, entered_by_id=None,
                 signature_id=None, signature_sha256=None, idempotency_key=None, at=None, proxy_id=None):
    """The one way a ballot is written, for online ballots, paper ballots and bulk test data alike: the
    row with its content hash, its entry in the person's chain, and the person's vote slot moved to
    the entry (and to the ballot, when it counts). Locks the slot; the caller holds the consultation.

    An online ballot counts and supersedes the person's counted online ballot; it is a conflict when
    a paper ballot counts already. A paper ballot is unconfirmed until a second staff member confirms.
    Returns the ballot as written (its columns as attributes)."""
    execute = db.session.connection().execute  # Core statements: no ORM session layer
    slot_id, current_id, current_channel, seq, head = execute(
        _SLOT, {"consultation_id": consultation_id, "person": person}).one()
    if channel == "paper":
        status, counted, replaces = "unconfirmed", current_id, None
    elif current_id is not None and current_channel != "online":
        status, counted, replaces = "conflict", current_id, None
    else:
        status, replaces = "current", current_id
    values = dict(
        consultation_id=consultation_id, flat_id=flat_id, person_key=person, channel=channel, choice=choice,
        status=status, user_id=user_id, entered_by_id=entered_by_id, confirmed_by_id=None, confirmed_at=None,
        signature_id=signature_id, signature_sha256=signature_sha256, receipt=_receipt(),
        idempotency_key=idempotency_key, created_at=at or utcnow().replace(microsecond=0), proxy_id=proxy_id,
    )
    values["content_hash"] = audit.sha256(audit.canonical(content(SimpleNamespace(**values))))
    values["id"] = ballot_id = execute(_INSERT_BALLOT, values).inserted_primary_key[0]
    if status == "current":
        counted = ballot_id
    ballot = SimpleNamespace(**values)  # the row as written: no ORM object to track on the hot path
    kind = "ballot" if channel == "online" else "paper_entered"
    _record(slot_id, seq, head, counted, kind, ballot, replaces=replaces)
    return ballot


def _record(slot_id, seq, head, counted, kind, ballot, replaces=None, **extra):
    """The ballot's entry in its person's chain, after entry `seq` hashed `head`, and the slot moved
    to it, counting `counted`, the ballot it `replaces` (if any) superseded: the one payload shape
    verification replays."""
    entry = audit.link(slot_chain(ballot.consultation_id, slot_id), seq + 1, head, kind, "ballot", ballot.id, {
        "ballot": ballot.id, "content_hash": ballot.content_hash, "person": ballot.person_key,
        "status": ballot.status, "replaces": replaces, **extra,
    })
    audit.write(entry)
    connection = db.session.connection()
    advance = {"slot_id": slot_id, "new_ballot_id": counted, "new_seq": entry["seq"], "new_head": entry["hash"]}
    if replaces is None:
        connection.execute(_ADVANCE_SLOT, advance)
    elif connection.dialect.name == "mysql":
        connection.execute(_SUPERSEDE_AND_ADVANCE, {**advance, "replaced_id": replaces})
    else:  # SQLite updates one table at a time (and its statements cost no round trip)
        connection.execute(_SUPERSEDE, {"replaced_id": replaces})
        connection.execute(_ADVANCE_SLOT, advance)
    if replaces is not None:
        written(Ballot, replaces, status="superseded")
    written(VoteSlot, slot_id, ballot_id=counted, seq=entry["seq"], head=entry["hash"])
    current_app.logger.info("consultation %s %s ballot %s: %s", ballot.consultation_id, kind, ballot.id, ballot.status)


def _staff_for_flat(user, consultation, flat_id):
    from app.models import Flat

    flat = db.session.get(Flat, flat_id)
    if flat is None or not scopes.can(user, flat.unit.building, *PAPER_STAFF):
        raise ApiError(404, "not_found", "没有找到该房屋")
    return flat


def enter_paper(user, consultation_id, flat_id, choice, photo, idempotency_key=None):
    """A grid worker records a signed paper ballot with its photo; it waits for confirmation.
    An Idempotency-Key already used by this staff member for the same entry returns that ballot
    (a retry after a lost answer enters nothing twice); used for another entry, it is a 422."""
    raw, mimetype = decode_image(photo, ("JPEG", "PNG"), PHOTO_MAX_BYTES, "纸质票照片")
    consultation, frozen = _accepting(consultation_id)
    _staff_for_flat(user, consultation, flat_id)
    if idempotency_key:
        replay = by_idempotency_key(consultation.id, idempotency_key)
        if replay is not None:
            if replay.entered_by_id != user.id:
                raise ApiError(409, "idempotency_conflict", "该请求编号已被使用")
            if (replay.flat_id, replay.choice, replay.signature_sha256) != (flat_id, choice, hashlib.sha256(raw).hexdigest()):
                raise ApiError(422, "idempotency_mismatch", "该请求编号已用于另一张内容不同的纸质票，请勿重复使用",
                               {"Idempotency-Key": ["已用于另一张纸质票"]})
            return replay
    _check_choice(frozen, choice)
    person = db.session.execute(_ROLL_PERSON, {"consultation_id": consultation.id, "flat_id": flat_id}).scalar()
    if person is None:
        raise ApiError(422, "not_on_roll", "该房屋不在本次征询范围内", {"flat_id": flat_id})
    digest = hashlib.sha256(raw).hexdigest()
    blob_id = store_image(raw, mimetype, digest)
    store_thumbnail(digest, raw)  # issue 13: the evidence's thumbnail, made once, at paper entry (the photo is here)
    return write_ballot(consultation.id, flat_id, person, "paper", choice, entered_by_id=user.id,
                        signature_id=blob_id, signature_sha256=digest, idempotency_key=idempotency_key)


def confirm_paper(user, ballot_id):
    """A second staff member confirms; it counts unless the person already has a counted ballot."""
    ballot = db.session.get(Ballot, ballot_id)
    if ballot is None or ballot.channel != "paper":
        raise ApiError(404, "not_found", "没有找到该纸质票")
    consultation = db.session.get(Consultation, ballot.consultation_id)
    _staff_for_flat(user, consultation, ballot.flat_id)
    if ballot.entered_by_id == user.id:
        raise ApiError(403, "same_person", "录入人不能确认自己录入的纸质票，请由另一名工作人员确认")
    consultation, _ = _accepting(ballot.consultation_id)
    # populate_existing: the row as locked, not the copy loaded above (another confirm may have won since).
    ballot = db.session.scalar(db.select(Ballot).where(Ballot.id == ballot_id).with_for_update()
                               .execution_options(populate_existing=True))
    if ballot.status != "unconfirmed":
        raise ApiError(409, "already_confirmed", "该纸质票已确认过", {"status": ballot.status})
    slot_id, current_id, _, seq, head = db.session.connection().execute(
        _SLOT, {"consultation_id": consultation.id, "person": ballot.person_key}).one()
    ballot.confirmed_by_id = user.id
    ballot.confirmed_at = utcnow().replace(microsecond=0)
    ballot.status = "conflict" if current_id is not None else "current"
    db.session.flush()
    counted = current_id if current_id is not None else ballot.id
    _record(slot_id, seq, head, counted, "paper_confirmed", ballot, confirmed_by=user.id)
    return ballot


def paper_photo(user, ballot_id):
    """The photo of a paper ballot, for staff of its flat's scope (the second person confirms it
    beside the photo): (bytes, mimetype); 404 to everyone else."""
    ballot = db.session.get(Ballot, ballot_id)
    if ballot is None or ballot.channel != "paper" or ballot.signature_id is None:
        raise ApiError(404, "not_found", "没有找到该纸质票")
    consultation = db.session.get(Consultation, ballot.consultation_id)
    _staff_for_flat(user, consultation, ballot.flat_id)
    blob = db.session.get(Blob, ballot.signature_id)
    return blob.data, blob.mimetype


def paper_ballots(user, consultation):
    """Paper ballots on flats of the user's scope, oldest first, each with its room."""
    visible = visible_building_ids(user, consultation, PAPER_STAFF)
    rows = db.session.execute(
        db.select(Ballot, RollEntry.label, RollEntry.building_id)
        .join(RollEntry, (RollEntry.consultation_id == Ballot.consultation_id) & (RollEntry.flat_id == Ballot.flat_id))
        .where(Ballot.consultation_id == consultation.id, Ballot.channel == "paper").order_by(Ballot.id)
    )
    return [(ballot, label) for ballot, label, building_id in rows if building_id in visible]


def current_ballot(consultation, flat_id):
    """The ballot that counts for this flat's person now, or None."""
    entry = db.session.scalar(db.select(RollEntry).filter_by(consultation_id=consultation.id, flat_id=flat_id))
    if entry is None:
        return None
    slot = db.session.scalar(db.select(VoteSlot).filter_by(consultation_id=consultation.id, person_key=entry.person_key))
    return db.session.get(Ballot, slot.ballot_id) if slot and slot.ballot_id else None


def receipt_view(code):
    """What was recorded under a receipt, and when: no names, nothing else of the flat."""
    ballot = db.session.scalar(db.select(Ballot).filter_by(receipt=code.upper())) if code and len(code) <= 16 else None
    if ballot is None:
        raise ApiError(404, "not_found", "没有找到该回执，请核对回执码")
    consultation = db.session.get(Consultation, ballot.consultation_id)
    labels = {o["key"]: o["label"] for o in consultation.options}
    entry = db.session.scalar(db.select(RollEntry).filter_by(consultation_id=consultation.id, flat_id=ballot.flat_id))
    return {
        "receipt": ballot.receipt,
        "consultation": {"id": consultation.id, "title": consultation.title, "status": consultation.status},
        "room": entry.label if entry else None,
        "channel": ballot.channel,
        "channel_name": "线上签署" if ballot.channel == "online" else "纸质表决票",
        "choice": ballot.choice,
        "choice_label": labels.get(ballot.choice, ballot.choice),
        "recorded_at": ballot.created_at.isoformat() + "Z",
        "confirmed_at": ballot.confirmed_at.isoformat() + "Z" if ballot.confirmed_at else None,
        "status": ballot.status,
        "status_name": STATUS_NAMES.get(ballot.status, ballot.status),
        "counted": ballot.status == "current",
        "ballot_hash": ballot.content_hash,
    }
