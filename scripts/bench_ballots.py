#!/usr/bin/env python
"""Benchmark: ballots per second and p50/p99 latency next to two bare JSON endpoints on one server
run, then the tally time of a 5,000-flat compound with 4,000 counted ballots.

Goals (issue 13): ballot throughput >= 25% of the bare endpoint's (GET /healthz: one SELECT 1) on a
sustained run of at least 8,000 ballot requests; live_tally under 200 ms on SQLite and on MariaDB.
GET /livez (no statement at all) is printed beside /healthz as a second baseline.

The server is gunicorn (gthread worker class, --workers x --threads, default 2 x 4) serving wsgi:app,
started by this script on a free loopback port; logins go through the project's WeChat emulator
(app.wechat.emulator.start_in_thread) as a resident's would. Each client thread keeps one HTTP/1.1
connection and sends requests one after another. Measured fairly:
- every endpoint is warmed up first (connections, worker imports, pools, the statement caches);
- the endpoints take turns in rounds of equal duration (--round-seconds), not of equal request
  counts, so a slow spell of a shared machine weighs on each alike; each round's clock starts when
  its client threads have connected and stops at the last answer (thread and connection start-up are
  not counted);
- rounds go on until at least --sustained ballot requests were sent (and at least --rounds rounds),
  and the ratio is that of the whole sustained run;
- only 201 answers count as ballots: any other answer is printed and the verdict is "not met".
Every ballot is a real POST /consultations/<id>/ballots with a PNG signature and its own
Idempotency-Key, by owners bound to their flats; an owner signs again after every --owners
ballots, so the later ones supersede the earlier ones as a changed answer does.

The 5,000-flat tally compound is written with bulk inserts in the services' shapes: places and
owners through the ORM, the roll frozen by the real consultations.open_(), then 4,000 online
ballots (with content hashes), their vote slots and their audit-chain entries in batches, checked
afterwards by app.services.verification.verify() (the `flask audit verify` check).

Usage: .venv/bin/python scripts/bench_ballots.py [--database URL] [--clients 16] [--sustained 8000]
The database is a fresh temporary SQLite file unless --database is given (its tables are dropped
and created again), e.g. --database 'mysql+pymysql://root@127.0.0.1:3306/gj_bench?charset=utf8mb4'.
"""
import argparse
import base64
import cProfile
import hashlib
import http.client
import itertools
import json
import os
import pstats
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

TALLY_GOAL_MS = 200
RATIO_GOAL = 0.25


# ---------------------------------------------------------------- the server


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(url, wechat_base, workers, threads, port):
    env = {**os.environ, "DATABASE_URL": url, "WECHAT_API_BASE": wechat_base, "APP_ENV": "development"}
    # An empty config, not ./gunicorn.conf.py, whose access lines would measure the terminal; the
    # figures stay comparable with those taken before it existed.
    empty = os.path.join(tempfile.mkdtemp(prefix="bench-gunicorn-"), "empty.conf.py")
    open(empty, "w").close()
    cmd = [sys.executable, "-m", "gunicorn", "-c", empty, "--workers", str(workers), "--worker-class", "gthread",
           "--threads", str(threads), "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
           "--keep-alive", "30", "wsgi:app"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            status, _ = request(port, "GET", "/healthz")
            if status == 200:
                return proc
        except OSError:
            pass
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode}")
        time.sleep(0.2)
    proc.terminate()
    raise SystemExit("gunicorn did not answer /healthz within 30 s")


def request(port, method, path, body=None, headers=None, conn=None):
    """One request; with conn, on that kept-alive connection. Returns (status, parsed JSON)."""
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    data = json.dumps(body).encode() if body is not None else None
    conn.request(method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})})
    resp = conn.getresponse()
    raw = resp.read()
    if own:
        conn.close()
    try:
        return resp.status, json.loads(raw)
    except ValueError:
        return resp.status, raw[:200]


