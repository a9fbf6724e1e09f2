"""Citizen reception through the API: sessions, the register (form 03/TCD), groups, refusals, online rules,
cases opened from the register, masking of denouncers, and the heads' compliance on hand-counted fixtures."""

from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from api.models.audit import AuditEvent
from api.models.reception import ReceptionEntry, ReceptionSession
from api.models.unit import Unit
from api.models.user import User
from tests.conftest import Api
from tests.helpers import TODAY, V1, VALID_ID
from workflows.calendar import WorkCalendar

COMMUNE = "04465"
OTHER_ID = "015085004321"


async def unit_id(api: Api, code: str) -> int:
    found = await api.session.scalar(sa.select(Unit.id).where(Unit.code == code))
    assert found is not None
    return int(found)


def at(day: date, hour: int) -> str:
    return f"{day.isoformat()}T{hour:02d}:00:00+07:00"


def session_body(unit: int, day: date, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "unit_id": unit,
        "kind": "periodic",
        "mode": "direct",
        "in_person": True,
        "starts_at": at(day, 8),
        "ends_at": at(day, 11),
        "location": "Trụ sở UBND xã",
    }
    body.update(overrides)
    return body


async def new_session(api: Api, day: date, user: str = "xa.tiepdan", **overrides: Any) -> dict[str, Any]:
    unit = await unit_id(api, COMMUNE)
    body = session_body(unit, day, status="held" if day < TODAY else "scheduled")
    body.update(overrides)
    r = await api.http.post(f"{V1}/reception-sessions", headers=await api.headers(user), json=body)
    assert r.status_code == 201, r.text
    return r.json()


def entry_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "persons": [{"full_name": "Nguyễn Văn An", "address": "Thôn Khe Sang", "id_number": VALID_ID}],
        "kind": "complaint",
        "content": "Khiếu nại quyết định thu hồi đất đai của UBND xã.",
        "handling": "explained",
    }
    body.update(overrides)
    return body


async def add_entry(api: Api, sess: dict[str, Any], user: str = "xa.tiepdan", **overrides: Any) -> Any:
    return await api.http.post(
        f"{V1}/reception-sessions/{sess['id']}/entries", headers=await api.headers(user), json=entry_body(**overrides)
    )


# ---- sessions ----


