"""Can community staff trust the roster import: all rows or none, every bad row named?"""
import csv
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from app.extensions import db as _db
from app.models import Building, Compound, Flat, Owner, Unit
from app.services.roster import RosterError, import_file

HEADER = ["楼栋", "单元", "房号", "楼层", "面积", "面积来源", "业主姓名", "业主电话", "证件号", "开发商持有"]
GOOD = [
    ["1栋", "1单元", "101", "1", "68.52", "不动产登记", "张建国", "13800001234", "", "否"],
    ["1栋", "1单元", "102", "1", "72.10", "实测", "", "", "", "是"],
    ["1栋", "1单元", "201", "2", "88", "合同", "王秀英", "13900005678", "430111195503120021", ""],
    ["1栋", "2单元", "201", "2", "90.05", "不动产登记", "王秀英", "139 0000 5678", "430111195503120021", "否"],
    ["2栋", "1单元", "101", "1", "45.5", "登记", "李淑珍", "", "", "否"],
]
PLACE = dict(community="向阳社区", street="东塘街道")


def write_csv(path, rows, encoding="utf-8-sig"):
    with open(path, "w", newline="", encoding=encoding) as fh:
        csv.writer(fh).writerows([HEADER, *rows])
    return str(path)


def write_xlsx(path, rows):
    wb = Workbook()
    wb.active.append(HEADER)
    for row in rows:
        wb.active.append(row)
    wb.save(path)
    return str(path)


def snapshot():
    """Every row of every table: the database as a value, to show that nothing changed."""
    out = {}
    for table in _db.metadata.sorted_tables:
        rows = _db.session.execute(table.select()).all()
        out[table.name] = sorted(tuple(map(str, r)) for r in rows)
    return out


def flat(building, unit, room):
    return _db.session.scalar(
        _db.select(Flat).join(Unit).join(Building).where(Building.name == building, Unit.name == unit, Flat.room == room)
    )


def test_gbk_csv_imports_exact_areas_and_one_buyer_as_one_owner(db, tmp_path):
    """Does a GBK sheet, as Chinese Excel writes it, import with exact areas and one owner per ID?"""
    report = import_file(write_csv(tmp_path / "r.csv", GOOD, "gbk"), "阳光里小区", **PLACE)
    db.session.commit()
    assert (report.rows, report.flats_created, report.owners_created) == (5, 5, 3)
    assert flat("1栋", "1单元", "101").area == Decimal("68.52")
    assert flat("2栋", "1单元", "101").area == Decimal("45.50")
    assert flat("1栋", "1单元", "201").area_source == "contract"
    held = flat("1栋", "1单元", "102")
    assert held.developer_held and held.owner is None
    wang1, wang2 = flat("1栋", "1单元", "201").owner, flat("1栋", "2单元", "201").owner
    assert wang1 is wang2 and wang1.phone == "13900005678"
    assert "430111195503120021" not in wang1.owner_key and len(wang1.owner_key) == 64
    assert report.places_created == ["街道 东塘街道", "社区 向阳社区", "小区 阳光里小区"]


def test_xlsx_with_numbers_as_excel_stores_them(db, tmp_path):
    """Do numeric cells (floats, integer phones) from .xlsx read as the sheet shows them?"""
    rows = [["1栋", "1单元", 101, 1, 68.52, "实测", "张建国", 13800001234, None, None]]
    import_file(write_xlsx(tmp_path / "r.xlsx", rows), "阳光里小区", **PLACE)
    f = flat("1栋", "1单元", "101")
    assert (f.floor, f.area, f.owner.phone) == (1, Decimal("68.52"), "13800001234")


