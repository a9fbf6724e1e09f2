"""Passwords (argon2) and access tokens (python-jose JWT). The only module that touches either."""

from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from jose import JWTError, jwt

from api import clock
from api.settings import Settings

ALGORITHM = "HS256"
CLOCK_SKEW = 60  # seconds of clock difference tolerated between issuing and checking processes


class InvalidToken(Exception):
    pass


class Passwords:
    def __init__(self, settings: Settings) -> None:
        self._hasher = PasswordHasher(time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_cost)
        # Verified against when the user does not exist, so timing does not reveal who exists.
        self._dummy = self._hasher.hash("not-a-real-password")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash or self._dummy, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False


def create_access_token(
    settings: Settings, subject: str, *, now: datetime | None = None, minutes: int | None = None, version: int = 0
) -> tuple[str, int]:
    now = now or clock.now()
    lifetime = (minutes if minutes is not None else settings.access_token_minutes) * 60
    claims = {
        "sub": subject,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=lifetime)).timestamp()),
        "tv": version,
    }
    return jwt.encode(claims, settings.jwt_secret(), algorithm=ALGORITHM), lifetime


ID_MAX = 2**31 - 1  # users.id and users.token_version are integer columns


def subject_of(claims: dict[str, Any]) -> tuple[int, int]:
    """The officer id and token version a token names: `sub` written as the service writes it (ASCII digits, no
    sign, space or leading zero) within the id column's range, `tv` an integer in range. Anything else is an
    InvalidToken (401), never an error of the database or of int() (500)."""
    sub, version = claims.get("sub"), claims.get("tv", 0)
    if not (isinstance(sub, str) and 0 < len(sub) <= 10 and sub.isascii() and sub.isdigit() and sub[0] != "0"):
        raise InvalidToken("subject is not an officer id")
    if int(sub) > ID_MAX:
        raise InvalidToken("subject out of range")
    if not (type(version) is int and 0 <= version <= ID_MAX):
        raise InvalidToken("token version out of range")
    return int(sub), version


# Tokens already verified by this process (signature, alg, iss, aud): every request of an officer carries the
# same token, so its signature is checked once; expiry is still checked on every use.
_VERIFIED: dict[str, tuple[str, dict[str, Any]]] = {}
_VERIFIED_MAX = 10_000


def decode_access_token(settings: Settings, token: str) -> dict[str, Any]:
    """Claims of a valid token; InvalidToken for anything else (bad signature, alg, expiry, iss, aud)."""
    secret = settings.jwt_secret()
    known = _VERIFIED.get(token)
    if known is not None and known[0] == secret:
        if known[1]["exp"] <= clock.now().timestamp():
            raise InvalidToken("expired")
        return known[1]
    claims = _verify(settings, token)
    if len(_VERIFIED) >= _VERIFIED_MAX:
        _VERIFIED.clear()
    _VERIFIED[token] = (secret, claims)
    return claims


def _verify(settings: Settings, token: str) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != ALGORITHM:
            raise InvalidToken("unexpected algorithm")
        claims: dict[str, Any] = jwt.decode(
            token,
            settings.jwt_secret(),
            algorithms=[ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require_exp": True, "require_sub": True, "require_iat": True, "require_aud": True},
        )
        now = clock.now().timestamp()
        if claims["iat"] > now + CLOCK_SKEW:
            raise InvalidToken("issued in the future")
        if claims["exp"] - claims["iat"] > settings.access_token_minutes * 60 + CLOCK_SKEW:
            raise InvalidToken("lifetime beyond the configured one")
        subject_of(claims)
    except JWTError as exc:
        raise InvalidToken(str(exc)) from exc
    return claims
