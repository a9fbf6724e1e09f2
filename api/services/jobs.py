"""Background jobs run by every API process (safe to run several at once): the deadline sweep and
webhook delivery. Time is read here, once per round, and passed down."""

import asyncio
import logging
from datetime import UTC, datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api import clock
from api.services import checkpoints, deadlines, users, webhooks
from api.services.cases import intake, sealed_text
from api.settings import Settings

log = logging.getLogger(__name__)


async def run_once(
    maker: async_sessionmaker[AsyncSession], settings: Settings, client: httpx.AsyncClient
) -> dict[str, int | bool]:
    result = await deadlines.sweep(maker, settings, clock.today())
    delivered = 0
    while True:
        batch = await webhooks.deliver_due(maker, settings, client, datetime.now(UTC))
        delivered += batch
        if batch == 0:
            break
    checkpointed = False
    async with maker() as session:
        await users.purge_login_attempts(session, settings)
    async with maker() as session:  # issue 21: idempotency fingerprints past their window; old clear denunciations
        await intake.purge_idempotency(session, settings)
        # Denunciations in clear from before 0021, copies' SHA-256 kept in clear before the audit; warns that the
        # tables need rewriting by `seal-existing` as the owner when it sealed anything (outside audit 2)
        await sealed_text.seal_in_round(session, settings)
    if settings.checkpoint_hours > 0:
        async with maker() as session:  # numbered, chained, and sent off the server (CHECKPOINT_FILE / _WEBHOOK_URL)
            checkpointed = await checkpoints.make_scheduled(session, settings, client) is not None
    summary: dict[str, int | bool] = {
        "checkpoint": checkpointed,
        "cases": result.cases,
        "due_soon": result.due_soon,
        "overdue": result.overdue,
        "escalated": result.escalated,
        "skipped": result.skipped,
        "delivered": delivered,
    }
    if result.cases or delivered or checkpointed:
        log.info("jobs round", extra=summary)
    return summary


async def loop(maker: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    async with httpx.AsyncClient(timeout=settings.webhook_timeout_seconds) as client:
        while True:
            try:
                await run_once(maker, settings, client)
            except Exception:  # noqa: BLE001 - a failed round must not stop the next one
                log.exception("jobs round failed")
            await asyncio.sleep(settings.jobs_interval_seconds)