def load(port, make, seconds, clients, offset=0):
    """`clients` threads, each on its own kept-alive connection, send requests for `seconds`;
    make(i) -> (method, path, body, headers), i counting from `offset`. The clock starts once every
    thread has connected and stops at the last answer."""
    counter, lock = itertools.count(offset), threading.Lock()
    latencies, statuses = [], {}
    ready = threading.Barrier(clients + 1)
    clock = {}

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.connect()
        mine, codes = [], {}
        ready.wait()
        deadline = clock["deadline"]
        while time.monotonic() < deadline:
            with lock:
                i = next(counter)
            method, path, body, headers = make(i)
            t0 = time.perf_counter()
            try:
                status, _ = request(port, method, path, body, headers, conn)
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                status = "connection error"
            mine.append(time.perf_counter() - t0)
            codes[status] = codes.get(status, 0) + 1
        end = time.perf_counter()
        conn.close()
        with lock:
            latencies.extend(mine)
            clock["end"] = max(clock.get("end", 0), end)
            for k, v in codes.items():
                statuses[k] = statuses.get(k, 0) + v

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    clock["deadline"] = time.monotonic() + seconds
    t0 = time.perf_counter()
    ready.wait()
    for t in threads:
        t.join(seconds + 120)
    return {"elapsed": clock["end"] - t0, "latencies": latencies, "statuses": statuses, "sent": next(counter) - offset}