async def test_a_session_is_scheduled_held_and_concluded(api: Api) -> None:
    sess = await new_session(api, TODAY + timedelta(days=3))
    assert sess["status"] == "scheduled" and sess["day"] == (TODAY + timedelta(days=3)).isoformat()
    h = await api.headers("xa.tiepdan")
    # Not before it starts.
    r = await api.http.patch(f"{V1}/reception-sessions/{sess['id']}", headers=h, json={"status": "held"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "session_not_started"
    past = await new_session(api, TODAY - timedelta(days=2))
    assert past["status"] == "held" and past["conclusion_missing"] is True
    conclusion = {"number": "12/TB-UBND", "date": TODAY.isoformat(), "text": "Giao phòng chuyên môn kiểm tra, trả lời."}
    r = await api.http.patch(f"{V1}/reception-sessions/{past['id']}", headers=h, json={"conclusion": conclusion})
    assert r.status_code == 200, r.text
    assert r.json()["conclusion"] == conclusion and r.json()["conclusion_missing"] is False
    # Every change is in the audit log.
    actions = (
        await api.session.scalars(
            sa.select(AuditEvent.action).where(
                AuditEvent.entity == "reception_session", AuditEvent.entity_id == str(past["id"])
            )
        )
    ).all()
    assert list(actions) == ["create", "update"]


async def test_cancelling_needs_a_reason_and_is_final(api: Api) -> None:
    sess = await new_session(api, TODAY + timedelta(days=5))
    h = await api.headers("xa.chutich")
    url = f"{V1}/reception-sessions/{sess['id']}"
    r = await api.http.patch(url, headers=h, json={"status": "cancelled"})
    assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "cancel_reason"
    r = await api.http.patch(url, headers=h, json={"status": "cancelled", "cancel_reason": "Chủ tịch đi công tác"})
    assert r.status_code == 200 and r.json()["cancel_reason"] == "Chủ tịch đi công tác"
    r = await api.http.patch(url, headers=h, json={"status": "held"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "session_move_not_allowed"


async def test_a_regular_session_takes_no_conclusion(api: Api) -> None:
    sess = await new_session(api, TODAY - timedelta(days=1), kind="regular")
    r = await api.http.patch(
        f"{V1}/reception-sessions/{sess['id']}",
        headers=await api.headers("xa.tiepdan"),
        json={"conclusion": {"number": "1/TB", "date": TODAY.isoformat(), "text": "x"}},
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "conclusion_not_allowed"


async def test_bad_session_input(api: Api) -> None:
    unit = await unit_id(api, COMMUNE)
    h = await api.headers("xa.tiepdan")
    day = TODAY + timedelta(days=2)
    for bad in (
        {"ends_at": at(day, 7)},  # ends before it starts
        {"starts_at": f"{day.isoformat()}T08:00:00"},  # no time zone
        {"kind": "weekly"},
        {"mode": "online"},  # no link
        {"location": None},  # direct without a place
        {"online_link": "javascript:alert(1)", "mode": "online", "citizens_notified_on": "2026-01-01"},
    ):
        r = await api.http.post(f"{V1}/reception-sessions", headers=h, json=session_body(unit, day, **bad))
        assert r.status_code == 422, (bad, r.text)


async def test_a_session_outside_the_callers_scope_is_not_found(api: Api) -> None:
    province = await unit_id(api, "15")
    other_commune = await api.session.scalar(
        sa.select(Unit.id).where(Unit.level == "commune", Unit.code != COMMUNE).limit(1)
    )
    day = TODAY + timedelta(days=2)
    for unit in (province, other_commune):
        r = await api.http.post(
            f"{V1}/reception-sessions", headers=await api.headers("xa.tiepdan"), json=session_body(unit, day)
        )
        assert r.status_code == 404 and r.json()["error"]["code"] == "no_such_unit"
    # The province's head sees the commune but does not keep its register.
    r = await api.http.post(
        f"{V1}/reception-sessions",
        headers=await api.headers("tinh.chutich"),
        json=session_body(await unit_id(api, COMMUNE), day),
    )
    assert r.status_code == 403 and r.json()["error"]["code"] == "reception_forbidden"
    # A session of the province is not found by the commune.
    prov = await api.http.post(
        f"{V1}/reception-sessions", headers=await api.headers("tinh.tiepdan"), json=session_body(province, day)
    )
    assert prov.status_code == 201
    r = await api.http.get(f"{V1}/reception-sessions/{prov.json()['id']}", headers=await api.headers("xa.chutich"))
    assert r.status_code == 404 and r.json()["error"]["code"] == "session_not_found"
    listed = await api.http.get(f"{V1}/reception-sessions", headers=await api.headers("xa.chutich"))
    assert prov.json()["id"] not in [s["id"] for s in listed.json()["items"]]
    seen = await api.http.get(f"{V1}/reception-sessions?unit_id={province}", headers=await api.headers("thanhtra"))
    assert prov.json()["id"] in [s["id"] for s in seen.json()["items"]]


async def test_online_sessions_follow_decree_154(api: Api) -> None:
    unit = await unit_id(api, COMMUNE)
    h = await api.headers("xa.tiepdan")
    day = TODAY + timedelta(days=21)
    online = {"mode": "online", "online_link": "https://hop.laocai.gov.vn/tcd/123", "location": None}
    late = (day - timedelta(days=2)).isoformat()
    r = await api.http.post(
        f"{V1}/reception-sessions", headers=h, json=session_body(unit, day, citizens_notified_on=late, **online)
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "online_notice_too_late"
    latest = date.fromisoformat(r.json()["error"]["details"]["latest_notice_date"])
    assert WorkCalendar().working_days_between(latest, day) == 5
    r = await api.http.post(
        f"{V1}/reception-sessions",
        headers=h,
        json=session_body(unit, day, citizens_notified_on=latest.isoformat(), **online),
    )
    assert r.status_code == 201, r.text
    # Held online sessions keep a reference to their recording.
    past = TODAY - timedelta(days=1)
    body = session_body(
        unit, past, status="held", citizens_notified_on=(past - timedelta(days=14)).isoformat(), **online
    )
    r = await api.http.post(f"{V1}/reception-sessions", headers=h, json=body)
    assert r.status_code == 422 and r.json()["error"]["code"] == "recording_required"
    r = await api.http.post(f"{V1}/reception-sessions", headers=h, json={**body, "recording_ref": "nas://tcd/2026/77"})
    assert r.status_code == 201
    # A denouncer who asks for protection is never received online.
    refused = await add_entry(
        api,
        r.json(),
        kind="denunciation",
        identity_protection_requested=True,
        content="Tố cáo cán bộ địa chính nhận tiền.",
    )
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "online_reception_refused"
    assert "154/2026" in refused.json()["error"]["details"]["legal_basis"]


async def test_the_public_schedule_shows_when_and_where_without_personal_data(api: Api) -> None:
    day = TODAY + timedelta(days=4)
    sess = await new_session(api, day, host_title="Phó Chủ tịch UBND xã", in_person=False)
    cancelled = await new_session(api, day + timedelta(days=1))
    await api.http.patch(
        f"{V1}/reception-sessions/{cancelled['id']}",
        headers=await api.headers("xa.tiepdan"),
        json={"status": "cancelled", "cancel_reason": "Bão"},
    )
    unit = await unit_id(api, COMMUNE)
    r = await api.http.get(f"{V1}/reception-sessions/schedule?unit_id={unit}")  # no sign-in
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    ids = [i["id"] for i in items]
    assert sess["id"] in ids and cancelled["id"] not in ids
    mine = next(i for i in items if i["id"] == sess["id"])
    assert mine["host"] == "deputy" and mine["location"] == "Trụ sở UBND xã" and mine["unit_code"] == COMMUNE
    assert set(mine) == {
        "id",
        "unit_id",
        "unit_code",
        "unit_name",
        "kind",
        "mode",
        "host",
        "starts_at",
        "ends_at",
        "location",
    }


async def test_lists_page(api: Api) -> None:
    for i in range(3):
        await new_session(api, TODAY + timedelta(days=10 + i))
    h = await api.headers("xa.tiepdan")
    first = (await api.http.get(f"{V1}/reception-sessions?limit=2", headers=h)).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = (await api.http.get(f"{V1}/reception-sessions?limit=2&cursor={first['next_cursor']}", headers=h)).json()
    assert not {s["id"] for s in first["items"]} & {s["id"] for s in second["items"]}
    r = await api.http.get(f"{V1}/reception-sessions?from=2026-05-02&to=2026-05-01", headers=h)
    assert r.status_code == 422


# ---- the register ----


async def test_entries_are_numbered_per_unit_and_year(api: Api) -> None:
    sess = await new_session(api, TODAY - timedelta(days=1))
    first = await add_entry(api, sess)
    second = await add_entry(api, sess)
    assert first.status_code == 201 and second.status_code == 201, first.text
    a, b = first.json(), second.json()
    assert (
        b["serial"] == a["serial"] + 1
        and b["number"] == f"{b['serial']}/{TODAY.year if sess['day'][:4] == str(TODAY.year) else sess['day'][:4]}"
    )
    # Another year starts again at 1.
    old = await new_session(api, date(2025, 12, 30))
    r = await add_entry(api, old)
    assert r.status_code == 201 and r.json()["number"] == "1/2025"
    assert r.json()["received_on"] == "2025-12-30"


async def test_a_group_needs_five_people_and_the_lawful_number_of_representatives(api: Api) -> None:
    sess = await new_session(api, TODAY - timedelta(days=1))
    rep = {"full_name": "Lò Văn Đại", "id_number": OTHER_ID}
    r = await add_entry(api, sess, group=True, people_count=4, representatives=[rep])
    assert r.status_code == 422 and r.json()["error"]["code"] == "not_a_group"
    six = [{"full_name": f"Người đại diện {i}"} for i in range(6)]
    r = await add_entry(api, sess, group=True, people_count=20, representatives=six)
    assert r.status_code == 422 and r.json()["error"]["code"] == "representatives_count"
    assert r.json()["error"]["details"]["allowed_max"] == 5
    r = await add_entry(api, sess, people_count=8, representatives=six[:3])
    assert r.status_code == 422 and r.json()["error"]["details"]["allowed_max"] == 2
    r = await add_entry(api, sess, people_count=8)  # a group with no representative
    assert r.status_code == 422 and r.json()["error"]["details"]["allowed_min"] == 1
    ok = await add_entry(api, sess, people_count=8, representatives=six[:2])
    assert ok.status_code == 201 and ok.json()["group"] is True and ok.json()["people_count"] == 8
    big = await add_entry(api, sess, group=True, people_count=40, representatives=six[:5])
    assert big.status_code == 201 and big.json()["group"] is True


async def test_invalid_identity_papers_are_refused(api: Api) -> None:
    sess = await new_session(api, TODAY - timedelta(days=1))
    for person in (
        {"full_name": "A", "id_number": "123"},
        {"full_name": "A", "id_number": "999090001234"},  # no such province code
        {"full_name": "A", "id_number": "012345678"},  # the old 9-digit card is not among Law 136's papers
        {"full_name": "A", "id_type": "passport", "id_number": "B1"},
        {"full_name": "A", "id_type": "driving_licence", "id_number": VALID_ID},
        {"full_name": "A", "id_type": "citizen_id"},
    ):
        r = await add_entry(api, sess, persons=[person])
        assert r.status_code == 422, (person, r.text)
    r = await add_entry(
        api, sess, persons=[{"full_name": "Anna Müller", "id_type": "passport", "id_number": "c1234567"}]
    )
    assert r.status_code == 201 and r.json()["persons"][0]["id_number"] == "C1234567"


async def test_no_entry_on_a_cancelled_or_future_session(api: Api) -> None:
    future = await new_session(api, TODAY + timedelta(days=3))
    r = await add_entry(api, future)
    assert r.status_code == 409 and r.json()["error"]["code"] == "session_in_future"
    await api.http.patch(
        f"{V1}/reception-sessions/{future['id']}",
        headers=await api.headers("xa.tiepdan"),
        json={"status": "cancelled", "cancel_reason": "Lịch họp đột xuất"},
    )
    r = await add_entry(api, future)
    assert r.status_code == 409 and r.json()["error"]["code"] == "session_cancelled"


async def test_an_entry_opens_a_case_received_on_the_session_day(api: Api) -> None:
    day = TODAY - timedelta(days=6)
    sess = await new_session(api, day)
    r = await add_entry(
        api,
        sess,
        handling="within_competence",
        create_case={"title": "Khiếu nại thu hồi đất", "field": "land"},
    )
    assert r.status_code == 201, r.text
    entry = r.json()
    assert entry["case_id"] and entry["case_tracking_code"] and entry["case_access_key"]
    assert entry["within_competence"] is True
    case = (await api.http.get(f"{V1}/cases/{entry['case_id']}", headers=await api.headers("xa.tiepdan"))).json()
    assert case["channel"] == "reception_session" and case["received_at"] == day.isoformat()
    assert case["parties"][0]["full_name"] == "Nguyễn Văn An" and case["parties"][0]["role"] == "complainant"
    processing = next(t for t in case["timers"] if t["name"] == "processing")
    assert processing["start_date"] == day.isoformat()
    # The register and the case were written together: reading the entry back links the case.
    again = (
        await api.http.get(f"{V1}/reception-sessions/entries/{entry['id']}", headers=await api.headers("xa.chutich"))
    ).json()
    assert again["case_id"] == entry["case_id"] and "case_access_key" not in again


async def test_a_failed_case_leaves_no_entry_and_no_number(api: Api) -> None:
    sess = await new_session(api, TODAY - timedelta(days=1))
    before = await api.session.scalar(sa.select(sa.func.count()).select_from(ReceptionEntry))
    r = await add_entry(
        api,
        sess,
        handling="within_competence",
        create_case={"title": "Lần hai", "field": "land", "complaint_round": 2},  # no first round named
    )
    assert r.status_code == 422
    assert await api.session.scalar(sa.select(sa.func.count()).select_from(ReceptionEntry)) == before


async def test_an_entry_links_an_existing_readable_case(api: Api) -> None:
    from tests.helpers import intake

    case = await intake(api, "xa.tiepdan")
    sess = await new_session(api, TODAY - timedelta(days=1))
    r = await add_entry(api, sess, handling="within_competence", case_id=case["id"])
    assert r.status_code == 201 and r.json()["case_tracking_code"] == case["tracking_code"]
    province_case = await intake(api, "tinh.tiepdan")
    r = await add_entry(api, sess, handling="within_competence", case_id=province_case["id"])
    assert r.status_code == 404 and r.json()["error"]["code"] == "case_not_found"
    r = await add_entry(api, sess, handling="explained", case_id=case["id"])
    assert r.status_code == 422


async def test_first_and_repeat_visits_are_told_apart(api: Api) -> None:
    sess = await new_session(api, TODAY - timedelta(days=3))
    first = (await add_entry(api, sess)).json()
    r = await add_entry(api, sess, visit="repeat")
    assert r.status_code == 422  # a repeat names what it repeats
    r = await add_entry(api, sess, visit="repeat", repeat_of_entry_id=9_000_000_000)
    assert r.status_code == 422 and r.json()["error"]["code"] == "repeat_target_not_found"
    again = await add_entry(api, sess, visit="repeat", repeat_of_entry_id=first["id"])
    assert again.status_code == 201 and again.json()["visit"] == "repeat"
    h = await api.headers("xa.chutich")
    unit = await unit_id(api, COMMUNE)
    repeats = (await api.http.get(f"{V1}/reception-sessions/entries?unit_id={unit}&visit=repeat", headers=h)).json()
    firsts = (await api.http.get(f"{V1}/reception-sessions/entries?unit_id={unit}&visit=first", headers=h)).json()
    assert again.json()["id"] in [e["id"] for e in repeats["items"]]
    assert first["id"] in [e["id"] for e in firsts["items"]]
    assert not {e["id"] for e in repeats["items"]} & {e["id"] for e in firsts["items"]}


async def test_a_refusal_names_its_ground_and_the_written_notice_is_due_in_three_working_days(api: Api) -> None:
    day = date(2026, 8, 28)
    sess = await new_session(api, day)
    r = await add_entry(api, sess, handling="refused", refusal={"ground": "rude"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_refusal_ground"
    r = await add_entry(api, sess, handling="refused")  # no ground
    assert r.status_code == 422
    r = await add_entry(api, sess, handling="refused", refusal={"ground": "threats_or_insults"})
    assert r.status_code == 201, r.text
    refusal = r.json()["refusal"]
    assert refusal["legal_basis"] == "Luật Tiếp công dân, điều 9 khoản 2"
    assert refusal["notice_due_date"] == "2026-09-07" and refusal["notice_overdue"] is True
    r = await api.http.patch(
        f"{V1}/reception-sessions/entries/{r.json()['id']}",
        headers=await api.headers("xa.tiepdan"),
        json={"refusal_notice_number": "05/TB-UBND", "refusal_notice_date": "2026-09-03"},
    )
    assert r.status_code == 200 and r.json()["refusal"]["notice_overdue"] is False


async def test_a_denouncer_received_at_a_session_is_masked_like_on_a_case(api: Api) -> None:
    sess = await new_session(api, TODAY - timedelta(days=1))
    name = "Lò Thị Bình"
    r = await add_entry(
        api,
        sess,
        kind="denunciation",
        persons=[{"full_name": name, "address": "Bản Phố", "id_number": OTHER_ID}],
        content="Tố cáo cán bộ địa chính xã nhận tiền của dân.",
        notes=f"Bà {name} xin giữ bí mật",
        handling="within_competence",
        create_case={"title": "Tố cáo cán bộ địa chính", "field": "corruption"},
    )
    assert r.status_code == 201, r.text
    entry = r.json()
    assert entry["persons"][0]["full_name"] == name and entry["sealed"] is True
    # Nothing in clear in the register's row.
    row = await api.session.get(ReceptionEntry, entry["id"])
    assert (
        row is not None
        and name not in str(row.persons)
        and name not in (row.notes or "")
        and OTHER_ID not in str(row.persons)
    )
    url = f"{V1}/reception-sessions/entries/{entry['id']}"
    for who in ("thanhtra", "tinh.chutich", "xa.xacminh"):
        seen = await api.http.get(url, headers=await api.headers(who))
        if seen.status_code == 200:
            body = seen.text
            assert name not in body and OTHER_ID not in body, who
            assert seen.json()["persons"][0]["full_name"] == "(được giữ bí mật)"
    # The commune head may see it, and that read is audited.
    head = await api.http.get(url, headers=await api.headers("xa.chutich"))
    assert head.json()["persons"][0]["full_name"] == name and head.headers["Cache-Control"] == "no-store"
    head_id = (await api.user("xa.chutich")).id
    reads = await api.session.scalar(
        sa.select(sa.func.count()).where(
            AuditEvent.entity == "reception_entry",
            AuditEvent.entity_id == str(entry["id"]),
            AuditEvent.action == "identity_viewed",
            AuditEvent.actor_id == head_id,
        )
    )
    assert reads == 1
    # The register list masks the same way, and the case opened from it protects the denouncer.
    listed = await api.http.get(
        f"{V1}/reception-sessions/entries?kind=denunciation", headers=await api.headers("thanhtra")
    )
    assert name not in listed.text
    case = await api.http.get(f"{V1}/cases/{entry['case_id']}", headers=await api.headers("thanhtra"))
    assert name not in case.text


async def test_only_the_units_desk_and_head_write_the_register(api: Api) -> None:
    sess = await new_session(api, TODAY - timedelta(days=1))
    for who in ("xa.xacminh", "thanhtra"):
        r = await add_entry(api, sess, user=who)
        assert r.status_code in (403, 404), who
    r = await add_entry(api, sess, user="tinh.tiepdan")
    assert r.status_code == 403 and r.json()["error"]["code"] == "reception_forbidden"


# ---- compliance ----


async def _fixture_units(api: Api) -> tuple[int, int, int]:
    """A parent agency with two communes of its own, outside the demo data."""
    province = await api.session.get(Unit, await unit_id(api, "15"))
    assert province is not None
    made = []
    parent_path = province.path
    for code, level in (("T-CUM", "agency"), ("T-XA-A", "commune"), ("T-XA-B", "commune")):
        unit = Unit(code=code, name=f"Đơn vị {code}", level=level, parent_id=None, path="/", is_active=True)
        api.session.add(unit)
        await api.session.flush()
        if made:
            unit.parent_id = made[0].id
            unit.path = f"{made[0].path}{unit.id}/"
        else:
            unit.parent_id = province.id
            unit.path = f"{parent_path}{unit.id}/"
        made.append(unit)
    await api.session.flush()
    return made[0].id or 0, made[1].id or 0, made[2].id or 0


async def _held(
    api: Api, unit: int, day: date, *, in_person: bool = True, kind: str = "periodic", status: str = "held"
) -> None:
    creator = (await api.user("admin")).id
    start = datetime.fromisoformat(at(day, 8))
    api.session.add(
        ReceptionSession(
            unit_id=unit,
            kind=kind,
            mode="direct",
            in_person=in_person,
            status=status,
            starts_at=start,
            ends_at=start + timedelta(hours=3),
            day=day,
            location="Hội trường",
            created_by_id=creator,
        )
    )
    await api.session.flush()


async def test_compliance_on_hand_counted_fixtures_across_1_july_2026(api: Api) -> None:
    parent, a, b = await _fixture_units(api)
    # Commune A — June 2026 (one day a week: 5 Mondays; delegated days count):
    await _held(api, a, date(2026, 6, 3))
    await _held(api, a, date(2026, 6, 3), kind="adhoc")  # ad-hoc: listed beside the periodic days, never counted
    await _held(api, a, date(2026, 6, 10), in_person=False)
    await _held(api, a, date(2026, 6, 17), status="cancelled")  # not counted
    await _held(api, a, date(2026, 6, 24), kind="regular")  # the office's daily work, not the head's
    # July (two days a month; delegated days no longer count):
    await _held(api, a, date(2026, 7, 2))
    await _held(api, a, date(2026, 7, 9), in_person=False)
    # August: done.
    await _held(api, a, date(2026, 8, 5))
    await _held(api, a, date(2026, 8, 20))
    # Commune B: every month of Q3 done twice in person.
    for month in (7, 8, 9):
        await _held(api, b, date(2026, month, 4))
        await _held(api, b, date(2026, month, 18))
    h = await api.headers("thanhtra")

    async def get(period: str, unit: int) -> dict[str, Any]:
        r = await api.http.get(f"{V1}/reception-sessions/compliance?period={period}&unit_id={unit}", headers=h)
        assert r.status_code == 200, r.text
        return {row["unit_id"]: row for row in r.json()["items"]}

    june = (await get("2026-06", a))[a]
    assert (june["required_days"], june["in_person_days"], june["delegated_days"], june["counted_days"]) == (5, 1, 1, 2)
    assert june["shortfall"] == 3 and june["adhoc_days"] == 1 and june["months"][0]["adhoc_dates"] == ["2026-06-03"]
    q2 = (await get("2026-Q2", a))[a]  # April 4 + May 4 + June 5 required; only June's 2 days counted
    assert (q2["required_days"], q2["counted_days"], q2["shortfall"]) == (13, 2, 11)
    q3 = await get("2026-Q3", parent)
    # A: July 1 of 2 (the delegated day does not count), August 2 of 2, September 0 of 2.
    assert (q3[a]["required_days"], q3[a]["in_person_days"], q3[a]["delegated_days"], q3[a]["counted_days"]) == (
        6,
        3,
        1,
        3,
    )
    assert q3[a]["shortfall"] == 3
    assert [m["shortfall"] for m in q3[a]["months"]] == [1, 0, 2]
    assert q3[b]["shortfall"] == 0 and q3[b]["counted_days"] == 6
    # The agency itself (one day a month) received no one: 3 short. Units short first.
    assert q3[parent]["required_days"] == 3 and q3[parent]["shortfall"] == 3
    order = [row for row in q3]
    assert order.index(b) == 2
    # The whole year: the months before July follow the old rule, those after the new one.
    year = (await get("2026", a))[a]
    months = {m["month"]: m for m in year["months"]}
    assert months["2026-06"]["delegation_counts"] is True and months["2026-07"]["delegation_counts"] is False
    assert months["2026-06"]["required"] == 5 and months["2026-07"]["required"] == 2


async def test_compliance_scope_and_bad_periods(api: Api) -> None:
    h = await api.headers("xa.chutich")
    r = await api.http.get(f"{V1}/reception-sessions/compliance?period=2026-Q3", headers=h)
    assert r.status_code == 200
    assert [row["unit_code"] for row in r.json()["items"]] == [COMMUNE]
    province = await unit_id(api, "15")
    r = await api.http.get(f"{V1}/reception-sessions/compliance?period=2026-Q3&unit_id={province}", headers=h)
    assert r.status_code == 404
    r = await api.http.get(
        f"{V1}/reception-sessions/compliance?period=2026-Q3", headers=await api.headers("xa.tiepdan")
    )
    assert r.status_code == 403
    everyone = await api.http.get(
        f"{V1}/reception-sessions/compliance?period=2026-Q3&limit=200", headers=await api.headers("thanhtra")
    )
    assert len(everyone.json()["items"]) >= 100  # the province, its agencies and 99 communes
    page = await api.http.get(
        f"{V1}/reception-sessions/compliance?period=2026-Q3&limit=10", headers=await api.headers("thanhtra")
    )
    nxt = await api.http.get(
        f"{V1}/reception-sessions/compliance?period=2026-Q3&limit=10&cursor={page.json()['next_cursor']}",
        headers=await api.headers("thanhtra"),
    )
    assert [r["unit_id"] for r in everyone.json()["items"][10:20]] == [r["unit_id"] for r in nxt.json()["items"]]
    for bad in ("2026-13", "2026-Q5", "2026-H1", "26", "2026-1"):
        r = await api.http.get(
            f"{V1}/reception-sessions/compliance?period={bad}", headers=await api.headers("thanhtra")
        )
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_period", bad
    assert (await api.session.scalar(sa.select(User.id).where(User.username == "thanhtra"))) is not None
