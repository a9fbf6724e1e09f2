"""Audit of issue 25 (Thanh tra tỉnh's own work). Each test states what the law, the plan or the issue asks; a failing
test is a finding. Builds on tests/test_inspections.py's helpers (its `today` fixture is imported, hence F811)."""
# ruff: noqa: F811

import io
import json
from datetime import date
from typing import Any

import httpx
import openpyxl
import sqlalchemy as sa

from api.models.reception import ReceptionSession
from api.models.unit import Unit
from tests.conftest import Api
from tests.helpers import V1
from tests.test_inspections import (  # noqa: F401 - the `today` fixture
    CHIEF,
    COMMUNE,
    HEAD,
    INSPECTOR,
    _at,
    _concluded_inspection,
    call,
    today,
    unit_id,
)
from tests.test_stats import _case
from workflows import inspections as flow
from workflows.calendar import WorkCalendar

D = date


async def _running_inspection(api: Api, today: Any, unit: int, period: str = "2026") -> dict[str, Any]:
    today(D(2027, 1, 10))
    insp = await call(api, INSPECTOR, "POST", "/inspections", 201, json={"unit_id": unit, "review_period": period})
    team = {"decision_number": "1/QĐ", "decision_date": "2027-01-04", "members": [{"full_name": "Cán bộ mời"}]}
    await call(api, INSPECTOR, "POST", f"/inspections/{insp['id']}/decision", json=team)
    await call(api, INSPECTOR, "POST", f"/inspections/{insp['id']}/start", json={"start_date": "2027-01-05"})
    return dict(insp)


async def _figures(api: Api, insp: dict[str, Any], who: str = INSPECTOR) -> dict[str, dict[str, Any]]:
    ev = await call(api, who, "GET", f"/inspections/{insp['id']}/evaluation")
    return {f["key"]: f for f in ev["figures"]}


async def _exact(api: Api, fig: dict[str, Any]) -> bool:
    """A figure's link lists exactly what it counts; or it has none (no list reproduces the count) and names its
    source instead."""
    if fig["link"] is None:
        return bool(fig["source"])
    return bool(fig["value"] == await _link_count(api, fig["link"]))


async def _link_count(api: Api, link: str) -> int:
    """How many items the figure's link returns (every page). The link's own filters are kept: httpx's `params`
    would replace the link's query string, not add to it."""
    n, cursor = 0, None
    while True:
        params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        url = httpx.URL(link).copy_merge_params(params)
        r = await api.http.get(url, headers=await api.headers(INSPECTOR))
        assert r.status_code == 200, r.text
        body = r.json()
        n += len(body["items"])
        cursor = body.get("next_cursor")
        if not cursor:
            return n


# ---- 1. Figures and their links ----


async def test_f1_letters_received_link_returns_the_letters_counted(api: Api, today: Any) -> None:
    """02/XLD counts a letter for the unit that RECEIVED it; the link `/cases?unit_id=` filters by the COMPETENT
    unit. A letter the commune received and transferred to a department is counted, but not in the link; a letter
    transferred in is in the link but not counted."""
    commune = await unit_id(api, COMMUNE)
    dept = await unit_id(api, "15-STP")
    await _case(api, dept, D(2026, 5, 4), receiving=commune, processed_on=D(2026, 5, 6), processed_as="transfer")
    await _case(api, commune, D(2026, 6, 4), receiving=dept, processed_on=D(2026, 6, 6), processed_as="accept")
    insp = await _running_inspection(api, today, commune)
    fig = (await _figures(api, insp))["letters_received"]
    assert await _exact(api, fig), fig


async def test_f2_own_figures_link_to_the_items_they_count(api: Api, today: Any) -> None:
    """`extensions`, `suspensions`, `suspended_days`, `repeat_letters`, `letters_processed_*` all link to the same
    list of every letter received in the period: the link does not return the counted items."""
    commune = await unit_id(api, COMMUNE)
    first = await _case(api, commune, D(2026, 3, 2))
    await _case(api, commune, D(2026, 4, 2), repeat_of_case_id=first)
    insp = await _running_inspection(api, today, commune)
    fig = (await _figures(api, insp))["repeat_letters"]
    assert fig["value"] == 1
    assert await _exact(api, fig), fig


async def test_f3_overdue_at_end_does_not_count_a_matter_due_after_the_end(api: Api, today: Any) -> None:
    """A complaint due 20/12/2026 (after the 2026 cut-off 14/12) and settled late on 28/12 was not overdue at the end
    of the period (LEGAL.md: overdue from the day after the due date); `overdue_at_end` counts it anyway."""
    commune = await unit_id(api, COMMUNE)
    await _case(api, commune, D(2026, 11, 10), status="resolved", accepted_on=D(2026, 11, 20),
                settled_on=D(2026, 12, 28), outcome="correct", resolution_late=True,
                next_due_date=D(2026, 12, 20))  # fmt: skip
    insp = await _running_inspection(api, today, commune)
    figs = await _figures(api, insp)
    assert figs["overdue_at_end"]["value"] == 0


async def test_f4_overdue_at_end_links_to_what_it_counts(api: Api, today: Any) -> None:
    """The link of `overdue_at_end` is `/cases?overdue=true` — overdue TODAY, without the period — not the matters
    overdue at the end of the period under review."""
    commune = await unit_id(api, COMMUNE)
    await _case(api, commune, D(2026, 10, 1), status="in_progress", accepted_on=D(2026, 10, 5),
                next_due_date=D(2026, 11, 4))  # fmt: skip
    await _case(api, commune, D(2026, 12, 20), status="in_progress", accepted_on=D(2026, 12, 21),
                next_due_date=D(2027, 1, 5))  # fmt: skip  # after the period; overdue today (10/01/2027)
    insp = await _running_inspection(api, today, commune)
    fig = (await _figures(api, insp))["overdue_at_end"]
    assert fig["value"] == 1
    assert await _exact(api, fig), fig


