"""The whole authorization matrix: every route of the API (every operation of /openapi.json, Open311 and the
dashboard included — a test fails when a route is added without a line here) × no sign-in and every demo role ×
an object inside the caller's scope (the commune Khao Mang's) and one outside it (the province's).

Expected outcomes are written from DESIGN.md's roles, not read back from the code: an officer acts in their own
unit; heads and inspectors see the unit's subtree; the inspectorate reads every unit; admins manage the platform
and read no case; a handler reads only the cases assigned to them; citizens reach their own case with its
tracking code and access key. "ok" means the request got past authorization (2xx, or a 409/412/422 of the rules
of the case itself); a refusal is 401 without a token, 403 for a role that may not, 404 where the object's
existence is not to be told."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from api.models.cases import Case
from api.models.unit import Unit
from tests.conftest import Api
from tests.helpers import TODAY, V1, case_body, days_ago
from tests.test_open311 import _form
from tests.test_public import PDF, PNG, body

ANON = "anonymous"
COMMUNE = ("xa.tiepdan", "xa.xacminh", "xa.chutich")
PROVINCE = ("tinh.tiepdan", "tinh.xacminh", "tinh.chutich")
IDENTITIES = (ANON, "admin", *PROVINCE, "thanhtra", *COMMUNE)
OFFICERS = frozenset(IDENTITIES) - {ANON}
SCOPES = ("commune", "province")
PAST = days_ago(2)

# Who may do what, by the scope of the object (the commune's or the province's).
READERS = {  # a case received at the unit's desk: its desk, the heads above it, the inspectorate
    "commune": {"xa.tiepdan", "xa.chutich", "tinh.chutich", "thanhtra"},
    "province": {"tinh.tiepdan", "tinh.chutich", "thanhtra"},
}
ACTORS = {"commune": {"xa.tiepdan", "xa.chutich"}, "province": {"tinh.tiepdan", "tinh.chutich"}}  # the holding unit
HEADS = {"commune": {"xa.chutich"}, "province": {"tinh.chutich"}}
OVERSIGHT = {"xa.chutich", "tinh.chutich", "thanhtra"}  # heads and the inspectorate
IN_VIEW = {  # a unit's registers and figures: its officers, the officers above it, the inspectorate
    "commune": {*COMMUNE, *PROVINCE, "thanhtra"},
    "province": {*PROVINCE, "thanhtra"},
}


def _status(who: str, allowed: set[str], seen: set[str] | None = None) -> str | int:
    """ok for the allowed; for the others 401 without a token, 403 if they may know the object, else 404."""
    if who in allowed:
        return "ok"
    if who == ANON:
        return 401
    return 403 if seen is None or who in seen else 404


ENTRY_READERS = {  # register entries name citizens: like cases (a desk: their own unit's only; a handler: only
    # the entries of cases assigned to them, and the matrix's entry has no case)
    "commune": {"xa.tiepdan", "xa.chutich", "tinh.chutich", "thanhtra"},
    "province": {"tinh.tiepdan", "tinh.chutich", "thanhtra"},
}
KEEPERS = {"commune": {"xa.tiepdan", "xa.chutich"}, "province": {"tinh.tiepdan", "tinh.chutich"}}  # own desk, head
SESSION_VIEW = {scope: IN_VIEW[scope] | {"admin"} for scope in SCOPES}  # the facts of the public schedule
INTAKE = {"xa.tiepdan", "xa.chutich", "tinh.tiepdan", "tinh.chutich"}


def _oversight_unit(who: str, scope: str) -> str | int:
    """Figures of a unit: heads and the inspectorate (others 403), within their view (else 404)."""
    if who in OVERSIGHT and who in IN_VIEW[scope]:
        return "ok"
    return 401 if who == ANON else 403 if who not in OVERSIGHT else 404


def _inspection_read(who: str, scope: str) -> str | int:
    """An inspection of a unit and its recommendations: the inspectorate and that unit's own head; another head
    does not learn it exists (404); officers of no such role are refused (403)."""
    if who in {"thanhtra"} | HEADS[scope]:
        return "ok"
    return 401 if who == ANON else 404 if who in {"xa.chutich", "tinh.chutich"} else 403


def _report_submit(who: str, scope: str) -> str | int:
    """A unit's report is frozen by its own head, or by the inspectorate for any unit."""
    return "ok" if who in HEADS[scope] | {"thanhtra"} else 401 if who == ANON else 403


