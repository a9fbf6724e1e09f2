"""Issue 22, the legal second pass: worked examples on real dates through the API, each test naming its article.

Dates in 2027 (Tết 4–10 Feb, Hùng Kings Fri 16 Apr, 30/4–1/5 with Mon 3 May observed) are reached by fixing the
service's legal date (`api.clock.fixed_today`) after them, as the service only takes past dates.
"""

from dataclasses import replace
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa

from api import clock
from api.db import make_engine, make_sessionmaker
from api.models.audit import AuditEvent
from api.models.cases import Case, CaseEvent
from api.models.cases.schemas import NoticeIn
from api.models.reception import ReceptionSession
from api.services import deadlines
from api.services.cases import domain
from tests.conftest import SETTINGS, Api, Live
from tests.helpers import V1, act, act_raw, intake, timer
from workflows import deadlines as dl
from workflows import reception as rules
from workflows.calendar import Basis, WorkCalendar
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
            made |= {t.name for t in dl.extension_notice(facts, on)}
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


# ---- 2. Acceptance documents (LKN art. 27, 36; LTC art. 29) ----


async def test_ltc_29_a_denunciation_is_accepted_only_by_a_numbered_dated_acceptance_decision(api: Api) -> None:
    case = await intake(
        api,
        kind="denunciation",
        received_at="2026-06-29",
        parties=[{"role": "denouncer", "full_name": "Lò Văn Pha"}, {"role": "accused", "full_name": "Cán bộ X"}],
    )
    r = await act_raw(api, HEAD, case, "accept", decision_number=None, effective_date="2026-07-03")
    error = r.json()["error"]
    assert r.status_code == 422 and error["code"] == "acceptance_document_missing"
    assert error["details"]["missing"] == ["decision_number"] and error["details"]["legal_basis"] == "LTC art. 29"
    assert error["details"]["document"] == "quyết định thụ lý"
    r = await act_raw(api, HEAD, case, "accept", decision_number="7/QĐ-TLTC", effective_date=None)
    assert r.status_code == 422 and r.json()["error"]["details"]["missing"] == ["effective_date"]
    case = await act(api, HEAD, case, "accept", decision_number="7/QĐ-TLTC", effective_date="2026-07-03")
    assert case["status"] == "accepted"
    # Fri 3 Jul 2026 + 5 working days (LTC art. 29) = Fri 10 Jul; + 30 days (art. 30) = Sun 2 Aug → Mon 3 Aug.
    assert timer(case, "notify_acceptance")["due_date"] == "2026-07-10"
    assert timer(case, "resolution")["due_date"] == "2026-08-03"
    events = (await api.http.get(f"{V1}/cases/{case['id']}/events", headers=await api.headers(HEAD))).json()["items"]
    accepted = next(e for e in events if e["action"] == "accept")
    assert accepted["payload"]["decision_number"] == "7/QĐ-TLTC" and accepted["effective_date"] == "2026-07-03"
    assert accepted["payload"]["legal_basis"] == "LTC art. 29"


async def test_lkn_27_a_complaint_is_accepted_only_by_a_numbered_dated_acceptance_notice(api: Api) -> None:
    case = await intake(api, received_at="2026-06-30")  # received under the old rules: 10 calendar days
    assert timer(case, "acceptance")["due_date"] == "2026-07-10"
    r = await act_raw(api, HEAD, case, "accept", decision_number=None, effective_date=None)
    error = r.json()["error"]
    assert r.status_code == 422 and error["code"] == "acceptance_document_missing"
    assert error["details"]["missing"] == ["decision_number", "effective_date"]
    assert error["details"]["document"] == "thông báo thụ lý" and error["details"]["legal_basis"] == "LKN art. 27, 36"
    case = await act(api, HEAD, case, "accept", decision_number="5/TB-TLKN", effective_date="2026-07-08")
    assert timer(case, "acceptance")["status"] == "met"
    assert timer(case, "resolution")["due_date"] == "2026-08-07"  # Wed 8 Jul + 30 days (LKN art. 28)
    # A petition has no statutory acceptance document.
    petition = await intake(api, kind="petition", received_at="2026-07-01")
    assert (await act_raw(api, HEAD, petition, "accept", decision_number=None, effective_date=None)).status_code == 200


# ---- 3. A complaint's withdrawal (LKN art. 10, 11a as amended; Decree 155/2026) ----


async def test_lkn_10_11a_the_desk_records_the_last_withdrawal_and_only_the_heads_termination_ends_the_complaint(
    api: Api,
) -> None:
    two = [{"role": "complainant", "full_name": "Nguyễn Văn An"}, {"role": "complainant", "full_name": "Lê Thị Bình"}]
    case = await intake(api, received_at="2026-07-01", parties=two)
    case = await act(api, HEAD, case, "accept", effective_date="2026-07-08", decision_number="8/TB-TLKN")
    an, binh = (p["id"] for p in case["parties"])
    case = await act(api, DESK, case, "withdraw", effective_date="2026-07-20", scope="full", party_id=an)
    end = {"reason_code": "withdrawn", "decision_number": "21/QĐ-ĐC"}
    r = await act_raw(api, HEAD, case, "terminate", effective_date="2026-07-21", **end)
    assert r.status_code == 409 and r.json()["error"]["code"] == "withdrawal_does_not_end"
    assert r.json()["error"]["details"]["authors_not_withdrawn"] == [binh]
    case = await act(api, DESK, case, "withdraw", effective_date="2026-07-22", scope="full", party_id=binh)
    # The last complainant withdrew: recorded, the case stays open and its period keeps running.
    assert case["status"] == "accepted" and case["reason_code"] is None
    assert timer(case, "resolution")["completed_on"] is None
    as_head = (await api.http.get(f"{V1}/cases/{case['id']}", headers=await api.headers(HEAD))).json()
    assert "terminate" in as_head["allowed_actions"] and "terminate" not in case["allowed_actions"]  # desk's view
    r = await act_raw(api, DESK, case, "terminate", effective_date="2026-08-28", **end)
    assert r.status_code == 409 and r.json()["error"]["code"] == "action_not_allowed_for_role"  # the head decides
    r = await act_raw(api, HEAD, case, "terminate", effective_date="2026-08-28", reason_code="withdrawn")
    assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "decision_number"
    case = await act(api, HEAD, case, "terminate", effective_date="2026-08-28", **end)
    assert case["status"] == "terminated" and case["reason_code"] == "withdrawn"
    assert timer(case, "resolution")["completed_on"] == "2026-08-28"
    # Fri 28 Aug 2026 + 3 working days: Mon 31 Aug (for Sat 22 Aug), 1–2 Sep off; Thu 3, Fri 4, Mon 7 Sep.
    notice = timer(case, "notify_termination")
    assert notice["due_date"] == "2026-09-07" and "155/2026" in notice["legal_basis"]
    case = await _notice(api, case, "notify_termination", "2026-09-04")
    assert timer(case, "notify_termination")["status"] == "met"


# ---- 4. Law 136/2025's transition: suspension only for complaints accepted from 2026-07-01 (LKN art. 11a) ----