async def test_f5_suspended_days_are_those_of_the_period(api: Api, today: Any) -> None:
    """`suspended_days` sums each case's whole `paused_days`, whatever period the pause fell in: a complaint paused
    30 days in 2025-11 and settled in the 2026 period shows 30 suspended days and 0 suspensions for 2026."""
    commune = await unit_id(api, COMMUNE)
    timer = {"name": "resolution", "basis": "calendar", "start_date": "2025-10-01", "due_date": "2025-12-30",
             "status": "met", "paused_days": 30}  # fmt: skip
    case = await _case(api, commune, D(2025, 9, 25), status="resolved", accepted_on=D(2025, 10, 1),
                       settled_on=D(2025, 12, 20), outcome="correct")  # fmt: skip
    await api.session.execute(sa.text("UPDATE cases SET timers = CAST(:t AS jsonb) WHERE id = :id"),
                              {"t": json.dumps([timer]), "id": case})  # fmt: skip
    insp = await _running_inspection(api, today, commune)
    figs = await _figures(api, insp)
    assert (figs["suspensions"]["value"], figs["suspended_days"]["value"]) == (0, 0)


async def test_f5b_a_suspension_across_the_period_end_counts_its_days_inside(api: Api, today: Any) -> None:
    """M2: suspended 10/11/2026, resumed 20/11 (10 days); a second one from 10/12 still running: 5 days to 14/12."""
    from tests.helpers import act, intake

    today(D(2026, 12, 12))
    case = await intake(api, received_at="2026-11-02")
    case = await act(api, "tinh.chutich", case, "accept", effective_date="2026-11-04", decision_number="1")
    case = await act(api, "tinh.chutich", case, "suspend", effective_date="2026-11-10", reason="Chờ giám định",
                     decision_number="9/QĐ")  # fmt: skip
    case = await act(api, "tinh.chutich", case, "resume", effective_date="2026-11-20", decision_number="10/QĐ")
    case = await act(api, "tinh.chutich", case, "suspend", effective_date="2026-12-10", reason="Chờ giám định",
                     decision_number="11/QĐ")  # fmt: skip
    province = await api.session.scalar(sa.select(Unit.id).where(Unit.parent_id.is_(None)).order_by(Unit.id))
    insp = await _running_inspection(api, today, province)
    figs = await _figures(api, insp)
    assert (figs["suspensions"]["value"], figs["suspended_days"]["value"]) == (2, 15)


async def test_f6_head_reception_days_and_sessions_cover_the_same_period(api: Api, today: Any) -> None:
    """`head_sessions` (01/TCD, 15/12/2025–14/12/2026) and `reception_days_in_person` (calendar 2026) are two windows
    under one label: a session the chair held in person on 20/12/2026 is 0 in one and 1 in the other."""
    commune = await unit_id(api, COMMUNE)
    creator = (await api.user("xa.tiepdan")).id
    day = D(2026, 12, 20)
    api.session.add(ReceptionSession(unit_id=commune, kind="periodic", mode="direct", in_person=True, status="held",
                                     starts_at=_at(day), ends_at=_at(day, 11), day=day, location="UBND",
                                     created_by_id=creator))  # fmt: skip
    await api.session.flush()
    insp = await _running_inspection(api, today, commune)
    figs = await _figures(api, insp)
    # Two windows, each stated on its figure and in its label (the finding's alternative remedy): 01/TCD's statutory
    # year for the sessions, the calendar months of the duty for the reception days.
    head, days = figs["head_sessions"], figs["reception_days_in_person"]
    assert (head["start"], head["end"], head["value"]) == ("2025-12-15", "2026-12-14", 0)
    assert (days["start"], days["end"], days["value"]) == ("2026-01-01", "2026-12-31", 1)
    assert "01/2026 – 12/2026" in days["label"]


# ---- 2. Dates ----


def test_d1_a_deadline_on_a_tet_holiday_runs_to_the_next_working_day() -> None:
    """BLDS art. 148 (LEGAL.md): when the last day is a day off the period ends at the end of the next working day.
    A recommendation due Friday 05/02/2027 (Tết: 04–10/02) is overdue from Tuesday 09/02, while the office is shut."""
    cal = WorkCalendar()
    timer = flow.RecommendationTimer(D(2027, 2, 5), None)
    assert timer.state(cal, D(2027, 2, 9), 3) is not flow.TimerState.overdue
    assert timer.effective(cal) == D(2027, 2, 11)  # Thursday, the first working day after Tết
    assert timer.state(cal, D(2027, 2, 11), 3) is flow.TimerState.due_soon
    assert timer.state(cal, D(2027, 2, 12), 3) is flow.TimerState.overdue
    assert flow.RecommendationTimer(D(2027, 2, 5), D(2027, 2, 11)).state(cal, D(2027, 3, 1), 3) is flow.TimerState.met
    # Reported and waiting for the inspectorate: neither overdue nor due soon, whatever today is.
    waiting = flow.RecommendationTimer(D(2027, 2, 5), None, D(2027, 2, 1))
    assert (
        waiting.state(cal, D(2027, 3, 1), 3) is flow.TimerState.reported
        and waiting.remaining_days(cal, D(2027, 3, 1)) is None
    )
    late = flow.RecommendationTimer(D(2027, 2, 5), None, D(2027, 2, 15))
    assert late.state(cal, D(2027, 3, 1), 3) is flow.TimerState.reported_late


