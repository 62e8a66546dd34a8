"""Roster import: the flats of a compound from an .xlsx or .csv sheet, all rows or none."""
import csv
import os
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from sqlalchemy import bindparam as param
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Binding, Building, Community, Compound, District, Flat, FlatCoOwner, Grid, Owner, Street, Unit
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
# 共有人: several owners of one flat, in the same order in 业主姓名, 业主电话 and 证件号.
OWNER_SEPARATORS = re.compile(r"[、/；;]")
MAX_OWNERS = 8


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

    def __init__(self, errors, total=None):
        """errors: the first MAX_ERRORS errors; total: how many there are in all."""
        total = total or len(errors)
        if len(errors) == 1 and errors[0].column == "文件":
            text = f"无法读取名册文件：{errors[0].message}；未导入任何数据"
        elif total > len(errors):
            text = f"名册有 {total} 处错误（以下列出前 {len(errors)} 处），未导入任何数据"
        else:
            text = f"名册有 {total} 处错误，未导入任何数据"
        super().__init__(text)
        self.errors, self.total = errors, total


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
        with open(path, encoding=_encoding(path), newline="") as fh:
            try:
                yield from enumerate(csv.reader(fh), start=1)
            except csv.Error as exc:
                raise _file_error(f"CSV 格式有误（{exc}），请在 Excel 中重新另存为 CSV（UTF-8）")
    else:
        raise _file_error(f"不支持的文件类型 {ext or '(无扩展名)'}，请使用 .xlsx 或 .csv")


def _read_xlsx(path, magic):
    """The first sheet's rows one at a time (openpyxl's read-only mode streams the XML)."""
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
        rows = wb.worksheets[0].iter_rows(values_only=True)
        number = 0
        while True:
            try:
                values = next(rows, None)
            except Exception:  # noqa: BLE001
                raise _file_error("无法读取这个 .xlsx 文件的内容（可能已损坏），请在 Excel 中重新“另存为” .xlsx 或 CSV")
            if values is None:
                return
            number += 1
            yield number, list(values)
    finally:
        wb.close()


def _encoding(path, chunk=1 << 20):
    """Chinese Excel writes CSV as GBK; others write UTF-8, with or without a BOM. A NUL byte is never
    text a person typed: a binary file (or UTF-16) renamed .csv. The file is read in chunks, so a
    large sheet is never held whole."""
    import codecs

    def decodes(encoding):
        decoder = codecs.getincrementaldecoder(encoding)()
        with open(path, "rb") as fh:
            while block := fh.read(chunk):
                if b"\x00" in block:
                    raise _file_error("无法识别文件编码：文件含有二进制内容，不是 UTF-8 或 GBK 编码的文本 CSV"
                                      "（可能是其他格式的文件改了扩展名），请在 Excel 中另存为 CSV（UTF-8）或 .xlsx")
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    return False
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
        return True

    for encoding in ("utf-8-sig", "gb18030"):
        if decodes(encoding):
            return encoding
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

    names = _split_owners(cells["owner_name"])
    phones = _split_owners(cells.get("owner_phone", ""))
    id_numbers = _split_owners(cells.get("owner_id", ""))
    if not names and not row["developer_held"]:
        fail("owner_name", "缺少业主姓名（开发商持有的房屋可留空）")
    elif len(names) > MAX_OWNERS:
        fail("owner_name", f"共有人过多（最多 {MAX_OWNERS} 人）")
    elif any(not name for name in names):
        fail("owner_name", "有空的姓名：多位共有人请用“、”分隔，例如 张建国、李秀英")
    elif any(len(name) > 64 for name in names):
        fail("owner_name", "过长")
    elif len(set(names)) != len(names):
        fail("owner_name", "同一户的共有人姓名重复")
    for key, values, what in (("owner_phone", phones, "电话"), ("owner_id", id_numbers, "证件号")):
        if values and len(values) != len(names):
            fail(key, f"有 {len(values)} 个{what}，却有 {len(names)} 位业主：多位共有人时，各列须按同样顺序、"
                      f"用“、”分隔给出同样多个（没有的留空，如 13800001234、）")
    owners = []
    for index, name in enumerate(names):
        phone = re.sub(r"[\s\-]", "", phones[index] if index < len(phones) else "")
        if phone.startswith("+86"):
            phone = phone[3:]
        if phone and not MOBILE.match(phone):
            fail("owner_phone", "手机号格式不正确（应为 11 位手机号）")
        id_number = re.sub(r"\s+", "", id_numbers[index] if index < len(id_numbers) else "")
        if id_number and not re.fullmatch(r"[0-9A-Za-z]{6,32}", id_number):
            fail("owner_id", "证件号格式不正确")
        owners.append((name, phone or None, id_number or None))
    if len({o[2] for o in owners if o[2]}) != len([o for o in owners if o[2]]):
        fail("owner_id", "同一户的共有人证件号重复")
    # The first owner in the row's own fields, as before; the others (共有人) after them.
    row["owner_name"], row["owner_phone"], row["owner_id"] = owners[0] if owners else (None, None, None)
    row["co_owners"] = owners[1:]

    row["grid"] = cells.get("grid") or None
    if row["grid"] and len(row["grid"]) > 64:
        fail("grid", "过长")
    return row, errors


