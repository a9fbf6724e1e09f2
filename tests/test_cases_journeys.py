"""Full journeys through the API for each kind of case."""

from api.models.user import User
from tests.conftest import Api, Live
from tests.helpers import TODAY, V1, act, act_raw, days_ago, get, intake, timer


async def _handler_id(api: Api, username: str = "tinh.xacminh") -> int:
    user: User = await api.user(username)
    assert user.id is not None
    return user.id


async def test_intake_returns_tracking_code_access_key_and_timers(api: Api) -> None:
    case = await intake(api)
    assert case["status"] == "received" and case["version"] == 1
    assert case["tracking_code"].startswith("LC") and len(case["tracking_code"]) == 15
    assert len(case["access_key"]) == 24
    assert {t["name"] for t in case["timers"]} == {"processing", "acceptance"}
    acceptance = timer(case, "acceptance")
    assert acceptance["basis"] == "working" and acceptance["days"] == 7  # received after 2026-07-01
    assert acceptance["status"] == "running" and acceptance["remaining_days"] is not None
    assert case["allowed_actions"] == ["transfer", "guide", "store", "withdraw"]  # a desk officer
    assert case["complaint_round"] == 1


async def test_complaint_journey_accept_assign_dialogue_resolve_close(api: Api) -> None:
    case = await intake(api)
    case = await act(api, "tinh.chutich", case, "accept", effective_date=days_ago(2), decision_number="12/TB-UBND")
    assert case["status"] == "accepted" and case["version"] == 2
    assert timer(case, "acceptance")["status"] == "met"
    resolution = timer(case, "resolution")
    assert resolution["basis"] == "calendar" and resolution["days"] == 30
    case = await act(api, "tinh.chutich", case, "assign", handler_ids=[await _handler_id(api)])
    assert case["status"] == "in_progress" and case["handler_ids"] == [await _handler_id(api)]
    r = await api.http.post(
        f"{V1}/cases/{case['id']}/dialogues",
        headers=await api.headers("tinh.xacminh"),
        json={
            "held_on": days_ago(1),
            "participants": ["Nguyễn Văn An", "Trần Thị Minh"],
            "minutes": "Hai bên trao đổi về nguồn gốc thửa đất.",
            "agreement_reached": False,
        },
    )
    assert r.status_code == 201, r.text
    case = await act(
        api,
        "tinh.chutich",
        case,
        "resolve",
        outcome="partly_correct",
        decision_number="345/QĐ-UBND",
        remedies={"money_to_citizens_vnd": 120000000, "land_to_citizens_m2": 85.5, "people_restored": 1},
    )
    assert case["status"] == "resolved" and case["outcome"] == "partly_correct"
    assert case["remedies"]["land_to_citizens_m2"] == 85.5
    assert case["remedies"]["money_to_citizens_vnd"] == 120000000
    assert timer(case, "resolution")["status"] == "met"
    assert timer(case, "send_decision")["basis"] == "working"
    case = await act(api, "tinh.tiepdan", case, "close")
    assert case["status"] == "closed" and case["allowed_actions"] == []
    # Closing does not pretend the decision was sent: that duty is met only by a recorded notice.
    assert all(t["status"] in ("met", "met_late") for t in case["timers"] if t["name"] != "send_decision")
    assert timer(case, "send_decision")["status"] == "running"
    r = await api.http.post(
        f"{V1}/cases/{case['id']}/notices",
        headers=await api.headers("tinh.tiepdan"),
        json={"timer": "send_decision", "sent_on": TODAY.isoformat()},
    )
    assert r.status_code == 200 and timer(r.json(), "send_decision")["status"] == "met"
    events = (await api.http.get(f"{V1}/cases/{case['id']}/events", headers=await api.headers("tinh.chutich"))).json()[
        "items"
    ]
    assert [e["action"] for e in events] == [
        "create",
        "accept",
        "assign",
        "dialogue",
        "resolve",
        "close",
        "notice_sent",
    ]
    assert events[1]["from_status"] == "received" and events[1]["to_status"] == "accepted"
    assert events[1]["actor_id"] == (await api.user("tinh.chutich")).id


