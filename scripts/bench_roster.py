#!/usr/bin/env python
"""Benchmark: import a generated roster sheet of 100,000 flats; prints time and peak memory.

Three imports of the same .xlsx: the first (every flat and owner new), the second (every flat
compared and left in place), and the sheet with one bad row at its end, which must be refused with
nothing written (all or nothing, though the rows before it were written in batches).

Goals: issue 13, 100,000 rows under 300 MB peak RSS of the process (issue 2: 5,000 rows under 15 s).
Usage: .venv/bin/python scripts/bench_roster.py [--flats 100000] [--database URL]
The database is a fresh temporary SQLite file unless --database is given (it is emptied first), e.g.
--database 'mysql+pymysql://root@127.0.0.1:3306/gj_bench?charset=utf8mb4'.
"""
import argparse
import os
import random
import resource
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def make_sheet(path, flats, broken=False):
    from openpyxl import Workbook

    rnd = random.Random(5000)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("名册")
    ws.append(["楼栋", "单元", "房号", "楼层", "面积", "面积来源", "业主姓名", "业主电话", "证件号", "开发商持有"])
    n = 0
    building = 0
    while n < flats:
        building += 1
        for unit in range(1, 5):
            for floor in range(1, 26):
                for i in range(1, 3):
                    if n >= flats:
                        break
                    n += 1
                    multi = n % 50 == 0  # every 50th flat belongs to a buyer of several
                    ws.append([
                        f"{building}栋", f"{unit}单元", f"{floor}{i:02d}", floor,
                        round(rnd.uniform(40, 140), 2), "不动产登记", f"业主{n if not multi else 'M' + str(n % 7)}",
                        f"13{n:09d}", f"43011119600101{n % 7:04d}" if multi else "", "是" if n % 97 == 0 else "否",
                    ])
    if broken:  # one bad row at the end: the area is not a number
        ws.append([f"{building + 1}栋", "1单元", "101", 1, "约80", "不动产登记", "业主末", "", "", "否"])
    wb.save(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--flats", type=int, default=100000)
    parser.add_argument("--database", help="SQLAlchemy URL; default a temporary SQLite file")
    args = parser.parse_args()

    from flask_migrate import upgrade
    from sqlalchemy import text

    from app import create_app
    from app.extensions import db
    from app.models import Flat, Owner
    from app.services.roster import RosterError, import_file
    from config import TestingConfig

    tmp = tempfile.mkdtemp(prefix="bench_roster_")
    url = args.database or "sqlite:///" + os.path.join(tmp, "bench.db")

    class BenchConfig(TestingConfig):
        SQLALCHEMY_DATABASE_URI = url

    sheet = os.path.join(tmp, "roster.xlsx")
    t0 = time.perf_counter()
    make_sheet(sheet, args.flats)
    print(f"sheet: {args.flats} flats, {os.path.getsize(sheet) / 1024:.0f} KiB, made in {time.perf_counter() - t0:.1f} s")
    bad_sheet = os.path.join(tmp, "roster-bad.xlsx")
    make_sheet(bad_sheet, args.flats, broken=True)

    app = create_app(BenchConfig)
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        for label in ("first import", "second import (update in place)"):
            t0 = time.perf_counter()
            report = import_file(sheet, "基准小区", community="基准社区", street="基准街道")
            db.session.commit()
            db.session.expunge_all()
            elapsed = time.perf_counter() - t0
            print(f"{label}: {elapsed:.2f} s  ({report.summary()})")
        counts = lambda: (db.session.scalar(db.select(db.func.count(Flat.id))), db.session.scalar(db.select(db.func.count(Owner.id))))  # noqa: E731
        before = counts()
        t0 = time.perf_counter()
        try:
            import_file(bad_sheet, "基准小区")
            raise SystemExit("the sheet with a bad last row was imported")
        except RosterError as exc:
            db.session.rollback()
            print(f"sheet with a bad last row: refused in {time.perf_counter() - t0:.2f} s ({exc}: "
                  f"{exc.errors[0]}); flats, owners before {before}, after {counts()}"
                  f" ({'nothing written' if counts() == before else 'CHANGED'})")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"database: {db.engine.dialect.name}")
    print(f"peak memory (process max RSS): {peak:.0f} MB (before the imports: {rss_before:.0f} MB)")
    print(f"goal: < 300 MB for 100,000 rows ({'met' if peak < 300 else 'NOT met'}); load average "
          + " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
