"""Each report form as a print-ready PDF (`format=pdf`): read back as text and as an image with pdfium (pypdfium2),
and with poppler's pdftotext / pdftoppm when they are installed (`apt-get install poppler-utils`; that part is
skipped otherwise): the figures are the JSON's, each under its column number; the title block, the period, the
time it was made (Lào Cai's), the signature block with place and date, page numbers, A4 landscape, the grouped
headers above the column numbers and those above the figures."""

import asyncio
import io
import re
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from PIL import Image

from api.services.stats.pdf import number
from tests.conftest import Api
from tests.test_stats import EXPECTED, Q2, _all_fixtures, _form
from workflows import forms

A4_LANDSCAPE = (841.89, 595.28)  # points
PDFTOTEXT, PDFTOPPM = shutil.which("pdftotext"), shutil.which("pdftoppm")


async def _run(*argv: str) -> str:
    proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    assert proc.returncode == 0, argv
    return out.decode()


OPENED: list[Any] = []


def _pages(body: bytes) -> list[tuple[Any, Any]]:
    doc = pdfium.PdfDocument(body)
    OPENED.append(doc)
    return [(doc[i], doc[i].get_textpage()) for i in range(len(doc))]


@pytest.fixture(autouse=True)
def _close_documents() -> Any:
    yield
    while OPENED:
        OPENED.pop().close()


def _rect(textpage: Any, text: str) -> tuple[float, float, float, float]:
    """(left, bottom, right, top) of the first occurrence of `text` on the page (PDF points, y upwards)."""
    found = textpage.search(text, match_case=True).get_next()
    assert found is not None, text
    rects = [textpage.get_rect(i) for i in range(textpage.count_rects(*found))]
    return min(r[0] for r in rects), min(r[1] for r in rects), max(r[2] for r in rects), max(r[3] for r in rects)


def _made(doc: dict[str, Any]) -> datetime:
    made = datetime.fromisoformat(doc["generated_at"])
    assert made.utcoffset() is not None and made.utcoffset().total_seconds() == 7 * 3600  # type: ignore[union-attr]
    return made


async def test_every_form_is_a_pdf_with_the_json_figures_under_their_column_numbers(api: Api) -> None:
    p, a, _ = await _all_fixtures(api)
    for code, expected in EXPECTED.items():
        form = forms.FORMS[code]
        doc = (await _form(api, code, period=Q2, unit_id=p)).json()
        r = await _form(api, code, period=Q2, unit_id=p, format="pdf")
        assert r.headers["content-type"] == "application/pdf"
        assert f'filename="{code}_{Q2}.pdf"' in r.headers["content-disposition"]
        pages = _pages(r.content)
        for page, _ in pages:
            assert page.get_size() == pytest.approx(A4_LANDSCAPE, abs=0.5)  # A4, landscape
        page, text = pages[0]
        full = text.get_text_range()
        made = _made(doc)
        for line in (
            form.official,
            form.title.upper(),
            "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
            "Độc lập - Tự do - Hạnh phúc",
            "ĐƠN VỊ S-P",  # the reporting unit: the top of the scope
            "Quý II/2026",
            "từ ngày 15/03/2026 đến ngày 14/06/2026",
            f"lập lúc {made:%H:%M} ngày {made:%d/%m/%Y}",  # Lào Cai's time, as the JSON says it
        ):
            assert line in full, (code, line)
        # The column numbers on one line, under the header, above the figures; unit A's figures each under its
        # number, as the JSON has them.
        numbers = [_rect(text, f"({c.number})") for c in form.columns]
        assert len({round(n[1]) for n in numbers}) == 1
        assert all(left < right_next for (_, _, left, _), (right_next, *_) in zip(numbers, numbers[1:], strict=False))
        header = _rect(text, form.columns[0].label.split()[0])
        assert header[1] > numbers[0][3]  # the first column's label above its number
        row = _rect(text, "Đơn vị S-A")
        assert row[3] < numbers[0][1]  # the figures below the numbers
        width = numbers[1][0] - numbers[0][0]
        unit_a = next(x for x in doc["rows"] if x["unit_id"] == a and x["type"] == "unit")
        for column, (left, _, right, _) in zip(form.columns, numbers, strict=True):
            centre = (left + right) / 2
            cell = text.get_text_bounded(centre - width / 2 + 0.3, row[1] - 1, centre + width / 2 - 0.3, row[3] + 1)
            assert cell.strip() == number(unit_a["values"][column.key], column.money), (code, column.key, cell)
            if column.key in expected:
                assert unit_a["values"][column.key] == expected[column.key]
        total = next(x for x in doc["rows"] if x["type"] == "total")
        assert "Tổng cộng" in full and number(total["values"][form.columns[0].key], form.columns[0].money) in full
        # The signature block, with place and date, and the page numbers.
        last = pages[-1][1].get_text_range()
        for line in ("Người lập biểu", "Thủ trưởng đơn vị", f"Lào Cai, ngày {made:%d} tháng {made:%m} năm {made:%Y}"):
            assert line in last, (code, line)
        for i, (_, t) in enumerate(pages, start=1):
            assert f"Trang {i}/{len(pages)}" in t.get_text_range()
        # As an image: landscape, and everything printed inside the page's margins (nothing cut off).
        image = page.render(scale=1).to_pil().convert("L")
        assert image.width > image.height
        ink = image.point(lambda v: 255 if v < 128 else 0).getbbox()
        assert ink is not None
        margin = 10 / 25.4 * 72 * 0.9  # 10 mm, less a little for the frame's line width
        assert ink[0] >= margin and ink[1] >= margin * 0.9
        assert ink[2] <= image.width - margin and ink[3] <= image.height - margin * 0.5


