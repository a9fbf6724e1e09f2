"""The dashboard in a real browser (Debian's chromium, driven by Playwright): sign in through the form, the page at
1366×768 and on a 390-pixel phone without sideways scrolling of the page, its four charts drawn, and the print
layout without the controls. `.ci/run` installs chromium; without it this module is skipped."""

import asyncio
import shutil
import socket
from collections.abc import AsyncIterator

import pytest
import uvicorn

from tests.conftest import Live

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)"),
]


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
    yield f"http://localhost:{port}"  # localhost is a secure context: the Secure cookie is kept
    server.should_exit = True
    await task


async def test_the_dashboard_in_a_browser(base_url: str) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = await browser.new_page(viewport={"width": 1366, "height": 768})
            console: list[str] = []  # the Content-Security-Policy (api/logs.py) blocks nothing the page needs
            page.on("console", lambda message: console.append(message.text))
            await page.goto(f"{base_url}/dashboard")
            assert page.url.endswith("/dashboard/login")
            await page.fill("input[name=username]", "thanhtra")
            await page.fill("input[name=password]", "LaoCai@2026demo")
            await page.click("button")
            await page.wait_for_url(f"{base_url}/dashboard")
            assert await page.locator("svg.chart").count() == 4
            assert await page.locator(".card").count() == 5
            # The session cookie is out of any script's reach.
            assert "tiepdan_session" not in await page.evaluate("document.cookie")
            for width, height in ((1366, 768), (390, 844)):
                await page.set_viewport_size({"width": width, "height": height})
                overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                assert overflow <= 0, (width, overflow)
                chart = await page.locator("svg.chart").first.bounding_box()
                assert chart is not None and chart["width"] <= width
            await page.emulate_media(media="print")
            assert not await page.locator(".picker").is_visible()
            assert await page.locator("svg.chart").first.is_visible()
            assert not [m for m in console if "Content Security Policy" in m or "Refused to" in m], console
            # The page refuses to be framed (frame-ancestors 'none', X-Frame-Options: DENY).
            await page.set_content(f'<iframe src="{base_url}/dashboard/login"></iframe>')
            await page.wait_for_timeout(500)
            framed = page.frames[1] if len(page.frames) > 1 else None
            assert framed is None or not await framed.locator("input[name=username]").count()
        finally:
            await browser.close()