def _split_owners(text):
    """The values of a cell naming several co-owners ("张建国、李秀英"), stripped; [] for a blank cell."""
    return [part.strip() for part in OWNER_SEPARATORS.split(text)] if text.strip() else []


def place_key(row):
    """One string for a flat's place in the sheet (a tuple of three strings would take twice the memory
    of a 100,000-row sheet's keys)."""
    return "\x1f".join((row["building"], row["unit"], row["room"]))


class Checker:
    """The checks that span rows (a room given twice, one ID number under two names, a building in two
    grids), keeping of each row only what they compare."""

    def __init__(self, positions):
        self.positions = positions
        self.seen, self.id_names, self.grids = {}, {}, {}

    def check(self, number, values):
        """One sheet row → (clean dict, [RowError]); blank rows give (None, [])."""
        row, errors = parse_row(number, values, self.positions)
        if row is None:
            return None, []
        if row["building"] and row["unit"] and row["room"]:
            first = self.seen.setdefault(place_key(row), number)
            if first != number:
                place = "/".join((row["building"], row["unit"], row["room"]))
                errors.append(RowError(number, "房号", f"房号重复：与第 {first} 行同为 {place}"))
        for name, _, id_number in [(row["owner_name"], None, row["owner_id"]), *row["co_owners"]]:
            if id_number and name:
                first = self.id_names.setdefault(id_number, (name, number))
                if first[0] != name:
                    errors.append(RowError(number, "证件号", f"同一证件号在第 {first[1]} 行对应另一个姓名「{first[0]}」"))
        if row["grid"] and row["building"]:
            first = self.grids.setdefault(row["building"], (row["grid"], number))
            if first[0] != row["grid"]:
                errors.append(RowError(number, COLUMNS["grid"][0], f"楼栋「{row['building']}」在第 {first[1]} 行属于网格"
                                                                   f"「{first[0]}」，这里却是「{row['grid']}」：一栋楼只能属于一个网格"))
        return row, errors


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


BATCH = 1000  # rows checked, then written together


def import_rows(rows, compound_name, community=None, street=None, district=None, dry_run=False, progress=None):
    """Check every row and write the rows in batches as they are read, all of them or none: the first
    bad row stops the writing (the rows after it are still checked, so that every error is reported by
    row and column) and RosterError is raised at the end, for the caller to roll back what was written
    in its transaction. Memory does not grow with the sheet beyond a few small values per row (the
    places seen, the flats already stored). Flushes; the caller commits (or rolls back)."""
    rows = iter(rows)
    try:
        _, header = next(rows)
    except StopIteration:
        raise RosterError([RowError(1, "表头", "表格是空的")])
    checker = Checker(map_header(header))
    report = ImportReport(compound=compound_name, dry_run=dry_run)
    writer = Writer(resolve_compound(compound_name, community, street, district, report), report)
    errors, total, batch = [], 0, []
    for number, values in rows:
        row, row_errors = checker.check(number, values)
        if row is None:
            continue
        report.rows += 1
        if row_errors:
            total += len(row_errors)
            errors.extend(row_errors[: MAX_ERRORS - len(errors)])
        elif not total:
            batch.append(row)
            if len(batch) >= BATCH:
                writer.write(batch)
                batch = []
        if progress:
            progress(1)
    if not report.rows and not total:
        errors, total = [RowError(2, "表格", "没有任何数据行")], 1
    if total:
        raise RosterError(errors, total)
    writer.write(batch)
    writer.finish()
    return report


