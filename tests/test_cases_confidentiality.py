"""A denouncer's identity: shown only to the desk officer who received the case and the head who
resolves it; masked for everyone else; every unmasked read is an audited event; an accused officer
neither sees the case nor can be assigned to it."""

import logging

import pytest
import sqlalchemy as sa

from api.models.cases import CaseEvent
from tests.conftest import Api
from tests.helpers import TODAY, V1, act, act_raw, create_officer, get, intake

DENOUNCER = {
    "role": "denouncer",
    "full_name": "Lò Thị Bình",
    "id_number": "015190004321",
    "phone": "0987654321",
    "address": "Bản Khoang, xã Tả Phìn",
}
SECRETS = ("Lò Thị Bình", "015190004321", "0987654321", "Bản Khoang")


async def _make_user(api: Api, username: str, roles: list[str], unit_username: str = "tinh.tiepdan") -> None:
    await create_officer(api, username, roles, unit_username)  # made by `admin`, approved by `admin2`


async def _denunciation(api: Api, accused_officer: str | None = None) -> dict:
    accused = {"role": "accused", "full_name": "Cán bộ Y"}
    if accused_officer:
        accused["officer_id"] = (await api.user(accused_officer)).id
    case = await intake(
        api, kind="denunciation", field="corruption", title="Tố cáo nhận hối lộ", parties=[DENOUNCER, accused]
    )
    case = await act(api, "tinh.chutich", case, "accept", decision_number="7/QĐ-TLTC")
    return await act(api, "tinh.chutich", case, "assign", handler_ids=[(await api.user("tinh.xacminh")).id])


def _denouncer(body: dict) -> dict:
    return next(p for p in body["parties"] if p["role"] == "denouncer")


async def _identity_reads(api: Api, case_id: int) -> list[int | None]:
    return list(
        (
            await api.session.scalars(
                sa.select(CaseEvent.actor_id)
                .where(CaseEvent.case_id == case_id, CaseEvent.action == "identity_viewed")
                .order_by(CaseEvent.seq)
            )
        ).all()
    )


async def test_masking_for_every_role(api: Api) -> None:
    await _make_user(api, "tinh.tiepdan2", ["desk_officer"])
    case = await _denunciation(api)
    before = await _identity_reads(api, case["id"])
    expectations = {
        "tinh.tiepdan": True,
        "tinh.chutich": True,
        "tinh.xacminh": False,
        "thanhtra": False,
        "tinh.tiepdan2": False,
    }
    for username, reveals in expectations.items():
        r = await get(api, username, case["id"])
        assert r.status_code == 200, username
        party = _denouncer(r.json())
        if reveals:
            assert party["full_name"] == "Lò Thị Bình" and party["id_number"] == "015190004321", username
        else:
            assert party["masked"] is True, username
            assert not any(s in r.text for s in SECRETS), username
    readers = (await _identity_reads(api, case["id"]))[len(before) :]
    assert readers == [(await api.user("tinh.tiepdan")).id, (await api.user("tinh.chutich")).id]


async def test_an_action_response_that_shows_the_identity_is_audited_too(api: Api) -> None:
    case = await intake(api, kind="denunciation", field="corruption", parties=[DENOUNCER])
    assert await _identity_reads(api, case["id"]) == []  # the desk officer typed it in: nothing read
    accepted = await act(api, "tinh.chutich", case, "accept", decision_number="9/QĐ")
    assert _denouncer(accepted)["full_name"] == "Lò Thị Bình"
    assert await _identity_reads(api, case["id"]) == [(await api.user("tinh.chutich")).id]


async def test_lists_events_and_duplicates_never_carry_the_identity(api: Api) -> None:
    case = await _denunciation(api)
    for username in ("tinh.chutich", "tinh.tiepdan", "tinh.xacminh", "thanhtra"):
        h = await api.headers(username)
        for path in ("/api/v1/cases", f"/api/v1/cases/{case['id']}/events", f"/api/v1/cases/{case['id']}/duplicates"):
            r = await api.http.get(path, headers=h)
            assert r.status_code == 200, (username, path)
            assert not any(s in r.text for s in SECRETS), (username, path)


async def test_the_action_response_to_a_handler_is_masked(api: Api) -> None:
    case = await _denunciation(api)
    r = await api.http.post(
        f"{V1}/cases/{case['id']}/dialogues",
        headers=await api.headers("tinh.xacminh"),
        json={
            "held_on": TODAY.isoformat(),
            "participants": ["Người xác minh"],
            "minutes": "Làm việc",
            "agreement_reached": False,
        },
    )
    assert r.status_code == 201 and not any(s in r.text for s in SECRETS)


