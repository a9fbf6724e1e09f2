"""Issue 21, the account side: no lone insider can name a denouncer. System accounts cannot be signed into or
changed; a role that reveals protected identities (and `admin` itself) takes effect only when a second
administrator approves it."""

import asyncio
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from api import security
from api.app import bootstrap
from api.models.user import User
from api.security import Passwords
from api.services.citizen import submissions as public_service
from api.services.users import ensure_bootstrap_approver
from tests.conftest import SETTINGS, Api, Live
from tests.helpers import V1, act, create_officer, get, intake
from tests.pg import PgServer

DEMO_PASSWORD = "LaoCai@2026demo"  # noqa: S105
NEW_PASSWORD = "Mat-Khau-Moi-Rat-Dai-2026"  # noqa: S105
OWN_PASSWORD = "Cua-Rieng-Toi-Thoi-2026!"  # noqa: S105 - the one the owner sets at the first sign-in
DENOUNCER = {"role": "denouncer", "full_name": "Thào Thị Dung", "id_number": "015191007788", "phone": "0977123456"}


async def _sign_in(api: Api, username: str, password: str) -> Any:
    return await api.http.post(f"{V1}/auth/token", data={"username": username, "password": password})


async def _change_password(api: Api, username: str, old: str, new: str) -> Any:
    body = {"username": username, "old_password": old, "new_password": new}
    return await api.http.post(f"{V1}/auth/password", json=body)


async def _first_sign_in(api: Api, username: str, one_time: str, own: str = OWN_PASSWORD) -> dict[str, str]:
    """The owner sets their own password in place of the one another chose, and gets a token."""
    r = await _change_password(api, username, one_time, own)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def _approve(api: Api, user_id: int, approver: str = "admin2") -> dict[str, Any]:
    """The second administrator's approval, as answered (with the one-time password it hands over, if any)."""
    r = await api.http.post(f"{V1}/users/{user_id}/approve", headers=await api.headers(approver))
    assert r.status_code == 200, r.text
    return dict(r.json())


async def _audit(api: Api, user_id: int) -> list[tuple[int | None, str, dict]]:
    rows = await api.session.execute(
        sa.text(
            "SELECT actor_id, action, payload FROM audit_events WHERE entity = 'user' AND entity_id = :id ORDER BY id"
        ),
        {"id": str(user_id)},
    )
    return [tuple(r) for r in rows.all()]  # type: ignore[misc]


async def _channel_account(api: Api) -> User:
    province = (await api.user("tinh.tiepdan")).unit_id
    await public_service.channel_user(api.session, province)
    await api.session.flush()
    return await api.user(public_service.CHANNEL_USERNAME)


async def _denunciation(api: Api) -> dict:
    case = await intake(api, kind="denunciation", field="corruption", title="Tố cáo nhận tiền", parties=[DENOUNCER])
    return await act(api, "tinh.chutich", case, "accept", decision_number="21/QĐ")


# --- system accounts ---------------------------------------------------------------------------------------------


async def test_an_admin_cannot_take_over_the_citizen_channel_account(api: Api) -> None:
    channel = await _channel_account(api)
    assert channel.is_system and not channel.is_active and channel.roles == []
    h = await api.headers("admin")
    other_unit = (await api.user("xa.tiepdan")).unit_id
    attempts = [
        {"is_active": True},
        {"roles": ["unit_head"]},
        {"roles": ["admin"]},
        {"password": NEW_PASSWORD},
        {"full_name": "Tài khoản của tôi"},
        {"unit_id": other_unit},
        {"is_active": True, "roles": ["desk_officer", "unit_head"], "password": NEW_PASSWORD},
    ]
    for change in attempts:
        r = await api.http.patch(f"{V1}/users/{channel.id}", headers=h, json=change)
        assert r.status_code == 409 and r.json()["error"]["code"] == "system_account", (change, r.text)
    r = await api.http.post(f"{V1}/users/{channel.id}/deactivate", headers=h)
    assert r.status_code == 409 and r.json()["error"]["code"] == "system_account"
    r = await api.http.post(f"{V1}/users/{channel.id}/approve", headers=await api.headers("admin2"))
    assert r.status_code == 409 and r.json()["error"]["code"] == "system_account"
    # Nothing changed.
    await api.session.refresh(channel)
    assert not channel.is_active and channel.roles == [] and channel.unit_id != other_unit
    assert channel.full_name == "Cổng tiếp nhận trực tuyến" and channel.pending_roles is None
    # It cannot be signed into: the same answer as a wrong password.
    wrong = await _sign_in(api, "tinh.tiepdan", "not-the-password")
    for password in (NEW_PASSWORD, "!", ""):
        r = await _sign_in(api, public_service.CHANNEL_USERNAME, password or "x")
        assert r.status_code == 401 and r.json() == wrong.json()
    # Every attempt is in the audit log, with who tried and what.
    refused = [(actor, payload) for actor, action, payload in await _audit(api, channel.id) if action == "refused"]
    admins = ((await api.user("admin")).id, (await api.user("admin2")).id)
    assert len(refused) == len(attempts) + 2
    assert [actor for actor, _ in refused] == [admins[0]] * (len(attempts) + 1) + [admins[1]]
    assert refused[0][1]["change"] == {"is_active": True}
    assert all("Mat-Khau" not in str(p) for _, p in refused)  # never the password tried


