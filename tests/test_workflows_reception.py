"""Reception frequencies as versioned data (LTCD; Law 136/2025 from 2026-07-01)."""

from datetime import date

import pytest

from workflows import reception
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


def test_the_district_rule_ends_with_the_districts() -> None:
    assert required_reception("district", date(2025, 6, 30)) is not None
    assert required_reception("district", date(2025, 7, 1)) is None


def test_an_override_raises_the_requirement_but_never_lowers_it() -> None:
    from workflows.reception import below_minimum, requirement

    on = date(2026, 11, 25)
    assert requirement("agency", on, (2, "month")).basis == "override"  # type: ignore[union-attr]
    lowered = requirement("commune", on, (1, "month"))  # the law asks 2 days a month of a commune chair
    assert lowered is not None and (lowered.days, lowered.basis) == (2, "LTCD art. 15 as amended by Law 136/2025")
    assert below_minimum("commune", on, 1, "month") is not None and below_minimum("commune", on, 1, "week") is None
    # Before 2026-07-01 a commune chair received weekly: two days a month was below that.
    assert below_minimum("commune", date(2026, 6, 1), 2, "month") is not None


@pytest.mark.parametrize(
    ("people", "allowed"),
    [(4, []), (5, [1, 2]), (10, [1, 2]), (11, [1, 2, 3, 4, 5]), (300, [1, 2, 3, 4, 5])],
)
def test_a_group_appoints_one_or_two_representatives_up_to_ten_people_and_at_most_five_above(
    people: int, allowed: list[int]
) -> None:
    assert list(reception.representatives_allowed(people)) == allowed
    assert reception.is_group(people) is bool(allowed)


def test_a_denouncer_asking_for_protection_is_never_received_online() -> None:
    assert reception.may_receive_online("denunciation", identity_protection_requested=True) is False
    assert reception.may_receive_online("denunciation", identity_protection_requested=False) is True
    assert reception.may_receive_online("complaint", identity_protection_requested=True) is True
