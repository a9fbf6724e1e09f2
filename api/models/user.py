"""Officers (cán bộ): one unit each, one or more roles."""

import re
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel

from api.models.base import created_at_column
from api.types import Id32, clean_any
from workflows.cases import Role

__all__ = ["Role", "User", "UserApprovalIn", "UserApprovedOut", "UserIn", "UserOut", "UserUpdate"]


class User(SQLModel, table=True):
    __tablename__ = "users"
    __table_args__ = (
        # A system account (the citizen channel's own) is inert: never active, no role, nothing pending.
        sa.CheckConstraint(
            "NOT is_system OR (NOT is_active AND roles = '{}' AND pending_roles IS NULL AND pending_unit_id IS NULL "
            "AND pending_password_hash IS NULL)",
            name="system_inert",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, unique=True))
    password_hash: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    full_name: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    unit_id: int = Field(sa_column=sa.Column(sa.Integer, sa.ForeignKey("units.id"), nullable=False, index=True))
    roles: list[str] = Field(sa_column=sa.Column(ARRAY(sa.String(32)), nullable=False))
    is_active: bool = Field(sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.true()))
    # Carried by every token; bumped by a password change, a deactivation or a sign-out (revokes earlier ones).
    token_version: int = Field(default=0, sa_column=sa.Column(sa.Integer, nullable=False, server_default="0"))
    # The citizen channel's account (and any other account the service itself acts as): nobody signs in as it,
    # nobody changes it (api/services/users.py).
    is_system: bool = Field(default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false()))
    # Two-person grants: what an administrator asked that would widen what this account may see (roles gained,
    # a move to another unit, a password set for someone else, a re-activation), waiting for a second
    # administrator's approval (POST /users/{id}/approve). NULL/false: nothing waits.
    pending_roles: list[str] | None = Field(default=None, sa_column=sa.Column(ARRAY(sa.String(32)), nullable=True))
    pending_unit_id: int | None = Field(
        default=None, sa_column=sa.Column(sa.Integer, sa.ForeignKey("units.id"), nullable=True)
    )
    pending_password_hash: str | None = Field(default=None, sa_column=sa.Column(sa.String(255), nullable=True))
    pending_activation: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false())
    )
    pending_by_id: int | None = Field(
        default=None, sa_column=sa.Column(sa.Integer, sa.ForeignKey("users.id"), nullable=True)
    )
    pending_at: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True), nullable=True))
    # The password was set by someone other than the account's owner (an administrator creating the account, or
    # setting another's password): it is a one-time password. Sign-in answers 403 password_change_required, and no
    # token, until the owner sets their own (POST /auth/password). The operator's acts on the server: false.
    must_change_password: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false())
    )
    created_at: datetime | None = Field(default=None, sa_column=created_at_column())
    updated_at: datetime | None = Field(default=None, sa_column=created_at_column())


# The documented pattern of a username (OpenAPI shows it): 3–64 Latin letters, digits and _ . @ -.
USERNAME_PATTERN = r"^[A-Za-z0-9_.@-]{3,64}$"
_USERNAME = re.compile(USERNAME_PATTERN)
USERNAME_RULE = (
    "Tên đăng nhập gồm 3–64 ký tự: chữ cái Latinh không dấu, chữ số và các dấu _ . @ - (không dấu cách, không dấu "
    "tiếng Việt), ví dụ xa.tiepdan"
)


class UserIn(SQLModel):
    username: str = Field(
        min_length=3,
        max_length=64,
        schema_extra={"pattern": USERNAME_PATTERN, "description": "3–64 of A–Z a–z 0–9 _ . @ -"},
    )
    password: str = Field(min_length=10, max_length=128)
    full_name: str = Field(min_length=1, max_length=255)
    unit_id: Id32
    roles: list[Role] = Field(min_length=1, max_length=5)

    @field_validator("username", mode="before")  # before the length checks: one Vietnamese rule for all of it
    @classmethod
    def _username(cls, value: Any) -> Any:
        if isinstance(value, str) and not _USERNAME.fullmatch(value):
            raise PydanticCustomError("username_pattern", USERNAME_RULE)
        return value

    @field_validator("full_name", mode="before")  # NFC first: max_length holds after it
    @classmethod
    def _clean_text(cls, value: Any) -> Any:
        return clean_any(value)


class UserUpdate(SQLModel):
    full_name: str | None = Field(default=None, min_length=1, max_length=255)
    unit_id: Id32 | None = None
    roles: list[Role] | None = Field(default=None, min_length=1, max_length=5)
    is_active: bool | None = None
    password: str | None = Field(default=None, min_length=10, max_length=128)

    @field_validator("full_name", mode="before")  # NFC first: max_length holds after it
    @classmethod
    def _clean_text(cls, value: Any) -> Any:
        return clean_any(value)


class UserApprovalIn(SQLModel):
    """Optional body of POST /users/{id}/approve: the `pending_at` of the request the approver looked at. Given,
    the approval is refused (409 pending_changed) if that request has been replaced since."""

    pending_at: datetime | None = None


class UserOut(SQLModel):
    id: int
    username: str
    full_name: str
    unit_id: int
    roles: list[str]
    is_active: bool
    is_system: bool = False
    # Two-person grants: what waits for a second administrator (null/false: nothing), and who asked for it.
    pending_roles: list[str] | None = None
    pending_unit_id: int | None = None
    pending_credentials: bool = False  # a new password set by another, waiting
    pending_activation: bool = False
    pending_by_id: int | None = None
    pending_at: datetime | None = None
    # The password was set by another (one-time): the owner has not yet set their own (POST /auth/password).
    must_change_password: bool = False

    @classmethod
    def of(cls, user: "User") -> "UserOut":
        return cls(
            id=user.id or 0,
            username=user.username,
            full_name=user.full_name,
            unit_id=user.unit_id,
            roles=list(user.roles),
            is_active=user.is_active,
            is_system=user.is_system,
            pending_roles=user.pending_roles,
            pending_unit_id=user.pending_unit_id,
            pending_credentials=user.pending_password_hash is not None,
            pending_activation=user.pending_activation,
            pending_by_id=user.pending_by_id,
            pending_at=user.pending_at,
            must_change_password=bool(user.must_change_password),
        )


class UserApprovedOut(UserOut):
    """The answer to POST /users/{id}/approve: the account, and — when the approval handed it a fresh one-time
    password (an account not yet in its owner's hands) — that password, shown this once to the approving
    administrator, who gives it to the person. Null for an account already in use."""

    one_time_password: str | None = None
