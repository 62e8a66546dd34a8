"""Roster import: the flats of a compound from an .xlsx or .csv sheet, all rows or none."""
import csv
import io
import os
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Binding, Building, Community, Compound, District, Flat, Grid, Owner, Street, Unit
from app.models.bindings import ACTIVE as ACTIVE_BINDINGS
from app.models.places import utcnow
from app.services.privacy import MOBILE, owner_key
from app.services.qrcodes import new_scene

# Canonical column → (Chinese header written in the template, accepted aliases, required)
COLUMNS = {
    "building": ("楼栋", ("楼栋", "楼号", "楼栋号", "栋", "building"), True),
    "unit": ("单元", ("单元", "单元号", "unit"), True),
    "room": ("房号", ("房号", "室号", "房间号", "户号", "room"), True),
    "floor": ("楼层", ("楼层", "层", "floor"), True),
    "area": ("面积", ("面积", "专有部分面积", "建筑面积", "area"), True),
    "area_source": ("面积来源", ("面积来源", "面积依据", "area_source"), True),
    "owner_name": ("业主姓名", ("业主姓名", "业主", "姓名", "owner_name"), True),
    "owner_phone": ("业主电话", ("业主电话", "联系电话", "手机号", "电话", "owner_phone"), False),
    "owner_id": ("证件号", ("证件号", "身份证号", "业主证件号", "owner_id"), False),
    "developer_held": ("开发商持有", ("开发商持有", "未售或未交付", "developer_held"), False),
    "grid": ("网格", ("网格", "所属网格", "网格名称", "网格名", "grid"), False),
}
# Why a binding ends when the roster names another owner for its flat.
OWNER_CHANGED = "名册变更：该房屋业主已变更，原业主绑定失效"
# The first bytes of files that are not what their extension says.
ZIP_MAGIC = b"PK\x03\x04"  # .xlsx (and any zip)
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .xls (and .doc)
AREA_SOURCE_WORDS = {
    "registry": ("不动产登记", "登记", "产权登记", "产权证", "registry"),
    "survey": ("实测", "测绘", "survey"),
    "contract": ("合同", "购房合同", "预售合同", "contract"),
}
YES = ("是", "y", "yes", "1", "true", "√")
NO = ("否", "n", "no", "0", "false", "")
MAX_ERRORS = 200


@dataclass
class RowError:
    row: int
    column: str
    message: str

    def __str__(self):
        if self.row == 0:  # the file or the command, not a row of the sheet
            return f"「{self.column}」：{self.message}"
        return f"第 {self.row} 行「{self.column}」：{self.message}"


class RosterError(Exception):
    """The sheet cannot be imported; nothing was written."""

    def __init__(self, errors):
        if len(errors) == 1 and errors[0].column == "文件":
            text = f"无法读取名册文件：{errors[0].message}；未导入任何数据"
        else:
            text = f"名册有 {len(errors)} 处错误，未导入任何数据"
        super().__init__(text)
        self.errors = errors


def _file_error(message):
    return RosterError([RowError(0, "文件", message)])


@dataclass
class ImportReport:
    compound: str
    rows: int = 0
    flats_created: int = 0
    flats_updated: int = 0
    flats_unchanged: int = 0
    owners_created: int = 0
    places_created: list = field(default_factory=list)
    buildings_moved: int = 0  # buildings put into (another) grid
    bindings_ended: int = 0  # previous owners' bindings ended (a dry run: that it would end)
    dry_run: bool = False

    def summary(self):
        head = "试导入（未写入）" if self.dry_run else "导入完成"
        text = (
            f"{head}：{self.compound}，共 {self.rows} 行；新增 {self.flats_created} 户，"
            f"更新 {self.flats_updated} 户，未变 {self.flats_unchanged} 户；新增业主 {self.owners_created} 人"
        )
        if self.buildings_moved:
            text += f"；{'将划入' if self.dry_run else '划入'}网格的楼栋 {self.buildings_moved} 栋"
        text += f"；{'将' if self.dry_run else ''}结束原业主绑定 {self.bindings_ended} 个"
        if self.places_created:
            text += "；新建：" + "、".join(self.places_created)
        return text


