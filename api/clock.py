"""The one place the service reads the clock; workflows/ receives dates as parameters."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def now() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    """Legal dates are dates in Asia/Ho_Chi_Minh."""
    return datetime.now(VN).date()
