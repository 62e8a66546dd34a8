"""Evidence of a consultation (表决证据): every ballot ever given, as a spreadsheet and as a PDF.

One row per ballot (current, superseded, conflict, unconfirmed, late: the history is evidence
too) with the room, the owner's name masked, the choice, channel, time, who entered and confirmed
a paper ballot, a thumbnail of the signature or paper photo, the ballot's content hash and the
receipt code; above them the consultation, its rule, the result, the roll digest and the audit
chain head, which also stand in every page footer of the PDF. No full name, no phone number
(DESIGN.md §7). Times are Beijing time.
"""
import hashlib
import io
import os
import re
from types import SimpleNamespace
from datetime import timedelta, timezone
from urllib.parse import quote

from app.extensions import db
from app.models import AuditChain, Ballot, Blob, Building, EvidenceThumbnail, Owner, RollEntry, Unit, User
from app.models.consultations import DEVELOPER, KINDS, STATUSES
from app.models.places import utcnow
from app.services import audit
from app.services.ballots import STATUS_NAMES
from app.services.ballots import content_hash as ballot_content_hash
from app.services.consultations import chain_name, result_of, slots_digest, tally_for, terms
from app.services.privacy import mask_name
from app.services.tally import MEASURE_NAMES
from app.services.thumbnails import insert_ignore, make_thumbnail

BEIJING = timezone(timedelta(hours=8), "北京时间")
CHANNELS = {"online": "线上签署", "paper": "纸质表决票"}
STATUSES_ZH = {**STATUS_NAMES, "late": "纸质票在截止后才确认，未计入"}
BATCH = 500  # roll flats per page (their ballots read in one statement)
THUMB_READ = 10  # blobs read per statement when their thumbnails are made at export (photos up to 3 MB)
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF_MIME = "application/pdf"
COLUMNS = ("序号", "房屋", "业主（脱敏）", "选择", "渠道", "表决时间（北京时间）", "录入 / 确认", "状态",
           "签名 / 纸质票照片", "表决票哈希（SHA-256）", "回执码")
PDF_COLUMNS = ("序号", "房屋", "业主", "选择", "渠道", "表决时间", "录入 / 确认", "状态", "签名 / 纸质票照片",
               "表决票哈希（SHA-256）", "回执码")  # the heading says: names masked, Beijing time


def beijing(value):
    """A stored naive-UTC datetime as Beijing wall time, "2024-05-01 14:03:22"; None → "—"."""
    if value is None:
        return "—"
    return value.replace(tzinfo=timezone.utc).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


# ---------------------------------------------------------------- content


def threshold_text(t):
    """"参与人数 ≥ 2/3（全体）", "同意面积 > 1/2（参与者）"."""
    what = "参与" if t["what"] == "participate" else "同意"
    op = ">" if t.get("strict") else "≥"
    base = "全体" if t["base"] == "all" else "参与者"
    return f"{what}{MEASURE_NAMES.get(t['measure'], t['measure'])} {op} {t['share']}（{base}）"


def _roll_labels(c):
    return dict(db.session.execute(
        db.select(RollEntry.flat_id, RollEntry.label).where(RollEntry.consultation_id == c.id)).all())


def rule_lines(c, labels=None, rule=None):
    """The rule in sentences: the frozen one (`rule`) where the caller has it, else the row's (a draft)."""
    rule = rule if rule is not None else (c.rule or {})
    lines = [threshold_text(t) for t in rule.get("thresholds", [])]
    required = rule.get("required_consent_flat_ids") or []
    if required:
        labels = labels if labels is not None else _roll_labels(c)
        lines.append("必须同意的房屋：" + "、".join(labels.get(i, f"房屋#{i}") for i in required))
    if rule.get("objection_veto"):
        lines.append("无居民明确反对（有一户反对即不通过）")
    if (rule.get("required_level") or 1) >= 2:
        lines.append("线上签署须经网格员当面核验身份（核验等级 2）")
    return lines


def _scope_text(c):
    if c.scope_type == "compound":
        return "整个小区"
    if c.scope_type == "building":
        building = db.session.get(Building, c.scope_id)
        return f"楼栋：{building.name}" if building else f"楼栋 #{c.scope_id}"
    unit = db.session.get(Unit, c.scope_id)
    return f"单元：{unit.building.name}{unit.name}" if unit else f"单元 #{c.scope_id}"


def _chain(c):
    """(head, number of entries) of the consultation's audit chain, read now."""
    name = chain_name(c)
    chain = db.session.get(AuditChain, name)
    return audit.head(name), chain.seq if chain else 0


