"""A report form as a print-ready PDF (fpdf2): A4 landscape, the official title block (the reporting unit, the
national motto, the form's number and name, the period with its data cut-off and when it was made), the table with
its grouped headers and column numbers repeated on every page, subtotals and the total in bold, the signature
block ("Người lập biểu" / "Thủ trưởng đơn vị", with place and date) and page numbers. Written from the same
document as the JSON, CSV and XLSX (exports.table_rows), in DejaVu Sans (api/data/fonts, with its licence) so that
every Vietnamese letter prints."""

from datetime import datetime
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import MethodReturnValue, XPos, YPos

from api.services.stats.exports import FIXED, made_at, period_text, table_rows

FONTS = Path(__file__).resolve().parent.parent.parent / "data" / "fonts"
FONT = "DejaVu"
PLACE = "Lào Cai"
MARGIN = 10.0
FOOTER = 10.0  # the page number's band at the bottom
LINE = 1.15  # line height as a multiple of the font size (mm per pt below)
PT = 0.3528  # mm per point
PAD = 0.4  # the cells' inner margin, each side
SIGNATURES = 30.0  # the signature block's height
HEAD_PAD = 0.25  # the header cells' inner margin: narrow columns (02/XLD's 7 mm) need the room for whole words
HEAD_FLOOR = 4.0  # the size a header cell shrinks to, at most, so that its longest word fits whole


def number(value: float, money: bool) -> str:
    """A figure as Vietnamese print writes it: 12.345 and 1.234,50."""
    if money:
        whole, _, cents = f"{value:,.2f}".partition(".")
        return whole.replace(",", ".") + "," + cents
    return f"{int(value):,}".replace(",", ".")


class _Pdf(FPDF):
    stamp = ""

    def footer(self) -> None:
        self.set_y(-FOOTER + 2)
        self.set_font(FONT, "", 7)
        self.cell(0, 4, self.stamp, align="L")
        self.set_x(MARGIN)
        self.cell(0, 4, f"Trang {self.page_no()}/{{nb}}", align="R")


def _lines(pdf: FPDF, width: float, text: str) -> list[str]:
    out = pdf.multi_cell(width, 3, text, dry_run=True, output=MethodReturnValue.LINES, padding=0)
    assert isinstance(out, list)
    return out


def fitting(pdf: FPDF, text: str, width: float, size: float, floor: float = HEAD_FLOOR) -> float:
    """The size (at most `size`, at least `floor`) at which the longest word of `text` fits in `width`, so that a
    header wraps only between words: fpdf2 splits a word wider than its cell wherever it runs out of room
    ("Khiế/u nại", "GPM/B"), which no reader of a report should meet."""
    words = text.split() or [""]
    pdf.set_font(FONT, "B", size)
    while size > floor and max(pdf.get_string_width(w) for w in words) + 2 * HEAD_PAD + 0.1 > width:
        size = max(floor, size - 0.25)
        pdf.set_font(FONT, "B", size)
    return size


def _box(
    pdf: FPDF, x: float, y: float, w: float, h: float, text: str, *, size: float, bold: bool = False, align: str = "C"
) -> None:
    """A framed cell with its text wrapped and centred vertically."""
    pdf.rect(x, y, w, h)
    pdf.set_font(FONT, "B" if bold else "", size)
    lh = size * PT * LINE
    lines = _lines(pdf, w, text)
    pdf.set_xy(x, y + max(0.0, (h - lh * len(lines)) / 2))
    pdf.multi_cell(w, lh, text, align=align, padding=0, new_x=XPos.RIGHT, new_y=YPos.TOP)


