"""Intake's group commit (api/services/cases/writer.py) and its lean request path (api/lean.py): letters taken in
together are written together and each whole, a bad letter fails alone, and the lean path answers exactly what
FastAPI's own handler answers."""

import asyncio
import json
import secrets
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.deps import get_hot_connection
from api.lean import LeanLane
from api.models.cases import Case, CaseEvent, CaseParty
from api.models.cases.schemas import CaseIn
from api.services.cases.row import CaseRow
from api.services.cases.writer import IntakeWriter
from tests.conftest import Api, Live
from tests.helpers import V1, case_body, days_ago, timer


async def test_letters_taken_in_together_are_written_by_fewer_statements_each_whole(live: Live) -> None:
    writer: IntakeWriter = live.app.state.intake_writer
    batches, letters = writer.batches, writer.letters
    h = await live.headers("tinh.tiepdan")
    bodies = [
        case_body(title=f"Đơn số {n}", parties=[{"role": "complainant", "full_name": f"Người {n}"}]) for n in range(30)
    ]
    answers = await asyncio.gather(*(live.http.post(f"{V1}/cases", headers=h, json=b) for b in bodies))
    assert [r.status_code for r in answers] == [201] * 30, [r.text for r in answers if r.status_code != 201]
    assert writer.letters - letters == 30
    assert writer.batches - batches < 30  # some went together
    head = await live.headers("tinh.chutich")
    for body, r in zip(bodies, answers, strict=True):
        case = (await live.http.get(f"{V1}/cases/{r.json()['id']}", headers=head)).json()
        assert case["title"] == body["title"]  # each answer is its own letter's
        assert [p["full_name"] for p in case["parties"]] == [body["parties"][0]["full_name"]]
        assert [p["id"] for p in case["parties"]] == [p["id"] for p in r.json()["parties"]]
        verify = (await live.http.get(f"{V1}/cases/{case['id']}/events/verify", headers=head)).json()
        assert verify == {"valid": True, "events_checked": 1, "first_tampered_seq": None}


async def _a_letter(live: Live) -> CaseRow:
    """A letter exactly as intake hands it to the writer."""
    seen: list[CaseRow] = []

    class Spy(IntakeWriter):
        async def write(self, letter: CaseRow) -> list[int] | None:
            seen.append(replace(letter))
            return await super().write(letter)

    real = live.app.state.intake_writer
    live.app.state.intake_writer = Spy(live.app.state.hot_pool)
    try:
        r = await live.http.post(f"{V1}/cases", headers=await live.headers("tinh.tiepdan"), json=case_body())
        assert r.status_code == 201, r.text
    finally:
        live.app.state.intake_writer = real
    return seen[0]


async def test_a_letter_that_fails_fails_alone_with_its_own_error(live: Live) -> None:
    template = await _a_letter(live)
    writer = IntakeWriter(live.app.state.hot_pool, lanes=1)
    letters = []
    for n in range(5):
        case_id = await writer.next_id()
        letter = replace(template, id=case_id, tracking_code=f"T{secrets.token_hex(6)}", title=f"Thư {n}")
        letters.append(letter)
    letters[2].receiving_unit_id = -1  # no such unit: the database refuses this one
    results = await asyncio.gather(*(writer.write(letter) for letter in letters), return_exceptions=True)
    assert isinstance(results[2], asyncpg.ForeignKeyViolationError)
    assert all(isinstance(r, list) and len(r) == 1 for i, r in enumerate(results) if i != 2)
    engine = live.app.state.engine
    async with engine.connect() as conn:
        ids = [letter.id for letter in letters]
        written = set((await conn.execute(sa.select(Case.id).where(Case.id.in_(ids)))).scalars())
        assert written == set(ids) - {letters[2].id}
        parties = (await conn.execute(sa.select(CaseParty.case_id).where(CaseParty.case_id.in_(ids)))).scalars()
        events = (await conn.execute(sa.select(CaseEvent.case_id).where(CaseEvent.case_id.in_(ids)))).scalars()
        assert sorted(parties) == sorted(events) == sorted(written)


async def test_a_letter_already_taken_is_skipped_and_the_rest_of_its_batch_written(live: Live) -> None:
    template = await _a_letter(live)
    writer = IntakeWriter(live.app.state.hot_pool, lanes=1)
    first = replace(template, id=await writer.next_id(), tracking_code=f"T{secrets.token_hex(6)}")
    same_code = replace(template, id=await writer.next_id(), tracking_code=first.tracking_code)
    other = replace(template, id=await writer.next_id(), tracking_code=f"T{secrets.token_hex(6)}")
    results = await asyncio.gather(writer.write(first), writer.write(same_code), writer.write(other))
    assert results[1] is None  # its tracking code was taken (in the same statement): intake then tries again
    assert isinstance(results[0], list) and isinstance(results[2], list)
    assert writer.batches == 1


