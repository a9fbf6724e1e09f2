"""Thanh tra tỉnh's own work (issue 25) through the API: the worked example of "Done means" — a 2027 plan with three
units approved, an inspection of a commune for 2026 whose pre-filled figures equal that commune's report forms for
2026, a conclusion with two recommendations (one reported done and accepted, one overdue and urged), the 2027-H1
report to Sở Nội vụ frozen with its diff — then who sees what, no identity in an evaluation, the workflow's tables
and timer, and the inspectorate's dashboard page. Time moves by the fixed clock (`clock.fixed_today`)."""

import io
import json
import re
from datetime import date, datetime
from typing import Any

import httpx
import openpyxl
import pypdfium2 as pdfium
import pytest
import sqlalchemy as sa

from api import clock
from api.models.audit import AuditEvent
from api.models.reception import ReceptionEntry, ReceptionSession
from api.models.unit import Unit
from tests.conftest import Api
from tests.helpers import V1, act, intake
from tests.test_cases_confidentiality import DENOUNCER, SECRETS
from tests.test_dashboard import browser, sign_in  # noqa: F401 - the dashboard's browser fixture
from tests.test_stats import _case
from workflows import inspections as flow
from workflows.calendar import WorkCalendar

D = date
COMMUNE = "04465"  # xa.chutich's commune
CHIEF, INSPECTOR, HEAD, HOME_AFFAIRS = "thanhtra.truong", "thanhtra", "xa.chutich", "noivu"
FORM_COLUMNS = {  # evaluation figure → (form, column) it must equal
    "letters_carried": ("xld", "carried"),
    "letters_received": ("xld", "received"),
    "letters_processed": ("xld", "processed"),
    "letters_eligible": ("xld", "eligible_letters"),
    "complaints_accepted": ("gqkn", "new"),
    "complaints_settled": ("gqkn", "settled"),
    "complaints_on_time": ("gqkn", "on_time"),
    "complaints_late": ("gqkn", "late"),
    "complaints_backlog": ("gqkn", "pending"),
    "second_round_changed": ("gqkn", "second_changed"),
    "denunciations_accepted": ("gqtc", "new"),
    "denunciations_settled": ("gqtc", "settled"),
    "denunciations_on_time": ("gqtc", "on_time"),
    "denunciations_late": ("gqtc", "late"),
    "denunciations_backlog": ("gqtc", "pending"),
    "further_denunciations": ("gqtc", "repeat"),
    "decisions_to_enforce": ("kqth", "total"),
    "decisions_enforced": ("kqth", "enforced"),
    "register_visits": ("tcd", "total_visits"),
    "register_matters": ("tcd", "total_matters"),
    "head_sessions": ("tcd", "head_sessions"),
    "delegated_sessions": ("tcd", "del_sessions"),
}


@pytest.fixture
def today(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Set the service's legal date (restored after the test)."""

    def move(day: date) -> None:
        monkeypatch.setattr(clock, "fixed_today", day)

    return move


async def call(api: Api, who: str, method: str, path: str, expect: int = 200, **kw: Any) -> Any:
    r = await api.http.request(method, f"{V1}{path}", headers=await api.headers(who), **kw)
    assert r.status_code == expect, (method, path, r.status_code, r.text)
    return r.json() if r.headers.get("content-type", "").startswith("application/json") else r


async def unit_id(api: Api, code: str) -> int:
    found = await api.session.scalar(sa.select(Unit.id).where(Unit.code == code))
    assert found is not None
    return found


async def seed_commune_2026(api: Api, commune: int) -> None:
    """The commune's record for 2026 (statutory year: 15 Dec 2025 → 14 Dec 2026): letters taken in and processed
    through the API, settled matters of every kind the forms count, and reception days with register entries."""
    first = await intake(api, "xa.tiepdan", received_at="2026-04-06")
    await act(api, "xa.chutich", first, "accept", effective_date="2026-04-10")
    await intake(api, "xa.tiepdan", kind="petition", field="policy", received_at="2026-09-15")
    await intake(api, "xa.tiepdan", kind="denunciation", field="corruption", received_at="2026-10-01",
                 parties=[DENOUNCER])  # fmt: skip
    late = dict(status="resolved", accepted_on=D(2026, 2, 2), settled_on=D(2026, 3, 30), outcome="correct")
    await _case(api, commune, D(2026, 1, 20), complaint_round=1, resolution_late=True, **late)
    await _case(api, commune, D(2026, 2, 3), complaint_round=2, status="resolved", accepted_on=D(2026, 2, 10),
                settled_on=D(2026, 3, 5), outcome="annulled", resolution_late=False)  # fmt: skip
    await _case(api, commune, D(2026, 5, 4), kind="denunciation", status="in_progress", accepted_on=D(2026, 5, 20))
    creator = (await api.user("xa.tiepdan")).id
    serial = 0
    for day, in_person, people in ((D(2026, 4, 10), True, (1, 2)), (D(2026, 5, 5), False, (1,))):
        sitting = ReceptionSession(
            unit_id=commune, kind="periodic", mode="direct", in_person=in_person, status="held",
            starts_at=_at(day), ends_at=_at(day, 11), day=day, location="Hội trường", created_by_id=creator,
        )  # fmt: skip
        api.session.add(sitting)
        await api.session.flush()
        for n in people:
            serial += 1
            api.session.add(
                ReceptionEntry(
                    session_id=sitting.id, unit_id=commune, year=2026, serial=serial, received_on=day,
                    kind="complaint", content="x", persons=[{}], representatives=[], people_count=n, is_group=False,
                    handling="explained", visit="first", created_by_id=creator,
                )
            )  # fmt: skip
    await api.session.flush()


def _at(day: date, hour: int = 8) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=clock.VN)