RULES: dict[str, Callable[[str, str], str | int]] = {
    "public": lambda who, scope: "ok",
    "officer": lambda who, scope: _status(who, set(OFFICERS)),
    "admin": lambda who, scope: _status(who, {"admin"}),
    "intake": lambda who, scope: _status(who, INTAKE),
    "checkpoint_read": lambda who, scope: _status(who, {"admin", "thanhtra"}),
    "case_read": lambda who, scope: _status(who, READERS[scope], set()),
    "case_act": lambda who, scope: _status(who, ACTORS[scope], READERS[scope]),
    "case_head": lambda who, scope: _status(who, HEADS[scope], READERS[scope]),
    # LTC art. 38: the head of the unit directly above the resolver (the province has none above it).
    "head_above": lambda who, scope: _status(who, {"tinh.chutich"} if scope == "commune" else set(), READERS[scope]),
    # DESIGN: an action the caller's roles may not take from this status is 409 with the allowed actions (an
    # inspector, a desk officer for `accept`), one their roles may take but in another unit 403.
    "case_store": lambda who, scope: 409 if who == "thanhtra" else _status(who, ACTORS[scope], READERS[scope]),
    "case_action": lambda who, scope: (
        409
        if who in READERS[scope] - HEADS[scope] and who not in ("xa.chutich", "tinh.chutich")
        else _status(who, HEADS[scope], READERS[scope])
    ),
    "oversight": lambda who, scope: _status(who, OVERSIGHT),
    "oversight_unit": _oversight_unit,
    "report_submit": _report_submit,
    "session_read": lambda who, scope: _status(who, SESSION_VIEW[scope], set()),
    "session_write": lambda who, scope: _status(who, KEEPERS[scope], SESSION_VIEW[scope]),
    "entry_read": lambda who, scope: _status(who, ENTRY_READERS[scope], set()),
    "entry_write": lambda who, scope: _status(who, KEEPERS[scope], ENTRY_READERS[scope]),
    # Thanh tra tỉnh's own work (issue 25): inspectors plan, conduct and conclude; the chief inspector (the head of
    # 15-TTT, not among the matrix's identities) approves and signs; the inspected unit's head reads its own.
    "inspectorate": lambda who, scope: _status(who, {"thanhtra"}),
    "chief": lambda who, scope: _status(who, set()),
    "inspection_read": _inspection_read,
}


@dataclass
class World:
    """The objects the routes are called on, one per scope (or one for both where scope does not apply)."""

    ids: dict[str, dict[str, Any]] = field(default_factory=lambda: {"commune": {}, "province": {}})


