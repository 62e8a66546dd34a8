"""Building posters: the PNG a grid worker prints, and the PDF for a whole compound."""
import base64
import io
import re
import zlib

import pytest
import qrcode
from PIL import Image, ImageChops

from app.services import posters
from app.services.posters import find_cjk_font, posters_pdf, render_poster, render_posters

W, H = 1240, 1754


def qr_png(data="https://gongjian.example/b/1"):
    out = io.BytesIO()
    qrcode.make(data).save(out, "PNG")
    return out.getvalue()


def image(png):
    return Image.open(io.BytesIO(png)).convert("RGB")


def dark_bbox(img, box=None, threshold=100):
    """Bounding box (in page pixels) of the near-black pixels inside box (red is not dark), or None."""
    box = box or (0, 0, img.width, img.height)
    r, g, b = img.crop(box).split()
    mask = ImageChops.lighter(ImageChops.lighter(r, g), b).point(lambda v: 255 if v < threshold else 0)
    bb = mask.getbbox()
    return bb and (bb[0] + box[0], bb[1] + box[1], bb[2] + box[0], bb[3] + box[1])


def ink_bbox(img):
    """Bounding box of everything that is not white."""
    return ImageChops.difference(img, Image.new("RGB", img.size, (255, 255, 255))).getbbox()


# A small PDF reader, enough for ReportLab's output: pages in order, each page's text decoded
# through the embedded font subset's ToUnicode map, as a PDF viewer does when you copy text.
def pdf_objects(pdf):
    return {int(m.group(1)): m.group(2) for m in re.finditer(rb"(\d+) 0 obj(.*?)endobj", pdf, re.S)}


def pdf_stream(body):
    head, data = re.match(rb"(.*?)stream\r?\n(.*)endstream", body, re.S).groups()
    data = data.strip()
    if b"/ASCII85Decode" in head:
        data = base64.a85decode(data[:-2] if data.endswith(b"~>") else data)
    if b"/FlateDecode" in head:
        data = zlib.decompress(data)
    return data


def pdf_string(raw):
    """Bytes of a PDF literal string: \\ddd octal, \\n, \\( \\) \\\\ escapes."""
    out, i = bytearray(), 0
    while i < len(raw):
        ch = raw[i]
        if ch == 0x5C:  # backslash
            m = re.match(rb"[0-7]{1,3}", raw[i + 1:i + 4])
            if m:
                out.append(int(m.group(), 8) & 0xFF)
                i += 1 + len(m.group())
                continue
            nxt = raw[i + 1:i + 2]
            out += {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}.get(nxt, nxt)
            i += 2
            continue
        out.append(ch)
        i += 1
    return bytes(out)


def pdf_page_contents(pdf):
    """Each page's decoded content stream, in page order."""
    objs = pdf_objects(pdf)
    root = next(b for b in objs.values() if re.search(rb"/Type /Pages\b", b))
    kids = [int(k) for k in re.findall(rb"(\d+) 0 R", re.search(rb"/Kids \[(.*?)\]", root, re.S).group(1))]
    return [pdf_stream(objs[int(re.search(rb"/Contents (\d+) 0 R", objs[k]).group(1))]) for k in kids]


def pdf_pages_text(pdf):
    objs = pdf_objects(pdf)
    cmaps = {}
    for body in objs.values():
        name, tounicode = re.search(rb"/Name /(\S+)", body), re.search(rb"/ToUnicode (\d+) 0 R", body)
        if name and tounicode:
            cmap = pdf_stream(objs[int(tounicode.group(1))])
            cmaps[name.group(1)] = {
                int(src, 16): chr(int(dst, 16))
                for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S)
                for src, dst in re.findall(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block)
            }
    pages = []
    for content in pdf_page_contents(pdf):
        text, font = [], None
        for m in re.finditer(rb"/(\S+) [\d.]+ Tf|\(((?:\\.|[^\\)])*)\) Tj", content, re.S):
            if m.group(1):
                font = m.group(1)
            else:
                raw = pdf_string(m.group(2))
                if font in cmaps:  # an embedded subset: its codes mapped by its ToUnicode CMap
                    text.append("".join(cmaps[font].get(b, "\ufffd") for b in raw))
                else:  # a standard font (Courier for hashes): WinAnsi, i.e. cp1252
                    text.append(bytes(raw).decode("cp1252", "replace"))
        pages.append("\n".join(text))
    return pages


