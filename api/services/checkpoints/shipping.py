"""Keeping checkpoints off the database server: each scheduled one appended to CHECKPOINT_FILE and/or POSTed to
CHECKPOINT_WEBHOOK_URL, signed by its own signature header."""

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from api.models.cases import ChainCheckpoint
from api.services.checkpoints.record import due, make_record
from api.settings import Settings

log = logging.getLogger("api.services.checkpoints")
SIGNATURE_HEADER = "X-Tiepdan-Checkpoint-Signature"


def _append(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        f.write(text)
        f.flush()


async def ship(settings: Settings, checkpoint: ChainCheckpoint, text: str, client: httpx.AsyncClient) -> list[str]:
    """Send a checkpoint's record off the server: appended to CHECKPOINT_FILE, POSTed to CHECKPOINT_WEBHOOK_URL
    (an http(s) URL on a public address unless WEBHOOK_ALLOW_PRIVATE, as webhooks are checked; the body signed
    by the checkpoint's own signature header). What failed, for the log (a failure does not undo the checkpoint:
    the next one covers it)."""
    from api.services import webhooks

    failed: list[str] = []
    if settings.checkpoint_file is not None:
        try:
            await asyncio.to_thread(_append, Path(settings.checkpoint_file), text)
        except OSError as exc:
            failed.append(f"CHECKPOINT_FILE: {type(exc).__name__}")
    url = settings.checkpoint_webhook_url
    if url:
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            failed.append("CHECKPOINT_WEBHOOK_URL: not an http(s) URL")
        else:
            headers = {
                "Content-Type": "text/plain; charset=utf-8",
                "X-Tiepdan-Checkpoint-Seq": str(checkpoint.seq),
                SIGNATURE_HEADER: checkpoint.signature,
            }
            try:  # resolved once, checked, and connected to the address checked (as webhooks are delivered)
                response = await webhooks.post_pinned(
                    client, url, text.encode(), headers, allow_private=settings.webhook_allow_private
                )
                if not 200 <= response.status_code < 300:
                    failed.append(f"CHECKPOINT_WEBHOOK_URL: HTTP {response.status_code}")
            except webhooks.AddressRefused:
                failed.append("CHECKPOINT_WEBHOOK_URL: address_not_public")
            except httpx.HTTPError as exc:
                failed.append(f"CHECKPOINT_WEBHOOK_URL: {type(exc).__name__}")
    for what in failed:
        log.error("checkpoint %s not sent off the server: %s", checkpoint.seq, what)
    return failed


async def make_scheduled(
    session: AsyncSession, settings: Settings, client: httpx.AsyncClient, now: datetime | None = None
) -> ChainCheckpoint | None:
    """The jobs' checkpoint: made if the last is CHECKPOINT_HOURS old, then sent off the server."""
    if settings.checkpoint_hours <= 0:
        return None
    if not await due(session, now or datetime.now(UTC), settings.checkpoint_hours):
        return None
    made = await make_record(session, every_hours=settings.checkpoint_hours)
    if made is None:
        return None
    await ship(settings, made[0], made[1], client)
    return made[0]
