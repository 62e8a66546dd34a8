"""The console's pages. Thin, as the API's handlers are: find the user, call a service, render.
Every list and every object goes through the same scope checks the API uses (app/services)."""
import base64
import io
import os
import re
import secrets
import tempfile
from collections import OrderedDict
from functools import wraps

import qrcode
from apiflask.exceptions import HTTPError
from flask import (Response, abort, current_app, g, redirect, render_template, request, session, stream_with_context,
                   url_for)
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm import contains_eager
from marshmallow import ValidationError

from app.api.views import binding_view
from app.console import bp, csrf
from app.errors import ApiError
from app.extensions import db
from app.models import Building, Community, Compound, Flat, Street, Unit, User
from app.models.accounts import ROLES
from app.models.consultations import KINDS, STATUSES
from app.services import auth as auth_service
from app.services import ballots as ballot_service
from app.services import bindings as binding_service
from app.services import console_tickets as tickets
from app.services import consultations as consultation_service
from app.services import evidence, notices, plans, projects, qrcodes, scopes
from app.services import stats as stats_service
from app.services.evidence import beijing, rule_lines
from config import DEV_WECHAT_APPID

STAFF = tuple(ROLES)
ROSTER_ROLES = ("community_staff", "street_officer", "district_officer", "admin")  # who imports a compound's roster
PUBLIC = {"console.login", "console.login_poll", "console.dev_login", "console.static"}
DEV_NAME = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


# ---------------------------------------------------------------- who is asking


@bp.before_request
def protect():
    """CSRF on every form; the session's user; sign-in required everywhere but the sign-in page."""
    # Flask-WTF caches the token in g; where an app context outlives requests (the tests' app fixture)
    # that g is shared, and one client's token would be handed to another's page.
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()
    g.user = None
    token = session.get("token")
    user_id = auth_service.user_id_for_token(token) if token else None
    if user_id is not None:
        g.user = db.session.get(User, user_id)
    if request.endpoint in PUBLIC:
        return None
    if g.user is None:
        session.pop("token", None)
        return redirect(url_for("console.login"))
    if not scopes.roles_of(g.user):
        return render_template("console/error.html", status=403,
                               message="您的微信账号没有工作人员角色，请联系社区为您开通"), 403
    return None


@bp.after_request
def no_store(response):
    """Pages hold residents' (masked) data: not kept by the browser's or a proxy's cache."""
    if request.endpoint != "console.static":
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault("X-Frame-Options", "DENY")
    return response


@bp.errorhandler(HTTPError)
def api_error(exc):
    """A service's refusal (ApiError) as a page in the console's frame, with its Chinese message."""
    return render_template("console/error.html", status=exc.status_code, message=exc.message), exc.status_code


@bp.errorhandler(CSRFError)
def csrf_error(exc):
    return render_template("console/error.html", status=400,
                           message="页面已过期或表单来源无法验证（缺少安全令牌），请刷新页面后重试"), 400


@bp.errorhandler(404)
def not_found(exc):
    return render_template("console/error.html", status=404, message="没有找到该页面或对象"), 404


@bp.app_template_filter("beijing")
def _beijing(value):
    return beijing(value)[:16] if value else "—"


@bp.app_template_filter("iso_beijing")
def _iso_beijing(text):
    """An API view's "2026-11-28T07:11:00Z" as Beijing wall time to the minute."""
    from datetime import datetime

    return _beijing(datetime.fromisoformat(text.rstrip("Z"))) if text else "—"


@bp.app_template_filter("place")
def _place(name, compound):
    from app.console.forms import place

    return place(name, compound)


@bp.app_template_filter("yuan")
def _yuan(fen):
    return plans.yuan(fen or 0)


@bp.context_processor
def _globals():
    user = getattr(g, "user", None)
    return {"me": user, "my_roles": [scopes.describe(r) for r in user.roles] if user else [],
            "dev_logins": dev_logins_allowed(), "can_roster": bool(user and scopes.roles_of(user, *ROSTER_ROLES)),
            "can_create": bool(user and scopes.roles_of(user, *consultation_service.CREATORS)),
            "can_review": bool(user and scopes.roles_of(user, *binding_service.REVIEWERS)),
            "can_plans": bool(user and scopes.roles_of(user, *plans.PLAN_WATCHERS)),
            "can_projects": bool(user and scopes.roles_of(user, *projects.READERS)),
            "can_surveys": bool(user and scopes.roles_of(user, *consultation_service.WATCHERS)),
            "can_notices": bool(user and scopes.roles_of(user, *notices.WRITERS))}


