"""A denunciation can name the accused officer whichever way it came in (issue 21, F5): a register entry opening a
case names them at intake (`create_case.accused_officer_ids`), and the desk or head of the unit holding a case adds
or (its head only, with a reason) removes an accused link later (`POST /cases/{id}/accused`,
`DELETE /cases/{id}/accused/{party_id}`), each a chained, audited step under If-Match. An officer named does not
find the case or its register entry from that moment, nor after the link is removed (tests/test_accused_links_kept.py);
the overseer rule and the rule on naming heads hold as at desk intake."""

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from api.models.audit import AuditEvent
from api.models.cases import CaseEvent
from api.models.unit import Unit
from api.models.user import User
from tests.conftest import Api
from tests.helpers import TODAY, V1, get
from tests.test_reception import add_entry, new_session
from workflows import confidentiality as conf

NAME = "Sùng Thị Pà"
ID_NUMBER = "015190005656"
CONTENT = "Tố cáo ông tiếp dân xã đòi tiền bà Pà ở bản Tả Van."


async def _officer(api: Api, username: str, roles: list[str], unit_code: str = "04465") -> User:
    unit = await api.session.scalar(sa.select(Unit.id).where(Unit.code == unit_code))
    user = User(username=username, password_hash="!", full_name=username, unit_id=unit, roles=roles, is_active=True)
    api.session.add(user)
    await api.session.flush()
    return user


async def _entry(api: Api, **create_case: Any) -> Any:
    sess = await new_session(api, TODAY - timedelta(days=1))
    return await add_entry(
        api,
        sess,
        kind="denunciation",
        persons=[{"full_name": NAME, "id_number": ID_NUMBER}],
        content=CONTENT,
        handling="within_competence",
        create_case={"title": "Tố cáo cán bộ", "field": "corruption", **create_case},
    )


async def _reads(api: Api, who: str, case_id: int, entry_id: int | None = None) -> bool:
    """Whether `who` finds the case (and its entry): by id, in the list and in the register."""
    found = (await get(api, who, case_id)).status_code == 200
    listed = await api.http.get(f"{V1}/cases", headers=await api.headers(who))
    assert found == (case_id in [c["id"] for c in listed.json()["items"]]), who
    if entry_id is not None:
        entry = await api.http.get(f"{V1}/reception-sessions/entries/{entry_id}", headers=await api.headers(who))
        assert found == (entry.status_code == 200), (who, entry.status_code)
    return found


async def _verified(api: Api, case_id: int) -> bool:
    r = await api.http.get(f"{V1}/cases/{case_id}/events/verify", headers=await api.headers("xa.chutich"))
    assert r.status_code == 200, r.text
    return bool(r.json()["valid"])


async def _add(api: Api, who: str, case_id: int, body: dict[str, Any], version: int | None = None) -> Any:
    if version is None:
        version = (await get(api, "xa.chutich", case_id)).json()["version"]
    headers = {**await api.headers(who), "If-Match": str(version)}
    return await api.http.post(f"{V1}/cases/{case_id}/accused", headers=headers, json=body)


async def _remove(api: Api, who: str, case_id: int, party_id: int, version: int | None = None) -> Any:
    if version is None:
        version = (await get(api, "xa.chutich", case_id)).json()["version"]
    headers = {**await api.headers(who), "If-Match": str(version)}
    body = {"reason": "Ghi nhầm người bị tố cáo"}
    return await api.http.request("DELETE", f"{V1}/cases/{case_id}/accused/{party_id}", headers=headers, json=body)


