"""Input types: bounded ids (out of the column's range is a 422, not a 500), clean text, strict dates."""

import unicodedata
from datetime import date
from typing import Annotated, Any

from annotated_types import Interval
from pydantic import BeforeValidator

Id32 = Annotated[int, Interval(ge=1, le=2**31 - 1)]  # units, users, webhooks (integer columns)
Id64 = Annotated[int, Interval(ge=1, le=2**63 - 1)]  # cases, events (bigint columns)


# Invisible characters that reorder text on screen (Trojan-source style): a name or a decision number that
# reads differently from what is stored has no place in a legal record.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def clean_text(value: str) -> str:
    """Text as the record keeps it: NFC-normalised; refused if PostgreSQL cannot store it (NUL, lone
    surrogates) or if it carries invisible direction controls."""
    if "\x00" in value:
        raise ValueError("text must not contain a NUL character")
    if not _BIDI_CONTROLS.isdisjoint(value):
        raise ValueError("text must not contain invisible direction-control characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text is not valid Unicode") from None
    return unicodedata.normalize("NFC", value)


def clean_any(value: Any) -> Any:
    """clean_text applied to a string, or to each string of a list (other values unchanged)."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [clean_text(v) if isinstance(v, str) else v for v in value]
    return value


# Cleaned before the field's own constraints, so a max_length holds for the text as kept: NFC may lengthen a text
# (U+FB2C is one character typed and three kept), and a limit checked before it would let the column's refuse it
# (a 500). Every request model cleans its text the same way (a "before" validator calling clean_any).
CleanStr = Annotated[str, BeforeValidator(clean_any)]


def strict_date(value: Any) -> Any:
    """A legal date is written as a date (YYYY-MM-DD), never a number read as a timestamp."""
    if (isinstance(value, int | float) and not isinstance(value, bool)) or (
        isinstance(value, str) and value.strip().lstrip("-").isdigit()
    ):
        raise ValueError("a date must be written as YYYY-MM-DD, not a number")
    return value


StrictDate = Annotated[date, BeforeValidator(strict_date)]
