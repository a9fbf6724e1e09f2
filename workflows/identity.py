"""Validation of Vietnamese citizen identity numbers (số định danh cá nhân / căn cước, 12 digits).

Layout (Circular 59/2021/TT-BCA): 3 digits birth-province code, 1 digit century and sex, 2 digits
year of birth, 6 random digits.
"""

import re

# Province codes of birth used in the 12-digit number (the 63 provinces before the 2025 merger).
PROVINCE_CODES = frozenset(
    {
        "001",
        "002",
        "004",
        "006",
        "008",
        "010",
        "011",
        "012",
        "014",
        "015",
        "017",
        "019",
        "020",
        "022",
        "024",
        "025",
        "026",
        "027",
        "030",
        "031",
        "033",
        "034",
        "035",
        "036",
        "037",
        "038",
        "040",
        "042",
        "044",
        "045",
        "046",
        "048",
        "049",
        "051",
        "052",
        "054",
        "056",
        "058",
        "060",
        "062",
        "064",
        "066",
        "067",
        "068",
        "070",
        "072",
        "074",
        "075",
        "077",
        "079",
        "080",
        "082",
        "083",
        "084",
        "086",
        "087",
        "089",
        "091",
        "092",
        "093",
        "094",
        "095",
        "096",
    }
)
_DIGITS = re.compile(r"^\d{12}$")


def id_number_problem(value: str) -> str | None:
    """None when `value` is a well-formed citizen ID number, else what is wrong (English)."""
    if not _DIGITS.match(value):
        return "must be exactly 12 digits"
    if value[:3] not in PROVINCE_CODES:
        return "unknown province code in the first 3 digits"
    return None