async def test_a_system_account_changed_in_the_database_still_cannot_sign_in(api: Api) -> None:
    channel = await _channel_account(api)
    pw_hash = Passwords(SETTINGS).hash(NEW_PASSWORD)
    await api.session.execute(sa.update(User).where(User.id == channel.id).values(password_hash=pw_hash))
    r = await _sign_in(api, public_service.CHANNEL_USERNAME, NEW_PASSWORD)
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_credentials"
    # The database itself refuses an active system account, or one with roles.
    for values in ({"is_active": True}, {"roles": ["unit_head"]}):
        with pytest.raises(IntegrityError):
            async with api.session.begin_nested():
                await api.session.execute(sa.update(User).where(User.id == channel.id).values(**values))
    # A token made for it (a leaked signing key) names no officer.
    token, _ = security.create_access_token(SETTINGS, str(channel.id))
    assert (await api.http.get(f"{V1}/auth/me", headers={"Authorization": f"Bearer {token}"})).status_code == 401


async def test_system_account_names_are_reserved(api: Api) -> None:
    unit_id = (await api.user("admin")).unit_id
    for username in (public_service.CHANNEL_USERNAME, "He-Thong.Open311"):
        r = await api.http.post(
            f"{V1}/users",
            headers=await api.headers("admin"),
            json={"username": username, "password": NEW_PASSWORD, "full_name": "X", "unit_id": unit_id,
                  "roles": ["desk_officer"]},
        )  # fmt: skip
        assert r.status_code == 409 and r.json()["error"]["code"] == "system_account", username


# --- two-person grants -------------------------------------------------------------------------------------------


async def test_one_admin_alone_cannot_give_themselves_a_revealing_role(api: Api) -> None:
    admin = await api.user("admin")
    h = await api.headers("admin")
    case = await _denunciation(api)
    for roles in (["admin", "unit_head"], ["admin", "desk_officer"], ["admin", "handler"], ["admin", "inspector"]):
        r = await api.http.patch(f"{V1}/users/{admin.id}", headers=h, json={"roles": roles})
        assert r.status_code == 200, r.text
        assert r.json()["roles"] == ["admin"] and r.json()["pending_roles"] == roles
        assert r.json()["pending_by_id"] == admin.id
        r = await api.http.post(f"{V1}/users/{admin.id}/approve", headers=h)
        assert r.status_code == 403 and r.json()["error"]["code"] == "approval_by_requester"
    assert (await get(api, "admin", case["id"])).status_code in (403, 404)
    assert "Thào Thị Dung" not in (await get(api, "admin", case["id"])).text