class _Layout:
    """Column widths, the header's rows and the font size the figures fit in."""

    def __init__(self, pdf: FPDF, doc: dict[str, Any]) -> None:
        self.columns = doc["columns"]
        n = len(self.columns)
        usable = pdf.w - 2 * MARGIN
        self.fixed = [7.0, 12.0, 36.0 if n > 20 else 46.0]
        self.col = (usable - sum(self.fixed)) / n
        self.widths = [*self.fixed, *([self.col] * n)]
        self.depth = max(len(c["groups"]) for c in self.columns) + 1
        self.rows = table_rows(doc)
        widest = max(
            (number(v, c["money"]) for _, _, _, values in self.rows for v, c in zip(values, self.columns, strict=True)),
            key=len,
            default="0",
        )
        self.size = 6.5
        pdf.set_font(FONT, "B", self.size)
        while self.size > 4.0 and pdf.get_string_width(widest) + 2 * PAD + 0.4 > self.col:
            self.size -= 0.25
            pdf.set_font(FONT, "B", self.size)
        self.head_size = min(6.0, self.size + 0.5)
        self.heights = self._header_heights(pdf)

    def _cells(self) -> list[tuple[int, int, int, int, str]]:
        """The header's cells: (first column, last column, first row, last row, text), grouped as the XLSX is."""
        cols, cells = self.columns, []
        for level in range(self.depth - 1):
            j = 0
            while j < len(cols):
                groups = cols[j]["groups"]
                if level >= len(groups):
                    j += 1
                    continue
                path, k = groups[: level + 1], j
                while k + 1 < len(cols) and cols[k + 1]["groups"][: level + 1] == path:
                    k += 1
                cells.append((j, k, level, level, path[-1]))
                j = k + 1
        for j, c in enumerate(cols):
            cells.append((j, j, len(c["groups"]), self.depth - 1, c["label"]))
        return cells

    def _sizes(self, pdf: FPDF) -> dict[tuple[int, int, int, int, str], float]:
        """Each header cell's font size: the header's, or smaller where a word would not fit its width."""
        return {
            cell: fitting(pdf, cell[4], self.col * (cell[1] - cell[0] + 1), self.head_size) for cell in self._cells()
        }

    def _header_heights(self, pdf: FPDF) -> list[float]:
        pdf.c_margin = HEAD_PAD
        try:
            return self._measured(pdf)
        finally:
            pdf.c_margin = PAD

    def _measured(self, pdf: FPDF) -> list[float]:
        self.cell_sizes = self._sizes(pdf)
        heights = [self.head_size * PT * LINE * 1.5] * self.depth
        cells = sorted(self._cells(), key=lambda c: c[3] - c[2])  # single rows first
        for cell in cells:
            first, last, top, bottom, text = cell
            size = self.cell_sizes[cell]
            pdf.set_font(FONT, "B", size)
            need = len(_lines(pdf, self.col * (last - first + 1), text)) * size * PT * LINE + 1.0
            have = sum(heights[top : bottom + 1])
            if need > have:
                heights[bottom] += need - have
        return heights

    def header(self, pdf: FPDF, y: float) -> float:
        """The header rows and the column numbers at `y`; returns the y below them."""
        pdf.c_margin = HEAD_PAD
        try:
            return self._header(pdf, y)
        finally:
            pdf.c_margin = PAD

    def _header(self, pdf: FPDF, y: float) -> float:
        x0 = MARGIN + sum(self.fixed)
        total = sum(self.heights)
        x = MARGIN
        for w, label in zip(self.fixed, FIXED, strict=True):
            _box(pdf, x, y, w, total, label, size=fitting(pdf, label, w, self.head_size), bold=True)
            x += w
        for cell in self._cells():
            first, last, top, bottom, text = cell
            _box(
                pdf,
                x0 + first * self.col,
                y + sum(self.heights[:top]),
                self.col * (last - first + 1),
                sum(self.heights[top : bottom + 1]),
                text,
                size=self.cell_sizes[cell],
                bold=True,
            )
        y += total
        numbers = self.head_size * PT * LINE + 1.2
        x = MARGIN
        for i, w in enumerate(self.fixed):
            _box(pdf, x, y, w, numbers, "ABC"[i], size=self.head_size, bold=True)
            x += w
        for j, c in enumerate(self.columns):
            _box(pdf, x0 + j * self.col, y, self.col, numbers, f"({c['number']})", size=self.head_size, bold=True)
        return y + numbers


