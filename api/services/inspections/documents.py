"""The report to Sở Nội vụ as a spreadsheet (XLSX) and a printable PDF. Cells are written as the statistics
exports write them (no text can be read as a formula); the PDF is set in DejaVu Sans where the system has it (the
Vietnamese letters need a Unicode font: Debian's `fonts-dejavu-core`), else in the PDF's own Helvetica with the
diacritics taken off, so a machine without the font still gets a readable report."""

import io
import unicodedata
from pathlib import Path
from typing import Any

from fpdf import FPDF
from openpyxl import Workbook
from openpyxl.styles import Font

from api.services.stats.exports import _put

FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),
)
TITLE = "Báo cáo kết quả kiểm tra, đánh giá công tác tiếp công dân, giải quyết khiếu nại, tố cáo"
COUNTS = {
    "inspections_planned": "Cuộc kiểm tra theo kế hoạch",
    "inspections_done": "Cuộc kiểm tra đã kết luận",
    "units_found_short": "Đơn vị có nội dung không đạt",
    "recommendations_made": "Kiến nghị đã ban hành",
    "recommendations_done": "Kiến nghị đã thực hiện xong",
    "recommendations_overdue": "Kiến nghị quá hạn chưa thực hiện",
}
PROVINCE = {
    "received": "Đơn tiếp nhận toàn tỉnh",
    "settled": "Vụ việc đã giải quyết",
    "on_time": "Giải quyết đúng hạn",
    "on_time_rate": "Tỷ lệ đúng hạn",
    "median_days_to_settle": "Số ngày giải quyết (trung vị)",
    "satisfaction_ratings": "Lượt đánh giá hài lòng",
    "satisfaction_share_4_5": "Tỷ lệ hài lòng (4–5 sao)",
}


def lines(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """The report as (label, value) lines, in the order both documents print them."""
    out: list[tuple[str, str]] = [("Kỳ báo cáo", f"{doc['period']} ({doc['start']} – {doc['end']})"), ("", "")]
    out += [(label, _text(doc["counts"].get(key))) for key, label in COUNTS.items()]
    out += [("", ""), ("Số liệu toàn tỉnh", "")]
    out += [(label, _text(doc["province"].get(key))) for key, label in PROVINCE.items()]
    out += [("", ""), ("Cuộc kiểm tra đã kết luận", "")]
    out += [
        (f"{i['unit_code']} {i['unit_name']}", f"KL số {i['conclusion_number']} ngày {i['conclusion_date']}")
        for i in doc["inspections"]
    ]
    out += [("", ""), ("Đơn vị có nội dung không đạt", "")]
    out += [(f"{u['unit_code']} {u['unit_name']}", ", ".join(u["areas"])) for u in doc["units_short"]]
    return out


def _text(value: Any) -> str:
    return "—" if value is None else str(value)


def to_xlsx(doc: dict[str, Any]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "Bao cao"
    _put(ws, 1, 1, TITLE).font = Font(bold=True)
    for n, (label, value) in enumerate(lines(doc), start=3):
        _put(ws, n, 1, label)
        raw = _raw(doc, label)
        _put(ws, n, 2, raw if raw is not None else value)
    ws.column_dimensions["A"].width = 60
    ws.column_dimensions["B"].width = 40
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _raw(doc: dict[str, Any], label: str) -> int | float | None:
    """A figure as a number cell (so the spreadsheet can add it up), where the line is one."""
    for section, names in (("counts", COUNTS), ("province", PROVINCE)):
        for key, name in names.items():
            value = doc[section].get(key)
            if name == label and isinstance(value, int | float):
                return value
    return None


def _font() -> Path | None:
    return next((p for p in FONT_CANDIDATES if p.is_file()), None)


def _ascii(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D").replace("–", "-").replace("—", "-")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def to_pdf(doc: dict[str, Any]) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    font = _font()
    if font is not None:
        pdf.add_font("DejaVu", "", str(font))
        pdf.set_font("DejaVu", size=10)
        fix = str
    else:
        pdf.set_font("Helvetica", size=10)
        fix = _ascii
    pdf.multi_cell(0, 6, fix("THANH TRA TỈNH LÀO CAI — " + TITLE), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    for label, value in lines(doc):
        pdf.multi_cell(120, 6, fix(label), new_x="RIGHT", new_y="TOP")
        pdf.multi_cell(0, 6, fix(value), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