def test_the_font_is_found():
    """Is the CJK font found, and is it the TrueType one ReportLab also reads?"""
    assert find_cjk_font().endswith("wqy-microhei.ttc")


def test_a_missing_font_says_what_to_install(monkeypatch):
    """Without the font, does the error name the package, in Chinese and English?"""
    monkeypatch.setattr(posters, "CJK_FONT_PATHS", ("/nonexistent/wqy-microhei.ttc",))
    with pytest.raises(RuntimeError, match="缺少中文字体 fonts-wqy-microhei") as e:
        find_cjk_font()
    assert "missing CJK font" in str(e.value)


def test_the_poster_is_an_a4_png_at_150_dpi():
    """Is the poster a 1240×1754 PNG that says it is 150 dpi?"""
    img = Image.open(io.BytesIO(render_poster("阳光里小区", "1栋", qr_png())))
    assert img.format == "PNG"
    assert img.size == (W, H)
    assert round(img.info["dpi"][0]) == 150


def test_the_code_is_drawn_big_centred_and_faithful():
    """Does the input QR appear centred, at least 700 px, module for module?"""
    code = image(qr_png())
    poster = image(render_poster("阳光里小区", "1栋", qr_png()))
    middle = (0, int(0.27 * H), W, int(0.74 * H))  # between the building name and the call to action
    out_bb, in_bb = dark_bbox(poster, middle), dark_bbox(code)
    scale = (out_bb[2] - out_bb[0]) / (in_bb[2] - in_bb[0])
    assert code.width * scale >= 700  # the whole code image, quiet zone included
    assert abs((out_bb[0] + out_bb[2]) / 2 - W / 2) <= 3
    assert abs((out_bb[2] - out_bb[0]) - (out_bb[3] - out_bb[1])) <= 2  # square, not stretched
    # Same modules: the input's dark area scaled onto the poster's agrees almost everywhere.
    expected = code.crop(in_bb).convert("L").resize((out_bb[2] - out_bb[0], out_bb[3] - out_bb[1]), Image.NEAREST)
    got = poster.crop(out_bb).convert("L")
    differ = ImageChops.difference(expected.point(lambda v: v > 127 and 255), got.point(lambda v: v > 127 and 255))
    assert sum(differ.histogram()[255:]) / (got.width * got.height) < 0.02