def test_d1b_the_lists_use_the_timers_rule_every_day_of_a_year() -> None:
    """The watch-list and the due-soon list filter by a range of nominal deadlines; for every day of 2027 and every
    deadline near it, the range says what the item's own timer says."""
    cal = WorkCalendar()
    day = D(2027, 1, 1)
    while day.year == 2027:
        last = flow.latest_deadline_before(cal, day)
        lo, hi = flow.due_soon_deadlines(cal, day, 3)
        for offset in range(-20, 21):
            deadline = D.fromordinal(day.toordinal() + offset)
            state = flow.RecommendationTimer(deadline, None).state(cal, day, 3)
            assert (state is flow.TimerState.overdue) == (deadline <= last), (day, deadline)
            assert (state is flow.TimerState.due_soon) == (lo <= deadline <= hi), (day, deadline)
        day = D.fromordinal(day.toordinal() + 1)


async def test_d1c_a_deadline_on_a_day_off_is_not_on_the_watch_list_before_the_next_working_day(
    api: Api, today: Any
) -> None:
    commune = await unit_id(api, COMMUNE)
    insp = await _running_inspection(api, today, commune)
    body = {"number": "2/KL", "conclusion_date": "2027-01-10", "text": "Kết luận",
            "recommendations": [{"unit_id": commune, "action": "Chấn chỉnh", "deadline": "2027-02-05"}]}  # fmt: skip
    await call(api, INSPECTOR, "PUT", f"/inspections/{insp['id']}/conclusion", json=body)
    rec = (await call(api, CHIEF, "POST", f"/inspections/{insp['id']}/conclusion/sign"))["recommendations"][0]
    today(D(2027, 2, 11))
    assert (await call(api, INSPECTOR, "GET", "/recommendations", params={"state": "overdue"}))["items"] == []
    assert (await call(api, INSPECTOR, "POST", "/recommendations/urge", json={"unit_id": commune}))["urged"] == 0
    soon = await call(api, INSPECTOR, "GET", "/recommendations", params={"state": "due_soon"})
    assert [(r["id"], r["timer"]["effective_deadline"]) for r in soon["items"]] == [(rec["id"], "2027-02-11")]
    today(D(2027, 2, 12))
    late = await call(api, INSPECTOR, "GET", "/recommendations", params={"state": "overdue"})
    assert [r["id"] for r in late["items"]] == [rec["id"]]


async def test_d2_review_period_must_have_ended_and_precede_the_plan(api: Api, today: Any) -> None:
    """A 2027 plan may put a unit's 2030 records under review (and an inspection outside the plan likewise): the
    evaluation then counts a period that has not happened."""
    commune = await unit_id(api, COMMUNE)
    today(D(2026, 12, 10))
    body = {"year": 2027, "title": "KH", "items": [{"unit_id": commune, "review_period": "2030", "planned_month": 3}]}
    r = await api.http.post(f"{V1}/inspection-plans", json=body, headers=await api.headers(INSPECTOR))
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "review_period_after_plan"
    # Review 2026 (to 14/12/2026) may not be inspected in December 2026 either; January 2027 is fine.
    body = {"year": 2026, "title": "KH", "items": [{"unit_id": commune, "review_period": "2026", "planned_month": 12}]}
    r = await api.http.post(f"{V1}/inspection-plans", json=body, headers=await api.headers(INSPECTOR))
    assert (r.status_code, r.json()["error"]["code"]) == (422, "review_period_after_plan")


async def test_d3_an_amendment_is_not_dated_before_the_approval_it_amends(api: Api, today: Any) -> None:
    commune = await unit_id(api, COMMUNE)
    today(D(2026, 12, 10))
    body = {"year": 2027, "title": "KH", "items": [{"unit_id": commune, "review_period": "2026", "planned_month": 3}]}
    plan = await call(api, INSPECTOR, "POST", "/inspection-plans", 201, json=body)
    await call(api, CHIEF, "POST", f"/inspection-plans/{plan['id']}/approve",
               json={"decision_number": "150/QĐ", "decision_date": "2026-12-10"})  # fmt: skip
    amend = {"decision_number": "1/QĐ", "decision_date": "2020-01-01", "reason": "x",
             "reschedule": [{"item_id": plan["items"][0]["id"], "planned_month": 9}]}  # fmt: skip
    r = await api.http.post(f"{V1}/inspection-plans/{plan['id']}/amendments", json=amend,
                            headers=await api.headers(CHIEF))  # fmt: skip
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "date_before_previous_step"
    today(D(2026, 12, 20))
    await call(api, CHIEF, "POST", f"/inspection-plans/{plan['id']}/amendments", 201,
               json={**amend, "decision_date": "2026-12-18"})  # fmt: skip
    earlier = await call(api, CHIEF, "POST", f"/inspection-plans/{plan['id']}/amendments", 422,
                         json={**amend, "decision_date": "2026-12-15"})  # fmt: skip
    assert earlier["error"]["details"]["not_before"] == "2026-12-18"


async def test_d4_a_plan_is_not_approved_years_before_its_year(api: Api, today: Any) -> None:
    commune = await unit_id(api, COMMUNE)
    today(D(2026, 12, 10))
    body = {"year": 2027, "title": "KH", "items": [{"unit_id": commune, "review_period": "2026", "planned_month": 3}]}
    plan = await call(api, INSPECTOR, "POST", "/inspection-plans", 201, json=body)
    r = await api.http.post(f"{V1}/inspection-plans/{plan['id']}/approve",
                            json={"decision_number": "1/QĐ", "decision_date": "2001-01-01"},
                            headers=await api.headers(CHIEF))  # fmt: skip
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "plan_approval_date_out_of_range"
    # The year before the plan's is the usual case.
    await call(api, CHIEF, "POST", f"/inspection-plans/{plan['id']}/approve",
               json={"decision_number": "1/QĐ", "decision_date": "2026-01-02"})  # fmt: skip