async def test_one_admin_alone_cannot_make_a_unit_head_who_reads_denouncers(api: Api) -> None:
    case = await _denunciation(api)
    h = await api.headers("admin")
    province = (await api.user("tinh.chutich")).unit_id
    r = await api.http.post(
        f"{V1}/users",
        headers=h,
        json={"username": "tinh.chutich2", "password": NEW_PASSWORD, "full_name": "Chủ tịch 2", "unit_id": province,
              "roles": ["unit_head"]},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    new = r.json()
    assert new["roles"] == [] and new["pending_roles"] == ["unit_head"]
    # The new account signs in (its owner sets their own password first) but sees nothing while the grant waits.
    head = await _first_sign_in(api, "tinh.chutich2", NEW_PASSWORD)
    r = await api.http.get(f"{V1}/cases/{case['id']}", headers=head)
    assert r.status_code in (403, 404) and "Thào Thị Dung" not in r.text
    r = await api.http.post(f"{V1}/users/{new['id']}/approve", headers=h)
    assert r.status_code == 403 and r.json()["error"]["code"] == "approval_by_requester"
    assert (await api.http.get(f"{V1}/users", headers=h, params={"pending": True})).json()["items"][0]["id"] == new[
        "id"
    ]
    # A second administrator approves: now the head of the competent unit reads the identity.
    admin2 = await api.user("admin2")
    r = await api.http.post(f"{V1}/users/{new['id']}/approve", headers=await api.headers("admin2"))
    assert r.status_code == 200, r.text
    assert r.json()["roles"] == ["unit_head"] and r.json()["pending_roles"] is None
    # The password set before the approval (whoever set it) ends with it: the approver hands over a new one.
    assert (await api.http.get(f"{V1}/auth/me", headers=head)).status_code == 401
    head = await _first_sign_in(api, "tinh.chutich2", r.json()["one_time_password"], "Cua-Chu-Tich-Hai-2026")
    r = await api.http.get(f"{V1}/cases/{case['id']}", headers=head)
    assert r.status_code == 200 and "Thào Thị Dung" in r.text
    # Both steps audited: who asked, who approved, what.
    admin = await api.user("admin")
    trail = [(actor, action, p.get("roles")) for actor, action, p in await _audit(api, new["id"])]
    assert trail == [
        (admin.id, "create", ["unit_head"]),
        (new["id"], "password_changed", None),
        (admin.id, "approval_refused", ["unit_head"]),
        (admin2.id, "approve", ["unit_head"]),
        (new["id"], "password_changed", None),
    ]
    approved = (await _audit(api, new["id"]))[-2][2]
    assert approved["requested_by_id"] == admin.id
    # Nothing left to approve.
    r = await api.http.post(f"{V1}/users/{new['id']}/approve", headers=await api.headers("admin2"))
    assert r.status_code == 409 and r.json()["error"]["code"] == "nothing_pending"


async def test_one_admin_alone_cannot_give_a_second_admin_a_revealing_role(api: Api) -> None:
    admin2 = await api.user("admin2")
    r = await api.http.patch(
        f"{V1}/users/{admin2.id}", headers=await api.headers("admin"), json={"roles": ["admin", "unit_head"]}
    )
    assert r.status_code == 200 and r.json()["roles"] == ["admin"]
    for approver in ("admin", "admin2"):  # neither the one who asked nor the one who gains may approve
        r = await api.http.post(f"{V1}/users/{admin2.id}/approve", headers=await api.headers(approver))
        assert r.status_code == 403, approver
    assert r.json()["error"]["code"] == "approval_of_own_grant"
    assert (await api.user("admin2")).roles == ["admin"]


async def test_one_admin_alone_cannot_make_a_second_admin_who_then_grants(api: Api) -> None:
    h = await api.headers("admin")
    unit_id = (await api.user("admin")).unit_id
    r = await api.http.post(
        f"{V1}/users",
        headers=h,
        json={"username": "admin.rieng", "password": NEW_PASSWORD, "full_name": "QTV riêng", "unit_id": unit_id,
              "roles": ["admin"]},
    )  # fmt: skip
    assert r.status_code == 201 and r.json()["roles"] == [] and r.json()["pending_roles"] == ["admin"]
    sock = r.json()["id"]
    r = await api.http.patch(
        f"{V1}/users/{(await api.user('admin')).id}", headers=h, json={"roles": ["admin", "unit_head"]}
    )
    assert r.status_code == 200
    # The would-be second admin has no admin rights: it can neither approve nor manage users.
    sock_h = await _first_sign_in(api, "admin.rieng", NEW_PASSWORD)
    r = await api.http.post(f"{V1}/users/{(await api.user('admin')).id}/approve", headers=sock_h)
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    assert (await api.http.post(f"{V1}/users/{sock}/approve", headers=sock_h)).status_code == 403
    assert (await api.user("admin")).roles == ["admin"]


async def test_a_lone_admin_cannot_take_over_an_officer_by_setting_a_password(api: Api) -> None:
    head = await api.user("tinh.chutich")
    r = await api.http.patch(
        f"{V1}/users/{head.id}", headers=await api.headers("admin"), json={"password": NEW_PASSWORD}
    )
    assert r.status_code == 200 and r.json()["pending_credentials"] is True
    assert (await _sign_in(api, "tinh.chutich", NEW_PASSWORD)).status_code == 401
    assert (await _sign_in(api, "tinh.chutich", DEMO_PASSWORD)).status_code == 200
    # The same for another administrator's account (otherwise one admin approves as the other).
    admin2 = await api.user("admin2")
    r = await api.http.patch(
        f"{V1}/users/{admin2.id}", headers=await api.headers("admin"), json={"password": NEW_PASSWORD}
    )
    assert r.status_code == 200 and r.json()["pending_credentials"] is True
    assert (await _sign_in(api, "admin2", NEW_PASSWORD)).status_code == 401
    r = await api.http.post(f"{V1}/users/{head.id}/approve", headers=await api.headers("admin2"))
    assert r.status_code == 200 and r.json()["pending_credentials"] is False
    # Approved, the account gets a fresh one-time password the approver hands over (never the one the requester
    # chose): it gives no token, only a change by the owner.
    assert r.json()["must_change_password"] is True
    one_time = r.json()["one_time_password"]
    assert (await _sign_in(api, "tinh.chutich", NEW_PASSWORD)).status_code == 401
    r = await _sign_in(api, "tinh.chutich", one_time)
    assert r.status_code == 403 and r.json()["error"]["code"] == "password_change_required"
    assert "access_token" not in r.text
    assert (await _sign_in(api, "tinh.chutich", DEMO_PASSWORD)).status_code == 401
    await _first_sign_in(api, "tinh.chutich", one_time)
    assert (await _sign_in(api, "tinh.chutich", OWN_PASSWORD)).status_code == 200
    assert (await _sign_in(api, "tinh.chutich", one_time)).status_code == 401
    audited = str(await _audit(api, head.id))
    assert all(pw not in audited for pw in ("Mat-Khau", "Cua-Rieng", one_time))


async def test_a_lone_admin_cannot_move_a_unit_head_to_another_unit(api: Api) -> None:
    head = await api.user("xa.chutich")
    province = (await api.user("tinh.chutich")).unit_id
    case = await _denunciation(api)
    r = await api.http.patch(f"{V1}/users/{head.id}", headers=await api.headers("admin"), json={"unit_id": province})
    assert r.status_code == 200 and r.json()["unit_id"] == head.unit_id and r.json()["pending_unit_id"] == province
    assert "Thào Thị Dung" not in (await get(api, "xa.chutich", case["id"])).text
    r = await api.http.post(f"{V1}/users/{head.id}/approve", headers=await api.headers("admin2"))
    assert r.status_code == 200 and r.json()["unit_id"] == province and r.json()["pending_unit_id"] is None
    assert "Thào Thị Dung" in (await get(api, "xa.chutich", case["id"])).text


async def test_reducing_access_is_immediate_and_a_new_grant_replaces_the_pending_one(api: Api) -> None:
    head = await api.user("tinh.chutich")
    h = await api.headers("admin")
    case = await _denunciation(api)
    r = await api.http.patch(f"{V1}/users/{head.id}", headers=h, json={"roles": ["handler"]})
    # unit_head is taken away at once; handler waits.
    assert r.status_code == 200 and r.json()["roles"] == [] and r.json()["pending_roles"] == ["handler"]
    assert "Thào Thị Dung" not in (await get(api, "tinh.chutich", case["id"])).text
    r = await api.http.patch(f"{V1}/users/{head.id}", headers=h, json={"roles": ["inspector"]})
    assert r.json()["pending_roles"] == ["inspector"]
    actions = [(a, p.get("replaced_pending_roles")) for _, a, p in await _audit(api, head.id)]
    assert actions[-1] == ("update", ["handler"])
    r = await api.http.patch(f"{V1}/users/{head.id}", headers=h, json={"full_name": "Lê Văn Chủ (nghỉ)"})
    assert r.json()["full_name"] == "Lê Văn Chủ (nghỉ)" and r.json()["pending_roles"] == ["inspector"]
    r = await api.http.post(f"{V1}/users/{head.id}/deactivate", headers=h)
    assert r.status_code == 200 and r.json()["is_active"] is False


async def test_the_operator_makes_the_first_admins_directly(api: Api) -> None:
    passwords = Passwords(SETTINGS)
    assert await ensure_bootstrap_approver(api.session, passwords, "duyet", NEW_PASSWORD) is True
    assert await ensure_bootstrap_approver(api.session, passwords, "duyet", "Another-Pass-2026!") is False
    user = await api.user("duyet")
    assert user.roles == ["admin"] and user.pending_roles is None and user.is_active
    assert (await _sign_in(api, "duyet", NEW_PASSWORD)).status_code == 200


async def test_the_bootstrap_approver_is_made_at_start_once_however_many_processes_start(live: Live) -> None:
    settings = SETTINGS.model_copy(
        update={
            "bootstrap_admin_username": "boot.admin",
            "bootstrap_admin_password": "Boot-Admin-Pass-2026",
            "bootstrap_approver_username": "boot.approver",
            "bootstrap_approver_password": "Boot-Approver-Pass-2026",
        }
    )
    state = live.app.state
    fake = SimpleNamespace(
        state=SimpleNamespace(settings=settings, sessionmaker=state.sessionmaker, passwords=state.passwords)
    )
    await asyncio.gather(*(bootstrap(fake) for _ in range(4)))  # type: ignore[arg-type]
    r = await live.http.post(
        f"{V1}/auth/token", data={"username": "boot.approver", "password": "Boot-Approver-Pass-2026"}
    )
    assert r.status_code == 200
    me = await live.http.get(f"{V1}/auth/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"})
    assert me.json()["roles"] == ["admin"]
    async with state.sessionmaker() as s:
        count = await s.scalar(sa.select(sa.func.count()).select_from(User).where(User.username == "boot.approver"))
    assert count == 1