async def test_the_lean_path_answers_what_fastapi_answers(api: Api) -> None:
    h = await api.headers("tinh.tiepdan")
    before = LeanLane.served
    lean = await api.http.post(f"{V1}/cases", headers=h, json=case_body())
    assert lean.status_code == 201 and LeanLane.served == before + 1
    # A content type with parameters is left to FastAPI's own handler.
    raw = json.dumps(case_body()).encode()
    std = await api.http.post(
        f"{V1}/cases", headers={**h, "Content-Type": "application/json; charset=utf-8"}, content=raw
    )
    assert std.status_code == 201 and LeanLane.served == before + 1
    assert lean.headers["content-type"] == std.headers["content-type"]

    def same(body: dict[str, Any]) -> dict[str, Any]:
        out = {
            k: v for k, v in body.items() if k not in ("id", "tracking_code", "access_key", "created_at", "updated_at")
        }
        out["parties"] = [{k: v for k, v in p.items() if k != "id"} for p in body["parties"]]
        return out

    assert same(lean.json()) == same(std.json())
    assert list(lean.json()) == list(std.json())  # the same fields in the same order


@pytest.mark.parametrize(
    "headers, body, status",
    [
        ({"Content-Type": "text/plain"}, json.dumps(case_body()), 422),
        ({}, "{not json", 422),
        ({}, json.dumps({**case_body(), "kind": "rumour"}), 422),
        ({"Idempotency-Key": "k" * 65}, json.dumps(case_body()), 422),
        ({"Authorization": "Bearer not-a-token"}, json.dumps(case_body()), 401),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, json.dumps(case_body()), 401),
    ],
)
async def test_what_the_lean_path_leaves_fastapi_answers_with_its_errors(
    api: Api, headers: dict[str, str], body: str, status: int
) -> None:
    h = {**(await api.headers("tinh.tiepdan")), "Content-Type": "application/json", **headers}
    before = LeanLane.served
    r = await api.http.post(f"{V1}/cases", headers=h, content=body.encode())
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] and LeanLane.served == before


# A letter's fields, wrong in the ways a client gets them wrong.
_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["2026-11-20", "2026-02-30", "20/11/2026", "complaint", "land", " in_person ", "1", "1.0"]),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.sampled_from(["role", "full_name", "id_number", "x"]), st.text(max_size=5), max_size=3),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    changes=st.dictionaries(
        st.sampled_from(
            [*case_body(), "complaint_round", "signer_count", "is_anonymous", "competent_unit_id", "extra"]
        ),
        _values,
        max_size=4,
    ),
    drop=st.sets(st.sampled_from(list(case_body())), max_size=2),
)
def test_the_lean_path_accepts_exactly_the_letters_fastapi_accepts(changes: dict[str, Any], drop: set[str]) -> None:
    letter = {k: v for k, v in {**case_body(), **changes}.items() if k not in drop}
    raw = json.dumps(letter)
    try:
        lean = CaseIn.model_validate_json(raw)  # what the lean path does
    except ValueError:
        lean = None
    try:
        standard = CaseIn.model_validate(json.loads(raw))  # what FastAPI does with a JSON body
    except ValueError:
        standard = None
    assert (lean is None) == (standard is None), (letter, lean, standard)
    assert lean == standard


def _count_sign_ins(app: FastAPI) -> list[int]:
    """Count the requests that take a hot connection (the sign-in's read of the officer)."""
    taken = [0]
    inner = app.dependency_overrides[get_hot_connection]

    async def counting() -> asyncpg.Connection:
        taken[0] += 1
        return await inner()

    app.dependency_overrides[get_hot_connection] = counting
    return taken


async def _cases_titled(api: Api, title: str) -> int:
    return int(await api.session.scalar(sa.select(sa.func.count()).where(Case.title == title)) or 0)