def dev_logins_allowed():
    """dev-<name> sign-in wherever the API's dev-<name> logins work: the WeChat emulator's AppID,
    which production refuses (config.ProductionConfig.problems)."""
    return current_app.config.get("WECHAT_APPID") == DEV_WECHAT_APPID


def committed(view):
    """Commit what the service flushed when the action succeeded; roll back otherwise."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        try:
            answer = view(*args, **kwargs)
        except Exception:
            db.session.rollback()
            raise
        db.session.commit()
        return answer
    return wrapper


# ---------------------------------------------------------------- sign-in


def _client():
    agent = request.user_agent.string or ""
    browser = next((name for name in ("Edg", "Chrome", "Firefox", "Safari") if name in agent), "浏览器")
    return f"{browser.replace('Edg', 'Edge')} · {request.remote_addr or '未知地址'}"


def _qr_data_uri(text):
    image = qrcode.make(text, box_size=8, border=2)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


@bp.get("/login")
@committed
def login():
    """The QR code of a new one-time ticket; the page polls it until a phone confirms it."""
    if g.user is not None and scopes.roles_of(g.user):
        return redirect(url_for("console.dashboard"))
    ticket = session.get("ticket")  # a reload keeps its QR code while that one still waits
    row = tickets.find(ticket)
    if row is None or tickets.state(row) != "waiting":
        ticket, row = tickets.issue(_client())
        session["ticket"] = ticket
    return render_template("console/login.html", qr=_qr_data_uri(tickets.QR_PREFIX + ticket),
                           ticket=ticket, expires_at=row.expires_at, error=request.args.get("error"))


@bp.get("/login/poll")
@committed
def login_poll():
    """htmx asks every 2 s: still waiting, expired, or signed in (then the page goes to the dashboard)."""
    ticket = session.get("ticket")
    row = tickets.find(ticket)
    if row is None:
        return render_template("console/_ticket.html", state="expired")
    claimed = tickets.claim(ticket)
    if claimed is None:
        return render_template("console/_ticket.html", state=tickets.state(row))
    user, token = claimed
    _sign_in(token)
    response = Response("")
    response.headers["HX-Redirect"] = url_for("console.dashboard")
    return response


def _sign_in(token):
    session.clear()  # a new session: nothing of the signed-out page carries over
    session.permanent = True
    session["token"] = token


@bp.post("/dev-login")
@committed
def dev_login():
    """Development only: sign in as dev-<name> through the WeChat emulator, as the API's dev logins do."""
    if not dev_logins_allowed():
        abort(404)
    name = (request.form.get("name") or "").strip()
    if not DEV_NAME.match(name):
        return redirect(url_for("console.login", error="名字只能由字母、数字、- 和 _ 组成（1 到 32 个字符）"))
    user, token, _ = auth_service.login(f"dev-{name}.{secrets.token_hex(4)}")
    _sign_in(token)
    return redirect(url_for("console.dashboard"))


@bp.post("/logout")
@committed
def logout():
    auth_service.logout(g.user.id, session.get("token"))
    session.clear()
    return redirect(url_for("console.login"))


# ---------------------------------------------------------------- places in scope


def visible_buildings(user, roles=STAFF):
    """The buildings of the user's scope (a grid worker: the grid's), with their compounds."""
    query = scopes.join_place_tree(db.select(Building)).where(scopes.buildings_condition(user, *roles))
    return db.session.scalars(query.order_by(Building.compound_id, Building.id)).all()


def _flat_counts(building_ids):
    if not building_ids:
        return {}
    rows = db.session.execute(
        db.select(Unit.building_id, db.func.count(Flat.id)).join(Flat, Flat.unit_id == Unit.id)
        .where(Unit.building_id.in_(building_ids)).group_by(Unit.building_id))
    return dict(rows.all())


