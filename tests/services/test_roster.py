"""Can community staff trust the roster import: all rows or none, every bad row named?"""
import csv
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from app.extensions import db as _db
from app.models import Binding, Building, Community, Compound, Flat, Grid, Owner, Street, Unit
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
    assert [c.value for c in wb["名册"][1]] == HEADER + ["网格"]
    assert "填写说明" in wb.sheetnames
    notes = {row[0]: row[1] for row in wb["填写说明"].iter_rows(values_only=True)}
    assert "网格" in notes and "flask grid assign" in notes["网格"]
    result = cli("roster", "import", path, "--compound", "模板小区", "--community", "向阳社区", "--street", "东塘街道")
    assert result.exit_code == 0, result.output
    assert "新增 2 户" in result.output and "网格 第一网格" in result.output
    assert {b.grid.name for b in _db.session.scalars(_db.select(Building))} == {"第一网格"}


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


def with_grid(rows, grids):
    """The rows with a 网格 column: grids maps a building to its grid name ("" leaves it blank)."""
    return [HEADER + ["所属网格"]] + [r + [grids.get(r[0], "")] for r in rows]


def write_rows_csv(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return str(path)


def grid_of(building):
    b = _db.session.scalar(_db.select(Building).filter_by(name=building))
    return b.grid.name if b.grid else None


def test_grid_column_puts_buildings_in_grids_and_reimport_moves_them(db, tmp_path):
    """Does a 网格 column create the compound's grids and put each building in its grid, and does a later sheet move a building?"""
    report = import_file(write_rows_csv(tmp_path / "a.csv", with_grid(GOOD, {"1栋": "一网格", "2栋": "二网格"})),
                         "阳光里小区", **PLACE)
    db.session.commit()
    assert (grid_of("1栋"), grid_of("2栋")) == ("一网格", "二网格")
    assert "网格 一网格" in report.places_created and report.buildings_moved == 2
    compound = db.session.scalar(db.select(Compound))
    assert {g.compound_id for g in db.session.scalars(db.select(Grid))} == {compound.id}
    # 2栋 moves to 一网格; 1栋 is left blank on one row and named on another: unchanged.
    rows = with_grid(GOOD, {"2栋": "一网格"})
    rows[1][-1] = "一网格"
    report = import_file(write_rows_csv(tmp_path / "b.csv", rows), "阳光里小区", **PLACE)
    db.session.commit()
    assert (grid_of("1栋"), grid_of("2栋")) == ("一网格", "一网格") and report.buildings_moved == 1
    assert db.session.scalar(db.select(db.func.count(Grid.id))) == 2  # 二网格 stays, now empty
    # A sheet without the column leaves the grids as they are.
    import_file(write_csv(tmp_path / "c.csv", GOOD), "阳光里小区", **PLACE)
    assert (grid_of("1栋"), grid_of("2栋")) == ("一网格", "一网格")


def test_a_building_in_two_grids_is_an_error(db, tmp_path):
    """Is a building named in two grids refused with the row and the 网格 column, and nothing written?"""
    rows = with_grid(GOOD, {"1栋": "一网格", "2栋": "二网格"})
    rows[3][-1] = "二网格"  # 1栋1单元201 (row 4) says 二网格, rows 2-3 say 一网格
    with pytest.raises(RosterError) as caught:
        import_file(write_rows_csv(tmp_path / "r.csv", rows), "阳光里小区", **PLACE)
    db.session.rollback()
    assert [(e.row, e.column) for e in caught.value.errors] == [(4, "网格")]
    assert "第 2 行" in caught.value.errors[0].message and "一网格" in caught.value.errors[0].message
    assert db.session.scalar(db.select(db.func.count(Grid.id))) == 0


def binding(user_name, flat_, relation, owner, status="approved"):
    from tests import factories

    b = Binding(user=factories.user(user_name), flat=flat_, relation=relation, name="某人", status=status,
                method="roster_phone", owner_id=owner.id if owner else None)
    _db.session.add(b)
    _db.session.flush()
    return b


def test_a_new_owner_ends_the_previous_owners_bindings(cli, tmp_path):
    """When a re-import names a new owner for a flat, are the previous owner's owner bindings ended (a dry run only counting them), and every other binding left alone?"""
    import_file(write_csv(tmp_path / "a.csv", GOOD), "阳光里小区", **PLACE)
    sold, kept = flat("1栋", "1单元", "101"), flat("2栋", "1单元", "101")
    old_owner = sold.owner
    ended = [binding("old1", sold, "owner", old_owner), binding("old2", sold, "owner", old_owner, "pending")]
    untouched = [
        binding("family", sold, "family", old_owner),  # not an owner binding
        binding("other", sold, "owner", kept.owner),  # verified against someone else
        binding("gone", sold, "owner", old_owner, "rejected"),  # already inactive
        binding("neighbour", kept, "owner", kept.owner),  # another flat, owner unchanged
    ]
    ended, untouched = [b.id for b in ended], [b.id for b in untouched]
    _db.session.commit()
    ids = {b.id: b.status for b in _db.session.scalars(_db.select(Binding))}
    rows = [r[:] for r in GOOD]
    rows[0][6:8] = ["赵新来", "13700001111"]  # 1栋1单元101 sold
    path = write_csv(tmp_path / "b.csv", rows)
    args = ("roster", "import", path, "--compound", "阳光里小区")

    dry = cli(*args, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "将结束原业主绑定 2 个" in dry.output
    assert {b.id: b.status for b in _db.session.scalars(_db.select(Binding))} == ids

    result = cli(*args)
    assert result.exit_code == 0, result.output
    assert "结束原业主绑定 2 个" in result.output
    after = {b.id: b for b in _db.session.scalars(_db.select(Binding))}
    for i in ended:
        assert after[i].status == "ended"
        assert after[i].reason == "名册变更：该房屋业主已变更，原业主绑定失效" and after[i].reviewed_at
    assert {i: after[i].status for i in untouched} == {i: ids[i] for i in untouched}
    assert flat("1栋", "1单元", "101").owner.name == "赵新来"
    # Importing the same sheet again changes no owner and ends nothing more.
    assert "结束原业主绑定 0 个" in cli(*args).output


UNREADABLE = [  # (file name, bytes, a word of the reason)
    ("名册.xlsx", b"this is not a spreadsheet at all", "不是有效的 .xlsx"),
    ("名册.xlsx", b"PK\x03\x04" + b"\x00" * 60, "无法读取"),
    ("名册.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500, "旧版 Excel"),
    ("旧名册.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500, "旧版 Excel"),
    ("名册.csv", bytes(range(256)) * 4, "二进制"),
    ("名册.csv", b"PK\x03\x04" + b"\x14\x00" * 40, "扩展名改回 .xlsx"),
    ("名册.csv", b"", "空"),
    ("名册.xlsx", b"", "空"),
]


@pytest.mark.parametrize("name, data, reason", UNREADABLE)
def test_an_unreadable_file_is_one_chinese_error_and_exit_1(cli, tmp_path, name, data, reason):
    """Does a file that is not a readable sheet (damaged .xlsx, old .xls, binary .csv, empty) fail with exit code 1 and a Chinese reason, no traceback?"""
    path = tmp_path / name
    path.write_bytes(data)
    result = cli("roster", "import", str(path), "--compound", "阳光里小区", "--community", "向阳社区", "--street", "东塘街道")
    assert result.exit_code == 1, result.output
    assert reason in result.output and "未导入任何数据" in result.output
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)
    assert _db.session.scalar(_db.select(_db.func.count(Compound.id))) == 0


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_control_characters_in_a_cell_are_named(db, tmp_path, fmt):
    """Is a cell holding a tab, a line break or another control character refused with its row and column?"""
    rows = [r[:] for r in GOOD]
    rows[0][6] = "张\n建国"
    rows[1][1] = "1单元\t"
    rows[2][2] = "2\x7f01"  # DEL (openpyxl refuses to write \x00-\x08 at all)
    rows[4][0] = "2栋\r"
    path = write_csv(tmp_path / "r.csv", rows) if fmt == "csv" else write_xlsx(tmp_path / "r.xlsx", rows)
    with pytest.raises(RosterError) as caught:
        import_file(path, "阳光里小区", **PLACE)
    found = {(e.row, e.column) for e in caught.value.errors if "控制字符" in e.message}
    assert found == {(2, "业主姓名"), (3, "单元"), (4, "房号"), (6, "楼栋")}


def test_readme_import_after_the_demo_reuses_its_street_and_community(cli, tmp_path):
    """After the demo seed, does the README's import command (no district) reuse 东塘街道 and 向阳社区, and does a new compound there too?"""
    assert cli("demo", "seed").exit_code == 0
    path = write_csv(tmp_path / "r.csv", GOOD)
    place = ("--community", "向阳社区", "--street", "东塘街道")
    same = cli("roster", "import", path, "--compound", "阳光里小区", *place)
    assert same.exit_code == 0, same.output
    new = cli("roster", "import", path, "--compound", "幸福里小区", *place)
    assert new.exit_code == 0, new.output
    assert "新建：小区 幸福里小区" in new.output and "街道" not in new.output.split("新建：")[1]
    assert _db.session.scalar(_db.select(_db.func.count(Street.id))) == 1
    assert _db.session.scalar(_db.select(_db.func.count(Community.id))) == 1
    compounds = _db.session.scalars(_db.select(Compound).order_by(Compound.id)).all()
    assert [c.name for c in compounds] == ["阳光里小区", "幸福里小区"]
    assert compounds[0].community_id == compounds[1].community_id


def test_a_street_name_shared_by_two_districts_needs_the_district(db, tmp_path):
    """When two districts each have a 东塘街道, is a new compound naming only the street refused, and accepted with --district?"""
    path = write_csv(tmp_path / "r.csv", GOOD)
    import_file(path, "甲小区", community="甲社区", street="东塘街道", district="雨花区")
    import_file(path, "乙小区", community="乙社区", street="东塘街道", district="天心区")
    with pytest.raises(RosterError) as caught:
        import_file(path, "丙小区", community="甲社区", street="东塘街道")
    assert "--district" in caught.value.errors[0].message
    report = import_file(path, "丙小区", community="甲社区", street="东塘街道", district="雨花区")
    assert report.places_created == ["小区 丙小区"]


def test_a_bad_row_after_written_batches_leaves_nothing(db, tmp_path, monkeypatch):
    """With batches of 2 rows, is a sheet whose last row is bad refused after its first batches were written, and nothing left behind once rolled back, every error still named?"""
    import app.services.roster as roster

    monkeypatch.setattr(roster, "BATCH", 2)
    import_file(write_csv(tmp_path / "a.csv", GOOD[:2]), "阳光里小区", **PLACE)
    db.session.commit()
    before = snapshot()
    rows = [r[:] for r in GOOD] + [BROKEN[3][0], BROKEN[13][0]]
    rows[0][4] = "99.99"  # written in the first batch, before the bad rows are read
    with pytest.raises(RosterError) as caught:
        import_file(write_csv(tmp_path / "b.csv", rows), "阳光里小区", **PLACE)
    db.session.rollback()
    assert [(e.row, e.column) for e in caught.value.errors] == [(7, "楼层"), (8, "业主电话")]
    assert snapshot() == before


def test_one_owner_across_batches_and_many_errors_counted(db, tmp_path, monkeypatch):
    """With batches of 2 rows, is one ID number in the first and last batch still one owner (updated in place), and are errors beyond the listed ones counted in the message?"""
    import app.services.roster as roster

    monkeypatch.setattr(roster, "BATCH", 2)
    rows = [r[:] for r in GOOD] + [["3栋", "1单元", "101", "1", "50", "实测", "王秀英", "13900009999", "430111195503120021", ""]]
    report = import_file(write_csv(tmp_path / "a.csv", rows), "阳光里小区", **PLACE)
    db.session.commit()
    assert (report.flats_created, report.owners_created) == (6, 3)
    wang = flat("3栋", "1单元", "101").owner
    assert wang is flat("1栋", "1单元", "201").owner and wang.phone == "13900009999"
    monkeypatch.setattr(roster, "MAX_ERRORS", 3)
    bad = [["9栋", "1单元", str(100 + i), "一", "70", "实测", "某", "", "", ""] for i in range(5)]
    with pytest.raises(RosterError) as caught:
        import_file(write_csv(tmp_path / "b.csv", bad), "阳光里小区", **PLACE)
    assert len(caught.value.errors) == 3 and caught.value.total == 5
    assert "5 处错误" in str(caught.value) and "前 3 处" in str(caught.value)


# ---------------------------------------------------------------- co-owners (共有人, issue 15)


def co_owners(f):
    from app.models import FlatCoOwner

    rows = _db.session.execute(_db.select(Owner.name).join(FlatCoOwner, FlatCoOwner.owner_id == Owner.id)
                               .where(FlatCoOwner.flat_id == f.id).order_by(FlatCoOwner.position)).all()
    return [r[0] for r in rows]


def test_a_row_names_co_owners_in_order_and_a_reimport_keeps_them_in_step(db, tmp_path):
    """"张建国、李秀英" with their phones in the same order: the first stays Flat.owner, the second is a
    co-owner; another sheet that drops her or adds a third keeps flat_co_owner in step, and the same
    two on another flat are the same owners (by ID key)."""
    rows = [
        ["1栋", "1单元", "101", "1", "68.52", "登记", "张建国、李秀英", "13800001234、13900005678",
         "430111195001010011/430111195202020022", "否"],
        ["1栋", "1单元", "102", "1", "70", "登记", "张建国；李秀英", "13800001234；", "430111195001010011；430111195202020022", "否"],
        ["1栋", "1单元", "201", "2", "70", "登记", "王五", "13700001111", "", "否"],
    ]
    report = import_file(write_csv(tmp_path / "a.csv", rows), "阳光里小区", **PLACE)
    db.session.commit()
    assert report.owners_created == 3
    first, second = flat("1栋", "1单元", "101"), flat("1栋", "1单元", "102")
    assert first.owner.name == "张建国" and co_owners(first) == ["李秀英"]
    assert second.owner_id == first.owner_id and co_owners(second) == ["李秀英"]
    assert co_owners(flat("1栋", "1单元", "201")) == []

    rows[0][6:9] = ["张建国、李秀英、赵六", "13800001234、13900005678、13600002222",
                    "430111195001010011、430111195202020022、430111198003030033"]
    rows[1][6:9] = ["张建国", "13800001234", "430111195001010011"]
    report = import_file(write_csv(tmp_path / "b.csv", rows), "阳光里小区", **PLACE)
    db.session.commit()
    assert co_owners(first) == ["李秀英", "赵六"] and co_owners(second) == []
    assert (report.flats_updated, report.flats_unchanged, report.owners_created) == (2, 1, 1)


def test_co_owner_columns_of_different_lengths_are_a_row_error_and_nothing_is_written(db, tmp_path):
    """Two names but one phone (or three ID numbers): the row and column are named, in Chinese, and
    nothing at all is written."""
    before = snapshot()
    rows = [
        ["1栋", "1单元", "101", "1", "68", "登记", "张建国、李秀英", "13800001234", "", "否"],
        ["1栋", "1单元", "102", "1", "68", "登记", "甲、乙", "", "430111195001010011、430111195202020022、430111198003030033", "否"],
        ["1栋", "1单元", "103", "1", "68", "登记", "丙、", "", "", "否"],
        ["1栋", "1单元", "104", "1", "68", "登记", "丁、丁", "", "", "否"],
        ["1栋", "1单元", "105", "1", "68", "登记", "戊、己", "13800001234、1380000", "", "否"],
    ]
    with pytest.raises(RosterError) as caught:
        import_file(write_csv(tmp_path / "bad.csv", rows), "阳光里小区", **PLACE)
    db.session.rollback()
    found = {(e.row, e.column): e.message for e in caught.value.errors}
    assert "有 1 个电话，却有 2 位业主" in found[(2, "业主电话")]
    assert "有 3 个证件号，却有 2 位业主" in found[(3, "证件号")]
    assert "空的姓名" in found[(4, "业主姓名")]
    assert "重复" in found[(5, "业主姓名")]
    assert "手机号格式" in found[(6, "业主电话")]
    assert snapshot() == before


def test_a_co_owner_removed_by_the_roster_loses_her_owner_binding_the_other_keeps_his(db, tmp_path):
    """The next sheet names only 张建国: 李秀英's owner binding ends with the roster's reason, his stays."""
    from tests import factories

    rows = [["1栋", "1单元", "101", "1", "68", "登记", "张建国、李秀英", "13800001234、13900005678", "", "否"]]
    import_file(write_csv(tmp_path / "a.csv", rows), "阳光里小区", **PLACE)
    f = flat("1栋", "1单元", "101")
    li = _db.session.scalar(_db.select(Owner).filter_by(name="李秀英"))
    his, hers = (Binding(user=factories.user(n), flat=f, relation="owner", name=n, status="approved", owner_id=o)
                 for n, o in (("zhang", f.owner_id), ("li", li.id)))
    _db.session.add_all([his, hers])
    db.session.commit()
    rows[0][6:8] = ["张建国", "13800001234"]
    report = import_file(write_csv(tmp_path / "b.csv", rows), "阳光里小区", **PLACE)
    db.session.commit()
    assert report.bindings_ended == 1
    assert (his.status, hers.status) == ("approved", "ended")