async def test_d5_a_team_decision_is_not_before_the_plan_approving_it(api: Api, today: Any) -> None:
    commune = await unit_id(api, COMMUNE)
    today(D(2026, 12, 10))
    body = {"year": 2027, "title": "KH", "items": [{"unit_id": commune, "review_period": "2026", "planned_month": 3}]}
    plan = await call(api, INSPECTOR, "POST", "/inspection-plans", 201, json=body)
    await call(api, CHIEF, "POST", f"/inspection-plans/{plan['id']}/approve",
               json={"decision_number": "150/QĐ", "decision_date": "2026-12-10"})  # fmt: skip
    insp = await call(api, INSPECTOR, "POST", "/inspections", 201, json={"plan_item_id": plan["items"][0]["id"]})
    team = {"decision_number": "1/QĐ", "decision_date": "2003-01-01", "members": [{"full_name": "Cán bộ mời"}]}
    r = await api.http.post(f"{V1}/inspections/{insp['id']}/decision", json=team, headers=await api.headers(INSPECTOR))
    assert r.status_code == 422, r.text


async def test_d6_a_future_period_cannot_be_frozen(api: Api, today: Any) -> None:
    """The report to Sở Nội vụ is stored once per period and can never be changed or deleted (REVOKE UPDATE,
    DELETE): freezing `2030` in 2027 (a typo) blocks the real 2030 report for ever."""
    today(D(2027, 6, 8))
    r = await api.http.post(f"{V1}/stats/inspectorate-report/submissions", json={"period": "2030"},
                            headers=await api.headers(CHIEF))  # fmt: skip
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "inspectorate_period_not_started"


async def test_d6b_a_report_before_the_period_ends_is_frozen_only_as_provisional(api: Api, today: Any) -> None:
    """Before the data window closes (2027-H1: 14/06) the report is refused unless marked provisional; marked, it is
    stored as provisional and says so. After the window it is final, and late past its due date (10/06)."""
    today(D(2027, 6, 12))
    r = await api.http.post(f"{V1}/stats/inspectorate-report/submissions", json={"period": "2027-H1"},
                            headers=await api.headers(CHIEF))  # fmt: skip
    assert (r.status_code, r.json()["error"]["code"]) == (422, "inspectorate_period_not_ended")
    sub = await call(api, CHIEF, "POST", "/stats/inspectorate-report/submissions", 201,
                     json={"period": "2027-H1", "provisional": True})  # fmt: skip
    assert (sub["provisional"], sub["figures"]["provisional"], sub["due_date"], sub["late"]) == (
        True, True, "2027-06-10", True)  # fmt: skip
    today(D(2027, 12, 20))
    final = await call(api, CHIEF, "POST", "/stats/inspectorate-report/submissions", 201, json={"period": "2027"})
    assert (final["provisional"], final["due_date"], final["late"]) == (False, "2027-12-05", True)


# ---- 3. The course and roles ----


async def test_r1_the_inspected_head_does_not_read_the_draft_findings(api: Api, today: Any) -> None:
    """The inspected unit does not see the draft (docs step 7). The evaluation shows the head the inspector's
    findings and ratings while the inspection is still in progress, before any conclusion is issued."""
    commune = await unit_id(api, COMMUNE)
    insp = await _running_inspection(api, today, commune)
    await call(
        api,
        INSPECTOR,
        "PUT",
        f"/inspections/{insp['id']}/evaluation",
        json={"findings": [{"area": "complaints", "rating": "below", "text": "Chưa đạt: nội bộ đoàn"}]},
    )
    seen = await call(api, HEAD, "GET", f"/inspections/{insp['id']}/evaluation")
    assert seen["findings"] == [], seen["findings"]
    body = {"number": "1/KL", "conclusion_date": "2027-01-10", "text": "KL", "recommendations": []}
    await call(api, INSPECTOR, "PUT", f"/inspections/{insp['id']}/conclusion", json=body)
    await call(api, CHIEF, "POST", f"/inspections/{insp['id']}/conclusion/sign")
    seen = await call(api, HEAD, "GET", f"/inspections/{insp['id']}/evaluation")
    assert [f["rating"] for f in seen["findings"]] == ["below"]  # issued: the unit reads them


async def test_r2_a_reported_recommendation_is_not_urged_as_overdue(api: Api, today: Any) -> None:
    """The unit reported the work done before the deadline; the inspectorate has not yet decided. The watch-list
    calls it overdue and the unit is urged for the inspectorate's own delay."""
    commune = await unit_id(api, COMMUNE)
    insp, rec = await _concluded_inspection(api, today, commune)  # deadline 2027-02-01
    today(D(2027, 1, 25))
    await call(api, HEAD, "POST", f"/recommendations/{rec['id']}/reports", 201,
               json={"done_on": "2027-01-20", "document_ref": "5/BC", "text": "Đã xong"})  # fmt: skip
    today(D(2027, 2, 10))
    listed = await call(api, INSPECTOR, "GET", "/recommendations", params={"state": "overdue"})
    urged = await call(api, INSPECTOR, "POST", "/recommendations/urge", json={"unit_id": commune})
    assert ([r["id"] for r in listed["items"]], urged["urged"]) == ([], 0)
    own = await call(api, INSPECTOR, "GET", f"/recommendations/{rec['id']}")
    assert (own["timer"]["state"], own["timer"]["reported_on"]) == ("reported", "2027-01-20")
    # The report of 2027-H1 does not count it overdue: reported (20/01) before its deadline (01/02).
    today(D(2027, 6, 20))
    assert (await call(api, INSPECTOR, "GET", "/stats/inspectorate-report",
                       params={"period": "2027-H1"}))["counts"]["recommendations_overdue"] == 0  # fmt: skip