def evidence_header(c, tally=None):
    """The header block: [(label, value)], plus the digest, chain head and generation time."""
    tally = tally if tally is not None else tally_for(c)
    result = result_of(c)
    head, seq = _chain(c)
    frozen = terms(c)  # what the count used, never the live row (which anyone with the database can edit)
    compound = c.compound
    place = compound.name
    if compound.community is not None:
        place += f"（{compound.community.name}" + (f" · {compound.community.street.name}" if compound.community.street else "") + "）"
    roll = tally["roll"]
    if result is not None:
        outcome = "通过" if result.passed else "未通过"
        outcome += f"（截止时计票并存储，{beijing(result.created_at)}）"
    else:
        outcome = "尚未截止：以下为实时计数，不是最终结果"
    generated = utcnow()
    rows = [
        ("小区", place),
        ("征询事项", c.title),
        ("类型", KINDS.get(c.kind, c.kind)),
        ("范围", _scope_text(c)),
        ("表决规则", "；".join(rule_lines(c, rule=frozen.rule)) or "—"),
        ("状态", STATUSES.get(c.status, c.status)),
        ("开始时间", beijing(c.opened_at)),
        ("截止时间", beijing(frozen.closes_at) + ("" if c.closed_at is None else f"（实际截止 {beijing(c.closed_at)}）")),
        ("表决结果", outcome),
        ("名册", f"{roll['flats']} 户，业主人数 {roll['persons']} 人，专有部分面积 {roll['area']} m²（开始时冻结）"),
        ("名册摘要", frozen.roll_digest),
        ("审计链头", f"{head}（共 {seq} 条记录）"),
        ("表决链摘要", f"{slots_digest(c)}（每位业主一条表决记录链，截止时封存入审计链）"),
        ("生成时间", beijing(generated) + "（北京时间）"),
    ]
    return {"rows": rows, "roll_digest": frozen.roll_digest, "chain_head": head, "chain_seq": seq,
            "generated_at": beijing(generated), "title": c.title, "compound": compound.name}


def summary_lines(c, tally=None):
    """The tally in sentences: participation, approval, choices, local conditions, the outcome."""
    tally = tally if tally is not None else tally_for(c)
    lines = []
    for section in (tally["participation"], tally["approval"]):
        for t in section["thresholds"]:
            unit = " m²" if t["measure"] == "area" else (" 人" if t["measure"] == "persons" else " 户")
            state = "达到" if t["met"] else f"未达到（还差 {t['needed']}{unit}）"
            lines.append(f"{threshold_text(t)}：{t['value']}{unit} / {t['of']}{unit}，{state}")
    choices = "；".join(f"{v['label']} {v['persons']} 人 / {v['flats']} 户 / {v['area']} m²"
                        for v in tally["choices"].values())
    lines.append(f"各选项（计入统计的表决票）：{choices}")
    required = tally.get("required_consent") or {}
    if required.get("flats"):
        lines.append("必须同意的房屋：" + ("均已同意" if required["met"] else "尚未同意：" + "、".join(required["missing"])))
    veto = tally.get("veto") or {}
    if veto.get("enabled"):
        lines.append(f"明确反对：{veto['objections']} 人，" + ("无人反对" if veto["met"] else "有人反对，不能通过"))
    lines.append("结论：" + ("通过" if tally["passed"] else "未通过") +
                 ("（截止时存储的结果，不重新计算）" if tally.get("stored") else "（实时计数，征询尚未截止）"))
    if not tally["passed"] and tally.get("still_needed"):
        lines.append(tally["still_needed"])
    return lines


def _thumbnails(rows):
    """{sha256: png or None} for the batch's images, and the digest actually read for ballots whose
    thumbnail had to be made now (rows written before thumbnails were stored: their blobs are read
    THUMB_READ at a time, made, stored under the SHA-256 of the bytes read, which may differ from the
    ballot's own when the blob was replaced)."""
    wanted = {r.signature_sha256 for r in rows if r.signature_id is not None}
    thumbs = dict(db.session.execute(
        db.select(EvidenceThumbnail.sha256, EvidenceThumbnail.png).where(EvidenceThumbnail.sha256.in_(wanted))).all()
    ) if wanted else {}
    read = {}  # blob id → sha256 of its bytes, for the blobs read now
    missing = sorted({r.signature_id for r in rows if r.signature_id is not None and r.signature_sha256 not in thumbs})
    for i in range(0, len(missing), THUMB_READ):
        made = []
        for blob_id, data in db.session.execute(db.select(Blob.id, Blob.data).where(Blob.id.in_(missing[i:i + THUMB_READ]))):
            digest = hashlib.sha256(data).hexdigest()
            read[blob_id] = digest
            if digest not in thumbs:
                thumbs[digest] = make_thumbnail(data)
                made.append({"sha256": digest, "png": thumbs[digest], "created_at": utcnow()})
        if made:
            db.session.execute(insert_ignore(EvidenceThumbnail.__table__), made)
    return thumbs, read


