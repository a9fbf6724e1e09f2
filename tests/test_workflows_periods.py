"""Reporting periods and the reception rules per month, on real calendar dates."""

from datetime import date

import pytest

from workflows import periods
from workflows import reception as rules
from workflows.calendar import WorkCalendar

CAL = WorkCalendar()


@pytest.mark.parametrize(
    ("label", "start", "end"),
    [
        ("2026-02", date(2026, 2, 1), date(2026, 2, 28)),
        ("2028-02", date(2028, 2, 1), date(2028, 2, 29)),
        ("2026-Q3", date(2026, 7, 1), date(2026, 9, 30)),
        ("2026", date(2026, 1, 1), date(2026, 12, 31)),
        ("2026-H1", date(2026, 1, 1), date(2026, 6, 30)),
        ("2026-9M", date(2026, 1, 1), date(2026, 9, 30)),
    ],
)
def test_calendar_periods(label: str, start: date, end: date) -> None:
    p = periods.parse(label)
    assert (p.start, p.end) == (start, end)


@pytest.mark.parametrize(
    ("label", "start", "end"),
    [
        # Q1 runs from 15 December of the previous year to 14 March.
        ("2026-Q1", date(2025, 12, 15), date(2026, 3, 14)),
        ("2026-Q2", date(2026, 3, 15), date(2026, 6, 14)),
        ("2026-Q3", date(2026, 6, 15), date(2026, 9, 14)),
        ("2026-Q4", date(2026, 9, 15), date(2026, 12, 14)),
        ("2026-H1", date(2025, 12, 15), date(2026, 6, 14)),
        ("2026-9M", date(2025, 12, 15), date(2026, 9, 14)),
        ("2026", date(2025, 12, 15), date(2026, 12, 14)),
        ("2026-05", date(2026, 5, 1), date(2026, 5, 31)),  # months stay calendar months
    ],
)
def test_statutory_cut_offs(label: str, start: date, end: date) -> None:
    p = periods.parse(label, cutoffs=periods.STATUTORY)
    assert (p.start, p.end) == (start, end)


@pytest.mark.parametrize("label", ["2026-13", "2026-00", "2026-Q5", "2026-Q0", "26-Q1", "2026-H2", "1999", "x", ""])
def test_bad_periods_are_refused(label: str) -> None:
    with pytest.raises(periods.PeriodError):
        periods.parse(label)


def test_a_form_can_be_excluded() -> None:
    with pytest.raises(periods.PeriodError):
        periods.parse("2026-H1", allow=frozenset({"month", "quarter", "year"}))


def test_months_of_a_period() -> None:
    assert periods.parse("2026-Q4").months() == [date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)]
    with pytest.raises(periods.PeriodError):
        periods.between(date(2026, 2, 1), date(2026, 1, 1))


@pytest.mark.parametrize(
    ("month", "mondays"),
    [(date(2026, 6, 1), 5), (date(2026, 1, 1), 4), (date(2026, 3, 1), 5), (date(2026, 2, 1), 4), (date(2026, 8, 1), 5)],
)
def test_weeks_are_attributed_to_the_month_of_their_monday(month: date, mondays: int) -> None:
    assert rules.mondays_in(month) == mondays


def test_a_commune_in_june_2026_needs_a_day_a_week_and_delegation_counts() -> None:
    june = rules.month_compliance(
        "commune", date(2026, 6, 1), in_person={date(2026, 6, 3)}, delegated={date(2026, 6, 3), date(2026, 6, 10)}
    )
    assert june is not None
    # Five Mondays in June 2026; the 3rd is counted once (in person), the 10th by delegation.
    assert (june.required, june.in_person_days, june.delegated_days, june.counted_days, june.shortfall) == (
        5,
        1,
        1,
        2,
        3,
    )
    assert june.delegation_counts