async def test_r3_duplicate_units_in_a_plan_are_refused(api: Api, today: Any) -> None:
    commune = await unit_id(api, COMMUNE)
    today(D(2026, 12, 10))
    line = {"unit_id": commune, "review_period": "2026", "planned_month": 3}
    r = await api.http.post(f"{V1}/inspection-plans", json={"year": 2027, "title": "KH", "items": [line, line]},
                            headers=await api.headers(INSPECTOR))  # fmt: skip
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "plan_unit_repeated"
    # Nor by an amendment adding a unit already in the plan (removing its line first is allowed).
    plan = await call(api, INSPECTOR, "POST", "/inspection-plans", 201, json={"year": 2027, "title": "KH",
                                                                              "items": [line]})  # fmt: skip
    await call(api, CHIEF, "POST", f"/inspection-plans/{plan['id']}/approve",
               json={"decision_number": "150/QĐ", "decision_date": "2026-12-10"})  # fmt: skip
    amend = {"decision_number": "2/QĐ", "decision_date": "2026-12-10", "reason": "x", "add": [line]}
    again = await call(api, CHIEF, "POST", f"/inspection-plans/{plan['id']}/amendments", 422, json=amend)
    assert again["error"]["code"] == "plan_unit_repeated"
    swap = {**amend, "remove": [plan["items"][0]["id"]]}
    await call(api, CHIEF, "POST", f"/inspection-plans/{plan['id']}/amendments", 201, json=swap)


# ---- 4. The report ----


async def test_x1_the_xlsx_headings_carry_no_figures(api: Api, today: Any) -> None:
    """The XLSX writes a count beside the section headings "Cuộc kiểm tra đã kết luận" and "Đơn vị có nội dung
    không đạt" (their labels equal two count labels), which the PDF and JSON do not."""
    commune = await unit_id(api, COMMUNE)
    await _concluded_inspection(api, today, commune)
    today(D(2027, 6, 20))
    x = await call(api, INSPECTOR, "GET", "/stats/inspectorate-report", params={"period": "2027-H1", "format": "xlsx"})
    rows = list(openpyxl.load_workbook(io.BytesIO(x.content)).active.iter_rows(values_only=True))
    labelled = [r for r in rows if r[0] == "Cuộc kiểm tra đã kết luận"]
    assert len(labelled) == 2 and labelled[1][1] in (None, ""), labelled
    assert labelled[0][1] == 1  # the count itself is a number cell
    assert ("Hạn gửi báo cáo", "trước ngày 10/06/2027") in [r[:2] for r in rows]


# ---- 3 (cont.). Bad inputs and separation of duties ----


async def test_b1_bad_inputs_are_4xx_with_a_vietnamese_message_and_an_english_code(api: Api, today: Any) -> None:
    commune = await unit_id(api, COMMUNE)
    insp, rec = await _concluded_inspection(api, today, commune)
    running = await _running_inspection(api, today, commune)
    big = 2_147_483_647
    probes: list[tuple[str, str, str, dict[str, Any]]] = [
        (INSPECTOR, "POST", "/inspection-plans", {"json": {"year": "x", "title": "t", "items": []}}),
        (
            INSPECTOR,
            "POST",
            "/inspection-plans",
            {
                "json": {
                    "year": 2027,
                    "title": "t",
                    "items": [{"unit_id": commune, "review_period": "2026", "planned_month": 1}] * 201,
                }
            },
        ),
        (
            INSPECTOR,
            "POST",
            "/inspection-plans",
            {
                "json": {
                    "year": 2027,
                    "title": "t",
                    "items": [{"unit_id": big, "review_period": "2026-Q5", "planned_month": 13}],
                }
            },
        ),
        (INSPECTOR, "POST", "/inspections", {"json": {"unit_id": big, "review_period": "2026"}}),
        (INSPECTOR, "POST", "/inspections", {"json": {"unit_id": commune, "review_period": "20266"}}),
        (INSPECTOR, "POST", "/inspections", {"json": {"plan_item_id": big}}),
        (
            INSPECTOR,
            "POST",
            f"/inspections/{big}/decision",
            {"json": {"decision_number": "1", "decision_date": "2027-01-01", "members": [{"user_id": big}]}},
        ),
        (
            INSPECTOR,
            "PUT",
            f"/inspections/{running['id']}/conclusion",
            {
                "json": {
                    "number": "1",
                    "conclusion_date": "2027-01-10",
                    "text": "x",
                    "recommendations": [{"unit_id": big, "action": "a", "deadline": "2027-02-30"}],
                }
            },
        ),
        (
            INSPECTOR,
            "PUT",
            f"/inspections/{running['id']}/conclusion",
            {
                "json": {
                    "number": "1",
                    "conclusion_date": "2027-01-10",
                    "text": "x",
                    "recommendations": [{"unit_id": commune, "action": "a", "deadline": "2026-01-01"}],
                }
            },
        ),
        (
            INSPECTOR,
            "PUT",
            f"/inspections/{running['id']}/evaluation",
            {"json": {"findings": [{"area": "reception", "rating": "good"}, {"area": "reception", "rating": "below"}]}},
        ),
        (INSPECTOR, "GET", "/recommendations", {"params": {"cursor": "!!garbage!!"}}),
        (INSPECTOR, "GET", "/inspections", {"params": {"status": "nonsense"}}),
        (
            INSPECTOR,
            "POST",
            "/recommendations/urge",
            {"json": {"unit_id": commune, "recommendation_ids": list(range(1, 600))}},
        ),
        (INSPECTOR, "POST", f"/recommendations/{rec['id']}/reports/{big}/decision", {"json": {"decision": "accepted"}}),
        (
            HEAD,
            "POST",
            f"/recommendations/{rec['id']}/reports",
            {"json": {"done_on": "2027-01-11", "document_ref": "x" * 300, "text": "y"}},
        ),
        (INSPECTOR, "GET", "/stats/inspectorate-report", {"params": {"period": "2027-H2"}}),
        (INSPECTOR, "GET", "/stats/inspectorate-report", {"params": {"period": "2027-H1", "format": "csv"}}),
        (CHIEF, "POST", "/stats/inspectorate-report/submissions", {"json": {"period": "2027-Q1"}}),
        (CHIEF, "GET", f"/stats/inspectorate-report/submissions/{big}", {}),
    ]
    bad = []
    for who, method, path, kw in probes:
        r = await api.http.request(method, f"{V1}{path}", headers=await api.headers(who), **kw)
        body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
        err = body.get("error", {})
        if not (400 <= r.status_code < 500 and err.get("code") and err.get("message")):
            bad.append((method, path, r.status_code, r.text[:200]))
    assert bad == []


