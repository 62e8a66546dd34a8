"""The documents of a contribution plan (资金共筹): a flat's one-page 出资协议 (PDF) and the plan's
ledger (出资台账, xlsx). Pure renderers: they take plain dicts and return bytes, never touch the
database, so the caller decides what goes in (names already masked, DESIGN.md §7).

Money is in fen (integers) everywhere; the documents show it in figures (`fen_text`) and, where a
contract needs it, in capitals (`chinese_capital`). Stored times are naive UTC and are printed as
Beijing time (Asia/Shanghai).

Capital numbers (人民币大写) follow the rules of 《支付结算办法》附件 for cheques, with these choices
where the rules allow two forms:
- 整 only when there is neither 角 nor 分 ("壹佰贰拾元整"); never after 角 ("壹元伍角");
- a 0 in the 元 place before a non-zero 角 gets no 零 ("壹仟陆佰捌拾元叁角贰分"); 0 角 before a
  non-zero 分 always does ("壹拾元零壹分");
- a 零 stands for each run of skipped places inside a number and where a 万 or 亿 section begins
  with 0 ("壹仟万零壹元", "壹亿零壹拾万元整"), not where a section ends with 0 ("壹拾万柒仟元整");
- 拾 always has its digit ("壹拾元整"), as on cheques; below one yuan there is no 元 ("伍分");
  zero is "零元整"; a negative amount begins with 负.
"""
import io
from functools import partial
from datetime import datetime, timezone
from decimal import Decimal
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
PDF_MIME = "application/pdf"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# ---------------------------------------------------------------- money

DIGITS = "零壹贰叁肆伍陆柒捌玖"


def fen_text(fen: int) -> str:
    """12345678 → "¥123,456.78"; -5 → "-¥0.05"."""
    _check_fen(fen)
    yuan, rest = divmod(abs(fen), 100)
    return f"{'-' if fen < 0 else ''}¥{yuan:,}.{rest:02d}"


def chinese_capital(fen: int) -> str:
    """人民币大写 of an amount in fen: 12000 → "壹佰贰拾元整", 100530 → "壹仟零伍元叁角" (rules above)."""
    _check_fen(fen)
    if fen < 0:
        return "负" + chinese_capital(-fen)
    yuan, rest = divmod(fen, 100)
    jiao, fen_digit = divmod(rest, 10)
    if yuan == 0 and rest == 0:
        return "零元整"
    out = _integer(yuan) + "元" if yuan else ""
    if rest == 0:
        return out + "整"
    if jiao:
        out += DIGITS[jiao] + "角"
    elif yuan:
        out += "零"  # 壹拾元零壹分
    if fen_digit:
        out += DIGITS[fen_digit] + "分"
    return out


def _check_fen(fen):
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError(f"an amount in fen must be an int, not {type(fen).__name__}")


def _integer(n: int) -> str:
    """A positive integer in capitals, sections of 万 and 亿 (亿 may hold 万: 壹万亿)."""
    for size, unit, leading in ((10 ** 8, "亿", 10 ** 7), (10 ** 4, "万", 10 ** 3)):
        if n >= size:
            high, rest = divmod(n, size)
            out = _integer(high) + unit
            if rest:  # the next section starts with 0 → 零 (壹仟万零壹)
                out += ("零" if rest < leading else "") + _integer(rest)
            return out
    out, gap = "", False
    for place, name in ((1000, "仟"), (100, "佰"), (10, "拾"), (1, "")):
        digit = n // place % 10
        if digit == 0:
            gap = gap or bool(out)
        else:
            out += ("零" if gap else "") + DIGITS[digit] + name
            gap = False
    return out