def compounds_of(buildings):
    """{compound: [buildings]} in order."""
    grouped = OrderedDict()
    for b in buildings:
        grouped.setdefault(b.compound, []).append(b)
    return grouped


def roster_compounds(user):
    """Compounds whose roster the user may import: wholly inside a community, street or district scope."""
    roles = scopes.roles_of(user, *ROSTER_ROLES)
    if not roles:
        return []
    columns = {"community": Compound.community_id, "street": Community.street_id, "district": Street.district_id}
    terms = [db.true() if r.role == "admin" else columns[r.scope_type] == r.scope_id
             for r in roles if r.role == "admin" or (r.scope_type in columns and r.scope_id is not None)]
    if not terms:
        return []
    return db.session.scalars(  # chosen by the database, as scopes.covers_compound would choose them
        db.select(Compound).join(Community, Compound.community_id == Community.id)
        .join(Street, Community.street_id == Street.id).where(db.or_(*terms)).order_by(Compound.id)
        .options(contains_eager(Compound.community))).all()


# ---------------------------------------------------------------- dashboard


@bp.get("/")
def dashboard():
    user = g.user
    buildings = visible_buildings(user)
    counts = _flat_counts([b.id for b in buildings])
    compounds = [{"compound": c, "buildings": len(bs), "flats": sum(counts.get(b.id, 0) for b in bs)}
                 for c, bs in compounds_of(buildings).items()]
    open_consultations = []
    for c in consultation_service.staff_consultations(user):
        if c.status == "open":
            open_consultations.append({"c": c, "tally": consultation_service.tally_for(c)})
    open_plans = []
    for p in plans.staff_plans(user):
        if p.status == "open":
            open_plans.append({"p": p, "tally": plans.tally_for(p)})
    figures = []
    for role in scopes.roles_of(user, "street_officer", "district_officer", "community_staff"):
        result = stats_service.stats(user, role.scope_type, role.scope_id)
        figures.append(result)
    return render_template("console/dashboard.html", compounds=compounds, consultations=open_consultations,
                           plans=open_plans, figures=figures, work=_work(user))


def _work(user):
    """What waits in the other features: projects under way, open surveys, undelivered messages."""
    from app.services import outbox, surveys

    work = {}
    if scopes.roles_of(user, *projects.READERS):
        work["projects"] = sum(1 for p in projects.projects_for(user) if p.phase != "done")
    if scopes.roles_of(user, *consultation_service.WATCHERS):
        work["surveys"] = sum(1 for s in surveys.staff_surveys(user) if s.status == "open")
    if scopes.roles_of(user, *outbox.READERS):
        work["failed"] = len(outbox.visible(user, "failed", 1000))
        work["notices"] = len(notices.staff_notices(user))
    return work


# ---------------------------------------------------------------- roster


@bp.route("/roster", methods=["GET", "POST"])
@committed
def roster():
    """Upload a sheet: 检查 checks it and shows every error by row and column, writing nothing;
    导入 writes all rows or none (app/services/roster.py). Either runs as a job in a process of its own
    (app/services/console_jobs.py): the page goes to the job, which it polls until the outcome."""
    from app.services import console_jobs
    from app.services.roster import COLUMNS

    choices = roster_compounds(g.user)
    if not choices:
        raise ApiError(403, "forbidden", "只有社区工作人员、街道或区住建干部可以导入名册")
    problem = None
    if request.method == "POST":
        compound = next((c for c in choices if str(c.id) == request.form.get("compound_id")), None)
        upload = request.files.get("sheet")
        if compound is None:
            raise ApiError(404, "not_found", "没有找到该小区，或它不在您的管辖范围内")
        if upload is None or not upload.filename:
            problem = "请选择名册文件（.xlsx 或 .csv）"
        else:
            try:
                job = console_jobs.roster(g.user, compound, upload.filename, upload.read(),
                                          dry_run=request.form.get("action") != "import")
            except ApiError as exc:
                if exc.extra_data.get("code") != "job_busy":
                    raise
                problem = exc.message
            else:
                return redirect(url_for("console.job", job_id=job.id))
    return render_template("console/roster.html", compounds=choices, problem=problem,
                           columns=[v[0] + ("" if v[2] else "（可选）") for v in COLUMNS.values()])