async def test_b2_an_evaluation_of_a_period_not_yet_ended_is_refused_not_a_500(api: Api, today: Any) -> None:
    """Outside the plan a future period is refused at once; a plan line (review 2026, planned for January 2027) may
    be opened and started on 11/12/2026, before 2026's window ends (14/12): its evaluation, findings, draft and
    signature are refused until the period is over."""
    commune = await unit_id(api, COMMUNE)
    today(D(2027, 1, 10))
    r = await api.http.post(f"{V1}/inspections", json={"unit_id": commune, "review_period": "2030"},
                            headers=await api.headers(INSPECTOR))  # fmt: skip
    assert (r.status_code, r.json()["error"]["code"]) == (422, "review_period_not_ended")
    today(D(2026, 12, 10))
    body = {"year": 2027, "title": "KH", "items": [{"unit_id": commune, "review_period": "2026", "planned_month": 1}]}
    plan = await call(api, INSPECTOR, "POST", "/inspection-plans", 201, json=body)
    await call(api, CHIEF, "POST", f"/inspection-plans/{plan['id']}/approve",
               json={"decision_number": "150/QĐ", "decision_date": "2026-12-10"})  # fmt: skip
    insp = await call(api, INSPECTOR, "POST", "/inspections", 201, json={"plan_item_id": plan["items"][0]["id"]})
    team = {"decision_number": "1/QĐ", "decision_date": "2026-12-10", "members": [{"full_name": "Cán bộ mời"}]}
    await call(api, INSPECTOR, "POST", f"/inspections/{insp['id']}/decision", json=team)
    await call(api, INSPECTOR, "POST", f"/inspections/{insp['id']}/start", json={"start_date": "2026-12-10"})
    path = f"/inspections/{insp['id']}"
    got = await call(api, INSPECTOR, "GET", f"{path}/evaluation", 422)
    assert got["error"]["code"] == "review_period_not_ended"
    await call(api, INSPECTOR, "PUT", f"{path}/evaluation", 422, json={"findings": []})
    draft = {"number": "1/KL", "conclusion_date": "2026-12-10", "text": "KL", "recommendations": []}
    await call(api, INSPECTOR, "PUT", f"{path}/conclusion", 422, json=draft)
    today(D(2026, 12, 15))
    assert (await call(api, INSPECTOR, "GET", f"{path}/evaluation"))["review_end"] == "2026-12-14"


async def test_b3_who_reported_does_not_accept_their_own_report(api: Api, today: Any) -> None:
    """Separation of duties: an officer holding both `inspector` and `unit_head` of the commune (or the chief
    inspector on a recommendation addressed to the inspectorate itself) reports the work done and accepts it."""
    from tests.helpers import create_officer

    commune = await unit_id(api, COMMUNE)
    await create_officer(api, "xa.kiemnhiem", ["unit_head", "inspector"], unit_id=commune)
    insp, rec = await _concluded_inspection(api, today, commune)
    today(D(2027, 1, 20))
    rep = await call(api, "xa.kiemnhiem", "POST", f"/recommendations/{rec['id']}/reports", 201,
                     json={"done_on": "2027-01-19", "document_ref": "3/BC", "text": "Xong"})  # fmt: skip
    r = await api.http.post(f"{V1}/recommendations/{rec['id']}/reports/{rep['id']}/decision",
                            json={"decision": "accepted"}, headers=await api.headers("xa.kiemnhiem"))  # fmt: skip
    assert r.status_code in (403, 409), r.text
    assert (r.status_code, r.json()["error"]["code"]) == (403, "conflict_of_interest")
    # Nor does the commune's own inspector draft a conclusion about it; a colleague from elsewhere may decide.
    running = await _running_inspection(api, today, commune)
    body = {"number": "9/KL", "conclusion_date": "2027-01-10", "text": "KL", "recommendations": []}
    r = await api.http.put(f"{V1}/inspections/{running['id']}/conclusion", json=body,
                           headers=await api.headers("xa.kiemnhiem"))  # fmt: skip
    assert (r.status_code, r.json()["error"]["code"]) == (403, "conflict_of_interest")
    ok = await call(api, INSPECTOR, "POST", f"/recommendations/{rec['id']}/reports/{rep['id']}/decision",
                    json={"decision": "accepted"})  # fmt: skip
    assert ok["decision"] == "accepted"


async def test_f7_register_links_return_the_entries_counted(api: Api, today: Any) -> None:
    """`register_visits` counts 01/TCD's window (15/12/2025–14/12/2026) without refused visitors (LTCD art. 9);
    its link `/reception-sessions/entries?unit_id=&year=2026` lists the register YEAR, refused visitors included."""
    from api.models.reception import ReceptionEntry

    commune = await unit_id(api, COMMUNE)
    creator = (await api.user("xa.tiepdan")).id
    for n, (day, handling) in enumerate(((D(2025, 12, 20), "explained"), (D(2026, 5, 5), "refused")), start=1):
        s = ReceptionSession(
            unit_id=commune,
            kind="periodic",
            mode="direct",
            in_person=True,
            status="held",
            starts_at=_at(day),
            ends_at=_at(day, 11),
            day=day,
            location="UBND",
            created_by_id=creator,
        )
        api.session.add(s)
        await api.session.flush()
        api.session.add(ReceptionEntry(session_id=s.id, unit_id=commune, year=day.year, serial=900 + n,
                                       received_on=day, kind="complaint", content="x",
                                       persons=[{"full_name": "Người dân"}],
                                       representatives=[], people_count=1, is_group=False, handling=handling,
                                       visit="first", created_by_id=creator))  # fmt: skip
    await api.session.flush()
    insp = await _running_inspection(api, today, commune)
    fig = (await _figures(api, insp))["register_visits"]
    assert await _exact(api, fig), fig


