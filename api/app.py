"""The application factory (the ASGI app itself is `api.main:app`)."""

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

from api import db, docs, drain, embedded, http_errors, lean, logs, ratelimit
from api.dashboard import inspections as dashboard_inspections
from api.dashboard import views as dashboard_views
from api.routers import (
    attachments,
    audit,
    auth,
    calendar,
    cases,
    deadlines,
    health,
    inspections,
    integrity,
    open311,
    public,
    reception,
    root,
    stats,
    units,
    users,
    webhooks,
)
from api.security import Passwords
from api.services import jobs, keychecks
from api.services.cases import trail
from api.services.cases.writer import IntakeWriter
from api.services.citizen import storage
from api.services.stats import cache as stats_cache
from api.settings import Settings, get_settings

API_PREFIX = "/api/v1"

DESCRIPTION = """
**Tiếp dân & Khiếu nại, Tố cáo — API.**
Tiếp công dân, xử lý đơn, giải quyết khiếu nại, tố cáo, kiến nghị, phản ánh — tỉnh Lào Cai.

Errors share one body: `{"error": {"code", "message", "details"}}` (message in Vietnamese, code in English).
Sign in with the **Authorize** button (OAuth2 password form at `/api/v1/auth/token`).
"""


def operation_id(route: APIRoute) -> str:
    """Readable operation ids for generated clients: `cases_act`, `units_list`, `users_create`."""
    tag = str(route.tags[0]) if route.tags else "default"
    name = route.name.rstrip("_")
    for suffix in (f"_{tag}", f"_{tag.rstrip('s')}"):
        name = name.removesuffix(suffix)
    return f"{tag}_{name}"


async def bootstrap(app: FastAPI) -> None:
    settings: Settings = app.state.settings
    from api.services import users as user_service

    if settings.bootstrap_admin_username and settings.bootstrap_admin_password:
        async with app.state.sessionmaker() as session:
            await user_service.ensure_bootstrap_admin(
                session, app.state.passwords, settings.bootstrap_admin_username, settings.bootstrap_admin_password
            )
    if settings.bootstrap_approver_username and settings.bootstrap_approver_password:
        async with app.state.sessionmaker() as session:  # the second administrator two-person grants need
            await user_service.ensure_bootstrap_approver(
                session, app.state.passwords, settings.bootstrap_approver_username, settings.bootstrap_approver_password
            )


def tune_gc(threshold: int) -> None:
    """Once the app is built: everything alive now (modules, models, routes, schemas: a few hundred thousand
    objects) lives as long as the process, so the cyclic garbage collector is told to stop walking it
    (`gc.freeze`), and (with `threshold` > 0) to run its young generation less often. Under load the full
    collections over that heap were a fifth of the intake's CPU and its 150 ms p99 (bench/intake.py)."""
    gc.collect()
    gc.freeze()
    if threshold > 0:
        _, older, oldest = gc.get_threshold()
        gc.set_threshold(threshold, older, oldest)


class ConfigurationError(RuntimeError):
    """The settings cannot run a service safely."""