async def test_a_register_entry_names_the_accused_officer_who_then_finds_neither_case_nor_entry(api: Api) -> None:
    accused = await _officer(api, "xa.tiepdan2", ["desk_officer"])
    r = await _entry(api, accused_officer_ids=[accused.id])
    assert r.status_code == 201, r.text
    entry = r.json()
    case_id = entry["case_id"]
    assert not await _reads(api, "xa.tiepdan2", case_id, entry["id"])
    case = (await get(api, "xa.chutich", case_id)).json()
    linked = [p for p in case["parties"] if p["role"] == "accused"]
    assert [(p["officer_id"], p["full_name"]) for p in linked] == [(accused.id, "xa.tiepdan2")]
    create = await api.session.scalar(
        sa.select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.action == "create")
    )
    assert create is not None and create.payload["accused_officer_ids"] == [accused.id]
    assert await _verified(api, case_id)
    for reader in ("xa.tiepdan", "xa.chutich", "thanhtra"):
        assert await _reads(api, reader, case_id, entry["id"]), reader


async def test_a_register_entry_keeps_the_rules_on_naming_officers(api: Api) -> None:
    # The head of the unit that settles the case may not be named there (LTC art. 13: the unit above settles it).
    head = await api.user("xa.chutich")
    r = await _entry(api, accused_officer_ids=[head.id])
    assert r.status_code == 422 and r.json()["error"]["code"] == "accused_head_competence", r.text
    r = await _entry(api, accused_officer_ids=[999_999])
    assert r.status_code == 422 and r.json()["error"]["code"] == "user_not_found", r.text
    extra = [(await _officer(api, f"xa.cb{i}", ["desk_officer"])).id for i in range(4)]
    r = await _entry(api, accused_officer_ids=extra)
    assert r.status_code == 422, r.text
    # Nothing of a refused entry was written.
    count = await api.session.scalar(sa.text("SELECT count(*) FROM reception_entries WHERE kind = 'denunciation'"))
    assert count == 0


async def test_naming_an_officer_after_intake_removes_their_read_at_once_and_for_good(api: Api) -> None:
    accused = await _officer(api, "xa.tiepdan2", ["desk_officer"])
    r = await _entry(api)
    assert r.status_code == 201, r.text
    entry = r.json()
    case_id = entry["case_id"]
    assert await _reads(api, "xa.tiepdan2", case_id, entry["id"])  # a desk officer of the unit, before
    version = (await get(api, "xa.chutich", case_id)).json()["version"]
    # If-Match as on every change of a case.
    h = await api.headers("xa.tiepdan")
    r = await api.http.post(f"{V1}/cases/{case_id}/accused", headers=h, json={"officer_id": accused.id})
    assert r.status_code == 428, r.text
    r = await _add(api, "xa.tiepdan", case_id, {"officer_id": accused.id}, version=version + 5)
    assert r.status_code == 412, r.text
    r = await _add(api, "xa.tiepdan", case_id, {"officer_id": accused.id}, version=version)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["version"] == version + 1 and r.headers["ETag"] == f'"{version + 1}"'
    party = next(p for p in body["parties"] if p["officer_id"] == accused.id)
    assert party["role"] == "accused" and party["full_name"] == "xa.tiepdan2"
    assert not await _reads(api, "xa.tiepdan2", case_id, entry["id"])
    # A chained step (the state digest covers the new link) and an audit record.
    event = await api.session.scalar(
        sa.select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.action == "accused_added")
    )
    assert event is not None and event.payload["officer_id"] == accused.id and event.payload["party_id"] == party["id"]
    assert await _verified(api, case_id)
    audited = await api.session.scalar(
        sa.select(sa.func.count()).where(
            AuditEvent.entity == "case", AuditEvent.entity_id == str(case_id), AuditEvent.action == "accused_added"
        )
    )
    assert audited == 1
    # The same officer twice is refused; a named person who is no officer may be added too.
    r = await _add(api, "xa.chutich", case_id, {"officer_id": accused.id})
    assert r.status_code == 409 and r.json()["error"]["code"] == "already_accused", r.text
    r = await _add(api, "xa.chutich", case_id, {"full_name": "Ông Lù Văn Pao", "address": "Bản Tả Van"})
    assert r.status_code == 201, r.text
    other = next(p for p in r.json()["parties"] if p["full_name"] == "Ông Lù Văn Pao")
    # Only an accused party is removed this way: the denouncer is not.
    denouncer = next(p for p in r.json()["parties"] if p["role"] == "denouncer")
    r = await _remove(api, "xa.chutich", case_id, denouncer["id"])
    assert r.status_code == 404 and r.json()["error"]["code"] == "party_not_found", r.text
    # Removing the link is for the head (the desk: 403), a chained, audited step; the party leaves the list but the
    # officer once named does not get the case back (audit 2 #8).
    r = await _remove(api, "xa.tiepdan", case_id, party["id"])
    assert r.status_code == 403 and r.json()["error"]["code"] == "accused_removal_head_only", r.text
    r = await _remove(api, "xa.chutich", case_id, party["id"])
    assert r.status_code == 200, r.text
    assert party["id"] not in [p["id"] for p in r.json()["parties"]]
    assert other["id"] in [p["id"] for p in r.json()["parties"]]
    assert not await _reads(api, "xa.tiepdan2", case_id, entry["id"])
    removed = await api.session.scalar(
        sa.select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.action == "accused_removed")
    )
    assert removed is not None and removed.payload["officer_id"] == accused.id
    assert await _verified(api, case_id)


