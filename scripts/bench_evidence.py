#!/usr/bin/env python
"""Benchmark: a consultation's evidence (evidence.xlsx and evidence.pdf) for 5,000 and 20,000 ballots.

Goals (issue 13), on MariaDB: the exporting process's peak memory under 150 MB at both sizes; the
xlsx under 5 s and the PDF under 15 s for 5,000 ballots; time growing linearly with the ballots
(20,000 / 5,000: a ratio near 4, printed).

For each size a compound of that many flats (bulk-inserted, owners as the roster gives them: every
50th flat one of 7 buyers of several, every 97th developer-held) and a consultation over it, opened
by the real consultations.open_() (the roll frozen), then ballots bulk-inserted in the rows the app
writes (app.services.ballots: the content hash, the receipt, one blob per ballot, the thumbnail
stored by the image's SHA-256 as signing stores it): every flat answers online, 5% of them twice (the
first superseded), 3% of flats on paper instead (entered and confirmed by two grid workers). Each
owner signs with a hand of their own: --distinct (default 1.0) is the share of ballots whose
signature image differs from every other's; the rest reuse one of 50 common images.

Each export runs in a fresh child process (python this-script --child ...), made as a job's process
is (app.job_app, what `python -m app.jobrunner export <id>` runs a large export in): the file is
written to a temporary file by the service the API and the export jobs call
(app.services.exports.build), and the child prints the wall time, its CPU time, the statements sent,
its peak resident memory (VmHWM: the whole process, interpreter, app, libraries and the export,
which is what the goal is about) and, with --tracemalloc, the Python heap's peak (tracemalloc; it
slows the export, so it is measured in a second run). Load average of the machine beside each figure.

Usage: .venv/bin/python scripts/bench_evidence.py [--sizes 5000,20000] [--distinct 1.0]
       [--database-url URL] [--keep] [--reuse] [--tracemalloc]
The database is a fresh temporary SQLite file unless --database-url is given; a MySQL/MariaDB
database named in the URL is dropped and created again, and dropped at the end unless --keep, e.g.
--database-url 'mysql+pymysql://root@127.0.0.1:3306/bench_evidence?charset=utf8mb4'.
"""
import argparse
import hashlib
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "scripts"))

MEMORY_GOAL_MB = 150
TIME_GOALS_S = {"xlsx": 5.0, "pdf": 15.0}  # for 5,000 ballots
CHUNK = 2000


def verdict(ok):
    return "met" if ok else "NOT met"


