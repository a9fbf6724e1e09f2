"""Organisation units and officer accounts through the admin API."""

import sqlalchemy as sa

from api.models.audit import AuditEvent
from tests.conftest import Api

V1 = "/api/v1"


async def test_demo_seed_has_the_province_its_agencies_and_99_communes(api: Api) -> None:
    h = await api.headers("tinh.tiepdan")
    province = (await api.http.get(f"{V1}/units", headers=h, params={"level": "province"})).json()["items"]
    assert [u["code"] for u in province] == ["15"]
    communes, cursor = [], None
    while True:
        params = {"level": "commune", "limit": 40, **({"cursor": cursor} if cursor else {})}
        page = (await api.http.get(f"{V1}/units", headers=h, params=params)).json()
        communes += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(communes) == 99
    assert len({u["id"] for u in communes}) == 99
    khao_mang = next(u for u in communes if u["code"] == "04465")
    assert khao_mang["name"] == "Xã Khao Mang" and khao_mang["remote_area"] is True
    assert khao_mang["parent_id"] == province[0]["id"]
    codes = {u["code"] for u in (await api.http.get(f"{V1}/units", headers=h, params={"limit": 10})).json()["items"]}
    assert {"15-TTT", "15-SNV", "15-STP", "15-BDT"} <= codes


async def test_reception_requirement_comes_from_the_law_by_level(api: Api) -> None:
    h = await api.headers("tinh.tiepdan")
    items = (await api.http.get(f"{V1}/units", headers=h, params={"limit": 10})).json()["items"]
    province = next(u for u in items if u["code"] == "15")
    assert province["reception_requirement"] == {"days": 1, "per": "month", "basis": "LTCD art. 12"}
    commune = next(u for u in items if u["level"] == "commune")
    # Today (after 2026-07-01) Law 136/2025 applies to commune chairs.
    assert commune["reception_requirement"]["days"] == 2 and commune["reception_requirement"]["per"] == "month"


async def test_accent_insensitive_unit_search(api: Api) -> None:
    h = await api.headers("tinh.tiepdan")
    found = (await api.http.get(f"{V1}/units", headers=h, params={"q": "mu cang chai"})).json()["items"]
    assert "Xã Mù Cang Chải" in [u["name"] for u in found]


async def test_admin_creates_updates_and_audits_a_unit(api: Api) -> None:
    h = await api.headers("admin")
    province = (await api.http.get(f"{V1}/units", headers=h, params={"level": "province"})).json()["items"][0]
    r = await api.http.post(
        f"{V1}/units",
        headers=h,
        json={
            "code": "15-SXD",
            "name": "Sở Xây dựng",
            "level": "agency",
            "parent_id": province["id"],
            "remote_area": False,
            "reception_days": 2,
            "reception_period": "month",
        },
    )
    assert r.status_code == 201, r.text
    unit = r.json()
    assert unit["reception_requirement"] == {"days": 2, "per": "month", "basis": "override"}
    r = await api.http.patch(f"{V1}/units/{unit['id']}", headers=h, json={"name": "Sở Xây dựng tỉnh Lào Cai"})
    assert r.status_code == 200 and r.json()["name"] == "Sở Xây dựng tỉnh Lào Cai"
    actions = (
        await api.session.scalars(
            sa.select(AuditEvent.action)
            .where(AuditEvent.entity == "unit", AuditEvent.entity_id == str(unit["id"]))
            .order_by(AuditEvent.id)
        )
    ).all()
    assert actions == ["create", "update"]


async def test_duplicate_unit_code_is_409(api: Api) -> None:
    h = await api.headers("admin")
    r = await api.http.post(f"{V1}/units", headers=h, json={"code": "04465", "name": "Trùng", "level": "commune"})
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "duplicate_unit_code"


