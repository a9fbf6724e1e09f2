"""Reception frequencies as versioned data (LTCD; Law 136/2025 from 2026-07-01)."""

from datetime import date

from workflows.reception import required_reception


def test_commune_chair_rule_changes_on_2026_07_01() -> None:
    before = required_reception("commune", date(2026, 6, 30))
    after = required_reception("commune", date(2026, 7, 1))
    assert before is not None and (before.days, before.per) == (1, "week")
    assert after is not None and (after.days, after.per) == (2, "month")


def test_province_and_agency_heads_receive_monthly() -> None:
    for level in ("province", "agency", "inspectorate"):
        rule = required_reception(level, date(2026, 11, 25))
        assert rule is not None and (rule.days, rule.per) == (1, "month")


def test_no_rule_before_the_law_or_for_unknown_levels() -> None:
    assert required_reception("commune", date(2010, 1, 1)) is None
    assert required_reception("galaxy", date(2026, 1, 1)) is None