async def test_law_136_transition_a_complaint_accepted_before_2026_07_01_cannot_be_suspended(api: Api) -> None:
    early = await intake(api, received_at="2026-06-22")
    early = await act(api, HEAD, early, "accept", effective_date="2026-06-26", decision_number="30/TB-TLKN")
    r = await act_raw(
        api, HEAD, early, "suspend", effective_date="2026-07-06", reason="Chờ kết quả giám định", decision_number="1"
    )
    error = r.json()["error"]
    assert r.status_code == 409 and error["code"] == "suspension_not_in_force"
    assert error["details"]["accepted_on"] == "2026-06-26" and error["details"]["suspension_from"] == "2026-07-01"
    assert "11a" in error["details"]["legal_basis"] and "136/2025" in error["details"]["legal_basis"]
    # Its period stays the old rules' one: Fri 26 Jun + 30 days = Sun 26 Jul → Mon 27 Jul 2026 (LKN art. 28).
    early = (await api.http.get(f"{V1}/cases/{early['id']}", headers=await api.headers(HEAD))).json()
    assert early["status"] == "accepted" and timer(early, "resolution")["due_date"] == "2026-07-27"

    later = await intake(api, received_at="2026-06-29")  # received before, accepted on the first day of Law 136
    later = await act(api, HEAD, later, "accept", effective_date="2026-07-01", decision_number="31/TB-TLKN")
    later = await act(
        api, HEAD, later, "suspend", effective_date="2026-07-06", reason="Chờ kết quả giám định", decision_number="2"
    )
    assert later["status"] == "suspended" and timer(later, "resolution")["status"] == "paused"
    assert timer(later, "notify_suspension")["due_date"] == "2026-07-09"  # Mon 6 Jul + 3 working days


# ---- 5. The breach sweep escalates only an unresolved resolution period (LTC art. 38) ----


async def _live_act(live: Live, user: str, case: dict[str, Any], action: str, **body: Any) -> dict[str, Any]:
    headers = {**await live.headers(user), "If-Match": str(case["version"])}
    r = await live.http.post(f"{V1}/cases/{case['id']}/actions/{action}", headers=headers, json=body)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_ltc_38_only_an_unresolved_resolution_period_escalates_a_late_notice_or_publication_does_not(
    live: Live,
) -> None:
    desk = await live.headers("xa.tiepdan")
    parties = [{"role": "denouncer", "full_name": "Lò Văn Pha"}, {"role": "accused", "full_name": "Cán bộ Y"}]
    made = []
    for title in ("Tố cáo chưa giải quyết", "Tố cáo công khai muộn"):
        body = {
            "kind": "denunciation",
            "field": "land",
            "channel": "in_person",
            "title": title,
            "content": f"{title}: cán bộ địa chính thu tiền trái phép khi cấp giấy chứng nhận.",
            "received_at": "2026-10-01",
            "parties": parties,
        }
        r = await live.http.post(f"{V1}/cases", headers=desk, json=body)
        assert r.status_code == 201, r.text
        made.append(
            await _live_act(
                live, "xa.chutich", r.json(), "accept", decision_number="4/QĐ-TLTC", effective_date="2026-10-05"
            )
        )
    unresolved, resolved = made
    # Mon 5 Oct 2026: notify the acceptance by Mon 12 Oct (5 working days, LTC art. 29); resolve by Wed 4 Nov (art. 30).
    assert timer(unresolved, "notify_acceptance")["due_date"] == "2026-10-12"
    assert timer(unresolved, "resolution")["due_date"] == "2026-11-04"
    resolved = await _live_act(
        live,
        "xa.chutich",
        resolved,
        "resolve",
        outcome="partly_correct",
        decision_number="9/KL",
        effective_date="2026-11-02",
    )
    # Mon 2 Nov: publish the conclusion within 7 working days (LTC art. 40) = Wed 11 Nov; never published.
    assert timer(resolved, "publish_conclusion")["due_date"] == "2026-11-11"
    ids = [c["id"] for c in made]
    engine = make_engine(live.url)
    maker = make_sessionmaker(engine)
    try:

        async def events() -> list[tuple[int, str, dict[str, Any]]]:
            async with maker() as db:
                rows = await db.execute(
                    sa.select(CaseEvent.case_id, CaseEvent.action, CaseEvent.payload)
                    .where(CaseEvent.case_id.in_(ids), CaseEvent.action.in_(["deadline_overdue", "escalated"]))
                    .order_by(CaseEvent.id)
                )
                return [(cid, action, dict(payload)) for cid, action, payload in rows.all()]

        await deadlines.sweep(maker, SETTINGS, date(2026, 10, 13))  # the acceptance notice is late
        assert [(c, a, p["timer"]) for c, a, p in await events()] == [
            (unresolved["id"], "deadline_overdue", "notify_acceptance"),
            (resolved["id"], "deadline_overdue", "notify_acceptance"),
        ]  # a breach of the notice duty; neither case is escalated
        # Resolution period over; the conclusion sent and published late.
        await deadlines.sweep(maker, SETTINGS, date(2026, 11, 12))
        late = [(c, a, p.get("timer"), p.get("to_unit_id")) for c, a, p in (await events())[2:]]
        head = await live.headers("tinh.chutich")
        province = (await live.http.get(f"{V1}/auth/me", headers=head)).json()["unit_id"]
        assert sorted(late, key=str) == sorted(
            [
                (unresolved["id"], "deadline_overdue", "resolution", None),
                (unresolved["id"], "escalated", "resolution", province),
                (resolved["id"], "deadline_overdue", "send_conclusion", None),  # due Mon 9 Nov (LTC art. 35)
                (resolved["id"], "deadline_overdue", "publish_conclusion", None),
            ],
            key=str,
        )
        await deadlines.sweep(maker, SETTINGS, date(2026, 11, 20))
        assert len(await events()) == 6  # once each
        overdue = (await live.http.get(f"{V1}/deadlines/overdue", headers=head)).json()["items"]
        cases = {c["case_id"]: c for c in overdue}
        assert cases[unresolved["id"]]["escalated_to_unit_id"] == province
        assert cases[resolved["id"]]["escalated_to_unit_id"] is None
    finally:
        await engine.dispose()


# ---- 6. Report figures: 02/XLD (LTCD art. 28) and 01/TCD (LTCD art. 9) ----


async def _commune(api: Api) -> int:
    unit = (await api.user("xa.tiepdan")).unit_id
    assert unit is not None
    return int(unit)


async def _form_row(api: Api, form: str, unit: int, start: str, end: str) -> dict[str, Any]:
    r = await api.http.get(
        f"{V1}/stats/forms/{form}",
        headers=await api.headers("thanhtra"),
        params={"from": start, "to": end, "unit_id": unit},
    )
    assert r.status_code == 200, r.text
    row = next(r for r in r.json()["rows"] if r["unit_id"] == unit and r["type"] == "unit")
    return dict(row["values"])


async def test_ltcd_28_a_petition_refused_as_outside_competence_counts_outside_competence_in_02_xld(api: Api) -> None:
    unit = await _commune(api)
    petition = await intake(api, "xa.tiepdan", kind="petition", received_at="2026-07-06")
    feedback = await intake(api, "xa.tiepdan", kind="feedback", received_at="2026-07-07")
    complaint = await intake(api, "xa.tiepdan", received_at="2026-07-08")
    ineligible = await intake(api, "xa.tiepdan", kind="petition", received_at="2026-07-08")
    refuse = {"reason_code": "not_competent", "reason": "Thuộc thẩm quyền Sở Tài nguyên và Môi trường"}
    await act(api, "xa.chutich", petition, "reject", effective_date="2026-07-10", **refuse)
    await act(api, "xa.chutich", feedback, "reject", effective_date="2026-07-13", **refuse)
    await act(api, "xa.chutich", complaint, "accept", effective_date="2026-07-15", decision_number="3/TB-TLKN")
    await act(
        api, "xa.chutich", ineligible, "reject", effective_date="2026-07-15", reason_code="ineligible", reason="Thiếu"
    )
    v = await _form_row(api, "xld", unit, "2026-07-01", "2026-07-31")
    # Eligible (TT 05/2021): all but the petition refused as not eligible, which is neither eligible nor within
    # competence (it is neither).
    assert (v["received"], v["processed"], v["eligible_letters"]) == (4, 4, 3)
    # Within competence: the accepted complaint only; never the two refused as outside competence, which are counted
    # as guided (outside competence).
    assert (v["competent"], v["competent_complaint"], v["competent_petition"]) == (1, 1, 0)
    assert (v["outside"], v["guided"], v["transferred"]) == (2, 2, 0)
    assert v["replies"] == 3  # the written answers: the three refusals