# ---------------------------------------------------------------- rows, batch by batch

_ROW = (Ballot.id, Ballot.consultation_id, Ballot.flat_id, Ballot.person_key, Ballot.channel, Ballot.choice,
        Ballot.status, Ballot.user_id, Ballot.entered_by_id, Ballot.confirmed_by_id, Ballot.confirmed_at,
        Ballot.signature_id, Ballot.signature_sha256, Ballot.receipt, Ballot.created_at, Ballot.content_hash,
        Ballot.proxy_id,
        RollEntry.label, RollEntry.building_id, RollEntry.unit_id, Blob.sha256.label("blob_sha256"))
_ORDER = (RollEntry.building_id, RollEntry.unit_id, RollEntry.flat_id, Ballot.created_at, Ballot.id)


def ballot_count(c):
    """(number of ballots, highest ballot id) now: an export lists exactly these, however long it takes."""
    count, upto = db.session.execute(
        db.select(db.func.count(Ballot.id), db.func.max(Ballot.id)).where(Ballot.consultation_id == c.id)).one()
    return count, upto or 0


def _after(key):
    """Roll entries after `key` (building, unit, flat) in room order, written out so that the database
    reads it as a range of ix_roll_entry_order (MariaDB uses only the index's first column for a row
    comparison, and would scan the roll from its start for every page)."""
    building, unit, flat = key
    return (RollEntry.building_id > building) | ((RollEntry.building_id == building) & (
        (RollEntry.unit_id > unit) | ((RollEntry.unit_id == unit) & (RollEntry.flat_id > flat))))


def evidence_batches(c, upto=None, batch=None):
    """Every ballot of the consultation up to ballot id `upto`, room by room and oldest first, as
    lists of plain dicts: the roll is paged `batch` flats at a time by keyset (a range of an index:
    each page costs the same however far into the roll it is), and each page's ballots are read in
    one statement (the ballot, its room, its blob's recorded hash; never the image), with one more
    for the staff names, one for the owners' and one for the thumbnails."""
    batch = batch or BATCH
    if upto is None:
        upto = ballot_count(c)[1]
    labels = {o["key"]: o["label"] for o in terms(c).options}
    key, number = None, 0
    while True:
        page = db.select(RollEntry.building_id, RollEntry.unit_id, RollEntry.flat_id).where(RollEntry.consultation_id == c.id)
        if key is not None:
            page = page.where(_after(key))
        flats = db.session.execute(page.order_by(*_ORDER[:3]).limit(batch)).all()
        if not flats:
            return
        key = tuple(flats[-1])
        rows = db.session.execute(
            db.select(*_ROW)
            .join(RollEntry, (RollEntry.consultation_id == Ballot.consultation_id) & (RollEntry.flat_id == Ballot.flat_id))
            .outerjoin(Blob, Blob.id == Ballot.signature_id)
            .where(Ballot.consultation_id == c.id, Ballot.id <= upto, Ballot.flat_id.in_([f.flat_id for f in flats]))
            .order_by(*_ORDER)).all()
        if rows:
            yield _shape(rows, labels, number, c)
            number += len(rows)
        if len(flats) < batch:
            return