async def test_a_long_form_breaks_into_pages_with_the_header_on_each(api: Api) -> None:
    """The province's 01/TCD (every unit of Lào Cai: more rows than a page holds): several pages, each with the
    column numbers above its rows, the total and the signatures on the last."""
    r = await _form(api, "tcd", period=Q2, format="pdf")
    doc = (await _form(api, "tcd", period=Q2)).json()
    pages = _pages(r.content)
    assert len(doc["rows"]) > 60 and len(pages) >= 2
    for i, (_, text) in enumerate(pages, start=1):
        full = text.get_text_range()
        assert "(1)" in full and "(29)" in full and f"Trang {i}/{len(pages)}" in full
    assert "Tổng cộng" in pages[-1][1].get_text_range() and "Thủ trưởng đơn vị" in pages[-1][1].get_text_range()
    names = [row["unit_name"] for row in doc["rows"] if row["type"] == "unit"]
    printed = "".join(t.get_text_range() for _, t in pages)
    assert all(name in printed for name in names[:5] + names[-5:])


@pytest.mark.skipif(not (PDFTOTEXT and PDFTOPPM), reason="poppler-utils not installed (apt-get install poppler-utils)")
async def test_poppler_reads_the_same_form(api: Api) -> None:
    p, a, _ = await _all_fixtures(api)
    doc = (await _form(api, "gqkn", period=Q2, unit_id=p)).json()
    body = (await _form(api, "gqkn", period=Q2, unit_id=p, format="pdf")).content
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "gqkn.pdf"
        path.write_bytes(body)
        assert PDFTOTEXT and PDFTOPPM
        text = await _run(PDFTOTEXT, "-layout", str(path), "-")
        lines = text.splitlines()
        made = _made(doc)
        for needle in ("Biểu số 03/GQKN", "TỔNG HỢP KẾT QUẢ GIẢI QUYẾT KHIẾU NẠI", "Quý II/2026", "Người lập biểu",
                       "Thủ trưởng đơn vị", f"lập lúc {made:%H:%M} ngày {made:%d/%m/%Y}", "Trang 1/1"):  # fmt: skip
            assert needle in text, needle
        # With -layout a table row is one line: unit A's figures in column order, as the JSON has them.
        unit_a = next(x for x in doc["rows"] if x["unit_id"] == a and x["type"] == "unit")
        line = next(x for x in lines if "Đơn vị S-A" in x)
        figures = re.findall(r"[\d.]+(?:,\d\d)?", line.split("Đơn vị S-A", 1)[1])
        columns = forms.GQKN.columns
        assert figures == [number(unit_a["values"][c.key], c.money) for c in columns]
        numbers = next(i for i, x in enumerate(lines) if "(1)" in x and f"({len(columns)})" in x)
        assert numbers < lines.index(line)  # the column numbers above the figures
        await _run(PDFTOPPM, "-r", "40", "-png", str(path), str(Path(tmp) / "page"))
        image = Image.open(io.BytesIO((Path(tmp) / "page-1.png").read_bytes()))
        assert image.width > image.height and abs(image.width / image.height - 297 / 210) < 0.02


def _words(doc: dict[str, Any]) -> set[str]:
    """Every word of the form's header: the columns' labels and the groups above them."""
    texts = [c["label"] for c in doc["columns"]] + [g for c in doc["columns"] for g in c["groups"]]
    return {w for t in texts for w in t.split()}


async def test_header_words_are_never_split(api: Api) -> None:
    """A narrow column's header wraps only between words, and a word too long for its column prints smaller, whole:
    read back by pdfium (and poppler when installed), every word of every form's header is one word of the page
    (not "Khiế" + "u nại", "Tha" + "m nhũn" + "g", "GPM" + "B")."""
    for code in forms.FORMS:
        doc = (await _form(api, code, period=Q2)).json()
        body = (await _form(api, code, period=Q2, format="pdf")).content
        words = _words(doc)
        assert len(words) > 10, code
        readers = [pages[0][1].get_text_range() for pages in [_pages(body)]]
        if PDFTOTEXT:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / f"{code}.pdf"
                path.write_bytes(body)
                readers.append(await _run(PDFTOTEXT, "-layout", "-l", "1", str(path), "-"))
        for text in readers:
            printed = set(text.split())
            split = sorted(w for w in words if w not in printed)
            assert not split, (code, split)
