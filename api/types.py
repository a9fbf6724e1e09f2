"""Bounded identifier types: an id outside the database column's range is a 422, not a 500."""

from typing import Annotated

from annotated_types import Interval

Id32 = Annotated[int, Interval(ge=1, le=2**31 - 1)]  # units, users, webhooks (integer columns)
Id64 = Annotated[int, Interval(ge=1, le=2**63 - 1)]  # cases, events (bigint columns)
