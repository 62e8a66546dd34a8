#!/usr/bin/env python
"""Benchmark: the evaluation figures (app.services.stats.stats) of a district of --compounds compounds
with --flats-per-compound flats each (default 1,000 x 300 = 300,000 flats), with their projects,
consultations with frozen rolls and ballots, contribution plans with pledges, and needs and
satisfaction surveys with answers.

Goals (issue 12): a district roll-up under 2 s on MariaDB, and memory that does not grow with the
number of flats or answers (everything is aggregated in SQL; Python holds one row per compound).

The data is written with bulk inserts (explicit ids, chunks of --chunk rows), in realistic shares:

- places: --streets streets of --communities communities each, the compounds spread over them;
  each compound of 5 buildings x 2 units x floors x 3 flats, areas with two decimals that differ;
  persons: every 50th flat belongs to a buyer of several flats of the compound, every 97th is
  developer-held (one person together), the others one person each;
- projects: 70% of the compounds have one, in the phases survey 10%, plan 10%, funding 10%, works
  25%, acceptance 10%, evaluation 10%, done 25%;
- consultations: a compound with a project has its inclusion consultation (申请纳入改造计划, published)
  and, from the plan phase on, its plan consultation (open in plan, published later), each over the
  whole compound with a roll of every flat and a vote slot per person; one compound in four also has
  an elevator consultation over one unit (open); 60-90% of the persons answered (a ballot that
  counts), and in one roll in ten a few paper ballots still wait for their confirmation; a closed
  consultation has its stored result (the tally consultations.close() writes, with the per-building
  breakdown);
- contribution plans: from the funding phase on, over the whole compound (open in funding, funded
  later, with the outcome plans.close() stores), 55-90% of the flats pledging;
- surveys: a needs survey for every project (open in the survey phase, closed later; 35-65% of the
  flats answer, one in ten of them twice, the first answer no longer counted) and a satisfaction
  survey from the evaluation phase on (open in evaluation, closed when done; 40-80% of the flats
  answer five 1-5 rating questions, mostly 4 and 5, and a comment).

Then the roll-up of the district, stats(admin, "district", id): once to warm up, then --runs times,
each on a fresh session, printing the median and the max, its statements, the resident memory of the
process during the runs (sampled every 10 ms) and the peak of Python's own allocations (tracemalloc,
one more run). To show that memory does not grow with flats or answers, the same roll-up is measured
first over the district before any flat, roll, ballot, pledge or answer exists (the same compounds,
projects, consultations, plans and surveys), then with all of them: the two peaks should be alike.

Usage: .venv/bin/python scripts/bench_stats.py [--compounds 1000] [--flats-per-compound 300]
       [--database-url URL] [--runs 5] [--keep]
The database is a fresh temporary SQLite file unless --database-url is given. A MySQL/MariaDB
database named in the URL is dropped and created again, and dropped at the end unless --keep, e.g.
--database-url 'mysql+pymysql://root@127.0.0.1:3306/bench_stats?charset=utf8mb4'.
"""
import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

GOAL_S = 2.0
BUILDINGS, UNITS, PER_FLOOR = 5, 2, 3
RATING_KEYS = ("quality", "site", "environment", "management", "overall")
PHASE_SHARES = (("survey", 10), ("plan", 10), ("funding", 10), ("works", 25), ("acceptance", 10),
                ("evaluation", 10), ("done", 25))


def verdict(ok):
    return "met" if ok else "NOT met"


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class PeakRSS:
    """The highest resident memory seen while the block runs (sampled every 10 ms)."""

    def __enter__(self):
        self.start = self.peak = rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self):
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, rss_mb())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb())


