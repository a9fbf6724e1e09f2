"""The dashboard in a real browser (Debian's chromium, driven by Playwright): sign in through the form as the
inspector and as a commune chair; every chart titled, every word at least 12 px as rendered and no chart label cut
off; a figure followed to the cases it counts and a unit to its own overview; at 390 px no element wider than the
screen; axe-core (axe-playwright-python) finds no violation on any page; the keyboard reaches the content by the
skip link with a visible focus; the print layout without the controls. `.ci/run` installs chromium; without it this
module is skipped."""

import asyncio
import re
import shutil
import socket
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import uvicorn

from tests.conftest import Live
from tests.helpers import TODAY, case_body

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)"),
]
PASSWORD = "LaoCai@2026demo"

# Every element with text of its own, as rendered: the smallest font size found (hidden ones left out).
SMALLEST_TEXT = """() => {
  const small = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('.sr-only')) continue;
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.getClientRects().length) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < 12) small.push([el.tagName, el.textContent.trim().slice(0, 40), size]);
  }
  return small;
}"""
# Elements sticking out of the screen sideways (a table that scrolls inside its own box is measured by that box).
TOO_WIDE = """() => {
  const out = [];
  const w = document.documentElement.clientWidth;
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('.sr-only') || !el.getClientRects().length) continue;
    const inside = el.parentElement && el.parentElement.closest('.scroll');
    if (inside) continue;
    const r = el.getBoundingClientRect();
    const wide = r.width > w + 0.5 || r.right > w + 0.5 || r.left < -0.5;
    if (wide) out.push([el.tagName, el.className, Math.round(r.width)]);
  }
  return out;
}"""
# A chart's title, label or value sticking out of its chart (cut off or spilling, like the old "12/2(").
CUT_OFF = """() => {
  const out = [];
  for (const fig of document.querySelectorAll('figure.chart')) {
    const box = fig.getBoundingClientRect();
    for (const el of fig.querySelectorAll('h3, th, .value, .axis span, .legend li')) {
      const r = el.getBoundingClientRect();
      const spills = r.left < box.left - 0.5 || r.right > box.right + 0.5;
      if (spills || el.scrollWidth > el.clientWidth + 1) out.push(el.textContent.trim());
    }
  }
  return out;
}"""