def _shape(rows, labels, number, c=None):
    staff_ids = {i for b in rows for i in (b.entered_by_id, b.confirmed_by_id) if i is not None}
    users = dict(db.session.execute(db.select(User.id, User.name).where(User.id.in_(staff_ids))).all()) if staff_ids else {}
    # The owner as the roll froze them (the ballot's person), not whoever the roster names today.
    owner_ids = {i for b in rows for i in _owner_ids(b.person_key)}
    names = dict(db.session.execute(db.select(Owner.id, Owner.name).where(Owner.id.in_(owner_ids))).all()) if owner_ids else {}
    thumbs, read = _thumbnails(rows)
    signers = _signers(c, rows)  # co-owners and written proxies (issue 15)
    out = []
    for number, ballot in enumerate(rows, number + 1):
        if ballot.person_key == DEVELOPER:
            owner = "开发商（未售）"
        else:
            owner = "、".join(mask_name(names.get(i)) or "—" for i in _owner_ids(ballot.person_key)) or "—"
        if ballot.channel == "paper":
            entered, confirmed = _staff_name(users, ballot.entered_by_id), _staff_name(users, ballot.confirmed_by_id)
            handled = f"录入 {entered or '—'}；确认 {confirmed or '待确认'}"
        else:
            handled = signers.get(ballot.id, "业主本人线上签署")
        thumbnail, signature_ok, image_key = None, None, None
        if ballot.signature_id is not None:
            # The blob's bytes hashed when its thumbnail was made (now, or at signing): a blob replaced
            # after that is named by `flask audit verify`, which hashes every blob.
            image_key = read.get(ballot.signature_id, ballot.signature_sha256)
            signature_ok = image_key == ballot.signature_sha256 and ballot.blob_sha256 == ballot.signature_sha256
            thumbnail = thumbs.get(image_key)
        hash_ok = ballot_content_hash(ballot) == ballot.content_hash
        status_name = STATUSES_ZH.get(ballot.status, ballot.status)
        if not hash_ok:
            status_name += "（警告：内容与哈希不符）"
        out.append({
            "no": number, "ballot_id": ballot.id, "flat_id": ballot.flat_id, "room": ballot.label, "owner": owner,
            "choice": ballot.choice, "choice_label": labels.get(ballot.choice, ballot.choice),
            "channel": ballot.channel, "channel_name": CHANNELS.get(ballot.channel, ballot.channel),
            "recorded_at": beijing(ballot.created_at), "confirmed_at": beijing(ballot.confirmed_at) if ballot.confirmed_at else None,
            "entered_by_id": ballot.entered_by_id, "confirmed_by_id": ballot.confirmed_by_id, "handled_by": handled,
            "status": ballot.status, "status_name": status_name, "counted": ballot.status == "current",
            "signature": thumbnail, "signature_key": image_key if thumbnail is not None else None,
            "signature_ok": signature_ok, "has_signature": ballot.signature_id is not None,
            "content_hash": ballot.content_hash, "hash_ok": hash_ok, "receipt": ballot.receipt,
        })
    return out


def evidence_rows(c):
    """Every ballot as in the files, in one list (for small consultations and checks)."""
    return [row for rows in evidence_batches(c) for row in rows]


def _staff_name(users, user_id):
    if user_id is None:
        return None
    name = users.get(user_id)
    return f"{name}（#{user_id}）" if name else f"用户 #{user_id}"


def _owner_ids(person_key):
    """The roster owners a person key of the roll names ("owner:12", co-owners "owners:12+40"), or []."""
    kind, _, ident = person_key.partition(":")
    return [int(i) for i in ident.split("+")] if kind in ("owner", "owners") else []


def _signers(c, ballots):
    """{ballot id: who signed} for the online ballots of co-owners ("共有人 张* 本人线上签署") and of
    written proxies ("代签：李*，委托编号 WT..."), in two statements; others are the owner's own."""
    from app.models import Binding, Proxy

    out = {}
    proxy_ids = {b.proxy_id for b in ballots if b.proxy_id is not None}
    if proxy_ids:
        proxies = {p.id: p for p in db.session.scalars(db.select(Proxy).where(Proxy.id.in_(proxy_ids)))}
        for b in ballots:
            if b.proxy_id in proxies:
                out[b.id] = f"代签：{mask_name(proxies[b.proxy_id].proxy_name)}，委托编号 {proxies[b.proxy_id].number}"
    shared = [b for b in ballots if b.person_key.startswith("owners:") and b.channel == "online" and b.id not in out]
    if shared:
        rows = db.session.execute(
            db.select(Binding.user_id, Binding.flat_id, Owner.name).join(Owner, Binding.owner_id == Owner.id)
            .where(Binding.flat_id.in_({b.flat_id for b in shared}), Binding.relation == "owner").order_by(Binding.id))
        who = {(user_id, flat_id): name for user_id, flat_id, name in rows}
        for b in shared:
            out[b.id] = f"共有人 {mask_name(who.get((b.user_id, b.flat_id))) or '—'} 本人线上签署"
    return out


def _signature_note(row):
    if not row["has_signature"]:
        return "无"
    if row["signature"] is None:
        return "图片无法读取"
    if row["signature_ok"] is False:
        return "警告：图片与登记的哈希不符"
    return ""


def filename(c, ext):
    """The download's name: ASCII fallback and the Chinese title (RFC 6266 filename*)."""
    title = re.sub(r'[\\/:*?"<>|\s]+', "_", c.title).strip("_") or "征询"
    ascii_name = f"consultation-{c.id}-evidence.{ext}"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(f'{title}-表决证据.{ext}', safe='')}"


# ---------------------------------------------------------------- xlsx