async def test_ltcd_9_a_visitor_refused_reception_is_in_the_register_but_not_counted_in_01_tcd(api: Api) -> None:
    unit = await _commune(api)
    desk = await api.headers("xa.tiepdan")
    session = {
        "unit_id": unit,
        "kind": "periodic",
        "mode": "direct",
        "in_person": True,
        "starts_at": "2026-07-07T08:00:00+07:00",
        "ends_at": "2026-07-07T11:00:00+07:00",
        "location": "Trụ sở UBND xã",
        "status": "held",
    }
    r = await api.http.post(f"{V1}/reception-sessions", headers=desk, json=session)
    assert r.status_code == 201, r.text
    sess = r.json()

    async def entry(**overrides: Any) -> dict[str, Any]:
        body = {
            "persons": [{"full_name": "Nguyễn Văn An", "address": "Thôn Khe Sang", "id_number": "015090001234"}],
            "kind": "complaint",
            "content": "Khiếu nại quyết định thu hồi đất đai của UBND xã.",
            "handling": "explained",
            **overrides,
        }
        r = await api.http.post(f"{V1}/reception-sessions/{sess['id']}/entries", headers=desk, json=body)
        assert r.status_code == 201, r.text
        return dict(r.json())

    await entry()
    refused = await entry(
        persons=[{"full_name": "Lê Văn Bảo", "address": "Thôn Nậm Chày", "id_number": "015085004321"}],
        handling="refused",
        refusal={"ground": "threats_or_insults"},
    )
    assert refused["refusal"]["legal_basis"] == "Luật Tiếp công dân, điều 9 khoản 2"
    listed = await api.http.get(f"{V1}/reception-sessions/{sess['id']}/entries", headers=desk)
    assert refused["id"] in [e["id"] for e in listed.json()["items"]]  # in the register, with the refusal
    v = await _form_row(api, "tcd", unit, "2026-07-01", "2026-07-31")
    assert (v["head_sessions"], v["head_visits"], v["head_people"]) == (1, 1, 1)
    assert (v["total_visits"], v["total_people"], v["total_matters"]) == (1, 1, 1)


# ---- 7. Complaints against disciplinary decisions on officers (LKN art. 46–51) ----


def _disciplinary(**overrides: Any) -> dict[str, Any]:
    return {
        "kind": "complaint",
        "field": "civil_service",
        "title": "Khiếu nại quyết định kỷ luật cảnh cáo",
        "content": "Tôi không đồng ý với quyết định kỷ luật cảnh cáo đối với tôi.",
        "disciplinary": True,
        "decision_known_date": "2027-01-29",  # the officer received the disciplinary decision on Fri 29 Jan 2027
        "parties": [{"role": "complainant", "full_name": "Vàng Seo Lử"}],
        **overrides,
    }


async def test_lkn_48_50_51_a_disciplinary_complaint_has_a_15_day_window_and_its_own_periods(
    api: Api, mid_2027: date
) -> None:
    # Window: 15 days (LKN art. 48) from Fri 29 Jan = Sat 13 Feb 2027 → Mon 15 Feb (BLDS art. 148), across Tết.
    on_time = await intake(api, "xa.tiepdan", **_disciplinary(received_at="2027-02-15"))
    assert on_time["disciplinary"] is True and on_time["warnings"] == []
    late = await intake(api, "xa.tiepdan", **_disciplinary(received_at="2027-02-16"))
    warning = late["warnings"][0]
    assert warning["code"] == "filing_window_passed" and warning["last_day"] == "2027-02-15"
    assert warning["legal_basis"] == "LKN art. 48" and late["status"] == "received"  # a warning, never a refusal
    ordinary = await intake(api, "xa.tiepdan", **_disciplinary(received_at="2027-02-16", disciplinary=False))
    assert ordinary["warnings"] == []  # 90 days (art. 9) for any other complaint

    # Acceptance as any complaint: 7 working days from Mon 15 Feb (Law 136) = Wed 24 Feb.
    assert timer(on_time, "acceptance")["due_date"] == "2027-02-24"
    case = await act(api, "xa.chutich", on_time, "accept", effective_date="2027-02-22", decision_number="2/TB-TLKN")
    resolution = timer(case, "resolution")
    # LKN art. 50: 30 days from Mon 22 Feb = Wed 24 Mar 2027 (no remote-area extension is written for it).
    assert (resolution["days"], resolution["due_date"]) == (30, "2027-03-24")
    assert "art. 50" in resolution["legal_basis"]
    case = await act(
        api, "xa.chutich", case, "resolve", effective_date="2027-03-23", outcome="correct", decision_number="9/QĐ"
    )
    complex_ = await act(
        api,
        "xa.chutich",
        late,
        "accept",
        effective_date="2027-02-22",
        decision_number="3/TB-TLKN",
        complexity="complex",
    )
    assert timer(complex_, "resolution")["due_date"] == "2027-04-08"  # complex: 45 days (art. 50), Thu 8 Apr
    # The second round (art. 51) goes to the province and keeps the flag; its period is 30 days (data).
    second = await intake(
        api,
        "tinh.tiepdan",
        **_disciplinary(
            received_at="2027-04-05",
            complaint_round=2,
            previous_case_id=case["id"],
            decision_known_date="2027-03-29",
            disciplinary=False,
        ),
    )
    assert second["disciplinary"] is True
    second = await act(api, HEAD, second, "accept", effective_date="2027-04-12", decision_number="4/TB-TLKN")
    # Mon 12 Apr + 30 days = Wed 12 May 2027 (an ordinary second round would have 45: Thu 27 May).
    assert (
        timer(second, "resolution")["due_date"] == "2027-05-12"
        and "art. 51" in timer(second, "resolution")["legal_basis"]
    )


async def test_lkn_46_a_disciplinary_complaint_is_a_complaint_in_the_civil_service_field_counted_there(
    api: Api, mid_2027: date
) -> None:
    h = await api.headers("xa.tiepdan")
    for wrong in ({"kind": "denunciation"}, {"field": "land"}):
        r = await api.http.post(f"{V1}/cases", headers=h, json={**_disciplinary(received_at="2027-02-15"), **wrong})
        assert r.status_code == 422, r.text
    case = await intake(api, "xa.tiepdan", **_disciplinary(received_at="2027-02-15"))
    await act(api, "xa.chutich", case, "accept", effective_date="2027-02-22", decision_number="2/TB-TLKN")
    v = await _form_row(api, "xld", await _commune(api), "2027-02-01", "2027-02-28")
    assert (v["complaint"], v["competent_complaint"], v["field_civil_service"]) == (1, 1, 1)


# ---- 8. Further denunciations (tố cáo tiếp, LTC art. 38.1) ----


def _denunciation(**overrides: Any) -> dict[str, Any]:
    return {
        "kind": "denunciation",
        "field": "land",
        "title": "Tố cáo cán bộ địa chính",
        "content": "Cán bộ địa chính xã thu tiền trái phép khi đo đạc đất.",
        "parties": [{"role": "denouncer", "full_name": "Lò Văn Pha"}, {"role": "accused", "full_name": "Cán bộ Z"}],
        **overrides,
    }


