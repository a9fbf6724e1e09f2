"""An accused link is never forgotten for access (issue 21, audit 2 #1 and #8). Removing an accused party
(`DELETE /cases/{id}/accused/{party_id}`) is for the head of the unit holding the case, with a reason, chained and
audited; the link is kept, marked removed: the party leaves the case's party list, but the officer once named
never reads the case, its register line or its protected identities again, and the case is never transferred to a
unit that officer heads (the rule of intake's `accused_head_competence`, removed links included). Before, one desk
officer removed a colleague's link without a reason and the colleague read the denunciation at once; with a
transfer to the accused chair's commune, the chair read the denouncer's name."""

from typing import Any

import sqlalchemy as sa

from api.models.audit import AuditEvent
from api.models.cases import CaseEvent, CaseParty
from tests.conftest import Api
from tests.helpers import V1, act, act_raw, get, intake
from tests.test_accused_links import _entry, _officer, _reads, _verified

NAME = "Giàng Seo Phủ"
ID_NUMBER = "015187006262"
REASON = "Ghi nhầm người bị tố cáo"


async def _denunciation(api: Api, desk: str, officer_id: int) -> dict[str, Any]:
    return await intake(
        api,
        desk,
        kind="denunciation",
        field="corruption",
        title="Tố cáo cán bộ nhận tiền",
        content="Tố cáo cán bộ nhận tiền của dân",
        parties=[
            {"role": "denouncer", "full_name": NAME, "id_number": ID_NUMBER},
            {"role": "accused", "full_name": "Cán bộ bị tố cáo", "officer_id": officer_id},
        ],
    )


async def _remove(api: Api, who: str, case_id: int, party_id: int, body: dict[str, Any] | None) -> Any:
    version = (await get(api, "tinh.chutich", case_id)).json()["version"]
    headers = {**await api.headers(who), "If-Match": str(version)}
    return await api.http.request("DELETE", f"{V1}/cases/{case_id}/accused/{party_id}", headers=headers, json=body)


async def _valid(api: Api, case_id: int) -> bool:
    r = await api.http.get(f"{V1}/cases/{case_id}/events/verify", headers=await api.headers("tinh.chutich"))
    assert r.status_code == 200, r.text
    return bool(r.json()["valid"])


async def _accused_party(api: Api, reader: str, case_id: int) -> int:
    case = (await get(api, reader, case_id)).json()
    return int(next(p["id"] for p in case["parties"] if p["role"] == "accused"))


async def test_the_desk_cannot_unname_an_accused_colleague_and_the_heads_removal_needs_a_reason_and_keeps_him_out(
    api: Api,
) -> None:
    accused = await _officer(api, "tinh.tiepdan2", ["desk_officer"], "15")
    case = await _denunciation(api, "tinh.tiepdan", accused.id)
    case_id = case["id"]
    party_id = await _accused_party(api, "tinh.tiepdan", case_id)
    assert not await _reads(api, "tinh.tiepdan2", case_id)
    # The desk (the audit's lone colleague) may not remove it: 403, and nothing changed.
    r = await _remove(api, "tinh.tiepdan", case_id, party_id, {"reason": REASON})
    assert r.status_code == 403 and r.json()["error"]["code"] == "accused_removal_head_only", r.text
    # The head must say why.
    for body in (None, {}, {"reason": ""}, {"reason": "   "}):
        r = await _remove(api, "tinh.chutich", case_id, party_id, body)
        assert r.status_code == 422, (body, r.text)
    assert (await get(api, "tinh.chutich", case_id)).json()["version"] == case["version"]
    r = await _remove(api, "tinh.chutich", case_id, party_id, {"reason": REASON})
    assert r.status_code == 200, r.text
    assert party_id not in [p["id"] for p in r.json()["parties"]]  # no longer a party of the case
    # ... but the officer once named still finds nothing: not by id, not in the list, not the events.
    assert not await _reads(api, "tinh.tiepdan2", case_id)
    events = await api.http.get(f"{V1}/cases/{case_id}/events", headers=await api.headers("tinh.tiepdan2"))
    assert events.status_code == 404
    listed = await api.http.get(f"{V1}/cases", headers=await api.headers("tinh.tiepdan2"), params={"q": "nhận tiền"})
    assert case_id not in [c["id"] for c in listed.json()["items"]]
    # The link is kept, marked removed, by whom; the step is chained (reason sealed on a denunciation) and audited.
    row = await api.session.scalar(sa.select(CaseParty).where(CaseParty.id == party_id))
    assert row is not None and row.officer_id == accused.id and row.removed_at is not None
    assert row.removed_by_id == (await api.user("tinh.chutich")).id
    event = await api.session.scalar(
        sa.select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.action == "accused_removed")
    )
    assert event is not None and event.payload["officer_id"] == accused.id
    assert REASON not in str(event.reason) and REASON not in str(event.payload)  # sealed with the case's text
    assert event.sealed is not None
    audited = await api.session.scalar(
        sa.select(sa.func.count()).where(
            AuditEvent.entity == "case", AuditEvent.entity_id == str(case_id), AuditEvent.action == "accused_removed"
        )
    )
    assert audited == 1
    assert await _valid(api, case_id)
    # A removed link is removed once; naming the officer again is allowed and changes nothing for him.
    r = await _remove(api, "tinh.chutich", case_id, party_id, {"reason": REASON})
    assert r.status_code == 404 and r.json()["error"]["code"] == "party_not_found", r.text
    version = (await get(api, "tinh.chutich", case_id)).json()["version"]
    h = {**await api.headers("tinh.tiepdan"), "If-Match": str(version)}
    r = await api.http.post(f"{V1}/cases/{case_id}/accused", headers=h, json={"officer_id": accused.id})
    assert r.status_code == 201, r.text
    assert not await _reads(api, "tinh.tiepdan2", case_id)