def beijing(value, fmt="%Y年%m月%d日 %H:%M"):
    """A stored naive-UTC datetime as Beijing wall time (default "2026年11月28日 19:43"); None → "—"."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(SHANGHAI).strftime(fmt)


def _beijing_naive(value):
    """For a spreadsheet cell: Beijing wall time without a zone (Excel has none); a calendar day
    (a payment's date, already a Beijing day) stays as it is."""
    if value is None or not isinstance(value, datetime):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(SHANGHAI).replace(tzinfo=None)


def _number_text(value) -> str:
    """85.230 → "85.23", Decimal("12.0") → "12", 3 → "3" (hours and areas, never in exponent form)."""
    return format(Decimal(str(value)).normalize(), "f")


# ---------------------------------------------------------------- the agreement (PDF)

MM = 72 / 25.4
A4 = (595.2756, 841.8898)  # points, as ReportLab's A4
MARGIN_X = 18 * MM
MARGIN_TOP = 16 * MM
MARGIN_BOTTOM = 16 * MM
CONTENT_W = A4[0] - 2 * MARGIN_X
# The signature box, in points from the page's bottom-left corner (x, y, width, height). The bottom
# block (signature, signing time, receipt code, hashes) stands at fixed places; the flowing part
# (parties, lines, terms, body) fills the page above BOTTOM_TOP.
SIGNATURE_BOX = (A4[0] - MARGIN_X - 190, MARGIN_BOTTOM + 50, 190, 64)
BOTTOM_TOP = SIGNATURE_BOX[1] + SIGNATURE_BOX[3] + 20
MORE = "……（全文见小程序）"
CHANNELS = {"online": "线上签署（小程序手写签名）", "paper": "纸质承诺书（网格员录入）"}
PAPER_NOTE = "纸质承诺书，原件照片存档"
CUT_TRIM = " \t\n，、；：,;:"  # no "，……" where a text is cut


def _fonts():
    """(regular, mono): the project's embedded CJK font and its monospaced face."""
    from app.services.evidence import _fonts as evidence_fonts

    return evidence_fonts()


def _styles(font, table_size):
    from reportlab.lib.enums import TA_CENTER, TA_RIGHT
    from reportlab.lib.styles import ParagraphStyle

    base = ParagraphStyle("base", fontName=font, fontSize=9.5, leading=13.5, wordWrap="CJK")
    cell = ParagraphStyle("cell", parent=base, fontSize=table_size, leading=table_size * 1.3)
    return {
        "base": base,
        "title": ParagraphStyle("title", parent=base, fontSize=22, leading=26, alignment=TA_CENTER,
                                spaceAfter=2),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=12.5, leading=17, alignment=TA_CENTER,
                                   spaceAfter=6),
        "h2": ParagraphStyle("h2", parent=base, fontSize=10.5, leading=14, spaceBefore=5, spaceAfter=2),
        "term": ParagraphStyle("term", parent=base, fontSize=9, leading=12.5, leftIndent=10, bulletIndent=0),
        "body": ParagraphStyle("body", parent=base, fontSize=8.5, leading=12, textColor="#333333"),
        "cell": cell,
        "cell_c": ParagraphStyle("cell_c", parent=cell, alignment=TA_CENTER),
        "cell_r": ParagraphStyle("cell_r", parent=cell, alignment=TA_RIGHT),
        "cell_small": ParagraphStyle("cell_small", parent=cell, fontSize=table_size - 1.5,
                                     leading=(table_size - 1.5) * 1.3, textColor="#555555"),
    }


def _p(text, style):
    from reportlab.platypus import Paragraph

    return Paragraph(escape(str(text)).replace("\n", "<br/>"), style)


def _height(flowables, width):
    """The height the flowables take one after another in a frame of this width."""
    total = 0.0
    for i, f in enumerate(flowables):
        _, h = f.wrap(width, 10 ** 6)
        total += h + f.getSpaceAfter() + (f.getSpaceBefore() if i else 0)
    return total