# (method, path, rule, body). Paths name their objects in braces; bodies: a JSON value, ("form", {...}) or
# ("file", name, bytes). The order matters only at the end: signing out is last.
MATRIX: list[tuple[str, str, str, Any]] = [
    # Cases
    ("POST", "/api/v1/cases", "intake", "CASE"),
    ("GET", "/api/v1/cases", "officer", None),
    ("GET", "/api/v1/cases/{case_id}", "case_read", None),
    ("GET", "/api/v1/cases/{case_id}/events", "case_read", None),
    ("GET", "/api/v1/cases/{case_id}/events/verify", "case_read", None),
    ("GET", "/api/v1/cases/{case_id}/duplicates", "case_read", None),
    ("GET", "/api/v1/cases/{case_id}/dialogues", "case_read", None),
    ("GET", "/api/v1/cases/{case_id}/attachments", "case_read", None),
    ("GET", "/api/v1/cases/{case_id}/attachments/{attachment_id}", "case_read", None),
    ("POST", "/api/v1/cases/{case_id}/attachments", "case_act", ("file", "bien ban.pdf", PDF)),
    ("POST", "/api/v1/cases/{case_id}/actions/{action}", "case_action", {}),
    ("POST", "/api/v1/cases/{case_id}/complexity", "case_head", {"complexity": "complex", "reason": "Nhiều hộ"}),
    ("POST", "/api/v1/cases/{case_id}/competence", "case_act", "COMPETENCE"),
    ("POST", "/api/v1/cases/{case_id}/unlawful-resolution", "head_above", {"reason": "Kết luận trái pháp luật"}),
    ("POST", "/api/v1/cases/{case_id}/notices", "case_act", {"timer": "notify_acceptance", "sent_on": "TODAY"}),
    ("POST", "/api/v1/cases/{case_id}/accused", "case_act", {"full_name": "Ông Lù Văn Pao"}),
    # Audit 2 #1/#8: removing an accused link is the holding head's, with a reason.
    ("DELETE", "/api/v1/cases/{case_id}/accused/{party_id}", "case_head", {"reason": "Ghi nhầm người bị tố cáo"}),
    (
        "POST",
        "/api/v1/cases/{case_id}/dialogues",
        "case_head",
        {"held_on": "TODAY", "participants": ["Ông A"], "minutes": "Biên bản", "agreement_reached": False},
    ),
    ("POST", "/api/v1/cases/{case_id}/enforcement", "case_act", {"enforced_on": "TODAY"}),
    ("POST", "/api/v1/cases/{case_id}/duplicates/{original_id}/confirm", "case_store", {}),
    ("POST", "/api/v1/cases/{case_id}/duplicates/{other_id}/dismiss", "case_act", {}),
    # Sign-in
    ("POST", "/api/v1/auth/token", "public", ("form", {"username": "xa.tiepdan", "password": "LaoCai@2026demo"})),
    # new == old: refused after authorization (422 same_password), so the demo's password stays
    (
        "POST",
        "/api/v1/auth/password",
        "public",
        {"username": "xa.tiepdan", "old_password": "LaoCai@2026demo", "new_password": "LaoCai@2026demo"},
    ),
    ("GET", "/api/v1/auth/me", "officer", None),
    # Units, officers, calendar
    ("GET", "/api/v1/units", "officer", None),
    ("POST", "/api/v1/units", "admin", {"code": "99999", "name": "Xã Thử", "level": "commune", "parent_id": "PROV"}),
    ("GET", "/api/v1/units/{unit_id}", "officer", None),
    ("PATCH", "/api/v1/units/{unit_id}", "admin", {}),
    ("POST", "/api/v1/units/import", "admin", {"units": []}),
    ("GET", "/api/v1/users", "admin", None),
    (
        "POST",
        "/api/v1/users",
        "admin",
        {
            "username": "xa.moi",
            "password": "Mat-khau-dai-2026",
            "full_name": "Cán bộ mới",
            "unit_id": "COMMUNE",
            "roles": ["desk_officer"],
        },
    ),  # fmt: skip
    ("GET", "/api/v1/users/{user_id}", "admin", None),
    ("PATCH", "/api/v1/users/{user_id}", "admin", {}),
    ("POST", "/api/v1/users/{user_id}/approve", "admin", None),
    ("POST", "/api/v1/users/{user_id}/deactivate", "admin", None),
    ("GET", "/api/v1/calendar/{year}", "officer", None),
    ("POST", "/api/v1/calendar/overrides", "admin", {"date": "2030-01-02", "kind": "day_off", "reason": "Thử"}),
    ("DELETE", "/api/v1/calendar/overrides/{day}", "admin", None),
    ("GET", "/api/v1/deadlines/overdue", "officer", None),
    ("GET", "/api/v1/deadlines/due-soon", "officer", None),
    # Platform
    ("POST", "/api/v1/webhooks", "admin", {"name": "x", "url": "https://example.org/hook", "event_types": ["*"]}),
    ("GET", "/api/v1/webhooks", "admin", None),
    ("PATCH", "/api/v1/webhooks/{sub_id}", "admin", {}),
    ("GET", "/api/v1/webhooks/{sub_id}/deliveries", "admin", None),
    ("GET", "/api/v1/audit-events", "admin", None),
    ("GET", "/api/v1/integrity/checkpoints", "checkpoint_read", None),
    ("POST", "/api/v1/integrity/checkpoints", "admin", None),
    ("POST", "/api/v1/open311/api-keys", "admin", {"name": "Ứng dụng thử"}),
    # Citizen reception
    ("GET", "/api/v1/reception-sessions/schedule", "public", None),
    ("GET", "/api/v1/reception-sessions/compliance?period=2026-Q3&unit_id={unit_id}", "oversight_unit", None),
    ("GET", "/api/v1/reception-sessions/entries", "officer", None),
    ("GET", "/api/v1/reception-sessions/entries/{entry_id}", "entry_read", None),
    ("PATCH", "/api/v1/reception-sessions/entries/{entry_id}", "entry_write", {}),
    ("POST", "/api/v1/reception-sessions", "session_write", "SESSION"),
    ("GET", "/api/v1/reception-sessions", "officer", None),
    ("GET", "/api/v1/reception-sessions/{session_id}", "session_read", None),
    ("PATCH", "/api/v1/reception-sessions/{session_id}", "session_write", {}),
    ("GET", "/api/v1/reception-sessions/{session_id}/entries", "session_read", None),
    ("POST", "/api/v1/reception-sessions/{session_id}/entries", "session_write", "ENTRY"),
    # Statistics
    ("GET", "/api/v1/stats/forms/{form}?period=2026-Q3&unit_id={unit_id}", "oversight_unit", None),
    ("POST", "/api/v1/stats/forms/{form}/submissions", "report_submit", "REPORT"),
    ("GET", "/api/v1/stats/forms/{form}/submissions/{report_id}", "oversight_unit", None),
    ("GET", "/api/v1/stats/forms/{form}/submissions/{report_id}/diff", "oversight_unit", None),
    ("GET", "/api/v1/stats/submissions?form=xld&period=2026-Q3", "oversight", None),
    ("GET", "/api/v1/stats/summary?period=2026&unit_id={unit_id}", "oversight_unit", None),
    ("GET", "/api/v1/stats/watchlist?unit_id={unit_id}", "oversight_unit", None),
    ("POST", "/api/v1/stats/urge", "oversight_unit", {"unit_id": "UNIT"}),
    # Thanh tra tỉnh's inspections (issue 25)
    (
        "POST",
        "/api/v1/inspection-plans",
        "inspectorate",
        {"year": 2027, "title": "KH", "items": [{"unit_id": "UNIT", "review_period": "2026", "planned_month": 3}]},
    ),  # fmt: skip
    ("GET", "/api/v1/inspection-plans", "inspectorate", None),
    ("GET", "/api/v1/inspection-plans/{plan_id}", "inspectorate", None),
    (
        "POST",
        "/api/v1/inspection-plans/{plan_id}/approve",
        "chief",
        {"decision_number": "1/QĐ", "decision_date": "TODAY"},
    ),  # fmt: skip
    (
        "POST",
        "/api/v1/inspection-plans/{plan_id}/amendments",
        "chief",
        {
            "decision_number": "2/QĐ",
            "decision_date": "TODAY",
            "reason": "Điều chỉnh",
            "reschedule": [{"item_id": 1, "planned_month": 5}],
        },
    ),  # fmt: skip
    ("POST", "/api/v1/inspections", "inspectorate", {"unit_id": "UNIT", "review_period": "2025"}),
    ("GET", "/api/v1/inspections", "oversight", None),
    ("GET", "/api/v1/inspections/{inspection_id}", "inspection_read", None),
    (
        "POST",
        "/api/v1/inspections/{inspection_id}/decision",
        "inspectorate",
        {"decision_number": "1/QĐ", "decision_date": "TODAY", "members": [{"full_name": "Cán bộ mời"}]},
    ),  # fmt: skip
    ("POST", "/api/v1/inspections/{inspection_id}/start", "inspectorate", {"start_date": "TODAY"}),
    ("POST", "/api/v1/inspections/{inspection_id}/cancel", "inspectorate", {"reason": "Thử"}),
    ("GET", "/api/v1/inspections/{inspection_id}/evaluation", "inspection_read", None),
    (
        "PUT",
        "/api/v1/inspections/{inspection_id}/evaluation",
        "inspectorate",
        {"findings": [{"area": "reception", "rating": "good"}]},
    ),  # fmt: skip
    ("GET", "/api/v1/inspections/{inspection_id}/conclusion", "inspection_read", None),
    (
        "PUT",
        "/api/v1/inspections/{inspection_id}/conclusion",
        "inspectorate",
        {"number": "1/KL", "conclusion_date": "TODAY", "text": "Kết luận"},
    ),  # fmt: skip
    ("POST", "/api/v1/inspections/{inspection_id}/conclusion/sign", "chief", None),
    ("GET", "/api/v1/recommendations", "oversight", None),
    ("POST", "/api/v1/recommendations/urge", "inspectorate", {"unit_id": "UNIT"}),
    ("GET", "/api/v1/recommendations/{rec_id}", "inspection_read", None),
    (
        "POST",
        "/api/v1/recommendations/{rec_id}/reports",
        "inspection_read",
        {"done_on": "TODAY", "document_ref": "1/BC", "text": "Đã thực hiện"},
    ),  # fmt: skip
    ("GET", "/api/v1/recommendations/{rec_id}/reports", "inspection_read", None),
    (
        "POST",
        "/api/v1/recommendations/{rec_id}/reports/{rec_report_id}/decision",
        "inspection_read",
        {"decision": "accepted"},
    ),  # fmt: skip
    ("GET", "/api/v1/stats/inspectorate-report?period=2027-H1", "inspectorate", None),
    ("POST", "/api/v1/stats/inspectorate-report/submissions", "chief", {"period": "2027-H1"}),
    ("GET", "/api/v1/stats/inspectorate-report/submissions", "inspectorate", None),
    ("GET", "/api/v1/stats/inspectorate-report/submissions/{submission_id}", "inspectorate", None),
    ("GET", "/api/v1/stats/inspectorate-report/submissions/{submission_id}/diff", "inspectorate", None),
    # The citizen channel and Open311
    ("POST", "/api/v1/public/submissions", "public", body()),
    ("GET", "/api/v1/public/submissions/{tracking_code}", "public", None),
    ("POST", "/api/v1/public/submissions/{tracking_code}/rating", "public", {"score": 5}),
    ("POST", "/api/v1/public/submissions/{tracking_code}/attachments", "public", ("file", "anh.png", PNG)),
    ("GET", "/open311/v2/services.{fmt}", "public", None),
    ("GET", "/open311/v2/services/{code}.{fmt}", "public", None),
    ("GET", "/open311/v2/requests.{fmt}", "public", None),
    ("POST", "/open311/v2/requests.{fmt}", "public", "OPEN311"),
    ("GET", "/open311/v2/requests/{request_id}.{fmt}", "public", None),
    ("GET", "/open311/v2/tokens/{token}.{fmt}", "public", None),
    ("GET", "/", "public", None),
    ("GET", "/healthz", "public", None),
    ("GET", "/readyz", "public", None),
    ("POST", "/api/v1/open311/api-keys/{key_id}/revoke", "admin", None),
    ("POST", "/api/v1/auth/logout", "officer", None),
]