async def test_denunciation_journey_with_two_extensions(api: Api) -> None:
    case = await intake(
        api,
        kind="denunciation",
        field="corruption",
        title="Tố cáo cán bộ địa chính",
        parties=[
            {"role": "denouncer", "full_name": "Lò Thị Bình", "id_number": "015190004321"},
            {"role": "accused", "full_name": "Cán bộ X"},
        ],
    )
    case = await act(api, "tinh.chutich", case, "accept", decision_number="01/QĐ-TLTC")
    assert {t["name"] for t in case["timers"]} >= {"resolution", "notify_acceptance"}
    due0 = timer(case, "resolution")["due_date"]
    case = await act(api, "tinh.chutich", case, "assign", handler_ids=[await _handler_id(api)])
    r = await act_raw(api, "tinh.chutich", case, "extend", reason="Cần giám định")
    assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "decision_number"
    case = await act(
        api,
        "tinh.chutich",
        case,
        "extend",
        reason="Cần giám định",
        decision_number="02/QĐ-GH",
        complexity="especially_complex",
    )
    case = await act(api, "tinh.chutich", case, "extend", reason="Chờ kết quả giám định", decision_number="03/QĐ-GH")
    assert case["extension_count"] == 2 and timer(case, "resolution")["days"] == 90
    assert timer(case, "resolution")["due_date"] > due0
    r = await act_raw(api, "tinh.chutich", case, "extend", reason="Lần ba", decision_number="04/QĐ-GH")
    assert r.status_code == 409 and r.json()["error"]["code"] == "extension_limit"
    r = await act_raw(api, "tinh.chutich", case, "resolve", outcome="wrong", decision_number="05/KL")
    assert r.status_code == 422 and set(r.json()["error"]["details"]["allowed"]) == {
        "correct",
        "partly_correct",
        "false",
    }
    case = await act(api, "tinh.chutich", case, "resolve", outcome="false", decision_number="05/KL")
    assert {t["name"] for t in case["timers"]} >= {"send_conclusion", "publish_conclusion"}
    case = await act(api, "tinh.chutich", case, "close")
    assert case["status"] == "closed"


async def test_normal_denunciation_gets_one_extension_and_becomes_complex(api: Api) -> None:
    case = await intake(api, kind="denunciation", field="civil_service")
    case = await act(api, "tinh.chutich", case, "accept", decision_number="1/QĐ")
    case = await act(api, "tinh.chutich", case, "extend", reason="Phức tạp", decision_number="2/QĐ")
    assert case["complexity"] == "complex"
    r = await act_raw(api, "tinh.chutich", case, "extend", reason="Lần hai", decision_number="3/QĐ")
    assert r.status_code == 409 and r.json()["error"]["code"] == "extension_limit"


async def test_complaints_cannot_be_extended(api: Api) -> None:
    case = await act(api, "tinh.chutich", await intake(api), "accept", decision_number="1/TB")
    r = await act_raw(api, "tinh.chutich", case, "extend", reason="x", decision_number="2")
    assert r.status_code == 409 and r.json()["error"]["code"] == "extension_not_allowed"


async def test_petition_and_feedback_journeys(api: Api) -> None:
    petition = await intake(
        api,
        kind="petition",
        field="policy",
        title="Kiến nghị về chế độ hộ nghèo",
        parties=[{"role": "petitioner", "full_name": "Sùng A Páo"}],
    )
    assert [t["name"] for t in petition["timers"]] == ["processing"]
    petition = await act(api, "tinh.chutich", petition, "accept")
    petition = await act(api, "tinh.chutich", petition, "resolve", outcome="addressed")
    assert (await act(api, "tinh.tiepdan", petition, "close"))["status"] == "closed"
    feedback = await intake(api, kind="feedback", field="other", title="Phản ánh đường hỏng")
    feedback = await act(api, "tinh.tiepdan", feedback, "guide", reason="Hướng dẫn gửi UBND xã")
    assert feedback["status"] == "guided" and timer(feedback, "processing")["status"] == "met"


async def test_reject_and_store_need_legal_reason_codes(api: Api) -> None:
    case = await intake(api)
    r = await act_raw(api, "tinh.chutich", case, "reject", reason_code="because", reason="x")
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_reason_code"
    case = await act(api, "tinh.chutich", case, "reject", reason_code="time_barred", reason="Quá 90 ngày")
    assert case["status"] == "rejected" and case["reason_code"] == "time_barred"
    other = await intake(api)
    r = await act_raw(api, "tinh.tiepdan", other, "store")
    assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "reason_code"
    assert (await act(api, "tinh.tiepdan", other, "store", reason_code="duplicate"))["status"] == "stored"