async def test_ltc_38_1_a_further_denunciation_names_an_earlier_one_unresolved_in_time_or_decided_and_goes_above(
    api: Api,
) -> None:
    commune, province = await _commune(api), (await api.user(DESK)).unit_id
    # D1: accepted Mon 7 Sep 2026 by the commune, to be resolved by Wed 7 Oct (LTC art. 30); never resolved.
    d1 = await intake(api, "xa.tiepdan", **_denunciation(received_at="2026-09-03"))
    d1 = await act(api, "xa.chutich", d1, "accept", effective_date="2026-09-07", decision_number="11/QĐ-TLTC")
    assert timer(d1, "resolution")["due_date"] == "2026-10-07"
    # D2: accepted the same day and concluded on Mon 28 Sep.
    d2 = await intake(api, "xa.tiepdan", **_denunciation(received_at="2026-09-03", title="Tố cáo cán bộ tư pháp"))
    d2 = await act(api, "xa.chutich", d2, "accept", effective_date="2026-09-07", decision_number="12/QĐ-TLTC")
    d2 = await act(
        api, "xa.chutich", d2, "resolve", effective_date="2026-09-28", outcome="false", decision_number="3/KL-TC"
    )
    up = await api.headers(DESK)

    async def further(user_headers: dict[str, str], **overrides: Any) -> Any:
        return await api.http.post(f"{V1}/cases", headers=user_headers, json=_denunciation(**overrides))

    r = await further(up, received_at="2026-10-05", previous_case_id=d1["id"])  # its period still runs
    error = r.json()["error"]
    assert r.status_code == 409 and error["code"] == "further_denunciation_premature"
    assert error["details"]["resolution_due_date"] == "2026-10-07"
    assert error["details"]["legal_basis"] == "LTC art. 38.1"
    r = await further(await api.headers("xa.tiepdan"), received_at="2026-10-08", previous_case_id=d1["id"])
    assert r.status_code == 422 and r.json()["error"]["code"] == "further_denunciation_wrong_unit"
    assert r.json()["error"]["details"]["required_unit_id"] == province  # the head directly above the resolver
    r = await further(up, received_at="2026-10-08", previous_case_id=d1["id"])  # overdue and undecided: allowed
    assert r.status_code == 201, r.text
    f1 = r.json()
    assert f1["previous_case_id"] == d1["id"] and f1["competent_unit_id"] == province
    r = await further(up, received_at="2026-10-09", previous_case_id=d2["id"], title="Tố cáo tiếp")  # decided
    assert r.status_code == 201, r.text
    # A repeat letter to the same unit about the decided D2 is a repeat, not a further denunciation.
    again = await intake(
        api, "xa.tiepdan", **_denunciation(received_at="2026-10-12", repeat_of_case_id=d2["id"], title="Gửi lại")
    )
    await act(api, HEAD, f1, "accept", effective_date="2026-10-12", decision_number="40/QĐ-TLTC")
    await act(api, "xa.chutich", again, "accept", effective_date="2026-10-14", decision_number="13/QĐ-TLTC")
    r = await api.http.get(
        f"{V1}/stats/forms/gqtc",
        headers=await api.headers("thanhtra"),
        params={"from": "2026-10-01", "to": "2026-10-31", "unit_id": province},
    )
    rows = {(row["unit_id"], row["type"]): row["values"] for row in r.json()["rows"]}
    # 04/GQTC column 4 (Trong đó tố cáo tiếp): the province's F1 only; the commune's repeat letter is not one.
    assert (rows[(province, "unit")]["new"], rows[(province, "unit")]["repeat"]) == (1, 1)
    assert (rows[(commune, "unit")]["new"], rows[(commune, "unit")]["repeat"]) == (1, 0)


async def test_ltc_38_the_head_directly_above_records_an_unlawful_resolution_and_the_case_is_escalated(
    api: Api,
) -> None:
    province = (await api.user(HEAD)).unit_id
    case = await intake(api, "xa.tiepdan", **_denunciation(received_at="2026-09-03"))
    case = await act(api, "xa.chutich", case, "accept", effective_date="2026-09-07", decision_number="11/QĐ-TLTC")

    async def record(user: str, case: dict[str, Any], **body: Any) -> Any:
        headers = {**await api.headers(user), "If-Match": str(case["version"])}
        payload = {"reason": "Kết luận không đúng pháp luật", **body}
        return await api.http.post(f"{V1}/cases/{case['id']}/unlawful-resolution", headers=headers, json=payload)

    r = await record(HEAD, case)
    assert r.status_code == 409  # not decided: an unresolved period is the sweep's ground, not this one
    case = await act(
        api, "xa.chutich", case, "resolve", effective_date="2026-09-28", outcome="false", decision_number="3/KL-TC"
    )
    assert (await record("xa.chutich", case)).status_code == 403  # the resolver's own unit does not judge itself
    r = await record(HEAD, case, effective_date="2026-09-25")
    assert r.status_code == 422 and r.json()["error"]["details"]["previous_step_date"] == "2026-09-28"
    r = await record(HEAD, case, effective_date="2026-10-20", decision_number="7/KL-TTr")
    assert r.status_code == 200, r.text
    events = (await api.http.get(f"{V1}/cases/{case['id']}/events", headers=await api.headers(HEAD))).json()["items"]
    escalated = [e for e in events if e["action"] == "escalated"]
    assert len(escalated) == 1 and escalated[0]["effective_date"] == "2026-10-20"
    assert escalated[0]["payload"]["ground"] == "unlawful_resolution"
    assert escalated[0]["payload"]["to_unit_id"] == province
    row = await api.session.get(Case, case["id"])
    assert row is not None and row.escalated_to_unit_id == province


# ---- Audit, second round: a notice meets one duty; complexity only while the period runs; 02/XLD eligibility;
# a session with register entries took place ----


def _duties(case: dict[str, Any], name: str) -> dict[str, dict[str, Any]]:
    """The duties of one name, by the date of the decision that started each."""
    return {t["start_date"]: t for t in case["timers"] if t["name"] == name}


async def _suspended_twice(api: Api) -> dict[str, Any]:
    """A complaint received Mon 20 Jul 2026, accepted Mon 27 Jul, suspended Mon 3 Aug (notice due Thu 6 Aug), resumed
    Mon 10 Aug, suspended again Mon 17 Aug (notice due Thu 20 Aug)."""
    case = await intake(api, received_at="2026-07-20")
    case = await act(api, HEAD, case, "accept", effective_date="2026-07-27", decision_number="1/TB-TLKN")
    case = await act(
        api, HEAD, case, "suspend", effective_date="2026-08-03", reason="Chờ giám định", decision_number="2"
    )
    case = await act(api, HEAD, case, "resume", effective_date="2026-08-10", decision_number="3/QĐ")
    case = await act(api, HEAD, case, "suspend", effective_date="2026-08-17", reason="Chờ lần 2", decision_number="4")
    duties = _duties(case, "notify_suspension")
    assert {d: t["due_date"] for d, t in duties.items()} == {"2026-08-03": "2026-08-06", "2026-08-17": "2026-08-20"}
    return case


