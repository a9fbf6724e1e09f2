"""Officers (cán bộ): one unit each, one or more roles."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import field_validator
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel

from api.models.base import created_at_column
from api.types import Id32, clean_any
from workflows.cases import Role

__all__ = ["Role", "User", "UserCreate", "UserPublic", "UserUpdate"]


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, unique=True))
    password_hash: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    full_name: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    unit_id: int = Field(sa_column=sa.Column(sa.Integer, sa.ForeignKey("units.id"), nullable=False, index=True))
    roles: list[str] = Field(sa_column=sa.Column(ARRAY(sa.String(32)), nullable=False))
    is_active: bool = Field(sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.true()))
    # Carried by every token; bumped by a password change, a deactivation or a sign-out (revokes earlier ones).
    token_version: int = Field(default=0, sa_column=sa.Column(sa.Integer, nullable=False, server_default="0"))
    created_at: datetime | None = Field(default=None, sa_column=created_at_column())
    updated_at: datetime | None = Field(default=None, sa_column=created_at_column())


class UserCreate(SQLModel):
    username: str = Field(min_length=3, max_length=64, regex=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(min_length=10, max_length=128)
    full_name: str = Field(min_length=1, max_length=255)
    unit_id: Id32
    roles: list[Role] = Field(min_length=1, max_length=5)

    @field_validator("full_name", mode="after")
    @classmethod
    def _clean_text(cls, value: Any) -> Any:
        return clean_any(value)


class UserUpdate(SQLModel):
    full_name: str | None = Field(default=None, min_length=1, max_length=255)
    unit_id: Id32 | None = None
    roles: list[Role] | None = Field(default=None, min_length=1, max_length=5)
    is_active: bool | None = None
    password: str | None = Field(default=None, min_length=10, max_length=128)

    @field_validator("full_name", mode="after")
    @classmethod
    def _clean_text(cls, value: Any) -> Any:
        return clean_any(value)


class UserPublic(SQLModel):
    id: int
    username: str
    full_name: str
    unit_id: int
    roles: list[str]
    is_active: bool
