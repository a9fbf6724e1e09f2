"""Bad input, the action protocol (If-Match, 409/412/428/403), listing and search."""

from datetime import timedelta

import pytest

from tests.conftest import Api
from tests.helpers import TODAY, V1, act, act_raw, case_body, days_ago, intake


async def _post(api: Api, username: str = "tinh.tiepdan", **overrides) -> object:
    return await api.http.post(f"{V1}/cases", headers=await api.headers(username), json=case_body(**overrides))


async def test_intake_bad_input_names_the_field(api: Api) -> None:
    cases = [
        ({"kind": "gossip"}, "kind"),
        ({"field": "weather"}, "field"),
        ({"received_at": (TODAY + timedelta(days=1)).isoformat()}, "received_at"),
        ({"parties": [{"role": "complainant", "full_name": "A", "id_number": "12345"}]}, "parties.0.id_number"),
        ({"parties": [{"role": "complainant", "full_name": "A", "id_number": "999090001234"}]}, "parties.0.id_number"),
        ({"parties": [{"role": "boss", "full_name": "A"}]}, "parties.0.role"),
        ({"content": "x" * 20_001}, "content"),
        ({"title": ""}, "title"),
        ({"complaint_round": 3}, "complaint_round"),
        ({"surprise": 1}, "surprise"),
    ]
    for overrides, field in cases:
        r = await _post(api, **overrides)
        assert r.status_code == 422, (overrides, r.text)
        body = r.json()["error"]
        fields = (
            [d["field"] for d in body["details"]] if isinstance(body["details"], list) else [body["details"]["field"]]
        )
        assert field in fields, (field, body)
        assert body["message"]


async def test_second_round_without_first_round_is_refused(api: Api) -> None:
    r = await _post(api, complaint_round=2)
    assert r.status_code == 422
    r = await _post(api, complaint_round=2, previous_case_id=987654321)
    assert r.status_code == 422 and r.json()["error"]["code"] == "first_round_not_found"
    petition = await intake(api, kind="petition")
    r = await _post(api, complaint_round=2, previous_case_id=petition["id"])
    assert r.status_code == 422


async def test_only_desk_officers_and_heads_take_in_cases(api: Api) -> None:
    for username in ("tinh.xacminh", "thanhtra", "admin"):
        r = await _post(api, username)
        assert r.status_code == 403, username


async def test_effective_date_in_the_future_or_before_receipt(api: Api) -> None:
    case = await intake(api, received_at=days_ago(5))
    r = await act_raw(api, "tinh.chutich", case, "accept", effective_date=(TODAY + timedelta(days=1)).isoformat())
    assert r.status_code == 422 and r.json()["error"]["code"] == "date_in_future"
    r = await act_raw(api, "tinh.chutich", case, "accept", effective_date=days_ago(6))
    assert r.status_code == 422 and r.json()["error"]["code"] == "date_before_receipt"


async def test_transfer_to_the_same_or_a_missing_unit(api: Api) -> None:
    case = await intake(api)
    r = await act_raw(api, "tinh.tiepdan", case, "transfer", to_unit_id=case["receiving_unit_id"])
    assert r.status_code == 422 and r.json()["error"]["code"] == "same_unit"
    r = await act_raw(api, "tinh.tiepdan", case, "transfer", to_unit_id=99999999)
    assert r.status_code == 422 and r.json()["error"]["code"] == "unit_not_found"


async def test_assigning_a_handler_from_another_unit_or_without_the_role(api: Api) -> None:
    case = await act(api, "tinh.chutich", await intake(api), "accept", decision_number="1")
    for username in ("xa.xacminh", "tinh.tiepdan"):
        r = await act_raw(api, "tinh.chutich", case, "assign", handler_ids=[(await api.user(username)).id])
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_handler", username


async def test_illegal_action_is_409_with_the_allowed_actions(api: Api) -> None:
    case = await intake(api)
    r = await act_raw(api, "tinh.chutich", case, "resolve", outcome="correct", decision_number="1")
    assert r.status_code == 409
    assert r.json()["error"]["details"]["allowed_actions"] == [
        "accept",
        "reject",
        "transfer",
        "guide",
        "store",
        "withdraw",
    ]
    # A desk officer may not accept: that is the head's decision.
    r = await act_raw(api, "tinh.tiepdan", case, "accept")
    assert r.status_code == 409
    assert r.json()["error"]["details"]["allowed_actions"] == ["transfer", "guide", "store", "withdraw"]
    r = await act_raw(api, "tinh.chutich", case, "fly")
    assert r.status_code == 422