class _Images:
    """Each distinct thumbnail written once to a file of the build's scratch folder, named by its
    key; the writers hand the file's path to XlsxWriter or ReportLab, which read it when they need
    it, so no image is held in memory for the length of the export."""

    def __init__(self, folder):
        self.folder = folder

    def path(self, row):
        path = os.path.join(self.folder, f"{row['signature_key']}.png")
        if not os.path.exists(path):  # the folder is the memory of what was written: no set of every key
            with open(path, "wb") as f:
                f.write(row["signature"])
        return path


def write_xlsx(c, path, scratch, progress=None):
    """Two sheets: 概要 (header and tally) and 表决票 (one row per ballot, signatures embedded),
    written row by row (XlsxWriter's constant_memory mode: each row goes to disk as it is written;
    each distinct thumbnail is stored once in the workbook). Text is always written as text, never
    as a formula. progress(done, total) after each batch."""
    import xlsxwriter

    tally = tally_for(c)
    header = evidence_header(c, tally)
    count, upto = ballot_count(c)
    wb = xlsxwriter.Workbook(path, {"constant_memory": True, "tmpdir": scratch, "strings_to_formulas": False,
                                    "strings_to_numbers": False, "strings_to_urls": False})
    wb.set_properties({"title": f"表决证据：{c.title}", "author": "共建"})
    bold = wb.add_format({"bold": True})
    title = wb.add_format({"bold": True, "font_size": 14})
    wrap = wb.add_format({"text_wrap": True, "valign": "vcenter"})
    head = wb.add_format({"bold": True, "text_wrap": True, "valign": "vcenter", "bg_color": "#DDDDDD", "pattern": 1})
    footer = f"&L&7名册摘要 {header['roll_digest']}\n审计链头 {header['chain_head']}&R&8第 &P / &N 页"

    ws = wb.add_worksheet("概要")
    ws.set_column(0, 0, 14)
    ws.set_column(1, 1, 100)
    ws.write_string(0, 0, f"表决证据：{c.title}", title)
    r = 2
    for label, value in header["rows"]:
        ws.write_string(r, 0, label, bold)
        ws.write_string(r, 1, value, wrap)
        r += 1
    r += 1
    ws.write_string(r, 0, "计票摘要", bold)
    r += 1
    for line in summary_lines(c, tally):
        ws.write_string(r, 1, line, wrap)
        r += 1
    r += 1
    ws.write_string(r, 0, "说明", bold)
    ws.write_string(r, 1, f"共 {count} 张表决票（含已被替代、冲突和待确认的票，状态一栏说明是否计入统计）。"
                          "业主姓名已脱敏，不含电话号码。表决票哈希可用 flask audit verify 与审计链核对。", wrap)

    sheet = wb.add_worksheet("表决票")
    for i, width in enumerate((6, 18, 12, 8, 12, 20, 30, 30, 18, 68, 16)):
        sheet.set_column(i, i, width)
    sheet.set_default_row(38)  # points: room for a 45 px image (one setting, not one per row)
    sheet.freeze_panes(1, 0)
    if count:
        sheet.autofilter(0, 0, count, len(COLUMNS) - 1)
    sheet.repeat_rows(0)
    for col, name in enumerate(COLUMNS):
        sheet.write_string(0, col, name, head)
    image_col = COLUMNS.index("签名 / 纸质票照片")
    images = _Images(scratch)
    r = 0
    for rows in evidence_batches(c, upto):
        for row in rows:
            r += 1
            sheet.write_number(r, 0, row["no"], wrap)
            for col, value in enumerate((row["room"], row["owner"], row["choice_label"], row["channel_name"],
                                         row["recorded_at"], row["handled_by"], row["status_name"],
                                         _signature_note(row), row["content_hash"], row["receipt"]), 1):
                sheet.write_string(r, col, value, wrap)
            if row["signature"] is not None:
                sheet.insert_image(r, image_col, images.path(row), {"x_scale": 0.5, "y_scale": 0.5})  # 120 × 45 px
        if progress:
            progress(r, count)
    for page in (ws, sheet):
        page.set_landscape()
        page.set_paper(9)  # A4
        page.fit_to_pages(1, 0)
        page.set_footer(footer)
    wb.close()


# ---------------------------------------------------------------- pdf

MONO_FONT = "Courier"  # one of PDF's 14 standard fonts: nothing to load or embed


def _fonts():
    """(regular, mono): WenQuanYi Micro Hei, embedded, for the text; Courier for what is only ASCII
    (hashes, digests, receipt codes). The .ttc's own monospaced face would be a second parse of the
    same 5 MB file, some 23 MB of the process for glyphs Courier has."""
    from app.services.posters import _pdf_font

    return _pdf_font(), MONO_FONT