def test_the_matrix_names_every_route() -> None:
    """A route added to the API without its line in the matrix fails here (a fresh app: other tests add routes of
    their own to the shared one)."""
    from api.app import create_app
    from tests.conftest import SETTINGS

    app = create_app(SETTINGS, database_url="postgresql+asyncpg://unused@127.0.0.1:1/unused")
    operations = {(m.upper(), p) for p, ops in app.openapi()["paths"].items() for m in ops}
    listed = {(m, p.split("?")[0]) for m, p, _, _ in MATRIX}
    assert operations == listed, (operations - listed, listed - operations)


async def _world(api: Api) -> World:
    w = World()
    admin = await api.headers("admin")
    units = {
        "commune": await api.session.scalar(sa.select(Unit.id).where(Unit.code == "04465")),
        "province": await api.session.scalar(sa.select(Unit.id).where(Unit.code == "15")),
    }
    desks = {"commune": "xa.tiepdan", "province": "tinh.tiepdan"}
    heads = {"commune": "xa.chutich", "province": "tinh.chutich"}
    for n, scope in enumerate(SCOPES):
        ids = w.ids[scope]
        desk = await api.headers(desks[scope])
        ids["unit_id"] = units[scope]
        cases = []
        for _ in range(2):
            r = await api.http.post(f"{V1}/cases", headers=desk, json=case_body())
            assert r.status_code == 201, r.text
            cases.append(r.json())
        ids["case_id"], ids["original_id"] = cases[0]["id"], cases[1]["id"]
        ids["other_id"] = ids["original_id"]
        ids["action"] = "accept"
        ids["party_id"] = 0  # DELETE …/accused/{party_id}: each caller gets a letter of its own (below)
        r = await api.http.post(
            f"{V1}/cases/{ids['case_id']}/attachments", headers=desk, files={"file": ("don.pdf", PDF)}
        )
        assert r.status_code == 201, r.text
        ids["attachment_id"] = r.json()["id"]
        r = await api.http.post(
            f"{V1}/users",
            headers=await api.headers("admin2"),  # its roles wait for approval: `admin` may approve them
            json={"username": f"tam.{scope}", "password": "Mat-khau-dai-2026", "full_name": "Cán bộ tạm",
                  "unit_id": units[scope], "roles": ["desk_officer"]},
        )  # fmt: skip
        assert r.status_code == 201, r.text
        ids["user_id"] = r.json()["id"]
        ids["year"] = TODAY.year
        day = f"2030-01-0{3 + n}"
        r = await api.http.post(
            f"{V1}/calendar/overrides", headers=admin, json={"date": day, "kind": "day_off", "reason": "Thử"}
        )
        assert r.status_code in (200, 201), r.text
        ids["day"] = day
        r = await api.http.post(
            f"{V1}/webhooks",
            headers=admin,
            json={"name": scope, "url": "https://example.org/hook", "event_types": ["*"]},
        )
        assert r.status_code == 201, r.text
        ids["sub_id"] = r.json()["id"]
        r = await api.http.post(f"{V1}/open311/api-keys", headers=admin, json={"name": f"Ứng dụng {scope}"})
        assert r.status_code == 201, r.text
        ids["key_id"], ids["api_key"] = r.json()["id"], r.json()["api_key"]
        day = PAST
        r = await api.http.post(
            f"{V1}/reception-sessions",
            headers=desk,
            json={"unit_id": units[scope], "kind": "regular", "mode": "direct", "status": "held",
                  "starts_at": f"{day}T08:00:00+07:00", "ends_at": f"{day}T10:00:00+07:00", "location": "Trụ sở"},
        )  # fmt: skip
        assert r.status_code == 201, r.text
        ids["session_id"] = r.json()["id"]
        r = await api.http.post(f"{V1}/reception-sessions/{ids['session_id']}/entries", headers=desk, json=ENTRY)
        assert r.status_code == 201, r.text
        ids["entry_id"] = r.json()["id"]
        ids["form"] = "xld"
        r = await api.http.post(
            f"{V1}/stats/forms/xld/submissions",
            headers=await api.headers(heads[scope]),
            json={"period": "2026-Q3", "unit_id": units[scope]},
        )
        assert r.status_code == 201, r.text
        ids["report_id"] = r.json()["id"]
        await _inspection_world(api, ids, units[scope], heads[scope], n)
        r = await api.http.post(f"{V1}/public/submissions", json=body())
        assert r.status_code == 201, r.text
        ids["tracking_code"], ids["access_key"] = r.json()["tracking_code"], r.json()["access_key"]
        ids["fmt"], ids["code"] = "json", "complaint.land"
        r = await api.http.post("/open311/v2/requests.json", data=_form(ids["api_key"], device_id=f"d-{scope}"))
        assert r.status_code in (200, 201), r.text
        ids["request_id"] = r.json()[0]["service_request_id"]
        ids["token"] = r.json()[0].get("token") or ids["request_id"]
    return w


