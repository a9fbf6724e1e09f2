"""The house rules that clients and operators rely on: one error catalogue (a code always has the same status
and message, and is documented), readable OpenAPI for client generators, caches that every process sees
change at once, and an identity read recorded in the same commit as the action that revealed it."""

import asyncio
import re

import httpx
import sqlalchemy as sa

from api.app import create_app
from api.errors import CATALOGUE, Code
from api.models.user import User
from tests.conftest import SETTINGS, Api, Live
from tests.helpers import V1, act, case_body, intake


def test_every_code_is_in_the_catalogue_once_with_a_vietnamese_message() -> None:
    assert set(CATALOGUE) == set(Code)
    for code, (status, message) in CATALOGUE.items():
        assert 400 <= status < 600 and message.strip(), code
        assert re.fullmatch(r"[a-z_]+", code.value)


def test_no_inline_error_codes_outside_the_catalogue() -> None:
    from pathlib import Path

    for path in Path("api").rglob("*.py"):
        if path.name == "errors.py":
            continue
        text = path.read_text()
        assert not re.search(r"\b(Invalid|Conflict|NotFound)\(", text), path
        assert not re.search(r'\bcode="', text.replace('Unit(code="ROOT"', "")), path


async def test_the_same_code_has_the_same_status_on_every_route(api: Api) -> None:
    h = await api.headers("tinh.tiepdan")
    # unit_not_found is a reference in a body or a query: 422 with the field, wherever it comes from.
    r1 = await api.http.post(f"{V1}/cases", headers=h, json=case_body(competent_unit_id=999_999))
    r2 = await api.http.get(f"{V1}/cases", headers=h, params={"unit_id": 999_999})
    r3 = await api.http.get(f"{V1}/deadlines/overdue", headers=h, params={"unit_id": 999_999})
    for r, field in ((r1, "competent_unit_id"), (r2, "unit_id"), (r3, "unit_id")):
        body = r.json()["error"]
        assert r.status_code == 422 and body["code"] == "unit_not_found" and body["details"]["field"] == field
        assert body["message"] == CATALOGUE[Code.unit_not_found][1]
    # A unit in the path that does not exist is a 404 with its own code.
    r = await api.http.get(f"{V1}/units/999999", headers=h)
    assert r.status_code == 404 and r.json()["error"]["code"] == "no_such_unit"


async def test_openapi_is_ready_for_client_generators(api: Api) -> None:
    spec = (await api.http.get("/openapi.json")).json()
    assert spec["info"]["title"].isascii()
    ids = [op["operationId"] for path in spec["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids))
    assert {"cases_act", "cases_list", "cases_create", "cases_get", "units_list", "users_create"} <= set(ids)
    assert all(re.fullmatch(r"[a-z][a-z0-9]*_[a-z_]+", i) for i in ids)
    act_op = spec["paths"]["/api/v1/cases/{case_id}/actions/{action}"]["post"]
    for status in ("409", "412", "422", "428"):
        ref = act_op["responses"][status]["content"]["application/json"]["schema"]["$ref"]
        assert ref.endswith("/ErrorBody")
    assert "`action_not_allowed`" in act_op["responses"]["409"]["description"]
    schemas = spec["components"]["schemas"]
    assert "enum" in schemas["Code"] and "case_not_found" in schemas["Code"]["enum"]
    case_out = schemas["CaseOut"]["properties"]
    for name, enum in (("status", "Status"), ("kind", "Kind"), ("field", "CaseField"), ("channel", "Channel")):
        assert case_out[name]["$ref"].endswith(f"/{enum}"), name
    assert schemas["TimerOut"]["properties"]["status"]["$ref"].endswith("/TimerStatus")


async def test_an_identity_shown_by_an_action_is_recorded_in_the_same_commit(api: Api) -> None:
    den = await intake(
        api,
        kind="denunciation",
        field="corruption",
        parties=[{"role": "denouncer", "full_name": "Lò Văn Pha", "id_number": "015085003344"}],
    )
    accepted = await act(api, "tinh.chutich", den, "accept", decision_number="1/QĐ")
    assert accepted["parties"][0]["full_name"] == "Lò Văn Pha"  # the deciding head sees the denouncer
    h = await api.headers("tinh.chutich")
    events = (await api.http.get(f"{V1}/cases/{den['id']}/events", headers=h)).json()["items"]
    assert [e["action"] for e in events] == ["create", "accept", "identity_viewed"]
    assert events[2]["at"] == events[1]["at"] or events[2]["seq"] == events[1]["seq"] + 1
    verify = (await api.http.get(f"{V1}/cases/{den['id']}/events/verify", headers=h)).json()
    assert verify == {"valid": True, "events_checked": 3, "first_tampered_seq": None}


async def test_calendar_and_officer_changes_are_seen_at_once_by_every_process(live: Live) -> None:
    other = create_app(SETTINGS, database_url=live.url)  # a second API process on the same database
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=other), base_url="http://other") as http2:
        desk = await live.headers("tinh.tiepdan")
        admin = await live.headers("admin")
        body = case_body(received_at="2026-11-02")
        before = (await http2.post(f"{V1}/cases", headers=desk, json=body)).json()
        processing = next(t for t in before["timers"] if t["name"] == "processing")
        # Process 1 declares the processing due date a day off; process 2 must count with it immediately.
        due = processing["due_date"]
        r = await live.http.post(
            f"{V1}/calendar/overrides", headers=admin, json={"date": due, "kind": "day_off", "reason": "Bão lũ"}
        )
        assert r.status_code in (200, 201), r.text
        after = (await http2.post(f"{V1}/cases", headers=desk, json=body)).json()
        moved = next(t for t in after["timers"] if t["name"] == "processing")
        assert moved["due_date"] > due
        year = (await http2.get(f"{V1}/calendar/{due[:4]}", headers=desk)).json()
        assert due in [d["date"] for d in year["days_off"]]
        await live.http.delete(f"{V1}/calendar/overrides/{due}", headers=admin)
        again = (await http2.post(f"{V1}/cases", headers=desk, json=body)).json()
        assert next(t for t in again["timers"] if t["name"] == "processing")["due_date"] == due
        # An officer deactivated through process 1 is refused by process 2 on the next request.
        engine = other.state.engine
        async with engine.connect() as conn:
            user_id = (await conn.execute(sa.select(User.id).where(User.username == "xa.tiepdan"))).scalar_one()
        xa = await live.headers("xa.tiepdan")
        assert (await http2.get(f"{V1}/auth/me", headers=xa)).status_code == 200
        r = await live.http.post(f"{V1}/users/{user_id}/deactivate", headers=admin)
        assert r.status_code == 200, r.text
        assert (await http2.get(f"{V1}/auth/me", headers=xa)).status_code == 401
        await live.http.patch(f"{V1}/users/{user_id}", headers=admin, json={"is_active": True})
        await live.http.post(f"{V1}/users/{user_id}/approve", headers=await live.headers("admin2"))
    await other.state.engine.dispose()
    await asyncio.sleep(0)


