"""Key check values (migration 0023): one keyed value per key kind, written on the first start, so that a later
start with other keys is refused (naming the key) instead of answering 500 on sealed data and writing chain
events that no longer verify (api/services/keychecks.py)."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from api.models.base import created_at_column


class KeyCheck(SQLModel, table=True):
    __tablename__ = "key_checks"

    kind: str = Field(sa_column=sa.Column(sa.String(32), primary_key=True))
    # HMAC of a constant under the key, or (for sealing keys) a Fernet token of a constant: no key can be read back.
    value: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    created_at: datetime | None = Field(default=None, sa_column=created_at_column())
