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
import re
from datetime import timedelta, timezone
from urllib.parse import quote

from PIL import Image

from app.extensions import db
from app.models import AuditChain, Ballot, Blob, Building, Owner, RollEntry, Unit, User
from app.models.consultations import DEVELOPER, KINDS, STATUSES
from app.models.places import utcnow
from app.services import audit
from app.services.ballots import STATUS_NAMES
from app.services.ballots import content_hash as ballot_content_hash
from app.services.consultations import chain_name, result_of, slots_digest, tally_for, terms
from app.services.privacy import mask_name
from app.services.tally import MEASURE_NAMES

BEIJING = timezone(timedelta(hours=8), "北京时间")
CHANNELS = {"online": "线上签署", "paper": "纸质表决票"}
STATUSES_ZH = {**STATUS_NAMES, "late": "纸质票在截止后才确认，未计入"}
THUMB_PX = (240, 90)  # drawn at 120 × 45 (xlsx, px) and 72 × 27 pt (PDF): sharp when zoomed or printed
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


def _thumbnail(data):
    """The signature (or paper photo) on white, fitted into THUMB_PX, as PNG bytes; None if unreadable."""
    try:
        image = Image.open(io.BytesIO(data))
        image.draft("RGB", THUMB_PX)  # JPEG photos decode small
        image.load()
    except Exception:  # noqa: BLE001 - a damaged blob shows as text, it must not stop the export
        return None
    if image.mode in ("RGBA", "LA", "P", "PA"):
        image = image.convert("RGBA")
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, image)
    image = image.convert("RGB")
    image.thumbnail(THUMB_PX, Image.LANCZOS)
    canvas = Image.new("RGB", THUMB_PX, (255, 255, 255))
    canvas.paste(image, ((THUMB_PX[0] - image.width) // 2, (THUMB_PX[1] - image.height) // 2))
    out = io.BytesIO()
    canvas.save(out, "PNG", optimize=True)
    return out.getvalue()


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


def evidence_rows(c):
    """Every ballot of the consultation, room by room and oldest first, as plain dicts."""
    labels = {o["key"]: o["label"] for o in terms(c).options}
    rows = db.session.execute(
        db.select(Ballot, RollEntry.label)
        .join(RollEntry, (RollEntry.consultation_id == Ballot.consultation_id) & (RollEntry.flat_id == Ballot.flat_id))
        .where(Ballot.consultation_id == c.id)
        .order_by(RollEntry.building_id, RollEntry.unit_id, RollEntry.flat_id, Ballot.created_at, Ballot.id)
    ).all()
    staff_ids = {i for b, *_ in rows for i in (b.entered_by_id, b.confirmed_by_id) if i is not None}
    users = dict(db.session.execute(db.select(User.id, User.name).where(User.id.in_(staff_ids))).all()) if staff_ids else {}
    # The owner as the roll froze them (the ballot's person), not whoever the roster names today.
    owner_ids = {i for b, _ in rows for i in _owner_ids(b.person_key)}
    names = dict(db.session.execute(db.select(Owner.id, Owner.name).where(Owner.id.in_(owner_ids))).all()) if owner_ids else {}
    signers = _signers(c, [b for b, _ in rows])  # co-owners and written proxies (issue 15)
    out = []
    for number, (ballot, room) in enumerate(rows, 1):
        if ballot.person_key == DEVELOPER:
            owner = "开发商（未售）"
        else:
            owner = "、".join(mask_name(names.get(i)) or "—" for i in _owner_ids(ballot.person_key)) or "—"
        if ballot.channel == "paper":
            entered, confirmed = _staff_name(users, ballot.entered_by_id), _staff_name(users, ballot.confirmed_by_id)
            handled = f"录入 {entered or '—'}；确认 {confirmed or '待确认'}"
        else:
            handled = signers.get(ballot.id, "业主本人线上签署")
        thumbnail, signature_ok = None, None
        if ballot.signature_id is not None:
            # Column select: the (possibly large) blob is not kept in the session.
            data = db.session.scalar(db.select(Blob.data).where(Blob.id == ballot.signature_id))
            if data is not None:
                signature_ok = hashlib.sha256(data).hexdigest() == ballot.signature_sha256
                thumbnail = _thumbnail(data)
        hash_ok = ballot_content_hash(ballot) == ballot.content_hash
        status_name = STATUSES_ZH.get(ballot.status, ballot.status)
        if not hash_ok:
            status_name += "（警告：内容与哈希不符）"
        out.append({
            "no": number, "ballot_id": ballot.id, "flat_id": ballot.flat_id, "room": room, "owner": owner,
            "choice": ballot.choice, "choice_label": labels.get(ballot.choice, ballot.choice),
            "channel": ballot.channel, "channel_name": CHANNELS.get(ballot.channel, ballot.channel),
            "recorded_at": beijing(ballot.created_at), "confirmed_at": beijing(ballot.confirmed_at) if ballot.confirmed_at else None,
            "entered_by_id": ballot.entered_by_id, "confirmed_by_id": ballot.confirmed_by_id, "handled_by": handled,
            "status": ballot.status, "status_name": status_name, "counted": ballot.status == "current",
            "signature": thumbnail, "signature_ok": signature_ok, "has_signature": ballot.signature_id is not None,
            "content_hash": ballot.content_hash, "hash_ok": hash_ok, "receipt": ballot.receipt,
        })
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


def as_text(worksheet):
    """Every text cell stored as text, never as a formula: openpyxl takes a string starting with "="
    for a formula, so a title like =HYPERLINK(...) or a room named =1+1 would run in Excel. The
    text reads exactly as given (no leading apostrophe); "+", "-", "@", tab and CR starts are
    stored as strings too."""
    for row in worksheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"


def evidence_xlsx(c):
    """Two sheets: 概要 (header and tally) and 表决票 (one row per ballot, signatures embedded)."""
    from openpyxl import Workbook
    from openpyxl.drawing.image import Image as XLImage
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    tally = tally_for(c)
    header = evidence_header(c, tally)
    rows = evidence_rows(c)
    wrap = Alignment(wrap_text=True, vertical="center")
    bold = Font(bold=True)

    wb = Workbook()
    ws = wb.active
    ws.title = "概要"
    ws.column_dimensions["A"].width = 14
    ws.column_dimensions["B"].width = 100
    ws.append([f"表决证据：{c.title}"])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([])
    for label, value in header["rows"]:
        ws.append([label, value])
    ws.append([])
    ws.append(["计票摘要"])
    ws.cell(ws.max_row, 1).font = bold
    for line in summary_lines(c, tally):
        ws.append(["", line])
    ws.append([])
    ws.append(["说明", f"共 {len(rows)} 张表决票（含已被替代、冲突和待确认的票，状态一栏说明是否计入统计）。"
                     "业主姓名已脱敏，不含电话号码。表决票哈希可用 flask audit verify 与审计链核对。"])
    for row in ws.iter_rows(min_row=3):
        row[0].font = bold
        for cell in row[1:]:
            cell.alignment = wrap

    sheet = wb.create_sheet("表决票")
    sheet.append(list(COLUMNS))
    fill = PatternFill("solid", fgColor="DDDDDD")
    for cell in sheet[1]:
        cell.font, cell.fill, cell.alignment = bold, fill, wrap
    widths = (6, 18, 12, 8, 12, 20, 30, 30, 18, 68, 16)
    for i, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    image_col = get_column_letter(COLUMNS.index("签名 / 纸质票照片") + 1)
    for r, row in enumerate(rows, 2):
        sheet.append([row["no"], row["room"], row["owner"], row["choice_label"], row["channel_name"],
                      row["recorded_at"], row["handled_by"], row["status_name"], _signature_note(row),
                      row["content_hash"], row["receipt"]])
        sheet.row_dimensions[r].height = 38  # points: room for a 45 px image
        for cell in sheet[r]:
            cell.alignment = wrap
        if row["signature"] is not None:
            image = XLImage(io.BytesIO(row["signature"]))
            image.width, image.height = 120, 45
            sheet.add_image(image, f"{image_col}{r}")
    sheet.freeze_panes = "A2"
    if rows:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{len(rows) + 1}"
    for page in (ws, sheet):
        page.page_setup.orientation = "landscape"
        page.page_setup.paperSize = page.PAPERSIZE_A4
        page.page_setup.fitToWidth, page.page_setup.fitToHeight = 1, 0
        page.sheet_properties.pageSetUpPr.fitToPage = True
        page.oddFooter.left.text = f"名册摘要 {header['roll_digest']}\n审计链头 {header['chain_head']}"
        page.oddFooter.left.size = 7
        page.oddFooter.right.text = "第 &P / &N 页"
        page.oddFooter.right.size = 8
    sheet.print_title_rows = "1:1"
    for page in (ws, sheet):
        as_text(page)
    wb.properties.title = f"表决证据：{c.title}"
    wb.properties.creator = "共建"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# ---------------------------------------------------------------- pdf

MONO_FONT_NAME = "WenQuanYiMicroHeiMono"


def _fonts():
    """(regular, mono): WenQuanYi Micro Hei and its monospaced face, from the same .ttc."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    from app.services.posters import _pdf_font, find_cjk_font

    regular = _pdf_font()
    if MONO_FONT_NAME not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(MONO_FONT_NAME, find_cjk_font(), subfontIndex=1))
    return regular, MONO_FONT_NAME


def _numbered_canvas(header, font, mono):
    """A canvas that holds its pages until the end, then draws "第 x / y 页" and the footer on each."""
    from reportlab.lib import colors
    from reportlab.pdfgen.canvas import Canvas

    class EvidenceCanvas(Canvas):
        def __init__(self, *args, **kwargs):
            kwargs["initialFontName"] = font  # else Helvetica is referenced, unembedded
            super().__init__(*args, **kwargs)
            self._held = []

        def showPage(self):
            self._held.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._held)
            for state in self._held:
                self.__dict__.update(state)
                self._decorate(total)
                super().showPage()
            super().save()

        def _decorate(self, total):
            width, height = self._pagesize
            left, right = 14 * 2.8346, width - 14 * 2.8346
            self.saveState()
            self.setFillColor(colors.HexColor("#555555"))
            self.setFont(font, 7.5)
            self.drawString(left, height - 22, f"{header['compound']} · {header['title']} · 表决证据")
            self.drawRightString(right, height - 22, f"生成于 {header['generated_at']}（北京时间）")
            self.setStrokeColor(colors.HexColor("#999999"))
            self.setLineWidth(0.4)
            self.line(left, 34, right, 34)
            self.setFont(font, 7)
            self.drawString(left, 24, "名册摘要")
            self.drawString(left, 14, "审计链头")
            self.setFont(mono, 7)
            self.drawString(left + 32, 24, header["roll_digest"] or "—")
            self.drawString(left + 32, 14, header["chain_head"])
            self.setFont(font, 8)
            self.drawRightString(right, 19, f"第 {self._pageNumber} / {total} 页")
            self.restoreState()

    return EvidenceCanvas


def evidence_pdf(c):
    """A4 landscape: the header and the tally, then the ballots in a table that repeats its heading."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Image as PDFImage
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
    from xml.sax.saxutils import escape

    font, mono = _fonts()
    tally = tally_for(c)
    header = evidence_header(c, tally)
    rows = evidence_rows(c)

    base = ParagraphStyle("base", fontName=font, fontSize=8, leading=10.5, wordWrap="CJK")
    title_style = ParagraphStyle("title", parent=base, fontSize=15, leading=20, spaceAfter=2)
    h2 = ParagraphStyle("h2", parent=base, fontSize=10, leading=14, spaceBefore=6, spaceAfter=2)
    cell = ParagraphStyle("cell", parent=base, fontSize=7, leading=8.8)
    head_cell = ParagraphStyle("head", parent=cell, alignment=TA_CENTER)
    mono_cell = ParagraphStyle("mono", parent=cell, fontName=mono, fontSize=6, leading=7.5)
    grey = colors.HexColor("#666666")

    def p(text, style=cell):
        return Paragraph(escape(str(text)).replace("\n", "<br/>"), style)

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
    story.append(Paragraph(escape(f"表决票（共 {len(rows)} 张，含已被替代、冲突和待确认的票；只有状态为“有效”的票计入统计；业主姓名已脱敏；时间为北京时间）"), h2))

    widths = [20, 84, 36, 32, 46, 52, 80, 130, 78, 124, 62]  # 744 of 762 pt
    data = [[p(name, head_cell) for name in PDF_COLUMNS]]
    for row in rows:
        if row["signature"] is not None:
            image = PDFImage(io.BytesIO(row["signature"]), width=72, height=27)
            note = _signature_note(row)
            signature = [image, p(note)] if note else image
        else:
            signature = p(_signature_note(row))
        hash_text = row["content_hash"]
        data.append([
            p(row["no"]), p(row["room"]), p(row["owner"]), p(row["choice_label"]), p(row["channel_name"]),
            p(row["recorded_at"].replace(" ", "\n")), p(row["handled_by"]), p(row["status_name"]), signature,
            p(hash_text[:32] + "\n" + hash_text[32:], mono_cell), p(row["receipt"], mono_cell),
        ])
    if not rows:
        data.append([p("—")] + [p("尚无表决票")] + [""] * (len(COLUMNS) - 2))
    table = Table(data, colWidths=widths, repeatRows=1)
    style = [
        ("FONTNAME", (0, 0), (-1, -1), font),
        ("FONTSIZE", (0, 0), (-1, -1), 7),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ALIGN", (8, 1), (8, -1), "CENTER"),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E4E4E4")),
        ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    for i, row in enumerate(rows, 1):
        if not row["counted"]:
            style.append(("BACKGROUND", (0, i), (-1, i), colors.HexColor("#F3F3F3")))
    table.setStyle(TableStyle(style))
    story.append(table)

    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out, pagesize=landscape(A4), leftMargin=14 * mm, rightMargin=14 * mm, topMargin=12 * mm,
        bottomMargin=16 * mm, title=f"表决证据：{c.title}", author="共建", subject=f"{header['compound']} · {c.title}",
        pageCompression=1, initialFontName=font,
    )
    doc.build(story, canvasmaker=_numbered_canvas(header, font, mono))
    return out.getvalue()