def import_file(path, compound_name, **kwargs):
    return import_rows(read_sheet(path), compound_name, **kwargs)


class _Owner:
    """An owner as the import sees it: id None until inserted; dirty when a row changed it."""

    __slots__ = ("id", "name", "phone", "key", "dirty")

    def __init__(self, id, name, phone, key):
        self.id, self.name, self.phone, self.key, self.dirty = id, name, phone, key, False


_flat_t, _owner_t, _co_t = Flat.__table__, Owner.__table__, FlatCoOwner.__table__
_INSERT_OWNERS = _owner_t.insert().returning(_owner_t.c.id, sort_by_parameter_order=True)
_UPDATE_OWNER = _owner_t.update().where(_owner_t.c.id == param("owner_id")).values(
    name=param("new_name"), phone=param("new_phone"))
_INSERT_FLAT = _flat_t.insert().returning(_flat_t.c.id, sort_by_parameter_order=True)
_DELETE_CO_OWNERS = _co_t.delete().where(_co_t.c.flat_id == param("old_flat_id"))
_INSERT_CO_OWNER = _co_t.insert()
_UPDATE_FLAT = _flat_t.update().where(_flat_t.c.id == param("flat_id")).values(
    owner_id=param("new_owner_id"), floor=param("new_floor"), area=param("new_area"),
    area_source=param("new_area_source"), developer_held=param("new_developer_held"))
FLAT_VALUES = ("floor", "area", "area_source", "developer_held")