def _clip(text, style, width, height, bullet=None, cut=False):
    """(paragraph, cut): the longest start of text whose paragraph fits height, ending in MORE when
    cut (always when cut=True); (None, True) if not even MORE fits."""
    from reportlab.platypus import Paragraph

    def para(s):
        return Paragraph(escape(s).replace("\n", "<br/>"), style, bulletText=bullet)

    def fits(s):
        f = para(s)
        return f.wrap(width, 10 ** 6)[1] + f.getSpaceAfter() + f.getSpaceBefore() <= height

    text = text.strip()
    if not cut and fits(text):
        return para(text), False
    if not fits(MORE):
        return None, True
    lo, hi = 0, len(text)  # the longest n with fits(text[:n] + MORE)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(text[:mid].rstrip(CUT_TRIM) + MORE):
            lo = mid
        else:
            hi = mid - 1
    return para(text[:lo].rstrip(CUT_TRIM) + MORE), True


def _line_rows(doc, st):
    plan = doc["plan"]
    rows = []
    for i, line in enumerate(doc["lines"], 1):
        item = [_p(line["item"], st["cell"])]
        if line.get("note"):
            item.append(_p(line["note"], st["cell_small"]))
        method = [_p(line.get("method") or "—", st["cell_c"])]
        if line.get("hours") is not None:
            hours = f"{_number_text(line['hours'])} 小时"
            if plan.get("labour_rate_fen"):
                hours += f"（按 {fen_text(plan['labour_rate_fen'])}/小时折算）"
            method.append(_p(hours, st["cell_small"]))
        rows.append([
            _p(i, st["cell_c"]), item, _p("必选" if line.get("required") else "自选", st["cell_c"]), method,
            _p(fen_text(line["due_fen"]) if line.get("due_fen") is not None else "—", st["cell_r"]),
            _p(fen_text(line["amount_fen"]), st["cell_r"]), _p(chinese_capital(line["amount_fen"]), st["cell"]),
        ])
    return rows


def _lines_table(doc, st):
    from reportlab.lib import colors
    from reportlab.platypus import Table, TableStyle

    head = [_p(t, st["cell_c"]) for t in ("序号", "出资项目", "类别", "出资方式", "应缴金额", "承诺金额",
                                         "承诺金额（大写）")]
    rows = _line_rows(doc, st)
    total = [_p("合计", st["cell_c"]), "", "", "", "",
             _p(fen_text(doc["total_fen"]), st["cell_r"]), _p(chinese_capital(doc["total_fen"]), st["cell"])]
    fixed = [26, 100, 30, 66, 60, 60]
    widths = fixed + [CONTENT_W - sum(fixed)]
    last = len(rows) + 1
    table = Table([head] + rows + [total], colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#777777")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E6E6E6")),
        ("BACKGROUND", (0, last), (-1, last), colors.HexColor("#F2F2F2")),
        ("SPAN", (0, last), (4, last)),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]))
    return table


def _parties(doc, st):
    from reportlab.platypus import Table, TableStyle

    plan, flat = doc["plan"], doc["flat"]
    owner = f"业主 {doc['owner']}" if doc.get("owner") else "业主"
    facts = []
    if flat.get("area") is not None:
        facts.append(f"建筑面积 {_number_text(flat['area'])} 平方米")
    if flat.get("floor") is not None:
        facts.append(f"第 {flat['floor']} 层")
    rows = [
        ("出资人（甲方）", f"{plan['compound']} {flat['label']} {owner}" + (f"（{'，'.join(facts)}）" if facts else "")),
        ("项目方（乙方）", f"{plan['compound']}改造共建项目，实施范围：{plan['scope_name']}"),
        ("出资方案", f"第 {plan['id']} 号方案《{plan['title']}》"),
        ("出资截止", f"{beijing(plan['closes_at'])}（北京时间）"),
    ]
    label = _styles_label(st)
    table = Table([[_p(k, label), _p(v, st["base"])] for k, v in rows], colWidths=[78, CONTENT_W - 78],
                  hAlign="LEFT")
    table.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 2),
        ("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
    ]))
    return table


def _styles_label(st):
    from reportlab.lib.styles import ParagraphStyle

    return ParagraphStyle("label", parent=st["base"], textColor="#555555")


