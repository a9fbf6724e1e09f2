"""Small helpers for case tests: intake and actions through the HTTP API."""

from datetime import timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api import clock
from tests.conftest import SETTINGS, Api

V1 = "/api/v1"
TODAY = clock.today()  # legal dates are dates in Asia/Ho_Chi_Minh
VALID_ID = "015090001234"  # Lào Cai (015), born 1990


def days_ago(n: int) -> str:
    return (TODAY - timedelta(days=n)).isoformat()


def case_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "complaint",
        "field": "land",
        "channel": "in_person",
        "title": "Khiếu nại quyết định thu hồi đất đai",
        "content": "Gia đình tôi không đồng ý với quyết định thu hồi đất đai tại thôn Khe Sang.",
        "received_at": days_ago(3),
        "parties": [
            {
                "role": "complainant",
                "full_name": "Nguyễn Văn An",
                "id_number": VALID_ID,
                "phone": "0912345678",
                "address": "Thôn Khe Sang",
            }
        ],
    }
    body.update(overrides)
    return body


async def intake(api: Api, username: str = "tinh.tiepdan", **overrides: Any) -> dict[str, Any]:
    r = await api.http.post(f"{V1}/cases", headers=await api.headers(username), json=case_body(**overrides))
    assert r.status_code == 201, r.text
    return r.json()


async def act_raw(
    api: Api, username: str, case: dict[str, Any], action: str, version: int | None = None, **body: Any
) -> httpx.Response:
    if action == "accept":  # LKN art. 27, 36 / LTC art. 29: an acceptance is a numbered, dated document
        body = {"decision_number": "1/TL", "effective_date": TODAY.isoformat(), **body}
    headers = await api.headers(username)
    headers["If-Match"] = str(case["version"] if version is None else version)
    return await api.http.post(f"{V1}/cases/{case['id']}/actions/{action}", headers=headers, json=body)


async def act(api: Api, username: str, case: dict[str, Any], action: str, **body: Any) -> dict[str, Any]:
    r = await act_raw(api, username, case, action, **body)
    assert r.status_code == 200, r.text
    return r.json()


async def get(api: Api, username: str, case_id: int) -> httpx.Response:
    return await api.http.get(f"{V1}/cases/{case_id}", headers=await api.headers(username))


def timer(case: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in case["timers"] if t["name"] == name)


async def create_officer(
    api: Api,
    username: str,
    roles: list[str],
    unit_username: str = "tinh.tiepdan",
    *,
    unit_id: int | None = None,
    password: str = "Mat-Khau-Rat-Dai-2026",  # noqa: S107
    admin: str = "admin",
    approve_as: str = "admin2",
) -> dict[str, Any]:
    """An officer made through POST /users by `admin` (in the unit of `unit_username`, or `unit_id`), its roles
    approved by a second administrator (two-person grants), whose approval hands over a fresh one-time password
    (the one `admin` chose stops working); the officer has then replaced it with `password` (POST /auth/password).
    As the API returns it."""
    if unit_id is None:
        unit_id = (await api.user(unit_username)).unit_id
    one_time = f"Mot-Lan-{password}"
    body = {"username": username, "password": one_time, "full_name": username, "unit_id": unit_id, "roles": roles}
    r = await api.http.post(f"{V1}/users", headers=await api.headers(admin), json=body)
    assert r.status_code == 201, r.text
    user_id = r.json()["id"]
    r = await api.http.post(f"{V1}/users/{user_id}/approve", headers=await api.headers(approve_as))
    assert r.status_code == 200, r.text
    one_time = r.json().get("one_time_password") or one_time  # the approver's, handed to the officer
    change = {"username": username, "old_password": one_time, "new_password": password}
    r = await api.http.post(f"{V1}/auth/password", json=change)
    assert r.status_code == 200, r.text
    r = await api.http.get(f"{V1}/users/{user_id}", headers=await api.headers(admin))
    assert r.status_code == 200, r.text
    return dict(r.json())


async def refuse_identity_reads(api: Api) -> None:
    """A trigger (in the test's transaction) that makes every `identity_viewed` event fail to be written."""
    await api.session.execute(sa.text("SET LOCAL ROLE NONE"))
    await api.session.execute(
        sa.text("""
        CREATE FUNCTION pg_temp.refuse_identity_read() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.action = 'identity_viewed' THEN RAISE EXCEPTION 'no room for the event'; END IF;
            RETURN NEW;
        END $$
    """)
    )
    await api.session.execute(
        sa.text(
            "CREATE TRIGGER refuse_identity_read BEFORE INSERT ON case_events "
            "FOR EACH ROW EXECUTE FUNCTION pg_temp.refuse_identity_read()"
        )
    )
    await api.session.execute(sa.text(f"SET LOCAL ROLE {SETTINGS.db_app_role}"))


async def stored_files(session: AsyncSession) -> list[bytes]:
    """Every file the attachment store holds, as its bytes at rest: the directory store's files (ATTACHMENTS_DIR)
    and the chunks of each file kept in PostgreSQL (ATTACHMENT_STORAGE=postgres, the default), joined in order."""
    import asyncio
    from pathlib import Path

    root = Path(SETTINGS.attachments_dir or "")
    on_disk = await asyncio.to_thread(lambda: [p.read_bytes() for p in root.rglob("*") if p.is_file()])
    joined = await session.scalars(
        sa.text("SELECT string_agg(data, ''::bytea ORDER BY seq) FROM attachment_chunks GROUP BY key")
    )
    return on_disk + [bytes(b) for b in joined]