# ---------------------------------------------------------------- reading


def read_sheet(path):
    """Rows of a sheet as (row number, list of cell values); the first row is the header.

    A file that is not what its extension says (an old .xls, a binary renamed .csv, a damaged
    .xlsx) or is empty raises RosterError with a Chinese reason, never a library's traceback."""
    ext = os.path.splitext(path)[1].lower()
    try:
        with open(path, "rb") as fh:
            magic = fh.read(8)
    except OSError as exc:
        raise _file_error(f"无法打开文件（{exc.strerror or type(exc).__name__}）")
    if not magic:
        raise _file_error("文件是空的（0 字节）")
    if ext == ".xls" or magic.startswith(OLE_MAGIC):
        raise _file_error("这是旧版 Excel 文件（.xls），请在 Excel 中“另存为” Excel 工作簿（.xlsx）或 CSV（UTF-8）后再导入")
    if ext in (".xlsx", ".xlsm"):
        yield from _read_xlsx(path, magic)
    elif ext in (".csv", ".txt"):
        if magic.startswith(ZIP_MAGIC):
            raise _file_error("这是一个 Excel（.xlsx）文件而不是 CSV，请把扩展名改回 .xlsx 后再导入")
        with open(path, "rb") as fh:
            raw = fh.read()
        text = _decode(raw)
        try:
            rows = list(csv.reader(io.StringIO(text, newline="")))
        except csv.Error as exc:
            raise _file_error(f"CSV 格式有误（{exc}），请在 Excel 中重新另存为 CSV（UTF-8）")
        yield from enumerate(rows, start=1)
    else:
        raise _file_error(f"不支持的文件类型 {ext or '(无扩展名)'}，请使用 .xlsx 或 .csv")


def _read_xlsx(path, magic):
    if not magic.startswith(ZIP_MAGIC):
        raise _file_error("不是有效的 .xlsx 文件（可能已损坏，或只是改了扩展名），请在 Excel 中重新“另存为” .xlsx 或 CSV")
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - zipfile, XML and openpyxl each raise their own kind
        raise _file_error("无法读取这个 .xlsx 文件（可能已损坏，或不是 Excel 工作簿），请在 Excel 中重新“另存为” .xlsx 或 CSV")
    try:
        if not wb.worksheets:
            raise _file_error("工作簿里没有工作表")
        try:
            rows = [list(values) for values in wb.worksheets[0].iter_rows(values_only=True)]
        except Exception:  # noqa: BLE001
            raise _file_error("无法读取这个 .xlsx 文件的内容（可能已损坏），请在 Excel 中重新“另存为” .xlsx 或 CSV")
    finally:
        wb.close()
    yield from enumerate(rows, start=1)


def _decode(raw):
    """Chinese Excel writes CSV as GBK; others write UTF-8, with or without a BOM. A NUL byte is never
    text a person typed: a binary file (or UTF-16) renamed .csv."""
    if b"\x00" in raw:
        raise _file_error("无法识别文件编码：文件含有二进制内容，不是 UTF-8 或 GBK 编码的文本 CSV"
                          "（可能是其他格式的文件改了扩展名），请在 Excel 中另存为 CSV（UTF-8）或 .xlsx")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        raise _file_error("无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV")


def _norm_header(text):
    text = re.sub(r"\s+", "", str(text or ""))
    return re.sub(r"[（(].*?[)）]$", "", text).lower()  # 面积(m²) → 面积


def map_header(values):
    """Column positions by canonical name; raises for missing or repeated required columns."""
    alias = {}
    for key, (_, names, _) in COLUMNS.items():
        for name in names:
            alias[_norm_header(name)] = key
    positions, errors = {}, []
    for index, value in enumerate(values):
        key = alias.get(_norm_header(value))
        if key is None:
            continue
        if key in positions:
            errors.append(RowError(1, str(value), f"列重复（与第 {positions[key] + 1} 列相同）"))
        positions[key] = index
    for key, (title, _, required) in COLUMNS.items():
        if required and key not in positions:
            errors.append(RowError(1, title, "缺少必填列"))
    if errors:
        raise RosterError(errors)
    return positions


