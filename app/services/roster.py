"""Roster import: the flats of a compound from an .xlsx or .csv sheet, all rows or none."""
import csv
import io
import os
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Building, Community, Compound, District, Flat, Owner, Street, Unit
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
}
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
        return f"第 {self.row} 行「{self.column}」：{self.message}"


class RosterError(Exception):
    """The sheet cannot be imported; nothing was written."""

    def __init__(self, errors):
        super().__init__(f"名册有 {len(errors)} 处错误，未导入任何数据")
        self.errors = errors


@dataclass
class ImportReport:
    compound: str
    rows: int = 0
    flats_created: int = 0
    flats_updated: int = 0
    flats_unchanged: int = 0
    owners_created: int = 0
    places_created: list = field(default_factory=list)
    dry_run: bool = False

    def summary(self):
        head = "试导入（未写入）" if self.dry_run else "导入完成"
        text = (
            f"{head}：{self.compound}，共 {self.rows} 行；新增 {self.flats_created} 户，"
            f"更新 {self.flats_updated} 户，未变 {self.flats_unchanged} 户；新增业主 {self.owners_created} 人"
        )
        if self.places_created:
            text += "；新建：" + "、".join(self.places_created)
        return text


# ---------------------------------------------------------------- reading


def read_sheet(path):
    """Rows of a sheet as (row number, list of cell values); the first row is the header."""
    ext = os.path.splitext(path)[1].lower()
    if ext in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True, data_only=True)
        try:
            for number, values in enumerate(wb.worksheets[0].iter_rows(values_only=True), start=1):
                yield number, list(values)
        finally:
            wb.close()
    elif ext in (".csv", ".txt"):
        with open(path, "rb") as fh:
            raw = fh.read()
        for number, values in enumerate(csv.reader(io.StringIO(_decode(raw))), start=1):
            yield number, values
    else:
        raise RosterError([RowError(0, "文件", f"不支持的文件类型 {ext or '(无扩展名)'}，请使用 .xlsx 或 .csv")])


def _decode(raw):
    """Chinese Excel writes CSV as GBK; others write UTF-8, with or without a BOM."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        raise RosterError([RowError(0, "文件", "无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV")])


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
    return row, errors


def check_sheet(rows):
    """Every row checked; returns (clean rows with their numbers, all errors)."""
    rows = iter(rows)
    try:
        _, header = next(rows)
    except StopIteration:
        raise RosterError([RowError(1, "表头", "表格是空的")])
    positions = map_header(header)
    clean, errors, seen, id_names = [], [], {}, {}
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
        clean.append((number, row))
    if not clean and not errors:
        errors.append(RowError(2, "表格", "没有任何数据行"))
    return clean, errors


# ---------------------------------------------------------------- writing


def resolve_compound(name, community=None, street=None, district=None, report=None):
    """The compound by name, creating it (and its community, street, district) when names are given."""
    query = db.select(Compound).where(Compound.name == name)
    if community:
        query = query.join(Community).where(Community.name == community)
        if street:
            query = query.join(Street).where(Street.name == street)
    found = db.session.scalars(query).all()
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise RosterError([RowError(0, "小区", f"有多个名为「{name}」的小区，请用 --community 和 --street 指明")])
    if not (community and street):
        raise RosterError([RowError(0, "小区", f"小区「{name}」不存在；新建小区请同时给出 --community 和 --street")])

    def get_or_create(model, created_label, **keys):
        obj = db.session.scalars(db.select(model).filter_by(**keys)).first()
        if obj is None:
            obj = model(**keys)
            db.session.add(obj)
            db.session.flush()
            if report is not None:
                report.places_created.append(created_label)
        return obj

    district_obj = get_or_create(District, f"区县 {district}", name=district) if district else None
    street_obj = get_or_create(
        Street, f"街道 {street}", name=street, district_id=district_obj.id if district_obj else None
    )
    community_obj = get_or_create(Community, f"社区 {community}", name=community, street_id=street_obj.id)
    return get_or_create(Compound, f"小区 {name}", name=name, community_id=community_obj.id)


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
    units = {(b.name, u.name): u for b in compound.buildings for u in b.units}
    flats = {(b.name, u.name, f.room): f for b in compound.buildings for u in b.units for f in u.flats}
    by_key, by_contact = _known_owners(compound, clean)

    for number, row in clean:
        building = buildings.get(row["building"])
        if building is None:
            building = buildings[row["building"]] = Building(compound=compound, name=row["building"], scene=new_scene())
            db.session.add(building)
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
    ws.append(["1号楼", "1单元", "101", 1, 68.52, "不动产登记", "张建国", "13800001234", "", "否"])
    ws.append(["1号楼", "1单元", "102", 1, 72.10, "实测", "", "", "", "是"])
    for column, width in zip("ABCDEFGHIJ", (10, 8, 8, 6, 10, 12, 12, 14, 22, 10)):
        ws.column_dimensions[column].width = width
    notes = wb.create_sheet("填写说明")
    for line in (
        ("列", "说明"),
        ("楼栋、单元、房号", "必填；同一楼栋、单元内房号不能重复"),
        ("楼层", "必填，整数"),
        ("面积", "必填，专有部分面积，单位平方米，最多两位小数"),
        ("面积来源", "必填：不动产登记 / 实测 / 合同（按此优先顺序取用）"),
        ("业主姓名", "必填；开发商持有（未售出或未交付）的房屋可留空"),
        ("业主电话", "选填，11 位手机号；仅用于居民绑定时核对，界面上只显示打码后的号码"),
        ("证件号", "选填；系统只保存其加密摘要，用于识别同一业主持有多套房屋，不保存原号码"),
        ("开发商持有", "是 / 否，留空为否"),
    ):
        notes.append(line)
    notes.column_dimensions["A"].width = 18
    notes.column_dimensions["B"].width = 70
    wb.save(path)
