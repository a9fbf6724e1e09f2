"""Day counting (BLDS art. 147–148) on Vietnam's real 2026 calendar, with worked examples."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflows.calendar import Basis, WorkCalendar
from workflows.deadlines import CaseFacts, Timer, acceptance_timers, complete, extend, intake_timers, pause, resume

CAL = WorkCalendar()


def test_weekends_holidays_and_swapped_saturdays() -> None:
    assert CAL.is_working_day(date(2026, 11, 25))  # Wednesday
    assert not CAL.is_working_day(date(2026, 11, 28))  # Saturday
    assert not CAL.is_working_day(date(2026, 2, 17))  # Tết (1st day of the lunar year)
    assert not CAL.is_working_day(date(2026, 4, 27))  # Hùng Kings, observed Monday
    assert not CAL.is_working_day(date(2026, 11, 24))  # Vietnam Cultural Day, from 2026
    assert CAL.is_working_day(date(2026, 8, 22))  # Saturday swapped into a working day
    assert not CAL.is_working_day(date(2026, 8, 31))  # the day off it pays for


def test_complaint_received_30_june_vs_6_july_switches_the_acceptance_rule() -> None:
    # 30 June 2026: LKN art. 27, 10 calendar days → 10 July (Friday).
    before = intake_timers(CaseFacts("complaint"), date(2026, 6, 30))
    acc = next(t for t in before if t.name == "acceptance")
    assert (acc.basis, acc.days) == (Basis.calendar, 10)
    assert acc.due_date(CAL) == date(2026, 7, 10)
    # 6 July 2026: Law 136/2025, 7 working days → Tue 7 … Wed 15 July.
    after = intake_timers(CaseFacts("complaint"), date(2026, 7, 6))
    acc = next(t for t in after if t.name == "acceptance")
    assert (acc.basis, acc.days) == (Basis.working, 7)
    assert acc.due_date(CAL) == date(2026, 7, 15)


def test_complaint_received_10_february_2026_acceptance_rolls_past_tet() -> None:
    # 10 Feb + 10 days = Fri 20 Feb, the 4th day of Tết; Sat/Sun follow → Monday 23 Feb.
    acc = next(t for t in intake_timers(CaseFacts("complaint"), date(2026, 2, 10)) if t.name == "acceptance")
    assert acc.due_date(CAL) == date(2026, 2, 23)


def test_remote_complex_complaint_due_on_a_weekend_before_observed_hung_kings() -> None:
    # Accepted 24 Feb 2026; remote + complex 1st round = 60 days → Sat 25 April;
    # Sun 26 April is Hùng Kings, Mon 27 April its observed day off → Tuesday 28 April.
    facts = CaseFacts("complaint", complaint_round=1, complexity="complex", remote_area=True)
    res = acceptance_timers(facts, date(2026, 2, 24))[0]
    assert res.days == 60
    assert res.due_date(CAL) == date(2026, 4, 28)


def test_second_round_complaint_periods() -> None:
    for remote, complexity, days in [
        (False, "normal", 45),
        (False, "complex", 60),
        (True, "normal", 60),
        (True, "especially_complex", 70),
    ]:
        facts = CaseFacts("complaint", complaint_round=2, complexity=complexity, remote_area=remote)
        assert acceptance_timers(facts, date(2026, 3, 2))[0].days == days


def test_denunciation_seven_working_days_across_30_april_and_1_may() -> None:
    # Received Tue 28 April 2026: 29 Apr (1), 30 Apr & 1 May off, weekend, 4–8 May (2–6), Mon 11 May (7).
    acc = next(t for t in intake_timers(CaseFacts("denunciation"), date(2026, 4, 28)) if t.name == "acceptance")
    assert acc.due_date(CAL) == date(2026, 5, 11)
    multi = next(
        t
        for t in intake_timers(CaseFacts("denunciation", multi_place_verification=True), date(2026, 4, 28))
        if t.name == "acceptance"
    )
    assert multi.days == 10 and multi.due_date(CAL) == date(2026, 5, 14)


def test_working_saturday_22_august_2026_counts() -> None:
    # Received Thu 20 Aug: Fri 21 (1), Sat 22 working (2), 24–28 Aug (3–7) → Friday 28 August.
    acc = next(t for t in intake_timers(CaseFacts("denunciation"), date(2026, 8, 20)) if t.name == "acceptance")
    assert acc.due_date(CAL) == date(2026, 8, 28)


def test_admin_override_adds_a_day_off() -> None:
    cal = WorkCalendar(extra_days_off=[date(2026, 8, 28)])
    acc = next(t for t in intake_timers(CaseFacts("denunciation"), date(2026, 8, 20)) if t.name == "acceptance")
    assert acc.due_date(cal) == date(2026, 9, 3)  # 31 Aug, 1–2 Sep are days off


def test_suspension_of_ten_days_moves_the_due_date() -> None:
    timer = acceptance_timers(CaseFacts("denunciation"), date(2026, 3, 2))[0]  # resolution, 30 days
    assert timer.due_date(CAL) == date(2026, 4, 1)
    paused = pause([timer], date(2026, 3, 10))
    assert paused[0].status(CAL, date(2026, 4, 15)) == "paused"
    resumed = resume(paused, date(2026, 3, 20))[0]
    assert resumed.paused_days == 10
    assert resumed.due_date(CAL) == date(2026, 4, 13)  # 1 April + 10 = Sat 11 → Monday 13 April


def test_two_extensions_of_a_denunciation() -> None:
    timers = acceptance_timers(CaseFacts("denunciation", complexity="especially_complex"), date(2026, 3, 2))
    once = extend(timers, "resolution", 30)
    twice = extend(once, "resolution", 30)
    assert once[0].due_date(CAL) == date(2026, 5, 4)  # 2 Mar + 60 = Fri 1 May (holiday) → Mon 4 May
    assert twice[0].due_date(CAL) == date(2026, 5, 31) + timedelta(days=1)  # 2 Mar + 90 = Sun 31 May → 1 Jun


def test_status_met_late_and_overdue() -> None:
    timer = intake_timers(CaseFacts("petition"), date(2026, 11, 2))[0]  # processing, 10 working days
    due = timer.due_date(CAL)
    assert due == date(2026, 11, 16)  # Mon 2 Nov + 10 working days
    assert timer.status(CAL, due) == "running"
    assert timer.remaining_days(CAL, date(2026, 11, 13)) == 1  # Friday: only Monday left
    assert timer.status(CAL, due + timedelta(days=1)) == "overdue"
    assert complete([timer], None, due)[0].status(CAL, date(2027, 1, 1)) == "met"
    assert complete([timer], None, due + timedelta(days=1))[0].status(CAL, date(2027, 1, 1)) == "met_late"


def test_timer_round_trips_through_json() -> None:
    timer = pause(acceptance_timers(CaseFacts("complaint"), date(2026, 3, 2)), date(2026, 3, 5))[0]
    assert Timer.from_dict(timer.to_dict()) == timer


@given(
    start=st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31)),
    n=st.integers(0, 120),
    basis=st.sampled_from(list(Basis)),
)
def test_due_date_is_a_working_day_not_before_the_start_and_monotonic(start: date, n: int, basis: Basis) -> None:
    due = CAL.add(start, n, basis)
    assert CAL.is_working_day(due) or (basis is Basis.working and n == 0)
    assert due >= start
    assert CAL.add(start, n + 1, basis) >= due
    if n > 0:
        assert due > start


def test_processing_across_the_new_24_november_holiday() -> None:
    # Received Fri 13 Nov 2026: 16–20 (5), 23 (6), 24 Nov off, 25–27 (7–9), Mon 30 Nov (10).
    timer = intake_timers(CaseFacts("feedback"), date(2026, 11, 13))[0]
    assert timer.due_date(CAL) == date(2026, 11, 30)


def test_subtract_working_days_inverts_counting() -> None:
    due = date(2026, 5, 11)
    start = CAL.subtract_working_days(due, 3)
    assert CAL.working_days_between(start, due) == 3
    assert start == date(2026, 5, 6)


def test_sweep_warns_once_then_breaches_once() -> None:
    from workflows.deadlines import next_alert, sweep

    timers = intake_timers(CaseFacts("denunciation"), date(2026, 4, 28))  # acceptance due Mon 11 May
    acc_due = date(2026, 5, 11)
    # Acceptance is due soon from Wed 6 May (6, 7, 8 … 11 May: 3 working days left); processing
    # (due Thu 14 May) only from Mon 11 May.
    assert next_alert(timers, CAL, 3) == date(2026, 5, 6)
    timers, alerts = sweep(timers, CAL, date(2026, 5, 7), 3)
    assert {(a.timer, a.kind) for a in alerts} == {("acceptance", "due_soon")}
    again, alerts = sweep(timers, CAL, date(2026, 5, 8), 3)
    assert [a for a in alerts if a.timer == "acceptance"] == []
    late, alerts = sweep(again, CAL, acc_due + timedelta(days=1), 3)
    assert ("acceptance", "overdue") in {(a.timer, a.kind) for a in alerts}
    _, alerts = sweep(late, CAL, acc_due + timedelta(days=5), 3)
    assert [a for a in alerts if a.timer == "acceptance"] == []


def test_an_extension_re_arms_the_alerts() -> None:
    from workflows.deadlines import sweep

    timers = acceptance_timers(CaseFacts("denunciation", complexity="complex"), date(2026, 3, 2))
    late, alerts = sweep(timers, CAL, date(2026, 4, 3), 3)
    assert ("resolution", "overdue") in {(a.timer, a.kind) for a in alerts}
    extended = extend(late, "resolution", 30)
    res = next(t for t in extended if t.name == "resolution")
    assert not res.breached and res.status(CAL, date(2026, 4, 3)) == "running"


def test_a_denunciation_received_by_a_unit_without_competence_must_be_transferred_in_5_working_days() -> None:
    timers = intake_timers(CaseFacts("denunciation", competent_elsewhere=True), date(2026, 4, 28))
    transfer = next(t for t in timers if t.name == "transfer")
    # Wed 29 Apr (1), 30 Apr and 1 May off, 4–7 May (2–5) → Thursday 7 May.
    assert (transfer.basis, transfer.days) == (Basis.working, 5)
    assert transfer.due_date(CAL) == date(2026, 5, 7)
    assert "transfer" not in {
        t.name for t in intake_timers(CaseFacts("complaint", competent_elsewhere=True), date(2026, 4, 28))
    }


@given(
    timer=st.builds(
        Timer,
        name=st.sampled_from(["processing", "acceptance", "resolution", "transfer"]),
        basis=st.sampled_from(list(Basis)),
        days=st.integers(1, 90),
        start_date=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
        legal_basis=st.text(max_size=40),
        extended_days=st.integers(0, 60),
        paused_days=st.integers(0, 60),
        paused_since=st.none() | st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
        completed_on=st.none() | st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
        warned=st.booleans(),
        breached=st.booleans(),
    ),
    warned=st.booleans(),
    breached=st.booleans(),
)
def test_a_stored_timer_reads_back_as_the_same_timer_and_flags_like_replace(
    timer: Timer, warned: bool, breached: bool
) -> None:
    """The fast paths of reading a stored timer and of flagging it (the sweep's) make the very timer the dataclass
    constructor and `dataclasses.replace` make: equal, same hash and repr, still frozen."""
    import json
    from dataclasses import FrozenInstanceError, replace

    back = Timer.from_dict(json.loads(json.dumps(timer.to_dict())))
    assert back == timer and hash(back) == hash(timer) and repr(back) == repr(timer)
    flagged = timer.flagged(warned=warned, breached=breached)
    assert flagged == replace(timer, warned=warned, breached=breached) and repr(flagged) == repr(
        replace(timer, warned=warned, breached=breached)
    )
    with pytest.raises(FrozenInstanceError):
        flagged.warned = not warned  # type: ignore[misc]


def test_timer_dict_carries_every_field() -> None:
    from dataclasses import fields

    timer = intake_timers(CaseFacts("complaint"), date(2026, 3, 2))[0]
    assert set(timer.to_dict()) == {f.name for f in fields(Timer)}


@given(
    ops=st.lists(st.tuples(st.sampled_from(["pause", "resume", "extend", "complete"]), st.integers(0, 40)), max_size=8),
    start=st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 6, 30)),
)
def test_timer_operations_keep_their_invariants(ops: list[tuple[str, int]], start: date) -> None:
    timers = acceptance_timers(CaseFacts("denunciation", complexity="especially_complex"), start)
    day = start
    for op, gap in ops:
        day += timedelta(days=gap)
        before = timers
        if op == "pause":
            timers = pause(timers, day)
        elif op == "resume":
            timers = resume(timers, day)
        elif op == "extend":
            timers = extend(timers, "resolution", 30)
        else:
            timers = complete(timers, None, day)
        for old, new in zip(before, timers, strict=True):
            if old.completed_on is not None:
                assert new == old  # a finished timer never changes
        for t in timers:
            due = t.due_date(CAL)
            assert due > t.start_date and CAL.is_working_day(due)
            assert t.paused_days >= 0
            if t.completed_on is None and t.paused_since is None:
                assert t.status(CAL, day) in {"running", "overdue"}


def test_each_round_decision_carries_its_sending_duty() -> None:
    from workflows.deadlines import resolution_timers

    first = resolution_timers(CaseFacts("complaint", complaint_round=1), date(2026, 4, 28))
    assert [(t.name, t.basis, t.days) for t in first] == [("send_decision", Basis.working, 3)]
    assert first[0].due_date(CAL) == date(2026, 5, 5)  # Wed 29 Apr (1), 30 Apr and 1 May off, 4 (2), 5 May (3)
    second = resolution_timers(CaseFacts("complaint", complaint_round=2), date(2026, 4, 28))
    assert [(t.name, t.basis, t.days) for t in second] == [("send_decision", Basis.working, 7)]
    assert "art. 41" in second[0].legal_basis
    assert second[0].due_date(CAL) == date(2026, 5, 11)  # 29 Apr, 4–8 May, 11 May: the 7th working day


def test_suspended_days_are_added_to_the_period_before_its_end_rolls_once() -> None:
    timer = acceptance_timers(CaseFacts("denunciation"), date(2026, 9, 3))[0]  # resolution, 30 calendar days
    assert timer.due_date(CAL) == date(2026, 10, 5)  # 3 Oct is a Saturday: the end rolls to Monday
    resumed = resume(pause([timer], date(2026, 9, 10)), date(2026, 9, 12))[0]  # suspended two days
    # 3 Sep + 30 + 2 = Mon 5 Oct; rolling first (to 5 Oct) and adding afterwards would give 7 Oct.
    assert resumed.paused_days == 2 and resumed.due_date(CAL) == date(2026, 10, 5)


def test_only_the_resolution_period_is_suspended_and_working_days_pause_as_working_days() -> None:
    timers = acceptance_timers(CaseFacts("denunciation"), date(2026, 9, 3))  # resolution + notify_acceptance
    paused = pause(timers, date(2026, 9, 4))
    assert [t.paused_since is not None for t in paused] == [True, False]  # the notification duty keeps running
    processing = intake_timers(CaseFacts("petition"), date(2026, 11, 2))[0]  # 10 working days: due 16 Nov
    held = resume(pause([processing], date(2026, 11, 6), names=frozenset({"processing"})), date(2026, 11, 10), CAL)
    assert held[0].paused_days == 2  # Mon 9 and Tue 10 Nov; the weekend is not a working day
    assert held[0].due_date(CAL) == date(2026, 11, 18)


# The statutory days off as the Government fixed them (Tết, Hùng Kings, 30/4–1/5, National Day, 24/11 from 2026)
# and the swapped Saturday. A release of `holidays` that moved any of them would move due dates: the pin in
# pyproject.toml stops that, and this test makes a bump that changes a year fail until it is handled as a
# calendar change (an admin override, with its recomputation and `deadlines_recomputed` events).
STATUTORY = {
    2026: (
        [
            "2026-01-01",
            "2026-02-16",
            "2026-02-17",
            "2026-02-18",
            "2026-02-19",
            "2026-02-20",
            "2026-04-27",
            "2026-04-30",
            "2026-05-01",
            "2026-08-31",
            "2026-09-01",
            "2026-09-02",
            "2026-11-24",
        ],
        ["2026-08-22"],
    ),
    2027: (
        [
            "2027-01-01",
            "2027-02-04",
            "2027-02-05",
            "2027-02-08",
            "2027-02-09",
            "2027-02-10",
            "2027-04-16",
            "2027-04-30",
            "2027-05-03",
            "2027-09-02",
            "2027-09-03",
            "2027-11-24",
        ],
        [],
    ),
}


def test_the_pinned_calendar_keeps_the_statutory_days_off() -> None:
    for year, (days_off, working) in STATUTORY.items():
        assert [d.isoformat() for d, _ in CAL.days_off(year)] == days_off, year
        assert [d.isoformat() for d in CAL.swapped_working_days(year)] == working, year