BROKEN = [  # (row as written, column expected in the error, a word of the reason)
    (["", "1单元", "301", "3", "70", "实测", "甲", "", "", ""], "楼栋", "不能为空"),
    (["1栋", "", "302", "3", "70", "实测", "乙", "", "", ""], "单元", "不能为空"),
    (["1栋", "1单元", "", "3", "70", "实测", "丙", "", "", ""], "房号", "不能为空"),
    (["1栋", "1单元", "303", "三", "70", "实测", "丁", "", "", ""], "楼层", "不是整数"),
    (["1栋", "1单元", "304", "500", "70", "实测", "戊", "", "", ""], "楼层", "超出范围"),
    (["1栋", "1单元", "305", "3", "", "实测", "己", "", "", ""], "面积", "缺少面积"),
    (["1栋", "1单元", "306", "3", "约80", "实测", "庚", "", "", ""], "面积", "不是数字"),
    (["1栋", "1单元", "307", "3", "-5", "实测", "辛", "", "", ""], "面积", "之间"),
    (["1栋", "1单元", "308", "3", "80.123", "实测", "壬", "", "", ""], "面积", "两位小数"),
    (["1栋", "1单元", "309", "3", "0", "实测", "癸", "", "", ""], "面积", "之间"),
    (["1栋", "1单元", "401", "4", "70", "估算", "子", "", "", ""], "面积来源", "未知的面积来源"),
    (["1栋", "1单元", "402", "4", "70", "", "丑", "", "", ""], "面积来源", "缺少面积来源"),
    (["1栋", "1单元", "403", "4", "70", "实测", "", "", "", "否"], "业主姓名", "缺少业主姓名"),
    (["1栋", "1单元", "404", "4", "70", "实测", "寅", "1380000", "", ""], "业主电话", "手机号格式"),
    (["1栋", "1单元", "405", "4", "70", "实测", "卯", "13800abc123", "", ""], "业主电话", "手机号格式"),
    (["1栋", "1单元", "406", "4", "70", "实测", "辰", "", "", "也许"], "开发商持有", "是 或 否"),
    (["1栋", "1单元", "101", "1", "70", "实测", "巳", "", "", ""], "房号", "房号重复"),
    (["1栋", "1单元", "407", "4", "70", "实测", "午", "", "12-34", ""], "证件号", "格式不正确"),
    (["1栋", "1单元", "408", "4", "70", "实测", "未", "", "430111195503120021", ""], "证件号", "另一个姓名"),
    (["1栋", "1单元", "12345678901234567", "4", "70", "实测", "申", "", "", ""], "房号", "过长"),
    (["1栋", "1单元", "409", "4", "20000", "实测", "酉", "", "", ""], "面积", "之间"),
]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_twenty_broken_rows_each_named_and_nothing_written(db, tmp_path, fmt):
    """Is every broken row reported with its row and column, and the database left exactly as it was?"""
    import_file(write_csv(tmp_path / "first.csv", GOOD), "阳光里小区", **PLACE)
    db.session.commit()
    before = snapshot()
    # The good rows again with a changed area: a partial import would show up as this change.
    rows = [r[:] for r in GOOD]
    rows[0][4] = "99.99"
    rows += [r for r, _, _ in BROKEN]
    path = write_csv(tmp_path / "bad.csv", rows) if fmt == "csv" else write_xlsx(tmp_path / "bad.xlsx", rows)
    with pytest.raises(RosterError) as caught:
        import_file(path, "阳光里小区", **PLACE)
    db.session.rollback()
    errors = caught.value.errors
    for index, (_, column, reason) in enumerate(BROKEN):
        row_number = 2 + len(GOOD) + index  # the header is row 1
        mine = [e for e in errors if e.row == row_number]
        assert mine, f"row {row_number} ({reason}) not reported"
        assert any(e.column == column and reason in e.message for e in mine), (row_number, [str(e) for e in mine])
    assert len({e.row for e in errors}) == len(BROKEN)
    assert "第 7 行「楼栋」：不能为空" in [str(e) for e in errors]
    assert snapshot() == before


def test_missing_required_columns_are_named(db, tmp_path):
    """Does a sheet without the area column say so before looking at any row?"""
    path = tmp_path / "r.csv"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("楼栋,单元,房号,楼层,面积来源,业主姓名\n1栋,1单元,101,1,实测,张三\n")
    with pytest.raises(RosterError) as caught:
        import_file(str(path), "阳光里小区", **PLACE)
    assert [(e.row, e.column, e.message) for e in caught.value.errors] == [(1, "面积", "缺少必填列")]