class Statements:
    """Counts the statements sent through the engine."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.on, self.count = False, 0
        event.listen(engine, "before_cursor_execute", self._before)

    def _before(self, *args):
        if self.on:
            self.count += 1

    @contextmanager
    def counting(self):
        self.count, self.on = 0, True
        try:
            yield self
        finally:
            self.on = False


# ---------------------------------------------------------------- the database


def prepare_database(url):
    """A fresh MySQL/MariaDB database for the URL (dropped if it exists); SQLite needs none."""
    from sqlalchemy import create_engine, make_url, text

    u = make_url(url)
    if u.get_backend_name() not in ("mysql", "mariadb"):
        return None
    server = create_engine(u.set(database=""))
    with server.begin() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{u.database}`"))
        conn.execute(text(f"CREATE DATABASE `{u.database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
    return server, u.database


def drop_database(prepared):
    from sqlalchemy import text

    server, name = prepared
    with server.begin() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
    server.dispose()


class Writer:
    """Bulk inserts in chunks, with explicit ids counted here (every table starts empty)."""

    def __init__(self, db, chunk):
        self.db, self.chunk, self.ids, self.rows, self.written = db, chunk, {}, {}, {}

    def next_id(self, model):
        self.ids[model] = self.ids.get(model, 0) + 1
        return self.ids[model]

    def add(self, model, **values):
        """Queue a row (its id assigned now and returned); when a chunk is full, every queue is written."""
        values.setdefault("id", self.next_id(model))
        rows = self.rows.setdefault(model, [])
        rows.append(values)
        if len(rows) >= self.chunk:
            self.flush()
        return values["id"]

    def flush(self):
        """Write every queued row, parents before children (a slot after its ballot, a roll entry after its flat)."""
        from sqlalchemy import insert

        order = {t.name: i for i, t in enumerate(self.db.metadata.sorted_tables)}
        for m in sorted(self.rows, key=lambda m: order[m.__tablename__]):
            rows = self.rows.get(m)
            if rows:
                self.db.session.execute(insert(m), rows)
                self.written[m.__tablename__] = self.written.get(m.__tablename__, 0) + len(rows)
                self.rows[m] = []

    def commit(self):
        self.flush()
        self.db.session.commit()


def pick_phase(rnd):
    roll = rnd.randrange(100)
    for phase, share in PHASE_SHARES:
        if roll < share:
            return phase
        roll -= share
    return "done"


def build_items(db, w, args, rnd, admin_id):
    """The district, its streets, communities and compounds; projects, consultations, plans and
    surveys (no flat and nothing a flat did yet). Returns (district id, [compound plans])."""
    from app.models import Community, Compound, Consultation, ContributionPlan, District, Street
    from app.models.places import utcnow
    from app.models.projects import PHASES, Project, Survey

    now = utcnow()
    later = now + timedelta(days=20)
    district_id = w.add(District, name="压测区")
    communities = []
    for s in range(1, args.streets + 1):
        street_id = w.add(Street, district_id=district_id, name=f"第{s}街道")
        for c in range(1, args.communities + 1):
            communities.append(w.add(Community, street_id=street_id, name=f"第{s}街道第{c}社区"))
    w.flush()
    questions = [{"key": k, "kind": "rating", "text": k, "options": [], "required": True} for k in RATING_KEYS] + [
        {"key": "comment", "kind": "text", "text": "意见建议", "options": [], "required": False}]
    needs_questions = [{"key": "items", "kind": "multiple", "text": "最需要改造的内容", "required": True,
                        "options": [{"key": k, "label": k} for k in ("roof", "pipes", "lift", "parking")]},
                       {"key": "urgency", "kind": "rating", "text": "迫切程度", "options": [], "required": True}]
    compounds = []
    for n in range(args.compounds):
        community_id = communities[n % len(communities)]
        compound_id = w.add(Compound, community_id=community_id, name=f"压测小区{n + 1}", created_at=now)
        plan = {"id": compound_id, "consultations": [], "plan": None, "surveys": []}
        if rnd.random() < 0.7:
            phase = pick_phase(rnd)
            at = PHASES.index(phase)
            project_id = w.add(Project, compound_id=compound_id, title=f"压测小区{n + 1}综合改造", body="",
                               items=[{"name": "外墙保温", "level": "basic"}], budget_fen=rnd.randrange(10**8, 10**9),
                               phase=phase, acceptance_share="1/2", acceptance_strict=True, created_at=now,
                               phase_changed_at=now)
            consultation = dict(compound_id=compound_id, scope_type="compound", scope_id=compound_id, body="",
                                rule={"preset": "major"}, options=[], closes_at=later, created_at=now,
                                opened_at=now, roll_digest="0" * 64, created_by_id=admin_id)
            plan["consultations"].append((w.add(Consultation, title="申请纳入改造计划", kind="inclusion",
                                                status="published", **consultation), "compound",
                                          rnd.uniform(0.6, 0.9), True))
            if at >= PHASES.index("plan"):
                plan["consultations"].append((w.add(Consultation, title="改造方案征询", kind="renovation_plan",
                                                    status="open" if phase == "plan" else "published", **consultation),
                                              "compound", rnd.uniform(0.6, 0.9), phase != "plan"))
            if at >= PHASES.index("funding"):
                plan["plan"] = (w.add(ContributionPlan, compound_id=compound_id, scope_type="compound",
                                      scope_id=compound_id, title="改造出资方案", body="", items=[], methods=["direct"],
                                      funding_rule={"required_items": True}, closes_at=later, created_at=now,
                                      status="open" if phase == "funding" else "funded", opened_at=now,
                                      digest="0" * 64), rnd.uniform(0.55, 0.9), phase != "funding")
            survey = dict(compound_id=compound_id, scope_type="compound", scope_id=compound_id, project_id=project_id,
                          body="", closes_at=later, flats=args.flats_per_compound, created_at=now, opened_at=now)
            plan["surveys"].append((w.add(Survey, kind="needs", title="改造需求调查", questions=needs_questions,
                                          status="open" if phase == "survey" else "closed", **survey),
                                    "needs", rnd.uniform(0.35, 0.65)))
            if at >= PHASES.index("evaluation"):
                plan["surveys"].append((w.add(Survey, kind="satisfaction", title="改造满意度评价", questions=questions,
                                              status="open" if phase == "evaluation" else "closed", **survey),
                                        "satisfaction", rnd.uniform(0.4, 0.8)))
        if rnd.random() < 0.25:
            plan["consultations"].append((w.add(Consultation, compound_id=compound_id, scope_type="unit", scope_id=0,
                                                title="加装电梯征询", body="", kind="elevator", rule={"preset": "major"},
                                                options=[], status="open", closes_at=later, created_at=now,
                                                opened_at=now, roll_digest="0" * 64, created_by_id=admin_id),
                                          "unit", rnd.uniform(0.75, 0.95), False))
        compounds.append(plan)
    w.commit()
    return district_id, compounds


def stored_tally(roll, person_flats, person_area, choices):
    """What consultations.close() stores for a roll and the counted choices {person: choice}: the
    totals, participation, approval, the choices and a breakdown per building."""
    def section(persons):
        return {"persons": len(persons), "flats": sum(person_flats[p] for p in persons),
                "area": f"{sum((person_area[p] for p in persons), Decimal(0)):.2f}", "met": True, "thresholds": []}

    agree = [p for p, c in choices.items() if c == "agree"]
    buildings = {}
    for flat_id, unit_id, building_id, label, area, floor, person in roll:
        b = buildings.setdefault(building_id, {"building_id": building_id, "name": label.split("栋")[0] + "栋",
                                               "flats": 0, "answered": 0, "agree": 0})
        b["flats"] += 1
        b["answered"] += person in choices
        b["agree"] += choices.get(person) == "agree"
    return {
        "rule": {"preset": "major"}, "roll": section(list(person_flats)) | {"met": None},
        "participation": section(list(choices)), "approval": section(agree),
        "choices": {c: section([p for p, x in choices.items() if x == c]) for c in ("agree", "disagree")},
        "required_consent": {"flats": [], "missing": [], "met": True},
        "veto": {"enabled": False, "objections": 0, "met": True}, "passed": True, "still_needed": "",
        "buildings": list(buildings.values()),
    }


def build_flats(db, w, args, rnd, compounds, user_ids):
    """Every compound's buildings, units and flats, then what the flats did: the frozen rolls with a
    vote slot per person and the ballots that count, plan flats with pledges, survey answers."""
    from sqlalchemy import update

    from app.models import (Ballot, Building, Consultation, ConsultationResult, Flat, PlanFlat, PlanResult, Pledge,
                            RollEntry, SurveyResponse, Unit, VoteSlot)
    from app.models.places import utcnow

    now = utcnow()
    floors = max(1, args.flats_per_compound // (BUILDINGS * UNITS * PER_FLOOR))
    n_flat = 0
    for plan in compounds:
        flats = []  # (flat id, unit id, building id, label, area, floor, person key) of this compound only
        for b in range(1, BUILDINGS + 1):
            building_id = w.add(Building, compound_id=plan["id"], name=f"{b}栋")
            for u in range(1, UNITS + 1):
                unit_id = w.add(Unit, building_id=building_id, name=f"{u}单元")
                for floor in range(1, floors + 1):
                    for i in range(1, PER_FLOOR + 1):
                        if len(flats) >= args.flats_per_compound:
                            break
                        n_flat += 1
                        area = Decimal(rnd.randrange(4500, 14000)) / 100
                        flat_id = w.add(Flat, unit_id=unit_id, room=f"{floor}{i:02d}", floor=floor, area=area,
                                        area_source="registry", developer_held=n_flat % 97 == 0, updated_at=now)
                        person = ("developer" if n_flat % 97 == 0 else
                                  f"owner:multi{plan['id']}-{n_flat % 3}" if n_flat % 50 == 0 else f"flat:{flat_id}")
                        flats.append((flat_id, unit_id, building_id, f"{b}栋{u}单元{floor}{i:02d}", area, floor, person))
        for consultation_id, scope, share, closed in plan["consultations"]:
            roll = flats if scope == "compound" else [f for f in flats if f[1] == flats[0][1]]
            if scope == "unit":
                db.session.execute(update(Consultation).where(Consultation.id == consultation_id)
                                   .values(scope_id=roll[0][1]))
            first_flat, person_flats, person_area = {}, {}, {}
            for flat_id, unit_id, building_id, label, area, floor, person in roll:
                w.add(RollEntry, consultation_id=consultation_id, flat_id=flat_id, person_key=person, area=area,
                      building_id=building_id, unit_id=unit_id, label=label)
                first_flat.setdefault(person, flat_id)
                person_flats[person] = person_flats.get(person, 0) + 1
                person_area[person] = person_area.get(person, Decimal(0)) + area
            waiting = rnd.random() < 0.1
            choices = {}
            for person, flat_id in first_flat.items():
                ballot_id = None
                if rnd.random() < share:
                    ballot_id = w.next_id(Ballot)
                    choice = "agree" if rnd.random() < 0.85 else "disagree"
                    choices[person] = choice
                    w.add(Ballot, id=ballot_id, consultation_id=consultation_id, flat_id=flat_id, person_key=person,
                          channel="online" if rnd.random() < 0.8 else "paper", choice=choice, status="current",
                          receipt=f"B{ballot_id:015d}", created_at=now, content_hash="0" * 64)
                elif waiting and rnd.random() < 0.1:
                    b_id = w.next_id(Ballot)
                    w.add(Ballot, id=b_id, consultation_id=consultation_id, flat_id=flat_id, person_key=person,
                          channel="paper", choice="agree", status="unconfirmed", receipt=f"B{b_id:015d}",
                          created_at=now, content_hash="0" * 64)
                w.add(VoteSlot, consultation_id=consultation_id, person_key=person, ballot_id=ballot_id,
                      seq=1 if ballot_id else 0, head="0" * 64)
            if closed:  # the count stored at closing, in the shape app.services.tally.count gives it
                w.add(ConsultationResult, consultation_id=consultation_id, passed=True, rule={"preset": "major"},
                      tally=stored_tally(roll, person_flats, person_area, choices), roll_digest="0" * 64,
                      content_hash="0" * 64, created_at=now)
        if plan["plan"]:
            plan_id, share, closed = plan["plan"]
            pledging, buildings = 0, {}
            for flat_id, unit_id, building_id, label, area, floor, person in flats:
                pledge_id = None
                b = buildings.setdefault(building_id, {"id": building_id, "due_fen": 0, "pledged_fen": 0, "paid_fen": 0,
                                                       "flats": 0, "flats_pledging": 0, "units": {}})
                b["flats"] += 1
                b["due_fen"] += 120000
                if rnd.random() < share:
                    pledging += 1
                    b["flats_pledging"] += 1
                    b["pledged_fen"] += 120000
                    pledge_id = w.next_id(Pledge)
                    w.add(Pledge, id=pledge_id, plan_id=plan_id, flat_id=flat_id, person_key=person, channel="online",
                          status="current", lines=[{"item": "main", "method": "direct", "amount_fen": 120000}],
                          total_fen=120000, receipt=f"P{pledge_id:015d}", created_at=now, content_hash="0" * 64)
                w.add(PlanFlat, plan_id=plan_id, flat_id=flat_id, person_key=person, label=label,
                      building_id=building_id, unit_id=unit_id, area=area, floor=floor, due_fen=120000,
                      pledge_id=pledge_id)
            if closed:  # the outcome plans.close() stores (its flats part as live_tally counts it)
                w.add(PlanResult, plan_id=plan_id, funded=True, digest="0" * 64, content_hash="0" * 64, created_at=now,
                      tally={"plan": {"id": plan_id, "status": "funded"}, "target_fen": 120000 * len(flats),
                             "totals": {"due_fen": 120000 * len(flats), "pledged_fen": 120000 * pledging},
                             "flats": {"total": len(flats), "liable": len(flats), "pledging": pledging, "paid": 0},
                             "buildings": list(buildings.values()), "funded": True, "still_missing": []})
        for survey_id, kind, share in plan["surveys"]:
            for flat_id, *_ in flats:
                if rnd.random() >= share:
                    continue
                user_id = user_ids[flat_id % len(user_ids)]
                if kind == "satisfaction":
                    answers = {k: rnd.choices((1, 2, 3, 4, 5), (3, 5, 12, 40, 40))[0] for k in RATING_KEYS}
                    answers["comment"] = "施工队很认真" if rnd.random() < 0.2 else ""
                else:
                    answers = {"items": rnd.sample(["roof", "pipes", "lift", "parking"], 2),
                               "urgency": rnd.randint(1, 5)}
                if rnd.random() < 0.1:  # answered twice: the first answer no longer counts
                    w.add(SurveyResponse, survey_id=survey_id, flat_id=flat_id, user_id=user_id, answers=answers,
                          current=None, created_at=now)
                w.add(SurveyResponse, survey_id=survey_id, flat_id=flat_id, user_id=user_id, answers=answers,
                      current=True, created_at=now)
    w.commit()
    return n_flat


# ---------------------------------------------------------------- the roll-up


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", "--database", dest="database_url",
                        help="SQLAlchemy URL; default a temporary SQLite file")
    parser.add_argument("--compounds", type=int, default=1000, help="compounds of the district (default 1,000)")
    parser.add_argument("--flats-per-compound", type=int, default=300, help="flats of each compound (default 300)")
    parser.add_argument("--streets", type=int, default=10, help="streets of the district (default 10)")
    parser.add_argument("--communities", type=int, default=5, help="communities of each street (default 5)")
    parser.add_argument("--runs", type=int, default=5, help="timed roll-ups after one warm-up (default 5)")
    parser.add_argument("--chunk", type=int, default=5000, help="rows per bulk insert (default 5,000)")
    parser.add_argument("--keep", action="store_true", help="keep the MySQL/MariaDB database at the end")
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()

    from flask_migrate import upgrade
    from sqlalchemy import and_, func, insert, select, text

    from app import create_app
    from app.extensions import db
    from app.models import User
    from app.services import stats
    from app.services.scopes import grant
    from app.wechat.dev import dev_openid
    from config import DevelopmentConfig

    rnd = random.Random(args.seed)
    tmp = tempfile.mkdtemp(prefix="bench_stats_")
    url = args.database_url or "sqlite:///" + os.path.join(tmp, "bench.db")
    prepared = prepare_database(url)

    class BenchConfig(DevelopmentConfig):
        SQLALCHEMY_DATABASE_URI = url

    app = create_app(BenchConfig)
    try:
        with app.app_context():
            if prepared is None:
                db.drop_all()
                with db.engine.begin() as conn:
                    conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
            upgrade()
            dialect = db.engine.dialect.name
            version = db.session.scalar(text("SELECT sqlite_version()" if dialect == "sqlite" else "SELECT VERSION()"))
            extra = ""
            if dialect != "sqlite":
                pool = db.session.scalar(text("SELECT @@innodb_buffer_pool_size"))
                extra = f", innodb_buffer_pool_size {int(pool) / 2**20:.0f} MB"
            sql = Statements(db.engine)
            print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; database: {dialect} "
                  f"{version}{extra}; {args.compounds} compounds x {args.flats_per_compound} flats "
                  f"({args.streets} streets x {args.communities} communities)")

            admin = User(openid=dev_openid(app.config["WECHAT_APPID"], "statsadmin"), name="statsadmin")
            db.session.add(admin)
            db.session.flush()
            grant(admin, "admin")
            admin_id = admin.id
            db.session.execute(insert(User), [{"openid": f"bench-stats-resident-{i}", "name": f"居民{i}"}
                                              for i in range(1000)])
            user_ids = db.session.scalars(select(User.id).where(User.openid.like("bench-stats-resident-%"))).all()
            db.session.commit()
            w = Writer(db, args.chunk)
            t0 = time.perf_counter()
            district_id, compounds = build_items(db, w, args, rnd, admin_id)
            print(f"setup 1: the district, {args.compounds} compounds and their projects, consultations, plans and "
                  f"surveys bulk-inserted in {time.perf_counter() - t0:.1f} s: {dict(sorted(w.written.items()))}")

            def rollup():
                db.session.remove()
                user = db.session.get(User, admin_id)
                user.roles  # loaded before the clock starts, as the request's user is
                with sql.counting():
                    t = time.perf_counter()
                    result = stats.stats(user, "district", district_id)
                    return time.perf_counter() - t, sql.count, result

            def traced():
                db.session.remove()
                user = db.session.get(User, admin_id)
                user.roles
                tracemalloc.start()
                stats.stats(user, "district", district_id)
                current, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                return peak / 2**20

            rollup()
            with PeakRSS() as empty_rss:
                empty_times = [rollup()[0] for _ in range(3)]
            empty_peak = traced()
            print(f"roll-up before any flat or answer: median {statistics.median(empty_times):.3f} s; resident "
                  f"memory +{empty_rss.peak - empty_rss.start:.1f} MB; python allocations peak {empty_peak:.2f} MB")

            w.written = {}
            t0 = time.perf_counter()
            n_flats = build_flats(db, w, args, rnd, compounds, user_ids)
            built = time.perf_counter() - t0
            rows = sum(w.written.values())
            print(f"setup 2: {n_flats:,} flats and what they did bulk-inserted in {built:.1f} s ({rows:,} rows): "
                  f"{dict(sorted(w.written.items()))}")
            if dialect == "sqlite":
                db.session.execute(text("ANALYZE"))
            else:
                for table in ("roll_entry", "vote_slot", "plan_flat", "survey_response", "consultation",
                              "contribution_plan", "survey", "project", "compound", "community", "street"):
                    db.session.execute(text(f"ANALYZE TABLE {table}"))
            db.session.commit()
            del compounds

            warm, statements, result = rollup()
            times = []
            with PeakRSS() as rss:
                for _ in range(args.runs):
                    seconds, count, result = rollup()
                    times.append(seconds)
            peak = traced()
            median, worst = statistics.median(times), max(times)
            print(f"district roll-up ({dialect}): warm-up {warm:.3f} s; {args.runs} runs median {median:.3f} s, "
                  f"max {worst:.3f} s; {statements} statements each")
            print(f"memory during the roll-ups: resident {rss.start:.0f} MB before, peak {rss.peak:.0f} MB "
                  f"(+{rss.peak - rss.start:.1f} MB); python allocations peak {peak:.2f} MB "
                  f"(before any flat or answer: {empty_peak:.2f} MB)")

            f = result["figures"]
            cov, par, sat = f["coverage"], f["participation"], f["satisfaction"]
            c = par["consultations"]
            print(f"figures of {result['node']['name']} ({len(result['children'])} streets):")
            print(f"  coverage: {cov['active']} of {cov['compounds']} compounds with an active project "
                  f"({cov['percent']}%), {cov['with_project']} with any ({cov['with_project_percent']}%)")
            print(f"  consultations ({c['count']}): flats {c['flats']['answered']:,}/{c['flats']['base']:,} "
                  f"({c['flats']['percent']}%), persons {c['persons']['answered']:,}/{c['persons']['base']:,} "
                  f"({c['persons']['percent']}%), area {c['area']['answered']}/{c['area']['base']} m² "
                  f"({c['area']['percent']}%)")
            for name in ("plans", "surveys"):
                p = par[name]
                print(f"  {name} ({p['count']}): flats {p['flats']['answered']:,}/{p['flats']['base']:,} "
                      f"({p['flats']['percent']}%)")
            print(f"  overall: {par['overall']['answered']:,}/{par['overall']['base']:,} ({par['overall']['percent']}%)")
            print(f"  satisfaction ({sat['surveys']} surveys): {sat['count']:,} ratings, mean {sat['mean']} "
                  f"({sat['mean_exact']}), rate {sat['rate_percent']}% ({sat['satisfied']:,} of 4 and 5), "
                  f"distribution {sat['distribution']}")
            phases = ", ".join(f"{p['name']} {p['count']}" for p in f["projects"]["phases"])
            print(f"  projects: {phases}")

            # a cross-check of three figures by a plain count over the whole tables (all in the district)
            from app.models import PlanFlat, RollEntry, SurveyResponse, VoteSlot

            roll = db.session.scalar(select(func.count(RollEntry.id)))
            slots = db.session.scalar(select(func.count(VoteSlot.id)))
            answered = db.session.scalar(select(func.count(RollEntry.id)).join(VoteSlot, and_(
                VoteSlot.consultation_id == RollEntry.consultation_id, VoteSlot.person_key == RollEntry.person_key))
                .where(VoteSlot.ballot_id.isnot(None)))
            responses = db.session.scalar(select(func.count(SurveyResponse.id)).where(SurveyResponse.current.is_(True)))
            pledged = db.session.scalar(select(func.count(PlanFlat.pledge_id)))
            consistent = (roll == c["flats"]["base"] and slots == c["persons"]["base"]
                          and answered == c["flats"]["answered"] and responses == par["surveys"]["flats"]["answered"]
                          and pledged == par["plans"]["flats"]["answered"])
            print(f"cross-check with plain counts over every row (roll entries {roll:,}, vote slots {slots:,}, "
                  f"answered roll entries {answered:,}, counted answers {responses:,}, pledging flats {pledged:,}): "
                  f"{'consistent' if consistent else 'INCONSISTENT'}")

            flat_memory = peak <= max(2 * empty_peak, empty_peak + 2.0)
            print(f"district roll-up: {median:.2f} s (goal < {GOAL_S:g} s) {verdict(median < GOAL_S)} "
                  f"[{dialect}, {n_flats:,} flats, {rows:,} rows of rolls, slots, ballots, pledges and answers]")
            print(f"memory flat: python allocations peak {peak:.2f} MB with {n_flats:,} flats and their answers vs "
                  f"{empty_peak:.2f} MB with none {verdict(flat_memory)}")
            if not consistent:
                raise SystemExit(1)
    finally:
        if prepared is not None and not args.keep:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
            drop_database(prepared)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