class Writer:
    """Writes checked rows into one compound, a batch at a time, with Core statements: flats and
    owners are kept as plain values (ids, and what is compared), never as ORM objects; the few
    buildings, units and grids are ORM rows."""

    def __init__(self, compound, report):
        self.compound, self.report = compound, report
        buildings = db.session.scalars(db.select(Building).where(Building.compound_id == compound.id)
                                       .options(selectinload(Building.units))).all()
        self.buildings = {b.name: b for b in buildings}
        self.units = {(b.name, u.name): u for b in buildings for u in b.units}
        self.grids = {g.name: g for g in db.session.scalars(db.select(Grid).where(Grid.compound_id == compound.id))}
        # The compound's flats: place → (id, owner id, floor, area, area source, developer held); and
        # its owners without an ID key, by id (a flat's current owner) and by name and phone.
        self.flats, self.keyless, self.by_contact, self.by_key = {}, {}, {}, {}
        query = (
            db.select(Building.name, Unit.name, Flat.room, Flat.id, Flat.owner_id, *[getattr(Flat, k) for k in FLAT_VALUES],
                      Owner.name, Owner.phone, Owner.owner_key)
            .select_from(Flat).join(Unit, Flat.unit_id == Unit.id).join(Building, Unit.building_id == Building.id)
            .outerjoin(Owner, Flat.owner_id == Owner.id).where(Building.compound_id == compound.id)
            .order_by(Flat.id).execution_options(yield_per=2000)
        )
        for b, u, room, flat_id, owner_id, *values, name, phone, key in db.session.execute(query):
            self.flats["\x1f".join((b, u, room))] = (flat_id, owner_id, *values)
            self._keep_keyless(owner_id, name, phone, key)
        # The co-owners (共有人) of the compound's flats: flat id → their owner ids, in order.
        self.co = {}
        query = (
            db.select(FlatCoOwner.flat_id, Owner.id, Owner.name, Owner.phone, Owner.owner_key)
            .join(Owner, FlatCoOwner.owner_id == Owner.id).join(Flat, FlatCoOwner.flat_id == Flat.id)
            .join(Unit, Flat.unit_id == Unit.id).join(Building, Unit.building_id == Building.id)
            .where(Building.compound_id == compound.id).order_by(FlatCoOwner.flat_id, FlatCoOwner.position)
        )
        for flat_id, owner_id, name, phone, key in db.session.execute(query):
            self.co[flat_id] = (*self.co.get(flat_id, ()), owner_id)
            self._keep_keyless(owner_id, name, phone, key)
        self.owner_changes = {}  # flat id → the owners the roster named before this import and no longer

    def _keep_keyless(self, owner_id, name, phone, key):
        if owner_id is not None and key is None:
            owner = self.keyless.get(owner_id) or _Owner(owner_id, name, phone, None)
            self.keyless[owner_id] = self.by_contact[(name, phone)] = owner

    def write(self, batch):
        if not batch:
            return
        report, connection = self.report, db.session.connection()
        for row in batch:  # the few new buildings, grids and units, flushed once for their ids
            building = self.buildings.get(row["building"])
            if building is None:
                building = self.buildings[row["building"]] = Building(compound=self.compound, name=row["building"],
                                                                      scene=new_scene())
                db.session.add(building)
            if row["grid"]:
                _put_in_grid(self.compound, building, row["grid"], self.grids, report)
            if (row["building"], row["unit"]) not in self.units:
                unit = self.units[(row["building"], row["unit"])] = Unit(building=building, name=row["unit"])
                db.session.add(unit)
        db.session.flush()

        keys = {owner_key(id_number) for row in batch for _, _, id_number in [(0, 0, row["owner_id"]), *row["co_owners"]]
                if id_number} - self.by_key.keys()
        if keys:
            found = db.select(Owner.id, Owner.name, Owner.phone, Owner.owner_key).where(Owner.owner_key.in_(keys))
            for owner_id, name, phone, key in db.session.execute(found):
                self.by_key[key] = _Owner(owner_id, name, phone, key)
        owner_lists = []
        for row in batch:
            flat = self.flats.get(place_key(row))
            current = (flat[1], *self.co.get(flat[0], ())) if flat is not None else ()
            people = [(row["owner_name"], row["owner_phone"], row["owner_id"])] if row["owner_name"] else []
            owner_lists.append([self._owner_for(*person, current) for person in people + row["co_owners"]])
        every = [o for owners in owner_lists for o in owners]
        new = [o for o in dict.fromkeys(every) if o.id is None]
        if new:
            ids = connection.execute(_INSERT_OWNERS, [{"name": o.name, "phone": o.phone, "owner_key": o.key}
                                                      for o in new]).scalars().all()
            for owner, owner_id in zip(new, ids):
                owner.id, owner.dirty = owner_id, False
            report.owners_created += len(new)
        changed = [o for o in dict.fromkeys(every) if o.dirty]
        if changed:
            connection.execute(_UPDATE_OWNER, [{"owner_id": o.id, "new_name": o.name, "new_phone": o.phone}
                                               for o in changed])
            for owner in changed:
                owner.dirty = False

        inserts, inserted_co, updates, co_deletes, co_inserts = [], [], [], [], []
        for row, owners in zip(batch, owner_lists):
            owner_id = owners[0].id if owners else None
            co = tuple(o.id for o in owners[1:])
            values = tuple(row[k] for k in FLAT_VALUES)
            known = self.flats.get(place_key(row))
            if known is None:
                inserts.append({"unit_id": self.units[(row["building"], row["unit"])].id, "room": row["room"],
                                "owner_id": owner_id, **dict(zip(FLAT_VALUES, values))})
                inserted_co.append(co)
                continue
            flat_id, previous, *stored = known
            before = self.co.get(flat_id, ())
            gone = {previous, *before} - {owner_id, *co} - {None}
            if gone:
                self.owner_changes[flat_id] = gone
            if before != co:
                if before:
                    co_deletes.append({"old_flat_id": flat_id})
                co_inserts += [{"flat_id": flat_id, "owner_id": o, "position": i} for i, o in enumerate(co, 1)]
            if previous != owner_id or tuple(stored) != values or before != co:
                updates.append({"flat_id": flat_id, "new_owner_id": owner_id,
                                **{f"new_{k}": v for k, v in zip(FLAT_VALUES, values)}})
            else:
                report.flats_unchanged += 1
        if inserts:
            ids = connection.execute(_INSERT_FLAT, inserts).scalars().all()
            co_inserts += [{"flat_id": flat_id, "owner_id": o, "position": i}
                           for flat_id, co in zip(ids, inserted_co) for i, o in enumerate(co, 1)]
            report.flats_created += len(inserts)
        if updates:
            connection.execute(_UPDATE_FLAT, updates)
            report.flats_updated += len(updates)
        if co_deletes:
            connection.execute(_DELETE_CO_OWNERS, co_deletes)
        if co_inserts:
            connection.execute(_INSERT_CO_OWNER, co_inserts)

    def finish(self):
        """End the previous owners' bindings; the session forgets the flats and owners it had loaded
        (they were written around it)."""
        self.report.bindings_ended = end_previous_owner_bindings(self.owner_changes, dry_run=self.report.dry_run)
        db.session.flush()
        for obj in list(db.session.identity_map.values()):
            if isinstance(obj, (Flat, Owner)):
                db.session.expire(obj)

    def _owner_for(self, name, phone, id_number, current):
        """One person per ID key, or per name and phone: one buyer of several flats is one owner.
        Without either, the flat's current owner (or co-owner) of the same name stays its owner.
        current: the ids of the flat's owners before this import."""
        if id_number:
            key = owner_key(id_number)
            owner = self.by_key.get(key)
            if owner is None:
                owner = self.by_key[key] = _Owner(None, name, phone, key)
            else:
                owner.dirty |= owner.name != name or bool(phone and owner.phone != phone)
                owner.name, owner.phone = name, phone or owner.phone
            return owner
        owner = self.by_contact.get((name, phone)) if phone else None
        if owner is None:
            owner = next((self.keyless[i] for i in current if i in self.keyless and self.keyless[i].name == name), None)
            if owner is not None and phone and owner.phone != phone:
                owner.phone, owner.dirty = phone, True
        if owner is None:
            owner = _Owner(None, name, phone, None)
            if phone:
                self.by_contact[(name, phone)] = owner
        return owner


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

    owner_changes: {flat id: the previous owners (ids) the roster no longer names for it}. Every
    binding of such a flat with relation owner, one of those owners and status approved or pending
    becomes "ended" (reason OWNER_CHANGED).
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
            if binding.owner_id not in owner_changes[binding.flat_id]:
                continue
            ended += 1
            if not dry_run:
                binding.status, binding.reason, binding.reviewed_at = "ended", OWNER_CHANGED, now
    return ended


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
        ("业主姓名", "必填；开发商持有（未售出或未交付）的房屋可留空。一户有多位共有人时用“、”分隔（如 张建国、李秀英），"
                  "第一位为登记业主；共有人各自可绑定为业主，合计为一名业主（一人一票，最后一次表决有效）"),
        ("业主电话", "选填，11 位手机号；仅用于居民绑定时核对，界面上只显示打码后的号码。多位共有人时按姓名顺序用“、”分隔，"
                  "个数须与姓名相同（某人没有的留空，如 13800001234、）"),
        ("证件号", "选填；系统只保存其加密摘要，用于识别同一业主持有多套房屋，不保存原号码；多位共有人时同上，按顺序用“、”分隔"),
        ("开发商持有", "是 / 否，留空为否"),
        ("网格", "选填：楼栋所属网格的名称（如 第一网格），网格员只看得到本网格的楼栋；新名称会自动建立网格。"
                 "同一楼栋各行须填同一网格（可只在一行填写）；留空则不改变楼栋现有的网格；"
                 "再次导入时填写另一网格即把楼栋移过去。也可用 flask grid assign 调整"),
    ):
        notes.append(line)
    notes.column_dimensions["A"].width = 18
    notes.column_dimensions["B"].width = 70
    wb.save(path)
