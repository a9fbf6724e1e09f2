"""The lean lane (api/lean.py) changes nothing a client sees: the same requests to the two hot write routes — good
ones and every kind of bad header and body — sent to the app with the lane on (the default) and with it off
(LEAN_LANE=false), in the same database, get the same status, the same body (but for what is new per case: ids,
tracking code, access key, times) and the same headers a client reads."""

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from api.app import create_app
from api.db import driver
from api.deps import get_hot_connection, get_intake_writer, get_session
from api.lean import LeanLane
from api.services.cases.writer import IntakeWriter, OneConnection
from tests.conftest import SETTINGS, Api
from tests.helpers import V1, case_body, days_ago
from tests.test_public import PUBLIC, complaint

CASES = f"{V1}/cases"
NEW_PER_CASE = {"id", "tracking_code", "access_key", "created_at", "updated_at"}
READ_HEADERS = ("content-type", "cache-control", "www-authenticate", "etag", "location", "retry-after")


@dataclass
class Lanes:
    on: httpx.AsyncClient
    off: httpx.AsyncClient
    api: Api


@pytest.fixture(scope="module")
def lane_off_app(database_url: str) -> FastAPI:
    return create_app(SETTINGS.model_copy(update={"lean_lane": False}), database_url=database_url)


@pytest.fixture
async def lanes(app: FastAPI, lane_off_app: FastAPI, session: AsyncSession, api: Api) -> AsyncIterator[Lanes]:
    """Both apps on the test's connection, inside its rolled-back transaction (as the `api` fixture does)."""
    assert any(m.cls is LeanLane for m in app.user_middleware)
    assert not any(m.cls is LeanLane for m in lane_off_app.user_middleware)

    async def _session() -> AsyncSession:
        return session

    async def _hot() -> asyncpg.Connection:
        return await driver(session)

    writer = IntakeWriter(OneConnection(await driver(session)))

    async def _writer() -> IntakeWriter:
        return writer

    lane_off_app.dependency_overrides.update(
        {get_session: _session, get_hot_connection: _hot, get_intake_writer: _writer}
    )
    transport = httpx.ASGITransport(app=lane_off_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as off:
        yield Lanes(on=api.http, off=off, api=api)
    lane_off_app.dependency_overrides.clear()


def _same(value: Any) -> Any:
    """A body without what is new per case."""
    if isinstance(value, dict):
        return {k: ("…" if k in NEW_PER_CASE else _same(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_same(v) for v in value]
    return value


def _seen(r: httpx.Response) -> tuple[int, list[str], Any, dict[str, str]]:
    try:
        body = r.json()
    except ValueError:
        body = r.text
    keys = list(body) if isinstance(body, dict) else []
    return r.status_code, keys, _same(body), {h: r.headers[h] for h in READ_HEADERS if h in r.headers}


async def _both(lanes: Lanes, path: str, headers: dict[str, str], body: bytes) -> tuple[Any, Any, int]:
    served = LeanLane.served
    on = await lanes.on.post(path, headers=headers, content=body)
    lean = LeanLane.served - served
    off = await lanes.off.post(path, headers=headers, content=body)
    assert LeanLane.served == served + lean  # the app with the lane off never takes it
    return _seen(on), _seen(off), lean


def _json(body: Any) -> bytes:
    return json.dumps(body).encode()


JSON = {"Content-Type": "application/json"}
# (what is sent, the status both lanes answer, whether the lean lane serves it itself: None where that depends on
# whether it remembers the officer — a refusal judged on a remembered officer is judged again by FastAPI)
DESK: list[tuple[str, dict[str, str], bytes, int, bool | None]] = [
    ("a letter", {}, _json(case_body()), 201, True),
    (
        "a letter, content type with a charset",
        {"Content-Type": "application/json; charset=utf-8"},
        _json(case_body()),
        201,
        False,
    ),
    ("a letter, the scheme in lower case", {"Authorization": "bearer {token}"}, _json(case_body()), 201, True),
    ("an Idempotency-Key of 64", {"Idempotency-Key": "k" * 64}, _json(case_body()), 201, True),
    ("an Idempotency-Key of 65", {"Idempotency-Key": "k" * 65}, _json(case_body()), 422, False),
    ("a device id, ignored by the desk", {"X-Device-Id": "no spaces allowed"}, _json(case_body()), 201, True),
    ("text/plain", {"Content-Type": "text/plain"}, _json(case_body()), 422, False),
    ("no content type", {"Content-Type": ""}, _json(case_body()), 422, False),
    ("not JSON", {}, b"{not json", 422, False),
    ("an empty body", {}, b"", 422, False),
    ("a JSON list", {}, b"[]", 422, False),
    ("an unknown kind", {}, _json(case_body(kind="rumour")), 422, False),
    ("a field too many", {}, _json({**case_body(), "extra": 1}), 422, False),
    ("no title", {}, _json({k: v for k, v in case_body().items() if k != "title"}), 422, False),
    ("a date in the future", {}, _json(case_body(received_at=days_ago(-2))), 422, None),
    ("no Authorization", {"Authorization": ""}, _json(case_body()), 401, False),
    ("a token that is not one", {"Authorization": "Bearer not-a-token"}, _json(case_body()), 401, False),
    ("Basic credentials", {"Authorization": "Basic dXNlcjpwYXNz"}, _json(case_body()), 401, False),
    ("Bearer and no token", {"Authorization": "Bearer"}, _json(case_body()), 401, False),
    ("Bearer and two spaces", {"Authorization": "Bearer  {token}"}, _json(case_body()), 201, True),
]


@pytest.mark.parametrize(("what", "extra", "body", "status", "lean"), DESK, ids=[d[0] for d in DESK])
async def test_the_desk_intake_answers_the_same_with_the_lane_on_and_off(
    lanes: Lanes, what: str, extra: dict[str, str], body: bytes, status: int, lean: bool | None
) -> None:
    token = (await lanes.api.headers("tinh.tiepdan"))["Authorization"].removeprefix("Bearer ")
    headers = {**JSON, "Authorization": f"Bearer {token}"}
    headers.update({k: v.replace("{token}", token) for k, v in extra.items()})
    headers = {k: v for k, v in headers.items() if v}
    on, off, served = await _both(lanes, CASES, headers, body)
    assert on == off, what
    assert on[0] == status, on
    if lean is not None:  # the lane serves the common request, and leaves the others to FastAPI
        assert served == int(lean), what


async def test_an_officer_without_intake_role_is_refused_the_same_in_both_lanes(lanes: Lanes) -> None:
    headers = {**JSON, **(await lanes.api.headers("tinh.xacminh"))}
    for _ in range(2):  # the second time, the lane on answers with the officer it remembers
        on, off, _ = await _both(lanes, CASES, headers, _json(case_body()))
        assert on == off and on[0] == 403 and on[2]["error"]["code"] == "intake_forbidden"


async def test_an_idempotency_key_replays_and_refuses_the_same_in_both_lanes(lanes: Lanes) -> None:
    h = {**JSON, **(await lanes.api.headers("tinh.tiepdan"))}
    answers = []
    for client, key in ((lanes.on, "lane-on"), (lanes.off, "lane-off")):
        first = await client.post(CASES, headers={**h, "Idempotency-Key": key}, content=_json(case_body()))
        again = await client.post(CASES, headers={**h, "Idempotency-Key": key}, content=_json(case_body()))
        other = await client.post(
            CASES, headers={**h, "Idempotency-Key": key}, content=_json(case_body(title="Một đơn khác"))
        )
        assert first.status_code == again.status_code == 201 and again.json()["id"] == first.json()["id"]
        assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"
        answers.append([_seen(first), _seen(again), _seen(other)])
    assert answers[0] == answers[1]


PUBLIC_CASES: list[tuple[str, dict[str, str], bytes, int, bool | None]] = [
    ("a submission", {}, _json(complaint()), 201, True),
    ("from a device", {"X-Device-Id": "phone-1"}, _json(complaint()), 201, True),
    (
        "content type with a charset",
        {"Content-Type": "application/json; charset=utf-8"},
        _json(complaint()),
        201,
        False,
    ),
    ("an Idempotency-Key of 64", {"Idempotency-Key": "p" * 64}, _json(complaint()), 201, True),
    ("an Idempotency-Key of 65", {"Idempotency-Key": "p" * 65}, _json(complaint()), 422, False),
    ("a device id with a space", {"X-Device-Id": "no spaces allowed"}, _json(complaint()), 422, False),
    ("a device id of 65", {"X-Device-Id": "d" * 65}, _json(complaint()), 422, False),
    ("a device id of 64", {"X-Device-Id": "d" * 64}, _json(complaint()), 201, True),
    ("text/plain", {"Content-Type": "text/plain"}, _json(complaint()), 422, False),
    ("not JSON", {}, b"{not json", 422, False),
    ("no consent with a contact", {}, _json(complaint(consent=False)), 422, False),
    ("an unknown commune", {}, _json(complaint(location={"commune_code": "99999"})), 422, True),
    ("a bearer token, ignored", {"Authorization": "Bearer not-a-token"}, _json(complaint()), 201, True),
]


@pytest.mark.parametrize(("what", "extra", "body", "status", "lean"), PUBLIC_CASES, ids=[p[0] for p in PUBLIC_CASES])
async def test_a_public_submission_answers_the_same_with_the_lane_on_and_off(
    lanes: Lanes, what: str, extra: dict[str, str], body: bytes, status: int, lean: bool | None
) -> None:
    on, off, served = await _both(lanes, PUBLIC, {**JSON, **extra}, body)
    assert on == off, what
    assert on[0] == status, on
    if lean is not None:
        assert served == int(lean), what