async def test_an_officer_signed_in_a_moment_ago_is_not_read_again_but_any_change_counts_at_once(
    app: FastAPI, api: Api
) -> None:
    desk, admin = await api.headers("tinh.tiepdan"), await api.headers("admin")
    officer = await api.user("tinh.tiepdan")
    sign_ins = _count_sign_ins(app)
    post = lambda title: api.http.post(f"{V1}/cases", headers=desk, json=case_body(title=title))  # noqa: E731
    assert (await post("Lần một")).status_code == 201
    first = sign_ins[0]
    assert (await post("Lần hai")).status_code == 201
    assert sign_ins[0] == first  # remembered: no read of the officer

    # Roles taken away: refused at once, nothing written.
    r = await api.http.patch(f"{V1}/users/{officer.id}", headers=admin, json={"roles": ["handler"]})
    assert r.status_code == 200
    r = await post("Không còn quyền")
    assert r.status_code == 403 and r.json()["error"]["code"] == "intake_forbidden"
    assert await _cases_titled(api, "Không còn quyền") == 0

    # Moved to another unit: the letter is the new unit's at once.
    commune = await api.user("xa.tiepdan")
    r = await api.http.patch(
        f"{V1}/users/{officer.id}", headers=admin, json={"roles": ["desk_officer"], "unit_id": commune.unit_id}
    )
    assert r.status_code == 200
    r = await api.http.post(f"{V1}/users/{officer.id}/approve", headers=await api.headers("admin2"))
    assert r.status_code == 200  # two-person grants: the role and the move take effect when a second admin approves
    for title in ("Đơn vị mới", "Đơn vị mới 2"):  # read afresh once, then remembered again
        r = await post(title)
        assert r.status_code == 201 and r.json()["receiving_unit_id"] == commune.unit_id

    # Deactivated: 401 at once, nothing written.
    assert (await api.http.post(f"{V1}/users/{officer.id}/deactivate", headers=admin)).status_code == 200
    r = await post("Đã vô hiệu")
    assert r.status_code == 401
    assert await _cases_titled(api, "Đã vô hiệu") == 0


async def test_a_calendar_change_counts_at_once_for_an_officer_remembered(api: Api) -> None:
    desk, admin = await api.headers("tinh.tiepdan"), await api.headers("admin")
    body = case_body(kind="denunciation", field="corruption", received_at=days_ago(1))
    body["parties"] = [{"role": "denouncer", "full_name": "Người tố cáo"}]
    before = (await api.http.post(f"{V1}/cases", headers=desk, json=body)).json()
    due = datetime.fromisoformat(timer(before, "acceptance")["due_date"]).date()
    extra = due - timedelta(days=1)
    while extra.weekday() >= 5:
        extra -= timedelta(days=1)
    r = await api.http.post(
        f"{V1}/calendar/overrides", headers=admin, json={"date": extra.isoformat(), "kind": "day_off", "reason": "Bão"}
    )
    assert r.status_code == 201
    after = (await api.http.post(f"{V1}/cases", headers=desk, json=body)).json()
    assert timer(after, "acceptance")["due_date"] > timer(before, "acceptance")["due_date"]


async def test_a_public_submission_takes_the_lean_path_and_answers_as_fastapi_does(api: Api) -> None:
    from tests.test_public import PUBLIC, complaint

    before = LeanLane.served
    lean = await api.http.post(PUBLIC, json=complaint(), headers={"X-Device-Id": "phone-lean"})
    assert lean.status_code == 201 and LeanLane.served == before + 1
    std = await api.http.post(
        PUBLIC,
        content=json.dumps(complaint()).encode(),
        headers={"X-Device-Id": "phone-lean", "Content-Type": "application/json; charset=utf-8"},
    )
    assert std.status_code == 201 and LeanLane.served == before + 1
    assert lean.headers["cache-control"] == std.headers["cache-control"] == "no-store"
    unique = ("tracking_code", "access_key")
    assert {k: v for k, v in lean.json().items() if k not in unique} == {
        k: v for k, v in std.json().items() if k not in unique
    }
    assert list(lean.json()) == list(std.json())
    bad = await api.http.post(PUBLIC, json=complaint(), headers={"X-Device-Id": "no spaces allowed"})
    assert bad.status_code == 422 and LeanLane.served == before + 1


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    changes=st.dictionaries(
        st.sampled_from(["kind", "field", "title", "content", "location", "contact", "consent", "x"]),
        _values,
        max_size=4,
    ),
    drop=st.sets(st.sampled_from(["kind", "field", "content", "location", "consent"]), max_size=2),
)
def test_the_lean_path_accepts_exactly_the_submissions_fastapi_accepts(changes: dict[str, Any], drop: set[str]) -> None:
    from api.models.public import SubmissionIn
    from tests.test_public import complaint

    submission = {k: v for k, v in {**complaint(), **changes}.items() if k not in drop}
    raw = json.dumps(submission)
    try:
        lean = SubmissionIn.model_validate_json(raw)
    except ValueError:
        lean = None
    try:
        standard = SubmissionIn.model_validate(json.loads(raw))
    except ValueError:
        standard = None
    assert (lean is None) == (standard is None), (submission, lean, standard)
    assert lean == standard


@pytest.mark.parametrize("path", [f"{V1}/cases", f"{V1}/public/submissions"])
async def test_a_body_too_large_sent_in_chunks_is_413_on_the_lean_routes(api: Api, path: str) -> None:
    async def chunks() -> Any:
        for _ in range(30):  # 300 kB, past MAX_BODY_BYTES (200 kB in the tests), with no Content-Length
            yield b" " * 10_000

    h = {**(await api.headers("tinh.tiepdan")), "Content-Type": "application/json"}
    r = await api.http.post(path, headers=h, content=chunks())
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