async def test_anonymous_denunciation_is_stored_or_kept_as_a_lead_never_accepted(api: Api) -> None:
    case = await intake(api, kind="denunciation", field="corruption", is_anonymous=True, parties=[])
    r = await act_raw(api, "tinh.chutich", case, "accept", decision_number="1")
    assert r.status_code == 409 and r.json()["error"]["code"] == "anonymous_denunciation"
    case = await act(api, "tinh.chutich", case, "store", reason_code="anonymous", inspection_lead=True)
    events = (await api.http.get(f"{V1}/cases/{case['id']}/events", headers=await api.headers("tinh.chutich"))).json()[
        "items"
    ]
    assert events[-1]["payload"]["inspection_lead"] is True


async def test_transfer_creates_a_linked_case_and_only_once(api: Api) -> None:
    h = await api.headers("tinh.tiepdan")
    commune = (await api.http.get(f"{V1}/units", headers=h, params={"q": "Khao Mang"})).json()["items"][0]
    case = await intake(api)
    moved = await act(api, "tinh.tiepdan", case, "transfer", to_unit_id=commune["id"], reason="Thuộc thẩm quyền xã")
    assert moved["status"] == "transferred" and moved["transferred_to_case_id"]
    linked = (await get(api, "xa.chutich", moved["transferred_to_case_id"])).json()
    assert linked["status"] == "received" and linked["channel"] == "transferred_in"
    assert linked["competent_unit_id"] == commune["id"] and linked["transferred_from_case_id"] == case["id"]
    assert linked["remote_area"] is True  # Khao Mang is remote
    assert linked["parties"][0]["full_name"] == "Nguyễn Văn An"
    r = await act_raw(api, "xa.tiepdan", linked, "transfer", to_unit_id=(await api.user("admin")).unit_id)
    assert r.status_code == 409 and r.json()["error"]["code"] == "already_transferred"


async def test_withdrawals(api: Api) -> None:
    two = [{"role": "complainant", "full_name": "Nguyễn Văn An"}, {"role": "complainant", "full_name": "Lê Thị Bình"}]
    complaint = await act(api, "tinh.chutich", await intake(api, parties=two), "accept", decision_number="1")
    an, binh = (p["id"] for p in complaint["parties"])
    r = await act_raw(api, "tinh.tiepdan", complaint, "withdraw", scope="full")
    assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "party_id"  # who withdraws?
    partial = await act(api, "tinh.tiepdan", complaint, "withdraw", scope="partial", party_id=an, reason="Một nội dung")
    assert partial["status"] == "accepted" and partial["version"] == 3
    one = await act(api, "tinh.tiepdan", partial, "withdraw", scope="full", party_id=an, reason="Rút toàn bộ")
    assert one["status"] == "accepted"  # Bình still complains
    again = await act_raw(api, "tinh.tiepdan", one, "withdraw", scope="full", party_id=an)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_withdrawn"
    full = await act(api, "tinh.tiepdan", one, "withdraw", scope="full", party_id=binh, reason="Rút toàn bộ")
    assert full["status"] == "accepted"  # recorded; ended by the head's termination decision (LKN art. 10, 11a)
    full = await act(api, "tinh.chutich", full, "terminate", reason_code="withdrawn", decision_number="2/QĐ-ĐC")
    assert full["status"] == "terminated" and full["reason_code"] == "withdrawn"

    denouncers = [
        {"role": "denouncer", "full_name": "Lò Văn Pha"},
        {"role": "denouncer", "full_name": "Lò Thị Ca"},
        {"role": "accused", "full_name": "Cán bộ X"},
    ]
    den = await act(
        api, "tinh.chutich", await intake(api, kind="denunciation", parties=denouncers), "accept", decision_number="2"
    )
    pha, ca, accused = (p["id"] for p in den["parties"])
    assert (await act_raw(api, "tinh.tiepdan", den, "withdraw", party_id=accused)).status_code == 422
    den = await act(api, "tinh.tiepdan", den, "withdraw", scope="full", party_id=pha)
    assert den["status"] == "accepted"  # the desk records; a denunciation is ended only by the head's decision
    end = {"reason_code": "withdrawn", "decision_number": "3/QĐ-ĐC"}
    r = await act_raw(api, "tinh.chutich", den, "terminate", **end)
    assert r.status_code == 409 and r.json()["error"]["details"]["authors_not_withdrawn"] == [ca]
    kept = await act(api, "tinh.tiepdan", den, "withdraw", scope="full", party_id=ca, exception_code="coerced")
    assert kept["status"] == "accepted"
    r = await act_raw(api, "tinh.chutich", kept, "terminate", **end)
    assert r.status_code == 409 and r.json()["error"]["details"]["exception_recorded"] is True  # LTC art. 33
    r = await act_raw(api, "tinh.tiepdan", kept, "withdraw", scope="full", party_id=ca, exception_code="bored")
    assert r.status_code in (409, 422)

    single = await act(
        api,
        "tinh.chutich",
        await intake(api, kind="denunciation", parties=denouncers[:1]),
        "accept",
        decision_number="4",
    )
    single = await act(api, "tinh.tiepdan", single, "withdraw", scope="full", party_id=single["parties"][0]["id"])
    ended = await act(api, "tinh.chutich", single, "terminate", **end)
    assert ended["status"] == "terminated"