# --- one-time passwords: a password another person set ----------------------------------------------------------


async def test_the_creator_of_an_admin_account_cannot_sign_in_as_it_with_the_password_he_chose(api: Api) -> None:
    """Audit P: admin creates an admin account with a password he chose, admin2 approves the new colleague, and
    admin signed in as it would approve his own requests from then on."""
    case = await _denunciation(api)
    a = await api.headers("admin")
    me = await api.user("admin")
    r = await api.http.post(
        f"{V1}/users",
        headers=a,
        json={"username": "nguyen.van.helper", "password": NEW_PASSWORD, "full_name": "Nguyễn Văn Helper",
              "unit_id": me.unit_id, "roles": ["admin"]},
    )  # fmt: skip
    assert r.status_code == 201 and r.json()["must_change_password"] is True
    helper = r.json()["id"]
    # Before the approval the creator's password gives no token either: a change is required, nothing more.
    r = await _sign_in(api, "nguyen.van.helper", NEW_PASSWORD)
    assert r.status_code == 403 and r.json()["error"]["code"] == "password_change_required"
    assert "access_token" not in r.text
    r = await api.http.post(f"{V1}/users/{helper}/approve", headers=await api.headers("admin2"))
    assert r.status_code == 200 and r.json()["roles"] == ["admin"] and r.json()["must_change_password"] is True
    assert r.json()["pending_roles"] is None
    # The approval replaced the creator's password with one the approver alone receives, once.
    one_time = r.json()["one_time_password"]
    assert isinstance(one_time, str) and len(one_time) >= 16 and one_time != NEW_PASSWORD
    assert r.headers["cache-control"] == "no-store"
    assert "one_time_password" not in (await api.http.get(f"{V1}/users/{helper}", headers=a)).text
    # The creator uses his own password first, after the approval: 401, as for any wrong password.
    for r in (
        await _sign_in(api, "nguyen.van.helper", NEW_PASSWORD),
        await _change_password(api, "nguyen.van.helper", NEW_PASSWORD, "Lay-Lai-Tai-Khoan-2026"),
    ):
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_credentials"
    # The approver's one-time password is right, but gives no token until the owner sets their own.
    r = await _sign_in(api, "nguyen.van.helper", one_time)
    assert r.status_code == 403 and r.json()["error"]["code"] == "password_change_required"
    assert "access_token" not in r.text
    # The owner sets their own password at the first sign-in; the one-time password worked once.
    owner = await _first_sign_in(api, "nguyen.van.helper", one_time)
    mine = await api.http.get(f"{V1}/auth/me", headers=owner)
    assert mine.status_code == 200 and mine.json()["roles"] == ["admin"] and not mine.json()["must_change_password"]
    assert (await _sign_in(api, "nguyen.van.helper", one_time)).status_code == 401
    r = await _change_password(api, "nguyen.van.helper", one_time, "Lay-Lai-Tai-Khoan-2026")
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_credentials"
    assert (await _sign_in(api, "nguyen.van.helper", OWN_PASSWORD)).status_code == 200
    # So admin's own request for a revealing role still needs someone other than admin to approve it.
    r = await api.http.patch(f"{V1}/users/{me.id}", headers=a, json={"roles": ["admin", "unit_head"]})
    assert r.status_code == 200 and r.json()["pending_roles"] == ["admin", "unit_head"]
    r = await api.http.post(f"{V1}/users/{me.id}/approve", headers=a)
    assert r.status_code == 403
    assert "Thào Thị Dung" not in (await get(api, "admin", case["id"])).text
    # The approval is audited (that a one-time password was handed over, never which), the change as the owner's act.
    trail = await _audit(api, helper)
    approved = [(actor, p) for actor, action, p in trail if action == "approve"]
    assert approved == [((await api.user("admin2")).id, approved[0][1])]
    assert approved[0][1]["one_time_password"] == "issued" and approved[0][1]["requested_by_id"] == me.id
    changed = [actor for actor, action, _ in trail if action == "password_changed"]
    assert changed == [helper]
    assert all(pw not in str(trail) for pw in ("Mat-Khau", "Cua-Rieng", one_time))


