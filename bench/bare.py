"""The baseline of the intake benchmark: a bare FastAPI + asyncpg endpoint that inserts one row in the same
PostgreSQL and answers 201 with its id. Run by bench/intake.py (`uvicorn bench.bare:app`).

FastAPI's defaults, unless BARE_TUNED=1: then the bare runs with the service's own runtime settings too
(FastAPI's OpenTelemetry hooks off, the startup heap frozen out of garbage collection, the same young-generation
threshold), so that a ratio cannot come from the baseline lacking what the service does to itself."""

import gc
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from fastapi import FastAPI, Request


def _dsn() -> tuple[str, dict[str, str]]:
    url = os.environ["BARE_DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
    head, _, query = url.partition("?")
    return head, ({"host": query.split("host=", 1)[1]} if "host=" in query else {})


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    dsn, kwargs = _dsn()
    app.state.pool = await asyncpg.create_pool(dsn, min_size=10, max_size=20, **kwargs)
    if TUNED:
        gc.collect()
        gc.freeze()
        gc.set_threshold(20_000, *gc.get_threshold()[1:])
    yield
    await app.state.pool.close()


TUNED = os.environ.get("BARE_TUNED") == "1"
app = FastAPI(
    lifespan=lifespan,
    **({"telemetry": {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}} if TUNED else {}),
)


@app.post("/bare", status_code=201)
async def bare(request: Request, body: dict[str, Any]) -> dict[str, Any]:
    async with request.app.state.pool.acquire() as conn:
        row_id = await conn.fetchval(
            "INSERT INTO bench_bare (payload) VALUES ($1::jsonb) RETURNING id", json.dumps(body)
        )
    return {"id": row_id}