async def form_total(api: Api, form: str, commune: int) -> dict[str, Any]:
    doc = await call(api, INSPECTOR, "GET", f"/stats/forms/{form}", params={"period": "2026", "unit_id": commune})
    return dict(next(r for r in doc["rows"] if r["type"] == "total")["values"])


async def test_worked_example_plan_inspection_conclusion_recommendations_and_report(api: Api, today: Any) -> None:
    commune = await unit_id(api, COMMUNE)
    others = list(
        await api.session.scalars(
            sa.select(Unit.id).where(Unit.level == "commune", Unit.code != COMMUNE).order_by(Unit.code).limit(2)
        )
    )
    await seed_commune_2026(api, commune)

    # A 2027 plan with three units, drafted by an inspector and approved by the chief inspector.
    today(D(2026, 12, 10))
    units = [commune, *others]
    items = [{"unit_id": u, "review_period": "2026", "planned_month": m} for u, m in zip(units, (3, 4, 5), strict=True)]
    body = {"year": 2027, "title": "Kế hoạch kiểm tra công tác tiếp công dân, giải quyết KNTC năm 2027", "items": items}
    plan = await call(api, INSPECTOR, "POST", "/inspection-plans", 201, json=body)
    assert plan["status"] == "draft" and len(plan["items"]) == 3
    assert [a["code"] for a in plan["areas"]] == ["reception", "letters", "complaints", "denunciations", "enforcement"]
    decision = {"decision_number": "150/QĐ-TTr", "decision_date": "2026-12-10"}
    refused = await call(api, INSPECTOR, "POST", f"/inspection-plans/{plan['id']}/approve", 403, json=decision)
    assert refused["error"]["code"] == "chief_inspector_only"
    plan = await call(api, CHIEF, "POST", f"/inspection-plans/{plan['id']}/approve", json=decision)
    assert (plan["status"], plan["decision_number"], plan["decision_date"]) == ("approved", "150/QĐ-TTr", "2026-12-10")
    await call(api, CHIEF, "POST", f"/inspection-plans/{plan['id']}/approve", 409, json=decision)
    draft = await call(api, INSPECTOR, "POST", "/inspection-plans", 201, json={**body, "title": "Dự thảo khác"})
    listed = await call(api, INSPECTOR, "GET", "/inspection-plans", params={"year": 2027, "limit": 1})
    assert [(p["id"], p["units"]) for p in listed["items"]] == [(draft["id"], 3)] and listed["next_cursor"]
    rest = await call(
        api, INSPECTOR, "GET", "/inspection-plans", params={"year": 2027, "cursor": listed["next_cursor"]}
    )
    assert [(p["id"], p["status"]) for p in rest["items"]] == [(plan["id"], "approved")] and rest["next_cursor"] is None
    approved = await call(api, INSPECTOR, "GET", "/inspection-plans", params={"status": "approved"})
    assert [p["id"] for p in approved["items"]] == [plan["id"]]

    # The inspection of the commune: team decision with an invited member of Ban Dân vận, then the work starts.
    today(D(2027, 3, 5))
    line = next(i for i in plan["items"] if i["unit_id"] == commune)
    insp = await call(api, INSPECTOR, "POST", "/inspections", 201, json={"plan_item_id": line["id"]})
    assert (insp["status"], insp["review_period"], insp["review_start"], insp["review_end"]) == (
        "planned", "2026", "2025-12-15", "2026-12-14")  # fmt: skip
    await call(api, INSPECTOR, "POST", "/inspections", 409, json={"plan_item_id": line["id"]})
    inspector_id = (await api.user(INSPECTOR)).id
    team = {
        "decision_number": "20/QĐ-TTr",
        "decision_date": "2027-03-01",
        "members": [
            {"user_id": inspector_id, "role": "head"},
            {"full_name": "Nguyễn Thị Vận", "organisation": "Ban Dân vận Tỉnh ủy"},
        ],
    }
    insp = await call(api, INSPECTOR, "POST", f"/inspections/{insp['id']}/decision", json=team)
    assert insp["status"] == "decided" and [m["organisation"] for m in insp["members"]] == [None, "Ban Dân vận Tỉnh ủy"]
    insp = await call(api, INSPECTOR, "POST", f"/inspections/{insp['id']}/start", json={"start_date": "2027-03-03"})
    assert insp["status"] == "in_progress" and insp["allowed_actions"] == []

    # The pre-filled figures equal the commune's forms for 2026, each with its link.
    ev = await call(api, INSPECTOR, "GET", f"/inspections/{insp['id']}/evaluation")
    figures = {f["key"]: f for f in ev["figures"]}
    totals = {form: await form_total(api, form, commune) for form in ("tcd", "xld", "gqkn", "gqtc", "kqth")}
    for key, (form, column) in FORM_COLUMNS.items():
        assert figures[key]["value"] == totals[form][column], key
        # No list reproduces a form's count exactly: no link, the form itself is named and linked.
        assert figures[key]["link"] is None and figures[key]["source_link"].startswith(f"{V1}/stats/forms/{form}")
    assert figures["letters_received"]["value"] >= 3 and figures["complaints_late"]["value"] == 1
    assert figures["second_round_changed"]["value"] == 1 and figures["denunciations_backlog"]["value"] == 1
    assert figures["register_visits"]["value"] == 3 and figures["head_sessions"]["value"] == 1
    assert (figures["reception_days_in_person"]["value"], figures["reception_days_delegated"]["value"]) == (1, 1)
    assert figures["letters_processed_on_time"]["value"] == 1 and figures["letters_processed_late"]["value"] == 0
    assert (figures["complaints_late"]["source"], figures["register_visits"]["source"]) == (
        "03/GQKN cột 24",
        "01/TCD cột 1",
    )
    form_link = figures["letters_received"]["source_link"]
    assert f"unit_id={commune}" in form_link and "period=2026" in form_link
    assert (await api.http.get(form_link, headers=await api.headers(INSPECTOR))).status_code == 200
    assert (figures["letters_received"]["start"], figures["letters_received"]["end"]) == ("2025-12-15", "2026-12-14")

    findings = [
        {"area": "reception", "rating": "good"},
        {"area": "letters", "rating": "meets"},
        {"area": "complaints", "rating": "below", "text": "Một vụ giải quyết quá hạn"},
        {"area": "denunciations", "rating": "meets"},
        {"area": "enforcement", "rating": "good"},
    ]
    bad = await call(api, INSPECTOR, "PUT", f"/inspections/{insp['id']}/evaluation", 422,
                     json={"findings": [{"area": "reception", "rating": "excellent"}]})  # fmt: skip
    assert bad["error"]["code"] == "unknown_criterion"
    ev = await call(api, INSPECTOR, "PUT", f"/inspections/{insp['id']}/evaluation", json={"findings": findings})
    assert [(f["area_label"], f["shortfall"]) for f in ev["findings"]][2] == ("Giải quyết khiếu nại", True)

    # The conclusion, drafted by the inspector with two recommendations, signed once by the chief inspector.
    today(D(2027, 4, 10))
    conclusion = {
        "number": "12/KL-TTr",
        "conclusion_date": "2027-04-10",
        "text": "Kết luận kiểm tra trách nhiệm thực hiện pháp luật về tiếp công dân, khiếu nại, tố cáo năm 2026.",
        "recommendations": [
            {"unit_id": commune, "action": "Giải quyết dứt điểm vụ khiếu nại quá hạn", "deadline": "2027-05-15"},
            {"unit_id": commune, "action": "Rà soát, chấn chỉnh việc tiếp công dân định kỳ", "deadline": "2027-05-31"},
        ],
    }
    path = f"/inspections/{insp['id']}/conclusion"
    drafted = await call(api, INSPECTOR, "PUT", path, json=conclusion)
    assert drafted["issued"] is False and drafted["recommendations"] == []
    await call(api, HEAD, "GET", path, 404)  # the inspected unit sees a conclusion once issued
    await call(api, INSPECTOR, "POST", f"{path}/sign", 403)
    issued = await call(api, CHIEF, "POST", f"{path}/sign")
    assert issued["issued"] and issued["number"] == "12/KL-TTr" and len(issued["recommendations"]) == 2
    await call(api, CHIEF, "POST", f"{path}/sign", 409)
    assert (await call(api, INSPECTOR, "PUT", path, 409, json=conclusion))["error"]["code"] in (
        "conclusion_already_issued", "inspection_action_not_allowed")  # fmt: skip
    assert (await call(api, INSPECTOR, "GET", f"/inspections/{insp['id']}"))["status"] == "concluded"
    signed = {f["key"]: f["value"] for f in issued["figures"]["figures"]}
    assert signed["complaints_late"] == 1 and issued["figures"]["findings"][2]["rating"] == "below"
    first, second = issued["recommendations"]
    # Due Saturday 15/05: the deadline runs to the end of Monday 17/05 (BLDS art. 148).
    assert first["timer"]["state"] == "running" and first["timer"]["remaining_days"] == 37
    assert first["timer"]["effective_deadline"] == "2027-05-17"

    # The first: the commune's head reports it done, the inspector accepts it.
    today(D(2027, 5, 12))
    seen = await call(api, HEAD, "GET", path)
    assert seen["issued"] and len(seen["recommendations"]) == 2
    report = {"done_on": "2027-05-10", "document_ref": "45/BC-UBND", "text": "Đã ban hành quyết định giải quyết"}
    await call(api, INSPECTOR, "POST", f"/recommendations/{first['id']}/reports", 409, json=report)
    rep = await call(api, HEAD, "POST", f"/recommendations/{first['id']}/reports", 201, json=report)
    await call(api, HEAD, "POST", f"/recommendations/{first['id']}/reports/{rep['id']}/decision", 409,
               json={"decision": "accepted"})  # fmt: skip
    accepted = await call(api, INSPECTOR, "POST", f"/recommendations/{first['id']}/reports/{rep['id']}/decision",
                          json={"decision": "accepted", "note": "Đạt"})  # fmt: skip
    assert accepted["decision"] == "accepted"
    done = await call(api, INSPECTOR, "GET", f"/recommendations/{first['id']}")
    assert (done["status"], done["done_on"], done["timer"]["state"]) == ("done", "2027-05-10", "met")

    # The second: due soon three working days before its deadline, then overdue, on the list, and urged.
    today(D(2027, 5, 28))
    assert (await call(api, INSPECTOR, "GET", f"/recommendations/{second['id']}"))["timer"]["state"] == "due_soon"
    soon = await call(api, INSPECTOR, "GET", "/recommendations", params={"state": "due_soon"})
    assert [r["id"] for r in soon["items"]] == [second["id"]]
    today(D(2027, 6, 5))
    overdue = await call(api, INSPECTOR, "GET", "/recommendations", params={"state": "overdue"})
    assert [(r["id"], r["timer"]["state"], r["timer"]["remaining_days"]) for r in overdue["items"]] == [
        (second["id"], "overdue", -5)]  # fmt: skip
    await call(api, INSPECTOR, "POST", "/recommendations/urge", 422,
               json={"unit_id": commune, "recommendation_ids": [first["id"]]})  # fmt: skip
    urged = await call(api, INSPECTOR, "POST", "/recommendations/urge", json={"unit_id": commune, "reason": "Quá hạn"})
    assert urged == {"urged": 1, "recommendation_ids": [second["id"]]}
    again = await call(api, INSPECTOR, "GET", f"/recommendations/{second['id']}")
    assert (again["urged_count"], again["last_urged_on"]) == (1, "2027-06-05")

    # The 2027-H1 report to Sở Nội vụ, frozen by the chief inspector; read by Sở Nội vụ; its diff with live figures.
    today(D(2027, 6, 8))
    live = await call(api, INSPECTOR, "GET", "/stats/inspectorate-report", params={"period": "2027-H1"})
    assert (live["start"], live["end"]) == ("2026-12-15", "2027-06-14")
    assert live["counts"] == {
        "inspections_planned": 3, "inspections_done": 1, "units_found_short": 1, "recommendations_made": 2,
        "recommendations_done": 1, "recommendations_overdue": 1,
    }  # fmt: skip
    assert live["units_short"][0]["areas"] == ["complaints"] and "received" in live["province"]
    await call(api, INSPECTOR, "POST", "/stats/inspectorate-report/submissions", 403, json={"period": "2027-H1"})
    # Due 10 June; the data run to 14 June: sent on 8 June the report is provisional, and must say so.
    early = await call(api, CHIEF, "POST", "/stats/inspectorate-report/submissions", 422, json={"period": "2027-H1"})
    assert early["error"]["code"] == "inspectorate_period_not_ended"
    sub = await call(api, CHIEF, "POST", "/stats/inspectorate-report/submissions", 201,
                     json={"period": "2027-H1", "provisional": True})  # fmt: skip
    assert sub["figures"]["counts"] == live["counts"]
    assert (sub["provisional"], sub["due_date"], sub["late"]) == (True, "2027-06-10", False)
    await call(api, CHIEF, "POST", "/stats/inspectorate-report/submissions", 409,
               json={"period": "2027-H1", "provisional": True})  # fmt: skip
    read = await call(api, HOME_AFFAIRS, "GET", f"/stats/inspectorate-report/submissions/{sub['id']}")
    assert read["figures"]["counts"] == live["counts"]
    assert [
        s["id"] for s in (await call(api, HOME_AFFAIRS, "GET", "/stats/inspectorate-report/submissions"))["items"]
    ] == [sub["id"]]
    refused = await call(api, HEAD, "GET", f"/stats/inspectorate-report/submissions/{sub['id']}", 403)
    assert refused["error"]["code"] == "inspectorate_report_forbidden"
    await call(api, HOME_AFFAIRS, "GET", "/stats/inspectorate-report", 403, params={"period": "2027-H1"})
    xlsx = await call(api, HOME_AFFAIRS, "GET", f"/stats/inspectorate-report/submissions/{sub['id']}",
                      params={"format": "xlsx"})  # fmt: skip
    cells = [
        c for row in openpyxl.load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True) for c in row
    ]
    assert "Kiến nghị quá hạn chưa thực hiện" in cells and "12/KL-TTr" in " ".join(str(c) for c in cells)
    pdf = await call(api, HOME_AFFAIRS, "GET", f"/stats/inspectorate-report/submissions/{sub['id']}",
                     params={"format": "pdf"})  # fmt: skip
    assert pdf.content.startswith(b"%PDF") and pdf.headers["content-type"] == "application/pdf"
    printed = " ".join(page.get_textpage().get_text_range() for page in pdfium.PdfDocument(pdf.content))
    for text in ("THANH TRA TỈNH LÀO CAI", "Kiến nghị quá hạn chưa thực hiện", "Giải quyết khiếu nại", "12/KL-TTr",
                 "Thủ trưởng đơn vị", "Trang 1/"):  # fmt: skip
        assert text in printed, text
    diff = await call(api, HOME_AFFAIRS, "GET", f"/stats/inspectorate-report/submissions/{sub['id']}/diff")
    assert diff == {"report_id": sub["id"], "changed": False, "changes": []}
    # The commune reports the second done a day before the report; once accepted, the live figures move.
    report2 = {"done_on": "2027-06-07", "document_ref": "51/BC-UBND", "text": "Đã tổ chức tiếp định kỳ đủ ngày"}
    rep2 = await call(api, HEAD, "POST", f"/recommendations/{second['id']}/reports", 201, json=report2)
    await call(api, INSPECTOR, "POST", f"/recommendations/{second['id']}/reports/{rep2['id']}/decision",
               json={"decision": "accepted"})  # fmt: skip
    diff = await call(api, CHIEF, "GET", f"/stats/inspectorate-report/submissions/{sub['id']}/diff")
    assert {(c["figure"], c["submitted"], c["live"]) for c in diff["changes"]} == {
        ("counts.recommendations_done", 1, 2), ("counts.recommendations_overdue", 1, 0)}  # fmt: skip
    frozen = await call(api, HOME_AFFAIRS, "GET", f"/stats/inspectorate-report/submissions/{sub['id']}")
    assert frozen["figures"]["counts"]["recommendations_done"] == 1

    # Every change is in the audit log.
    entities = ("inspection_plan", "inspection", "inspection_conclusion", "recommendation", "inspectorate_report")
    actions = set(
        (
            await api.session.execute(
                sa.select(AuditEvent.entity, AuditEvent.action).where(AuditEvent.entity.in_(entities))
            )
        ).tuples()
    )
    assert actions >= {
        ("inspection_plan", "create"), ("inspection_plan", "approve"), ("inspection", "create"),
        ("inspection", "decide"), ("inspection", "start"), ("inspection", "findings"),
        ("inspection_conclusion", "draft"), ("inspection_conclusion", "sign"), ("recommendation", "report"),
        ("recommendation", "accepted"), ("recommendation", "urge"), ("inspectorate_report", "submit"),
    }  # fmt: skip