async def test_suspend_and_resume_restore_the_status_and_move_the_deadline(api: Api) -> None:
    case = await intake(api, received_at=days_ago(20))
    case = await act(api, "tinh.chutich", case, "accept", effective_date=days_ago(15), decision_number="1")
    due = timer(case, "resolution")["due_date"]
    case = await act(
        api,
        "tinh.chutich",
        case,
        "suspend",
        effective_date=days_ago(10),
        reason="Chờ kết quả giám định",
        decision_number="7/QĐ-TĐC",
    )
    assert case["status"] == "suspended" and timer(case, "resolution")["status"] == "paused"
    assert case["allowed_actions"] == ["resume", "withdraw", "terminate"]
    r = await act_raw(api, "tinh.chutich", case, "resume", effective_date=days_ago(12), decision_number="8/QĐ")
    assert r.status_code == 422
    case = await act(api, "tinh.chutich", case, "resume", effective_date=days_ago(4), decision_number="8/QĐ")
    assert case["status"] == "accepted" and timer(case, "resolution")["status"] == "running"
    assert timer(case, "resolution")["due_date"] > due


async def test_second_round_complaint_needs_its_first_round_and_a_dialogue(api: Api) -> None:
    r = await api.http.post(
        f"{V1}/cases", headers=await api.headers("tinh.tiepdan"), json={**(await _body()), "complaint_round": 2}
    )
    assert r.status_code == 422
    # First round at the commune (Khao Mang, a remote commune); the second goes to its direct superior.
    first = await intake(api, "xa.tiepdan", received_at=days_ago(20))
    r = await api.http.post(
        f"{V1}/cases",
        headers=await api.headers("tinh.tiepdan"),
        json={**(await _body()), "complaint_round": 2, "previous_case_id": first["id"]},
    )
    assert r.status_code == 409 and r.json()["error"]["code"] == "first_round_not_settled"
    first = await act(api, "xa.chutich", first, "accept", decision_number="1", effective_date=days_ago(15))
    # The complainant asked for more than verification found: a dialogue first (LKN art. 30).
    decide = {"outcome": "wrong", "decision_number": "2/QĐ"}
    r = await act_raw(api, "xa.chutich", first, "resolve", effective_date=days_ago(5), **decide)
    assert r.status_code == 409 and r.json()["error"]["code"] == "dialogue_required"
    r = await api.http.post(
        f"{V1}/cases/{first['id']}/dialogues",
        headers=await api.headers("xa.chutich"),
        json={"held_on": days_ago(4), "participants": ["A"], "minutes": "Đối thoại", "agreement_reached": False},
    )
    assert r.status_code == 201
    r = await act_raw(api, "xa.chutich", first, "resolve", effective_date=days_ago(5), **decide)
    # A decision dated before the dialogue it needs is out of order.
    assert r.status_code == 422 and r.json()["error"]["code"] == "date_before_previous_step"
    first = await act(api, "xa.chutich", first, "resolve", effective_date=days_ago(4), **decide)
    same_unit = await api.http.post(
        f"{V1}/cases",
        headers=await api.headers("xa.tiepdan"),
        json={
            **(await _body()),
            "complaint_round": 2,
            "previous_case_id": first["id"],
            "decision_known_date": days_ago(3),
        },
    )
    assert same_unit.status_code == 422 and same_unit.json()["error"]["code"] == "second_round_wrong_unit"
    no_receipt = await api.http.post(
        f"{V1}/cases",
        headers=await api.headers("tinh.tiepdan"),
        json={**(await _body()), "complaint_round": 2, "previous_case_id": first["id"]},
    )
    assert no_receipt.status_code == 422 and no_receipt.json()["error"]["details"]["field"] == "decision_known_date"
    second = await intake(api, complaint_round=2, previous_case_id=first["id"], decision_known_date=days_ago(3))
    assert timer(second, "acceptance")["days"] == 7
    assert second["remote_area"] is True  # remoteness follows the matter, not the province holding it
    second = await act(api, "tinh.chutich", second, "accept", decision_number="3")
    assert timer(second, "resolution")["days"] == 60  # second round, remote area (LKN art. 37)
    r = await act_raw(api, "tinh.chutich", second, "resolve", outcome="correct", decision_number="4")
    assert r.status_code == 422  # "correct" is a first-round outcome
    r = await act_raw(api, "tinh.chutich", second, "resolve", outcome="upheld", decision_number="4")
    assert r.status_code == 409 and r.json()["error"]["code"] == "dialogue_required"
    await api.http.post(
        f"{V1}/cases/{second['id']}/dialogues",
        headers=await api.headers("tinh.chutich"),
        json={"held_on": TODAY.isoformat(), "participants": ["A"], "minutes": "Đối thoại", "agreement_reached": True},
    )
    assert (await act(api, "tinh.chutich", second, "resolve", outcome="upheld", decision_number="4"))[
        "status"
    ] == "resolved"