def test_from_july_2026_two_days_a_month_and_delegation_does_not_count() -> None:
    july = rules.month_compliance(
        "commune", date(2026, 7, 1), in_person={date(2026, 7, 2)}, delegated={date(2026, 7, 9)}
    )
    assert july is not None
    assert (july.required, july.counted_days, july.shortfall) == (2, 1, 1)
    assert not july.delegation_counts and "136/2025" in july.basis


def test_a_province_chair_needs_one_day_a_month_and_an_override_may_only_raise_it() -> None:
    may = rules.month_compliance("province", date(2026, 5, 1), in_person=set(), delegated=set(), override=(2, "month"))
    assert may is not None and may.required == 2
    lowered = rules.month_compliance(
        "commune", date(2026, 8, 1), in_person=set(), delegated=set(), override=(1, "month")
    )
    assert lowered is not None and lowered.required == 2  # below the law: the law applies
    assert rules.month_compliance("district", date(2026, 8, 1), in_person=set(), delegated=set()) is None


def test_online_notice_is_five_working_days_ahead() -> None:
    # Monday 7 December 2026: counting back five working days (Mon 7, Fri 4, Thu 3, Wed 2, Tue 1), the citizen must
    # be told by Monday 30 November.
    latest = rules.latest_online_notice(date(2026, 12, 7), CAL)
    assert latest == date(2026, 11, 30)
    assert CAL.working_days_between(latest, date(2026, 12, 7)) == 5


def test_online_notice_skips_tet() -> None:
    # Thursday 26 February 2026, after Tết (16–20 February off): the notice must go out by Thursday 12 February.
    assert rules.latest_online_notice(date(2026, 2, 26), CAL) == date(2026, 2, 12)


def test_written_refusal_is_due_in_three_working_days() -> None:
    # Refused on Friday 28 August 2026. Monday 31 August is off (swapped for Saturday 22 August), 1–2 September are
    # National Day: the three working days are Thursday 3, Friday 4 and Monday 7 September.
    assert rules.refusal_notice_due(date(2026, 8, 28), CAL) == date(2026, 9, 7)


def test_session_moves() -> None:
    assert rules.may_move("scheduled", "held") and rules.may_move("scheduled", "cancelled")
    assert not rules.may_move("held", "cancelled") and not rules.may_move("cancelled", "held")
    assert set(rules.REFUSAL_GROUNDS) == {"incapacitated", "threats_or_insults", "already_settled", "other_by_law"}


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("2026\r\n\r\n", "2026"),
        (" 2026-Q1 ", "2026-Q1"),
        ("\t2026-03\n", "2026-03"),
        ("2026-H1\r\n", "2026-H1"),
        ("2026-9M ", "2026-9M"),
    ],
)
def test_a_period_carries_its_canonical_label_not_the_typed_one(typed: str, canonical: str) -> None:
    """The label goes into file names (a response header), cache keys and stored reports as it is: whatever
    whitespace was typed around it, every spelling gives the one canonical label, with no line break."""
    for cutoffs in (None, periods.STATUTORY):
        p = periods.parse(typed, cutoffs=cutoffs)
        assert p == periods.parse(canonical, cutoffs=cutoffs)
        assert p.label == canonical and periods.form_of(p.label) is not None


@pytest.mark.parametrize("label", ["2026\nQ1", "2026-Q1\nx", "٢٠٢٦", "2026-Q١", "2026 -Q1"])
def test_a_label_with_anything_inside_it_or_other_digits_is_refused(label: str) -> None:
    with pytest.raises(periods.PeriodError):
        periods.parse(label)


def test_the_legal_date_of_an_instant_is_its_day_in_ha_noi() -> None:
    """A report stored at 17:30 UTC was sent at 00:30 the next day in Hà Nội: that is the day it counts on."""
    from datetime import UTC, date, datetime

    from api.clock import legal_date

    assert legal_date(datetime(2027, 6, 9, 17, 30, tzinfo=UTC)) == date(2027, 6, 10)
    assert legal_date(datetime(2027, 6, 9, 16, 59, tzinfo=UTC)) == date(2027, 6, 9)