async def test_the_creator_who_set_the_password_before_the_approval_cannot_use_it_after(api: Api) -> None:
    """The invented colleague, the creator quicker: he changes the one-time password himself while the roles wait,
    so the account no longer looks one-time when the second administrator approves."""
    case = await _denunciation(api)
    province = (await api.user("tinh.chutich")).unit_id
    r = await api.http.post(
        f"{V1}/users",
        headers=await api.headers("admin"),
        json={"username": "tinh.chutich3", "password": NEW_PASSWORD, "full_name": "Chủ tịch 3", "unit_id": province,
              "roles": ["unit_head"]},
    )  # fmt: skip
    invented = r.json()["id"]
    sock = await _first_sign_in(api, "tinh.chutich3", NEW_PASSWORD)  # the creator, as the "owner"
    approved = await _approve(api, invented)
    assert approved["roles"] == ["unit_head"] and approved["must_change_password"] is True
    assert approved["one_time_password"]
    # Neither the creator's session nor his password opens the account now.
    assert (await api.http.get(f"{V1}/cases/{case['id']}", headers=sock)).status_code == 401
    for r in (
        await _sign_in(api, "tinh.chutich3", OWN_PASSWORD),
        await _change_password(api, "tinh.chutich3", OWN_PASSWORD, "Lay-Lai-Tai-Khoan-2026"),
    ):
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_credentials"
    # The person the approver hands the one-time password to reads what the role allows.
    head = await _first_sign_in(api, "tinh.chutich3", approved["one_time_password"], "Cua-Nguoi-That-2026")
    assert "Thào Thị Dung" in (await api.http.get(f"{V1}/cases/{case['id']}", headers=head)).text