def _story(doc, font, height):
    """The flowing part of the page, fitted to height: the plan's body is cut first, then its terms,
    and only if the lines alone are too long do they get a smaller font (KeepInFrame shrinks the
    rest, never a second page)."""
    from reportlab.platypus import Spacer

    plan = doc["plan"]
    for table_size in (9, 8, 7):
        st = _styles(font, table_size)
        head = [
            _p("出资协议", st["title"]),
            _p(plan["title"], st["subtitle"]),
            _parties(doc, st),
            Spacer(1, 6),
            _p("甲方自愿参加本方案的出资，按下列项目承担并承诺缴纳（金额单位：人民币元）：", st["base"]),
            Spacer(1, 4),
            _lines_table(doc, st),
        ]
        room = height - _height(head, CONTENT_W)
        if room >= 60 or table_size == 7:
            break
    story = head
    terms = [str(t).strip() for t in (plan.get("terms") or []) if t and str(t).strip()]
    body = (plan.get("body") or "").strip()

    # The terms first, all of them if they fit; a term that does not fit is cut with MORE, and if
    # not even MORE fits, the term before it ends with MORE instead.
    kept = []  # (text, paragraph, height)
    if terms:
        heading = _p("方案条款", st["h2"])
        room -= _height([heading], CONTENT_W) + heading.getSpaceBefore()
        for term in terms:
            para, cut = _clip(term, st["term"], CONTENT_W, room, bullet="•")
            if para is None and kept:
                text, _, h = kept.pop()
                room += h
                para, cut = _clip(text, st["term"], CONTENT_W, room, bullet="•", cut=True)
            if para is None:
                break
            h = _height([para], CONTENT_W)
            room -= h
            kept.append((term, para, h))
            if cut:
                break
    # Then the body, in what is left; where not even its first words fit, the terms' heading says
    # where to read it.
    body_paras = []
    if body:
        body_heading = _p("方案说明", st["h2"])
        para, _ = _clip(body, st["body"], CONTENT_W,
                        room - _height([body_heading], CONTENT_W) - body_heading.getSpaceBefore())
        if para is not None:
            body_paras = [body_heading, para]
    if kept:
        note = "（方案说明全文见小程序）" if body and not body_paras else ""
        story += [_p("方案条款" + note, st["h2"])] + [para for _, para, _ in kept]
    story += body_paras
    if (terms and not kept) or (body and not body_paras and not kept):  # the lines nearly fill the page
        story.append(_p("方案条款及说明" + MORE, st["body"]))
    return story


def _signature_image(png, box_w, box_h):
    """(ImageReader, width, height): the signature on white, fitted into the box keeping its aspect;
    None if unreadable."""
    from PIL import Image
    from reportlab.lib.utils import ImageReader

    try:
        image = Image.open(io.BytesIO(png))
        image.load()
    except Exception:  # noqa: BLE001 - a damaged image shows as a note, it must not stop the agreement
        return None
    if image.mode in ("RGBA", "LA", "P", "PA"):
        image = image.convert("RGBA")
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, image)
    image = image.convert("RGB")
    scale = min(box_w / image.width, box_h / image.height)
    w, h = image.width * scale, image.height * scale
    image.thumbnail((round(w / 72 * 300), round(h / 72 * 300)), Image.LANCZOS)  # 300 dpi at most
    return ImageReader(image), w, h


