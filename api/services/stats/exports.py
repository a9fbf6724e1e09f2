"""A report form as the official table: CSV (UTF-8 with BOM, so Excel reads Vietnamese) and XLSX (grouped and
merged header rows, column numbers, frozen header, number formats, a footer with the period and the time it was
made, in Lào Cai's time). Both are written from the same document as the JSON, so their figures are the JSON's.

No text cell can be read as a formula (CSV/formula injection: a unit's name is typed by an administrator and a
spreadsheet opened by many): in CSV a text beginning with `=`, `+`, `-`, `@`, a tab or a carriage return is
written after a single quote, as OWASP advises; in XLSX every text is a string cell (never a formula) marked with
Excel's own quote prefix. Figures stay numbers, negative ones included."""

import csv
import io
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from api.clock import VN
from workflows.vocabulary import period_name

FIXED = ("STT", "Mã đơn vị", "Đơn vị")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: Any) -> Any:
    """A text that a spreadsheet would take for a formula, quoted; anything else (figures) as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _put(ws: Any, row: int, column: int, value: Any) -> Any:
    """A cell holding `value`: a text is always a string cell (openpyxl makes a formula of a text beginning with
    `=`), quote-prefixed when it looks like one, so editing it in Excel does not turn it into one either."""
    cell = ws.cell(row=row, column=column, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
        if value.startswith(FORMULA_START):
            cell.quotePrefix = True
    return cell


def made_at(doc: dict[str, Any]) -> datetime:
    """When the figures were made, in Lào Cai's time (Asia/Ho_Chi_Minh, +07:00)."""
    made: datetime = doc["generated_at"]
    return made.astimezone(VN)


def period_text(doc: dict[str, Any]) -> str:
    """ "Quý IV/2026 (số liệu từ ngày 15/09/2026 đến ngày 14/12/2026)"."""
    return f"{period_name(doc['period'])} (số liệu từ ngày {doc['start']:%d/%m/%Y} đến ngày {doc['end']:%d/%m/%Y})"


def _stamp(doc: dict[str, Any]) -> str:
    return f"Kỳ báo cáo: {period_text(doc)}; lập lúc {made_at(doc):%H:%M} ngày {made_at(doc):%d/%m/%Y}"


def table_rows(doc: dict[str, Any]) -> list[tuple[str, str, str, list[float]]]:
    """The table's rows as printed: the running number of each unit row (none on subtotals and the total), the
    unit's code and name, the figures in column order."""
    return _rows(doc)


def _rows(doc: dict[str, Any]) -> list[tuple[str, str, str, list[float]]]:
    keys = [c["key"] for c in doc["columns"]]
    out = []
    n = 0
    for row in doc["rows"]:
        if row["type"] == "unit":
            n += 1
            number = str(n)
        else:
            number = ""
        out.append((number, row["unit_code"], row["unit_name"], [row["values"][k] for k in keys]))
    return out


def to_csv(doc: dict[str, Any]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)

    def row(cells: list[Any]) -> None:
        w.writerow([_csv_cell(c) for c in cells])

    row([f"{doc['official']} — {doc['title']}"])
    row([_stamp(doc)])
    row([*FIXED, *(" / ".join([*c["groups"], c["label"]]) for c in doc["columns"])])
    row(["", "", "", *(f"({c['number']})" for c in doc["columns"])])
    for number, code, name, values in _rows(doc):
        row([number, code, name, *values])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


_THIN = Side(style="thin", color="000000")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)


def to_xlsx(doc: dict[str, Any]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = doc["form"].upper()
    columns = doc["columns"]
    width = len(FIXED) + len(columns)
    depth = max(len(c["groups"]) for c in columns) + 1  # header rows above the numbers row
    _put(ws, 1, column=1, value=f"{doc['official']} — {doc['title']}").font = Font(bold=True, size=13)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    _put(ws, 2, column=1, value=_stamp(doc)).font = Font(italic=True)
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
    top = 4
    for i, label in enumerate(FIXED, start=1):
        _put(ws, top, column=i, value=label)
        ws.merge_cells(start_row=top, start_column=i, end_row=top + depth - 1, end_column=i)
    # Group rows: neighbouring columns under the same group path are merged; a label sits below its groups and
    # is merged down to the last header row.
    for level in range(depth - 1):
        j = 0
        while j < len(columns):
            groups = columns[j]["groups"]
            if level >= len(groups):
                j += 1
                continue
            path = groups[: level + 1]
            k = j
            while k + 1 < len(columns) and columns[k + 1]["groups"][: level + 1] == path:
                k += 1
            col = len(FIXED) + j + 1
            _put(ws, top + level, column=col, value=path[-1])
            if k > j:
                ws.merge_cells(start_row=top + level, start_column=col, end_row=top + level, end_column=col + k - j)
            j = k + 1
    for j, c in enumerate(columns):
        col = len(FIXED) + j + 1
        row = top + len(c["groups"])
        _put(ws, row, column=col, value=c["label"])
        if row < top + depth - 1:
            ws.merge_cells(start_row=row, start_column=col, end_row=top + depth - 1, end_column=col)
    numbers = top + depth
    for j, c in enumerate(columns):
        _put(ws, numbers, column=len(FIXED) + j + 1, value=f"({c['number']})")
    for r in range(top, numbers + 1):
        for col in range(1, width + 1):
            cell = ws.cell(row=r, column=col)
            cell.alignment, cell.border, cell.font = _CENTER, _BOX, Font(bold=True)
    first = numbers + 1
    money = [c["money"] for c in columns]
    for i, (number, code, name, values) in enumerate(_rows(doc)):
        r = first + i
        kind = doc["rows"][i]["type"]
        _put(ws, r, column=1, value=int(number) if number else None)
        _put(ws, r, column=2, value=code)
        _put(ws, r, column=3, value=name)
        for j, value in enumerate(values):
            cell = _put(ws, r, column=len(FIXED) + j + 1, value=value)
            cell.number_format = "#,##0.00" if money[j] else "#,##0"
        for col in range(1, width + 1):
            cell = ws.cell(row=r, column=col)
            cell.border = _BOX
            if kind != "unit":
                cell.font = Font(bold=True)
    ws.freeze_panes = ws.cell(row=first, column=len(FIXED) + 1)
    ws.column_dimensions["A"].width = 6
    ws.column_dimensions["B"].width = 12
    ws.column_dimensions["C"].width = 36
    for j in range(len(columns)):
        ws.column_dimensions[get_column_letter(len(FIXED) + j + 1)].width = 12
    ws.page_setup.orientation = "landscape"
    ws.print_title_rows = f"{top}:{numbers}"
    ws.oddFooter.center.text = _stamp(doc)
    ws.oddFooter.right.text = "Trang &P / &N"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
