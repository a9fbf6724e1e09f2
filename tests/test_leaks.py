"""The whistleblower test (issue 9): a whole denunciation journey whose free text names the denouncer, then a
search for her name, ID number and phone in every response of every role, every log line, every webhook body
(the outbox the deliveries are made from) and every clear column of the database."""

import logging
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import Api
from tests.helpers import TODAY, V1, act, intake

NAME, ID_NUMBER, PHONE = "Vừ Thị Khiết", "015190007777", "0912000777"
SECRETS = (NAME, ID_NUMBER, PHONE, "Khiết")
DENOUNCER = {"role": "denouncer", "full_name": NAME, "id_number": ID_NUMBER, "phone": PHONE, "address": "Bản Mòng"}
SAYS_HER_NAME = f"bà {NAME} (CCCD {ID_NUMBER}, điện thoại {PHONE})"


async def _journey(api: Api) -> tuple[dict, int]:  # type: ignore[type-arg]
    case = await intake(
        api,
        kind="denunciation",
        field="corruption",
        title="Tố cáo cán bộ địa chính nhận tiền",
        content="Cán bộ địa chính xã nhận tiền để cấp giấy chứng nhận quyền sử dụng đất.",
        parties=[DENOUNCER, {"role": "accused", "full_name": "Cán bộ địa chính X"}],
    )
    denouncer_id = next(p["id"] for p in case["parties"] if p["role"] == "denouncer")
    case = await act(
        api, "tinh.chutich", case, "accept", decision_number="9/QĐ-TLTC", reason=f"Thụ lý đơn của {SAYS_HER_NAME}"
    )
    case = await act(api, "tinh.chutich", case, "assign", handler_ids=[(await api.user("tinh.xacminh")).id])
    head = await api.headers("tinh.chutich")
    r = await api.http.post(
        f"{V1}/cases/{case['id']}/notices",
        headers=head,
        json={
            "timer": "notify_acceptance",
            "sent_on": case["accepted_on"],
            "recipients": f"Gửi {SAYS_HER_NAME}",
            "recipient_party_ids": [denouncer_id],
        },
    )
    assert r.status_code == 200, r.text
    r = await api.http.post(
        f"{V1}/cases/{case['id']}/dialogues",
        headers=head,
        json={
            "held_on": case["accepted_on"],
            "participants": [NAME, "Cán bộ địa chính X"],
            "minutes": f"Làm việc với {SAYS_HER_NAME} về nội dung tố cáo.",
            "agreement_reached": False,
        },
    )
    assert r.status_code == 201, r.text
    case = (await api.http.get(f"{V1}/cases/{case['id']}", headers=head)).json()
    case = await act(
        api, "tinh.chutich", case, "extend", reason=f"Cần xác minh thêm với {SAYS_HER_NAME}", decision_number="10/QĐ"
    )
    case = await act(
        api,
        "tinh.chutich",
        case,
        "resolve",
        outcome="correct",
        decision_number="11/KL",
        reason=f"Kết luận: {SAYS_HER_NAME} tố cáo đúng",
    )
    # She also came to the province's reception desk: the register names her, and what was written about her.
    desk = await api.headers("tinh.tiepdan")
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    province = (await api.user("tinh.tiepdan")).unit_id
    sess = await api.http.post(
        f"{V1}/reception-sessions",
        headers=desk,
        json={
            "unit_id": province,
            "kind": "periodic",
            "mode": "direct",
            "status": "held",
            "starts_at": f"{yesterday}T08:00:00+07:00",
            "ends_at": f"{yesterday}T11:00:00+07:00",
            "location": "Trụ sở tiếp công dân tỉnh",
        },
    )
    assert sess.status_code == 201, sess.text
    entry = await api.http.post(
        f"{V1}/reception-sessions/{sess.json()['id']}/entries",
        headers=desk,
        json={
            "persons": [{"full_name": NAME, "id_number": ID_NUMBER, "address": "Bản Mòng"}],
            "kind": "denunciation",
            "content": "Tố cáo cán bộ địa chính xã nhận tiền.",
            "handling": "within_competence",
            "case_id": case["id"],
            "notes": f"Tiếp {SAYS_HER_NAME}",
            "follow_up": f"Hẹn trả lời {SAYS_HER_NAME}",
        },
    )
    assert entry.status_code == 201, entry.text
    return case, denouncer_id