async def _body() -> dict:
    from tests.helpers import case_body

    return case_body()


async def test_level_skipping_and_repeat_letters(api: Api) -> None:
    h = await api.headers("tinh.tiepdan")
    commune = (await api.http.get(f"{V1}/units", headers=h, params={"q": "Khao Mang"})).json()["items"][0]
    skipped = await intake(api, competent_unit_id=commune["id"])
    assert skipped["level_skipping"] is True and skipped["remote_area"] is True
    listed = (await api.http.get(f"{V1}/cases", headers=h, params={"level_skipping": "true"})).json()["items"]
    assert skipped["id"] in {c["id"] for c in listed}
    decided = await act(api, "tinh.chutich", await intake(api), "accept", decision_number="1")
    r = await api.http.post(f"{V1}/cases", headers=h, json={**(await _body()), "repeat_of_case_id": decided["id"]})
    assert r.status_code == 422 and r.json()["error"]["code"] == "repeat_target_not_decided"
    decided = await act(api, "tinh.chutich", decided, "resolve", outcome="correct", decision_number="2")
    await intake(api, repeat_of_case_id=decided["id"])
    await intake(api, repeat_of_case_id=decided["id"])
    assert (await get(api, "tinh.chutich", decided["id"])).json()["repeat_count"] == 2


async def test_filing_window_is_a_warning_not_a_refusal(api: Api) -> None:
    case = await intake(api, decision_known_date=days_ago(200))
    assert case["status"] == "received"
    assert case["warnings"][0]["code"] == "filing_window_passed"
    assert (await intake(api, decision_known_date=days_ago(30)))["warnings"] == []


async def test_idempotent_intake_returns_the_same_case(api: Api) -> None:
    h = {**(await api.headers("tinh.tiepdan")), "Idempotency-Key": "desk-7f3a-0001"}
    from tests.helpers import case_body

    first = await api.http.post(f"{V1}/cases", headers=h, json=case_body())
    again = await api.http.post(f"{V1}/cases", headers=h, json=case_body())
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["access_key"] == again.json()["access_key"]


async def test_a_level_skipping_denunciation_carries_a_transfer_timer_met_by_the_transfer(api: Api) -> None:
    h = await api.headers("tinh.tiepdan")
    commune = (await api.http.get(f"{V1}/units", headers=h, params={"q": "Khao Mang"})).json()["items"][0]
    case = await intake(api, kind="denunciation", competent_unit_id=commune["id"])
    assert timer(case, "transfer")["days"] == 5
    moved = await act(api, "tinh.tiepdan", case, "transfer", to_unit_id=commune["id"], reason="Thẩm quyền xã")
    assert timer(moved, "transfer")["status"] == "met"


