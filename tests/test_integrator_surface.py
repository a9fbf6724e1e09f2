"""What a newcomer and an integrator meet first: `GET /` says where the docs, the dashboard and Open311 are (JSON, or
a page for a browser); `python -m api serve` prints where to go and which demo account to use before any log line;
`/auth/token` documents its error bodies."""

import asyncio
import os
import signal
import socket
import sys
import time
from pathlib import Path

import httpx
import pytest

from api.routers.root import prefers_html
from api.seed import DEMO_PASSWORD
from tests.conftest import SETTINGS, Api, Live

ROOT = Path(__file__).resolve().parent.parent
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


async def test_the_root_answers_json_pointing_to_docs_dashboard_and_open311(api: Api) -> None:
    for accept in (None, "*/*", "application/json", "application/json, text/html;q=0.5"):
        r = await api.http.get("/", headers={"Accept": accept} if accept else {})
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/json"), accept
        links = r.json()["links"]
        assert links["docs"] == "/docs" and links["dashboard"] == "/dashboard"
        assert links["open311"] == "/open311/v2/services.json" and links["openapi"] == "/openapi.json"
        assert "accept" in r.headers["vary"].lower()
    # each link answers (the dashboard sends a visitor to its sign-in page)
    for path in ("/docs", "/openapi.json", "/open311/v2/services.json"):
        assert (await api.http.get(path)).status_code == 200, path
    assert (await api.http.get("/dashboard")).status_code in (200, 303, 307)


async def test_a_browser_gets_a_page_in_vietnamese_with_the_same_links(api: Api) -> None:
    r = await api.http.get("/", headers={"Accept": BROWSER})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert '<html lang="vi">' in page and "Bảng điều hành" in page and "Tài liệu API" in page
    for href in ("/docs", "/dashboard", "/open311/v2/services.json"):
        assert f'href="{href}"' in page


def test_accept_ranking() -> None:
    assert prefers_html(BROWSER)
    assert prefers_html("text/html")
    assert not prefers_html("*/*") and not prefers_html("")
    assert not prefers_html("application/json")
    assert not prefers_html("text/html;q=0.5, application/json")
    assert not prefers_html("text/html;q=0")
    assert not prefers_html("text/html;q=abc")


async def test_the_sign_in_documents_its_401_and_429_bodies(api: Api) -> None:
    spec = (await api.http.get("/openapi.json")).json()
    responses = spec["paths"]["/api/v1/auth/token"]["post"]["responses"]
    for status, code in (
        ("401", "invalid_credentials"),
        ("429", "too_many_attempts"),
        ("403", "password_change_required"),
    ):
        content = responses[status]["content"]["application/json"]
        assert content["schema"]["$ref"] == "#/components/schemas/ErrorBody", status
        assert content["example"]["error"]["code"] == code and content["example"]["error"]["message"]
        assert code in responses[status]["description"]
    assert "Retry-After" in responses["429"]["headers"]
    # only what it can answer: no resource it could not find, no upload it could refuse
    assert set(responses) == {"200", "401", "403", "422", "429", "500"}, sorted(responses)
    assert "password_change_required" in responses["403"]["description"]
    # the app-wide 404 stays on the other routes
    assert "404" in spec["paths"]["/api/v1/auth/me"]["get"]["responses"]
    # and the answer is what the documentation says
    r = await api.http.post("/api/v1/auth/token", data={"username": "thanhtra", "password": "not-the-password"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_credentials"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
async def test_serve_prints_where_to_go_and_the_demo_account_before_any_log(live: Live) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": live.url,
        "SECRET_KEY": SETTINGS.secret_key or "",
        "IDENTITY_KEYS": SETTINGS.identity_keys or "",
        "LOG_LEVEL": "INFO",  # the migration log is there, below the two lines
        "JOBS_ENABLED": "false",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "api", "serve", "--port", str(port), "--seed"),
        stderr=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
        env=env,
        cwd=ROOT,
    )
    assert proc.stderr is not None
    drain: asyncio.Task[bytes] | None = None
    try:
        first = (await asyncio.wait_for(proc.stderr.readline(), 60)).decode()
        second = (await asyncio.wait_for(proc.stderr.readline(), 60)).decode()
        drain = asyncio.create_task(proc.stderr.read())  # the log that follows, so the pipe never fills
        base = f"http://127.0.0.1:{port}"
        assert first.startswith(f"API: {base}/docs") and f"dashboard: {base}/dashboard" in first, first
        assert second.strip().startswith(f"Demo account: thanhtra / {DEMO_PASSWORD}"), second
        # the lines are true: the address answers and the account signs in
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient(base_url=base) as http:
            while True:
                try:
                    r = await http.get("/")
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline and proc.returncode is None, "serve did not start"
                    await asyncio.sleep(0.2)
            assert r.status_code == 200 and r.json()["links"]["dashboard"] == "/dashboard"
            r = await http.post("/api/v1/auth/token", data={"username": "thanhtra", "password": DEMO_PASSWORD})
            assert r.status_code == 200, r.text
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 30)
        except TimeoutError:
            proc.kill()
            await proc.wait()
        if drain is not None:
            log = (await drain).decode()
            assert "API: http" not in log  # printed once, at the top
            assert "demo data" in log  # the seed's report (after the migrations) comes below the two lines


def test_without_the_demo_seed_serve_names_no_account() -> None:
    from api.cli import where_to_go

    lines = where_to_go("0.0.0.0", 8000, demo=False).splitlines()  # noqa: S104 - a listening address, not bound
    assert lines[0].startswith("API: http://127.0.0.1:8000/docs") and len(lines) == 2
    assert DEMO_PASSWORD not in lines[1] and "create-admin" in lines[1]