def test_a_transparent_code_sits_on_white():
    """Does a transparent WeChat code (is_hyaline) show on white, not on a black square?"""
    code = Image.new("RGBA", (430, 430), (0, 0, 0, 0))
    code.paste((0, 120, 60, 255), (150, 150, 280, 280))
    buf = io.BytesIO()
    code.save(buf, "PNG")
    poster = image(render_poster("阳光里小区", "1栋", buf.getvalue()))
    assert dark_bbox(poster, (0, int(0.27 * H), W, int(0.74 * H)), threshold=40) is None
    assert poster.getpixel((W // 2, int(0.51 * H))) == (0, 120, 60)  # the opaque middle survives


def test_the_names_are_really_drawn():
    """Does the title band show the compound name, and the building name appear very large?"""
    with_names = image(render_poster("阳光里小区", "3栋", qr_png()))
    blank = image(render_poster("", "", qr_png()))
    title = (0, 0, W, int(0.12 * H))
    assert dark_bbox(with_names, title) is not None
    assert dark_bbox(blank, title) is None
    assert ImageChops.difference(with_names, blank).getbbox()[1] < 0.1 * H
    # The building name in deep red, taller than 150 px (over 1 cm when printed).
    band = with_names.crop((0, int(0.12 * H), W, int(0.26 * H)))
    red = Image.eval(band.split()[0], lambda v: 255 if v > 120 else 0)
    red = ImageChops.multiply(red, Image.eval(band.split()[1], lambda v: 255 if v < 60 else 0))
    bb = red.getbbox()
    assert bb and bb[3] - bb[1] > 150


def test_long_names_shrink_inside_the_margins():
    """Do very long names and lines shrink to fit inside the page margins instead of overflowing?"""
    long = "长沙市雨花区东塘街道向阳社区阳光里小区南区二期" * 2
    png = render_poster(long, "阳光里小区南区第十二号楼东单元", qr_png(), community_name="向阳社区" * 10,
                        lines=["请用微信扫一扫这个二维码参与我们小区的改造表决和出资意向登记" * 2])
    left, top, right, bottom = ink_bbox(image(png))
    margin = 0.05 * W  # the layout keeps 6 %; a little slack for the fake-bold outline
    assert left >= margin and right <= W - margin
    assert top >= margin and bottom <= H - margin
    assert right - left > 0.8 * W  # shrunk to the width, not to nothing
    assert dark_bbox(image(png), (0, 0, W, int(0.11 * H))) is not None


def test_the_call_to_action_and_community_are_drawn():
    """Do the default call to action and the community name change the lower part of the poster?"""
    base = image(render_poster("阳光里小区", "1栋", qr_png()))
    no_lines = image(render_poster("阳光里小区", "1栋", qr_png(), lines=[]))
    with_community = image(render_poster("阳光里小区", "1栋", qr_png(), community_name="向阳社区"))
    cta = ImageChops.difference(base, no_lines).getbbox()
    assert cta and cta[1] > 0.72 * H and cta[3] < 0.9 * H
    footer = ImageChops.difference(base, with_community).getbbox()
    assert footer and footer[1] > 0.92 * H


def test_the_pdf_has_a_page_per_building_with_selectable_text():
    """Does the PDF have one page per building, each whose text reads back as its Chinese names?"""
    buildings = [("阳光里小区", f"{i}栋", qr_png(f"b{i}")) for i in (1, 2, 3)]
    pdf = posters_pdf(buildings, community_name="向阳社区")
    assert pdf.startswith(b"%PDF")
    pages = pdf_pages_text(pdf)
    assert len(pages) == 3
    assert re.search(rb"/Count 3\b", pdf)
    for i, text in enumerate(pages, 1):
        lines = text.split("\n")
        assert lines[:2] == ["阳光里小区", f"{i}栋"]
        assert "微信扫一扫 参与小区改造" in lines
        assert "老旧小区改造 · 居民共建 · 向阳社区" in lines


def test_the_pdf_embeds_the_chinese_font_and_draws_the_code():
    """Does the PDF embed a WenQuanYi subset (no unembedded fonts) and draw a code image per page?"""
    pdf = posters_pdf([("阳光里小区", f"{i}栋", qr_png(f"b{i}")) for i in (1, 2)])
    assert re.search(rb"/FontName /[A-Z]{6}\+WenQuanYiMicroHei", pdf)
    assert b"/FontFile2" in pdf
    assert b"Helvetica" not in pdf
    assert len(re.findall(rb"/Subtype /Image", pdf)) == 2
    for content in pdf_page_contents(pdf):  # drawn big: a square of over 700 px at 150 dpi
        (w, h), = re.findall(rb"([\d.]+) 0 0 ([\d.]+) [\d.]+ [\d.]+ cm\s*/FormXob\.\w+ Do", content)
        assert float(w) == float(h) >= 700 / 150 * 72


def test_progress_is_reported_once_per_poster():
    """Is the progress callback called once per poster, with (done, total)?"""
    buildings = [("阳光里小区", f"{i}栋", qr_png(f"b{i}")) for i in (1, 2, 3)]
    seen_pdf, seen_png = [], []
    posters_pdf(buildings, progress=lambda done, total: seen_pdf.append((done, total)))
    pngs = render_posters(buildings, progress=lambda done, total: seen_png.append((done, total)))
    assert seen_pdf == seen_png == [(1, 3), (2, 3), (3, 3)]
    assert len(pngs) == 3 and pngs[0] != pngs[1]
