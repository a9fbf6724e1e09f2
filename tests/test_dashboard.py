"""The dashboard in a browser's shoes: sign-in with a CSRF-protected form and an HttpOnly, SameSite=Strict cookie,
the page's figures, charts, compliance, watch-list and downloads, scope, 401/403 without a stack trace, nothing
fetched from elsewhere, and sign-out that ends the session."""

import html
import io
import re
from collections.abc import AsyncIterator

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
    for text in ("Đơn tiếp nhận", "Tỷ lệ đúng hạn", "Đang quá hạn", "Hài lòng", "Tiếp công dân định kỳ",
                 "Vụ việc cần theo dõi", "Biểu số 01/TCD"):  # fmt: skip
        assert text in html, text
    assert html.count("<svg") == 4 and f'value="{year}" selected' in html
    assert "quá hạn" in html and "/dashboard/cases/" in html
    # Nothing is fetched from elsewhere: every link and asset is the service's own.
    assert not re.findall(r'(?:src|href)="(?:https?:)?//', html)
    css = await browser.get("/dashboard/static/dashboard.css")
    assert css.status_code == 200 and "@media print" in css.text and "@media (max-width: 480px)" in css.text


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
