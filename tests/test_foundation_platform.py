"""Health, readiness, metrics, docs, error mapping, body limits, request ids, bootstrap admin."""

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from api.app import create_app
from api.models.user import User
from api.security import Passwords
from api.services.users import ensure_bootstrap_admin
from tests.conftest import SETTINGS, Api


async def test_health_ready_docs_metrics(api: Api) -> None:
    assert (await api.http.get("/healthz")).json() == {"status": "ok"}
    assert (await api.http.get("/readyz")).status_code == 200
    assert (await api.http.get("/docs")).status_code == 200
    spec = (await api.http.get("/openapi.json")).json()
    assert "/api/v1/auth/token" in spec["paths"]
    await api.http.get("/healthz")
    metrics = await api.http.get("/metrics")
    assert metrics.status_code == 200 and "http_requests_total" in metrics.text


async def test_readyz_is_503_when_the_database_is_unreachable() -> None:
    broken = create_app(SETTINGS, database_url="postgresql+asyncpg://postgres@127.0.0.1:1/none")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=broken), base_url="http://t") as http:
        r = await http.get("/readyz")
    assert r.status_code == 503 and r.json()["error"]["code"] == "database_unavailable"


async def test_malformed_json_is_422_with_the_common_body(api: Api) -> None:
    h = {**(await api.headers("admin")), "Content-Type": "application/json"}
    r = await api.http.post("/api/v1/units", headers=h, content=b'{"code": "X", "name": ')
    assert r.status_code == 422 and r.json()["error"]["code"] == "malformed_json"


async def test_oversized_body_is_413(api: Api) -> None:
    h = await api.headers("admin")
    r = await api.http.post("/api/v1/units", headers=h, json={"code": "BIG", "name": "x" * 300_000, "level": "agency"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"


async def test_unknown_route_and_method_use_the_common_body(api: Api) -> None:
    r = await api.http.get("/api/v1/nowhere")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = await api.http.delete("/healthz")
    assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"


async def test_500_never_leaks_internals(app: FastAPI, api: Api) -> None:
    @app.get("/boom-test")
    async def boom() -> None:
        raise RuntimeError("SELECT secret FROM users -- stack detail")

    r = await api.http.get("/boom-test")
    assert r.status_code == 500
    assert r.json()["error"]["code"] == "internal_error"
    assert "SELECT" not in r.text and "Traceback" not in r.text and "RuntimeError" not in r.text


async def test_request_id_is_returned_and_kept(api: Api) -> None:
    r = await api.http.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    generated = (await api.http.get("/healthz")).headers["x-request-id"]
    assert len(generated) == 32
    evil = (await api.http.get("/healthz", headers={"X-Request-ID": "a b\tc"})).headers["x-request-id"]
    assert evil != "a b\tc"


async def test_bootstrap_admin_is_made_only_when_none_exists(api: Api) -> None:
    passwords = Passwords(SETTINGS)
    # The demo seed has an admin: nothing is created.
    assert await ensure_bootstrap_admin(api.session, passwords, "boot", "Boot-Admin-Pass-2026") is False
    await api.session.execute(
        sa.update(User).values(roles=["desk_officer"]).where(User.username.in_(["admin", "admin2"]))
    )
    assert await ensure_bootstrap_admin(api.session, passwords, "boot", "Boot-Admin-Pass-2026") is True
    r = await api.http.post("/api/v1/auth/token", data={"username": "boot", "password": "Boot-Admin-Pass-2026"})
    assert r.status_code == 200


async def test_openapi_documents_the_error_body(api: Api) -> None:
    spec = (await api.http.get("/openapi.json")).json()
    create = spec["paths"]["/api/v1/cases"]["post"]["responses"]
    assert create["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")
    assert "ErrorBody" in spec["components"]["schemas"]
    assert "HTTPValidationError" not in spec["components"]["schemas"]


async def test_responses_are_not_sniffed_and_api_answers_are_never_cached(api: Api) -> None:
    from tests.helpers import V1, intake

    den = await intake(
        api, kind="denunciation", field="corruption", parties=[{"role": "denouncer", "full_name": "Lò A"}]
    )
    r = await api.http.get(f"{V1}/cases/{den['id']}", headers=await api.headers("tinh.tiepdan"))
    assert r.json()["parties"][0]["full_name"] == "Lò A"  # a revealed identity…
    assert r.headers["cache-control"] == "no-store"  # …that no proxy or browser keeps
    for response in (r, await api.http.get("/healthz"), await api.http.get("/api/v1/nowhere")):
        assert response.headers["x-content-type-options"] == "nosniff"


async def test_a_statement_that_runs_too_long_is_stopped_and_answered_503(database_url: str) -> None:
    import sqlalchemy as sa

    from api.deps import SessionDep

    slow = create_app(SETTINGS.model_copy(update={"statement_timeout_ms": 200}), database_url=database_url)

    @slow.get("/api/v1/slow-test")
    async def sleepy(session: SessionDep) -> None:
        await session.execute(sa.text("SELECT pg_sleep(3)"))

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=slow, raise_app_exceptions=False), base_url="http://t"
    ) as http:
        r = await http.get("/api/v1/slow-test")
    await slow.state.engine.dispose()
    assert r.status_code == 503 and r.json()["error"]["code"] == "query_timeout" and "pg_sleep" not in r.text


async def test_metrics_answer_only_the_monitoring_system(database_url: str) -> None:
    app = create_app(
        SETTINGS.model_copy(update={"metrics_token": "scrape-token-0123456789"}), database_url=database_url
    )
    outside = httpx.ASGITransport(app=app, client=("203.0.113.7", 40000))
    async with httpx.AsyncClient(transport=outside, base_url="http://t") as http:
        assert (await http.get("/metrics")).status_code == 404
        assert (await http.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 404
        ok = await http.get("/metrics", headers={"Authorization": "Bearer scrape-token-0123456789"})
        assert ok.status_code == 200 and "http_requests_total" in ok.text
    await app.state.engine.dispose()


async def test_docs_and_redoc_load_every_asset_from_the_service_itself(api: Api) -> None:
    """An intranet without internet: the pages reference no other host, and every asset they name is served."""
    import re

    for page in ("/docs", "/redoc"):
        r = await api.http.get(page)
        assert r.status_code == 200
        assert not re.search(r"(src|href)=[\"']https?://", r.text), page
        assets = re.findall(r"(?:src|href)=[\"'](/static/[^\"']+)", r.text) + re.findall(
            r"[\"'](/static/[^\"']+\.(?:js|css))", r.text
        )
        assert assets, page
        for asset in set(assets):
            got = await api.http.get(asset)
            assert got.status_code == 200 and len(got.content) > 1000, asset