def _streamed_document_class():
    """A ReportLab document that writes as it goes: each page's content stream is compressed when
    the page ends and, with the page's dictionary and every image, written to the file at the next
    flush(); only the fonts, the page tree's list of names and the cross-reference wait for save().
    ReportLab itself keeps every object until save(), which made a 4,000-ballot PDF peak near 1 GB."""
    from reportlab import rl_config
    from reportlab.pdfbase import pdfdoc

    class Written(pdfdoc.PDFObject):
        """What stays of a page written already: its name, for the page tree's reference to it."""

        def __init__(self, name):
            setattr(self, "__InternalName__", name)

    class StreamedDocument(pdfdoc.PDFDocument):
        def stream_to(self, out):
            self._out = out
            self._written = set()
            self._stubs = {}
            self._flushed = 0
            self._pages_flushed = 0
            self._pos = 0
            self._write(pdfdoc.PDFFile(self._pdfVersion).strings[0])

        def _write(self, data):
            self._out.write(data)
            offset, self._pos = self._pos, self._pos + len(data)
            return offset

        def addPage(self, page):
            stream = pdfdoc.PDFStream()
            stream.filters = [pdfdoc.PDFBase85Encode, pdfdoc.PDFZCompress] if rl_config.useA85 else [pdfdoc.PDFZCompress]
            stream.content = page.stream
            page.stream, page.Contents = None, stream
            super().addPage(page)
            self.Reference(stream)

        def flush(self):
            """Write the pages (dictionary and stream) and images registered since the last flush:
            called after showPage(), when every page registered is finished."""
            for number in range(self._flushed + 1, self.objectcounter + 1):
                name = self.numberToId[number]
                obj = self.idToObject[name]
                if isinstance(obj, pdfdoc.PDFPage):
                    self.idToOffset[name] = self._write(pdfdoc.PDFIndirectObject(name, obj).format(self))
                    self._written.add(name)
                    self.idToObject[name] = Written(name)  # the page tree refers to it by name
                elif isinstance(obj, (pdfdoc.PDFImageXObject, pdfdoc.PDFStream)):
                    self.idToOffset[name] = self._write(pdfdoc.PDFIndirectObject(name, obj).format(self))
                    self._written.add(name)
                    # The page dictionary still refers to its stream object (by name, when it is
                    # formatted): the bytes written are dropped, and what drawImage looks up to reuse an
                    # image is its size only (one shared stub per size).
                    obj.content = obj.streamContent = None
                    size = (getattr(obj, "width", 0), getattr(obj, "height", 0))
                    self.idToObject[name] = self._stubs.setdefault(size, SimpleNamespace(width=size[0], height=size[1]))
            self._flushed = self.objectcounter
            pages = self.Pages.pages
            for i in range(self._pages_flushed, len(pages)):
                pages[i] = self.idToObject[getattr(pages[i], "__InternalName__")]
            self._pages_flushed = len(pages)

        def format(self):
            """PDFDocument.format, writing to the file: objects not written yet, the xref and the trailer."""
            self.encrypt.prepare(self)
            cat, info = self.Catalog, self.info
            self.Reference(cat)
            self.Reference(info)
            ids, counter = [], 0
            while True:
                counter += 1
                if counter not in self.numberToId:
                    break
                name = self.numberToId[counter]
                if name not in self._written:
                    self.idToOffset[name] = self._write(pdfdoc.PDFIndirectObject(name, self.idToObject[name]).format(self))
                ids.append(name)
            xref = pdfdoc.PDFCrossReferenceTable()
            xref.addsection(0, ids)
            start = self._write(xref.format(self))
            trailer = pdfdoc.PDFTrailer(startxref=start, Size=len(ids) + 1, Root=self.Reference(cat),
                                        Info=self.Reference(info), ID=self.ID())
            self._write(trailer.format(self))
            return b""

    return StreamedDocument


