"""Database URL resolution, async engine and sessions."""

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from api import embedded
from api.settings import Settings

_resolved: dict[str, str] = {}


def normalize_url(url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


def database_url(settings: Settings) -> str:
    """DATABASE_URL when set; otherwise the embedded PostgreSQL, started on first use."""
    if settings.database_url:
        return normalize_url(settings.database_url)
    if "embedded" not in _resolved:
        _resolved["embedded"] = embedded.start(settings.data_dir / "pgdata")
    return _resolved["embedded"]


def make_engine(url: str, pool_size: int = 20) -> AsyncEngine:
    # hide_parameters: SQL errors must never carry personal data into logs.
    # A fixed pool (no overflow): under sustained load, overflow connections would be opened and closed on every
    # request. No pre-ping (it costs two round trips per checkout): a connection found dead raises once and the
    # pool is invalidated, so the next request reconnects.
    return create_async_engine(url, pool_size=pool_size, max_overflow=0, pool_timeout=30, hide_parameters=True)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