async def _inspection_world(api: Api, ids: dict[str, Any], unit: int, head: str, n: int) -> None:
    """Issue 25: a plan, and an inspection of the unit concluded (signed by the chief inspector) with one
    recommendation its head has reported on; a report to Sở Nội vụ submitted."""
    inspector, chief = await api.headers("thanhtra"), await api.headers("thanhtra.truong")
    day, year = TODAY.isoformat(), str(TODAY.year - 1)  # a period that has ended
    items = [{"unit_id": unit, "review_period": year, "planned_month": 3}]
    r = await api.http.post(f"{V1}/inspection-plans", headers=inspector, json={"year": TODAY.year + 1, "title": "KH",
                            "items": items})  # fmt: skip
    assert r.status_code == 201, r.text
    ids["plan_id"] = r.json()["id"]
    r = await api.http.post(f"{V1}/inspections", headers=inspector, json={"unit_id": unit, "review_period": year})
    assert r.status_code == 201, r.text
    ids["inspection_id"] = insp = r.json()["id"]
    team = {"decision_number": "1/QĐ", "decision_date": day, "members": [{"full_name": "Cán bộ mời"}]}
    for step, payload in (("decision", team), ("start", {"start_date": day})):
        r = await api.http.post(f"{V1}/inspections/{insp}/{step}", headers=inspector, json=payload)
        assert r.status_code == 200, r.text
    rec = {"unit_id": unit, "action": "Chấn chỉnh", "deadline": (TODAY + timedelta(days=30)).isoformat()}
    conclusion = {"number": "1/KL", "conclusion_date": day, "text": "Kết luận", "recommendations": [rec]}
    r = await api.http.put(f"{V1}/inspections/{insp}/conclusion", headers=inspector, json=conclusion)
    assert r.status_code == 200, r.text
    r = await api.http.post(f"{V1}/inspections/{insp}/conclusion/sign", headers=chief)
    assert r.status_code == 200, r.text
    ids["rec_id"] = r.json()["recommendations"][0]["id"]
    report = {"done_on": day, "document_ref": "1/BC", "text": "Đã thực hiện"}
    r = await api.http.post(f"{V1}/recommendations/{ids['rec_id']}/reports", headers=await api.headers(head),
                            json=report)  # fmt: skip
    assert r.status_code == 201, r.text
    ids["rec_report_id"] = r.json()["id"]
    r = await api.http.post(f"{V1}/stats/inspectorate-report/submissions", headers=chief,
                            json={"period": str(TODAY.year - 1 - n)})  # fmt: skip
    assert r.status_code == 201, r.text
    ids["submission_id"] = r.json()["id"]