async def test_a_case_that_named_a_chair_is_never_transferred_to_his_unit_even_after_the_link_is_removed(
    api: Api,
) -> None:
    """The audit's attack: unname the accused commune chair, then transfer the letter to his commune."""
    chair = await api.user("xa.chutich")
    case = await _denunciation(api, "tinh.tiepdan", chair.id)
    case_id = case["id"]
    r = await act_raw(api, "tinh.tiepdan", case, "transfer", to_unit_id=chair.unit_id, reason="Thuộc thẩm quyền xã")
    assert r.status_code == 422 and r.json()["error"]["code"] == "accused_head_competence", r.text
    party_id = await _accused_party(api, "tinh.chutich", case_id)
    r = await _remove(api, "tinh.chutich", case_id, party_id, {"reason": REASON})
    assert r.status_code == 200, r.text
    case = r.json()
    r = await act_raw(api, "tinh.tiepdan", case, "transfer", to_unit_id=chair.unit_id, reason="Thuộc thẩm quyền xã")
    assert r.status_code == 422 and r.json()["error"]["code"] == "accused_head_competence", r.text
    # The chair never holds it and never reads it, nor the denouncer.
    assert (await get(api, "xa.chutich", case_id)).status_code == 404
    listed = await api.http.get(f"{V1}/cases", headers=await api.headers("xa.chutich"))
    assert NAME not in listed.text and case_id not in [c["id"] for c in listed.json()["items"]]


async def test_a_removed_link_follows_a_transfer_so_the_officer_once_named_does_not_read_the_copy(api: Api) -> None:
    accused = await _officer(api, "xa.tiepdan2", ["desk_officer"])  # a desk officer of the commune
    case = await _denunciation(api, "tinh.tiepdan", accused.id)
    party_id = await _accused_party(api, "tinh.chutich", case["id"])
    r = await _remove(api, "tinh.chutich", case["id"], party_id, {"reason": REASON})
    assert r.status_code == 200, r.text
    # Not a head: the transfer to his commune is lawful, but the copy keeps him out.
    moved = await act(
        api, "tinh.tiepdan", r.json(), "transfer", to_unit_id=accused.unit_id, reason="Thuộc thẩm quyền xã"
    )
    copy_id = moved["transferred_to_case_id"]
    assert copy_id is not None
    assert await _reads(api, "xa.tiepdan", copy_id)  # the commune's desk holds it
    assert not await _reads(api, "xa.tiepdan2", copy_id)
    assert not [p for p in (await get(api, "xa.chutich", copy_id)).json()["parties"] if p["role"] == "accused"]
    assert await _verified(api, copy_id)


async def test_a_removed_link_still_hides_the_register_line(api: Api) -> None:
    accused = await _officer(api, "xa.tiepdan2", ["desk_officer"])
    r = await _entry(api, accused_officer_ids=[accused.id])
    assert r.status_code == 201, r.text
    entry = r.json()
    case_id = entry["case_id"]
    party_id = await _accused_party(api, "xa.chutich", case_id)
    r = await _remove(api, "xa.tiepdan", case_id, party_id, {"reason": REASON})
    assert r.status_code == 403, r.text
    r = await _remove(api, "xa.chutich", case_id, party_id, {"reason": REASON})
    assert r.status_code == 200, r.text
    assert not await _reads(api, "xa.tiepdan2", case_id, entry["id"])
    for reader in ("xa.tiepdan", "xa.chutich", "thanhtra"):
        assert await _reads(api, reader, case_id, entry["id"]), reader
