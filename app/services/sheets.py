"""Cells for the workbooks the app writes (ledgers, survey results, evaluation figures): text is
always text, never a formula, whatever a resident or a roster put in it."""
from openpyxl.cell import WriteOnlyCell

# What a spreadsheet program would take as the start of a formula when the cell is edited.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(ws, value, fmt=None, font=None, fill=None, alignment=None):
    """A write-only cell of `ws`: a string is stored as a string (and quote-prefixed when it looks
    like a formula, so it stays text after an edit); the number format applies to a value only."""
    c = WriteOnlyCell(ws, value=value)
    if isinstance(value, str):
        c.data_type = "s"  # never a formula, whatever it starts with
        if value.startswith(FORMULA_STARTS):
            c.quotePrefix = True
    if fmt and value is not None:
        c.number_format = fmt
    if font:
        c.font = font
    if fill:
        c.fill = fill
    if alignment:
        c.alignment = alignment
    return c
