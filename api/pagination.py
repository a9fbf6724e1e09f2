"""Keyset pagination, one implementation for every list: each list returns {items, next_cursor}; pass
next_cursor back as `cursor`. A cursor is the sort key of the last row seen (opaque to clients)."""

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import Code, DomainError

T = TypeVar("T")
R = TypeVar("R")


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
        raise DomainError(Code.invalid_cursor, details={"field": "cursor"}) from None


def _convert(kind: type, value: Any) -> Any:
    if kind is int:
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**63:
            raise ValueError("not an id")
        return value
    if kind is date:
        return date.fromisoformat(value)
    raise TypeError(kind)


@dataclass(frozen=True)
class Keyset(Generic[R]):
    """The order of a list: sort-key expressions (the last one unique, usually the id), the type of each
    in a cursor, how to read them from a row, and the direction."""

    columns: tuple[Any, ...]
    kinds: tuple[type, ...]
    key: Callable[[R], list[Any]]
    descending: bool = False

    def apply(self, stmt: sa.Select[Any], *, limit: int, cursor: str | None) -> sa.Select[Any]:
        """`stmt` ordered, started after the cursor, and limited to one row more than a page."""
        after = decode_cursor(cursor, *self.kinds)
        if after is not None:
            row, value = sa.tuple_(*self.columns), sa.tuple_(*after)
            stmt = stmt.where(row < value if self.descending else row > value)
        order = [c.desc() if self.descending else c.asc() for c in self.columns]
        return stmt.order_by(*order).limit(limit + 1)

    def page(self, rows: Sequence[R], limit: int) -> tuple[list[R], str | None]:
        """The page and the cursor of the next one (None on the last page)."""
        if len(rows) > limit:
            return list(rows[:limit]), encode_cursor([_plain(v) for v in self.key(rows[limit - 1])])
        return list(rows), None

    async def fetch(
        self, session: AsyncSession, stmt: sa.Select[Any], *, limit: int, cursor: str | None
    ) -> tuple[list[R], str | None]:
        rows = (await session.scalars(self.apply(stmt, limit=limit, cursor=cursor))).all()
        return self.page(rows, limit)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def by_id(column: Any, *, descending: bool = False) -> "Keyset[Any]":
    """The common case: newest or oldest first by a unique integer column."""
    name = column.key
    return Keyset(columns=(column,), kinds=(int,), key=lambda row: [getattr(row, name)], descending=descending)


def by_date_and_id(date_column: Any, id_column: Any, *, descending: bool = False) -> "Keyset[Any]":
    """By a date, then the unique id (registers by day, cases by due date)."""
    day, ident = date_column.key, id_column.key
    return Keyset(
        columns=(date_column, id_column),
        kinds=(date, int),
        key=lambda row: [getattr(row, day), getattr(row, ident)],
        descending=descending,
    )