async def test_an_account_in_use_keeps_its_password_when_its_roles_change(api: Api) -> None:
    await create_officer(api, "tinh.tam2", ["desk_officer"], password=OWN_PASSWORD)
    officer = await api.user("tinh.tam2")
    before = (await _sign_in(api, "tinh.tam2", OWN_PASSWORD)).json()["access_token"]
    r = await api.http.patch(
        f"{V1}/users/{officer.id}", headers=await api.headers("admin"), json={"roles": ["desk_officer", "handler"]}
    )
    assert r.json()["pending_roles"] == ["desk_officer", "handler"]
    approved = await _approve(api, officer.id)
    assert approved["roles"] == ["desk_officer", "handler"] and approved["one_time_password"] is None
    assert approved["must_change_password"] is False
    me = await api.http.get(f"{V1}/auth/me", headers={"Authorization": f"Bearer {before}"})
    assert me.status_code == 200 and me.json()["roles"] == ["desk_officer", "handler"]
    assert (await _sign_in(api, "tinh.tam2", OWN_PASSWORD)).status_code == 200


async def test_any_password_an_admin_sets_for_someone_else_is_one_time(api: Api) -> None:
    h = await api.headers("admin")
    officer = await create_officer(api, "tinh.tam", ["desk_officer"])  # has set their own password since
    assert officer["must_change_password"] is False
    r = await api.http.patch(f"{V1}/users/{officer['id']}", headers=h, json={"password": NEW_PASSWORD})
    assert r.status_code == 200 and r.json()["pending_credentials"] is True
    r = await api.http.post(f"{V1}/users/{officer['id']}/approve", headers=await api.headers("admin2"))
    assert r.status_code == 200 and r.json()["must_change_password"] is True
    # The requester's choice never applies: the approver hands over a fresh one-time password instead.
    assert (await _sign_in(api, "tinh.tam", NEW_PASSWORD)).status_code == 401
    r = await _sign_in(api, "tinh.tam", r.json()["one_time_password"])
    assert r.status_code == 403 and r.json()["error"]["code"] == "password_change_required"
    # An administrator's own password, set by themselves, is not one-time.
    admin = await api.user("admin")
    r = await api.http.patch(f"{V1}/users/{admin.id}", headers=h, json={"password": NEW_PASSWORD})
    assert r.status_code == 200 and r.json()["must_change_password"] is False
    assert (await _sign_in(api, "admin", NEW_PASSWORD)).status_code == 200