async def _concluded_inspection(api: Api, today: Any, commune: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """An inspection of the commune outside the plan, concluded with one recommendation due 2027-02-01."""
    today(D(2027, 1, 10))
    insp = await call(api, INSPECTOR, "POST", "/inspections", 201, json={"unit_id": commune, "review_period": "2026"})
    team = {"decision_number": "1/QĐ", "decision_date": "2027-01-04", "members": [{"full_name": "Cán bộ mời"}]}
    await call(api, INSPECTOR, "POST", f"/inspections/{insp['id']}/decision", json=team)
    await call(api, INSPECTOR, "POST", f"/inspections/{insp['id']}/start", json={"start_date": "2027-01-05"})
    body = {"number": "1/KL", "conclusion_date": "2027-01-10", "text": "Kết luận",
            "recommendations": [{"unit_id": commune, "action": "Chấn chỉnh", "deadline": "2027-02-01"}]}  # fmt: skip
    await call(api, INSPECTOR, "PUT", f"/inspections/{insp['id']}/conclusion", json=body)
    conclusion = await call(api, CHIEF, "POST", f"/inspections/{insp['id']}/conclusion/sign")
    return insp, conclusion["recommendations"][0]


async def test_a_unit_head_sees_only_their_own_inspections_and_others_nothing(api: Api, today: Any) -> None:
    commune = await unit_id(api, COMMUNE)
    insp, rec = await _concluded_inspection(api, today, commune)
    mine = await call(api, HEAD, "GET", "/inspections")
    assert [i["id"] for i in mine["items"]] == [insp["id"]]
    assert (await call(api, HEAD, "GET", "/recommendations"))["items"][0]["id"] == rec["id"]
    # The province's chair heads the units above the commune, but the inspection is the commune's own.
    assert (await call(api, "tinh.chutich", "GET", "/inspections"))["items"] == []
    assert (await call(api, "tinh.chutich", "GET", "/recommendations"))["items"] == []
    for path in (f"/inspections/{insp['id']}", f"/inspections/{insp['id']}/conclusion",
                 f"/inspections/{insp['id']}/evaluation", f"/recommendations/{rec['id']}"):  # fmt: skip
        body = await call(api, "tinh.chutich", "GET", path, 404)
        assert body["error"]["code"] in ("inspection_not_found", "recommendation_not_found")
    report = {"done_on": "2027-01-20", "document_ref": "1/BC", "text": "Xong"}
    await call(api, "tinh.chutich", "POST", f"/recommendations/{rec['id']}/reports", 404, json=report)
    # Officers who are neither inspectors nor heads read nothing of it; a head cannot plan or urge.
    await call(api, "xa.tiepdan", "GET", "/inspections", 403)
    await call(api, "admin", "GET", "/recommendations", 403)
    await call(api, HEAD, "POST", "/inspection-plans", 403, json={"year": 2027, "title": "x", "items": [
        {"unit_id": commune, "review_period": "2026", "planned_month": 1}]})  # fmt: skip
    await call(api, HEAD, "GET", "/inspection-plans", 403)
    await call(api, HEAD, "POST", "/recommendations/urge", 403, json={"unit_id": commune})
    await call(api, HEAD, "PUT", f"/inspections/{insp['id']}/evaluation", 403,
               json={"findings": [{"area": "reception", "rating": "good"}]})  # fmt: skip


async def test_no_identity_ever_appears_in_an_evaluation(api: Api, today: Any) -> None:
    commune = await unit_id(api, COMMUNE)
    await intake(api, "xa.tiepdan", kind="denunciation", field="corruption", received_at="2026-10-01",
                 title="Tố cáo cán bộ địa chính nhận tiền", parties=[DENOUNCER])  # fmt: skip
    today(D(2027, 1, 10))  # the period under review has ended
    insp = await call(api, INSPECTOR, "POST", "/inspections", 201, json={"unit_id": commune, "review_period": "2026"})
    for who in (INSPECTOR, HEAD, CHIEF):
        text = json.dumps(await call(api, who, "GET", f"/inspections/{insp['id']}/evaluation"), ensure_ascii=False)
        assert not [s for s in (*SECRETS, "Tố cáo cán bộ địa chính") if s in text], who
        assert "letters_received" in text
    figures = (await call(api, INSPECTOR, "GET", f"/inspections/{insp['id']}/evaluation"))["figures"]
    assert all(isinstance(f["value"], int | float | None) for f in figures)


async def test_plan_amendments_after_approval_are_records_with_their_own_decision(api: Api, today: Any) -> None:
    commune = await unit_id(api, COMMUNE)
    other = await unit_id(api, "15-STP")
    body = {
        "year": 2027,
        "title": "KH 2027",
        "items": [{"unit_id": commune, "review_period": "2026", "planned_month": 2}],
    }
    plan = await call(api, INSPECTOR, "POST", "/inspection-plans", 201, json=body)
    amendment = {"decision_number": "9/QĐ", "decision_date": "2026-12-01", "reason": "Bổ sung Sở Tư pháp",
                 "add": [{"unit_id": other, "review_period": "2026-H1", "planned_month": 6}]}  # fmt: skip
    await call(api, CHIEF, "POST", f"/inspection-plans/{plan['id']}/amendments", 409, json=amendment)
    await call(api, CHIEF, "POST", f"/inspection-plans/{plan['id']}/approve", json={
        "decision_number": "8/QĐ", "decision_date": "2026-11-30"})  # fmt: skip
    item = plan["items"][0]["id"]
    amendment["reschedule"] = [{"item_id": item, "planned_month": 9}]
    made = await call(api, CHIEF, "POST", f"/inspection-plans/{plan['id']}/amendments", 201, json=amendment)
    assert made["changes"]["added_unit_ids"] == [other]
    after = await call(api, INSPECTOR, "GET", f"/inspection-plans/{plan['id']}")
    assert sorted((i["unit_id"], i["planned_month"], i["added_by_amendment_id"]) for i in after["items"]) == sorted(
        [(commune, 9, None), (other, 6, made["id"])])  # fmt: skip
    assert [a["decision_number"] for a in after["amendments"]] == ["9/QĐ"]
    future = {**amendment, "decision_date": "2099-01-01"}
    assert (await call(api, CHIEF, "POST", f"/inspection-plans/{plan['id']}/amendments", 422, json=future))[
        "error"]["code"] == "date_in_future"  # fmt: skip
    await call(api, INSPECTOR, "POST", f"/inspection-plans/{plan['id']}/amendments", 403, json=amendment)
    missing = {**amendment, "remove": [2_000_000_000]}
    assert (await call(api, CHIEF, "POST", f"/inspection-plans/{plan['id']}/amendments", 422, json=missing))[
        "error"]["code"] == "plan_item_not_found"  # fmt: skip
    assert len((await call(api, INSPECTOR, "GET", f"/inspection-plans/{plan['id']}"))["amendments"]) == 1
    insp = await call(api, INSPECTOR, "POST", "/inspections", 201, json={"plan_item_id": item})
    cancelled = await call(api, INSPECTOR, "POST", f"/inspections/{insp['id']}/cancel", json={"reason": "Trùng lịch"})
    assert (cancelled["status"], cancelled["cancel_reason"]) == ("cancelled", "Trùng lịch")
    await call(api, INSPECTOR, "POST", f"/inspections/{insp['id']}/start", 409, json={"start_date": "2026-12-01"})
    pages = await call(api, INSPECTOR, "GET", "/inspections", params={"status": "cancelled", "limit": 1})
    assert [i["id"] for i in pages["items"]] == [insp["id"]]


def test_the_inspection_course_and_who_may_move_it() -> None:
    A, S = flow.InspectionAction, flow.InspectionStatus
    inspector, chief = frozenset({flow.Actor.inspector}), frozenset({flow.Actor.chief})
    assert flow.next_status(S.planned, A.decide, inspector) is S.decided
    assert flow.next_status(S.decided, A.start, inspector) is S.in_progress
    assert flow.next_status(S.in_progress, A.conclude, chief) is S.concluded
    with pytest.raises(flow.TransitionRefused) as refused:
        flow.next_status(S.in_progress, A.conclude, inspector)
    assert refused.value.allowed == []
    assert flow.allowed_actions(S.planned, inspector) == ["cancel", "decide"]
    for status in (S.concluded, S.cancelled):  # the ends of the course
        assert flow.allowed_actions(status, inspector | chief) == []
    R, RA = flow.RecommendationStatus, flow.RecommendationAction
    head = frozenset({flow.Actor.inspected_head})
    assert flow.next_recommendation_status(R.open, RA.report, head) is R.reported
    assert flow.next_recommendation_status(R.reported, RA.reject, inspector) is R.open
    with pytest.raises(flow.TransitionRefused):
        flow.next_recommendation_status(R.reported, RA.accept, head)  # a unit never accepts its own report


def test_the_recommendation_timer_runs_like_a_duty() -> None:
    cal = WorkCalendar()
    timer = flow.RecommendationTimer(D(2027, 5, 31), None)  # a Monday
    assert timer.state(cal, D(2027, 5, 25), 3) is flow.TimerState.running
    assert timer.state(cal, D(2027, 5, 26), 3) is flow.TimerState.due_soon  # three working days before
    assert timer.state(cal, D(2027, 5, 31), 3) is flow.TimerState.due_soon  # the deadline itself is not late
    assert timer.state(cal, D(2027, 6, 1), 3) is flow.TimerState.overdue
    assert timer.remaining_days(cal, D(2027, 6, 5)) == -5
    assert flow.RecommendationTimer(D(2027, 5, 31), D(2027, 5, 31)).state(cal, D(2027, 7, 1), 3) is flow.TimerState.met
    late = flow.RecommendationTimer(D(2027, 5, 31), D(2027, 6, 2))
    assert (
        late.state(cal, D(2027, 7, 1), 3) is flow.TimerState.met_late
        and late.remaining_days(cal, D(2027, 7, 1)) is None
    )


def test_the_areas_and_the_scale_are_data_with_one_shortfall_rating() -> None:
    assert [a.label for a in flow.DEFAULT_AREAS] == [
        "Tiếp công dân", "Xử lý đơn", "Giải quyết khiếu nại", "Giải quyết tố cáo",
        "Thi hành quyết định giải quyết khiếu nại, kết luận nội dung tố cáo",
    ]  # fmt: skip
    assert [r.code for r in flow.DEFAULT_RATINGS if r.shortfall] == ["below"]


async def test_the_dashboard_shows_the_plan_open_inspections_and_overdue_recommendations(
    api: Api,
    today: Any,
    browser: httpx.AsyncClient,  # noqa: F811
) -> None:
    commune = await unit_id(api, COMMUNE)
    body = {"year": 2027, "title": "Kế hoạch kiểm tra năm 2027", "items": [
        {"unit_id": commune, "review_period": "2026", "planned_month": 3}]}  # fmt: skip
    await call(api, INSPECTOR, "POST", "/inspection-plans", 201, json=body)
    insp, rec = await _concluded_inspection(api, today, commune)
    await call(api, INSPECTOR, "POST", "/inspections", 201, json={"unit_id": commune, "review_period": "2026-H1"})
    today(D(2027, 2, 10))
    assert (await sign_in(browser, INSPECTOR)).status_code == 303
    page = await browser.get("/dashboard/inspections", params={"year": 2027})
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    html = page.text
    for text in ("Kế hoạch kiểm tra năm 2027", "Cuộc kiểm tra đang mở", "Kiến nghị quá hạn", "Chấn chỉnh", "1/KL"):
        assert text in html, text
    assert "01/02/2027" in html and "9 ngày" in html
    assert not re.findall(r'(?:src|href)="(?:https?:)?//', html)
    other = await browser.get("/dashboard/inspections")
    assert other.status_code == 200
    async with httpx.AsyncClient(transport=browser._transport, base_url="https://intranet.laocai") as stranger:  # type: ignore[attr-defined]
        assert (await sign_in(stranger, "xa.tiepdan")).status_code == 303
        assert (await stranger.get("/dashboard/inspections")).status_code == 403


async def test_a_rejected_report_opens_the_recommendation_again(api: Api, today: Any) -> None:
    commune = await unit_id(api, COMMUNE)
    insp, rec = await _concluded_inspection(api, today, commune)
    today(D(2027, 1, 20))
    report = {"done_on": "2027-01-19", "document_ref": "3/BC-UBND", "text": "Đã chấn chỉnh"}
    rep = await call(api, HEAD, "POST", f"/recommendations/{rec['id']}/reports", 201, json=report)
    assert (await call(api, HEAD, "GET", f"/recommendations/{rec['id']}"))["status"] == "reported"
    await call(api, HEAD, "POST", f"/recommendations/{rec['id']}/reports", 409, json=report)
    rejected = await call(api, INSPECTOR, "POST", f"/recommendations/{rec['id']}/reports/{rep['id']}/decision",
                          json={"decision": "rejected", "note": "Chưa có văn bản chấn chỉnh"})  # fmt: skip
    assert (rejected["decision"], rejected["decided_on"]) == ("rejected", "2027-01-20")
    again = await call(api, HEAD, "GET", f"/recommendations/{rec['id']}")
    assert (again["status"], again["done_on"], again["timer"]["state"]) == ("open", None, "running")
    await call(api, INSPECTOR, "POST", f"/recommendations/{rec['id']}/reports/{rep['id']}/decision", 409,
               json={"decision": "accepted"})  # fmt: skip
    future = {**report, "done_on": "2027-02-01"}
    assert (await call(api, HEAD, "POST", f"/recommendations/{rec['id']}/reports", 422, json=future))["error"][
        "code"] == "date_in_future"  # fmt: skip
    await call(api, HEAD, "POST", f"/recommendations/{rec['id']}/reports", 201, json=report)
    reports = await call(api, INSPECTOR, "GET", f"/recommendations/{rec['id']}/reports", params={"limit": 1})
    assert len(reports["items"]) == 1 and reports["next_cursor"]
    rest = await call(api, INSPECTOR, "GET", f"/recommendations/{rec['id']}/reports",
                      params={"limit": 1, "cursor": reports["next_cursor"]})  # fmt: skip
    assert [r["decision"] for r in rest["items"]] == ["rejected"] and rest["next_cursor"] is None
    # An inspection under way is cancelled only by the chief inspector.
    running = await call(
        api, INSPECTOR, "POST", "/inspections", 201, json={"unit_id": commune, "review_period": "2026"}
    )
    team = {"decision_number": "2/QĐ", "decision_date": "2027-01-20", "members": [{"full_name": "Cán bộ mời"}]}
    await call(api, INSPECTOR, "POST", f"/inspections/{running['id']}/decision", json=team)
    await call(api, INSPECTOR, "POST", f"/inspections/{running['id']}/start", json={"start_date": "2027-01-20"})
    refused = await call(api, INSPECTOR, "POST", f"/inspections/{running['id']}/cancel", 409, json={"reason": "x"})
    assert refused["error"]["details"]["allowed"] == []
    done = await call(api, CHIEF, "POST", f"/inspections/{running['id']}/cancel", json={"reason": "Thiên tai"})
    assert done["status"] == "cancelled"
