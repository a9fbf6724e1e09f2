"""The dashboard in a browser's shoes: sign-in with a CSRF-protected form and an HttpOnly, SameSite=Strict cookie,
the page's figures, charts, compliance, watch-list and downloads, scope, 401/403 without a stack trace, nothing
fetched from elsewhere, and sign-out that ends the session."""

import html
import io
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import openpyxl
import pytest
from fastapi import FastAPI

from tests.conftest import Api
from tests.helpers import TODAY, V1, days_ago, intake

PASSWORD = "LaoCai@2026demo"


@pytest.fixture
async def browser(api: Api) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = api.http._transport.app  # type: ignore[attr-defined]
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="https://intranet.laocai") as client:
        yield client


async def sign_in(browser: httpx.AsyncClient, username: str, password: str = PASSWORD) -> httpx.Response:
    form = await browser.get("/dashboard/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    return await browser.post(
        "/dashboard/login", data={"username": username, "password": password, "csrf": csrf.group(1)}
    )


async def test_sign_in_sets_a_strict_httponly_cookie_and_the_page_shows_the_province(
    browser: httpx.AsyncClient, api: Api
) -> None:
    assert (await browser.get("/dashboard")).headers["location"] == "/dashboard/login"
    await intake(api, "xa.tiepdan", received_at=days_ago(70))  # overdue by now: on the watch-list
    r = await sign_in(browser, "thanhtra")
    assert r.status_code == 303 and r.headers["location"] == "/dashboard"
    cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and v.startswith("tiepdan_session="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/dashboard" in cookie and "Secure" in cookie
    year = str(TODAY.year)
    page = await browser.get("/dashboard", params={"period": year})
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    html = page.text
    for text in ("Đơn tiếp nhận", "Tỷ lệ giải quyết đúng hạn", "Đang quá hạn", "hài lòng", "Tiếp công dân định kỳ",
                 "Vụ việc cần theo dõi", "Biểu số 01/TCD", f"Năm {year}", "Bỏ qua, đến nội dung chính"):  # fmt: skip
        assert text in html, text
    assert html.count('<figure class="chart"') == 4 and f'value="{year}" selected' in html
    assert "quá hạn" in html and "/dashboard/cases/" in html
    # Nothing is fetched from elsewhere: every link and asset is the service's own.
    assert not re.findall(r'(?:src|href)="(?:https?:)?//', html)
    css = await browser.get("/dashboard/static/dashboard.css")
    assert css.status_code == 200 and "@media print" in css.text and "@media (max-width: 640px)" in css.text


async def test_downloads_and_the_watch_list_case_masked(browser: httpx.AsyncClient, api: Api) -> None:
    den = await intake(
        api,
        kind="denunciation",
        field="corruption",
        received_at=days_ago(80),
        parties=[{"role": "denouncer", "full_name": "Lường Văn Ẩn", "id_number": "015190002222"}],
    )
    await sign_in(browser, "thanhtra")
    x = await browser.get("/dashboard/export/gqkn.xlsx", params={"period": "2026"})
    assert x.status_code == 200 and openpyxl.load_workbook(io.BytesIO(x.content)).active is not None
    c = await browser.get("/dashboard/export/xld.csv", params={"period": "2026"})
    assert c.content.startswith("\ufeff".encode())
    pdf = await browser.get("/dashboard/export/xld.pdf", params={"period": "2026"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"
    case = await browser.get(f"/dashboard/cases/{den['id']}")
    assert case.status_code == 200 and "Lường Văn Ẩn" not in case.text and "(được giữ bí mật)" in case.text


async def test_other_roles_get_a_plain_403_and_bad_sign_ins_no_session(browser: httpx.AsyncClient) -> None:
    r = await sign_in(browser, "xa.tiepdan")
    page = await browser.get("/dashboard")
    assert page.status_code == 403 and "Traceback" not in page.text and "Thanh tra tỉnh" in page.text
    wrong = await sign_in(browser, "thanhtra", "wrong-password-1")
    assert wrong.status_code == 303 and wrong.headers["location"].endswith("error=1")
    assert r.status_code == 303
    # A form posted without the CSRF token (another site's form) is refused before anything else.
    forged = await browser.post("/dashboard/login", data={"username": "thanhtra", "password": PASSWORD})
    assert forged.status_code == 403 and "tiepdan_session" not in forged.headers.get("set-cookie", "")
    async with httpx.AsyncClient(transport=browser._transport, base_url="https://intranet.laocai") as fresh:  # type: ignore[attr-defined]
        bare = await fresh.post("/dashboard/login", data={"username": "thanhtra", "password": PASSWORD, "csrf": "x"})
        assert bare.status_code == 403


async def test_a_unit_head_sees_their_subtree_only(browser: httpx.AsyncClient) -> None:
    await sign_in(browser, "xa.chutich")
    page = await browser.get("/dashboard")
    assert page.status_code == 200
    assert "Xã Khao Mang" in page.text and "Phường Cam Đường" not in page.text
    other = await browser.get("/dashboard", params={"unit_id": 1})
    assert other.status_code == 404 and "Traceback" not in other.text


async def test_sign_out_ends_every_session_of_the_officer(browser: httpx.AsyncClient) -> None:
    await sign_in(browser, "thanhtra")
    page = await browser.get("/dashboard")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    stolen = browser.cookies.get("tiepdan_session")
    out = await browser.post("/dashboard/logout", data={"csrf": csrf.group(1)})
    assert out.status_code == 303
    async with httpx.AsyncClient(transport=browser._transport, base_url="https://intranet.laocai") as thief:  # type: ignore[attr-defined]
        thief.cookies.set("tiepdan_session", stolen or "", domain="intranet.laocai", path="/dashboard")
        assert (await thief.get("/dashboard")).status_code == 303  # the copied cookie no longer signs in
    bad = await browser.get("/dashboard", params={"period": "2026-Q9"})
    assert bad.status_code == 303
    assert V1


async def test_every_value_is_written_as_text_never_as_markup(browser: httpx.AsyncClient, api: Api) -> None:
    """The pages are templates with autoescape: a title or a name with markup in it is shown, not run."""
    case = await intake(
        api,
        received_at=days_ago(70),
        title='<script src="/x.js"></script> Khiếu nại "đất" & nhà',
        parties=[{"role": "complainant", "full_name": "Nguyễn <b>Văn</b> An", "id_number": "015090001234"}],
    )
    await sign_in(browser, "thanhtra")
    page = (await browser.get(f"/dashboard/cases/{case['id']}")).text
    assert "<script" not in page and "<b>" not in page
    shown = html.unescape(page)
    assert '<script src="/x.js"></script> Khiếu nại "đất" & nhà' in shown and "Nguyễn <b>Văn</b> An" in shown
    overview = (await browser.get("/dashboard", params={"unit_id": 1})).text
    assert case["tracking_code"] in overview and "<script" not in overview


CASE_LINK = re.compile(r'href="/dashboard/cases/(\d+)"')


def _links(page: str, path: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(rf'href="({re.escape(path)}\?[^"]*)"', page)]


async def _listed(browser: httpx.AsyncClient, link: str) -> tuple[int, set[int]]:
    """The total a list page states and the case ids it lists (one page)."""
    r = await browser.get(link)
    assert r.status_code == 200, r.text
    total = re.search(r"Danh sách hồ sơ: ([\d.]+) hồ sơ", r.text)
    assert total is not None
    return int(total.group(1).replace(".", "")), {int(i) for i in CASE_LINK.findall(r.text)}


async def test_every_figure_links_to_exactly_the_cases_it_counts(browser: httpx.AsyncClient, api: Api) -> None:
    fresh = await intake(api, received_at=days_ago(2))
    late = await intake(api, "xa.tiepdan", received_at=days_ago(70))  # overdue by now, in Khao Mang
    gpmb = await intake(api, "xa.tiepdan", field="compensation", received_at=days_ago(5))
    await sign_in(browser, "thanhtra")
    period = TODAY.strftime("%Y-%m") if TODAY.day > 5 else str(TODAY.year)
    page = (await browser.get("/dashboard", params={"period": str(TODAY.year)})).text
    cards = re.findall(
        r'<a class="card" href="([^"]+)"><span class="label">([^<]+)</span> <strong>([^<]+)</strong>', page
    )
    by_label = {label: (html.unescape(link), value) for link, label, value in cards}
    # The headline "received": its list states the same number and lists that many letters, ours among them.
    link, shown = by_label["Đơn tiếp nhận"]
    assert "received_from=" in link and "received_to=" in link
    total, ids = await _listed(browser, link)
    assert total == int(shown.replace(".", "")) == len(ids) and {fresh["id"], late["id"], gpmb["id"]} <= ids
    # Overdue now: exactly the open letters past their due date.
    link, shown = by_label["Đang quá hạn"]
    total, ids = await _listed(browser, link)
    assert total == int(shown) == len(ids) and late["id"] in ids and fresh["id"] not in ids and gpmb["id"] not in ids
    # The field chart's bar for compensation lists that field's letters of the period, and only them.
    (field_link,) = [x for x in _links(page, "/dashboard/cases") if "field=compensation" in x]
    total, ids = await _listed(browser, field_link)
    assert ids == {gpmb["id"]} and total == 1
    # A unit's row: its name leads to its own overview; its overdue figure lists its own overdue letter only.
    unit = late["competent_unit_id"]
    row_links = [x for x in _links(page, "/dashboard/cases") if f"unit_id={unit}&" in x and "subtree=0" in x]
    overdue_link = next(x for x in row_links if "overdue=1" in x)
    total, ids = await _listed(browser, overdue_link)
    assert ids == {late["id"]} and total == 1
    assert f'href="/dashboard?unit_id={unit}&amp;period={TODAY.year}"' in page
    own = await browser.get("/dashboard", params={"unit_id": unit, "period": period})
    assert own.status_code == 200 and "Tổng quan: Xã Khao Mang" in own.text


async def test_names_a_user_reads_are_vietnamese(browser: httpx.AsyncClient, api: Api) -> None:
    case = await intake(api, received_at=days_ago(70))
    await sign_in(browser, "thanhtra")
    text = html.unescape((await browser.get(f"/dashboard/cases/{case['id']}")).text)
    for vi in ("Trạng thái", "Đã tiếp nhận", "Người khiếu nại: Nguyễn Văn An", "Xử lý đơn", "Trực tiếp",
               "Đất đai, nhà ở", "Quá hạn", "Khiếu nại"):  # fmt: skip
        assert vi in text, vi
    for code in ("received", "complainant:", "(overdue)", ">overdue<", "running", "in_person", "processing"):
        assert code not in text, code
    overview = html.unescape((await browser.get("/dashboard", params={"period": f"{TODAY.year}-Q4"})).text)
    assert f"Quý IV/{TODAY.year}" in overview and f"6 tháng đầu năm {TODAY.year}" in overview
    assert f"9 tháng năm {TODAY.year}" in overview and f">{TODAY.year}-Q4<" not in overview
    assert "thanhtra — Thanh tra tỉnh" in overview  # the role, named
    listed = html.unescape((await browser.get("/dashboard/cases", params={"overdue": 1})).text)
    assert "Đã tiếp nhận" in listed and "Khiếu nại" in listed and ">received<" not in listed


async def test_the_reception_table_is_honest_about_a_month_still_running(browser: httpx.AsyncClient) -> None:
    await sign_in(browser, "xa.chutich")
    this_month = TODAY.strftime("%Y-%m")
    page = html.unescape((await browser.get("/dashboard", params={"period": this_month})).text)
    reception = page[page.index('id="reception"') : page.index('id="watch"')]
    assert 'class="running"' in reception and "đã tiếp 0/" in reception and 'class="short"' not in reception
    assert "Không thiếu" in reception  # no shortfall counted for a month still running
    # A month that is over, without a sitting: the shortfall is marked, and links to that month's register.
    last = (TODAY.replace(day=1) - timedelta(days=1)).replace(day=1)
    page = html.unescape((await browser.get("/dashboard", params={"period": last.strftime("%Y-%m")})).text)
    reception = page[page.index('id="reception"') : page.index('id="watch"')]
    assert re.search(r'class="short"><a [^>]+>Thiếu \d+ ngày', reception) and 'class="running"' not in reception
    register = re.search(r'href="(/dashboard/register\?[^"]+)"', reception)
    assert register is not None and f"start={last.isoformat()}" in register.group(1)
    listed = await browser.get(html.unescape(register.group(1)))
    assert listed.status_code == 200 and "Sổ tiếp công dân:" in listed.text
    # The quarter: each of its months up to this one is a column.
    quarter = f"{TODAY.year}-Q{(TODAY.month - 1) // 3 + 1}"
    page = html.unescape((await browser.get("/dashboard", params={"period": quarter})).text)
    reception = page[page.index('id="reception"') : page.index('id="watch"')]
    assert f"Tháng {TODAY:%m/%Y}" in reception


async def test_errors_are_vietnamese_pages_with_a_way_back_and_a_sign_out(browser: httpx.AsyncClient) -> None:
    async with httpx.AsyncClient(transport=browser._transport, base_url="https://intranet.laocai") as stale:  # type: ignore[attr-defined]
        stale.cookies.set("tiepdan_session", "expired-or-forged", domain="intranet.laocai", path="/dashboard")
        r = await stale.get("/dashboard/cases")
        assert r.status_code == 303 and r.headers["location"] == "/dashboard/login?expired=1"
        assert "hết hạn" in (await stale.get(r.headers["location"])).text
    await sign_in(browser, "thanhtra")
    for path, params, status, says in (
        ("/dashboard", {"unit_id": "abc"}, 404, "Mã đơn vị không hợp lệ"),
        ("/dashboard", {"unit_id": "999999"}, 404, "Không tìm thấy đơn vị"),
        ("/dashboard", {"period": "2026-Q9"}, 400, "Kỳ báo cáo không hợp lệ"),
        ("/dashboard", {"period": f"{TODAY.year + 5}-Q1"}, 400, "Kỳ báo cáo chưa bắt đầu"),
        ("/dashboard", {"period": f"{TODAY.year + 1}"}, 400, f"Năm {TODAY.year + 1} bắt đầu từ ngày"),
        ("/dashboard/cases/abc", {}, 404, "Mã hồ sơ không hợp lệ"),
        ("/dashboard/cases/999999999", {}, 404, "Không tìm thấy hồ sơ"),
        ("/dashboard/cases", {"received_from": "hôm qua"}, 400, "Ngày nhận từ không hợp lệ"),
        ("/dashboard/cases", {"status": "open"}, 400, "Trạng thái không hợp lệ"),
        ("/dashboard/cases", {"cursor": "!!"}, 400, "Trang của danh sách không hợp lệ"),
        ("/dashboard/register", {"unit_id": "0"}, 404, "Mã đơn vị không hợp lệ"),
        ("/dashboard/export/xld.docx", {}, 415, "XLSX, CSV hoặc PDF"),
    ):
        r = await browser.get(path, params=params)
        assert r.status_code == status and r.headers["content-type"].startswith("text/html"), (path, r.text[:200])
        assert says in html.unescape(r.text) and "Quay lại" in r.text and 'action="/dashboard/logout"' in r.text
        assert "Traceback" not in r.text and '{"error"' not in r.text
    # a period that has started and not ended is the page of its days so far
    running = f"{TODAY.year}-{TODAY.month:02d}"
    assert (await browser.get("/dashboard", params={"period": running})).status_code == 200
    await sign_in(browser, "xa.tiepdan")  # a desk officer: not this dashboard's role
    r = await browser.get("/dashboard/cases")
    assert r.status_code == 403 and "Thanh tra tỉnh" in r.text and 'action="/dashboard/logout"' in r.text


async def test_a_protected_identity_is_on_no_page(browser: httpx.AsyncClient, api: Api) -> None:
    name = "Lường Văn Ẩn"
    den = await intake(
        api,
        kind="denunciation",
        field="corruption",
        received_at=days_ago(80),
        title=f"Tố cáo cán bộ xã (người tố cáo: {name})",
        parties=[{"role": "denouncer", "full_name": name, "id_number": "015190002222"}],
    )
    # The inspector, and the province chair (whom the API lets open it, with the read recorded): never here.
    for who in ("thanhtra", "tinh.chutich"):
        await sign_in(browser, who)
        for path, params in (
            ("/dashboard", {"period": str(TODAY.year)}),
            ("/dashboard/cases", {"kind": "denunciation"}),
            ("/dashboard/cases", {"overdue": 1}),
            (f"/dashboard/cases/{den['id']}", {}),
            ("/dashboard/watch", {}),
            ("/dashboard/register", {}),
        ):
            r = await browser.get(path, params=params)
            assert r.status_code == 200, (who, path)
            assert name not in html.unescape(r.text) and "015190002222" not in r.text, (who, path)
        case_page = html.unescape((await browser.get(f"/dashboard/cases/{den['id']}")).text)
        assert "Người tố cáo: (được giữ bí mật)" in case_page
        listed = html.unescape((await browser.get("/dashboard/cases", params={"kind": "denunciation"})).text)
        assert den["tracking_code"] in listed


async def test_a_list_pages_by_keyset_and_keeps_its_filters(browser: httpx.AsyncClient, api: Api) -> None:
    made = {(await intake(api, field="judicial", received_at=days_ago(n)))["id"] for n in (2, 3, 4)}
    await sign_in(browser, "thanhtra")
    link: str | None = f"/dashboard/cases?field=judicial&received_from={days_ago(30)}&limit=2"
    seen: list[set[int]] = []
    while link:
        r = await browser.get(link)
        assert r.status_code == 200 and "Danh sách hồ sơ: 3 hồ sơ" in r.text
        seen.append({int(i) for i in CASE_LINK.findall(r.text)})
        following = re.search(r'href="([^"]+)">Trang sau', r.text)
        link = html.unescape(following.group(1)) if following else None
        assert link is None or ("field=judicial" in link and "cursor=" in link and "limit=2" in link)
    assert [len(s) for s in seen] == [2, 1] and set().union(*seen) == made


async def test_a_chair_without_data_sees_titled_empty_states(browser: httpx.AsyncClient) -> None:
    await sign_in(browser, "xa.chutich")
    period = f"{TODAY.year - 1}-Q1"
    page = html.unescape((await browser.get("/dashboard", params={"period": period})).text)
    assert f"Tổng quan: Xã Khao Mang — Quý I/{TODAY.year - 1}" in page
    assert f"Đơn tiếp nhận theo lĩnh vực — Quý I/{TODAY.year - 1}" in page  # the chart keeps its title
    assert f"Không có đơn nào tiếp nhận trong Quý I/{TODAY.year - 1} thuộc Xã Khao Mang." in page
    assert f"Không có vụ việc nào giải quyết xong trong Quý I/{TODAY.year - 1} thuộc Xã Khao Mang." in page
    assert 'class="empty"' in page and page.count("<h3") == 4


async def test_a_long_reception_table_folds_by_former_district(browser: httpx.AsyncClient) -> None:
    await sign_in(browser, "thanhtra")
    last = (TODAY.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    page = html.unescape((await browser.get("/dashboard", params={"period": last})).text)
    reception = page[page.index('id="reception"') : page.index('id="watch"')]
    areas = re.findall(r"<summary>([^<]+)</summary>", reception)
    assert len(areas) > 5 and any("Huyện Mù Cang Chải (cũ)" in a for a in areas)
    assert any(a.startswith("Cấp tỉnh") for a in areas)
    # Areas with units short of days first: the count of short units never rises down the list.
    short = [int(m.group(1)) if (m := re.search(r"(\d+) đơn vị thiếu ngày", a)) else 0 for a in areas]
    assert short == sorted(short, reverse=True) and short[0] > 0