def loadavg():
    return "load %.2f %.2f %.2f" % os.getloadavg()


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb():
    """This process's peak resident set (VmHWM): getrusage's ru_maxrss would carry the parent's peak
    over the fork and exec, and the parent has just seeded the data."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024


def app_for(url, job=False):
    """The whole application (seeding), or, job=True, the one a job's process makes (app.jobrunner:
    app.job_app), which is what builds a large export in production (JOB_RUNNER=process)."""
    from app import create_app, job_app
    from config import TestingConfig

    class Bench(TestingConfig):
        SQLALCHEMY_DATABASE_URI = url
        TESTING = False

    return (job_app if job else create_app)(Bench)


def signature(rnd):
    """A handwritten-looking signature PNG of its own (a random stroke), as the mini-program's canvas exports it."""
    from PIL import Image, ImageDraw

    img = Image.new("RGBA", (480, 180), (255, 255, 255, 0))
    points = [(rnd.randrange(20, 460), rnd.randrange(20, 160)) for _ in range(7)]
    ImageDraw.Draw(img).line(points, fill=(0, 0, 0, 255), width=5)
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def seed(db, size, distinct, rnd):
    """A compound of `size` flats, an open consultation over it and its ballots; the consultation's id."""
    from datetime import timedelta

    from sqlalchemy import insert

    from app.models import Ballot, Blob, EvidenceThumbnail, RollEntry, User
    from app.models.places import utcnow
    from app.services import audit
    from app.services import consultations as service
    from app.services.ballots import _receipt, content
    from app.services.thumbnails import make_thumbnail
    from app.services.scopes import grant
    from bench_plans import build_compound

    compound_id, _ = build_compound(db, size, 10, 12, rnd)
    from app.models import Building

    db.session.execute(db.update(Building).where(Building.compound_id == compound_id)  # its scenes are bp1, bp2...
                       .values(scene=Building.scene + f"e{size}"))
    admin = User(openid=f"bench-evidence-admin-{size}", name=f"管理员{size}")
    workers = [User(openid=f"bench-evidence-gw{size}-{i}", name=f"网格员{i}") for i in range(2)]
    db.session.add_all([admin, *workers])
    db.session.flush()
    grant(admin, "admin")
    c = service.create(admin, {"scope": {"type": "compound", "id": compound_id}, "title": f"加装电梯征询（{size} 户）",
                               "kind": "elevator", "rule": {"preset": "major"}, "closes_at": utcnow() + timedelta(days=7)})
    service.open_(admin, c.id)
    db.session.commit()
    roll = db.session.execute(db.select(RollEntry.flat_id, RollEntry.person_key)
                              .where(RollEntry.consultation_id == c.id).order_by(RollEntry.flat_id)).all()
    users = [{"openid": f"bench-evidence-{size}-{i}", "name": f"业主用户{i}"} for i in range(len(roll))]
    for i in range(0, len(users), CHUNK):
        db.session.execute(insert(User), users[i:i + CHUNK])
    user_ids = list(db.session.scalars(db.select(User.id).where(User.openid.like(f"bench-evidence-{size}-%")).order_by(User.id)))
    common = [signature(rnd) for _ in range(50)]
    start = utcnow().replace(microsecond=0) - timedelta(days=3)
    pending, blobs, thumbs, seen = [], [], [], set()

    def ballot(flat_id, person, channel, choice, at, user_id=None, entered=None, confirmed=None, status="current"):
        png = signature(rnd) if rnd.random() < distinct else rnd.choice(common)
        digest = hashlib.sha256(png).hexdigest()
        blobs.append({"sha256": digest, "mimetype": "image/png", "data": png})
        if digest not in seen:
            seen.add(digest)
            thumbs.append({"sha256": digest, "png": make_thumbnail(png), "created_at": at})
        row = dict(consultation_id=c.id, flat_id=flat_id, person_key=person, channel=channel, choice=choice,
                   status=status, user_id=user_id, entered_by_id=entered, confirmed_by_id=confirmed,
                   confirmed_at=at if confirmed else None, signature_sha256=digest, receipt=_receipt(),
                   idempotency_key=None, created_at=at)
        from types import SimpleNamespace

        row["content_hash"] = audit.sha256(audit.canonical(content(SimpleNamespace(**row))))
        pending.append(row)

    def flush():
        ids = []
        for blob in blobs:  # one blob per ballot, as the app writes them
            ids.append(db.session.execute(insert(Blob).values(**blob)).inserted_primary_key[0])
        for row, blob_id in zip(pending, ids):
            row["signature_id"] = blob_id
        db.session.execute(insert(Ballot), pending)
        if thumbs:
            db.session.execute(insert(EvidenceThumbnail), thumbs)
        db.session.commit()
        pending.clear(), blobs.clear(), thumbs.clear()

    done = 0
    for n, (flat_id, person) in enumerate(roll):
        at = start + timedelta(seconds=n * 7)
        choice = "agree" if n % 10 < 7 else "disagree" if n % 10 < 9 else "abstain"
        if n % 33 == 0:  # 3% on paper
            ballot(flat_id, person, "paper", choice, at, entered=workers[0].id, confirmed=workers[1].id)
        else:
            if n % 20 == 0:  # 5% changed their answer
                ballot(flat_id, person, "online", "disagree", at - timedelta(hours=5), user_id=user_ids[n], status="superseded")
            ballot(flat_id, person, "online", choice, at, user_id=user_ids[n])
        if len(pending) >= CHUNK:
            done += len(pending)
            flush()
    done += len(pending)
    flush()
    return c.id, done


