"""Oversight cannot be evaded: naming officers as accused never hides a case from those who must settle or
oversee it, and an admin cannot give themselves sight of protected identities."""

import sqlalchemy as sa

from tests.conftest import Api
from tests.helpers import V1

DENOUNCER = {"role": "denouncer", "full_name": "Người Tố Cáo", "id_number": "015190001111"}


async def _denounce(api: Api, desk: str, *accused: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    parties = [DENOUNCER] + [
        {"role": "accused", "full_name": name, "officer_id": (await api.user(name)).id} for name in accused
    ]
    body = {
        "kind": "denunciation",
        "field": "corruption",
        "channel": "in_person",
        "title": "Tố cáo cán bộ",
        "content": "Nội dung tố cáo cán bộ nhận hối lộ.",
        "received_at": "2026-11-20",
        "parties": parties,
    }
    r = await api.http.post(f"{V1}/cases", headers=await api.headers(desk), json=body)
    return r.status_code, r.json()


async def test_the_head_of_the_settling_unit_cannot_be_named_to_hide_the_case(api: Api) -> None:
    for desk, head in (("tinh.tiepdan", "tinh.chutich"), ("xa.tiepdan", "xa.chutich"), ("xa.tiepdan", "tinh.chutich")):
        code, body = await _denounce(api, desk, head)
        assert code == 422 and body["error"]["code"] == "accused_head_competence", (desk, head, body)
        assert body["error"]["details"]["field"] == "parties.officer_id"


async def test_a_head_accused_where_the_level_above_settles_is_seen_there_and_on_the_record(api: Api) -> None:
    code, case = await _denounce(api, "tinh.tiepdan", "xa.chutich")  # settled at the province, above the commune
    assert code == 201, case
    accused_id = (await api.user("xa.chutich")).id
    assert (await api.http.get(f"{V1}/cases/{case['id']}", headers=await api.headers("xa.chutich"))).status_code == 404
    for overseer in ("tinh.chutich", "thanhtra"):
        events = (await api.http.get(f"{V1}/cases/{case['id']}/events", headers=await api.headers(overseer))).json()
        assert events["items"][0]["payload"]["accused_officer_ids"] == [accused_id], overseer


async def test_a_case_names_at_most_three_officers(api: Api) -> None:
    code, body = await _denounce(api, "xa.tiepdan", "tinh.xacminh", "thanhtra", "tinh.tiepdan", "admin")
    assert code == 422 and body["error"]["code"] == "too_many_accused_officers"


async def test_competence_cannot_be_moved_under_an_accused_head(api: Api) -> None:
    code, case = await _denounce(api, "tinh.tiepdan", "xa.chutich")
    assert code == 201
    commune = (await api.user("xa.chutich")).unit_id
    r = await api.http.post(
        f"{V1}/cases/{case['id']}/competence",
        headers={**await api.headers("tinh.tiepdan"), "If-Match": "1"},
        json={"competent_unit_id": commune, "reason": "Thuộc thẩm quyền xã"},
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "accused_head_competence"


async def test_an_admin_cannot_grant_themselves_sight_of_protected_identities(api: Api) -> None:
    admin = await api.user("admin")
    h = await api.headers("admin")
    for change in ({"roles": ["admin", "unit_head"]}, {"roles": ["admin", "desk_officer"]}):
        r = await api.http.patch(f"{V1}/users/{admin.id}", headers=h, json=change)
        assert r.status_code == 200 and r.json()["roles"] == ["admin"], change
        assert r.json()["pending_roles"] == change["roles"]
        r = await api.http.post(f"{V1}/users/{admin.id}/approve", headers=h)
        assert r.status_code == 403 and r.json()["error"]["code"] == "approval_by_requester", change
    # A second admin may approve it, and both steps are in the audit log.
    second = await api.headers("admin2")
    r = await api.http.post(f"{V1}/users/{admin.id}/approve", headers=second)
    assert r.status_code == 200 and r.json()["roles"] == ["admin", "desk_officer"], r.text
    audited = await api.session.scalar(
        sa.text("SELECT payload FROM audit_events WHERE entity = 'user' AND entity_id = :id ORDER BY id DESC LIMIT 1"),
        {"id": str(admin.id)},
    )
    assert audited["roles"] == ["admin", "desk_officer"] and audited["requested_by_id"] == admin.id
    # Changing one's own name or password stays possible.
    r = await api.http.patch(f"{V1}/users/{admin.id}", headers=h, json={"full_name": "Quản trị"})
    assert r.status_code == 200
