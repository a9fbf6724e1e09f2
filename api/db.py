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


def make_engine(url: str) -> AsyncEngine:
    # hide_parameters: SQL errors must never carry personal data into logs.
    return create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, hide_parameters=True)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