async def test_a_parent_that_would_make_a_cycle_is_refused(api: Api) -> None:
    h = await api.headers("admin")
    a = (await api.http.post(f"{V1}/units", headers=h, json={"code": "T-A", "name": "A", "level": "agency"})).json()
    b = (
        await api.http.post(
            f"{V1}/units", headers=h, json={"code": "T-B", "name": "B", "level": "agency", "parent_id": a["id"]}
        )
    ).json()
    c = (
        await api.http.post(
            f"{V1}/units", headers=h, json={"code": "T-C", "name": "C", "level": "agency", "parent_id": b["id"]}
        )
    ).json()
    for parent in (c["id"], a["id"]):
        r = await api.http.patch(f"{V1}/units/{a['id']}", headers=h, json={"parent_id": parent})
        assert r.status_code == 409 and r.json()["error"]["code"] == "unit_cycle"
    # A legal move rewrites the whole subtree: C is now under the new root too.
    root = (await api.http.post(f"{V1}/units", headers=h, json={"code": "T-R", "name": "R", "level": "agency"})).json()
    assert (await api.http.patch(f"{V1}/units/{b['id']}", headers=h, json={"parent_id": root["id"]})).status_code == 200
    under = (await api.http.get(f"{V1}/units", headers=h, params={"under": root["id"]})).json()["items"]
    assert {u["code"] for u in under} == {"T-R", "T-B", "T-C"}