async def test_an_accused_officer_cannot_see_or_be_assigned(api: Api) -> None:
    await _make_user(api, "tinh.xacminh2", ["handler"])
    intake_case = await intake(
        api,
        kind="denunciation",
        field="corruption",
        title="Tố cáo cán bộ xác minh",
        parties=[
            DENOUNCER,
            {"role": "accused", "full_name": "tinh.xacminh2", "officer_id": (await api.user("tinh.xacminh2")).id},
        ],
    )
    case = await act(api, "tinh.chutich", intake_case, "accept", decision_number="8/QĐ")
    r = await act_raw(api, "tinh.chutich", case, "assign", handler_ids=[(await api.user("tinh.xacminh2")).id])
    assert r.status_code == 422 and r.json()["error"]["code"] == "handler_is_accused"
    # Even with inspector rights the accused does not see it.
    accused = await api.user("tinh.xacminh2")
    await api.http.patch(
        f"{V1}/users/{accused.id}", headers=await api.headers("admin"), json={"roles": ["handler", "inspector"]}
    )
    r = await api.http.post(f"{V1}/users/{accused.id}/approve", headers=await api.headers("admin2"))
    assert r.json()["roles"] == ["handler", "inspector"]
    assert (await get(api, "tinh.xacminh2", case["id"])).status_code == 404
    listed = (await api.http.get(f"{V1}/cases", headers=await api.headers("tinh.xacminh2"))).json()["items"]
    assert case["id"] not in [c["id"] for c in listed]
    assert (await get(api, "thanhtra", case["id"])).status_code == 200


