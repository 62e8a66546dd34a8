#!/usr/bin/env python
"""Benchmark: plan ballot reminders for a compound of --flats flats, then send them through the WeChat emulator.

Goals (issue 10): planning (app.services.reminders.plan) under 30 s on MariaDB for 100,000 flats, and
memory that stays flat from 10,000 to 100,000 flats (compare `--flats 10000` with `--flats 100000`).

The compound is written with bulk inserts: buildings of 4 units x 25 floors x 4 flats, every flat
with a bound resident (an approved owner binding) who accepted one ballot reminder (a quota on our
side and on the emulator's). A consultation over the compound is opened by the real
consultations.open_() (the roll frozen, its audit entry written) and closes in 20 hours, so the
24-hour round of reminders is due for every flat. Then:

- planning: reminders.plan() timed, with the peak growth of the process's resident memory during it
  (sampled from /proc every 20 ms; ru_maxrss is the whole run's peak, printed too) and the peak of
  Python's own allocations (tracemalloc, in a second planning run over a fresh outbox, since tracing
  slows the code it measures);
- dispatching: outbox.dispatch() in a loop (QUIET_HOURS off, batches of --batch) against the
  project's WeChat emulator (app.wechat.emulator.start_in_thread) until nothing is due, or
  --dispatch messages (default all), printing messages per second and the emulator's count of sends.

Usage: .venv/bin/python scripts/bench_outbox.py [--flats 100000] [--database URL] [--dispatch N]
The database is a fresh temporary SQLite file unless --database is given (its tables are dropped and
created again), e.g. --database 'mysql+pymysql://root@127.0.0.1:3306/gj_bench?charset=utf8mb4'.
"""
import argparse
import cProfile
import os
import pstats
import resource
import shutil
import sys
import tempfile
import threading
import time
import tracemalloc
from datetime import timedelta
from decimal import Decimal

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

PLAN_GOAL_SECONDS = 30
CHUNK = 5000
UNITS, FLOORS, PER_FLOOR = 4, 25, 4


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class PeakRSS:
    """The highest resident memory seen while the block runs (sampled every 20 ms)."""

    def __enter__(self):
        self.start = self.peak = rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self):
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_mb())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb())


def chunks(rows, size=CHUNK):
    for i in range(0, len(rows), size):
        yield rows[i:i + size]


