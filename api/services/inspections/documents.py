"""The report to Sở Nội vụ as a spreadsheet (XLSX) and a printable PDF. Cells are written as the statistics
exports write them (no text can be read as a formula); the PDF reuses the report forms' PDF writer
(`stats.pdf`: its bundled DejaVu Sans, title block, signatures and page numbers) around the report's lines."""

import io
from datetime import date, datetime
from typing import Any

from fpdf.enums import XPos, YPos
from openpyxl import Workbook
from openpyxl.styles import Font

from api.services.stats import pdf as stats_pdf
from api.services.stats.exports import _put, made_at, period_text
from workflows import vocabulary

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


def keyed_lines(doc: dict[str, Any]) -> list[tuple[str | None, str, str]]:
    """The report as (figure key, label, value) lines, in the order both documents print them; the key (e.g.
    `counts.inspections_done`) is None on headings, blanks and the listed inspections and units."""
    due = doc.get("due_date")
    out: list[tuple[str | None, str, str]] = [(None, "Kỳ báo cáo", period_text(_form_like(doc)))]
    if due:
        out.append((None, "Hạn gửi báo cáo", f"trước ngày {_day(due)}"))
    if doc.get("provisional"):
        out.append((None, "Báo cáo tạm", "gửi trước khi hết kỳ số liệu"))
    out.append((None, "", ""))
    out += [(f"counts.{key}", label, _text(doc["counts"].get(key))) for key, label in COUNTS.items()]
    out += [(None, "", ""), (None, "Số liệu toàn tỉnh", "")]
    out += [(f"province.{key}", label, _text(doc["province"].get(key), key)) for key, label in PROVINCE.items()]
    out += [(None, "", ""), (None, "Cuộc kiểm tra đã kết luận", "")]
    out += [
        (
            None,
            f"{i['unit_code']} {i['unit_name']}",
            f"KL số {i['conclusion_number']} ngày {_day(i['conclusion_date'])}",
        )
        for i in doc["inspections"]
    ]
    out += [(None, "", ""), (None, "Đơn vị có nội dung không đạt", "")]
    out += [(None, f"{u['unit_code']} {u['unit_name']}", ", ".join(u["area_labels"])) for u in doc["units_short"]]
    return out


def lines(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """The report as (label, value) lines."""
    return [(label, value) for _key, label, value in keyed_lines(doc)]


RATES = frozenset({"on_time_rate", "satisfaction_share_4_5"})


def _text(value: Any, key: str = "") -> str:
    """A figure as Vietnamese print writes it: 1.234, 87,5%, 31,0."""
    if value is None:
        return "—"
    if key in RATES:
        return f"{value:.1%}".replace(".", ",")
    if isinstance(value, float):
        return f"{value:,.1f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    return f"{value:,}".replace(",", ".") if isinstance(value, int) else str(value)


def _day(iso: str) -> str:
    return f"{date.fromisoformat(iso):%d/%m/%Y}"


def to_xlsx(doc: dict[str, Any]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "Bao cao"
    _put(ws, 1, 1, TITLE).font = Font(bold=True)
    for n, (key, label, value) in enumerate(keyed_lines(doc), start=3):
        _put(ws, n, 1, label)
        raw = _raw(doc, key)
        _put(ws, n, 2, raw if raw is not None else value)
    ws.column_dimensions["A"].width = 60
    ws.column_dimensions["B"].width = 40
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _raw(doc: dict[str, Any], key: str | None) -> int | float | None:
    """A figure as a number cell (so the spreadsheet can add it up): chosen by the figure's key, never by its label
    (a section heading may read like a figure)."""
    if key is None:
        return None
    section, name = key.split(".", 1)
    value = doc[section].get(name)
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _form_like(doc: dict[str, Any]) -> dict[str, Any]:
    """The report in the shape the report forms' PDF title block reads (stats.pdf)."""
    return {
        "official": "Thanh tra tỉnh — báo cáo định kỳ",
        "title": TITLE,
        "period": doc["period"],
        "start": date.fromisoformat(doc["start"]),
        "end": date.fromisoformat(doc["end"]),
        "generated_at": datetime.fromisoformat(doc["generated_at"]),
    }


def to_pdf(doc: dict[str, Any]) -> bytes:
    """A4 portrait, set as the report forms' PDFs are (stats.pdf: the bundled DejaVu Sans, the title block with the
    national motto, the signatures, page numbers), the report's lines below the title."""
    form = _form_like(doc)
    made = made_at(form)
    out = stats_pdf._Pdf(orientation="P", unit="mm", format="A4")
    out.set_creation_date(made)
    out.set_title(TITLE)
    out.set_margins(stats_pdf.MARGIN, stats_pdf.MARGIN, stats_pdf.MARGIN)
    out.set_auto_page_break(True, margin=stats_pdf.FOOTER + stats_pdf.MARGIN)
    out.add_font(stats_pdf.FONT, "", str(stats_pdf.FONTS / "DejaVuSans.ttf"))
    out.add_font(stats_pdf.FONT, "B", str(stats_pdf.FONTS / "DejaVuSans-Bold.ttf"))
    out.stamp = f"Báo cáo của Thanh tra tỉnh — {vocabulary.period_name(doc['period'])}"
    out.add_page()
    stats_pdf._title(out, form, "Thanh tra tỉnh Lào Cai", made)
    width = out.w - 2 * stats_pdf.MARGIN
    for label, value in lines(doc)[1:]:
        if not label and not value:
            out.ln(2)
            continue
        out.set_font(stats_pdf.FONT, "B" if not value else "", 9.5)
        if not value:  # a section's heading
            out.multi_cell(width, 5, label, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            continue
        y = out.get_y()
        out.multi_cell(width * 0.62, 5, label, new_x=XPos.RIGHT, new_y=YPos.TOP)
        below = out.get_y()
        out.set_xy(stats_pdf.MARGIN + width * 0.62, y)
        out.multi_cell(width * 0.38, 5, value, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        out.set_y(max(out.get_y(), below, y + 5))
    stats_pdf._signatures(out, made)
    return bytes(out.output())