def test_second_import_updates_flats_in_place(db, tmp_path):
    """Does a corrected sheet update the same flats (same ids) instead of adding new ones?"""
    import_file(write_csv(tmp_path / "a.csv", GOOD), "阳光里小区", **PLACE)
    db.session.commit()
    ids = {(f.unit.building.name, f.unit.name, f.room): f.id for f in db.session.scalars(db.select(Flat))}
    owners = db.session.scalar(db.select(db.func.count(Owner.id)))
    corrected = [r[:] for r in GOOD]
    corrected[0][4] = "68.60"  # surveyed again
    corrected[0][5] = "实测"
    report = import_file(write_csv(tmp_path / "b.csv", corrected), "阳光里小区", **PLACE)
    db.session.commit()
    assert (report.flats_created, report.flats_updated, report.flats_unchanged) == (0, 1, 4)
    assert report.owners_created == 0
    assert db.session.scalar(db.select(db.func.count(Owner.id))) == owners
    assert {(f.unit.building.name, f.unit.name, f.room): f.id for f in db.session.scalars(db.select(Flat))} == ids
    f = flat("1栋", "1单元", "101")
    assert (f.area, f.area_source) == (Decimal("68.60"), "survey")


def test_new_compound_needs_its_community_and_street(db, tmp_path):
    """Is a compound that does not exist refused unless its community and street are named?"""
    with pytest.raises(RosterError) as caught:
        import_file(write_csv(tmp_path / "r.csv", GOOD), "不存在小区")
    assert "--community" in caught.value.errors[0].message
    assert db.session.scalar(db.select(db.func.count(Compound.id))) == 0


def test_unreadable_encoding_is_reported(db, tmp_path):
    """Is a file in neither UTF-8 nor GBK refused with a Chinese reason?"""
    path = tmp_path / "r.csv"
    path.write_bytes(b"\xff\xfe\x00\x00garbage\x81\x30\x81")
    with pytest.raises(RosterError) as caught:
        import_file(str(path), "阳光里小区", **PLACE)
    assert "编码" in caught.value.errors[0].message


def test_cli_import_reports_rows_and_writes_nothing(cli, tmp_path):
    """Does `flask roster import` print each bad row in Chinese, fail, and leave nothing behind?"""
    rows = GOOD + [BROKEN[3][0], BROKEN[13][0]]
    result = cli("roster", "import", write_csv(tmp_path / "r.csv", rows), "--compound", "阳光里小区",
                 "--community", "向阳社区", "--street", "东塘街道")
    assert result.exit_code != 0
    assert "第 7 行「楼层」：「三」不是整数" in result.output
    assert "第 8 行「业主电话」：手机号格式不正确" in result.output
    assert _db.session.scalar(_db.select(_db.func.count(Flat.id))) == 0


def test_cli_dry_run_checks_without_writing(cli, tmp_path):
    """Does --dry-run report what it would do and write nothing?"""
    result = cli("roster", "import", write_csv(tmp_path / "r.csv", GOOD), "--compound", "阳光里小区",
                 "--community", "向阳社区", "--street", "东塘街道", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "试导入（未写入）" in result.output and "新增 5 户" in result.output
    assert _db.session.scalar(_db.select(_db.func.count(Compound.id))) == 0


def test_template_round_trips(cli, tmp_path):
    """Does the template carry the expected columns, and do its example rows import as they stand?"""
    path = str(tmp_path / "模板.xlsx")
    assert cli("roster", "template", path).exit_code == 0
    wb = load_workbook(path)
    assert [c.value for c in wb["名册"][1]] == HEADER
    assert "填写说明" in wb.sheetnames
    result = cli("roster", "import", path, "--compound", "模板小区", "--community", "向阳社区", "--street", "东塘街道")
    assert result.exit_code == 0, result.output
    assert "新增 2 户" in result.output


def test_demo_seed_is_realistic_and_runs_once(cli):
    """Does the demo hold ~100 flats, one owner of three flats, developer-held flats, and staff?"""
    from app.models import StaffRole

    first = cli("demo", "seed")
    assert first.exit_code == 0 and "新增 102 户" in first.output
    assert "已存在" in cli("demo", "seed").output
    flats = _db.session.scalars(_db.select(Flat)).all()
    assert len(flats) == 102
    assert all(Decimal(40) <= f.area <= Decimal(110) for f in flats)
    assert sum(f.developer_held for f in flats) == 3
    holdings = {}
    for f in flats:
        if f.owner_id:
            holdings[f.owner_id] = holdings.get(f.owner_id, 0) + 1
    assert sorted(holdings.values())[-1] == 3
    roles = {r.role for r in _db.session.scalars(_db.select(StaffRole))}
    assert {"grid_worker", "committee", "street_officer"} <= roles