def build(db, appid, flats, template):
    """The compound, its flats, one bound resident with one quota per flat; (compound, admin, openids)."""
    from sqlalchemy import insert, select

    from app.models import Binding, Building, Community, Compound, Flat, Street, SubscriptionQuota, Unit, User
    from app.models.places import utcnow
    from app.services.scopes import grant
    from app.wechat.dev import dev_openid

    now = utcnow()
    comp = Compound(name="十万户小区", community=Community(name="压测社区", street=Street(name="压测街道")))
    db.session.add(comp)
    per_building = UNITS * FLOORS * PER_FLOOR
    for b in range(1, -(-flats // per_building) + 1):
        building = Building(name=f"{b}栋", scene=f"bo{b}")
        comp.buildings.append(building)
        for u in range(1, UNITS + 1):
            building.units.append(Unit(name=f"{u}单元"))
    admin = User(openid=dev_openid(appid, "outboxadmin"), name="outboxadmin")
    db.session.add(admin)
    db.session.flush()
    grant(admin, "admin")
    unit_ids = [u.id for b in comp.buildings for u in b.units]
    rows = []
    for n in range(flats):
        unit, k = divmod(n, FLOORS * PER_FLOOR)
        floor, i = divmod(k, PER_FLOOR)
        rows.append({"unit_id": unit_ids[unit], "room": f"{floor + 1}{i + 1:02d}", "floor": floor + 1,
                     "area": Decimal(6000 + n % 7000) / 100, "area_source": "registry", "developer_held": False})
    for part in chunks(rows):
        db.session.execute(insert(Flat), part)
    flat_ids = db.session.scalars(select(Flat.id).where(Flat.unit_id.in_(unit_ids)).order_by(Flat.id)).all()
    openids = [dev_openid(appid, f"bo{n}") for n in range(flats)]
    for part in chunks([{"openid": o, "name": f"bo{n}", "created_at": now} for n, o in enumerate(openids)]):
        db.session.execute(insert(User), part)
    user_of = dict(db.session.execute(select(User.openid, User.id).where(User.name.like("bo%"))).all())
    user_ids = [user_of[o] for o in openids]
    for part in chunks([{"user_id": u, "flat_id": f, "relation": "owner", "name": "业主", "status": "approved",
                         "method": "roster_phone", "created_at": now} for u, f in zip(user_ids, flat_ids)]):
        db.session.execute(insert(Binding), part)
    for part in chunks([{"user_id": u, "template": template, "remaining": 1, "updated_at": now} for u in user_ids]):
        db.session.execute(insert(SubscriptionQuota), part)
    db.session.commit()
    return comp.id, admin.id, openids


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", help="SQLAlchemy URL; default a temporary SQLite file")
    parser.add_argument("--flats", type=int, default=100_000, help="flats of the compound (default 100,000)")
    parser.add_argument("--dispatch", type=int, default=None, help="send at most this many (default all)")
    parser.add_argument("--batch", type=int, default=200, help="messages claimed per dispatch() (default 200)")
    parser.add_argument("--profile", action="store_true", help="print where planning spends its time (cProfile)")
    parser.add_argument("--no-trace", action="store_true", help="skip the second planning run under tracemalloc")
    args = parser.parse_args()

    from flask_migrate import upgrade
    from sqlalchemy import delete, func, select, text

    from app import create_app
    from app.extensions import db
    from app.models import InboxItem, OutboxMessage, User
    from app.models.places import utcnow
    from app.services import consultations, outbox, reminders
    from app.wechat.emulator import find_server, start_in_thread
    from config import DevelopmentConfig

    tmp = tempfile.mkdtemp(prefix="bench_outbox_")
    url = args.database or "sqlite:///" + os.path.join(tmp, "bench.db")

    class BenchConfig(DevelopmentConfig):
        SQLALCHEMY_DATABASE_URI = url
        QUIET_HOURS = None  # send at any hour

    emulator, wechat_base = start_in_thread(BenchConfig.WECHAT_APPID, BenchConfig.WECHAT_SECRET)
    app = create_app(BenchConfig)
    app.config["WECHAT_API_BASE"] = wechat_base
    app.config["QUIET_HOURS"] = None
    appid = app.config["WECHAT_APPID"]
    template = "ballot_reminder"
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()
        dialect = db.engine.dialect.name
        version = db.session.scalar(text("SELECT sqlite_version()" if dialect == "sqlite" else "SELECT VERSION()"))
        print(f"machine: {os.cpu_count()} cores; database: {dialect} {version}; {args.flats} flats")

        t0 = time.perf_counter()
        compound_id, admin_id, openids = build(db, appid, args.flats, template)
        built = time.perf_counter() - t0
        t0 = time.perf_counter()
        admin = db.session.get(User, admin_id)
        c = consultations.create(admin, {"scope": {"type": "compound", "id": compound_id}, "title": "加装电梯意见征询",
                                         "kind": "elevator", "rule": {"preset": "major"},
                                         "closes_at": utcnow() + timedelta(hours=20)})
        consultations.open_(admin, c.id)
        db.session.commit()
        cid = c.id
        print(f"setup: {args.flats} flats, bound residents and quotas bulk-inserted in {built:.1f} s; "
              f"roll frozen by open_() in {time.perf_counter() - t0:.1f} s")
        tid = app.config["SUBSCRIBE_TEMPLATES"][template]["id"]
        state = find_server(wechat_base).state
        for openid in openids:
            state.accept_subscribe(openid, tid, 1)
        del openids
        db.session.remove()

        # ------------------------------------------------------------ planning
        now = utcnow()
        profile = cProfile.Profile() if args.profile else None
        with PeakRSS() as rss:
            t0 = time.perf_counter()
            planned = profile.runcall(reminders.plan, now) if profile else reminders.plan(now)
            seconds = time.perf_counter() - t0
        if profile:
            pstats.Stats(profile, stream=sys.stdout).sort_stats("tottime").print_stats(15)
        n = planned.get(cid, 0)
        inbox = db.session.scalar(select(func.count(InboxItem.id)))
        print(f"planning ({dialect}): {n} reminders planned (+{inbox} inbox copies) in {seconds:.1f} s "
              f"({n / seconds:,.0f}/s; goal < {PLAN_GOAL_SECONDS} s: {'met' if seconds < PLAN_GOAL_SECONDS else 'NOT met'})")
        print(f"memory while planning: resident {rss.start:.0f} MB before, peak {rss.peak:.0f} MB "
              f"(+{rss.peak - rss.start:.1f} MB); process peak so far (ru_maxrss) "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
        assert n == args.flats, planned
        t0 = time.perf_counter()
        again = reminders.plan(now)
        print(f"planning again (a second scheduler, or the next run): {again.get(cid, 0)} new in "
              f"{time.perf_counter() - t0:.1f} s")
        if not args.no_trace:
            db.session.execute(delete(InboxItem))
            db.session.execute(delete(OutboxMessage))
            db.session.commit()
            db.session.remove()
            tracemalloc.start()
            t0 = time.perf_counter()
            reminders.plan(now)
            traced = time.perf_counter() - t0
            current, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            print(f"python allocations while planning (tracemalloc, a second run over a fresh outbox, "
                  f"{traced:.1f} s under tracing): peak {peak / 2**20:.1f} MB, {current / 2**20:.1f} MB left")
        db.session.remove()

        # ------------------------------------------------------------ dispatching
        limit = args.dispatch if args.dispatch is not None else args.flats
        sent_before = len(state.sent)
        totals = {}
        t0 = time.perf_counter()
        done = 0
        while done < limit:
            counts = outbox.dispatch(batch=min(args.batch, limit - done))
            if not counts["claimed"]:
                break
            done += counts["claimed"]
            for k, v in counts.items():
                totals[k] = totals.get(k, 0) + v
        seconds = time.perf_counter() - t0
        sent = len(state.sent) - sent_before
        print(f"dispatching ({dialect}, batches of {args.batch}): {done} messages in {seconds:.1f} s, "
              f"{done / seconds if seconds else 0:,.0f} messages/s; outcomes {totals}; the emulator received {sent}")
        assert sent == totals.get("sent", 0)
    emulator.shutdown()
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