def _draw_bottom(c, doc, font, mono):
    """The fixed bottom block: signing facts on the left, the signature box on the right, then the
    receipt code and the hashes."""
    from reportlab.lib import colors

    left, right = MARGIN_X, A4[0] - MARGIN_X
    bx, by, bw, bh = SIGNATURE_BOX
    grey = colors.HexColor("#555555")
    c.setStrokeColor(colors.HexColor("#999999"))
    c.setLineWidth(0.6)
    c.line(left, BOTTOM_TOP - 6, right, BOTTOM_TOP - 6)

    c.setFillColor(colors.black)
    c.setFont(font, 10)
    c.drawString(bx, by + bh + 5, "甲方签名：")
    c.setStrokeColor(colors.HexColor("#BBBBBB"))
    c.setLineWidth(0.5)
    c.rect(bx, by, bw, bh, stroke=1, fill=0)
    drawn = False
    if doc.get("signature_png"):
        fitted = _signature_image(doc["signature_png"], bw - 8, bh - 8)
        if fitted is not None:
            image, w, h = fitted
            c.drawImage(image, bx + (bw - w) / 2, by + (bh - h) / 2, w, h)
            drawn = True
    if not drawn:
        c.setFillColor(grey)
        c.setFont(font, 9.5)
        note = PAPER_NOTE if doc.get("channel") == "paper" else "（签名图像缺失）"
        c.drawCentredString(bx + bw / 2, by + bh / 2 - 3.5, note)

    facts = [
        ("签署方式", CHANNELS.get(doc.get("channel"), doc.get("channel") or "—")),
        ("签署时间", f"{beijing(doc.get('signed_at'))}（北京时间）"),
        ("协议状态", doc.get("status_name") or "—"),
    ]
    y = by + bh - 8
    for label, value in facts:
        c.setFillColor(grey)
        c.setFont(font, 9.5)
        c.drawString(left, y, label + "：")
        c.setFillColor(colors.black)
        c.drawString(left + 52, y, value)
        y -= 17

    y = by - 16
    c.setFillColor(colors.black)
    c.setFont(font, 9.5)
    c.drawString(left, y, "回执码：")
    c.setFont(mono, 11)
    c.drawString(left + 42, y, doc.get("receipt") or "—")
    c.setFillColor(grey)
    c.setFont(font, 8)
    c.drawRightString(right, y, "本协议及缴款记录可在小程序“我的出资承诺”中查看")
    for label, value in (("协议内容哈希 SHA-256", doc.get("content_hash")),
                         ("方案摘要 SHA-256", doc["plan"].get("digest"))):
        y -= 12
        c.setFont(font, 7)
        c.drawString(left, y, label)
        c.setFont(mono, 7)
        c.drawString(left + 78, y, value or "—")


def agreement_pdf(doc: dict) -> bytes:
    """One A4 page: a flat's 出资协议. doc = {"plan": {id, title, body, compound, scope_name, closes_at,
    digest, labour_rate_fen, terms: [str]}, "flat": {label, area, floor}, "owner": masked name or None,
    "lines": [{item, required, method, amount_fen, due_fen, hours, note}], "total_fen", "channel":
    "online" | "paper", "signature_png": bytes or None, "signed_at", "receipt", "content_hash",
    "status_name"}; times naive UTC, printed as Beijing time.

    The page never overflows: the plan's terms come first and a term that does not fit is cut with
    "……（全文见小程序）"; the body gets what is left, cut the same way (or, where not even its first
    words fit, the terms' heading says 方案说明全文见小程序); only lines that alone nearly fill the page
    make the table's font smaller (9 → 7 pt) and, past that, the whole upper part is scaled down."""
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus import Frame, KeepInFrame

    font, mono = _fonts()
    plan = doc["plan"]
    out = io.BytesIO()
    c = Canvas(out, pagesize=A4, pageCompression=1, initialFontName=font)
    c.setTitle(f"出资协议：{plan['title']}")
    c.setAuthor("共建")
    c.setSubject(f"{plan['compound']} · {doc['flat']['label']}")

    top = A4[1] - MARGIN_TOP
    height = top - BOTTOM_TOP
    story = _story(doc, font, height)
    frame = Frame(MARGIN_X, BOTTOM_TOP, CONTENT_W, height, leftPadding=0, rightPadding=0, topPadding=0,
                  bottomPadding=0, showBoundary=0)
    frame.addFromList([KeepInFrame(CONTENT_W, height, story, mode="shrink", vAlign="TOP")], c)
    _draw_bottom(c, doc, font, mono)
    c.showPage()
    c.save()
    return out.getvalue()


# ---------------------------------------------------------------- the ledger (xlsx)

KINDS = (("due", "应缴"), ("pledged", "承诺"), ("paid", "已缴"))
MONEY_FORMAT = "#,##0.00"
TIME_FORMAT = "yyyy-mm-dd hh:mm"
DATE_FORMAT = "yyyy-mm-dd"