async def test_x2_the_report_states_its_due_date_and_whether_it_was_late(api: Api, today: Any) -> None:
    """Plan 13/KH-UBND (and LEGAL.md): the six-month report before 10 June, the annual one before 5 December. The
    report to Sở Nội vụ neither states its due date nor records lateness (the forms' submissions do, via
    periods.report_due); and its data window (to 14 June) ends after the day it is due."""
    today(D(2027, 6, 20))
    live = await call(api, INSPECTOR, "GET", "/stats/inspectorate-report", params={"period": "2027-H1"})
    assert live.get("due_date") == "2027-06-10", sorted(live)
    assert (live["late"], live["submitted_on"], live["window_ends_after_due"]) == (True, None, True)


async def test_h1_a_cancelled_inspection_cannot_be_concluded(api: Api, today: Any) -> None:
    """Held: a draft conclusion, then the chief cancels; signing is refused (409)."""
    commune = await unit_id(api, COMMUNE)
    insp = await _running_inspection(api, today, commune)
    body = {"number": "1/KL", "conclusion_date": "2027-01-10", "text": "Kết luận", "recommendations": []}
    await call(api, INSPECTOR, "PUT", f"/inspections/{insp['id']}/conclusion", json=body)
    await call(api, CHIEF, "POST", f"/inspections/{insp['id']}/cancel", json={"reason": "Thiên tai"})
    await call(api, CHIEF, "POST", f"/inspections/{insp['id']}/conclusion/sign", 409)
    await call(api, INSPECTOR, "PUT", f"/inspections/{insp['id']}/conclusion", 409, json=body)


async def test_d7_the_due_soon_list_agrees_with_each_items_timer(api: Api, today: Any) -> None:
    """`GET /recommendations?state=due_soon` filters with add_working_days(today, 3); each item's timer uses
    subtract_working_days(deadline, 3) (as cases do). Around weekends they differ: on Friday 05/03/2027 a
    recommendation due Wednesday 10/03 is listed as due soon while its own timer says `running` (and a deadline on a
    Saturday is `due_soon` by its timer yet missing from the list three working days before)."""
    commune = await unit_id(api, COMMUNE)
    insp = await _running_inspection(api, today, commune)
    body = {"number": "2/KL", "conclusion_date": "2027-01-10", "text": "Kết luận",
            "recommendations": [{"unit_id": commune, "action": "Chấn chỉnh", "deadline": "2027-03-10"}]}  # fmt: skip
    await call(api, INSPECTOR, "PUT", f"/inspections/{insp['id']}/conclusion", json=body)
    await call(api, CHIEF, "POST", f"/inspections/{insp['id']}/conclusion/sign")
    today(D(2027, 3, 5))
    listed = await call(api, INSPECTOR, "GET", "/recommendations", params={"state": "due_soon"})
    assert [r["timer"]["state"] for r in listed["items"]] in ([], ["due_soon"] * len(listed["items"]))
    assert all(r["timer"]["state"] == "due_soon" for r in listed["items"]), listed["items"]


async def test_h2_form_figures_equal_the_forms_for_a_parent_unit_and_awkward_cases(api: Api, today: Any) -> None:
    """Held: for the province (a unit with children) and a commune, with a case received before the period and settled
    in it, one transferred between units, one withdrawn and one terminated, the form-sourced figures equal
    GET /stats/forms/{form}?period=2026&unit_id= total rows."""
    from tests.test_inspections import FORM_COLUMNS

    commune = await unit_id(api, COMMUNE)
    province = await api.session.scalar(sa.select(Unit.id).where(Unit.parent_id.is_(None)).order_by(Unit.id))
    dept = await unit_id(api, "15-STP")
    await _case(
        api,
        commune,
        D(2025, 11, 1),
        status="resolved",
        accepted_on=D(2025, 11, 5),
        settled_on=D(2026, 1, 5),
        outcome="correct",
        processed_on=D(2025, 11, 5),
        processed_as="accept",
    )
    await _case(api, dept, D(2026, 2, 1), receiving=commune, processed_on=D(2026, 2, 3), processed_as="transfer")
    await _case(
        api,
        commune,
        D(2026, 3, 1),
        status="terminated",
        accepted_on=D(2026, 3, 5),
        settled_on=D(2026, 4, 1),
        reason_code="withdrawn",
    )
    await _case(api, commune, D(2026, 3, 2), kind="denunciation", status="terminated", accepted_on=D(2026, 3, 6),
                settled_on=D(2026, 4, 2), reason_code="accused_died")  # fmt: skip
    for unit in (province, commune, dept):
        insp = await _running_inspection(api, today, unit)
        figs = await _figures(api, insp)
        for form in ("tcd", "xld", "gqkn", "gqtc", "kqth"):
            doc = await call(api, INSPECTOR, "GET", f"/stats/forms/{form}", params={"period": "2026", "unit_id": unit})
            total = next(r for r in doc["rows"] if r["type"] == "total")["values"]
            for key, (f, col) in FORM_COLUMNS.items():
                if f == form:
                    assert figs[key]["value"] == total[col], (unit, key)
        await call(api, CHIEF, "POST", f"/inspections/{insp['id']}/cancel", json={"reason": "x"})


