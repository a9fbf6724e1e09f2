"""The authorization matrix: every role (and no sign-in) against the routes whose access differs by role. An
allowed call may still fail validation (4xx other than 401/403/404 proves it got past authorization); a refused
one is 401 without a token, 403 for a role that may not, and 404 where existence itself is not to be told."""

from typing import Any

import pytest

from tests.conftest import Api
from tests.helpers import V1, case_body

ROLES = ("admin", "tinh.tiepdan", "tinh.xacminh", "tinh.chutich", "thanhtra", "xa.tiepdan", "xa.chutich")
ADMIN = {"admin"}
OVERSIGHT = {"tinh.chutich", "thanhtra", "xa.chutich"}  # inspectors and unit heads
EVERY_OFFICER = set(ROLES)

# (method, path, body, roles allowed) — {None} marks a public route.
MATRIX: list[tuple[str, str, Any, set[str | None]]] = [
    ("GET", "/users", None, ADMIN),
    ("POST", "/users", {"username": "x"}, ADMIN),
    ("POST", "/users/1/approve", None, ADMIN),
    ("POST", "/units", {"code": "X"}, ADMIN),
    ("GET", "/units", None, EVERY_OFFICER),
    ("GET", "/audit-events", None, ADMIN),
    ("GET", "/webhooks", None, ADMIN),
    ("POST", "/open311/api-keys", {"name": "x"}, ADMIN),
    ("POST", "/calendar/overrides", {}, ADMIN),
    ("GET", "/calendar/2026", None, EVERY_OFFICER),
    ("GET", "/cases", None, EVERY_OFFICER),
    ("POST", "/cases", "CASE", {"tinh.tiepdan", "tinh.chutich", "xa.tiepdan", "xa.chutich"}),
    ("GET", "/stats/forms/xld?period=2026-Q3", None, OVERSIGHT),
    ("GET", "/stats/summary?period=2026", None, OVERSIGHT),
    ("GET", "/stats/watchlist", None, OVERSIGHT),
    ("POST", "/stats/urge", {"unit_id": "COMMUNE"}, OVERSIGHT),
    ("GET", "/reception-sessions/compliance?period=2026-Q3", None, OVERSIGHT),
    ("GET", "/reception-sessions", None, EVERY_OFFICER),
    ("GET", "/reception-sessions/schedule", None, {None, *EVERY_OFFICER}),
    ("GET", "/public/submissions/LC26-AAAAAAAAAA", None, set()),  # only with its access key, for anyone
]


def _allowed(status: int) -> bool:
    return status not in (401, 403, 404)


@pytest.mark.parametrize(("method", "path", "body", "allowed"), MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX])
async def test_who_may_call_what(api: Api, method: str, path: str, body: Any, allowed: set[str | None]) -> None:
    if body == "CASE":
        body = case_body()
    elif isinstance(body, dict) and body.get("unit_id") == "COMMUNE":
        body = {"unit_id": (await api.user("xa.chutich")).unit_id}
    anonymous = await api.http.request(method, V1 + path, json=body)
    if None in allowed:
        assert _allowed(anonymous.status_code), anonymous.text
    else:
        assert anonymous.status_code in (401, 404), (path, anonymous.status_code)
        if anonymous.status_code == 401:
            assert anonymous.headers.get("www-authenticate") == "Bearer"
    for username in ROLES:
        r = await api.http.request(method, V1 + path, json=body, headers=await api.headers(username))
        if username in allowed:
            assert _allowed(r.status_code), (username, path, r.status_code, r.text)
        else:
            assert r.status_code in (403, 404), (username, path, r.status_code, r.text)
        assert "Traceback" not in r.text and r.status_code < 500


async def test_cases_of_another_unit_are_not_found_for_any_role_below(api: Api) -> None:
    from tests.helpers import intake

    case = await intake(api, "tinh.tiepdan")
    for username in ("xa.tiepdan", "xa.chutich", "tinh.xacminh"):
        for method, path in (
            ("GET", f"/cases/{case['id']}"),
            ("GET", f"/cases/{case['id']}/events"),
            ("GET", f"/cases/{case['id']}/attachments"),
            ("POST", f"/cases/{case['id']}/actions/accept"),
        ):
            r = await api.http.request(
                method, V1 + path, headers={**(await api.headers(username)), "If-Match": "1"}, json={}
            )
            assert r.status_code == 404, (username, path, r.status_code)
    for username in ("tinh.tiepdan", "tinh.chutich", "thanhtra"):
        assert (await api.http.get(f"{V1}/cases/{case['id']}", headers=await api.headers(username))).status_code == 200


async def test_out_of_scope_units_and_records_are_not_found(api: Api) -> None:
    """The same routes with data inside and outside the caller's scope: a commune's head reaches their commune's
    figures and register, never the province's; the province's head and the inspectorate reach both."""
    import sqlalchemy as sa

    from api.models.unit import Unit

    province = await api.session.scalar(sa.select(Unit.id).where(Unit.code == "15"))
    commune = await api.session.scalar(sa.select(Unit.id).where(Unit.code == "04465"))
    day = "2026-11-02"
    sess = await api.http.post(
        f"{V1}/reception-sessions",
        headers=await api.headers("tinh.tiepdan"),
        json={
            "unit_id": province,
            "kind": "periodic",
            "mode": "direct",
            "status": "held",
            "starts_at": f"{day}T08:00:00+07:00",
            "ends_at": f"{day}T10:00:00+07:00",
            "location": "Trụ sở tiếp công dân tỉnh",
        },
    )
    assert sess.status_code == 201, sess.text
    entry = await api.http.post(
        f"{V1}/reception-sessions/{sess.json()['id']}/entries",
        headers=await api.headers("tinh.tiepdan"),
        json={
            "persons": [{"full_name": "Nguyễn Văn Bốn"}],
            "kind": "petition",
            "content": "Kiến nghị",
            "handling": "explained",
        },
    )
    assert entry.status_code == 201, entry.text
    paths = {
        "province": [
            f"/stats/forms/xld?period=2026-Q3&unit_id={province}",
            f"/stats/summary?period=2026&unit_id={province}",
            f"/stats/watchlist?unit_id={province}",
            f"/reception-sessions/compliance?period=2026-Q3&unit_id={province}",
            f"/reception-sessions/{sess.json()['id']}",
            f"/reception-sessions/{sess.json()['id']}/entries",
            f"/reception-sessions/entries/{entry.json()['id']}",
        ],
        "commune": [
            f"/stats/forms/xld?period=2026-Q3&unit_id={commune}",
            f"/stats/summary?period=2026&unit_id={commune}",
            f"/reception-sessions/compliance?period=2026-Q3&unit_id={commune}",
        ],
    }
    expected = {
        ("xa.chutich", "province"): 404,
        ("xa.chutich", "commune"): 200,
        ("tinh.chutich", "province"): 200,
        ("tinh.chutich", "commune"): 200,
        ("thanhtra", "province"): 200,
        ("thanhtra", "commune"): 200,
    }
    for (who, scope), status in expected.items():
        h = await api.headers(who)
        for path in paths[scope]:
            r = await api.http.get(V1 + path, headers=h)
            assert r.status_code == status, (who, path, r.status_code, r.text[:200])
