"""Sign-in schemas."""

from pydantic import BaseModel

from api.models.unit import UnitPublic
from api.models.user import UserPublic


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int


class Me(UserPublic):
    unit: UnitPublic