# ---------------------------------------------------------------- checking


def _text(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def parse_row(number, values, positions):
    """One sheet row → (clean dict, [RowError]); blank rows give (None, [])."""
    cells = {key: _text(values[i]) if i < len(values) else "" for key, i in positions.items()}
    raw = {key: values[i] if i < len(values) else None for key, i in positions.items()}
    if not any(cells.values()):
        return None, []
    errors = []

    def fail(key, message):
        errors.append(RowError(number, COLUMNS[key][0], message))

    for key, value in raw.items():
        if isinstance(value, str) and any(unicodedata.category(ch) == "Cc" for ch in value):
            fail(key, "含有控制字符（如换行、制表符），请删除后再导入")

    for key in ("building", "unit", "room"):
        if not cells[key]:
            fail(key, "不能为空")
        elif len(cells[key]) > (16 if key == "room" else 32):
            fail(key, "过长")
    row = {key: cells[key] for key in ("building", "unit", "room")}

    try:
        row["floor"] = int(cells["floor"])
        if not -5 <= row["floor"] <= 200:
            fail("floor", f"楼层 {row['floor']} 超出范围")
    except ValueError:
        fail("floor", "不能为空" if not cells["floor"] else f"「{cells['floor']}」不是整数")

    row["area"] = None
    if not cells["area"]:
        fail("area", "缺少面积")
    else:
        text = repr(raw["area"]) if isinstance(raw["area"], float) else cells["area"]
        text = text.replace("㎡", "").replace("m²", "").replace("平方米", "").strip()
        try:
            area = Decimal(text)
            if not area.is_finite():
                raise InvalidOperation
            if area <= 0 or area >= Decimal("10000"):
                fail("area", f"面积 {text} 不在 0 到 10000 平方米之间")
            elif -area.as_tuple().exponent > 2:
                fail("area", f"面积 {text} 超过两位小数")
            else:
                row["area"] = area.quantize(Decimal("0.01"))
        except InvalidOperation:
            fail("area", f"「{cells['area']}」不是数字")

    row["area_source"] = None
    word = cells["area_source"].lower()
    for source, words in AREA_SOURCE_WORDS.items():
        if word in words:
            row["area_source"] = source
    if row["area_source"] is None:
        fail("area_source", "缺少面积来源" if not word else f"未知的面积来源「{cells['area_source']}」（应为 不动产登记 / 实测 / 合同）")

    held = cells.get("developer_held", "").lower()
    if held in YES:
        row["developer_held"] = True
    elif held in NO:
        row["developer_held"] = False
    else:
        row["developer_held"] = False
        fail("developer_held", f"「{cells['developer_held']}」应为 是 或 否")

    row["owner_name"] = cells["owner_name"] or None
    if not row["owner_name"] and not row["developer_held"]:
        fail("owner_name", "缺少业主姓名（开发商持有的房屋可留空）")
    elif row["owner_name"] and len(row["owner_name"]) > 64:
        fail("owner_name", "过长")

    phone = re.sub(r"[\s\-]", "", cells.get("owner_phone", ""))
    if phone.startswith("+86"):
        phone = phone[3:]
    if phone and not MOBILE.match(phone):
        fail("owner_phone", "手机号格式不正确（应为 11 位手机号）")
    row["owner_phone"] = phone or None

    id_number = re.sub(r"\s+", "", cells.get("owner_id", ""))
    if id_number and not re.fullmatch(r"[0-9A-Za-z]{6,32}", id_number):
        fail("owner_id", "证件号格式不正确")
    row["owner_id"] = id_number or None

    row["grid"] = cells.get("grid") or None
    if row["grid"] and len(row["grid"]) > 64:
        fail("grid", "过长")
    return row, errors


def check_sheet(rows):
    """Every row checked; returns (clean rows with their numbers, all errors)."""
    rows = iter(rows)
    try:
        _, header = next(rows)
    except StopIteration:
        raise RosterError([RowError(1, "表头", "表格是空的")])
    positions = map_header(header)
    clean, errors, seen, id_names, grids = [], [], {}, {}, {}
    for number, values in rows:
        row, row_errors = parse_row(number, values, positions)
        if row is None:
            continue
        errors.extend(row_errors)
        place = (row["building"], row["unit"], row["room"])
        if all(place) and place in seen:
            errors.append(RowError(number, "房号", f"房号重复：与第 {seen[place]} 行同为 {'/'.join(place)}"))
        seen.setdefault(place, number)
        if row["owner_id"] and row["owner_name"]:
            first = id_names.setdefault(row["owner_id"], (row["owner_name"], number))
            if first[0] != row["owner_name"]:
                errors.append(RowError(number, "证件号", f"同一证件号在第 {first[1]} 行对应另一个姓名「{first[0]}」"))
        if row["grid"] and row["building"]:
            first = grids.setdefault(row["building"], (row["grid"], number))
            if first[0] != row["grid"]:
                errors.append(RowError(number, COLUMNS["grid"][0], f"楼栋「{row['building']}」在第 {first[1]} 行属于网格"
                                                                   f"「{first[0]}」，这里却是「{row['grid']}」：一栋楼只能属于一个网格"))
        clean.append((number, row))
    if not clean and not errors:
        errors.append(RowError(2, "表格", "没有任何数据行"))
    return clean, errors


# ---------------------------------------------------------------- writing


def resolve_compound(name, community=None, street=None, district=None, report=None):
    """The compound by name, creating it (and its community, street, district) when names are given.

    Existing places are reused by name: a street named without its district is the one street of
    that name (the demo's 东塘街道 lies in 雨花区; an import naming only the street must not make a
    second one); if several streets share the name, --district must say which."""
    query = (
        db.select(Compound).join(Community, Compound.community_id == Community.id)
        .join(Street, Community.street_id == Street.id)
        .outerjoin(District, Street.district_id == District.id)
        .where(Compound.name == name)
    )
    if community:
        query = query.where(Community.name == community)
    if street:
        query = query.where(Street.name == street)
    if district:
        query = query.where(District.name == district)
    found = db.session.scalars(query).all()
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise RosterError([RowError(0, "小区", f"有多个名为「{name}」的小区，请用 --community 和 --street 指明")])
    if not (community and street):
        raise RosterError([RowError(0, "小区", f"小区「{name}」不存在；新建小区请同时给出 --community 和 --street")])

    def create(model, created_label, **keys):
        obj = model(**keys)
        db.session.add(obj)
        db.session.flush()
        if report is not None:
            report.places_created.append(created_label)
        return obj

    def first_or_create(model, created_label, **keys):
        obj = db.session.scalars(db.select(model).filter_by(**keys)).first()
        return obj if obj is not None else create(model, created_label, **keys)

    if district:
        district_obj = first_or_create(District, f"区县 {district}", name=district)
        street_obj = first_or_create(Street, f"街道 {street}", name=street, district_id=district_obj.id)
    else:
        streets = db.session.scalars(db.select(Street).where(Street.name == street).order_by(Street.id)).all()
        if len(streets) > 1:
            raise RosterError([RowError(0, "街道", f"有多个名为「{street}」的街道，请用 --district 指明所属区县")])
        street_obj = streets[0] if streets else create(Street, f"街道 {street}", name=street, district_id=None)
    community_obj = first_or_create(Community, f"社区 {community}", name=community, street_id=street_obj.id)
    return first_or_create(Compound, f"小区 {name}", name=name, community_id=community_obj.id)


def import_rows(rows, compound_name, community=None, street=None, district=None, dry_run=False, progress=None):
    """Check every row, then write all of them or none. Flushes; the caller commits (or rolls back)."""
    clean, errors = check_sheet(rows)
    if errors:
        raise RosterError(errors[:MAX_ERRORS])
    report = ImportReport(compound=compound_name, rows=len(clean), dry_run=dry_run)
    compound = resolve_compound(compound_name, community, street, district, report)
    _write(compound, clean, report, progress)
    db.session.flush()
    return report


def import_file(path, compound_name, **kwargs):
    return import_rows(read_sheet(path), compound_name, **kwargs)


def _write(compound, clean, report, progress):
    # One query per level instead of one per flat: the whole compound's tree with its owners.
    db.session.scalars(
        db.select(Building)
        .where(Building.compound_id == compound.id)
        .options(selectinload(Building.units).selectinload(Unit.flats).selectinload(Flat.owner))
    ).all()
    buildings = {b.name: b for b in compound.buildings}
    grids = {g.name: g for g in db.session.scalars(db.select(Grid).where(Grid.compound_id == compound.id))}
    owner_changes = {}  # flat id → the owner the roster named before this import
    units = {(b.name, u.name): u for b in compound.buildings for u in b.units}
    flats = {(b.name, u.name, f.room): f for b in compound.buildings for u in b.units for f in u.flats}
    by_key, by_contact = _known_owners(compound, clean)

    for number, row in clean:
        building = buildings.get(row["building"])
        if building is None:
            building = buildings[row["building"]] = Building(compound=compound, name=row["building"], scene=new_scene())
            db.session.add(building)
        if row["grid"]:
            _put_in_grid(compound, building, row["grid"], grids, report)
        unit = units.get((row["building"], row["unit"]))
        if unit is None:
            unit = units[(row["building"], row["unit"])] = Unit(building=building, name=row["unit"])
            db.session.add(unit)
        flat = flats.get((row["building"], row["unit"], row["room"]))
        owner = _owner_for(row, by_key, by_contact, report, flat.owner if flat else None)
        values = {
            "floor": row["floor"],
            "area": row["area"],
            "area_source": row["area_source"],
            "developer_held": row["developer_held"],
        }
        if flat is None:
            flat = Flat(unit=unit, room=row["room"], owner=owner, **values)
            db.session.add(flat)
            report.flats_created += 1
        else:
            if flat.owner is not None and flat.owner is not owner:
                owner_changes[flat.id] = flat.owner.id
            changed = flat.owner is not owner or any(getattr(flat, k) != v for k, v in values.items())
            for key, value in values.items():
                setattr(flat, key, value)
            flat.owner = owner
            if changed:
                report.flats_updated += 1
            else:
                report.flats_unchanged += 1
        if progress:
            progress(1)
    report.bindings_ended = end_previous_owner_bindings(owner_changes, dry_run=report.dry_run)


def _put_in_grid(compound, building, grid_name, grids, report):
    """The building into the compound's grid of that name (created if new); counts a move once."""
    grid = grids.get(grid_name)
    if grid is None:
        grid = grids[grid_name] = Grid(compound=compound, name=grid_name)
        db.session.add(grid)
        report.places_created.append(f"网格 {grid_name}")
    if building.grid is not grid:
        building.grid = grid
        report.buildings_moved += 1


def end_previous_owner_bindings(owner_changes, dry_run=False):
    """End the owner bindings verified against the owner a flat had before the roster changed it.

    owner_changes: {flat id: previous owner id}. Every binding of such a flat with relation owner,
    that previous owner and status approved or pending becomes "ended" (reason OWNER_CHANGED).
    Family members' and tenants' bindings, and other owners' bindings, are left alone. Returns how
    many were (or, with dry_run, would be) ended."""
    ended, now = 0, utcnow()
    flat_ids = list(owner_changes)
    for start in range(0, len(flat_ids), 500):
        chunk = flat_ids[start : start + 500]
        bindings = db.session.scalars(
            db.select(Binding).where(
                Binding.flat_id.in_(chunk), Binding.relation == "owner", Binding.status.in_(ACTIVE_BINDINGS),
                Binding.owner_id.is_not(None),
            )
        ).all()
        for binding in bindings:
            if binding.owner_id != owner_changes[binding.flat_id]:
                continue
            ended += 1
            if not dry_run:
                binding.status, binding.reason, binding.reviewed_at = "ended", OWNER_CHANGED, now
    return ended


def _known_owners(compound, clean):
    """Owners already stored that rows may refer to: by ID key anywhere, by name and phone in this compound."""
    keys = {owner_key(row["owner_id"]) for _, row in clean if row["owner_id"]}
    by_key = {}
    for start in range(0, len(keys), 500):
        chunk = list(keys)[start : start + 500]
        for owner in db.session.scalars(db.select(Owner).where(Owner.owner_key.in_(chunk))):
            by_key[owner.owner_key] = owner
    by_contact = {}
    for b in compound.buildings:
        for u in b.units:
            for f in u.flats:
                if f.owner is not None and f.owner.owner_key is None:
                    by_contact[(f.owner.name, f.owner.phone)] = f.owner
    return by_key, by_contact


def _owner_for(row, by_key, by_contact, report, current=None):
    """One person per ID key, or per name and phone: one buyer of several flats is one owner.
    Without either, the flat's current owner of the same name stays its owner."""
    if not row["owner_name"]:
        return None
    if row["owner_id"]:
        key = owner_key(row["owner_id"])
        owner = by_key.get(key)
        if owner is None:
            owner = by_key[key] = Owner(owner_key=key, name=row["owner_name"], phone=row["owner_phone"])
            db.session.add(owner)
            report.owners_created += 1
        else:
            owner.name = row["owner_name"]
            if row["owner_phone"]:
                owner.phone = row["owner_phone"]
        return owner
    contact = (row["owner_name"], row["owner_phone"])
    owner = by_contact.get(contact) if row["owner_phone"] else None
    if owner is None and current is not None and current.owner_key is None and current.name == row["owner_name"]:
        owner = current
        if row["owner_phone"]:
            owner.phone = row["owner_phone"]
    if owner is None:
        owner = Owner(name=row["owner_name"], phone=row["owner_phone"])
        db.session.add(owner)
        report.owners_created += 1
        if row["owner_phone"]:
            by_contact[contact] = owner
    return owner


def write_template(path):
    """An .xlsx to fill in: the header, two example rows and a sheet of instructions."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "名册"
    ws.append([title for title, _, _ in COLUMNS.values()])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.append(["1号楼", "1单元", "101", 1, 68.52, "不动产登记", "张建国", "13800001234", "", "否", "第一网格"])
    ws.append(["1号楼", "1单元", "102", 1, 72.10, "实测", "", "", "", "是", "第一网格"])
    for column, width in zip("ABCDEFGHIJK", (10, 8, 8, 6, 10, 12, 12, 14, 22, 10, 12)):
        ws.column_dimensions[column].width = width
    notes = wb.create_sheet("填写说明")
    for line in (
        ("列", "说明"),
        ("楼栋、单元、房号", "必填；同一楼栋、单元内房号不能重复"),
        ("所有单元格", "不能含换行、制表符等控制字符（从其他系统复制时常会带入）"),
        ("楼层", "必填，整数"),
        ("面积", "必填，专有部分面积，单位平方米，最多两位小数"),
        ("面积来源", "必填：不动产登记 / 实测 / 合同（按此优先顺序取用）"),
        ("业主姓名", "必填；开发商持有（未售出或未交付）的房屋可留空"),
        ("业主电话", "选填，11 位手机号；仅用于居民绑定时核对，界面上只显示打码后的号码"),
        ("证件号", "选填；系统只保存其加密摘要，用于识别同一业主持有多套房屋，不保存原号码"),
        ("开发商持有", "是 / 否，留空为否"),
        ("网格", "选填：楼栋所属网格的名称（如 第一网格），网格员只看得到本网格的楼栋；新名称会自动建立网格。"
                 "同一楼栋各行须填同一网格（可只在一行填写）；留空则不改变楼栋现有的网格；"
                 "再次导入时填写另一网格即把楼栋移过去。也可用 flask grid assign 调整"),
    ):
        notes.append(line)
    notes.column_dimensions["A"].width = 18
    notes.column_dimensions["B"].width = 70
    wb.save(path)
