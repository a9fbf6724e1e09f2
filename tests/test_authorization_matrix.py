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
