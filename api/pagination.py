"""Keyset pagination: every list returns {items, next_cursor}; pass next_cursor back as `cursor`."""

import base64
import json
from datetime import date
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from api.errors import Invalid

T = TypeVar("T")

LimitQuery = Annotated[int, Query(ge=1, le=200, description="Số bản ghi mỗi trang (1–200)")]
CursorQuery = Annotated[str | None, Query(max_length=512, description="Giá trị next_cursor của trang trước")]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, default=str).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, *kinds: type) -> list[Any] | None:
    """The values of a cursor made by encode_cursor, converted to `kinds` (int, date); 422 if it is not one."""
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or len(values) != len(kinds):
            raise ValueError("wrong arity")
        return [_convert(kind, value) for kind, value in zip(kinds, values, strict=True)]
    except (ValueError, TypeError, UnicodeDecodeError, OverflowError):
        raise Invalid("Con trỏ phân trang không hợp lệ", code="invalid_cursor", details={"field": "cursor"}) from None


def _convert(kind: type, value: Any) -> Any:
    if kind is int:
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**63:
            raise ValueError("not an id")
        return value
    if kind is date:
        return date.fromisoformat(value)
    raise TypeError(kind)
