"""Printable A4 posters, one per building, glued at its door: residents scan the code with WeChat.

Made for elderly eyes: big Chinese text, a big code, black and deep red on white. One layout
(`layout`, measured in fractions of the page) is drawn twice: by Pillow into a 150 dpi PNG and by
ReportLab into a PDF with real, selectable text in an embedded WenQuanYi Micro Hei subset, so the
two never drift apart.
"""
import io
import os
from dataclasses import dataclass
from typing import Callable, Iterable, Optional, Sequence

from PIL import Image, ImageDraw, ImageFont

CJK_FONT_PATHS = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",)
PDF_FONT_NAME = "WenQuanYiMicroHei"

A4_PT = (595.2756, 841.8898)  # ReportLab's A4, points
DPI = 150
A4_PX = (round(A4_PT[0] / 72 * DPI), round(A4_PT[1] / 72 * DPI))  # 1240 × 1754
ASPECT = A4_PT[1] / A4_PT[0]  # page height in page widths

DEFAULT_LINES = ("微信扫一扫 参与小区改造", "绑定房屋 · 在线表决 · 出资意向 · 满意度评价")
TAGLINE = "老旧小区改造 · 居民共建"
INK, ACCENT, PALE = (0, 0, 0), (178, 0, 0), (120, 120, 120)

MARGIN = 0.06  # page widths, each side
CJK_MIDDLE = 0.36  # a CJK glyph's visual middle, in em above the baseline
BOLD = 0.025  # fake-bold outline, in em (the font has a single weight)

Progress = Optional[Callable[[int, int], None]]


@dataclass(frozen=True)
class Text:
    """A centred line. x and size in page widths, baseline in page heights from the top."""
    text: str
    x: float
    baseline: float
    size: float
    color: tuple
    bold: bool = False


@dataclass(frozen=True)
class Box:
    """A rectangle in page fractions (x, w in widths; y, h in heights from the top)."""
    x: float
    y: float
    w: float
    h: float
    kind: str  # "code" (the code image goes here), "frame" (rounded outline) or "rule" (filled bar)
    color: tuple = INK
    line: float = 0.0  # outline width in page widths, for frames


def find_cjk_font() -> str:
    """The path of a CJK TrueType font that Pillow and ReportLab both read (not Noto's CFF)."""
    for path in CJK_FONT_PATHS:
        if os.path.isfile(path):
            return path
    raise RuntimeError(
        "缺少中文字体 fonts-wqy-microhei，无法生成海报；请运行 ./scripts/setup 或 "
        "apt-get install fonts-wqy-microhei "
        f"(missing CJK font fonts-wqy-microhei, expected at {CJK_FONT_PATHS[0]}; "
        "posters need it — run ./scripts/setup or apt-get install fonts-wqy-microhei)"
    )