def child(args):
    """One export in this process: figures as one JSON line."""
    if args.tracemalloc:
        import tracemalloc

        tracemalloc.start()
    from sqlalchemy import event

    app = app_for(args.database_url, job=True)
    from app.extensions import db
    from app.models import Consultation
    from app.services import exports

    statements = [0]
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *a: statements.__setitem__(0, statements[0] + 1))
        c = db.session.get(Consultation, args.consultation)
        before = rss_mb()
        scratch = tempfile.mkdtemp(prefix="bench-evidence-")
        path = os.path.join(scratch, f"evidence.{args.format}")
        wall, cpu = time.perf_counter(), time.process_time()
        exports.build(c, args.format, path, scratch, lambda done, total: db.session.commit())
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        size = os.path.getsize(path)
        import shutil

        shutil.rmtree(scratch)
    figures = {"seconds": wall, "cpu": cpu, "statements": statements[0], "bytes": size,
               "max_rss_mb": peak_rss_mb(), "before_mb": before}
    if args.tracemalloc:
        figures["python_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    print(json.dumps(figures))


def run_child(url, consultation, fmt, trace=False):
    cmd = [sys.executable, os.path.abspath(__file__), "--child", "--database-url", url, "--consultation",
           str(consultation), "--format", fmt] + (["--tracemalloc"] if trace else [])
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        sys.stderr.write(out.stderr[-3000:])
        raise SystemExit(f"the {fmt} export failed")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="5000,20000")
    parser.add_argument("--distinct", type=float, default=1.0)
    parser.add_argument("--database-url")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--tracemalloc", action="store_true")
    parser.add_argument("--formats", default="xlsx,pdf")
    parser.add_argument("--reuse", action="store_true", help="the database kept by an earlier --keep run: no seeding")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--consultation", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--format", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)

    from bench_plans import drop_database, prepare_database

    tmp = None
    url = args.database_url
    if not url:
        tmp = tempfile.mkdtemp(prefix="bench-evidence-")
        url = f"sqlite:///{tmp}/bench.db"
    prepared = None if args.reuse else prepare_database(url)
    app = app_for(url)
    from flask_migrate import upgrade

    from app.extensions import db

    rnd = random.Random(13)
    sizes = [int(s) for s in args.sizes.split(",")]
    consultations = {}
    with app.app_context():
        if args.reuse:
            from app.models import Ballot, Consultation

            for size in sizes:
                cid = db.session.scalar(db.select(Consultation.id).where(Consultation.title == f"加装电梯征询（{size} 户）"))
                consultations[size] = cid, db.session.scalar(db.select(db.func.count(Ballot.id)).where(Ballot.consultation_id == cid))
        else:
            upgrade()
        for size in ([] if args.reuse else sizes):
            t = time.perf_counter()
            consultations[size] = seed(db, size, args.distinct, rnd)
            print(f"seeded {size} flats, {consultations[size][1]} ballots ({args.distinct:.0%} distinct signatures) "
                  f"in {time.perf_counter() - t:.1f} s", flush=True)
        db.session.remove()
        db.engine.dispose()
    backend = url.split(":")[0]
    print(f"\nevidence exports on {backend}, {os.cpu_count()} CPUs; each in a fresh process "
          f"(memory: the process's peak resident set, VmHWM)")
    results = {}
    ok = True
    for fmt in args.formats.split(","):
        for size in sizes:
            cid, ballots = consultations[size]
            load = loadavg()
            r = run_child(url, cid, fmt)
            if args.tracemalloc:
                r["python_peak_mb"] = run_child(url, cid, fmt, trace=True)["python_peak_mb"]
            results[(fmt, size)] = r
            memory_ok = r["max_rss_mb"] < MEMORY_GOAL_MB
            line = (f"{fmt:4} {ballots:6d} ballots: {r['seconds']:6.2f} s (CPU {r['cpu']:.2f} s, {r['statements']} statements), "
                    f"{r['bytes'] / 2**20:6.1f} MB file, peak RSS {r['max_rss_mb']:.0f} MB "
                    f"(job process loaded: {r['before_mb']:.0f} MB, the export +{r['max_rss_mb'] - r['before_mb']:.0f} MB) "
                    f"(goal {MEMORY_GOAL_MB} MB: {verdict(memory_ok)})")
            if "python_peak_mb" in r:
                line += f", Python heap peak {r['python_peak_mb']:.1f} MB (tracemalloc)"
            if size == 5000:
                time_ok = r["seconds"] < TIME_GOALS_S[fmt]
                line += f"; goal {TIME_GOALS_S[fmt]:.0f} s: {verdict(time_ok)}"
                ok = ok and time_ok
            ok = ok and memory_ok
            print(line + f"  [{load}]", flush=True)
        if len(sizes) > 1:
            small, large = sizes[0], sizes[-1]
            ratio = results[(fmt, large)]["seconds"] / results[(fmt, small)]["seconds"]
            rows = consultations[large][1] / consultations[small][1]
            print(f"{fmt:4} time ratio {large}/{small}: {ratio:.2f} for {rows:.2f}x the ballots "
                  f"(linear: {verdict(ratio < rows * 1.25)})")
            ok = ok and ratio < rows * 1.25
    print(f"\nall goals: {verdict(ok)}  [{loadavg()}]")
    if prepared and not args.keep:
        drop_database(prepared)
    if tmp and not args.keep:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