def write_pdf(c, out, scratch, progress=None):
    """A4 landscape: the header and the tally, then the ballots in a table that repeats its heading,
    with the roll digest, chain head and "第 x / y 页" on every page. Two passes over the ballots,
    batch by batch: the first measures each row and fixes the page breaks (so the total is known),
    the second draws each page as a table of its own rows and writes it out. progress(done, total)."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus import Frame, Paragraph, Spacer, Table, TableStyle
    from reportlab.platypus import Image as PDFImage
    from xml.sax.saxutils import escape

    tally = tally_for(c)
    header = evidence_header(c, tally)
    count, upto = ballot_count(c)
    total_work = 2 * count
    font, mono = _fonts()  # after the live tally (an open consultation's), whose memory its parse reuses

    base = ParagraphStyle("base", fontName=font, fontSize=8, leading=10.5, wordWrap="CJK")
    title_style = ParagraphStyle("title", parent=base, fontSize=15, leading=20, spaceAfter=2)
    h2 = ParagraphStyle("h2", parent=base, fontSize=10, leading=14, spaceBefore=6, spaceAfter=2)
    cell = ParagraphStyle("cell", parent=base, fontSize=7, leading=8.8)
    head_cell = ParagraphStyle("head", parent=cell, alignment=TA_CENTER)
    mono_cell = ParagraphStyle("mono", parent=cell, fontName=mono, fontSize=6, leading=7.5)
    grey = colors.HexColor("#666666")

    def p(text, style=cell):
        return Paragraph(escape(str(text)).replace("\n", "<br/>"), style)

    def intro():
        story = [Paragraph(escape(f"表决证据：{c.title}"), title_style),
                 Paragraph(escape(f"{header['rows'][0][1]}"), ParagraphStyle("sub", parent=base, fontSize=9, textColor=grey)),
                 Spacer(1, 4)]
        info = Table([[p(label, base), p(value, ParagraphStyle("v", parent=base, fontName=mono) if label in ("名册摘要", "审计链头", "表决链摘要") else base)]
                      for label, value in header["rows"][1:]], colWidths=[60, 700])
        info.setStyle(TableStyle([
            ("FONTNAME", (0, 0), (-1, -1), font), ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
            ("TEXTCOLOR", (0, 0), (0, -1), grey),
        ]))
        story += [info, Paragraph("计票摘要", h2)]
        story += [Paragraph(escape("· " + line), base) for line in summary_lines(c, tally)]
        story.append(Paragraph(escape(f"表决票（共 {count} 张，含已被替代、冲突和待确认的票；只有状态为“有效”的票计入统计；业主姓名已脱敏；时间为北京时间）"), h2))
        return story

    pagesize = landscape(A4)
    margins = dict(left=14 * mm, right=14 * mm, top=12 * mm, bottom=16 * mm)
    frame_box = (margins["left"], margins["bottom"], pagesize[0] - margins["left"] - margins["right"],
                 pagesize[1] - margins["top"] - margins["bottom"])
    widths = [20, 84, 36, 32, 46, 52, 80, 130, 78, 124, 62]  # 744 of 762 pt
    pad = 2  # top and bottom padding of every table cell
    table_style = [
        ("FONTNAME", (0, 0), (-1, -1), font),
        ("FONTSIZE", (0, 0), (-1, -1), 7),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ALIGN", (8, 1), (8, -1), "CENTER"),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E4E4E4")),
        ("TOPPADDING", (0, 0), (-1, -1), pad), ("BOTTOMPADDING", (0, 0), (-1, -1), pad),
        ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    heading = [p(name, head_cell) for name in PDF_COLUMNS]
    images = _Images(scratch)

    class CellText(Paragraph):
        """A cell's paragraph that remembers its layout: the same text in the same column (statuses,
        channels, choices, staff, notes repeat on most rows) is laid out once and drawn many times."""

        def wrap(self, available_width, available_height):
            if getattr(self, "_laid_out", None) != available_width:
                self._size = super().wrap(available_width, available_height)
                self._laid_out = available_width
            return self._size

    texts = {}  # (column, text) → its CellText

    def text(col, value):
        if col == 1:  # rooms: one each, nothing to share
            return CellText(escape(str(value)), cell)
        key = (col, value)
        found = texts.get(key)
        if found is None:
            if len(texts) > 1000:
                texts.clear()
            found = texts[key] = CellText(escape(str(value)).replace("\n", "<br/>"), cell)
        return found

    # Fixed-shape ASCII cells (number, time, hash, receipt) are the table's own strings, drawn in the
    # column's font: a CJK-wrapping paragraph would lay them out character by character.
    string_style = [("LEADING", (0, 1), (-1, -1), cell.leading),
                    ("FONTNAME", (9, 1), (10, -1), mono), ("FONTSIZE", (9, 1), (10, -1), mono_cell.fontSize),
                    ("LEADING", (9, 1), (10, -1), mono_cell.leading)]

    def cells(row):
        note = _signature_note(row)
        if row["signature"] is not None:
            image = PDFImage(images.path(row), width=72, height=27, lazy=2)
            signature = [image, text(8, note)] if note else image
        else:
            signature = text(8, note)
        hash_text = row["content_hash"]
        return [
            str(row["no"]), text(1, row["room"]), text(2, row["owner"]), text(3, row["choice_label"]),
            text(4, row["channel_name"]), row["recorded_at"].replace(" ", "\n"), text(6, row["handled_by"]),
            text(7, row["status_name"]), signature, hash_text[:32] + "\n" + hash_text[32:], row["receipt"],
        ]

    def height(col, value):
        return text(col, value).wrap(widths[col] - 6, 10000)[1]

    def row_height(row):
        """The row's height as the table computes it: its tallest cell and the padding."""
        note = _signature_note(row)
        tallest = max(cell.leading * 2,  # the time, on two lines (the number: one)
                      mono_cell.leading * 2,  # the hash, on two lines (the receipt: one)
                      *(height(col, row[key]) for col, key in ((1, "room"), (2, "owner"), (3, "choice_label"),
                                                                (4, "channel_name"), (6, "handled_by"), (7, "status_name"))))
        if row["signature"] is not None:
            tallest = max(tallest, 27 + (height(8, note) if note else 0))
        else:
            tallest = max(tallest, height(8, note))
        return tallest + 2 * pad

    def rows():
        done = count
        for batch in evidence_batches(c, upto):
            yield from batch
            done += len(batch)
            if progress:
                progress(done, total_work)

    def draw_intro(canv, decorate):
        """The intro in frames, page after page; (pages it filled before its last, the frame it ends in)."""
        story, pages = intro(), 0
        while True:
            frame = Frame(*frame_box, showBoundary=0)
            frame.addFromList(story, canv)
            if not story:
                return pages, frame
            decorate(canv, pages + 1)
            canv.showPage()
            pages += 1

    head_height = Table([heading], colWidths=widths, style=table_style).wrap(frame_box[2], frame_box[3])[1]

    # Pass 1: page breaks.
    scratch_canvas = Canvas(io.BytesIO(), pagesize=pagesize, initialFontName=font)
    intro_pages, frame = draw_intro(scratch_canvas, lambda canv, n: None)
    full = frame_box[3] - frame._topPadding - frame._bottomPadding
    room, used, pages = frame._y - frame._y1p, head_height, []  # rows per table page
    current = 0
    done = 0
    for batch in evidence_batches(c, upto):
        for row in batch:
            h = row_height(row)
            if used + h > room and (current or pages == [] and room < full):
                pages.append(current)
                current, used, room = 0, head_height, full
            current += 1
            used += h
        done += len(batch)
        if progress:
            progress(done, total_work)
    pages.append(current)
    total = intro_pages + len(pages)

    def decorate(canv, number):
        width, height = pagesize
        left, right = 14 * 2.8346, width - 14 * 2.8346
        canv.saveState()
        canv.setFillColor(colors.HexColor("#555555"))
        canv.setFont(font, 7.5)
        canv.drawString(left, height - 22, f"{header['compound']} · {header['title']} · 表决证据")
        canv.drawRightString(right, height - 22, f"生成于 {header['generated_at']}（北京时间）")
        canv.setStrokeColor(colors.HexColor("#999999"))
        canv.setLineWidth(0.4)
        canv.line(left, 34, right, 34)
        canv.setFont(font, 7)
        canv.drawString(left, 24, "名册摘要")
        canv.drawString(left, 14, "审计链头")
        canv.setFont(mono, 7)
        canv.drawString(left + 32, 24, header["roll_digest"] or "—")
        canv.drawString(left + 32, 14, header["chain_head"])
        canv.setFont(font, 8)
        canv.drawRightString(right, 19, f"第 {number} / {total} 页")
        canv.restoreState()

    # Pass 2: draw and write.
    canv = Canvas(out, pagesize=pagesize, pageCompression=1, initialFontName=font)
    canv._doc.__class__ = _streamed_document_class()
    canv._doc.stream_to(out)
    canv.setTitle(f"表决证据：{c.title}")
    canv.setAuthor("共建")
    canv.setSubject(f"{header['compound']} · {c.title}")
    number, frame = draw_intro(canv, decorate)
    source = rows()
    x = frame._x1 + frame._leftPadding + (frame._aW - sum(widths)) / 2
    top = frame._y
    for n, page_rows in enumerate(pages):
        data, style = [heading], table_style + string_style
        for i in range(1, page_rows + 1):
            row = next(source)
            data.append(cells(row))
            if not row["counted"]:
                style.append(("BACKGROUND", (0, i), (-1, i), colors.HexColor("#F3F3F3")))
        if count == 0:
            data.append([p("—")] + [p("尚无表决票")] + [""] * (len(COLUMNS) - 2))
        if len(data) > 1:
            table = Table(data, colWidths=widths, style=style)
            _, h = table.wrapOn(canv, frame_box[2], frame_box[3])
            table.drawOn(canv, x, top - h)
        number += 1
        decorate(canv, number)
        canv.showPage()
        canv._doc.flush()
        top = frame_box[1] + frame_box[3] - frame._topPadding
    for _ in source:  # the last batch's progress
        pass
    canv.save()