def combine(parts):
    """Requests, req/s, p50/p99 and answers over the rounds of one endpoint."""
    latencies = sorted(x for p in parts for x in p["latencies"])
    elapsed = sum(p["elapsed"] for p in parts)
    statuses = {}
    for p in parts:
        for k, v in p["statuses"].items():
            statuses[k] = statuses.get(k, 0) + v
    n = len(latencies)
    ok = statuses.get(201 if 201 in statuses else 200, 0)
    return {"n": n, "rps": n / elapsed, "ok_rps": ok / elapsed, "elapsed": elapsed, "p50": 1000 * latencies[n // 2] if n else 0,
            "p99": 1000 * latencies[min(n - 1, int(n * 0.99))] if n else 0, "statuses": statuses}


# ---------------------------------------------------------------- data


def place_tree(db, name, buildings, units, floors, per_floor, shared_every=0, developer_every=0):
    """A compound of buildings x units x floors x per_floor flats; every shared_every-th flat belongs to
    one of 7 buyers of several flats, every developer_every-th flat is developer-held."""
    from app.models import Building, Community, Compound, Flat, Owner, Street, Unit

    rnd = random.Random(name)
    street = Street(name=f"{name}街道")
    comp = Compound(name=name, community=Community(name=f"{name}社区", street=street))
    db.session.add(comp)
    shared = [Owner(name=f"{name}多套业主{i}", phone=f"137{i:08d}") for i in range(7)]
    n = 0
    for b in range(1, buildings + 1):
        building = Building(name=f"{b}栋", scene=f"{name[:4]}{b}".encode().hex()[:32])
        comp.buildings.append(building)
        for u in range(1, units + 1):
            unit = Unit(name=f"{u}单元")
            building.units.append(unit)
            for floor in range(1, floors + 1):
                for i in range(1, per_floor + 1):
                    n += 1
                    developer = developer_every and n % developer_every == 0
                    owner = None if developer else shared[n % 7] if shared_every and n % shared_every == 0 \
                        else Owner(name=f"业主{n}", phone=f"139{n:08d}")
                    unit.flats.append(Flat(room=f"{floor}{i:02d}", floor=floor, area=Decimal(rnd.randint(4000, 14000)) / 100,
                                           area_source="registry", owner=owner, developer_held=bool(developer)))
    db.session.flush()
    return comp


def staff_user(db, appid, name):
    from app.models import User
    from app.services.scopes import grant
    from app.wechat.dev import dev_openid

    user = User(openid=dev_openid(appid, name), name=name)
    db.session.add(user)
    db.session.flush()
    grant(user, "admin")
    return user


def open_consultation(db, comp, by, title):
    from datetime import timedelta

    from app.models.places import utcnow
    from app.services import consultations as service

    c = service.create(by, {"scope": {"type": "compound", "id": comp.id}, "title": title, "kind": "elevator",
                            "rule": {"preset": "major"}, "closes_at": utcnow() + timedelta(days=7)})
    service.open_(by, c.id)
    return c


def seed_owners(db, appid, comp, owners):
    """Users dev-bench<i> bound as owners of the first `owners` flats; [(name, flat_id)]."""
    from app.models import Binding, User
    from app.services.bindings import record_approval
    from app.wechat.dev import dev_openid

    flats = [f for b in comp.buildings for u in b.units for f in u.flats][:owners]
    names = [f"bench{i}" for i in range(len(flats))]
    users = [User(openid=dev_openid(appid, n), name=n) for n in names]
    db.session.add_all(users)
    db.session.flush()
    bindings = [Binding(user_id=u.id, flat=f, relation="owner", name=f.owner.name, status="approved",
                        method="roster_phone", owner_id=f.owner_id) for u, f in zip(users, flats)]
    db.session.add_all(bindings)
    db.session.flush()
    for binding in bindings:
        record_approval(binding)  # the entry verify wants for every approved binding
    return [(n, f.id) for n, f in zip(names, flats)]


def bulk_ballots(db, appid, consultation, count, rnd):
    """`count` counted online ballots on distinct persons of the roll, written through the one ballot
    write path the API uses (app.services.ballots.write_ballot: the row with its content hash, the
    entry in the person's chain, the vote slot)."""
    from app.models import Blob, RollEntry, User, VoteSlot
    from app.services.ballots import write_ballot
    from app.wechat.dev import dev_openid

    flat_of = {}
    for flat_id, person in db.session.execute(db.select(RollEntry.flat_id, RollEntry.person_key)
                                              .where(RollEntry.consultation_id == consultation.id)
                                              .order_by(RollEntry.flat_id)):
        flat_of.setdefault(person, flat_id)
    persons = rnd.sample(sorted(db.session.scalars(db.select(VoteSlot.person_key)
                                                   .where(VoteSlot.consultation_id == consultation.id))), count)
    png = base64.b64decode(signature_png())
    blob = Blob(sha256=hashlib.sha256(png).hexdigest(), mimetype="image/png", data=png)
    db.session.add(blob)
    users = [User(openid=dev_openid(appid, f"tally{i}"), name=f"tally{i}") for i in range(count)]
    db.session.add_all(users)
    db.session.flush()
    for i, (person, user) in enumerate(zip(persons, users)):
        choice = "agree" if i % 10 < 7 else "disagree" if i % 10 < 9 else "abstain"
        write_ballot(consultation.id, flat_of[person], person, "online", choice, user_id=user.id,
                     signature_id=blob.id, signature_sha256=blob.sha256)
    db.session.flush()


def signature_png():
    """A handwritten-looking signature as base64 PNG, as the mini-program's canvas exports it."""
    import io

    from PIL import Image, ImageDraw

    img = Image.new("RGBA", (240, 90), (255, 255, 255, 0))
    ImageDraw.Draw(img).line([(10, 60), (60, 20), (110, 70), (160, 25), (220, 55)], fill=(0, 0, 0, 255), width=4)
    out = io.BytesIO()
    img.save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


# ---------------------------------------------------------------- main


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", help="SQLAlchemy URL; default a temporary SQLite file")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (default 4)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent client threads (default 16)")
    parser.add_argument("--sustained", type=int, default=8000,
                        help="rounds go on until this many ballot requests were sent (default 8000)")
    parser.add_argument("--round-seconds", type=float, default=5, help="length of each endpoint's turn (default 5)")
    parser.add_argument("--rounds", type=int, default=4, help="at least this many rounds (default 4)")
    parser.add_argument("--warmup-seconds", type=float, default=3, help="warm-up of each endpoint (default 3)")
    parser.add_argument("--owners", type=int, default=400, help="owners signing in the load (default 400)")
    parser.add_argument("--flats", type=int, default=5000, help="flats of the tally compound (multiple of 200)")
    parser.add_argument("--ballots", type=int, default=4000, help="counted ballots in the tally compound")
    parser.add_argument("--runs", type=int, default=7, help="live_tally runs; the median is reported")
    parser.add_argument("--profile", action="store_true", help="profile one live_tally even when under the goal")
    args = parser.parse_args()

    from flask_migrate import upgrade
    from sqlalchemy import text

    from app import create_app
    from app.extensions import db
    from app.models import Consultation
    from app.services.consultations import live_tally, pending_flats
    from app.services.verification import verify
    from app.wechat.emulator import start_in_thread
    from config import DevelopmentConfig

    tmp = tempfile.mkdtemp(prefix="bench_ballots_")
    url = args.database or "sqlite:///" + os.path.join(tmp, "bench.db")

    class BenchConfig(DevelopmentConfig):
        SQLALCHEMY_DATABASE_URI = url

    emulator, wechat_base = start_in_thread(BenchConfig.WECHAT_APPID, BenchConfig.WECHAT_SECRET)
    app = create_app(BenchConfig)
    app.config["WECHAT_API_BASE"] = wechat_base
    appid = app.config["WECHAT_APPID"]
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()
        dialect = db.engine.dialect.name
        version = db.session.scalar(text("SELECT sqlite_version()" if dialect == "sqlite" else "SELECT VERSION()"))
        admin = staff_user(db, appid, "benchadmin")
        comp = place_tree(db, "压测小区", 2, 4, 25, 2)  # 400 flats
        owners = seed_owners(db, appid, comp, args.owners)
        load_cid = open_consultation(db, comp, admin, "加装电梯（压测）").id
        db.session.commit()

    port = free_port()
    print(f"machine: {os.cpu_count()} cores; database: {dialect} {version}; server: gunicorn {args.workers} workers x "
          f"{args.threads} threads (gthread) on 127.0.0.1:{port}; {args.clients} client threads, keep-alive")
    server = start_gunicorn(url, wechat_base, args.workers, args.threads, port)
    try:
        # Every owner signs in through the emulator, as the mini-program does.
        tokens = {}
        names = [n for n, _ in owners] + ["benchadmin"]
        t0 = time.perf_counter()
        lock = threading.Lock()

        def login_worker(chunk):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            for name in chunk:
                status, answer = request(port, "POST", "/api/v1/auth/login", {"code": f"dev-{name}.{time.time_ns()}"},
                                         conn=conn)
                assert status == 200, answer
                with lock:
                    tokens[name] = "Bearer " + answer["data"]["token"]
            conn.close()

        workers = [threading.Thread(target=login_worker, args=(names[k::args.clients],)) for k in range(args.clients)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(120)
        if len(tokens) != len(names):
            raise SystemExit(f"only {len(tokens)} of {len(names)} sign-ins succeeded")
        print(f"signed in {len(tokens)} users through the WeChat emulator in {time.perf_counter() - t0:.1f} s")

        sig = signature_png()
        choices = ("agree", "disagree", "abstain")
        run_id = time.time_ns()

        def bare(i):
            return "GET", "/healthz", None, None

        def noop(i):
            return "GET", "/livez", None, None

        def ballot(i):
            name, flat_id = owners[i % len(owners)]
            return ("POST", f"/api/v1/consultations/{load_cid}/ballots",
                    {"flat_id": flat_id, "choice": choices[i % 3], "signature": sig},
                    {"Authorization": tokens[name], "Idempotency-Key": f"bench-{run_id}-{i}"})

        BALLOTS = "POST /consultations/<id>/ballots"
        endpoints = {"GET /healthz": bare, "GET /livez (no database)": noop, BALLOTS: ballot}
        sent = dict.fromkeys(endpoints, 0)
        warm = {}
        for label, make in endpoints.items():  # warm-up: connections, worker imports, pools, caches
            warm[label] = load(port, make, args.warmup_seconds, args.clients, offset=sent[label])
            sent[label] += warm[label]["sent"]
        print("warm-up: " + "; ".join(f"{label} {combine([r])['rps']:.0f} req/s" for label, r in warm.items()))
        # The endpoints take turns in rounds of equal duration, so a slow spell of this shared machine
        # falls on each alike, until the ballots make a sustained run.
        rounds = {label: [] for label in endpoints}
        r = 0
        while r < args.rounds or sum(p["sent"] for p in rounds[BALLOTS]) < args.sustained:
            for label, make in endpoints.items():
                part = load(port, make, args.round_seconds, args.clients, offset=sent[label])
                rounds[label].append(part)
                sent[label] += part["sent"]
            r += 1
        results = {label: combine(parts) for label, parts in rounds.items()}
        print(f"{r} rounds of {args.round_seconds:g} s per endpoint; load average "
              + " ".join(f"{x:.2f}" for x in os.getloadavg()))
        print(f"{'endpoint':34} {'requests':>8} {'seconds':>8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}  answers")
        for label, res in results.items():
            print(f"{label:34} {res['n']:8d} {res['elapsed']:8.1f} {res['rps']:8.1f} {res['p50']:8.1f} {res['p99']:8.1f}  "
                  f"{res['statuses']}")
        per_round = [combine([p])["ok_rps"] / combine([q])["rps"] for p, q in zip(rounds[BALLOTS], rounds["GET /healthz"])]
        print("ballots / /healthz per round: " + " ".join(f"{x:.1%}" for x in per_round))
        good = results[BALLOTS]["statuses"].get(201, 0)
        others = {k: v for k, v in results[BALLOTS]["statuses"].items() if k != 201}
        bare_others = {k: v for label in endpoints if label != BALLOTS
                       for k, v in results[label]["statuses"].items() if k != 200}
        ratio = results[BALLOTS]["ok_rps"] / results["GET /healthz"]["rps"]
        ratio_noop = results[BALLOTS]["ok_rps"] / results["GET /livez (no database)"]["rps"]
        met = ratio >= RATIO_GOAL and not others and not bare_others and good >= args.sustained
        if others or bare_others:
            print(f"answers other than 201 to ballots: {others or 'none'}; other than 200 to the bare endpoints: "
                  f"{bare_others or 'none'}")
        print(f"sustained run: {good} ballots answered 201 of {results[BALLOTS]['n']} sent "
              f"(>= {args.sustained}: {'yes' if good >= args.sustained else 'NO'}); ballots (201 only) / GET /healthz: "
              f"{ratio:.1%}, / GET /livez: {ratio_noop:.1%} (goal >= {RATIO_GOAL:.0%} of /healthz: "
              f"{'met' if met else 'not met'})")

        # ------------------------------------------------------------ the tally of a big compound
        with app.app_context():
            t0 = time.perf_counter()
            per_building = 4 * 25 * 2
            big = place_tree(db, "五千户小区", args.flats // per_building, 4, 25, 2, shared_every=50, developer_every=97)
            admin = db.session.merge(admin)
            c = open_consultation(db, big, admin, "五千户加装电梯")
            db.session.commit()
            built = time.perf_counter() - t0
            t0 = time.perf_counter()
            bulk_ballots(db, appid, c, args.ballots, random.Random(4000))
            db.session.commit()
            print(f"tally compound: {args.flats} flats built and roll frozen by open_() in {built:.1f} s; "
                  f"{args.ballots} ballots bulk-inserted in {time.perf_counter() - t0:.1f} s")
            cid = c.id
            times, result = [], None
            for _ in range(args.runs):
                db.session.remove()
                consultation = db.session.get(Consultation, cid)
                t0 = time.perf_counter()
                result = live_tally(consultation)
                times.append(1000 * (time.perf_counter() - t0))
            median = statistics.median(times)
            print(f"live_tally ({dialect}): median {median:.1f} ms of {args.runs} runs (min {min(times):.1f}, "
                  f"max {max(times):.1f}); roll {result['roll']['flats']} flats / {result['roll']['persons']} persons, "
                  f"participation {result['participation']['persons']} persons "
                  f"(goal < {TALLY_GOAL_MS} ms: {'met' if median < TALLY_GOAL_MS else 'NOT met'})")
            assert result["participation"]["persons"] == args.ballots
            pending_times, pending = [], None
            for _ in range(args.runs):  # the door-visit list of the same compound, for the admin
                db.session.remove()
                consultation, viewer = db.session.get(Consultation, cid), db.session.merge(admin)
                t0 = time.perf_counter()
                pending = pending_flats(viewer, consultation)
                pending_times.append(1000 * (time.perf_counter() - t0))
            print(f"pending_flats ({dialect}): median {statistics.median(pending_times):.1f} ms of {args.runs} runs "
                  f"(max {max(pending_times):.1f}) for {len(pending)} flats without a counted ballot: "
                  f"{statistics.median(pending_times) / median:.2f} x the tally")
            if median >= TALLY_GOAL_MS or args.profile:
                profile = cProfile.Profile()
                db.session.remove()
                consultation = db.session.get(Consultation, cid)
                profile.runcall(live_tally, consultation)
                pstats.Stats(profile, stream=sys.stdout).sort_stats("cumulative").print_stats(20)
        http_times = []
        for _ in range(5):
            t0 = time.perf_counter()
            status, answer = request(port, "GET", f"/api/v1/consultations/{cid}/tally",
                                     headers={"Authorization": tokens["benchadmin"]})
            http_times.append(1000 * (time.perf_counter() - t0))
            assert status == 200 and answer["data"]["participation"]["persons"] == args.ballots, (status, str(answer)[:200])
        print(f"GET /consultations/<id>/tally through the server: median {statistics.median(http_times):.1f} ms of 5")
    finally:
        server.terminate()
        server.wait(30)
        emulator.shutdown()
    with app.app_context():
        t0 = time.perf_counter()
        problems = verify()
        print(f"audit verify after the run: {len(problems)} problems ({time.perf_counter() - t0:.1f} s)"
              + "".join(f"\n  {p}" for p in problems[:5]))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