ENTRY = {
    "persons": [{"full_name": "Nguyễn Văn Bốn"}],
    "kind": "petition",
    "content": "Kiến nghị",
    "handling": "explained",
}


def _body(spec: Any, ids: dict[str, Any]) -> dict[str, Any]:
    """httpx keyword arguments for a body spec of MATRIX."""
    if spec is None:
        return {}
    if isinstance(spec, tuple) and spec[0] == "form":
        return {"data": spec[1]}
    if isinstance(spec, tuple) and spec[0] == "file":
        return {"files": {"file": (spec[1], spec[2])}}
    named = {
        "CASE": lambda: case_body(),
        "COMPETENCE": lambda: {"competent_unit_id": ids["unit_id"], "reason": "Thẩm quyền"},
        "SESSION": lambda: {
            "unit_id": ids["unit_id"],
            "kind": "adhoc",
            "mode": "direct",
            "status": "held",
            "starts_at": f"{PAST}T14:00:00+07:00",
            "ends_at": f"{PAST}T15:00:00+07:00",
            "location": "Trụ sở",
        },  # fmt: skip
        "ENTRY": lambda: ENTRY,
        "REPORT": lambda: {"period": "2026-Q3", "unit_id": ids["unit_id"]},
        "OPEN311": lambda: None,
    }
    if isinstance(spec, str) and spec in named:
        if spec == "OPEN311":
            return {"data": _form(ids["api_key"], device_id="d-matrix")}
        return {"json": named[spec]()}

    def fill(value: Any) -> Any:
        if value == "TODAY":
            return TODAY.isoformat()
        if value == "UNIT":
            return ids["unit_id"]
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fill(v) for v in value]
        return value

    return {"json": fill(spec)}