def _title(pdf: FPDF, doc: dict[str, Any], unit: str, made: datetime) -> None:
    width = pdf.w - 2 * MARGIN
    half = width / 2
    pdf.set_font(FONT, "B", 9)
    pdf.set_xy(MARGIN, MARGIN)
    pdf.cell(width, 4, doc["official"], align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    top = pdf.get_y() + 1
    pdf.set_xy(MARGIN, top)
    pdf.multi_cell(half * 0.8, 4.2, unit.upper(), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    left_bottom = pdf.get_y()
    pdf.line(MARGIN + half * 0.25, left_bottom + 0.8, MARGIN + half * 0.55, left_bottom + 0.8)
    pdf.set_xy(MARGIN + half, top)
    pdf.cell(half, 4.2, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.cell(half, 4.2, "Độc lập - Tự do - Hạnh phúc", align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
    right_bottom = pdf.get_y()
    pdf.line(MARGIN + half * 1.35, right_bottom + 0.8, MARGIN + half * 1.65, right_bottom + 0.8)
    pdf.set_xy(MARGIN, max(left_bottom, right_bottom) + 4)
    pdf.set_font(FONT, "B", 12)
    pdf.multi_cell(width, 5.5, doc["title"].upper(), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 9)
    pdf.cell(width, 4.5, f"Kỳ báo cáo: {period_text(doc)}", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 8)
    pdf.cell(
        width,
        4.5,
        f"Số liệu lập lúc {made:%H:%M} ngày {made:%d/%m/%Y}",
        align="C",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.ln(2)


def _signatures(pdf: FPDF, made: datetime) -> None:
    width = pdf.w - 2 * MARGIN
    half = width / 2
    y = pdf.get_y() + 5
    pdf.set_font(FONT, "", 9)
    pdf.set_xy(MARGIN + half, y)
    pdf.cell(half, 4.5, f"{PLACE}, ngày {made:%d} tháng {made:%m} năm {made:%Y}", align="C")
    for x, who, how in (
        (MARGIN, "Người lập biểu", "(Ký, ghi rõ họ tên)"),
        (MARGIN + half, "Thủ trưởng đơn vị", "(Ký tên, đóng dấu)"),
    ):
        pdf.set_xy(x, y + 5)
        pdf.set_font(FONT, "B", 9.5)
        pdf.cell(half, 4.5, who, align="C")
        pdf.set_xy(x, y + 9.5)
        pdf.set_font(FONT, "", 8)
        pdf.cell(half, 4, how, align="C")


def _grid(pdf: FPDF, layout: "_Layout", top: float, lines: list[float]) -> None:
    """The body's frame on a page: a line below each row, a line between columns."""
    left, right = MARGIN, MARGIN + sum(layout.widths)
    for y in lines:
        pdf.line(left, y, right, y)
    x = left
    for w in [0.0, *layout.widths]:
        x += w
        pdf.line(x, top, x, lines[-1])


def to_pdf(doc: dict[str, Any]) -> bytes:
    made = made_at(doc)
    pdf = _Pdf(orientation="L", unit="mm", format="A4")
    pdf.set_creation_date(made)
    pdf.set_title(f"{doc['official']} - {doc['title']}")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(False)
    pdf.c_margin = PAD
    pdf.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.stamp = f"{doc['official']} - {period_text(doc)}"
    pdf.add_page()
    unit_rows = [r for r in doc["rows"] if r["type"] == "unit"]
    _title(pdf, doc, unit_rows[0]["unit_name"] if unit_rows else "", made)
    layout = _Layout(pdf, doc)
    y = layout.header(pdf, pdf.get_y())
    bottom = pdf.h - FOOTER - MARGIN / 2
    lh = layout.size * PT * LINE
    top, lines = y, [y]  # the body's frame on this page: its top and the line below each row
    for (n, code, name, values), row in zip(layout.rows, doc["rows"], strict=True):
        bold = row["type"] != "unit"
        pdf.set_font(FONT, "B" if bold else "", layout.size)
        fits = pdf.get_string_width(name) + 2 * PAD <= layout.fixed[2]
        height = (1 if fits else len(_lines(pdf, layout.fixed[2], name))) * lh + 1.2
        # The total keeps the signatures company: it goes to a new page when they would not fit below it.
        if y + height > bottom or (row["type"] == "total" and y + height + SIGNATURES > bottom):
            _grid(pdf, layout, top, lines)
            pdf.add_page()
            top = y = layout.header(pdf, MARGIN)
            lines = [y]
            pdf.set_font(FONT, "B" if bold else "", layout.size)
        # Text is placed directly (a framed cell per figure costs ten times as much); the frame is drawn per page.
        base = y + height / 2 + layout.size * PT * 0.35
        pdf.text(MARGIN + (layout.fixed[0] - pdf.get_string_width(n)) / 2, base, n)
        pdf.text(MARGIN + layout.fixed[0] + (layout.fixed[1] - pdf.get_string_width(code)) / 2, base, code)
        if fits:
            pdf.text(MARGIN + sum(layout.fixed[:2]) + PAD, base, name)
        else:
            pdf.set_xy(MARGIN + sum(layout.fixed[:2]), y + 0.6)
            pdf.multi_cell(layout.fixed[2], lh, name, align="L", new_x=XPos.RIGHT, new_y=YPos.TOP)
        right = MARGIN + sum(layout.fixed)
        for value, c in zip(values, layout.columns, strict=True):
            right += layout.col
            text = number(value, c["money"])
            pdf.text(right - PAD - pdf.get_string_width(text), base, text)
        y += height
        lines.append(y)
    _grid(pdf, layout, top, lines)
    pdf.set_y(y)
    _signatures(pdf, made)
    return bytes(pdf.output())
