"""Issue 22, the legal second pass: worked examples on real dates through the API, each test naming its article.

Dates in 2027 (Tết 4–10 Feb, Hùng Kings Fri 16 Apr, 30/4–1/5 with Mon 3 May observed) are reached by fixing the
service's legal date (`api.clock.fixed_today`) after them, as the service only takes past dates.
"""

from datetime import date
from typing import Any

import pytest

from api import clock
from api.models.cases.schemas import NoticeIn
from tests.conftest import Api
from tests.helpers import V1, act, intake, timer
from workflows import deadlines as dl
from workflows.cases import Kind

HEAD, DESK = "tinh.chutich", "tinh.tiepdan"


@pytest.fixture
def mid_2027(monkeypatch: pytest.MonkeyPatch) -> date:
    """The service's legal date fixed at 30 June 2027, so that every 2027 date below is in the past."""
    day = date(2027, 6, 30)
    monkeypatch.setattr(clock, "fixed_today", day)
    return day


async def _notice(api: Api, case: dict[str, Any], name: str, sent_on: str, user: str = DESK) -> dict[str, Any]:
    r = await api.http.post(
        f"{V1}/cases/{case['id']}/notices",
        headers=await api.headers(user),
        json={"timer": name, "sent_on": sent_on, "recipients": "Người khiếu nại"},
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


# ---- 1. Notice timers (Decree 155/2026; LTC art. 29, 35, 40; LKN art. 32, 41) ----


def test_every_timer_the_engine_creates_is_a_period_or_a_notice_the_endpoint_accepts() -> None:
    """One list in workflows/: the engine's notification duties are exactly what POST /notices accepts."""
    made: set[str] = set()
    on = date(2026, 8, 3)
    for kind in Kind:
        for rnd in (1, 2):
            facts = dl.CaseFacts(kind=kind.value, complaint_round=rnd, competent_elsewhere=True)
            made |= {t.name for t in dl.intake_timers(facts, on)}
            made |= {t.name for t in dl.acceptance_timers(facts, on)}
            made |= {t.name for t in dl.resolution_timers(facts, on)}
            for duty in ("notify_suspension", "notify_resumption", "notify_termination"):
                made |= {t.name for t in dl.procedural_notice(duty, facts, on)}
    assert made <= dl.PERIOD_TIMERS | dl.NOTICE_TIMERS, made - dl.PERIOD_TIMERS - dl.NOTICE_TIMERS
    assert made & dl.NOTICE_TIMERS == dl.NOTICE_TIMERS  # every listed duty is one the engine really creates
    for name in dl.NOTICE_TIMERS:
        assert NoticeIn(timer=name, sent_on=on).timer == name
    with pytest.raises(ValueError, match="notification duty"):
        NoticeIn(timer="resolution", sent_on=on)


async def test_decree_155_suspension_resumption_and_termination_notices_are_met_on_their_real_dates_across_tet_2027(
    api: Api, mid_2027: date
) -> None:
    """Decree 155/2026/NĐ-CP: a complaint's suspension, resumption and termination decisions are sent within 3
    working days; the notice recorded with its real date meets the duty (met, or met_late after the due date)."""
    case = await intake(api, received_at="2027-01-25")
    case = await act(api, HEAD, case, "accept", effective_date="2027-02-01", decision_number="12/TB-TLKN")
    case = await act(
        api, HEAD, case, "suspend", effective_date="2027-02-03", reason="Chờ kết quả giám định", decision_number="3/QĐ"
    )
    # Wed 3 Feb 2027 + 3 working days: Thu 4 – Wed 10 Feb are Tết, so Thu 11, Fri 12, Mon 15 Feb.
    assert timer(case, "notify_suspension")["due_date"] == "2027-02-15"
    case = await _notice(api, case, "notify_suspension", "2027-02-15")
    assert timer(case, "notify_suspension")["status"] == "met"
    assert timer(case, "notify_suspension")["completed_on"] == "2027-02-15"
    r = await api.http.post(
        f"{V1}/cases/{case['id']}/notices",
        headers=await api.headers(DESK),
        json={"timer": "notify_suspension", "sent_on": "2027-02-16"},
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "no_such_notice"  # once

    case = await act(api, HEAD, case, "resume", effective_date="2027-04-13", decision_number="4/QĐ")
    # Tue 13 Apr + 3 working days: Wed 14, Thu 15, (Fri 16 Hùng Kings, weekend) Mon 19 Apr.
    assert timer(case, "notify_resumption")["due_date"] == "2027-04-19"
    r = await api.http.post(
        f"{V1}/cases/{case['id']}/notices",
        headers=await api.headers(DESK),
        json={"timer": "notify_resumption", "sent_on": "2027-04-12"},
    )
    assert r.status_code == 422 and r.json()["error"]["details"]["previous_step_date"] == "2027-04-13"
    case = await _notice(api, case, "notify_resumption", "2027-04-20")
    assert timer(case, "notify_resumption")["status"] == "met_late"

    case = await act(
        api, HEAD, case, "terminate", effective_date="2027-04-29", reason_code="nothing_to_resolve", decision_number="5"
    )
    # Thu 29 Apr + 3 working days: (30 Apr, 1 May, Sun, Mon 3 May observed) Tue 4, Wed 5, Thu 6 May.
    assert timer(case, "notify_termination")["due_date"] == "2027-05-06"
    assert timer(case, "notify_termination")["status"] == "overdue"  # not met until a notice is recorded
    case = await _notice(api, case, "notify_termination", "2027-05-06")
    assert timer(case, "notify_termination")["status"] == "met"
    assert not [t for t in case["timers"] if t["status"] in ("overdue", "running", "paused")]