async def test_worked_examples_through_the_api(api: Api) -> None:
    """Real dates, end to end: the rule switch on 2026-07-01 and Tết 2026."""
    june = await intake(api, received_at="2026-06-30")
    july = await intake(api, received_at="2026-07-06")
    tet = await intake(api, received_at="2026-02-10")
    assert (timer(june, "acceptance")["basis"], timer(june, "acceptance")["due_date"]) == ("calendar", "2026-07-10")
    assert (timer(july, "acceptance")["basis"], timer(july, "acceptance")["due_date"]) == ("working", "2026-07-15")
    assert timer(tet, "acceptance")["due_date"] == "2026-02-23"
    assert timer(june, "acceptance")["status"] == "overdue"  # nobody accepted it in time
    accepted = await act(api, "tinh.chutich", june, "accept", effective_date="2026-07-09", decision_number="1")
    assert timer(accepted, "acceptance")["status"] == "met"
    late = await act(api, "tinh.chutich", july, "accept", effective_date="2026-07-16", decision_number="2")
    assert timer(late, "acceptance")["status"] == "met_late"
    # Accepted 9 July 2026: 30 calendar days → Sat 8 August → Monday 10 August.
    assert timer(accepted, "resolution")["due_date"] == "2026-08-10"


async def test_an_idempotency_key_replays_only_its_own_request_as_the_case_is_now(api: Api) -> None:
    from tests.helpers import case_body

    h = {**(await api.headers("tinh.tiepdan")), "Idempotency-Key": "desk-7f3a-0002"}
    body = case_body(
        kind="denunciation", field="corruption", parties=[{"role": "denouncer", "full_name": "Lò Thị Hoa"}]
    )
    first = (await api.http.post(f"{V1}/cases", headers=h, json=body)).json()
    other = await api.http.post(f"{V1}/cases", headers=h, json={**body, "title": "Một đơn khác"})
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"
    accepted = await act(api, "tinh.chutich", first, "accept", decision_number="3/QĐ")
    replay = await api.http.post(f"{V1}/cases", headers=h, json=body)
    assert replay.status_code == 201 and replay.json()["id"] == first["id"]
    assert replay.json()["status"] == "accepted" and replay.json()["version"] == accepted["version"]
    # The desk officer who received it sees the denouncer again: recorded as a read, like GET /cases/{id}.
    events = (await api.http.get(f"{V1}/cases/{first['id']}/events", headers=h)).json()["items"]
    desk = await api.user("tinh.tiepdan")
    assert [e["action"] for e in events][-1] == "identity_viewed" and events[-1]["actor_id"] == desk.id


async def test_parallel_retries_with_one_key_all_get_the_one_case(live: Live) -> None:
    import asyncio

    from tests.helpers import case_body

    h = {**(await live.headers("tinh.tiepdan")), "Idempotency-Key": "mobile-retry-0001"}
    answers = await asyncio.gather(*(live.http.post(f"{V1}/cases", headers=h, json=case_body()) for _ in range(6)))
    assert {r.status_code for r in answers} == {201}
    assert len({r.json()["id"] for r in answers}) == 1


async def test_refusal_grounds_are_those_of_the_kind_with_their_clause(api: Api) -> None:
    complaint = await intake(api)
    for wrong in ("anonymous", "not_competent", "form_not_met"):  # stored, guided/transferred, or a denunciation's
        r = await act_raw(api, "tinh.chutich", complaint, "reject", reason_code=wrong, reason="x")
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_reason_code", wrong
        assert "unsigned" in r.json()["error"]["details"]["allowed"]
    refused = await act(api, "tinh.chutich", complaint, "reject", reason_code="unsigned", reason="Đơn không ký")
    events = (
        await api.http.get(f"{V1}/cases/{refused['id']}/events", headers=await api.headers("tinh.chutich"))
    ).json()
    assert events["items"][-1]["payload"]["legal_basis"] == "LKN art. 11.5"

    den = await intake(api, kind="denunciation", field="corruption", parties=[{"role": "denouncer", "full_name": "A"}])
    r = await act_raw(api, "tinh.chutich", den, "reject", reason_code="time_barred", reason="x")
    assert r.status_code == 422  # no such thing as a time-barred denunciation
    r = await act_raw(api, "tinh.tiepdan", den, "store", reason_code="time_barred")
    assert r.status_code == 422
    refused = await act(api, "tinh.chutich", den, "reject", reason_code="no_basis_to_identify", reason="Không rõ")
    assert refused["status"] == "rejected" and refused["reason_code"] == "no_basis_to_identify"