def test_the_lock_files_pin_every_dependency_with_hashes() -> None:
    """The Dockerfile and CI install from the lock files: a dependency added to pyproject.toml but not locked
    would be missing there."""
    import re
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]

    def names(requirements: list[str]) -> set[str]:
        return {re.split(r"[\[<>=!~; ]", r, maxsplit=1)[0].lower().replace("_", "-") for r in requirements}

    for lock, wanted in (
        ("requirements.lock", names(project["dependencies"])),
        ("requirements-test.lock", names(project["dependencies"] + project["optional-dependencies"]["test"])),
    ):
        text = (root / lock).read_text()
        pinned = {m.lower() for m in re.findall(r"^([A-Za-z0-9_.-]+)==", text, flags=re.M)}
        assert wanted <= pinned, (lock, wanted - pinned)
        blocks = re.split(r"\n(?=[A-Za-z0-9_.-]+==)", text.split("\n", 2)[2])
        assert all("--hash=sha256:" in b for b in blocks if "==" in b), lock


async def test_a_route_may_combine_the_case_and_the_command_context(live: Live) -> None:
    """ReadableCase and Ctx both sign the caller in; the second finds the officer already signed in rather than
    reusing the hot connection the first gave back to the pool (the real pool: no test override)."""
    from api.deps import Ctx, ReadableCase

    async def both(case: ReadableCase, ctx: Ctx) -> dict[str, int]:
        assert case.id is not None
        return {"case": case.id, "officer": ctx.officer.id}

    app = live.app
    app.add_api_route("/test-only/cases/{case_id}", both, methods=["GET"])
    try:
        desk, head = await live.headers("tinh.tiepdan"), await live.headers("tinh.chutich")
        case = (await live.http.post(f"{V1}/cases", headers=desk, json=case_body())).json()
        r = await live.http.get(f"/test-only/cases/{case['id']}", headers=head)
        assert r.status_code == 200, r.text
        assert r.json()["case"] == case["id"]
    finally:
        app.router.routes.pop()
        app.openapi_schema = None


def test_no_service_module_is_over_400_lines() -> None:
    """Issue 23: a capability that grows becomes a package split by what changes together, not one long module."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "api" / "services"
    long = {str(p.relative_to(root)): n for p in root.rglob("*.py") if (n := len(p.read_text().splitlines())) > 400}
    assert not long, f"split these by what changes together: {long}"


# Schemas outside the suffix family, each for a reason a client relies on.
SCHEMA_NAMES_ALLOWED = {
    # parts of a request body: they only ever travel inside an …In
    "Contact": "part of SubmissionIn",
    "Location": "part of SubmissionIn",
    "Remedies": "part of ActionIn",
    "Conclusion": "part of a sitting's body (SessionIn, SessionUpdate)",
    "CaseFromEntry": "part of EntryIn",
    # the one error body every route answers with (api/errors.py)
    "ErrorBody": "the shared error body",
    "ErrorDetail": "part of ErrorBody",
}


def test_every_schema_name_is_in_the_suffix_family() -> None:
    """Request bodies end in In, partial changes in Update, answers in Out (a client generator's names say which is
    which); the exceptions: body parts and the shared error body (above), the Open311* schemas (GeoReport v2's own
    documents, which existing Open311 clients know), FastAPI's generated form bodies (Body_<operation>), enums (a
    code list, not a model) and Page_<item>_ (named by its item, which is checked)."""
    spec = create_app(SETTINGS, database_url="postgresql+asyncpg://unused@127.0.0.1:1/unused").openapi()
    outside = []
    for name, schema in spec["components"]["schemas"].items():
        if "enum" in schema or name.startswith(("Open311", "Body_")) or name in SCHEMA_NAMES_ALLOWED:
            continue
        item = name.removeprefix("Page_").removesuffix("_") if name.startswith("Page_") else name
        if not re.search(r"[a-z0-9](In|Update|Out)$", item):
            outside.append(name)
    assert not outside, f"schemas outside the family (…In, …Update, …Out): {outside}"
    assert set(SCHEMA_NAMES_ALLOWED) <= set(spec["components"]["schemas"]), "an allowance no schema needs"