async def test_changing_ones_own_password(api: Api) -> None:
    before = (await _sign_in(api, "xa.xacminh", DEMO_PASSWORD)).json()["access_token"]
    # The new one differs from the old and follows the length rules of an account's password.
    r = await _change_password(api, "xa.xacminh", DEMO_PASSWORD, DEMO_PASSWORD)
    assert r.status_code == 422 and r.json()["error"]["code"] == "same_password"
    r = await _change_password(api, "xa.xacminh", DEMO_PASSWORD, "ngan")
    assert r.status_code == 422
    r = await _change_password(api, "xa.xacminh", "Sai-Mat-Khau-2026", OWN_PASSWORD)
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_credentials"
    for name in (public_service.CHANNEL_USERNAME, "khong.ton.tai"):
        r = await _change_password(api, name, DEMO_PASSWORD, OWN_PASSWORD)
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_credentials"
    r = await _change_password(api, "xa.xacminh", DEMO_PASSWORD, OWN_PASSWORD)
    assert r.status_code == 200 and r.json()["token_type"] == "bearer"
    fresh = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert (await api.http.get(f"{V1}/auth/me", headers=fresh)).status_code == 200
    # Sessions opened with the old password end.
    old = {"Authorization": f"Bearer {before}"}
    assert (await api.http.get(f"{V1}/auth/me", headers=old)).status_code == 401
    assert (await _sign_in(api, "xa.xacminh", DEMO_PASSWORD)).status_code == 401
    assert (await _sign_in(api, "xa.xacminh", OWN_PASSWORD)).status_code == 200


async def test_the_password_change_is_limited_like_a_sign_in(api: Api) -> None:
    for _ in range(SETTINGS.login_max_failures):
        r = await _change_password(api, "xa.xacminh", "Sai-Mat-Khau-2026", OWN_PASSWORD)
        assert r.status_code == 401
    r = await _change_password(api, "xa.xacminh", DEMO_PASSWORD, OWN_PASSWORD)  # even the right one, now
    assert r.status_code == 429 and "retry-after" in r.headers
    assert (await _sign_in(api, "xa.xacminh", DEMO_PASSWORD)).status_code == 429  # one count for both


async def test_the_dashboard_says_a_one_time_password_must_be_changed(api: Api) -> None:
    from tests.test_dashboard import sign_in as dashboard_sign_in

    await api.http.post(
        f"{V1}/users",
        headers=await api.headers("admin"),
        json={"username": "tinh.thanhtra2", "password": NEW_PASSWORD, "full_name": "Thanh tra 2",
              "unit_id": (await api.user("thanhtra")).unit_id, "roles": ["inspector"]},
    )  # fmt: skip
    app = api.http._transport.app  # type: ignore[attr-defined]
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="https://intranet.laocai") as browser:
        r = await dashboard_sign_in(browser, "tinh.thanhtra2", NEW_PASSWORD)
        assert r.status_code == 403 and "tiepdan_session=" not in str(r.headers)
        assert "chỉ dùng một lần" in r.text


