"""The one place the service reads the clock; workflows/ receives dates as parameters."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def now() -> datetime:
    return datetime.now(UTC)


# A test run fixes the legal date it started on, so that a run crossing midnight in Hà Nội (17:00 UTC) does not
# compare the tests' "today" with the service's "tomorrow". Never set outside tests.
fixed_today: date | None = None


def today() -> date:
    """Legal dates are dates in Asia/Ho_Chi_Minh."""
    return fixed_today or datetime.now(VN).date()


def legal_date(at: datetime) -> date:
    """The legal date of an instant: its day in Asia/Ho_Chi_Minh (an instant stored in UTC between 17:00 and 24:00 is
    already the next day there)."""
    return at.astimezone(VN).date()
