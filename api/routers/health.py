"""Liveness, readiness and Prometheus metrics. `/readyz` answers 503 while the database does not answer, and while
the process drains after SIGTERM (api/drain.py): a load balancer checking it sends new requests elsewhere."""

import hmac

import sqlalchemy as sa
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api import drain
from api.errors import Code, catalogue_body

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Tiến trình còn sống")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Sẵn sàng phục vụ (cơ sở dữ liệu kết nối được)")
async def readyz(request: Request) -> JSONResponse:
    if drain.DRAINING.is_set():  # stopping: the balancer takes this process out; requests in flight still finish
        return JSONResponse(catalogue_body(Code.service_draining), status_code=503)
    try:
        async with request.app.state.engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means not ready
        return JSONResponse(catalogue_body(Code.database_unavailable), status_code=503)
    return JSONResponse({"status": "ready"})


@router.get("/metrics", summary="Chỉ số Prometheus", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """For the monitoring system only: a scrape from this machine, or one with METRICS_TOKEN as bearer token.
    Anyone else is told there is nothing here."""
    token = request.app.state.settings.metrics_token
    given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    local = request.client is not None and request.client.host in ("127.0.0.1", "::1")
    if not (local or (token and hmac.compare_digest(given, token))):
        return JSONResponse(catalogue_body(Code.not_found), status_code=404)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