@bp.get("/jobs/<int:job_id>")
def job(job_id):
    """A job of the console (a roster checked or imported, posters drawn): running (the page polls
    it) or its outcome."""
    from app.services import console_jobs

    found = console_jobs.get(g.user, job_id)
    return render_template("console/job.html", job=console_jobs.view(found),
                           compound=db.session.get(Compound, found.compound_id))


@bp.get("/jobs/<int:job_id>/state")
def job_state(job_id):
    """What htmx asks every second: the job's state, and its outcome once it ended."""
    from app.services import console_jobs

    found = console_jobs.get(g.user, job_id)
    return render_template("console/_job.html", job=console_jobs.view(found),
                           compound=db.session.get(Compound, found.compound_id))


@bp.get("/jobs/<int:job_id>/file")
def job_file(job_id):
    from app.services import console_jobs

    found = console_jobs.get(g.user, job_id)
    if found.status != "done" or found.kind != "posters":
        abort(404)
    return _file(found.data, "application/pdf", found.filename)


# ---------------------------------------------------------------- buildings, codes and posters


@bp.get("/buildings")
def buildings():
    user = g.user
    grouped = compounds_of(visible_buildings(user))
    counts = _flat_counts([b.id for bs in grouped.values() for b in bs])
    whole = {c.id for c in grouped if any(scopes.covers_compound(r, c) for r in scopes.roles_of(user))}
    return render_template("console/buildings.html", grouped=grouped, counts=counts, whole=whole)


def _building(building_id):
    building = db.session.get(Building, building_id)
    if building is None or not scopes.can(g.user, building, *STAFF):
        raise ApiError(404, "not_found", "没有找到这栋楼")
    return building