async def test_decree_155_a_notice_meets_only_the_duty_of_the_decision_it_notifies(api: Api) -> None:
    """Decree 155/2026/NĐ-CP: each suspension decision is sent within 3 working days, and every step is dated on or
    after the step before it: the notice of 5 Aug meets the duty of the 3 Aug decision, never that of 17 Aug (a
    notice is not sent before its decision)."""
    case = await _suspended_twice(api)
    case = await _notice(api, case, "notify_suspension", "2026-08-05")
    duties = _duties(case, "notify_suspension")
    assert (duties["2026-08-03"]["status"], duties["2026-08-03"]["completed_on"]) == ("met", "2026-08-05")
    assert duties["2026-08-17"]["completed_on"] is None  # still owed
    case = await _notice(api, case, "notify_suspension", "2026-08-19")
    assert [t["status"] for t in _duties(case, "notify_suspension").values()] == ["met", "met"]

    # Recorded in the reverse order: the 18 Aug notice (of the 17 Aug decision) first, then the real 5 Aug one.
    other = await _suspended_twice(api)
    other = await _notice(api, other, "notify_suspension", "2026-08-18")
    duties = _duties(other, "notify_suspension")
    assert duties["2026-08-17"]["completed_on"] == "2026-08-18" and duties["2026-08-03"]["completed_on"] is None
    other = await _notice(api, other, "notify_suspension", "2026-08-05")
    duties = _duties(other, "notify_suspension")
    assert [(d["status"], d["completed_on"]) for d in duties.values()] == [("met", "2026-08-05"), ("met", "2026-08-18")]


async def test_decree_155_a_late_notice_names_the_decision_it_notifies(api: Api) -> None:
    """The first decision's notice went out late, on Tue 18 Aug: `decision_date` names the 3 Aug decision, whose duty
    is met late; the 17 Aug decision's duty stays owed. A date no open duty started on is refused."""
    case = await _suspended_twice(api)
    headers = await api.headers(DESK)
    url = f"{V1}/cases/{case['id']}/notices"
    r = await api.http.post(url, headers=headers, json={"timer": "notify_suspension", "sent_on": "2026-08-18",
                                                        "decision_date": "2026-08-03"})  # fmt: skip
    assert r.status_code == 200, r.text
    duties = _duties(r.json(), "notify_suspension")
    assert (duties["2026-08-03"]["status"], duties["2026-08-03"]["completed_on"]) == ("met_late", "2026-08-18")
    assert duties["2026-08-17"]["completed_on"] is None
    for decision_date in ("2026-08-03", "2026-08-10"):  # already met; no suspension that day
        r = await api.http.post(url, headers=headers, json={"timer": "notify_suspension", "sent_on": "2026-08-19",
                                                            "decision_date": decision_date})  # fmt: skip
        assert r.status_code == 422 and r.json()["error"]["code"] == "no_such_notice", r.text
        assert r.json()["error"]["details"]["open_decisions"] == ["2026-08-17"]
    # A notice dated before the decision it names is refused as before.
    r = await api.http.post(url, headers=headers, json={"timer": "notify_suspension", "sent_on": "2026-08-14",
                                                        "decision_date": "2026-08-17"})  # fmt: skip
    assert r.status_code == 422 and r.json()["error"]["details"]["previous_step_date"] == "2026-08-17"
    r = await api.http.post(url, headers=headers, json={"timer": "notify_suspension", "sent_on": "2026-08-20",
                                                        "decision_date": "2026-08-17"})  # fmt: skip
    assert r.status_code == 200, r.text
    assert [t["status"] for t in _duties(r.json(), "notify_suspension").values()] == ["met_late", "met"]


def test_decree_155_the_engine_picks_the_duty_of_the_decision_a_notice_follows() -> None:
    """workflows.deadlines.notice_duty, pure: the latest open duty started on or before the notice, or the one
    started on the decision date given."""
    cal_start = [date(2026, 8, 3), date(2026, 8, 17)]
    timers = [dl.Timer("notify_suspension", dl.Basis.working, 3, start, "Decree 155/2026") for start in cal_start]
    assert dl.notice_duty(timers, "notify_suspension", date(2026, 8, 5)) == 0
    assert dl.notice_duty(timers, "notify_suspension", date(2026, 8, 18)) == 1
    assert dl.notice_duty(timers, "notify_suspension", date(2026, 8, 18), date(2026, 8, 3)) == 0
    assert dl.notice_duty(timers, "notify_suspension", date(2026, 8, 18), date(2026, 8, 10)) is None
    assert dl.notice_duty(timers, "notify_resumption", date(2026, 8, 18)) is None
    # Dated before every open duty: the earliest, so that the step order refuses it by that decision's date.
    assert dl.notice_duty(timers, "notify_suspension", date(2026, 8, 1)) == 0
    met = dl.complete_one(timers, 1, date(2026, 8, 18))
    assert [t.completed_on for t in met] == [None, date(2026, 8, 18)]


@pytest.fixture
def dec_6_2026(monkeypatch: pytest.MonkeyPatch) -> date:
    """The service's legal date fixed at Sun 6 Dec 2026."""
    day = date(2026, 12, 6)
    monkeypatch.setattr(clock, "fixed_today", day)
    return day


async def test_lkn_28_complexity_is_raised_only_while_the_resolution_period_still_runs(
    api: Api, dec_6_2026: date
) -> None:
    """LKN art. 28; LEGAL.md: an extension is decided while the period it extends still runs. A complaint accepted
    Mon 2 Nov 2026 is due Wed 2 Dec (30 days). On Sun 6 Dec the head cannot raise complexity to turn the 30 days into
    45 and clear the overdue: 409 naming the due date. Dated on its real day (2 Dec, the last day), the decision
    stands and the period ends Thu 17 Dec."""
    case = await intake(api, received_at="2026-10-28")
    case = await act(api, HEAD, case, "accept", effective_date="2026-11-02", decision_number="1/TB-TLKN")
    assert (timer(case, "resolution")["due_date"], timer(case, "resolution")["status"]) == ("2026-12-02", "overdue")

    async def raise_(**body: Any) -> Any:
        headers = {**await api.headers(HEAD), "If-Match": str(case["version"])}
        payload = {"complexity": "complex", "reason": "Nhiều tình tiết", **body}
        return await api.http.post(f"{V1}/cases/{case['id']}/complexity", headers=headers, json=payload)

    for body in ({}, {"effective_date": "2026-12-03"}):  # today (6 Dec) by default, or the day after the due date
        r = await raise_(**body)
        assert r.status_code == 409, r.text
        error = r.json()["error"]
        assert error["code"] == "period_already_ended" and error["details"]["due_date"] == "2026-12-02"
    r = await raise_(effective_date="2026-12-07")
    assert r.status_code == 422 and r.json()["error"]["code"] == "date_in_future"
    r = await raise_(effective_date="2026-10-30")  # before the acceptance
    assert r.status_code == 422 and r.json()["error"]["details"]["previous_step_date"] == "2026-11-02"
    got = (await api.http.get(f"{V1}/cases/{case['id']}", headers=await api.headers(HEAD))).json()
    assert (got["complexity"], timer(got, "resolution")["status"]) == ("normal", "overdue")  # nothing changed

    r = await raise_(effective_date="2026-12-02")
    assert r.status_code == 200, r.text
    assert (r.json()["complexity"], timer(r.json(), "resolution")["due_date"]) == ("complex", "2026-12-17")
    events = (await api.http.get(f"{V1}/cases/{case['id']}/events", headers=await api.headers(HEAD))).json()["items"]
    decided = [e for e in events if e["action"] == "complexity_decided"]
    assert len(decided) == 1 and decided[0]["effective_date"] == "2026-12-02"


