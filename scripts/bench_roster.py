#!/usr/bin/env python
"""Benchmark: import a generated 5,000-flat roster sheet; prints time and peak memory.

Goal (issue 2): under 15 s and under 300 MB on the project machine (2 cores).
Usage: .venv/bin/python scripts/bench_roster.py [--flats 5000] [--database URL]
The database is a fresh temporary SQLite file unless --database is given (it is emptied first).
"""
import argparse
import os
import random
import resource
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def make_sheet(path, flats):
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
    wb.save(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--flats", type=int, default=5000)
    parser.add_argument("--database", help="SQLAlchemy URL; default a temporary SQLite file")
    args = parser.parse_args()

    from flask_migrate import upgrade
    from sqlalchemy import text

    from app import create_app
    from app.extensions import db
    from app.services.roster import import_file
    from config import TestingConfig

    tmp = tempfile.mkdtemp(prefix="bench_roster_")
    url = args.database or "sqlite:///" + os.path.join(tmp, "bench.db")

    class BenchConfig(TestingConfig):
        SQLALCHEMY_DATABASE_URI = url

    sheet = os.path.join(tmp, "roster.xlsx")
    t0 = time.perf_counter()
    make_sheet(sheet, args.flats)
    print(f"sheet: {args.flats} flats, {os.path.getsize(sheet) / 1024:.0f} KiB, made in {time.perf_counter() - t0:.1f} s")

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
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"database: {db.engine.dialect.name}")
    print(f"peak memory (process max RSS): {peak:.0f} MB (before the imports: {rss_before:.0f} MB)")
    print("goal: < 15 s and < 300 MB")


if __name__ == "__main__":
    main()