async def test_unit_validation_errors_name_the_field(api: Api) -> None:
    h = await api.headers("admin")
    r = await api.http.post(f"{V1}/units", headers=h, json={"code": "X1", "name": "X", "level": "galaxy"})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "level"
    r = await api.http.post(
        f"{V1}/units", headers=h, json={"code": "X1", "name": "X", "level": "agency", "parent_id": 999999}
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "parent_not_found"


async def test_unit_import_csv_upserts_all_or_nothing(api: Api) -> None:
    h = {**(await api.headers("admin")), "Content-Type": "text/csv"}
    csv_text = (
        "code,name,level,parent_code,remote_area\n"
        "IMP-1,Đơn vị nhập 1,agency,15,0\n"
        "IMP-2,Đơn vị nhập 2,agency,IMP-1,1\n"
        "04465,Xã Khao Mang (đã sửa),commune,15,1\n"
    )
    r = await api.http.post(f"{V1}/units/import", headers=h, content=csv_text.encode())
    assert r.status_code == 200, r.text
    assert (r.json()["created"], r.json()["updated"]) == (2, 1)
    bad = "code,name,level,parent_code\nIMP-3,Ba,agency,15\nIMP-4,Bốn,agency,NO-SUCH\n"
    r = await api.http.post(f"{V1}/units/import", headers=h, content=bad.encode())
    assert r.status_code == 422 and r.json()["error"]["details"][0]["row"] == 2
    listed = (await api.http.get(f"{V1}/units", headers=h, params={"q": "Ba"})).json()["items"]
    assert "IMP-3" not in {u["code"] for u in listed}


async def test_unit_import_json(api: Api) -> None:
    h = await api.headers("admin")
    r = await api.http.post(
        f"{V1}/units/import",
        headers=h,
        json=[{"code": "J-1", "name": "Ban JSON", "level": "agency", "parent_code": "15"}],
    )
    assert r.status_code == 200 and r.json()["created"] == 1


async def test_only_admins_manage_units_and_users(api: Api) -> None:
    for username in ("tinh.tiepdan", "tinh.chutich", "thanhtra"):
        h = await api.headers(username)
        r = await api.http.post(f"{V1}/units", headers=h, json={"code": "NOPE", "name": "N", "level": "agency"})
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
        assert (await api.http.get(f"{V1}/users", headers=h)).status_code == 403


async def test_admin_creates_an_officer_who_can_sign_in(api: Api) -> None:
    h = await api.headers("admin")
    unit = (await api.http.get(f"{V1}/units", headers=h, params={"q": "Khao Mang"})).json()["items"][0]
    r = await api.http.post(
        f"{V1}/users",
        headers=h,
        json={
            "username": "khaomang.tiepdan",
            "password": "Mot-Mat-Khau-Dai-2026",
            "full_name": "Sùng A Páo",
            "unit_id": unit["id"],
            "roles": ["desk_officer", "handler"],
        },
    )
    assert r.status_code == 201, r.text
    assert "Mot-Mat-Khau" not in r.text and "hash" not in r.text and "argon2" not in r.text
    assert r.json()["must_change_password"] is True  # the administrator chose it: one-time
    # Two-person grants: the roles wait for a second administrator.
    assert r.json()["roles"] == [] and r.json()["pending_roles"] == ["desk_officer", "handler"]
    second = await api.headers("admin2")
    r = await api.http.post(f"{V1}/users/{r.json()['id']}/approve", headers=second)
    assert r.json()["roles"] == ["desk_officer", "handler"]
    # The approval hands the approver a fresh one-time password for the officer; the creator's no longer works.
    one_time = r.json()["one_time_password"]
    token = await api.http.post(
        f"{V1}/auth/token", data={"username": "khaomang.tiepdan", "password": "Mot-Mat-Khau-Dai-2026"}
    )
    assert token.status_code == 401
    token = await api.http.post(f"{V1}/auth/token", data={"username": "khaomang.tiepdan", "password": one_time})
    assert token.status_code == 403 and token.json()["error"]["code"] == "password_change_required"
    # The officer sets their own password at the first sign-in, and is signed in.
    change = {"username": "khaomang.tiepdan", "old_password": one_time, "new_password": "Cua-Toi-2026!"}
    token = await api.http.post(f"{V1}/auth/password", json=change)
    assert token.status_code == 200
    me = await api.http.get(f"{V1}/auth/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert me.json()["roles"] == ["desk_officer", "handler"]
    token = await api.http.post(f"{V1}/auth/token", data={"username": "khaomang.tiepdan", "password": "Cua-Toi-2026!"})
    assert token.status_code == 200
    r = await api.http.patch(f"{V1}/users/{r.json()['id']}", headers=h, json={"roles": ["unit_head"]})
    assert r.json()["roles"] == [] and r.json()["pending_roles"] == ["unit_head"]
    r = await api.http.post(f"{V1}/users/{r.json()['id']}/approve", headers=second)
    assert r.json()["roles"] == ["unit_head"] and r.json()["one_time_password"] is None  # in use: keeps its own
    token = await api.http.post(f"{V1}/auth/token", data={"username": "khaomang.tiepdan", "password": "Cua-Toi-2026!"})
    assert token.status_code == 200


async def test_user_bad_input(api: Api) -> None:
    h = await api.headers("admin")
    unit_id = (await api.user("admin")).unit_id
    base = {"username": "someone", "password": "Mot-Mat-Khau-Dai-2026", "full_name": "A", "unit_id": unit_id}
    r = await api.http.post(f"{V1}/users", headers=h, json={**base, "roles": ["superuser"]})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"].startswith("roles")
    r = await api.http.post(f"{V1}/users", headers=h, json={**base, "username": "tinh.tiepdan", "roles": ["handler"]})
    assert r.status_code == 409 and r.json()["error"]["code"] == "duplicate_username"
    r = await api.http.post(f"{V1}/users", headers=h, json={**base, "password": "short", "roles": ["handler"]})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "password"
    r = await api.http.post(f"{V1}/users", headers=h, json={**base, "unit_id": 987654, "roles": ["handler"]})
    assert r.status_code == 422 and r.json()["error"]["code"] == "unit_not_found"


async def test_the_last_admin_cannot_be_removed(api: Api) -> None:
    h = await api.headers("admin")
    me = await api.user("admin")
    r = await api.http.post(f"{V1}/users/{(await api.user('admin2')).id}/deactivate", headers=h)
    assert r.status_code == 200  # the demo's second administrator goes first
    r = await api.http.post(f"{V1}/users/{me.id}/deactivate", headers=h)
    assert r.status_code == 409 and r.json()["error"]["code"] == "last_admin"


async def test_user_list_is_paginated_and_filtered(api: Api) -> None:
    h = await api.headers("admin")
    page = (await api.http.get(f"{V1}/users", headers=h, params={"limit": 3})).json()
    assert len(page["items"]) == 3 and page["next_cursor"]
    rest = (await api.http.get(f"{V1}/users", headers=h, params={"limit": 100, "cursor": page["next_cursor"]})).json()
    assert not {u["id"] for u in page["items"]} & {u["id"] for u in rest["items"]}
    heads = (await api.http.get(f"{V1}/users", headers=h, params={"role": "unit_head"})).json()["items"]
    assert {u["username"] for u in heads} >= {"tinh.chutich", "xa.chutich"}
    assert (await api.http.get(f"{V1}/users", headers=h, params={"cursor": "@@@"})).status_code == 422


async def test_demo_cases_seed_once_and_show_the_workflow(api: Api) -> None:
    from api import clock
    from api.seed import seed_demo_cases
    from tests.conftest import SETTINGS

    assert await seed_demo_cases(api.session, SETTINGS, clock.today()) == 5
    assert await seed_demo_cases(api.session, SETTINGS, clock.today()) == 0
    h = await api.headers("tinh.chutich")
    cases = (await api.http.get(f"{V1}/cases", headers=h, params={"limit": 50})).json()["items"]
    assert {c["kind"] for c in cases} == {"complaint", "denunciation", "petition", "feedback"}
    assert any(c["status"] == "in_progress" for c in cases) and any(c["level_skipping"] for c in cases)
    handler = (await api.http.get(f"{V1}/cases", headers=await api.headers("tinh.xacminh"))).json()["items"]
    assert [c["kind"] for c in handler] == ["denunciation"]
    # Reception: a held, concluded session with its register, and the next days on the public schedule.
    sessions = (await api.http.get(f"{V1}/reception-sessions", headers=await api.headers("xa.chutich"))).json()["items"]
    held = [s for s in sessions if s["status"] == "held"]
    assert len(held) == 1 and held[0]["conclusion"] is not None
    register = (
        await api.http.get(f"{V1}/reception-sessions/{held[0]['id']}/entries", headers=await api.headers("xa.chutich"))
    ).json()["items"]
    assert {e["handling"] for e in register} == {"within_competence", "guided"}
    assert any(e["group"] for e in register) and any(e["case_id"] for e in register)
    schedule = (await api.http.get(f"{V1}/reception-sessions/schedule")).json()["items"]
    assert {i["unit_code"] for i in schedule} >= {"15", "04465"}


async def test_admins_read_the_audit_log_newest_first(api: Api) -> None:
    h = await api.headers("admin")
    r = await api.http.post(
        f"{V1}/units", headers=h, json={"code": "AUD-1", "name": "Đơn vị kiểm toán", "level": "agency"}
    )
    unit_id = str(r.json()["id"])
    await api.http.patch(f"{V1}/units/{unit_id}", headers=h, json={"remote_area": True})
    page = (await api.http.get(f"{V1}/audit-events", headers=h, params={"entity": "unit", "entity_id": unit_id})).json()
    assert [e["action"] for e in page["items"]] == ["update", "create"]
    assert page["items"][0]["payload"] == {"remote_area": True}
    assert page["items"][0]["actor_id"] == (await api.user("admin")).id
    assert (await api.http.get(f"{V1}/audit-events", headers=await api.headers("thanhtra"))).status_code == 403


async def test_a_reception_override_may_raise_but_not_lower_the_legal_minimum(api: Api) -> None:
    h = await api.headers("admin")
    province = (await api.http.get(f"{V1}/units", headers=h, params={"level": "province"})).json()["items"][0]
    body = {"code": "15-XTM", "name": "Xã Thử Mới", "level": "commune", "parent_id": province["id"]}
    low = await api.http.post(f"{V1}/units", headers=h, json={**body, "reception_days": 1, "reception_period": "month"})
    assert low.status_code == 422 and low.json()["error"]["code"] == "reception_below_minimum"
    assert low.json()["error"]["details"]["minimum"] == {
        "days": 2,
        "per": "month",
        "basis": "LTCD art. 15 as amended by Law 136/2025",
    }
    ok = await api.http.post(f"{V1}/units", headers=h, json={**body, "reception_days": 1, "reception_period": "week"})
    assert ok.status_code == 201 and ok.json()["reception_requirement"]["basis"] == "override"
    r = await api.http.patch(f"{V1}/units/{ok.json()['id']}", headers=h, json={"reception_period": "month"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "reception_below_minimum"