async def test_create_officer_helper_makes_a_working_officer(api: Api) -> None:
    await create_officer(api, "tinh.tiepdan3", ["desk_officer"])
    assert (await api.user("tinh.tiepdan3")).roles == ["desk_officer"]


async def test_an_approval_never_approves_a_request_replaced_since_it_was_read(api: Api) -> None:
    head = await api.user("xa.chutich")
    h = await api.headers("admin")
    seen = (await api.http.patch(f"{V1}/users/{head.id}", headers=h, json={"roles": ["unit_head", "handler"]})).json()
    # Before the second administrator approves, the first swaps the request for a wider one.
    r = await api.http.patch(f"{V1}/users/{head.id}", headers=h, json={"roles": ["unit_head", "inspector"]})
    assert r.json()["pending_at"] != seen["pending_at"]
    second = await api.headers("admin2")
    r = await api.http.post(f"{V1}/users/{head.id}/approve", headers=second, json={"pending_at": seen["pending_at"]})
    assert r.status_code == 409 and r.json()["error"]["code"] == "pending_changed"
    assert (await api.user("xa.chutich")).roles == ["unit_head"]
    now = (await api.http.get(f"{V1}/users/{head.id}", headers=second)).json()
    r = await api.http.post(f"{V1}/users/{head.id}/approve", headers=second, json={"pending_at": now["pending_at"]})
    assert r.status_code == 200 and r.json()["roles"] == ["inspector", "unit_head"]


def test_revision_0019_makes_an_existing_channel_account_a_system_account_again(pg_server: PgServer) -> None:
    """A database where an administrator had already taken the channel's account over (active, a role, a
    password): after the migration it is a system account, inert, and its tokens are void."""
    from alembic import command
    from tests.test_migrations import _config, _sql

    name = pg_server.create_database("tiepdan_0019")
    url = pg_server.url(name)
    try:
        command.upgrade(_config(url), "0018")
        _sql(url, "INSERT INTO units (code, name, level, path) VALUES ('U', 'Đơn vị', 'province', '/1/')")
        _sql(
            url,
            "INSERT INTO users (username, password_hash, full_name, unit_id, roles, is_active, token_version) VALUES "
            "('he-thong.cong-dan', 'argon2-hash', 'Cổng', 1, '{unit_head}', true, 3), "
            "('tinh.tiepdan', 'argon2-hash', 'Tiếp', 1, '{desk_officer}', true, 0)",
        )
        command.upgrade(_config(url), "0019")
        rows = _sql(
            url, "SELECT username, is_system, is_active, roles, password_hash, token_version FROM users ORDER BY id"
        )
        assert rows == [
            ("he-thong.cong-dan", True, False, [], "!", 4),
            ("tinh.tiepdan", False, True, ["desk_officer"], "argon2-hash", 0),
        ]
    finally:
        pg_server.drop_database(name)


async def test_the_creator_of_an_account_never_approves_a_grant_to_it(api: Api) -> None:
    """The audit's last variant: `admin` makes an account, `admin2` (in good faith) asks for another role for it,
    and `admin` approves — he would receive the one-time password of an account he made and read what it opens. The
    creator of an account is refused as its approver, as the requester is; the approval is left to a third."""
    unit = (await api.user("tinh.chutich")).unit_id
    made = await api.http.post(
        f"{V1}/users",
        headers=await api.headers("admin"),
        json={
            "username": "ban.cua.a",
            "password": NEW_PASSWORD,
            "full_name": "Bạn của A",
            "unit_id": unit,
            "roles": ["handler"],
        },
    )
    assert made.status_code == 201, made.text
    user_id = made.json()["id"]
    asked = await api.http.patch(
        f"{V1}/users/{user_id}", headers=await api.headers("admin2"), json={"roles": ["unit_head"]}
    )
    assert asked.status_code == 200 and asked.json()["pending_roles"] == ["unit_head"]
    r = await api.http.post(f"{V1}/users/{user_id}/approve", headers=await api.headers("admin"))
    assert r.status_code == 403 and r.json()["error"]["code"] == "approval_by_requester"
    assert "one_time_password" not in r.text
    refused = [(actor, action, payload.get("reason")) for actor, action, payload in await _audit(api, user_id)]
    assert refused[-1] == ((await api.user("admin")).id, "approval_refused", "approval_by_requester")
    assert (await _sign_in(api, "ban.cua.a", NEW_PASSWORD)).status_code == 403  # still one-time, still unapproved
