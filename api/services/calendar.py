"""The working-day calendar the service counts with."""

from functools import lru_cache

from sqlalchemy.ext.asyncio import AsyncSession

from workflows.calendar import WorkCalendar


@lru_cache(maxsize=1)
def _base_calendar() -> WorkCalendar:
    return WorkCalendar()


async def current(session: AsyncSession) -> WorkCalendar:
    """Vietnam's statutory calendar (admin overrides are merged in by the calendar admin API)."""
    return _base_calendar()