async def test_complexity_is_the_resolvers_decision_and_moves_the_complaint_period(api: Api) -> None:
    case = await intake(api, received_at="2026-11-02")
    # Decided at acceptance: 45 days instead of 30 (LKN art. 28).
    accepted = await act(
        api, "tinh.chutich", case, "accept", decision_number="1", effective_date="2026-11-04", complexity="complex"
    )
    assert accepted["complexity"] == "complex" and timer(accepted, "resolution")["days"] == 45
    plain = await act(
        api,
        "tinh.chutich",
        await intake(api, received_at="2026-11-02"),
        "accept",
        decision_number="2",
        effective_date="2026-11-04",
    )
    assert timer(plain, "resolution")["days"] == 30 and timer(plain, "resolution")["due_date"] == "2026-12-04"
    # Raised later, with its reason, on its real date while the period still ran (Tue 1 Dec): the same acceptance
    # date, the longer period.
    h = {**(await api.headers("tinh.chutich")), "If-Match": str(plain["version"])}
    r = await api.http.post(
        f"{V1}/cases/{plain['id']}/complexity",
        headers=h,
        json={"complexity": "complex", "reason": "Nhiều hộ, nhiều thửa đất", "effective_date": "2026-12-01"},
    )
    assert r.status_code == 200, r.text
    raised = r.json()
    assert timer(raised, "resolution")["days"] == 45 and timer(raised, "resolution")["due_date"] == "2026-12-21"
    events = (await api.http.get(f"{V1}/cases/{plain['id']}/events", headers=h)).json()["items"]
    assert events[-1]["action"] == "complexity_decided" and events[-1]["payload"] == {"from": "normal", "to": "complex"}
    h["If-Match"] = str(raised["version"])
    r = await api.http.post(
        f"{V1}/cases/{plain['id']}/complexity", headers=h, json={"complexity": "normal", "reason": "x"}
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "complexity_lowered"
    r = await api.http.post(
        f"{V1}/cases/{plain['id']}/complexity",
        headers={**(await api.headers("tinh.tiepdan")), "If-Match": h["If-Match"]},
        json={"complexity": "especially_complex", "reason": "x"},
    )
    assert r.status_code == 403  # the resolver decides, not the desk


async def test_a_complaint_suspension_is_a_decision_sent_within_three_working_days(api: Api) -> None:
    case = await intake(api, received_at="2026-11-02")
    case = await act(api, "tinh.chutich", case, "accept", effective_date="2026-11-04", decision_number="1")
    r = await act_raw(api, "tinh.chutich", case, "suspend", effective_date="2026-11-10", reason="Chờ giám định")
    assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "decision_number"
    case = await act(
        api,
        "tinh.chutich",
        case,
        "suspend",
        effective_date="2026-11-10",
        reason="Chờ giám định",
        decision_number="9/QĐ-TĐC",
    )
    notice = timer(case, "notify_suspension")
    assert notice["basis"] == "working" and notice["days"] == 3 and notice["due_date"] == "2026-11-13"
    assert "155/2026" in notice["legal_basis"]
    assert timer(case, "resolution")["status"] == "paused"
    case = await act(api, "tinh.chutich", case, "resume", effective_date="2026-11-20", decision_number="10/QĐ")
    assert timer(case, "notify_resumption")["due_date"] == "2026-11-26"  # Mon 23, (24 Nov a holiday), 25, 26
    # Resolution: 4 Nov + 30 days + 10 days suspended = Mon 14 Dec.
    assert timer(case, "resolution")["due_date"] == "2026-12-14"


async def test_an_officers_remote_area_setting_survives_a_transfer(api: Api) -> None:
    h = await api.headers("tinh.tiepdan")
    commune = (await api.http.get(f"{V1}/units", headers=h, params={"q": "Khao Mang"})).json()["items"][0]
    assert commune["remote_area"] is True
    # The desk knows this matter arises in a town ward, not in the remote commune it is sent to.
    case = await intake(api, competent_unit_id=commune["id"], remote_area=False)
    moved = await act(api, "tinh.tiepdan", case, "transfer", to_unit_id=commune["id"], reason="Thẩm quyền xã")
    copy = (await get(api, "xa.tiepdan", moved["transferred_to_case_id"])).json()
    assert copy["remote_area"] is False