async def test_m1_the_inspected_unit_cannot_move_the_figures_under_review_unseen(api: Api, today: Any) -> None:
    """While the inspection is in progress the inspected commune's own desk officer back-dates a letter into the period
    under review (received_at may be an earlier date); the evaluation — and the conclusion signed from it — silently
    counts it: nothing freezes the record at the start of the inspection or flags what changed since."""
    from tests.helpers import intake

    commune = await unit_id(api, COMMUNE)
    insp = await _running_inspection(api, today, commune)
    before = (await _figures(api, insp))["letters_received"]["value"]
    await intake(api, "xa.tiepdan", received_at="2026-05-04")
    after = (await _figures(api, insp))["letters_received"]["value"]
    assert after == before, (before, after)
    ev = await call(api, INSPECTOR, "GET", f"/inspections/{insp['id']}/evaluation")
    assert ev["snapshot_on"] == "2027-01-10"
    changed = {c["key"]: (c["snapshot"], c["live"]) for c in ev["changed_since_snapshot"]}
    assert changed["letters_received"] == (before, before + 1)
    # Signed, the conclusion keeps the snapshot and the changes side by side.
    body = {"number": "1/KL", "conclusion_date": "2027-01-10", "text": "KL", "recommendations": []}
    await call(api, INSPECTOR, "PUT", f"/inspections/{insp['id']}/conclusion", json=body)
    signed = (await call(api, CHIEF, "POST", f"/inspections/{insp['id']}/conclusion/sign"))["figures"]
    assert {c["key"] for c in signed["changed_since_snapshot"]} >= {"letters_received"}
    assert signed["snapshot_on"] == "2027-01-10"


async def test_a1_a_replaced_draft_or_finding_leaves_a_trace_of_what_it_said(api: Api, today: Any) -> None:
    """Every change is audited — but the audit events of a draft conclusion carry only its number and the count of
    recommendations, those of findings only the ratings, and a cancellation no reason: a conclusion text or a
    finding replaced before signing is lost."""
    from api.models.audit import AuditEvent

    commune = await unit_id(api, COMMUNE)
    insp = await _running_inspection(api, today, commune)
    body = {"number": "1/KL", "conclusion_date": "2027-01-10", "text": "Bản dự thảo thứ nhất: đơn vị vi phạm",
            "recommendations": []}  # fmt: skip
    await call(api, INSPECTOR, "PUT", f"/inspections/{insp['id']}/conclusion", json=body)
    await call(api, INSPECTOR, "PUT", f"/inspections/{insp['id']}/conclusion", json={**body, "text": "Bản hai"})
    payloads = json.dumps(
        [e.payload for e in (await api.session.scalars(sa.select(AuditEvent).where(
            AuditEvent.entity == "inspection_conclusion"))).all()], ensure_ascii=False)  # fmt: skip
    assert "Bản dự thảo thứ nhất" in payloads or "text_sha256" in payloads, payloads
    import hashlib

    first = hashlib.sha256("Bản dự thảo thứ nhất: đơn vị vi phạm".encode()).hexdigest()
    events = (await api.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.entity == "inspection_conclusion").order_by(AuditEvent.id))).all()  # fmt: skip
    assert events[-1].payload["replaced"]["text_sha256"] == first
    # Findings replaced: the old rating and its text's digest stay; a cancellation keeps its reason.
    path = f"/inspections/{insp['id']}/evaluation"
    await call(api, INSPECTOR, "PUT", path, json={"findings": [{"area": "complaints", "rating": "below", "text": "A"}]})
    await call(api, INSPECTOR, "PUT", path, json={"findings": [{"area": "complaints", "rating": "good", "text": "B"}]})
    await call(api, CHIEF, "POST", f"/inspections/{insp['id']}/cancel", json={"reason": "Thiên tai"})
    mine = sa.select(AuditEvent).where(AuditEvent.entity == "inspection", AuditEvent.entity_id == str(insp["id"]))
    rows = (await api.session.scalars(mine.order_by(AuditEvent.id))).all()
    last_findings = [e for e in rows if e.action == "findings"][-1].payload
    assert last_findings["replaced"]["complaints"] == {
        "rating": "below",
        "text_sha256": hashlib.sha256(b"A").hexdigest(),
    }
    assert [e.payload for e in rows if e.action == "cancel"] == [{"reason": "Thiên tai"}]


async def test_f8_every_figure_with_a_link_lists_exactly_what_it_counts(api: Api, today: Any) -> None:
    """H2: for every figure of an evaluation of the seeded commune (and of its province), a link returns exactly the
    items counted, over every page; where no list reproduces the count, the link is null and the source named."""
    from tests.test_inspections import seed_commune_2026

    commune = await unit_id(api, COMMUNE)
    await seed_commune_2026(api, commune)
    earlier, _rec = await _concluded_inspection(api, today, commune)  # one recommendation due 01/02/2027
    province = await api.session.scalar(sa.select(Unit.id).where(Unit.parent_id.is_(None)).order_by(Unit.id))
    today(D(2027, 3, 1))
    for unit in (commune, province):
        insp = await call(api, INSPECTOR, "POST", "/inspections", 201, json={"unit_id": unit, "review_period": "2026"})
        figs = await _figures(api, insp)
        linked = [f for f in figs.values() if f["link"]]
        assert [f["key"] for f in linked] == ["earlier_recommendations_overdue"] or unit == province
        for fig in figs.values():
            assert await _exact(api, fig), fig
            assert fig["source"] and (fig["start"] or fig["key"] == "earlier_recommendations_overdue")
    assert figs_value(await _figures(api, earlier), "earlier_recommendations_overdue") == 0


def figs_value(figs: dict[str, dict[str, Any]], key: str) -> Any:
    return figs[key]["value"]