FOCUSED = """() => { const e = document.activeElement;
  return [e.tagName, e.textContent.trim().slice(0, 30), getComputedStyle(e).outlineStyle]; }"""


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
async def base_url(live: Live) -> AsyncIterator[str]:
    port = _port()
    server = uvicorn.Server(uvicorn.Config(live.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    for _ in range(100):
        if server.started:
            break
        await asyncio.sleep(0.05)
    await _cases(live)
    yield f"http://localhost:{port}"  # localhost is a secure context: the Secure cookie is kept
    server.should_exit = True
    await task


DENOUNCER = "Lường Văn Ẩn"


async def _cases(live: Live) -> None:
    """Letters of this year in the province and in Khao Mang (the chair's commune): one overdue, one a
    denunciation whose denouncer no page may name."""
    for username, days, extra in (
        ("tinh.tiepdan", 3, {}),
        ("tinh.tiepdan", 20, {"field": "policy"}),
        ("xa.tiepdan", 70, {}),
        *(("tinh.tiepdan", 70 + i, {}) for i in range(5)),  # the province's watch-list: more than a phone shows
        ("xa.tiepdan", 10, {"field": "compensation"}),
        (
            "tinh.tiepdan",
            80,
            {
                "kind": "denunciation",
                "field": "corruption",
                "title": f"Tố cáo cán bộ (người tố cáo {DENOUNCER})",
                "parties": [{"role": "denouncer", "full_name": DENOUNCER, "id_number": "015190002222"}],
            },
        ),
    ):
        body = case_body(received_at=(TODAY - timedelta(days=days)).isoformat(), **extra)
        r = await live.http.post("/api/v1/cases", headers=await live.headers(username), json=body)
        assert r.status_code == 201, r.text


async def _sign_in(page: Any, base_url: str, username: str) -> None:
    await page.goto(f"{base_url}/dashboard")
    assert page.url.endswith("/dashboard/login")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("form[action='/dashboard/login'] button")
    await page.wait_for_url(re.compile(r".*/dashboard$"))


async def _check_page(page: Any, axe: Any, name: str) -> None:
    """axe-core finds no violation; no text under 12 px; nothing wider than the screen; no chart label cut off."""
    assert DENOUNCER not in await page.content(), name
    results = await axe.run(page)
    assert results.violations_count == 0, (name, results.generate_report())
    assert await page.evaluate(SMALLEST_TEXT) == [], name
    assert await page.evaluate(TOO_WIDE) == [], name
    assert await page.evaluate(CUT_OFF) == [], name


async def _walk(page: Any, axe: Any, base_url: str, who: str) -> list[str]:
    """Every page of the dashboard as `who` sees it at the page's current size; returns the pages checked."""
    year = str(TODAY.year)
    seen = []
    await page.goto(f"{base_url}/dashboard?period={year}")
    await _check_page(page, axe, f"{who} overview")
    seen.append(page.url)
    titles = await page.locator("figure.chart h3").all_inner_texts()
    assert len(titles) == 4, titles
    assert all(f"Năm {year}" in t or "đến ngày" in t for t in titles), titles
    # A figure leads to the cases it counts: as many rows listed as the figure says (up to a page).
    card = page.locator("a.card").first
    figure = int((await card.locator("strong").inner_text()).replace(".", ""))
    await card.click()
    await page.wait_for_url(re.compile(r".*/dashboard/cases\?.*received_from=.*"))
    assert f"Danh sách hồ sơ: {figure} hồ sơ" in await page.locator("h1").inner_text()
    assert await page.locator("table.stack tbody tr").count() == min(figure, 50)
    await _check_page(page, axe, f"{who} cases")
    seen.append(page.url)
    if figure:
        await page.locator("table.stack tbody a").first.click()
        await page.wait_for_url(re.compile(r".*/dashboard/cases/\d+$"))
        await _check_page(page, axe, f"{who} case")
        seen.append(page.url)
    for path in ("/dashboard/watch", "/dashboard/register", "/dashboard?unit_id=999999", "/dashboard/cases/abc"):
        await page.goto(f"{base_url}{path}")
        await _check_page(page, axe, f"{who} {path}")
        seen.append(page.url)
    return seen


SECTIONS = ("charts", "units", "reception", "watch", "forms")
HEIGHT = "document.documentElement.scrollHeight"


async def _sections_on_a_phone(page: Any, axe: Any, base_url: str) -> None:
    """At 390 px the inspector's overview is the headline figures and a menu of the sections with their counts, a
    screen or two high (not one column of 9,000 px); each section is one tap away and shown alone below the figures;
    the watch-list shows its first 5 cases and a link to all of them."""
    await page.goto(f"{base_url}/dashboard?period={TODAY.year}")
    height = await page.evaluate(HEIGHT)
    assert height < 2500, height  # 1,187 px with this data (one long column was 9,200 px with 24 cases)
    assert await page.locator("#figures a.card").first.is_visible()
    assert not any([await page.locator(f"#{s}").is_visible() for s in SECTIONS])
    menu = await page.locator("nav.toc li").all_inner_texts()
    assert any(re.search(r"Vụ việc cần theo dõi \(\d+\+?\)", m) for m in menu), menu
    for section in SECTIONS:
        await page.locator(f'nav.toc a[href="#{section}"]').click()
        await page.wait_for_url(re.compile(f".*#{section}$"))
        shown = [s for s in SECTIONS if await page.locator(f"#{s}").is_visible()]
        assert shown == [section], (section, shown)
        assert await page.locator("#figures a.card").first.is_visible()
        assert await page.evaluate(HEIGHT) < 4000, (section, await page.evaluate(HEIGHT))
        await _check_page(page, axe, f"inspector at 390 px, #{section}")
    await page.locator('nav.toc a[href="#watch"]').click()
    await page.wait_for_url(re.compile(".*#watch$"))
    rows = page.locator("#watch tbody tr")
    assert await rows.count() > 5
    assert [await rows.nth(i).is_visible() for i in range(await rows.count())].count(True) == 5
    more = page.locator("#watch .narrow-only a")
    assert await more.is_visible() and (await more.get_attribute("href") or "").startswith("/dashboard/watch")


async def test_the_inspector_and_a_commune_chair_in_a_browser(base_url: str) -> None:
    from axe_playwright_python.async_playwright import Axe
    from playwright.async_api import async_playwright

    axe = Axe()
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = await browser.new_page(viewport={"width": 1366, "height": 768})
            page.set_default_timeout(5000)
            console: list[str] = []  # the Content-Security-Policy (api/logs.py) blocks nothing the page needs
            page.on("console", lambda message: console.append(message.text))
            await page.goto(f"{base_url}/dashboard/login")
            await _check_page(page, axe, "login")
            await _sign_in(page, base_url, "thanhtra")
            assert "tiepdan_session" not in await page.evaluate("document.cookie")  # out of any script's reach

            # The keyboard: the first Tab reaches the skip link, shown with a visible focus ring; it leads to main.
            await page.keyboard.press("Tab")
            assert await page.evaluate("document.activeElement.className") == "skip"
            assert await page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
            await page.keyboard.press("Enter")
            assert await page.evaluate("location.hash") == "#main"
            # Then every control in order, each with a visible focus ring: the navigation, the sign-out button,
            # the period picker and its button, the page's own links; no control is taken out of the order.
            await page.goto(f"{base_url}/dashboard?period={TODAY.year}")
            reached = []
            for _ in range(14):
                await page.keyboard.press("Tab")
                reached.append(await page.evaluate(FOCUSED))
            assert all(ring != "none" for _, _, ring in reached), reached
            tags = [tag for tag, _, _ in reached]
            assert "BUTTON" in tags and "SELECT" in tags and tags.count("A") >= 8, reached
            assert (
                await page.evaluate(
                    "[...document.querySelectorAll('[tabindex]')].filter(e => e.tabIndex > 0 || "
                    "(e.tabIndex < 0 && e.id !== 'main')).length"
                )
                == 0
            )

            # A unit leads to its own overview.
            await page.goto(f"{base_url}/dashboard?period={TODAY.year}")
            unit = page.locator("#units tbody th a").first
            name = await unit.inner_text()
            await unit.click()
            await page.wait_for_url(re.compile(r".*/dashboard\?unit_id=\d+.*"))
            assert name in await page.locator("h1").inner_text()
            await _check_page(page, axe, "unit overview")
            # On a wide screen every section is on the page at once.
            await page.goto(f"{base_url}/dashboard?period={TODAY.year}")
            assert all([await page.locator(f"#{s}").is_visible() for s in SECTIONS])
            assert not await page.locator("#watch .narrow-only").is_visible()

            await _walk(page, axe, base_url, "inspector")
            await page.set_viewport_size({"width": 390, "height": 844})
            await _walk(page, axe, base_url, "inspector at 390 px")
            await _sections_on_a_phone(page, axe, base_url)

            await page.goto(f"{base_url}/dashboard?period={TODAY.year}")
            await page.emulate_media(media="print")
            assert not await page.locator(".picker").is_visible()
            assert await page.locator("figure.chart").first.is_visible()
            # Printed, the contrast still holds (axe's contrast is of luminance: the same in greyscale).
            printed = await axe.run(page, options={"runOnly": ["color-contrast"]})
            assert printed.violations_count == 0, printed.generate_report()
            await page.emulate_media(media="screen")
            assert not [m for m in console if "Content Security Policy" in m or "Refused to" in m], console

            # A commune chair: their commune only, every page checked at both sizes.
            chair = await browser.new_page(viewport={"width": 1366, "height": 768})
            await _sign_in(chair, base_url, "xa.chutich")
            assert "Xã Khao Mang" in await chair.locator("h1").inner_text()
            await _walk(chair, axe, base_url, "chair")
            await chair.set_viewport_size({"width": 390, "height": 844})
            await _walk(chair, axe, base_url, "chair at 390 px")

            # The page refuses to be framed (frame-ancestors 'none', X-Frame-Options: DENY).
            await page.set_content(f'<iframe src="{base_url}/dashboard/login"></iframe>')
            await page.wait_for_timeout(300)
            framed = page.frames[1] if len(page.frames) > 1 else None
            assert framed is None or not await framed.locator("input[name=username]").count()
        finally:
            await browser.close()