async def test_identity_never_reaches_logs(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    case = await _denunciation(api)
    await get(api, "tinh.chutich", case["id"])
    await api.http.post(
        f"{V1}/cases",
        headers=await api.headers("tinh.tiepdan"),
        json={"kind": "denunciation", "parties": [{**DENOUNCER, "id_number": "bad"}]},
    )
    assert not any(s in caplog.text for s in SECRETS)


async def test_identity_is_sealed_at_rest_and_opens_only_for_those_allowed(api: Api) -> None:
    case = await _denunciation(api)
    rows = (
        await api.session.execute(
            sa.text(
                "SELECT role, full_name, id_number, phone, address, sealed, id_number_hash FROM case_parties "
                "WHERE case_id = :id"
            ),
            {"id": case["id"]},
        )
    ).all()
    dump = repr(rows)
    assert not any(s in dump for s in SECRETS)
    denouncer = next(r for r in rows if r.role == "denouncer")
    assert denouncer.sealed and denouncer.full_name == "" and len(denouncer.id_number_hash) == 64
    from api.vault import vault_for
    from tests.conftest import SETTINGS

    assert vault_for(SETTINGS).open(denouncer.sealed)["full_name"] == "Lò Thị Bình"


async def test_a_transferred_case_keeps_the_identity_sealed(api: Api) -> None:
    h = await api.headers("tinh.tiepdan")
    commune = (await api.http.get(f"{V1}/units", headers=h, params={"q": "Khao Mang"})).json()["items"][0]
    case = await intake(api, kind="denunciation", field="land", parties=[DENOUNCER])
    moved = await act(api, "tinh.tiepdan", case, "transfer", to_unit_id=commune["id"], reason="Thẩm quyền xã")
    linked = moved["transferred_to_case_id"]
    assert _denouncer((await get(api, "xa.chutich", linked)).json())["full_name"] == "Lò Thị Bình"
    assert _denouncer((await get(api, "xa.tiepdan", linked)).json())["masked"] is True


async def test_duplicates_never_link_a_denouncer_to_a_visible_identity(api: Api) -> None:
    visible = await intake(
        api,
        title="Khiếu nại của bà Bình",
        parties=[{"role": "complainant", "full_name": "Lò Thị Bình", "id_number": DENOUNCER["id_number"]}],
    )
    secret = await intake(
        api,
        kind="denunciation",
        field="corruption",
        title="Tố cáo khác hẳn",
        content="Nội dung riêng biệt không trùng lặp.",
        parties=[DENOUNCER],
    )
    for a, b in ((visible, secret), (secret, visible)):
        dups = (await api.http.get(f"{V1}/cases/{a['id']}/duplicates", headers=await api.headers("thanhtra"))).json()
        assert not any(d["id"] == b["id"] and d["same_person"] for d in dups)


async def test_no_sql_joins_a_sealed_identity_to_a_clear_row_of_the_same_person(api: Api) -> None:
    """The ID fingerprint of a protected party is keyed apart: equal numbers give unequal fingerprints across
    the line, while each side still matches its own kind (the denouncer's repeat letters, the complainant's)."""
    clear = [
        await intake(
            api, parties=[{"role": "complainant", "full_name": "Lò Thị Bình", "id_number": DENOUNCER["id_number"]}]
        )
        for _ in range(2)
    ]
    sealed = [await intake(api, kind="denunciation", field="corruption", parties=[DENOUNCER]) for _ in range(2)]
    rows = dict(
        (
            await api.session.execute(
                sa.text("SELECT case_id, id_number_hash FROM case_parties WHERE case_id = ANY(:ids)"),
                {"ids": [c["id"] for c in clear + sealed]},
            )
        ).all()
    )
    assert rows[clear[0]["id"]] == rows[clear[1]["id"]]
    assert rows[sealed[0]["id"]] == rows[sealed[1]["id"]]
    assert rows[clear[0]["id"]] != rows[sealed[0]["id"]]
    joined = await api.session.scalar(
        sa.text(
            "SELECT count(*) FROM case_parties a JOIN case_parties b ON a.id_number_hash = b.id_number_hash "
            "WHERE a.sealed IS NOT NULL AND b.sealed IS NULL"
        )
    )
    assert joined == 0


async def test_representatives_and_relatives_in_a_denunciation_are_protected_too(api: Api) -> None:
    case = await intake(
        api,
        kind="denunciation",
        field="corruption",
        signer_count=6,
        parties=[
            DENOUNCER,
            {"role": "representative", "full_name": "Hà Văn Đại Diện", "id_number": "015070009999"},
            {"role": "related", "full_name": "Con gái người tố cáo"},
            {"role": "accused", "full_name": "Cán bộ Z"},
        ],
    )
    case = await act(api, "tinh.chutich", case, "accept", decision_number="3/QĐ")
    case = await act(api, "tinh.chutich", case, "assign", handler_ids=[(await api.user("tinh.xacminh")).id])
    seen = (await get(api, "tinh.xacminh", case["id"])).json()["parties"]
    assert {p["role"]: p["masked"] for p in seen} == {
        "denouncer": True,
        "representative": True,
        "related": True,
        "accused": False,
    }
    assert "Hà Văn Đại Diện" not in repr(seen) and "Con gái" not in repr(seen)
    head = (await get(api, "tinh.chutich", case["id"])).json()["parties"]
    assert {p["full_name"] for p in head} >= {"Hà Văn Đại Diện", "Con gái người tố cáo", "Cán bộ Z"}


async def test_similar_wording_never_links_a_denunciation_for_a_caller_who_may_not_know_the_denouncer(
    api: Api,
) -> None:
    text = "Cán bộ địa chính xã Khao Mang đòi tiền khi làm sổ đỏ cho gia đình tôi ở thôn Nậm Khắt năm nay."
    den = await intake(
        api,
        kind="denunciation",
        field="corruption",
        title="Tố cáo",
        content=text,
        parties=[{"role": "denouncer", "full_name": "Lò Văn Pha"}],
    )
    complaint = await intake(api, title="Khiếu nại", content=text)
    den = await act(api, "tinh.chutich", den, "accept", decision_number="1")
    den = await act(api, "tinh.chutich", den, "assign", handler_ids=[(await api.user("tinh.xacminh")).id])
    for who, may_know in (("tinh.chutich", True), ("thanhtra", False)):  # the head decides; the inspector reads
        h = await api.headers(who)
        from_den = (await api.http.get(f"{V1}/cases/{den['id']}/duplicates", headers=h)).json()
        from_complaint = (await api.http.get(f"{V1}/cases/{complaint['id']}/duplicates", headers=h)).json()
        assert (complaint["id"] in [d["id"] for d in from_den]) is may_know, who
        assert (den["id"] in [d["id"] for d in from_complaint]) is may_know, who
    handler = await api.http.get(f"{V1}/cases/{den['id']}/duplicates", headers=await api.headers("tinh.xacminh"))
    assert handler.status_code == 200 and handler.json() == []