async def test_if_match_is_required_and_checked(api: Api) -> None:
    case = await intake(api)
    r = await api.http.post(
        f"{V1}/cases/{case['id']}/actions/accept",
        headers=await api.headers("tinh.chutich"),
        json={"decision_number": "1"},
    )
    assert r.status_code == 428 and r.json()["error"]["code"] == "if_match_required"
    r = await act_raw(api, "tinh.chutich", case, "accept", version=7, decision_number="1")
    assert r.status_code == 412 and r.json()["error"]["details"]["current_version"] == 1
    ok = await act_raw(api, "tinh.chutich", case, "accept", decision_number="1")
    assert ok.status_code == 200 and ok.headers["etag"] == '"2"'
    stale = await act_raw(
        api, "tinh.chutich", case, "assign", version=1, handler_ids=[(await api.user("tinh.xacminh")).id]
    )
    assert stale.status_code == 412


async def test_a_head_of_another_unit_cannot_act(api: Api) -> None:
    case = await intake(api, "xa.tiepdan", title="Đơn tại xã")
    r = await act_raw(api, "tinh.chutich", case, "accept", decision_number="1")  # sees the subtree, acts in own unit
    assert r.status_code == 403 and r.json()["error"]["code"] == "not_your_unit"
    assert (await act_raw(api, "xa.chutich", case, "accept", decision_number="1")).status_code == 200


async def test_cases_outside_scope_are_not_found(api: Api) -> None:
    case = await intake(api, title="Đơn ở tỉnh")
    r = await api.http.get(f"{V1}/cases/{case['id']}", headers=await api.headers("xa.chutich"))
    assert r.status_code == 404 and r.json()["error"]["code"] == "case_not_found"
    r = await act_raw(api, "xa.chutich", case, "accept")
    assert r.status_code == 404
    assert (await api.http.get(f"{V1}/cases/{case['id']}", headers=await api.headers("thanhtra"))).status_code == 200
    assert (await api.http.get(f"{V1}/cases/{case['id']}", headers=await api.headers("admin"))).status_code == 404


async def test_accent_insensitive_search_and_filters(api: Api) -> None:
    h = await api.headers("tinh.chutich")
    land = await intake(api, title="Tranh chấp đất đai ở Bảo Thắng", content="Nội dung về ranh giới thửa đất.")
    other = await intake(
        api, kind="petition", field="policy", title="Kiến nghị trợ cấp", content="Chế độ hộ nghèo.", signer_count=7
    )
    found = (await api.http.get(f"{V1}/cases", headers=h, params={"q": "dat dai bao thang"})).json()["items"]
    assert land["id"] in [c["id"] for c in found] and other["id"] not in [c["id"] for c in found]
    by_code = (await api.http.get(f"{V1}/cases", headers=h, params={"q": land["tracking_code"]})).json()["items"]
    assert [c["id"] for c in by_code] == [land["id"]]
    assert (await api.http.get(f"{V1}/cases", headers=h, params={"q": "%"})).status_code == 422
    wild = (await api.http.get(f"{V1}/cases", headers=h, params={"q": "%%"})).json()["items"]
    assert wild == []  # % is a character to find, not a wildcard
    multi = (await api.http.get(f"{V1}/cases", headers=h, params={"multi_person": "true"})).json()["items"]
    assert other["id"] in [c["id"] for c in multi] and land["id"] not in [c["id"] for c in multi]
    petitions = (await api.http.get(f"{V1}/cases", headers=h, params={"kind": "petition", "field": "policy"})).json()
    assert {c["kind"] for c in petitions["items"]} == {"petition"}
    assert (await api.http.get(f"{V1}/cases", headers=h, params={"status": "flying"})).status_code == 422