async def test_tt_05_2021_a_letter_refused_as_not_eligible_is_neither_eligible_nor_within_competence_in_02_xld(
    api: Api,
) -> None:
    """TT 05/2021/TT-TTCP; LTCD art. 28: 02/XLD columns 6–7 count the letters eligible for processing and 14–17 break
    down those within competence. A petition refused as not eligible (no address, no signature) in August 2026 is
    received and processed, but neither eligible nor within competence; a complaint refused as unsigned (LKN art.
    11.5) and a denunciation refused for its form (LTC art. 29.1.a: no name, address or signature) neither."""
    unit = await _commune(api)
    petition = await intake(api, "xa.tiepdan", kind="petition", received_at="2026-08-03")
    await act(api, "xa.chutich", petition, "reject", effective_date="2026-08-05", reason_code="ineligible",
              reason="Đơn không ghi địa chỉ, không ký tên")  # fmt: skip
    v = await _form_row(api, "xld", unit, "2026-08-01", "2026-08-31")
    assert (v["received"], v["processed"]) == (1, 1)
    assert (v["eligible_letters"], v["eligible_matters"], v["petition"]) == (0, 0, 0)
    assert (v["competent"], v["competent_petition"], v["outside"]) == (0, 0, 0)
    assert v["replies"] == 1  # the written refusal went out all the same

    complaint = await intake(api, "xa.tiepdan", received_at="2026-08-04")
    await act(api, "xa.chutich", complaint, "reject", effective_date="2026-08-06", reason_code="unsigned",
              reason="Đơn không có chữ ký")  # fmt: skip
    denunciation = await intake(
        api,
        "xa.tiepdan",
        kind="denunciation",
        received_at="2026-08-04",
        parties=[{"role": "denouncer", "full_name": "Lò Văn Pha"}, {"role": "accused", "full_name": "Cán bộ X"}],
    )
    await act(api, "xa.chutich", denunciation, "reject", effective_date="2026-08-06", reason_code="form_not_met",
              reason="Đơn tố cáo không ghi địa chỉ, không ký")  # fmt: skip
    accepted = await intake(api, "xa.tiepdan", received_at="2026-08-05")
    await act(api, "xa.chutich", accepted, "accept", effective_date="2026-08-07", decision_number="9/TB-TLKN")
    v = await _form_row(api, "xld", unit, "2026-08-01", "2026-08-31")
    assert (v["received"], v["processed"], v["eligible_letters"], v["complaint"], v["denunciation"]) == (4, 4, 1, 1, 0)
    assert (v["competent"], v["competent_complaint"], v["competent_denunciation"]) == (1, 1, 0)


