"""Accent-insensitive Vietnamese text search: "dat dai" finds "đất đai" (unaccent + trigram indexes)."""

from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

MAX_WORDS = 10


def folded(expr: Any) -> ColumnElement[str]:
    """The expression the trigram indexes are built on: f_unaccent(lower(...))."""
    return sa.func.f_unaccent(sa.func.lower(expr))


def all_words(text: ColumnElement[str], query: str) -> ColumnElement[bool]:
    """Every word of `query` appears in `text` (already folded); LIKE wildcards in the query are literal."""
    words = [w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for w in query.split()[:MAX_WORDS]]
    return sa.and_(sa.true(), *(text.contains(folded(w), escape="\\") for w in words))


def matches_words(vector: ColumnElement[Any], query: str) -> ColumnElement[bool]:
    """Every word of `query` is a word of the text behind `vector` (a stored tsvector of the folded text):
    whole words, accent- and case-insensitive. Punctuation and wildcards are not words."""
    words = " ".join(query.split()[:MAX_WORDS])
    return vector.op("@@")(sa.func.plainto_tsquery(sa.literal_column("'simple'::regconfig"), folded(words)))