def _outcome(status: int) -> str | int:
    if status in (401, 403, 404):
        return status
    assert status < 500, status
    return "ok"


async def test_every_route_every_role_in_and_out_of_scope(api: Api) -> None:
    w = await _world(api)
    province = await api.session.scalar(sa.select(Unit.id).where(Unit.code == "15"))
    headers = {who: ({} if who == ANON else await api.headers(who)) for who in IDENTITIES}
    wrong: list[str] = []
    for method, template, rule, spec in MATRIX:
        scoped = "{" in template or rule in ("session_write", "report_submit", "oversight_unit")
        for scope in SCOPES if scoped and rule != "public" else ("commune",):
            ids = {**w.ids[scope]}
            if method == "POST" and template.startswith(f"{V1}/cases/{{case_id}}/"):
                # Writes on a case get fresh letters, just received: what an earlier line did to the case
                # (accepted it, stored it) must not turn a refusal into a conflict of state.
                desk = await api.headers("xa.tiepdan" if scope == "commune" else "tinh.tiepdan")
                fresh = [(await api.http.post(f"{V1}/cases", headers=desk, json=case_body())).json() for _ in "ab"]
                ids["case_id"], ids["original_id"] = fresh[0]["id"], fresh[1]["id"]
                ids["other_id"] = ids["original_id"]
                if template.endswith("/complexity"):  # decided while the case is being settled
                    head = await api.headers("xa.chutich" if scope == "commune" else "tinh.chutich")
                    r = await api.http.post(
                        f"{V1}/cases/{ids['case_id']}/actions/accept",
                        headers={**head, "If-Match": "1"},
                        json={"decision_number": "1/TB-TL", "effective_date": TODAY.isoformat()},  # LKN art. 27
                    )
                    assert r.status_code == 200, r.text
            path = template.format(**ids)
            if isinstance(spec, dict) and spec.get("parent_id") == "PROV":
                spec = {**spec, "parent_id": province}
            for who in IDENTITIES:
                h = {**headers[who]}
                if template.endswith("/accused/{party_id}"):
                    # Each caller removes the accused party of a fresh letter (one removed is gone for the next).
                    desk = await api.headers("xa.tiepdan" if scope == "commune" else "tinh.tiepdan")
                    accused = {"role": "accused", "full_name": "Ông Lù Văn Pao"}
                    made = (await api.http.post(f"{V1}/cases", headers=desk, json=case_body(parties=[accused]))).json()
                    ids["case_id"], ids["party_id"] = made["id"], made["parties"][0]["id"]
                    path = template.format(**ids)
                    h["If-Match"] = str(made["version"])
                if path.startswith(f"{V1}/cases/{ids['case_id']}/") and method == "POST":
                    version = await api.session.scalar(sa.select(Case.version).where(Case.id == ids["case_id"]))
                    h["If-Match"] = str(version)
                if "/public/submissions/" in path:
                    h["X-Access-Key"] = ids["access_key"]
                r = await api.http.request(method, path, headers=h, **_body(spec, ids))
                assert "Traceback" not in r.text
                got, expected = _outcome(r.status_code), RULES[rule](who, scope)
                if expected == 409:  # an action the caller's roles may never take: 409 with the allowed ones
                    got = r.status_code
                if got != expected:
                    wrong.append(f"{method} {template} [{scope}] {who}: {r.status_code}, expected {expected}")
    assert not wrong, "\n".join(wrong)


