"""Sign-in schemas and the sign-in attempt counters."""

from datetime import datetime

import sqlalchemy as sa
from pydantic import BaseModel
from sqlmodel import Field, SQLModel

from api.models.unit import UnitOut
from api.models.user import UserOut


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int


class PasswordChangeIn(SQLModel):
    """POST /auth/password: the account's owner replaces its password (required at the first sign-in after
    another person set it). The new one follows UserIn's length rules and differs from the old."""

    username: str = Field(min_length=1, max_length=64)
    old_password: str = Field(min_length=1, max_length=128)
    new_password: str = Field(min_length=10, max_length=128)


class MeOut(UserOut):
    unit: UnitOut


class LoginAttempt(SQLModel, table=True):
    """Sign-in attempts in the current window, per (username, client address) and per client address: counted
    atomically before the password is checked (api/services/users.authenticate)."""

    __tablename__ = "login_attempts"

    key: str = Field(sa_column=sa.Column(sa.String(200), primary_key=True))
    window_start: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False, index=True))
    count: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