async def _head_session(api: Api, day: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "unit_id": await _commune(api),
        "kind": "periodic",
        "mode": "direct",
        "in_person": True,
        "starts_at": f"{day}T08:00:00+07:00",
        "ends_at": f"{day}T11:00:00+07:00",
        "location": "Trụ sở UBND xã",
        "status": "scheduled",
        **overrides,
    }
    r = await api.http.post(f"{V1}/reception-sessions", headers=await api.headers("xa.tiepdan"), json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def _register(api: Api, session: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    body = {
        "persons": [{"full_name": "Nguyễn Văn An", "address": "Thôn Khe Sang", "id_number": "015090001234"}],
        "kind": "petition",
        "content": "Kiến nghị sửa đường liên thôn.",
        "handling": "explained",
        **overrides,
    }
    r = await api.http.post(
        f"{V1}/reception-sessions/{session['id']}/entries", headers=await api.headers("xa.tiepdan"), json=body
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_ltcd_25_a_session_with_register_entries_took_place_and_counts_as_held(api: Api) -> None:
    """LTCD art. 25: the register is the record of who was received. The commune chair's periodic day Thu 5 Nov 2026
    was left `scheduled`; a visitor written in its register makes it held (audited with the entry), and 01/TCD
    (column 12 sessions beside column 13 visits) and the monthly compliance count it. Data written before this rule
    (a session with entries left scheduled, or cancelled as older versions allowed) is counted as held too."""
    unit = await _commune(api)
    session = await _head_session(api, "2026-11-05")
    entry = await _register(api, session)
    got = await api.http.get(f"{V1}/reception-sessions/{session['id']}", headers=await api.headers("xa.tiepdan"))
    assert got.json()["status"] == "held" and got.json()["version"] == session["version"] + 1
    audits = (
        await api.session.execute(
            sa.select(AuditEvent.entity, AuditEvent.action, AuditEvent.payload).where(
                sa.or_(
                    sa.and_(AuditEvent.entity == "reception_session", AuditEvent.entity_id == str(session["id"])),
                    sa.and_(AuditEvent.entity == "reception_entry", AuditEvent.entity_id == str(entry["id"])),
                )
            )
        )
    ).all()
    moved = [p for e, a, p in audits if e == "reception_session" and a == "update"]
    assert moved == [{"from_status": "scheduled", "to_status": "held", "fields": ["status"], "entry_id": entry["id"]}]
    assert [a for e, a, _ in audits if e == "reception_entry"] == ["create"]

    v = await _form_row(api, "tcd", unit, "2026-11-01", "2026-11-30")
    assert (v["head_sessions"], v["head_visits"]) == (1, 1)
    r = await api.http.get(
        f"{V1}/reception-sessions/compliance", headers=await api.headers("thanhtra"),
        params={"period": "2026-11", "unit_id": unit},
    )  # fmt: skip
    row = next(x for x in r.json()["items"] if x["unit_id"] == unit)
    assert (row["in_person_days"], row["counted_days"]) == (1, 1)

    # Older data: one session with entries left scheduled, another cancelled (19 and 26 Nov); a cancelled one without
    # entries (24 Nov) counts nowhere.
    for day, stored in (("2026-11-19", "scheduled"), ("2026-11-26", "cancelled")):
        older = await _head_session(api, day)
        await _register(api, older)
        row_ = await api.session.get(ReceptionSession, older["id"])
        assert row_ is not None
        row_.status = stored
        await api.session.flush()
    empty = await _head_session(api, "2026-11-24")
    r = await api.http.patch(
        f"{V1}/reception-sessions/{empty['id']}", headers=await api.headers("xa.chutich"),
        json={"status": "cancelled", "cancel_reason": "Họp đột xuất"},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    v = await _form_row(api, "tcd", unit, "2026-11-01", "2026-11-30")
    assert (v["head_sessions"], v["head_visits"]) == (3, 3)
    r = await api.http.get(
        f"{V1}/reception-sessions/compliance", headers=await api.headers("thanhtra"),
        params={"period": "2026-11", "unit_id": unit},
    )  # fmt: skip
    row = next(x for x in r.json()["items"] if x["unit_id"] == unit)
    assert row["in_person_days"] == 3


# ---- The second audit (round 2): W4, W3, W1, N8–N12, Q2 ----


async def _compliance_row(api: Api, period: str, unit: int) -> dict[str, Any]:
    r = await api.http.get(
        f"{V1}/reception-sessions/compliance", headers=await api.headers("thanhtra"),
        params={"period": period, "unit_id": unit},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    return dict(next(x for x in r.json()["items"] if x["unit_id"] == unit))


async def test_decree_154_the_written_refusal_notice_is_owed_only_for_refusals_from_2026_07_01(api: Api) -> None:
    """Decree 154/2026 (in force 2026-07-01; rules go by the event's date): a visitor refused on Fri 24 Apr 2026
    (LTCD art. 9.1) owes no dated written notice — no due date, never overdue; one refused on Fri 28 Aug 2026 owes it
    within 3 working days: Mon 31 Aug off, 1–2 Sep National Day, so Thu 3, Fri 4, Mon 7 Sep."""
    refusal = {"ground": "incapacitated"}
    for day, due, overdue in (("2026-04-24", None, False), ("2026-08-28", "2026-09-07", True)):
        session = await _head_session(api, day, status="held")
        entry = await _register(api, session, handling="refused", refusal=refusal, content="Say rượu")
        assert (entry["refusal"]["notice_due_date"], entry["refusal"]["notice_overdue"]) == (due, overdue), day


async def test_decree_154_an_online_session_without_its_recording_never_counts_as_held_even_with_entries(
    api: Api,
) -> None:
    """Decree 154/2026 art. 16–24: an online session is recorded and kept, and one without its recording cannot be
    marked held (422 recording_required). The commune chair's online periodic day Thu 8 Oct 2026 is left scheduled
    with no recording and one citizen written in its register: it is not a day held in October's compliance nor a
    session of 01/TCD (column 12); the visitor stays in the register. With its recording it counts."""
    unit = await _commune(api)
    online = {"mode": "online", "online_link": "https://meet.example.vn/x", "citizens_notified_on": "2026-09-28"}
    session = await _head_session(api, "2026-10-08", **online)
    r = await api.http.patch(
        f"{V1}/reception-sessions/{session['id']}", headers=await api.headers("xa.chutich"), json={"status": "held"}
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "recording_required", r.text
    await _register(api, session)
    got = await api.http.get(f"{V1}/reception-sessions/{session['id']}", headers=await api.headers("xa.tiepdan"))
    assert got.json()["status"] == "scheduled"
    row = await _compliance_row(api, "2026-10", unit)
    assert (row["in_person_days"], row["counted_days"]) == (0, 0), row
    v = await _form_row(api, "tcd", unit, "2026-10-01", "2026-10-31")
    assert (v["head_sessions"], v["head_visits"]) == (0, 1)
    # The recording added later: the session may be held, and counts.
    r = await api.http.patch(
        f"{V1}/reception-sessions/{session['id']}", headers=await api.headers("xa.chutich"),
        json={"recording_ref": "REC-2026-10-08", "status": "held"},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    assert (await _compliance_row(api, "2026-10", unit))["counted_days"] == 1
    assert (await _form_row(api, "tcd", unit, "2026-10-01", "2026-10-31"))["head_sessions"] == 1


async def test_ltcd_15_before_2026_07_01_the_commune_chair_receives_one_day_in_each_week(api: Api) -> None:
    """LTCD art. 15.1 (before Law 136/2025): the commune chair receives at least 1 day in each week. Weeks are Monday
    to Sunday, each in the month of its Monday: June 2026 has the weeks of Mon 1, 8, 15, 22 and 29. Five periodic
    days Mon 1 – Fri 5 June and none after: the first week's surplus makes up no other week — 4 short, the weeks of 8,
    15, 22 and 29 June named. A day in the week of Mon 29 June that falls in July under the old rule would belong to
    June; from 1 July Law 136's monthly rule counts July's own days (below: Thu 2 July counts for July, not June)."""
    unit = await _commune(api)
    for day in range(1, 6):
        await _head_session(api, f"2026-06-0{day}", status="held")
    await _head_session(api, "2026-07-02", status="held")
    june = await _compliance_row(api, "2026-06", unit)
    assert (june["required_days"], june["counted_days"], june["shortfall"]) == (5, 5, 4), june
    assert june["months"][0]["weeks_short"] == ["2026-06-08", "2026-06-15", "2026-06-22", "2026-06-29"]
    july = await _compliance_row(api, "2026-07", unit)
    assert (july["required_days"], july["counted_days"], july["shortfall"]) == (2, 1, 1), july
    assert july["months"][0]["weeks_short"] == []


def test_ltcd_15_a_week_split_across_two_months_counts_once_in_the_month_of_its_monday() -> None:
    """LTCD art. 15.1 in 2025 (weekly rule in both months): the week of Mon 29 Sep 2025 runs to Sun 5 Oct; a day on
    Thu 2 Oct 2025 meets September's last week, and October's first week is that of Mon 6 Oct."""
    assert rules.duty_month("commune", date(2025, 10, 2)) == date(2025, 9, 1)
    assert rules.duty_month("commune", date(2025, 10, 6)) == date(2025, 10, 1)
    assert rules.duty_month("commune", date(2026, 7, 2)) == date(2026, 7, 1)  # July 2026: a monthly rule
    assert rules.last_duty_day("commune", date(2025, 9, 1)) == date(2025, 10, 5)
    assert rules.last_duty_day("commune", date(2026, 6, 1)) == date(2026, 6, 30)
    sep = rules.month_compliance("commune", date(2025, 9, 1), {date(2025, 9, 3), date(2025, 10, 2)}, set())
    assert sep is not None and (sep.required, sep.shortfall) == (5, 3)
    assert sep.weeks_short == (date(2025, 9, 8), date(2025, 9, 15), date(2025, 9, 22))


async def test_tt_05_2021_a_further_denunciation_about_a_decided_case_counts_settled_once_in_02_xld(
    api: Api, mid_2027: date
) -> None:
    """02/XLD columns 11–13 (TT 05/2021/TT-TTCP: by the matter's status — settled once, more, not yet). The commune's
    denunciation accepted Mon 4 Jan 2027 and concluded Mon 25 Jan; on Mon 15 Feb 2027 (after Tết) the denouncer takes
    it to the province as a further denunciation (LTC art. 38.1): its matter was settled once. Another accepted Wed
    16 Dec 2026 (30 days: Fri 15 Jan 2027) and left unresolved, taken up on Mon 18 Jan: not yet settled. 04/GQTC
    column 4 counts both as further denunciations."""
    decided = await intake(api, "xa.tiepdan", **_denunciation(received_at="2026-12-28"))
    decided = await act(api, "xa.chutich", decided, "accept", effective_date="2027-01-04", decision_number="1/QĐ-TL")
    decided = await act(
        api, "xa.chutich", decided, "resolve", effective_date="2027-01-25", outcome="false", decision_number="2/KL"
    )
    late = _denunciation(
        received_at="2026-12-14",
        title="Tố cáo cán bộ tư pháp",
        content="Cán bộ tư pháp xã nhận tiền khi chứng thực hợp đồng.",
        parties=[{"role": "denouncer", "full_name": "Vàng Thị Dua"}, {"role": "accused", "full_name": "Cán bộ Y"}],
    )
    overdue = await intake(api, "xa.tiepdan", **late)
    overdue = await act(api, "xa.chutich", overdue, "accept", effective_date="2026-12-16", decision_number="3/QĐ-TL")
    for earlier, body, on in ((decided, _denunciation(), "2027-02-15"), (overdue, late, "2027-01-18")):
        r = await api.http.post(
            f"{V1}/cases",
            headers=await api.headers(DESK),
            json={**body, "received_at": on, "previous_case_id": earlier["id"], "title": "Tố cáo tiếp"},
        )
        assert r.status_code == 201, r.text
        await act(api, HEAD, r.json(), "accept", effective_date=on, decision_number=f"{on}/QĐ-TL")
    unit = int((await api.user(DESK)).unit_id or 0)
    x = await _form_row(api, "xld", unit, "2026-12-15", "2027-03-14")
    assert (x["eligible_letters"], x["settled_once"], x["settled_more"], x["not_settled"]) == (2, 1, 0, 1), x
    assert (await _form_row(api, "gqtc", unit, "2026-12-15", "2027-03-14"))["repeat"] == 2


async def test_ltc_38_1_a_suspension_after_the_period_passed_does_not_stop_a_further_denunciation(api: Api) -> None:
    """LTC art. 38.1; suspended time is not counted only while a period runs (LTC art. 34). The commune's
    denunciation accepted Mon 3 Aug 2026: 30 days = Wed 2 Sep (National Day) -> Thu 3 Sep, unresolved. A suspension
    dated Mon 7 Sep is refused (409 period_already_ended with the due date); on Tue 8 Sep the denouncer takes it to
    the province as a further denunciation. A record suspended after its due date before that refusal existed is
    unresolved in time all the same (domain.unresolved_in_time compares the dates as period_ended does); one
    suspended on Tue 1 Sep, while the period ran, is not."""
    d = await intake(api, "xa.tiepdan", **_denunciation(received_at="2026-07-28"))
    d = await act(api, "xa.chutich", d, "accept", effective_date="2026-08-03", decision_number="1/QĐ-TLTC")
    assert timer(d, "resolution")["due_date"] == "2026-09-03"
    r = await act_raw(
        api, "xa.chutich", d, "suspend", effective_date="2026-09-07", reason="Chờ giám định", decision_number="2/QĐ"
    )
    assert r.status_code == 409 and r.json()["error"]["details"]["due_date"] == "2026-09-03", r.text
    r = await api.http.post(
        f"{V1}/cases",
        headers=await api.headers(DESK),
        json=_denunciation(received_at="2026-09-08", previous_case_id=d["id"], title="Tố cáo tiếp"),
    )
    assert r.status_code == 201, r.text

    resolution = dl.Timer("resolution", Basis.calendar, 30, date(2026, 8, 3), "LTC art. 30")
    cal = WorkCalendar()
    for paused_since, passed in ((date(2026, 9, 7), date(2026, 9, 3)), (date(2026, 9, 1), None)):
        earlier = Case(timers=[replace(resolution, paused_since=paused_since).to_dict()])
        assert domain.unresolved_in_time(earlier, date(2026, 9, 8), cal) == passed


async def _complexity(api: Api, case: dict[str, Any], value: str, on: str) -> Any:
    h = {**await api.headers(HEAD), "If-Match": str(case["version"])}
    body = {"complexity": value, "reason": "Nhiều tình tiết", "effective_date": on}
    return await api.http.post(f"{V1}/cases/{case['id']}/complexity", headers=h, json=body)


async def test_lkn_11a_ltc_34_a_suspension_dated_after_the_period_ended_is_refused_and_the_case_stays_overdue(
    api: Api,
) -> None:
    """LKN art. 11a, LTC art. 34: suspended time is not counted — a suspension stops a period that still runs. A
    complaint accepted Mon 2 Nov 2026 (30 days: Wed 2 Dec) is overdue from Thu 3 Dec; a suspension dated Fri 4 Dec is
    refused (409 period_already_ended with the due date, as a late complexity decision is) and the case is still
    listed overdue; one dated Wed 2 Dec, the last day, stops the period."""
    c = await intake(api, received_at="2026-10-28")
    c = await act(api, HEAD, c, "accept", effective_date="2026-11-02", decision_number="1/TB")
    assert timer(c, "resolution")["due_date"] == "2026-12-02"
    r = await act_raw(api, HEAD, c, "suspend", effective_date="2026-12-04", reason="Chờ", decision_number="2/QĐ")
    assert r.status_code == 409, r.text
    error = r.json()["error"]
    assert (error["code"], error["details"]["due_date"]) == ("period_already_ended", "2026-12-02")
    listed = await api.http.get(f"{V1}/cases", headers=await api.headers(HEAD), params={"overdue": "true"})
    assert c["id"] in [x["id"] for x in listed.json()["items"]]
    c = await act(api, HEAD, c, "suspend", effective_date="2026-12-02", reason="Chờ", decision_number="2/QĐ")
    assert timer(c, "resolution")["status"] == "paused"


async def test_ltc_30_an_extension_never_lowers_the_complexity_the_head_decided(api: Api, mid_2027: date) -> None:
    """LTC art. 30: an especially complex denunciation may be extended twice. Accepted Mon 1 Mar 2027 and decided
    especially complex on Tue 2 Mar; the first extension on Mon 29 Mar names `complex` (a slip): the case stays
    especially complex (60 days: Fri 30 Apr, off to Mon 3 May -> Tue 4 May) and its second extension on Mon 26 Apr is
    allowed (90 days: Sun 30 May -> Mon 31 May)."""
    d = await intake(api, **_denunciation(received_at="2027-02-26"))
    d = await act(api, HEAD, d, "accept", effective_date="2027-03-01", decision_number="1/QĐ-TL")
    r = await _complexity(api, d, "especially_complex", "2027-03-02")
    assert r.status_code == 200, r.text
    d = await act(
        api, HEAD, r.json(), "extend", effective_date="2027-03-29", reason="Phức tạp", decision_number="2/GH",
        complexity="complex",
    )  # fmt: skip
    assert d["complexity"] == "especially_complex"
    assert timer(d, "resolution")["due_date"] == "2027-05-04"
    d = await act(api, HEAD, d, "extend", effective_date="2027-04-26", reason="Lần 2", decision_number="3/GH")
    assert timer(d, "resolution")["due_date"] == "2027-05-31"


async def test_law_136_transition_a_complaint_accepted_before_2026_07_01_is_terminated_only_on_withdrawal(
    api: Api,
) -> None:
    """LKN art. 10 before Law 136/2025; LKN art. 11a from 2026-07-01 (rules by the acceptance date). A complaint
    accepted Tue 30 Jun 2026 and terminated on Thu 3 Sep 2026 as `nothing_to_resolve` (an art. 11a ground): 409
    termination_ground_not_in_force naming the acceptance date and the one ground allowed; one accepted Wed 1 Jul
    2026 is terminated on that ground."""
    old = await intake(api, received_at="2026-06-22")
    old = await act(api, HEAD, old, "accept", effective_date="2026-06-30", decision_number="1/TB")
    new = await intake(api, received_at="2026-06-29")
    new = await act(api, HEAD, new, "accept", effective_date="2026-07-01", decision_number="2/TB")
    ground = {"reason_code": "nothing_to_resolve", "reason": "Không còn nội dung", "decision_number": "3/QĐ-ĐC"}
    r = await act_raw(api, HEAD, old, "terminate", effective_date="2026-09-03", **ground)
    assert r.status_code == 409, r.text
    error = r.json()["error"]
    assert error["code"] == "termination_ground_not_in_force"
    assert (error["details"]["accepted_on"], error["details"]["allowed"]) == ("2026-06-30", ["withdrawn"])
    new = await act(api, HEAD, new, "terminate", effective_date="2026-09-03", **ground)
    assert new["status"] == "terminated"


async def test_ltc_30_an_extension_is_notified_to_the_parties_and_the_notice_can_be_recorded(
    api: Api, mid_2027: date
) -> None:
    """LTC art. 30: each extension is a written decision notified to the parties. The duty `notify_extension` (3
    working days: unconfirmed, data) starts with the extension of Mon 29 Mar 2027 (due Thu 1 Apr); the notice sent
    Tue 30 Mar meets it."""
    d = await intake(api, **_denunciation(received_at="2027-02-26"))
    d = await act(api, HEAD, d, "accept", effective_date="2027-03-01", decision_number="1/QĐ-TL")
    d = await act(api, HEAD, d, "extend", effective_date="2027-03-29", reason="Phức tạp", decision_number="2/GH")
    assert timer(d, "notify_extension")["due_date"] == "2027-04-01"
    d = await _notice(api, d, "notify_extension", "2027-03-30")
    assert timer(d, "notify_extension")["status"] == "met"
