"""The statistics' cache (migration 0030): the data versions a cached form is keyed by, and the cached forms."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class StatsDataVersion(SQLModel, table=True):
    """One slot of a source's change counter: triggers on the tables the statistics read add one in the
    transaction of every change (once per transaction, in the writer's slot); a source's version is the sum of its
    slots (api/services/stats/cache.py)."""

    __tablename__ = "stats_data_versions"

    source: str = Field(sa_column=sa.Column(sa.String(32), primary_key=True))
    slot: int = Field(sa_column=sa.Column(sa.SmallInteger, primary_key=True))
    version: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False, server_default="0"))


class StatsCacheEntry(SQLModel, table=True):
    """A form (or summary) as answered for one period, scope and format, with the data versions it was made at:
    shared by every API process; an entry whose versions are not the current ones is never served. Counts only,
    no identity."""

    __tablename__ = "stats_cache"

    key: str = Field(sa_column=sa.Column(sa.String(200), primary_key=True))
    version: str = Field(sa_column=sa.Column(sa.String(400), nullable=False))
    body: bytes = Field(sa_column=sa.Column(sa.LargeBinary, nullable=False))
    made_at: datetime | None = Field(
        default=None, sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()"))
    )