async def test_only_the_holding_units_desk_or_head_names_or_unnames_and_the_accused_cannot_unname_himself(
    api: Api,
) -> None:
    accused = await _officer(api, "xa.tiepdan2", ["desk_officer"])
    r = await _entry(api)
    case_id = r.json()["case_id"]
    body = {"officer_id": accused.id}
    # Readers who do not hold the case: 403; an officer who cannot read it: 404.
    for who, expected in (("thanhtra", 403), ("tinh.chutich", 403), ("xa.xacminh", 404), ("tinh.tiepdan", 404)):
        r = await _add(api, who, case_id, body)
        assert r.status_code == expected, (who, r.text)
    r = await _add(api, "xa.tiepdan", case_id, body)
    assert r.status_code == 201
    party_id = next(p["id"] for p in r.json()["parties"] if p["officer_id"] == accused.id)
    r = await _remove(api, "xa.tiepdan2", case_id, party_id)
    assert r.status_code == 404, r.text
    assert not await _reads(api, "xa.tiepdan2", case_id)
    # A head of the unit settling it may not be named there (as at intake).
    r = await _add(api, "xa.tiepdan", case_id, {"officer_id": (await api.user("xa.chutich")).id})
    assert r.status_code == 422 and r.json()["error"]["code"] == "accused_head_competence", r.text
    # Neither an officer nor a name: refused.
    r = await _add(api, "xa.tiepdan", case_id, {})
    assert r.status_code == 422, r.text


async def test_naming_every_inspector_after_intake_still_leaves_an_overseer(api: Api) -> None:
    chief = await _officer(api, "chanh.thanhtra", ["unit_head"], "15-TTT")
    inspectors = (await api.session.scalars(sa.select(User).where(User.is_active, User.roles.any("inspector")))).all()
    r = await _entry(api)
    case_id = r.json()["case_id"]
    for inspector in inspectors:
        r = await _add(api, "xa.tiepdan", case_id, {"officer_id": inspector.id})
        assert r.status_code == 201, r.text
    assert r.json()["oversight_escalated"] is True
    assert r.json()["oversight_reason"] == conf.ALL_INSPECTORS_ACCUSED
    for inspector in inspectors:
        assert (await get(api, inspector.username, case_id)).status_code == 404
    seen = await get(api, "chanh.thanhtra", case_id)
    assert seen.status_code == 200 and NAME not in seen.text
    added = (
        await api.session.scalars(
            sa.select(CaseEvent)
            .where(CaseEvent.case_id == case_id, CaseEvent.action == "accused_added")
            .order_by(CaseEvent.seq)
        )
    ).all()
    assert added[-1].payload["oversight_escalated"] == conf.ALL_INSPECTORS_ACCUSED
    assert chief.id is not None