def create_app(settings: Settings | None = None, *, database_url: str | None = None) -> FastAPI:
    settings = settings or get_settings()
    problems = settings.key_problems()
    if problems:
        raise ConfigurationError(
            "refusing to start: " + "; ".join(problems) + " (see docs/confidentiality.md, 'Keys and backups'; "
            "unset both SECRET_KEY and IDENTITY_KEYS for a development run with generated keys)"
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The keys must open the data already there (check values written on the first start), else no start.
        wrong = await keychecks.at_start(app.state.sessionmaker, settings)
        if wrong:
            await app.state.engine.dispose()
            await app.state.hot_pool.close()
            raise ConfigurationError(keychecks.refusal(wrong))
        await bootstrap(app)
        tune_gc(settings.gc_threshold)
        drain.install(settings.drain_seconds)  # SIGTERM: /readyz 503 for DRAIN_SECONDS, then the graceful stop
        task = asyncio.create_task(jobs.loop(app.state.sessionmaker, settings)) if settings.jobs_enabled else None
        yield
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await app.state.intake_writer.close()
        await app.state.engine.dispose()
        if app.state.read_engine is not None:
            await app.state.read_engine.dispose()
        await app.state.public_limits.close()
        await app.state.hot_pool.close()
        embedded.stop()

    app = FastAPI(
        # ASCII: client generators derive package names from the title.
        title="Tiepdan API",
        generate_unique_id_function=operation_id,
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        responses=http_errors.ERROR_RESPONSES,
        docs_url=None,  # served by api/docs.py with local assets (no CDN on an intranet)
        redoc_url=None,
        # FastAPI's own OpenTelemetry hooks, off: this service exports no traces, and their logs would record
        # exception messages and request bodies (a denouncer's identity among them) wherever OpenTelemetry is
        # configured on the machine. Observability is the JSON access log and /metrics (api/logs.py, api/metrics.py).
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    docs.install(app)
    app.state.settings = settings
    url = database_url or db.database_url(settings)
    role = settings.db_app_role or None  # least privilege: every connection works as the application role
    app.state.engine = db.make_engine(url, settings.db_pool_size, settings.statement_timeout_ms, role)
    app.state.hot_pool = db.HotPool(url, settings.db_pool_size, settings.statement_timeout_ms, role)
    app.state.sessionmaker = db.make_sessionmaker(app.state.engine)
    app.state.read_engine = db.make_read_engine(settings, role)  # DATABASE_READ_URL's replica (api/deps.py), or None
    app.state.read_sessionmaker = app.state.read_engine and db.make_sessionmaker(app.state.read_engine)
    app.state.intake_writer = IntakeWriter(app.state.hot_pool, lanes=settings.intake_lanes)
    app.state.signed_in = {}  # officers signed in a moment ago (api/services/cases/remembered.py)
    app.state.passwords = Passwords(settings)
    trail.configure(settings.chain_secret())
    app.state.expensive_limiter = ratelimit.Limiter(settings.expensive_per_minute, settings.expensive_burst)
    # Statistics: their own limit (computations only), a place per computation, the process's cache layer.
    app.state.stats_limiter = ratelimit.Limiter(settings.stats_per_minute, settings.stats_burst)
    app.state.stats_gate = asyncio.Semaphore(settings.stats_concurrency)
    app.state.stats_local = stats_cache.Local()
    # names and bytes sealed under the identity keys, in the store ATTACHMENT_STORAGE names (citizen/storage)
    app.state.storage = storage.build(settings, app.state.engine)
    app.state.public_limits = ratelimit.PublicLimits(
        settings.public_per_minute, settings.public_burst, settings.lookup_failures_per_hour, settings.redis_url
    )
    app.state.trusted_proxies = ratelimit.TrustedProxies(settings.forwarded_allow_ips)
    app.state.tagger = ratelimit.Tagger(settings)  # keyed daily hashes of client addresses for the limits
    http_errors.install(app)
    lean.install(  # innermost of the service's middlewares: inside the request id, log, body limit and session scope
        app,
        {
            ("POST", f"{API_PREFIX}/cases"): cases.intake.lean_create,
            ("POST", f"{API_PREFIX}/public/submissions"): public.lean_submit,
        },
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["Authorization", "Content-Type", "If-Match", "Idempotency-Key", "X-Request-ID"],
            expose_headers=["ETag", "X-Request-ID", "X-Data-As-Of"],
        )
    app.add_middleware(db.SessionScope)
    app.add_middleware(
        logs.RequestContextMiddleware,
        max_body_bytes=settings.max_body_bytes,
        upload_max_bytes=settings.attachment_max_bytes + 65_536,
    )
    # The case routes and the citizens' submissions first: they carry most of the traffic, and routes are matched
    # in order (each route passed over costs a few microseconds: 64 of them were a tenth of a submission's CPU).
    for router in (
        *cases.ROUTERS,
        public.router,
        auth.router,
        units.router,
        users.router,
        calendar.router,
        deadlines.router,
        webhooks.router,
        audit.router,
        integrity.router,
        reception.router,
        stats.router,
        inspections.router,
        open311.keys_router,
        attachments.router,
    ):
        app.include_router(router, prefix=API_PREFIX)
    auth.document_sign_in(app)  # its OpenAPI: only the errors it answers
    app.include_router(open311.router)
    app.include_router(dashboard_views.router)
    app.include_router(dashboard_inspections.router)
    app.mount(
        "/dashboard/static",
        StaticFiles(directory=Path(dashboard_views.__file__).parent / "static"),
        name="dashboard-static",
    )
    app.include_router(health.router)
    app.include_router(root.router)  # GET /: where the docs, the dashboard and Open311 are
    return app