def _pdf_font() -> str:
    """Registers the font with ReportLab once; its metrics also measure text for the layout."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if PDF_FONT_NAME not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(PDF_FONT_NAME, find_cjk_font(), subfontIndex=0))
    return PDF_FONT_NAME


def _em_width(text: str) -> float:
    """Width of text at size 1, in em (the font's own advance widths, as ReportLab lays them out)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    return stringWidth(text, _pdf_font(), 1.0) if text else 0.0


def _line(text: str, middle: float, size: float, color: tuple, bold: bool = False) -> Text:
    """A centred line at most `size` tall, shrunk to fit between the margins, centred on `middle`."""
    text = " ".join((text or "").split())
    room = (1 - 2 * MARGIN) / (1 + 2 * BOLD if bold else 1)
    width = _em_width(text)
    if width * size > room:
        size = room / width
    return Text(text, 0.5, middle + CJK_MIDDLE * size / ASPECT, size, color, bold)


def layout(compound_name: str, building_name: str, community_name: Optional[str] = None,
           lines: Optional[Sequence[str]] = None) -> list:
    """The poster as Text and Box items in page fractions, top to bottom."""
    code_w = 0.60  # 744 px at 150 dpi
    code_h = code_w / ASPECT
    code_top = 0.300
    pad = 0.025
    items = [
        _line(compound_name, 0.075, 0.080, INK, bold=True),
        _line(building_name, 0.185, 0.190, ACCENT, bold=True),
        Box(MARGIN, 0.258, 1 - 2 * MARGIN, 0.004, "rule", ACCENT),
        Box(0.5 - code_w / 2 - pad, code_top - pad / ASPECT, code_w + 2 * pad, code_h + 2 * pad / ASPECT,
            "frame", ACCENT, 0.006),
        Box(0.5 - code_w / 2, code_top, code_w, code_h, "code"),
    ]
    # The call to action: the first line big, the rest smaller, all shrunk together if many.
    lines = [l for l in (DEFAULT_LINES if lines is None else lines) if l and l.strip()]
    band_top, band_bottom = code_top + code_h + pad / ASPECT + 0.015, 0.895
    if lines:
        weights = [1.0] + [0.6] * (len(lines) - 1)
        size = min(0.075, (band_bottom - band_top) * ASPECT / (1.45 * sum(weights)))
        y = band_top
        for text, weight in zip(lines, weights):
            pitch = 1.45 * size * weight / ASPECT
            items.append(_line(text, y + pitch / 2, size * weight, INK, bold=weight == 1.0))
            y += pitch
    footer = TAGLINE + (f" · {community_name.strip()}" if community_name and community_name.strip() else "")
    items += [
        Box(MARGIN, 0.915, 1 - 2 * MARGIN, 0.0015, "rule", PALE),
        _line(footer, 0.945, 0.032, PALE),
    ]
    return items


def _code_image(code_png: bytes, side_px: int) -> Image.Image:
    """The code on white, `side_px` square: crisp blocks for a plain QR, smooth for a WeChat code."""
    try:
        img = Image.open(io.BytesIO(code_png))
        img.load()
    except Exception as e:  # noqa: BLE001 - any undecodable input is the caller's error
        raise ValueError(f"二维码图片无法读取 (the code image is not a readable PNG): {e}") from e
    img = img.convert("RGBA")
    white = Image.new("RGBA", img.size, (255, 255, 255, 255))
    img = Image.alpha_composite(white, img).convert("RGB")
    if img.width != img.height:  # pad to a square, never stretch
        side = max(img.size)
        square = Image.new("RGB", (side, side), (255, 255, 255))
        square.paste(img, ((side - img.width) // 2, (side - img.height) // 2))
        img = square
    two_tone = img.getcolors(2) is not None
    resample = Image.NEAREST if two_tone and side_px >= img.width else Image.LANCZOS
    return img.resize((side_px, side_px), resample)


def _font_px(size_px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(find_cjk_font(), max(1, size_px), index=0)


def _draw_png(items: Iterable, code_png: bytes) -> bytes:
    W, H = A4_PX
    page = Image.new("RGB", (W, H), (255, 255, 255))
    draw = ImageDraw.Draw(page)
    for it in items:
        if isinstance(it, Text):
            if not it.text:
                continue
            size = round(it.size * W)
            stroke = round(BOLD * size) if it.bold else 0
            draw.text((it.x * W, it.baseline * H), it.text, font=_font_px(size), fill=it.color,
                      anchor="ms", stroke_width=stroke, stroke_fill=it.color)
        elif it.kind == "code":
            side = round(it.w * W)
            page.paste(_code_image(code_png, side), (round(it.x * W), round(it.y * H)))
        elif it.kind == "frame":
            box = [round(it.x * W), round(it.y * H), round((it.x + it.w) * W), round((it.y + it.h) * H)]
            draw.rounded_rectangle(box, radius=round(0.02 * W), outline=it.color, width=round(it.line * W))
        elif it.kind == "rule":
            draw.rectangle([round(it.x * W), round(it.y * H), round((it.x + it.w) * W) - 1,
                            round((it.y + it.h) * H) - 1], fill=it.color)
    out = io.BytesIO()
    page.save(out, "PNG", dpi=(DPI, DPI), optimize=True)
    return out.getvalue()


def _draw_pdf_page(c, items: Iterable, code_png: bytes) -> None:
    from reportlab.lib.utils import ImageReader

    W, H = A4_PT
    rgb = lambda color: tuple(v / 255 for v in color)  # noqa: E731
    for it in items:
        if isinstance(it, Text):
            if not it.text:
                continue
            size = it.size * W
            c.saveState()  # the text render mode is graphics state: keep the bold one from leaking
            c.setFillColorRGB(*rgb(it.color))
            t = c.beginText()
            t.setFont(_pdf_font(), size)
            if it.bold:  # fill and stroke: the same outline Pillow's stroke_width draws
                c.setStrokeColorRGB(*rgb(it.color))
                c.setLineWidth(2 * BOLD * size)
                c.setLineJoin(1)
                t.setTextRenderMode(2)
            t.setTextOrigin(it.x * W - _em_width(it.text) * size / 2, H - it.baseline * H)
            t.textOut(it.text)
            c.drawText(t)
            c.restoreState()
        elif it.kind == "code":
            side = it.w * W
            img = _code_image(code_png, round(side / 72 * 300))  # 300 dpi, crisp when printed
            c.drawImage(ImageReader(img), it.x * W, H - (it.y + it.h) * H, side, side)
        elif it.kind == "frame":
            c.setStrokeColorRGB(*rgb(it.color))
            c.setLineWidth(it.line * W)
            c.roundRect(it.x * W, H - (it.y + it.h) * H, it.w * W, it.h * H, 0.02 * W, stroke=1, fill=0)
        elif it.kind == "rule":
            c.setFillColorRGB(*rgb(it.color))
            c.rect(it.x * W, H - (it.y + it.h) * H, it.w * W, it.h * H, stroke=0, fill=1)


def render_poster(compound_name: str, building_name: str, code_png: bytes,
                  community_name: Optional[str] = None, lines: Optional[Sequence[str]] = None) -> bytes:
    """One building's poster: an A4 portrait PNG at 150 dpi (1240 × 1754 px)."""
    return _draw_png(layout(compound_name, building_name, community_name, lines), code_png)


def render_posters(posters: Sequence[tuple], community_name: Optional[str] = None,
                   lines: Optional[Sequence[str]] = None, progress: Progress = None) -> list:
    """PNG posters for (compound_name, building_name, code_png) tuples; progress(done, total)."""
    out = []
    for i, (compound_name, building_name, code_png) in enumerate(posters, 1):
        out.append(render_poster(compound_name, building_name, code_png, community_name, lines))
        if progress:
            progress(i, len(posters))
    return out


def posters_pdf(posters: Sequence[tuple], community_name: Optional[str] = None,
                lines: Optional[Sequence[str]] = None, progress: Progress = None,
                title: Optional[str] = None) -> bytes:
    """One A4 PDF, a page per (compound_name, building_name, code_png), with selectable Chinese
    text in an embedded font subset; progress(done, total) after each page."""
    from reportlab.pdfgen.canvas import Canvas

    _pdf_font()
    out = io.BytesIO()
    c = Canvas(out, pagesize=A4_PT, pageCompression=1, initialFontName=_pdf_font())
    c.setTitle(title or (f"{posters[0][0]} 楼栋海报" if posters else "楼栋海报"))
    c.setAuthor("共建")
    for i, (compound_name, building_name, code_png) in enumerate(posters, 1):
        _draw_pdf_page(c, layout(compound_name, building_name, community_name, lines), code_png)
        c.showPage()
        if progress:
            progress(i, len(posters))
    c.save()
    return out.getvalue()