async def test_overdue_and_due_before_filters(api: Api) -> None:
    h = await api.headers("tinh.chutich")
    late = await intake(api, title="Đơn quá hạn", received_at=days_ago(60))
    fresh = await intake(api, title="Đơn mới")
    overdue = (await api.http.get(f"{V1}/cases", headers=h, params={"overdue": "true"})).json()["items"]
    ids = [c["id"] for c in overdue]
    assert late["id"] in ids and fresh["id"] not in ids
    assert all(c["overdue"] for c in overdue)
    soon = (await api.http.get(f"{V1}/cases", headers=h, params={"due_before": days_ago(20)})).json()["items"]
    assert late["id"] in [c["id"] for c in soon] and fresh["id"] not in [c["id"] for c in soon]


async def test_keyset_pagination_visits_every_case_once(api: Api) -> None:
    h = await api.headers("tinh.chutich")
    made = {(await intake(api, title=f"Đơn phân trang {i}", received_at=days_ago(i % 4)))["id"] for i in range(7)}
    for sort in ("-received_at", "received_at", "due_date"):
        seen, cursor = [], None
        while True:
            params = {"limit": 3, "sort": sort, "q": "phan trang", **({"cursor": cursor} if cursor else {})}
            page = (await api.http.get(f"{V1}/cases", headers=h, params=params)).json()
            seen += [c["id"] for c in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert len(seen) == len(set(seen)) and set(seen) == made, sort


async def test_handler_sees_only_assigned_cases(api: Api) -> None:
    h = await api.headers("tinh.xacminh")
    case = await act(api, "tinh.chutich", await intake(api), "accept", decision_number="1")
    assert (await api.http.get(f"{V1}/cases/{case['id']}", headers=h)).status_code == 404
    await act(api, "tinh.chutich", case, "assign", handler_ids=[(await api.user("tinh.xacminh")).id])
    assert (await api.http.get(f"{V1}/cases/{case['id']}", headers=h)).status_code == 200
    listed = (await api.http.get(f"{V1}/cases", headers=h)).json()["items"]
    assert [c["id"] for c in listed] == [case["id"]]


async def test_duplicates_finds_the_same_person_and_similar_content(api: Api) -> None:
    text = "Bồi thường giải phóng mặt bằng dự án đường cao tốc Nội Bài – Lào Cai chưa thỏa đáng"
    first = await intake(api, title="Khiếu nại bồi thường", content=text + ".")
    second = await intake(api, title="Khiếu nại lại", content=text + ", đề nghị xem xét.", parties=[])
    third = await intake(api, title="Đơn khác", content="Nội dung hoàn toàn khác về hộ tịch.")
    dups = (
        await api.http.get(f"{V1}/cases/{first['id']}/duplicates", headers=await api.headers("tinh.chutich"))
    ).json()
    ids = {d["id"]: d for d in dups}
    assert second["id"] in ids and ids[second["id"]]["similarity"] > 0.3
    assert third["id"] in ids and ids[third["id"]]["same_person"] is True  # same citizen ID number


async def test_duplicates_answer_within_a_budget_when_the_wording_search_is_slow(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where thousands of letters share their phrases the trigram search reads long posting lists: past its budget
    it is cancelled (in a savepoint) and the answer comes from the same person and the unit's latest letters."""
    import time

    import sqlalchemy as sa

    from api.services.cases import duplicates

    text = "Đề nghị xem xét việc cấp giấy chứng nhận quyền sử dụng đất cho gia đình tôi ở bản Tả Ngảo"
    first = await intake(api, content=text + ".")
    second = await intake(api, content=text + " từ năm 2019.", parties=[])
    slow = sa.select(sa.literal_column("1")).select_from(sa.func.pg_sleep(2))
    monkeypatch.setattr(duplicates, "_similar_query", lambda content: slow)
    monkeypatch.setattr(duplicates, "SIMILAR_BUDGET_MS", 50)
    h = await api.headers("tinh.chutich")
    before = await api.session.scalar(sa.text("SHOW statement_timeout"))
    started = time.perf_counter()
    r = await api.http.get(f"{V1}/cases/{first['id']}/duplicates", headers=h)
    assert r.status_code == 200 and time.perf_counter() - started < 1.5
    assert second["id"] in {d["id"] for d in r.json()}  # the same unit's recent letter, similar wording
    # The transaction goes on, with the service's own statement timeout.
    assert await api.session.scalar(sa.text("SHOW statement_timeout")) == before
    assert (await api.http.get(f"{V1}/cases/{first['id']}", headers=h)).status_code == 200


async def test_only_the_resolver_or_an_assigned_handler_records_a_dialogue(api: Api) -> None:
    case = await act(api, "tinh.chutich", await intake(api), "accept", decision_number="1")
    body = {"held_on": case["received_at"], "participants": ["A"], "minutes": "x", "agreement_reached": False}
    r = await api.http.post(f"{V1}/cases/{case['id']}/dialogues", headers=await api.headers("tinh.tiepdan"), json=body)
    assert r.status_code == 403 and r.json()["error"]["code"] == "dialogue_forbidden"
    r = await api.http.post(
        f"{V1}/cases/{case['id']}/dialogues",
        headers=await api.headers("tinh.chutich"),
        json={**body, "held_on": (TODAY + timedelta(days=2)).isoformat()},
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "date_in_future"
    listed = await api.http.get(f"{V1}/cases/{case['id']}/dialogues", headers=await api.headers("tinh.chutich"))
    assert listed.status_code == 200 and listed.json()["items"] == []


async def test_out_of_range_ids_and_forged_cursors_are_422_not_500(api: Api) -> None:
    import base64
    import json

    h = await api.headers("tinh.chutich")
    for path in (f"{V1}/cases/{2**70}", f"{V1}/units/{2**40}", f"{V1}/cases/0/events"):
        r = await api.http.get(path, headers=h)
        assert r.status_code == 422, path
    forged = [["x", 1], ["2026-01-01", "1"], [None, 1], ["2026-13-45", 1], ["2026-01-01", 2**70]]
    for values in forged:
        cursor = base64.urlsafe_b64encode(json.dumps(values).encode()).decode()
        r = await api.http.get(f"{V1}/cases", headers=h, params={"cursor": cursor})
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_cursor", values
    r = await api.http.get(f"{V1}/deadlines/overdue", headers=h, params={"unit_id": -5})
    assert r.status_code == 422


async def test_only_the_competent_unit_accepts_and_the_desk_may_correct_competence_first(api: Api) -> None:
    h = await api.headers("tinh.tiepdan")
    commune = (await api.http.get(f"{V1}/units", headers=h, params={"q": "Khao Mang"})).json()["items"][0]
    case = await intake(api, competent_unit_id=commune["id"])  # received at the province, competent: the commune
    r = await act_raw(api, "xa.chutich", case, "accept", decision_number="1")
    assert r.status_code == 403 and r.json()["error"]["code"] == "not_your_unit"  # the province holds the letter
    r = await act_raw(api, "tinh.chutich", case, "accept", decision_number="1")  # a level-skipping letter
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_competent_to_accept"
    assert set(r.json()["error"]["details"]["allowed_actions"]) == {"transfer", "guide", "store"}
    # The desk finds the matter is the province's own after all, and records it (with its reason).
    r = await api.http.post(
        f"{V1}/cases/{case['id']}/competence",
        headers={**h, "If-Match": str(case["version"])},
        json={"competent_unit_id": case["receiving_unit_id"], "reason": "Nội dung thuộc thẩm quyền tỉnh"},
    )
    assert r.status_code == 200, r.text
    corrected = r.json()
    assert corrected["competent_unit_id"] == case["receiving_unit_id"] and corrected["level_skipping"] is False
    events = (await api.http.get(f"{V1}/cases/{case['id']}/events", headers=h)).json()["items"]
    assert events[-1]["action"] == "competence_corrected" and events[-1]["reason"] == "Nội dung thuộc thẩm quyền tỉnh"
    accepted = await act(api, "tinh.chutich", corrected, "accept", decision_number="1")
    assert accepted["status"] == "accepted" and accepted["competent_unit_id"] == case["receiving_unit_id"]
    r = await api.http.post(
        f"{V1}/cases/{case['id']}/competence",
        headers={**h, "If-Match": str(accepted["version"])},
        json={"competent_unit_id": commune["id"], "reason": "x"},
    )
    assert r.status_code == 409  # competence is settled once the letter is processed


async def test_search_is_by_whole_words_and_finds_old_cases_beyond_the_newest_window(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.services.cases import queries

    monkeypatch.setattr(queries, "TEXT_WINDOW", 3)  # so that both ways of answering are exercised here
    h = await api.headers("tinh.chutich")
    old = await intake(api, title="Khiếu nại về đường làng Nậm Thuận", received_at=days_ago(40))
    newer = [await intake(api, title=f"Đơn đường làng số {i}", received_at=days_ago(i)) for i in range(5)]

    async def search(q: str, **params: object) -> list[int]:
        r = await api.http.get(f"{V1}/cases", headers=h, params={"q": q, **params})
        assert r.status_code == 200, r.text
        return [c["id"] for c in r.json()["items"]]

    # Rare words, outside the newest three cases: found by the full-text index.
    assert await search("nam thuan") == [old["id"]]
    # Whole words: "thuan" is a word of the old case, "thua" and "an" are not words of any of them.
    assert await search("thua") == [] and old["id"] not in await search("an")
    # Common words: the newest cases first, every one of them, page after page.
    expected = [c["id"] for c in newer] + [old["id"]]  # newer[0] was received today
    seen, cursor = [], None
    while True:
        r = await api.http.get(
            f"{V1}/cases", headers=h, params={"q": "duong lang", "limit": 2, **({"cursor": cursor} if cursor else {})}
        )
        page = r.json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [i for i in seen if i in set(expected)] == expected


async def test_text_that_cannot_be_stored_or_reads_differently_is_refused_naming_the_field(api: Api) -> None:
    h = await api.headers("tinh.tiepdan")
    cases = [
        ({"title": "Đơn\x00khiếu nại"}, "title"),
        ({"content": "Nội dung \u202eđảo chiều"}, "content"),
        ({"parties": [{"role": "complainant", "full_name": "Nguyễn\u2066 Văn An"}]}, "parties.0.full_name"),
    ]
    for override, field in cases:
        r = await api.http.post(f"{V1}/cases", headers=h, json=case_body(**override))
        assert r.status_code == 422, r.text
        assert field in [d["field"] for d in r.json()["error"]["details"]]
    for params in ({"q": "dat\x00dai"}, {"cursor": "\x00"}):
        r = await api.http.get(f"{V1}/cases", headers=h, params=params)
        assert r.status_code == 422, r.text
    r = await api.http.get(f"{V1}/units", headers=h, params={"q": "Khao\x00"})
    assert r.status_code == 422


async def test_text_is_stored_nfc_normalised(api: Api) -> None:
    decomposed = "Nguye\u0302\u0303n Va\u0306n An"  # what some keyboards send
    case = await intake(api, parties=[{"role": "complainant", "full_name": decomposed}], title="Đơn cu\u0309a ông An")
    assert case["parties"][0]["full_name"] == "Nguyễn Văn An" and case["title"] == "Đơn của ông An"


async def test_received_at_is_a_written_date_not_before_the_floor(api: Api) -> None:
    h = await api.headers("tinh.tiepdan")
    for value in (1_700_006_400, "1704067200"):
        r = await api.http.post(f"{V1}/cases", headers=h, json=case_body(received_at=value))
        assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "received_at", r.text
    r = await api.http.post(f"{V1}/cases", headers=h, json=case_body(received_at="1999-12-31"))
    assert r.status_code == 422 and r.json()["error"]["code"] == "date_too_early"
    assert r.json()["error"]["details"]["floor"] == "2000-01-01"


async def test_409_says_whether_the_status_or_the_role_is_the_problem(api: Api) -> None:
    case = await intake(api)
    r = await act_raw(api, "tinh.tiepdan", case, "accept")  # a desk officer may not accept (thụ lý)
    body = r.json()["error"]
    assert r.status_code == 409 and body["code"] == "action_not_allowed_for_role"
    assert body["details"]["required_roles"] == ["unit_head"] and "accept" not in body["details"]["allowed_actions"]
    r = await act_raw(api, "tinh.chutich", case, "close")  # nobody closes a letter not yet decided
    body = r.json()["error"]
    assert r.status_code == 409 and body["code"] == "action_not_allowed" and "required_roles" not in body["details"]
    assert body["message"] != (await act_raw(api, "tinh.tiepdan", case, "accept")).json()["error"]["message"]


async def test_due_date_order_pages_through_every_case_once_with_or_without_a_due_date(api: Api) -> None:
    h = await api.headers("tinh.chutich")
    made = [await intake(api, title=f"Đơn hạn xử lý {i}", received_at=days_ago(i)) for i in range(3)]
    done = await act(api, "tinh.chutich", made[0], "accept", decision_number="9/QĐ")
    done = await act(api, "tinh.chutich", done, "resolve", outcome="correct", decision_number="10/QĐ")
    await act(api, "tinh.tiepdan", done, "close")  # no more due date (duty timers aside)
    stored = await act(api, "tinh.tiepdan", made[1], "store", reason_code="duplicate")
    assert stored["next_due_date"] is None
    seen, cursor = [], None
    while True:
        params = {"limit": 1, "sort": "due_date", "q": "han xu ly", **({"cursor": cursor} if cursor else {})}
        page = (await api.http.get(f"{V1}/cases", headers=h, params=params)).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(c["id"] for c in made) and len(seen) == len(set(seen))
    assert seen[-1] == stored["id"] or seen.index(stored["id"]) > seen.index(made[2]["id"])


async def test_each_step_is_dated_on_or_after_the_step_before_it(api: Api) -> None:
    case = await intake(api, received_at="2026-11-02")
    case = await act(api, "tinh.chutich", case, "accept", effective_date="2026-11-10", decision_number="1/QĐ-TL")
    r = await act_raw(
        api, "tinh.chutich", case, "resolve", effective_date="2026-11-05", outcome="correct", decision_number="2/QĐ"
    )
    error = r.json()["error"]
    assert r.status_code == 422 and error["code"] == "date_before_previous_step"
    assert error["details"] == {"field": "effective_date", "previous_step_date": "2026-11-10"}
    case = await act(
        api, "tinh.chutich", case, "resolve", effective_date="2026-11-20", outcome="correct", decision_number="2/QĐ"
    )
    r = await act_raw(api, "tinh.tiepdan", case, "close", effective_date="2026-11-19")  # before the decision
    assert r.status_code == 422 and r.json()["error"]["details"]["previous_step_date"] == "2026-11-20"
    assert (await act_raw(api, "tinh.tiepdan", case, "close", effective_date="2026-11-20")).status_code == 200


async def test_an_extension_is_decided_while_the_period_still_runs(api: Api) -> None:
    den = await intake(
        api,
        kind="denunciation",
        field="corruption",
        received_at="2026-09-01",
        parties=[{"role": "denouncer", "full_name": "Lò Văn Pha"}],
    )
    den = await act(api, "tinh.chutich", den, "accept", effective_date="2026-09-03", decision_number="5/QĐ")
    due = next(t for t in den["timers"] if t["name"] == "resolution")["due_date"]
    assert due == "2026-10-05"  # 30 days from 3 Sep end on Sat 3 Oct: rolled to Monday
    late = await act_raw(
        api,
        "tinh.chutich",
        den,
        "extend",
        effective_date="2026-10-06",
        decision_number="6/QĐ",
        reason="Phức tạp",
        complexity="complex",
    )
    assert late.status_code == 409 and late.json()["error"]["code"] == "extension_after_deadline"
    assert late.json()["error"]["details"]["due_date"] == "2026-10-05"
    ok = await act(
        api,
        "tinh.chutich",
        den,
        "extend",
        effective_date="2026-10-05",
        decision_number="6/QĐ",
        reason="Phức tạp",
        complexity="complex",
    )
    assert next(t for t in ok["timers"] if t["name"] == "resolution")["due_date"] == "2026-11-02"  # 60 days


async def test_intake_references_reveal_nothing_outside_the_callers_scope(api: Api) -> None:
    # A decided case of the province, invisible to the commune desk.
    hidden = await act(api, "tinh.chutich", await intake(api), "accept", decision_number="1")
    hidden = await act(api, "tinh.chutich", hidden, "resolve", outcome="correct", decision_number="2")
    h = await api.headers("xa.tiepdan")
    assert (await api.http.get(f"{V1}/cases/{hidden['id']}", headers=h)).status_code == 404
    for field, code in (
        ("repeat_of_case_id", "repeat_target_not_decided"),
        ("previous_case_id", "first_round_not_found"),
    ):
        extra = {"complaint_round": 2} if field == "previous_case_id" else {}
        unreadable = await api.http.post(f"{V1}/cases", headers=h, json=case_body(**{field: hidden["id"]}, **extra))
        unknown = await api.http.post(f"{V1}/cases", headers=h, json=case_body(**{field: 987_654_321}, **extra))
        assert unreadable.status_code == unknown.status_code == 422, (unreadable.text, unknown.text)
        assert unreadable.json()["error"] == unknown.json()["error"] and unknown.json()["error"]["code"] == code