# The dashboard (server-rendered, signed in by cookie; not in /openapi.json): (method, path, rule). Without a
# session a page sends the browser to the sign-in form (303) instead of a 401.
DASHBOARD: list[tuple[str, str, str]] = [
    ("GET", "/dashboard", "oversight_unit"),
    ("GET", "/dashboard/login", "public"),
    ("POST", "/dashboard/login", "public"),
    ("GET", "/dashboard/export/{form}.{fmt}", "oversight_unit"),
    ("GET", "/dashboard/cases/{case_id}", "case_read"),
    ("GET", "/dashboard/cases", "oversight_unit"),
    ("GET", "/dashboard/register", "oversight_unit"),
    ("GET", "/dashboard/watch", "oversight_unit"),
    ("POST", "/dashboard/logout", "public"),
]


def test_the_dashboard_matrix_names_every_page(api: Api) -> None:
    from api.dashboard import views

    pages = {(m, r.path) for r in views.router.routes for m in getattr(r, "methods", ()) if m != "HEAD"}
    assert pages == {(m, p.rstrip("/")) for m, p, _ in DASHBOARD}


async def test_every_dashboard_page_every_role_in_and_out_of_scope(api: Api) -> None:
    import re

    import httpx

    w = await _world(api)
    app = api.http._transport.app  # type: ignore[attr-defined]
    wrong: list[str] = []
    for who in IDENTITIES:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="https://intranet.laocai") as browser:
            if who != ANON:
                form = await browser.get("/dashboard/login")
                csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
                assert csrf is not None
                r = await browser.post(
                    "/dashboard/login", data={"username": who, "password": "LaoCai@2026demo", "csrf": csrf.group(1)}
                )
                assert r.status_code == 303 and r.headers["location"] == "/dashboard", (who, r.status_code)
            for method, template, rule in DASHBOARD:
                if method == "POST":
                    continue  # the sign-in above and test_dashboard.py's sign-out and CSRF tests
                for scope in SCOPES if "{" in template or template == "/dashboard" else ("commune",):
                    ids = {**w.ids[scope], "fmt": "csv"}
                    path = template.format(**ids)
                    params = {"unit_id": ids["unit_id"]} if rule == "oversight_unit" else {}
                    r = await browser.request(method, path, params=params)
                    assert "Traceback" not in r.text
                    expected = RULES[rule](who, scope)
                    got: str | int = r.status_code
                    if r.status_code == 303 and r.headers["location"] == "/dashboard/login":
                        got = 401  # the browser's way of saying "sign in first"
                    elif r.status_code not in (401, 403, 404):
                        got = "ok"
                    if got != expected:
                        wrong.append(f"{method} {template} [{scope}] {who}: {r.status_code}, expected {expected}")
    assert not wrong, "\n".join(wrong)