def _yuan(fen):
    return None if fen is None else Decimal(fen) / 100


def ledger_xlsx(plan: dict, items: list, rows, totals: dict) -> bytes:
    """The plan's ledger: a header block, one row per flat (room, owner, 应缴/承诺/已缴 per item, their
    sums, methods, Beijing times, receipt, state) and a 合计 row from `totals`. Write-only: rows are
    streamed, memory does not grow with them. Money in yuan as numbers; no cell is a formula; text
    is stored as text and text that Excel would read as a formula (= + - @) also gets Excel's quote
    prefix, so it stays text even when edited."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("出资台账")
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="DDDDDD")
    total_fill = PatternFill("solid", fgColor="F2F2F2")
    wrap = Alignment(wrap_text=True, vertical="center")

    from app.services import sheets

    cell = partial(sheets.cell, ws)

    columns = ["房屋", "业主（脱敏）"]
    for item in items:
        columns += [f"{item['name']}·{zh}（元）" for _, zh in KINDS]
    columns += [f"{zh}合计（元）" for _, zh in KINDS]
    columns += ["出资方式", "承诺时间（北京时间）", "缴清时间（北京时间）", "回执码", "状态"]
    widths = [18, 12] + [13] * (3 * len(items) + 3) + [20, 18, 18, 16, 10]
    for i, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = width

    header = [
        ("小区", plan.get("compound")),
        ("范围", plan.get("scope_name")),
        ("方案状态", plan.get("status_name")),
        ("方案摘要（SHA-256）", plan.get("digest")),
        ("生成时间（北京时间）", beijing(plan.get("generated_at"), "%Y-%m-%d %H:%M:%S")),
        ("说明", "金额单位：人民币元；业主姓名已脱敏；时间为北京时间；合计行为系统统计值。"),
    ]
    head_row = len(header) + 3  # the title, the header block, a blank row, then the column headings
    # write-only: what stands above the rows in the file (views, page set-up flags) is set before the first row
    ws.freeze_panes = f"C{head_row + 1}"
    ws.print_title_rows = f"{head_row}:{head_row}"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = "9"  # A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.oddFooter.right.text = "第 &P / &N 页"

    ws.append([cell(f"出资台账：{plan.get('title', '')}", font=Font(bold=True, size=14))])
    for label, value in header:
        ws.append([cell(label, font=bold), cell(value if value is not None else "—")])
    ws.append([])
    ws.append([cell(name, font=bold, fill=head_fill, alignment=wrap) for name in columns])

    def money_cells(values_by_kind, fill=None, font=None):
        out = []
        for item in items:
            for kind, _ in KINDS:
                out.append(cell(_yuan((values_by_kind.get(kind) or {}).get(item["key"])), MONEY_FORMAT, font, fill))
        for kind, _ in KINDS:
            present = [v for v in (values_by_kind.get(kind) or {}).values() if v is not None]
            out.append(cell(_yuan(sum(present)), MONEY_FORMAT, font, fill))
        return out

    count = 0
    for row in rows:
        count += 1
        ws.append([cell(row.get("room") or "—"), cell(row.get("owner") or "—")]
                  + money_cells(row)
                  + [cell(row.get("methods") or ""),
                     cell(_beijing_naive(row.get("pledged_at")), TIME_FORMAT),
                     cell(_beijing_naive(row.get("paid_at")), DATE_FORMAT),
                     cell(row.get("receipt") or ""), cell(row.get("state_name") or "")])
    ws.append([cell("合计", font=bold, fill=total_fill), cell(f"{count} 户", font=bold, fill=total_fill)]
              + money_cells(totals, total_fill, bold)
              + [cell(None, fill=total_fill) for _ in range(5)])
    if count:  # the filter is written after the rows: now its extent is known
        ws.auto_filter.ref = f"A{head_row}:{get_column_letter(len(columns))}{head_row + count}"
    wb.properties.title = f"出资台账：{plan.get('title', '')}"
    wb.properties.creator = "共建"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