async def _responses(api: Api, username: str, case_id: int) -> str:
    h = await api.headers(username)
    urls = [
        f"{V1}/cases/{case_id}",
        f"{V1}/cases/{case_id}/events",
        f"{V1}/cases/{case_id}/dialogues",
        f"{V1}/cases/{case_id}/duplicates",
        f"{V1}/cases?q=Khiet",
        f"{V1}/cases?q={ID_NUMBER}",
        f"{V1}/cases",
        f"{V1}/deadlines/overdue",
        f"{V1}/reception-sessions/entries",
        f"{V1}/reception-sessions/entries?kind=denunciation",
    ]
    return "\n".join([(await api.http.get(url, headers=h)).text for url in urls])


async def test_the_denouncer_is_named_nowhere_she_may_not_be(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    case, _ = await _journey(api)
    # Those who may not see the denouncer: the handler, the inspectorate, other units, the admin.
    for username in ("tinh.xacminh", "thanhtra", "xa.chutich", "xa.tiepdan", "admin"):
        seen = await _responses(api, username, case["id"])
        assert not [s for s in SECRETS if s in seen], username
    # The handler sees that sealed text exists, masked.
    events = (await api.http.get(f"{V1}/cases/{case['id']}/events", headers=await api.headers("tinh.xacminh"))).json()
    extend = next(e for e in events["items"] if e["action"] == "extend")
    assert extend["sealed"] is True and extend["reason"] == "(được giữ bí mật)"
    # The head who decides sees it all (the positive control), and that read is itself recorded.
    seen = await _responses(api, "tinh.chutich", case["id"])
    assert SAYS_HER_NAME in seen and NAME in seen
    after = (
        await api.http.get(f"{V1}/cases/{case['id']}/events?limit=200", headers=await api.headers("tinh.chutich"))
    ).json()
    assert any(e["action"] == "identity_viewed" and "event_seqs" in e["payload"] for e in after["items"])
    # The service's logs (not the test client's own request lines, which carry the URLs it asked for).
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records if r.name != "httpx")
    assert not [s for s in SECRETS if s in logged]
    # Every clear column of every table (the sealed columns are ciphertext), the outbox included: each webhook
    # body is its outbox row's payload in an envelope.
    tables = (
        (
            await api.session.execute(
                sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
            )
        )
        .scalars()
        .all()
    )
    assert "outbox_events" in tables and "case_events" in tables
    for table in tables:
        dump = await api.session.scalar(sa.text(f"SELECT coalesce(string_agg(t::text, E'\\n'), '') FROM \"{table}\" t"))  # noqa: S608
        assert not [s for s in SECRETS if s in (dump or "")], table


async def test_the_chain_still_verifies_with_sealed_text(api: Api) -> None:
    case, _ = await _journey(api)
    r = await api.http.get(f"{V1}/cases/{case['id']}/events/verify", headers=await api.headers("thanhtra"))
    assert r.json()["valid"] is True


async def test_a_notice_names_its_recipients_among_the_parties(api: Api) -> None:
    case = await intake(api, kind="denunciation", field="corruption", parties=[DENOUNCER])
    case = await act(api, "tinh.chutich", case, "accept", decision_number="1")
    r = await api.http.post(
        f"{V1}/cases/{case['id']}/notices",
        headers=await api.headers("tinh.chutich"),
        json={"timer": "notify_acceptance", "sent_on": case["accepted_on"], "recipient_party_ids": [999999]},
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "unknown_recipient"


async def test_a_complaints_free_text_stays_in_clear(api: Api) -> None:
    """Only cases with protected parties seal their free text: a complaint's reasons are read as written."""
    case = await act(api, "tinh.chutich", await intake(api), "accept", decision_number="1", reason="Đủ điều kiện")
    events = (await api.http.get(f"{V1}/cases/{case['id']}/events", headers=await api.headers("thanhtra"))).json()
    accept = next(e for e in events["items"] if e["action"] == "accept")
    assert accept["reason"] == "Đủ điều kiện" and accept["sealed"] is False