def _file(data, mimetype, filename, inline=False):
    from urllib.parse import quote

    disposition = "inline" if inline else "attachment"
    return Response(data, mimetype=mimetype, headers={
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(filename)}", "Cache-Control": "no-store"})


@bp.get("/buildings/<int:building_id>/qrcode.png")
@committed
def building_qrcode(building_id):
    building = _building(building_id)
    return _file(qrcodes.code_png(building), "image/png", f"{building.compound.name}-{building.name}.png", inline=True)


@bp.get("/buildings/<int:building_id>/poster.pdf")
@committed
def building_poster(building_id):
    from app.services.posters import posters_pdf

    building = _building(building_id)
    compound = building.compound
    data = posters_pdf([(compound.name, building.name, qrcodes.code_png(building))],
                       community_name=compound.community.name)
    return _file(data, "application/pdf", f"{compound.name}-{building.name}-海报.pdf")


@bp.post("/compounds/<int:compound_id>/posters")
def compound_posters(compound_id):
    """Every building of the compound the user may see, a page each: drawn by a job (a WeChat code
    fetched per building), which the page polls until the PDF can be downloaded."""
    from app.services import console_jobs

    mine = [b for b in visible_buildings(g.user) if b.compound_id == compound_id]
    if not mine:
        raise ApiError(404, "not_found", "没有找到该小区，或它不在您的管辖范围内")
    try:
        found = console_jobs.posters(g.user, mine[0].compound, mine)
    except ApiError as exc:
        if exc.extra_data.get("code") != "job_busy":
            raise
        try:  # the user's own job still running: its page; someone else's: the 409 in words
            found = console_jobs.get(g.user, exc.detail["job_id"])
        except ApiError:
            raise exc from None
    return redirect(url_for("console.job", job_id=found.id))


# ---------------------------------------------------------------- consultations


def _consultation(consultation_id, roles=consultation_service.WATCHERS):
    c = consultation_service.get(consultation_id)
    if not consultation_service.visible_to_staff(g.user, c, roles):
        raise ApiError(404, "not_found", "没有找到该征询")
    return c


def scope_text(c):
    building, compound = consultation_service.scope_building(c.scope_type, c.scope_id)
    if c.scope_type == "compound":
        return compound.name
    if c.scope_type == "building":
        return f"{compound.name} {building.name}"
    unit = db.session.get(Unit, c.scope_id)
    return f"{compound.name} {building.name}{unit.name if unit else ''}"


@bp.get("/consultations")
def consultations():
    items = consultation_service.staff_consultations(g.user)
    return render_template("console/consultations.html", items=items, scope_text=scope_text, statuses=STATUSES)


def _creatable_scopes(user):
    """(value, label) of every compound, building and unit the user may consult, and their flats."""
    options, flats = [], []
    for compound, bs in compounds_of(visible_buildings(user, consultation_service.CREATORS)).items():
        if consultation_service.can_manage(user, ("compound", compound.id)):
            options.append((f"compound:{compound.id}", f"{compound.name}（整个小区）"))
        for b in bs:
            options.append((f"building:{b.id}", f"{compound.name} {b.name}"))
            for u in b.units:
                options.append((f"unit:{u.id}", f"{compound.name} {b.name}{u.name}"))
                flats.extend((f.id, f"{b.name}{u.name}{f.room}") for f in u.flats)
    return options, flats


THRESHOLD_ROWS = 3


@bp.route("/consultations/new", methods=["GET", "POST"])
def consultation_new():
    """The rule builder: a statutory preset, local thresholds, required consenters, the veto. The
    form is turned into the API's own body and checked by its schema (ConsultationIn)."""
    from app.api.schemas import ConsultationIn

    if not scopes.roles_of(g.user, *consultation_service.CREATORS):
        raise ApiError(403, "forbidden", f"只有{consultation_service.MANAGERS_TEXT}可以发起征询")
    options, flats = _creatable_scopes(g.user)
    errors, form = {}, request.form
    if request.method == "POST":
        body = _consultation_body(form)
        try:
            data = ConsultationIn().load(body)
        except ValidationError as exc:
            errors = exc.messages
        else:
            data["closes_at"] = consultation_service.as_utc_naive(data["closes_at"])
            data["opens_at"] = consultation_service.as_utc_naive(data["opens_at"])
            try:
                c = consultation_service.create(g.user, data)
            except ApiError as exc:
                db.session.rollback()
                errors = {"表单": [exc.message] + [f"{k}：{v}" for k, v in (exc.detail or {}).items()]}
            else:
                db.session.commit()
                return redirect(url_for("console.consultation", consultation_id=c.id))
    return render_template("console/consultation_new.html", scope_options=options, flats=flats, kinds=KINDS,
                           errors=errors, form=form, rows=range(THRESHOLD_ROWS),
                           required=set(form.getlist("required")))


def _consultation_body(form):
    scope_type, _, scope_id = (form.get("scope") or "").partition(":")
    thresholds = []
    for i in range(THRESHOLD_ROWS):
        share = (form.get(f"t{i}_share") or "").strip()
        if share:
            thresholds.append({"what": form.get(f"t{i}_what", "agree"), "measure": form.get(f"t{i}_measure", "flats"),
                               "base": form.get(f"t{i}_base", "all"), "share": share,
                               "strict": form.get(f"t{i}_strict") == "on"})
    closes = (form.get("closes_at") or "").strip()
    return {
        "scope": {"type": scope_type, "id": int(scope_id) if scope_id.isdigit() else 0},
        "title": (form.get("title") or "").strip(),
        "body": form.get("body") or "",
        "kind": form.get("kind") or "other",
        "rule": {"preset": form.get("preset") or "major", "thresholds": thresholds,
                 "required_consent_flat_ids": [int(i) for i in form.getlist("required") if i.isdigit()],
                 "objection_veto": form.get("objection_veto") == "on",
                 "required_level": 2 if form.get("required_level") == "2" else 1},
        # datetime-local is Beijing wall time
        "closes_at": (closes + (":00" if len(closes) == 16 else "") + "+08:00") if closes else "",
    }


@bp.get("/consultations/<int:consultation_id>")
def consultation(consultation_id):
    user = g.user
    c = _consultation(consultation_id)
    tally = consultation_service.tally_for(c) if c.status != "draft" else None
    if tally is not None:
        # A grid worker's breakdown: the buildings of the grid only (the API's pending list does the same).
        visible = consultation_service.visible_building_ids(user, c)
        tally = {**tally, "buildings": [b for b in tally["buildings"] if b["id"] in visible]}
    return render_template("console/consultation.html", c=c, tally=tally, scope_text=scope_text(c),
                           rules=rule_lines(c, rule=tally["rule"] if tally else None),
                           can_manage=consultation_service.can_manage(user, c),
                           can_export=consultation_service.visible_to_staff(user, c, consultation_service.CREATORS),
                           can_paper=consultation_service.visible_to_staff(user, c, ballot_service.PAPER_STAFF),
                           statuses=STATUSES, kinds=KINDS)


@bp.post("/consultations/<int:consultation_id>/<any(open, close, publish):action>")
@committed
def consultation_action(consultation_id, action):
    _consultation(consultation_id)
    if action == "open":
        consultation_service.open_(g.user, consultation_id)
    elif action == "close":
        consultation_service.close(consultation_id, user=g.user)
    else:
        consultation_service.publish(g.user, consultation_id)
    return redirect(url_for("console.consultation", consultation_id=consultation_id))


@bp.get("/consultations/<int:consultation_id>/pending")
def consultation_pending(consultation_id):
    c = _consultation(consultation_id)
    if c.status == "draft":
        raise ApiError(409, "not_open", "征询尚未开始")
    return render_template("console/pending.html", c=c, rows=consultation_service.pending_flats(g.user, c),
                           scope_text=scope_text(c))


@bp.get("/consultations/<int:consultation_id>/evidence.<any(xlsx, pdf):ext>")
def consultation_evidence(consultation_id, ext):
    """The signature sheet, as the API's evidence.xlsx / .pdf (app/services/exports.py): a file stored
    for a closed consultation, a small one built now, or a large one's export job, whose page polls
    it until the file can be downloaded. Staff who may create consultations there."""
    from app.services import exports

    c = _consultation(consultation_id, consultation_service.CREATORS)
    if c.status == "draft":
        raise ApiError(409, "not_open", "征询尚未开始，还没有表决证据")
    what, job = exports.request_export(g.user, c, ext)
    if what == "job":
        return redirect(url_for("console.export_job", job_id=job.id))
    current_app.logger.info("evidence.%s of consultation %s exported by user %s from the console", ext, c.id, g.user.id)
    headers = {"Content-Disposition": evidence.filename(c, ext), "Cache-Control": "no-store"}
    if what == "file":
        return Response(stream_with_context(exports.chunks(job.id)), mimetype=exports.FORMATS[ext][0], headers=headers)
    return Response(exports.built_now_chunks(c, ext), mimetype=exports.FORMATS[ext][0], headers=headers)


def _export_job(job_id):
    from app.services import exports

    job = exports.get(job_id)
    if job is None:
        abort(404)
    c = _consultation(job.consultation_id, consultation_service.CREATORS)  # 404 outside the scope
    return job, c


@bp.get("/export-jobs/<int:job_id>")
def export_job(job_id):
    """A large evidence export being built: progress polled every second, then the download."""
    from app.services import exports

    job, c = _export_job(job_id)
    template = "console/_export_job.html" if request.headers.get("HX-Request") else "console/export_job.html"
    return render_template(template, job=exports.view(job), c=c)


@bp.get("/export-jobs/<int:job_id>/file")
def export_job_file(job_id):
    from app.services import exports

    job, c = _export_job(job_id)
    if job.status != "done":
        abort(404)
    return Response(stream_with_context(exports.chunks(job.id)), mimetype=exports.FORMATS[job.format][0],
                    headers={"Content-Disposition": evidence.filename(c, job.format), "Cache-Control": "no-store"})


@bp.get("/consultations/<int:consultation_id>/paper")
def consultation_paper(consultation_id):
    c = _consultation(consultation_id, ballot_service.PAPER_STAFF)
    rows = ballot_service.paper_ballots(g.user, c)
    labels = {o["key"]: o["label"] for o in c.options}
    return render_template("console/paper.html", c=c, rows=rows, labels=labels,
                           status_names=ballot_service.STATUS_NAMES, scope_text=scope_text(c))


@bp.get("/paper-ballots/<int:ballot_id>/photo")
def paper_photo(ballot_id):
    data, mimetype = ballot_service.paper_photo(g.user, ballot_id)
    return Response(data, mimetype=mimetype, headers={"Cache-Control": "private, no-store"})


@bp.post("/paper-ballots/<int:ballot_id>/confirm")
@committed
def paper_confirm(ballot_id):
    ballot = ballot_service.confirm_paper(g.user, ballot_id)
    return redirect(url_for("console.consultation_paper", consultation_id=ballot.consultation_id))


# ---------------------------------------------------------------- bindings


@bp.get("/bindings")
def bindings():
    if not scopes.roles_of(g.user, *binding_service.REVIEWERS):
        raise ApiError(403, "forbidden", "只有网格员和社区工作人员可以审核绑定")
    pending = [binding_view(b, for_staff=True) for b in binding_service.pending_for(g.user, "pending")]
    locked = binding_service.locked_flats(g.user)
    # Owners bound by the roster match only (level 1), for the in-person check (issue 15).
    in_person = [binding_view(b, for_staff=True) for b in binding_service.pending_for(g.user, "approved")
                 if (b.level or 1) < 2 and b.relation == "owner"][:300]
    can_confirm = bool(scopes.roles_of(g.user, *binding_service.LEVEL_CONFIRMERS))
    return render_template("console/bindings.html", pending=pending, locked=locked, in_person=in_person,
                           can_confirm=can_confirm)


@bp.post("/bindings/<int:binding_id>/confirm-in-person")
@committed
def binding_in_person(binding_id):
    """The grid worker met the owner and checked who they are: level 2 (who and when are recorded)."""
    binding_service.confirm_in_person(g.user, binding_id)
    return redirect(url_for("console.bindings"))


# ---------------------------------------------------------------- written proxies (issue 15)


@bp.get("/proxies")
def proxies_page():
    """Written proxies of the flats of the user's scope: paper ones waiting for a second staff
    member's confirmation beside their photos first, then the others."""
    from app.api.proxies import proxy_views
    from app.models import Proxy
    from app.services.proxies import PAPER_STAFF

    if not scopes.roles_of(g.user, *PAPER_STAFF):
        raise ApiError(403, "forbidden", "只有网格员和社区工作人员可以处理纸质委托书")
    found = db.session.scalars(scopes.join_place_tree(
        db.select(Proxy).join(Flat, Proxy.flat_id == Flat.id).join(Unit, Flat.unit_id == Unit.id)
        .join(Building, Unit.building_id == Building.id))
        .where(scopes.buildings_condition(g.user, *PAPER_STAFF))
        .order_by((Proxy.status == "unconfirmed").desc(), Proxy.id.desc()).limit(300)).all()
    entered_by = {p.id: p.entered_by_id for p in found}
    return render_template("console/proxies.html", proxies=proxy_views(found, g.user), entered_by=entered_by)


@bp.get("/proxies/<int:proxy_id>/photo")
def proxy_photo(proxy_id):
    from app.services import proxies as proxy_service

    data, mimetype = proxy_service.image(g.user, proxy_id)
    return _file(data, mimetype, f"proxy-{proxy_id}", inline=True)


@bp.post("/proxies/<int:proxy_id>/confirm")
@committed
def proxy_confirm(proxy_id):
    from app.services import proxies as proxy_service

    proxy_service.confirm(g.user, proxy_id)
    return redirect(url_for("console.proxies_page"))


@bp.post("/bindings/<int:binding_id>/<any(approve, reject):action>")
@committed
def binding_review(binding_id, action):
    reason = (request.form.get("reason") or "").strip() or None
    if action == "reject" and not reason:
        raise ApiError(422, "validation_error", "驳回时请填写原因")
    binding_service.review(g.user, binding_id, approve=action == "approve", reason=reason)
    return redirect(url_for("console.bindings"))


@bp.post("/flats/<int:flat_id>/unlock")
@committed
def flat_unlock(flat_id):
    reason = (request.form.get("reason") or "").strip()
    if not reason:
        raise ApiError(422, "validation_error", "解锁时请填写核实情况")
    binding_service.unlock_flat(g.user, flat_id, reason)
    return redirect(url_for("console.bindings"))

