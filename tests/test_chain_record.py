"""Issue 21, "the chain covers the record": verify-events (the full verification the command line runs) and
GET /cases/{id}/events/verify prove the case row and its parties against the chain; sealed texts that do not open
(or open to another text) are a clear integrity error and reported; checkpoints are numbered, chained and sent off
the server, and a checkpoint file finds events cut since and re-anchored cases; an "identity viewed" event is
committed only together with the read that produced it."""

import asyncio
import hashlib
import hmac
import json
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import httpx
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from api.models.cases import Case, CaseEvent, CaseParty
from api.services import checkpoints
from api.services.cases import trail
from api.vault import vault_for
from tests.conftest import SETTINGS, Api, Live
from tests.helpers import V1, act, case_body, intake, refuse_identity_reads

DENOUNCER = {
    "role": "denouncer",
    "full_name": "Sùng Thị Mỷ",
    "id_number": "015190007777",
    "phone": "0977000111",
    "address": "Bản Phố, xã Bản Phố",
}
VAULT = vault_for(SETTINGS)


async def _superuser(api: Api, sql: str, **params: object) -> None:
    """What a database superuser (or operator) can do behind the service's back, triggers bypassed."""
    await api.session.execute(sa.text("SET LOCAL ROLE NONE"))  # the test's login is a superuser
    await api.session.execute(sa.text("SET LOCAL session_replication_role = replica"))
    await api.session.execute(sa.text(sql), params)
    await api.session.execute(sa.text("SET LOCAL session_replication_role = origin"))
    await api.session.execute(sa.text(f"SET LOCAL ROLE {SETTINGS.db_app_role}"))
    api.session.expunge_all()


async def _case(api: Api) -> dict:
    accused = {"role": "accused", "full_name": "Cán bộ Z"}
    case = await intake(
        api, kind="denunciation", field="corruption", title="Tố cáo sai phạm", parties=[DENOUNCER, accused]
    )
    return await act(api, "tinh.chutich", case, "accept", decision_number="9/QĐ-TLTC", reason="Đủ điều kiện thụ lý")


async def _api_report(api: Api, case_id: int) -> dict:
    r = await api.http.get(f"{V1}/cases/{case_id}/events/verify", headers=await api.headers("tinh.chutich"))
    assert r.status_code == 200, r.text
    body: dict = r.json()
    return body


async def _full_report(api: Api, case_id: int) -> list[str]:
    """What `python -m api verify-events` reports of this case (its verification, run on the test's data)."""
    report = await checkpoints.verify_all(api.session, vault=VAULT)
    return [p.why for p in report.problems if p.case_id == case_id]


STATE_CHANGED = "differ from the state its chain recorded"
ALTERATIONS = {
    "status": "UPDATE cases SET status = 'closed' WHERE id = :id",
    "competent_unit": "UPDATE cases SET competent_unit_id = (SELECT min(id) FROM units WHERE id <> "
    "cases.competent_unit_id) WHERE id = :id",
    "version": "UPDATE cases SET version = version + 1 WHERE id = :id",
    "party_deleted": "DELETE FROM case_parties WHERE case_id = :id AND role = 'accused'",
    "accused_link_inserted": "INSERT INTO case_parties (case_id, role, full_name, officer_id) "
    "SELECT :id, 'accused', 'Cán bộ X', (SELECT id FROM users WHERE username = 'tinh.xacminh')",
    "handler_assigned": "INSERT INTO case_assignments (case_id, user_id) "
    "SELECT :id, id FROM users WHERE username = 'tinh.xacminh'",
    "accused_link_set": "UPDATE case_parties SET officer_id = (SELECT id FROM users WHERE username = 'tinh.xacminh') "
    "WHERE case_id = :id AND role = 'accused'",
    # Audit 2 #4: the receiver sees a protected identity (access.sees_identity), so the state covers it.
    "received_by": "UPDATE cases SET received_by_id = (SELECT id FROM users WHERE username = 'tinh.xacminh') "
    "WHERE id = :id",
    "protection_cleared": "UPDATE cases SET identity_protected = NOT identity_protected WHERE id = :id",
    "accused_link_marked_removed": "UPDATE case_parties SET removed_at = now() "
    "WHERE case_id = :id AND role = 'accused'",
}


@pytest.mark.parametrize("alteration", list(ALTERATIONS))
async def test_a_direct_sql_change_of_the_case_row_or_its_parties_is_found_by_both_verifications(
    api: Api, alteration: str
) -> None:
    case = await _case(api)
    report = await _api_report(api, case["id"])
    assert report["valid"] is True and report["first_tampered_seq"] is None and "problems" not in report
    assert await _full_report(api, case["id"]) == []
    # The application role itself may write these tables: no trigger is in the way, only the chain.
    await api.session.execute(sa.text(ALTERATIONS[alteration]), {"id": case["id"]})
    api.session.expunge_all()
    report = await _api_report(api, case["id"])
    assert report["valid"] is False and report["first_tampered_seq"] == 2, report  # the acceptance's state
    assert any(STATE_CHANGED in p for p in report["problems"]), report
    assert any(STATE_CHANGED in p for p in await _full_report(api, case["id"]))


async def test_a_command_on_a_case_changed_behind_the_service_is_refused_so_the_change_is_not_laundered(
    api: Api,
) -> None:
    case = await _case(api)
    await api.session.execute(sa.text(ALTERATIONS["party_deleted"]), {"id": case["id"]})
    api.session.expunge_all()
    h = {**await api.headers("tinh.chutich"), "If-Match": str(case["version"])}
    r = await api.http.post(
        f"{V1}/cases/{case['id']}/actions/assign",
        headers=h,
        json={"handler_ids": [(await api.user("tinh.xacminh")).id]},
    )
    assert r.status_code == 409 and r.json()["error"]["code"] == "record_altered", r.text
    assert any(STATE_CHANGED in p for p in await _full_report(api, case["id"]))


async def test_a_colleague_made_receiver_behind_the_service_is_found_and_refused(api: Api) -> None:
    """Audit 2 #4: `UPDATE cases SET received_by_id = <colleague>` (the application role is enough) gave that
    colleague the denouncer's identity, and neither verification noticed; the next command laundered it."""
    colleague = await api.user("tinh.xacminh")  # an officer of the unit who may not see the identity
    case = await _case(api)
    await api.session.execute(
        sa.text("UPDATE cases SET received_by_id = :u WHERE id = :id"), {"u": colleague.id, "id": case["id"]}
    )
    api.session.expunge_all()
    assert any(STATE_CHANGED in p for p in (await _api_report(api, case["id"]))["problems"])
    assert any(STATE_CHANGED in p for p in await _full_report(api, case["id"]))
    h = {**await api.headers("tinh.chutich"), "If-Match": str(case["version"])}
    r = await api.http.post(f"{V1}/cases/{case['id']}/actions/assign", headers=h, json={"handler_ids": [colleague.id]})
    assert r.status_code == 409 and r.json()["error"]["code"] == "record_altered", r.text


async def test_a_removed_accused_link_cleared_or_deleted_behind_the_service_is_found(api: Api) -> None:
    """The removal of an accused link is in the state: the officer once named stays excluded only while the kept
    link stays, so clearing its mark or deleting the row is found."""
    officer = await api.user("tinh.xacminh")
    case = await intake(
        api,
        kind="denunciation",
        field="corruption",
        title="Tố cáo sai phạm",
        parties=[DENOUNCER, {"role": "accused", "full_name": "Cán bộ Z", "officer_id": officer.id}],
    )
    party_id = next(p["id"] for p in case["parties"] if p["role"] == "accused")
    h = {**await api.headers("tinh.chutich"), "If-Match": str(case["version"])}
    body = {"reason": "Ghi nhầm người bị tố cáo"}
    r = await api.http.request("DELETE", f"{V1}/cases/{case['id']}/accused/{party_id}", headers=h, json=body)
    assert r.status_code == 200, r.text
    assert (await _api_report(api, case["id"]))["valid"] is True and await _full_report(api, case["id"]) == []
    for sql in (
        "UPDATE case_parties SET removed_at = NULL WHERE case_id = :id AND role = 'accused'",
        "DELETE FROM case_parties WHERE case_id = :id AND role = 'accused'",
    ):
        await api.session.execute(sa.text("SAVEPOINT tamper"))
        await api.session.execute(sa.text(sql), {"id": case["id"]})
        api.session.expunge_all()
        assert any(STATE_CHANGED in p for p in (await _api_report(api, case["id"]))["problems"]), sql
        assert any(STATE_CHANGED in p for p in await _full_report(api, case["id"])), sql
        await api.session.execute(sa.text("ROLLBACK TO SAVEPOINT tamper"))
        api.session.expunge_all()


def _v1_state(case: object, parties: list[object], handlers: list[int]) -> str:
    """The state digest as version 1 computed it (before audit 2), recorded by events already written."""
    fields = ("role", "full_name", "id_number", "phone", "address", "sealed", "id_number_hash", "officer_id")
    rows = sorted(
        json.dumps([getattr(p, f) for f in fields], ensure_ascii=False, separators=(",", ":")) for p in parties
    )
    body: dict[str, object] = {
        f: getattr(case, f) for f in ("kind", "status", "version", "outcome", "competent_unit_id", "receiving_unit_id")
    }
    if getattr(case, "identity_protected", False):
        body["identity_protected"] = True
    body["parties"] = rows
    body["handlers"] = sorted(set(handlers))
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hmac.new(trail.chain_key(), b"state:" + canonical.encode(), hashlib.sha256).hexdigest()


async def test_states_recorded_by_the_first_version_still_verify_and_new_ones_are_versioned(api: Api) -> None:
    case = await _case(api)
    row = await api.session.get_one(Case, case["id"])
    parties = list((await api.session.scalars(sa.select(CaseParty).where(CaseParty.case_id == row.id))).all())
    recorded = (await api.session.scalars(sa.select(CaseEvent).where(CaseEvent.case_id == row.id))).all()
    assert all(str(e.payload[trail.STATE_KEY]).startswith("v2:") for e in recorded if trail.STATE_KEY in e.payload)
    old = _v1_state(row, parties, [])
    assert trail.state_matches(old, row, parties)
    assert trail.state_matches(trail.state_digest(row, parties), row, parties)
    # Version 1 did not cover the receiver; version 2 does (and an unknown version never matches).
    row.received_by_id = (await api.user("tinh.xacminh")).id
    assert trail.state_matches(_v1_state(row, parties, []), row, parties)
    assert not trail.state_matches(trail.state_digest(row, parties).replace("v2:", "v2:0", 1), row, parties)
    assert not trail.state_matches("v9:" + old, row, parties)
    api.session.expunge_all()


async def test_every_step_records_the_state_and_a_transferred_case_starts_with_its_own(api: Api) -> None:
    case = await intake(api)
    target = await api.session.scalar(
        sa.text("SELECT min(id) FROM units WHERE is_active AND id <> :u"), {"u": case["receiving_unit_id"]}
    )
    moved = await act(api, "tinh.tiepdan", case, "transfer", to_unit_id=target, reason="Không thuộc thẩm quyền")
    events = (
        await api.session.scalars(sa.select(CaseEvent).where(CaseEvent.case_id == moved["id"]).order_by(CaseEvent.seq))
    ).all()
    assert all(trail.STATE_KEY in e.payload for e in events)
    new_case = events[-1].payload["new_case_id"]
    assert await _full_report(api, moved["id"]) == [] and await _full_report(api, new_case) == []
    # The state is internal: the events as served do not show it.
    served = (await api.http.get(f"{V1}/cases/{case['id']}/events", headers=await api.headers("tinh.tiepdan"))).json()
    assert all(trail.STATE_KEY not in e["payload"] for e in served["items"])


async def test_a_sealed_identity_that_does_not_open_is_a_clear_integrity_error_and_reported(api: Api) -> None:
    case = await _case(api)
    token = await api.session.scalar(
        sa.text("SELECT sealed FROM case_parties WHERE case_id = :id AND role = 'denouncer'"), {"id": case["id"]}
    )
    broken = token[:-8] + ("A" if token[-8] != "A" else "B") + token[-7:]
    await api.session.execute(
        sa.text("UPDATE case_parties SET sealed = :s WHERE case_id = :id AND role = 'denouncer'"),
        {"s": broken, "id": case["id"]},
    )
    api.session.expunge_all()
    reads_before = await _identity_reads(api, case["id"])
    r = await api.http.get(f"{V1}/cases/{case['id']}", headers=await api.headers("tinh.chutich"))
    # The party row is not what the chain recorded: refused before anything is opened (never a 500).
    assert r.status_code == 409 and r.json()["error"]["code"] == "record_altered", r.text
    assert await _identity_reads(api, case["id"]) == reads_before  # nothing read, nothing recorded
    problems = await _full_report(api, case["id"])
    assert any("sealed identity does not open" in p for p in problems), problems
    assert any(STATE_CHANGED in p for p in problems), problems
    report = await _api_report(api, case["id"])
    assert report["valid"] is False and any("sealed identity" in p for p in report["problems"])


async def test_a_sealed_title_and_content_that_do_not_open_are_reported(api: Api) -> None:
    case = await _case(api)
    await api.session.execute(
        sa.text("UPDATE cases SET sealed_text = overlay(sealed_text placing 'AAAA' from 40) WHERE id = :id"),
        {"id": case["id"]},
    )
    api.session.expunge_all()
    assert "sealed title and content does not open with the configured keys" in await _full_report(api, case["id"])
    report = await _api_report(api, case["id"])
    assert (
        report["valid"] is False
        and "sealed title and content does not open with the configured keys" in (report["problems"])
    )


async def test_a_sealed_identity_swapped_for_another_cases_is_not_shown_and_is_reported(api: Api) -> None:
    case, other = await _case(api), await _case(api)
    await api.session.execute(
        sa.text(
            "UPDATE case_parties SET sealed = (SELECT sealed FROM case_parties WHERE case_id = :other "
            "AND role = 'denouncer') WHERE case_id = :id AND role = 'denouncer'"
        ),
        {"id": case["id"], "other": other["id"]},
    )
    api.session.expunge_all()
    before = await _identity_reads(api, case["id"])
    r = await api.http.get(f"{V1}/cases/{case['id']}", headers=await api.headers("tinh.chutich"))
    assert r.status_code == 409 and r.json()["error"]["code"] == "record_altered", r.text
    assert await _identity_reads(api, case["id"]) == before
    assert any(STATE_CHANGED in p for p in await _full_report(api, case["id"]))


async def test_a_sealed_text_swapped_for_another_under_the_same_keys_is_found_when_opened(api: Api) -> None:
    case = await _case(api)  # the acceptance's reason is sealed (a denunciation's free text)
    swapped = VAULT.seal({"reason": "Một lý do khác"})
    await _superuser(
        api,
        "UPDATE case_events SET sealed = :s WHERE case_id = :id AND seq = 2",
        s=swapped,
        id=case["id"],
    )
    r = await api.http.get(f"{V1}/cases/{case['id']}/events", headers=await api.headers("tinh.chutich"))
    assert r.status_code == 409 and r.json()["error"]["code"] == "sealed_data_invalid", r.text
    problems = await _full_report(api, case["id"])
    assert any("event 2: sealed text opens to another text" in p for p in problems), problems
    # A token altered (Fernet authenticates it): it does not open — the same clear error, never a 500.
    altered = swapped[:-6] + "AAAAAA"
    sql = "UPDATE case_events SET sealed = :s WHERE case_id = :id AND seq = 2"
    await _superuser(api, sql, s=altered, id=case["id"])
    r = await api.http.get(f"{V1}/cases/{case['id']}/events", headers=await api.headers("tinh.chutich"))
    assert r.status_code == 409 and r.json()["error"]["code"] == "sealed_data_invalid", r.text
    problems = await _full_report(api, case["id"])
    assert any("event 2: sealed text does not open with the configured keys" in p for p in problems), problems


async def _identity_reads(api: Api, case_id: int) -> int:
    count = await api.session.scalar(
        sa.select(sa.func.count()).where(CaseEvent.case_id == case_id, CaseEvent.action == "identity_viewed")
    )
    return int(count or 0)


async def test_identity_viewed_is_committed_only_with_the_read(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    case = await _case(api)
    h = await api.headers("tinh.chutich")
    before = await _identity_reads(api, case["id"])
    # The response fails after the identity was opened: no event.
    from api.services.cases import presenters

    real = presenters.case_out

    def failing(*args: object, **kwargs: object) -> object:
        real(*args, **kwargs)  # type: ignore[arg-type]
        raise RuntimeError("the response could not be built")

    monkeypatch.setattr(presenters, "case_out", failing)
    r = await api.http.get(f"{V1}/cases/{case['id']}", headers=h)
    assert r.status_code == 500
    monkeypatch.setattr(presenters, "case_out", real)
    api.session.expunge_all()
    assert await _identity_reads(api, case["id"]) == before
    # The event cannot be written: the identity is not returned.
    for url in (f"{V1}/cases/{case['id']}", f"{V1}/cases/{case['id']}/events"):
        await refuse_identity_reads(api)
        r = await api.http.get(url, headers=h)
        assert r.status_code >= 500, r.text
        assert DENOUNCER["full_name"] not in r.text and DENOUNCER["id_number"] not in r.text
        assert "Đủ điều kiện thụ lý" not in r.text  # the sealed reason of the acceptance
        await api.session.rollback()  # the failed request's savepoint, trigger and all
        api.session.expunge_all()
        assert await _identity_reads(api, case["id"]) == before
    # And a read that succeeds is recorded.
    r = await api.http.get(f"{V1}/cases/{case['id']}", headers=h)
    assert r.status_code == 200 and DENOUNCER["full_name"] in r.text
    assert await _identity_reads(api, case["id"]) == before + 1


# Checkpoints


async def _checkpoint_problems(api: Api) -> list[tuple[int | None, str]]:
    return [(p.checkpoint, p.why) for p in await checkpoints.verify_checkpoints(api.session)]


async def test_checkpoints_are_numbered_chained_and_a_deleted_or_altered_one_is_found(api: Api) -> None:
    await _case(api)
    made = [await checkpoints.make(api.session) for _ in range(4)]
    assert [m.seq for m in made] == [made[0].seq + i for i in range(4)]
    assert made[1].prev_signature == made[0].signature
    assert await _checkpoint_problems(api) == []
    await _superuser(api, "DELETE FROM chain_checkpoints WHERE seq = :s", s=made[1].seq)
    problems = await _checkpoint_problems(api)
    assert (made[2].seq, f"checkpoint {made[1].seq} missing (deleted)") in problems
    assert (made[2].seq, "does not chain to the checkpoint before it (deleted or altered)") in problems
    await _superuser(api, "UPDATE chain_checkpoints SET events = events - 1 WHERE seq = :s", s=made[3].seq)
    problems = await _checkpoint_problems(api)
    assert (made[3].seq, "signature does not hold (altered, or not this chain key)") in problems


async def test_a_checkpoint_file_finds_events_cut_since_and_a_case_re_anchored_without_the_key(
    api: Api, tmp_path: Path
) -> None:
    cut, rewritten = await _case(api), await _case(api)
    path = tmp_path / "checkpoints.txt"
    settings = SETTINGS.model_copy(update={"checkpoint_file": path})
    async with httpx.AsyncClient() as client:
        first = await checkpoints.make_record(api.session)
        assert first is not None
        assert await checkpoints.ship(settings, first[0], first[1], client) == []
        second = await checkpoints.make_record(api.session)
        assert second is not None
        await checkpoints.ship(settings, second[0], second[1], client)
    read = checkpoints.read_file(path)
    assert [h["seq"] for h in read.headers] == [first[0].seq, second[0].seq]
    report = await checkpoints.verify_all(api.session, read.heads, vault=VAULT, file_headers=read.headers)
    assert report.valid, report.problems
    # One case cut back to its first event and re-anchored there (the per-case anchor then holds) ...
    await _superuser(api, "DELETE FROM case_events WHERE case_id = :id AND seq > 1", id=cut["id"])
    await _superuser(
        api,
        "UPDATE cases SET event_count = 1, event_head = (SELECT hash FROM case_events WHERE case_id = :id AND seq = 1),"
        " version = 1, status = 'received' WHERE id = :id",
        id=cut["id"],
    )
    # ... another one's last event replaced by one hashed without the key and re-anchored on it.
    await _superuser(
        api,
        "UPDATE case_events SET reason = 'khác', hash = repeat('a', 64) WHERE case_id = :id AND seq = :n",
        id=rewritten["id"],
        n=read.heads[rewritten["id"]][0],
    )
    await _superuser(api, "UPDATE cases SET event_head = repeat('a', 64) WHERE id = :id", id=rewritten["id"])
    report = await checkpoints.verify_all(api.session, read.heads, vault=VAULT, file_headers=read.headers)
    found = {(p.case_id, p.why) for p in report.problems}
    signed = read.heads[cut["id"]][0]
    assert (cut["id"], f"the chain is shorter than the checkpoint says ({signed} events)") in found
    assert (rewritten["id"], "its event at the checkpoint is no longer the one signed") in found
    # The newest checkpoints deleted from the database are found against the file.
    await _superuser(api, "DELETE FROM chain_checkpoints WHERE seq = :s", s=second[0].seq)
    report = await checkpoints.verify_all(api.session, read.heads, vault=VAULT, file_headers=read.headers)
    assert (second[0].seq, "in the checkpoint file but no longer in the database") in {
        (p.checkpoint, p.why) for p in report.problems
    }


async def test_the_scheduled_checkpoint_is_posted_off_the_server_to_a_checked_address(api: Api, tmp_path: Path) -> None:
    await _case(api)
    received: list[httpx.Request] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(204)

    settings = SETTINGS.model_copy(
        update={"checkpoint_webhook_url": "https://checkpoints.example.net/in", "webhook_allow_private": True}
    )
    async with httpx.AsyncClient(transport=httpx.MockTransport(receiver)) as client:
        made = await checkpoints.make_scheduled(api.session, settings, client)
        assert made is not None
        assert await checkpoints.make_scheduled(api.session, settings, client) is None  # not due again yet
        assert len(received) == 1
        body = received[0].content.decode()
        assert received[0].headers[checkpoints.SIGNATURE_HEADER] == made.signature
        path = tmp_path / "posted.txt"
        path.write_text(body)
        assert checkpoints.read_checkpoint(path)[0]["seq"] == made.seq
        # A loopback address is refused, as for webhooks, unless private addresses are allowed.
        strict = settings.model_copy(
            update={"webhook_allow_private": False, "checkpoint_webhook_url": "http://127.0.0.1:9/in"}
        )
        failed = await checkpoints.ship(strict, made, body, client)
        assert failed == ["CHECKPOINT_WEBHOOK_URL: address_not_public"] and len(received) == 1


# The command line, run as an operator runs it (last in this module: it alters the shared live database).


async def _sql(url: str, *statements: str) -> None:
    """As the database's superuser, the append-only triggers bypassed."""
    dsn, _, query = url.replace("postgresql+asyncpg://", "postgresql://").partition("?")
    conn = await asyncpg.connect(dsn, **({"host": query.split("host=", 1)[1]} if "host=" in query else {}))
    try:
        async with conn.transaction():
            await conn.execute("SET LOCAL session_replication_role = replica")
            for statement in statements:
                await conn.execute(statement)
    finally:
        await conn.close()


def _run_with(url: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    from tests.test_cli import ROOT

    env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING", **env}
    return subprocess.run(  # noqa: S603 - this interpreter, our own command line
        [sys.executable, "-m", "api", *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120
    )


async def test_verify_events_on_the_command_line_finds_an_altered_case_and_a_cut_chain(
    live: Live, tmp_path: Path
) -> None:
    keys = {"SECRET_KEY": SETTINGS.secret_key or "", "IDENTITY_KEYS": SETTINGS.identity_keys or ""}
    headers = await live.headers("tinh.tiepdan")
    made = [(await live.http.post(f"{V1}/cases", headers=headers, json=case_body())).json() for _ in range(2)]
    path = tmp_path / "heads.txt"
    done = await asyncio.to_thread(_run_with, live.url, keys, "checkpoint", "--out", str(path))
    assert done.returncode == 0, done.stderr
    verified = await asyncio.to_thread(_run_with, live.url, keys, "verify-events", "--checkpoint", str(path))
    assert verified.returncode == 0 and verified.stdout.strip().endswith(": valid"), verified.stdout
    altered, cut = made[0]["id"], made[1]["id"]
    await _sql(live.url, f"UPDATE cases SET status = 'closed' WHERE id = {altered}")  # noqa: S608
    verified = await asyncio.to_thread(_run_with, live.url, keys, "verify-events")
    assert verified.returncode == 1 and f"case {altered}: the case row or its parties" in verified.stdout
    assert "NOT VALID" in verified.stdout
    # A chain cut back to nothing and its anchor emptied by hand: only the checkpoint file sees it.
    await _sql(
        live.url,
        f"DELETE FROM case_events WHERE case_id = {cut}",  # noqa: S608
        f"UPDATE cases SET event_count = 0, event_head = NULL WHERE id = {cut}",  # noqa: S608
    )
    verified = await asyncio.to_thread(_run_with, live.url, keys, "verify-events", "--checkpoint", str(path))
    assert verified.returncode == 1
    assert f"case {cut}: the chain is shorter than the checkpoint says (1 events)" in verified.stdout
    # Other keys than the data's: refused, naming the key, instead of reporting every chain as tampered.
    other = {**keys, "IDENTITY_KEYS": Fernet.generate_key().decode()}
    wrong = await asyncio.to_thread(_run_with, live.url, other, "verify-events")
    assert wrong.returncode == 2 and "IDENTITY_KEYS" in wrong.stderr and other["IDENTITY_KEYS"] not in wrong.stderr


async def test_a_register_entrys_identity_read_is_recorded_only_with_the_read(api: Api) -> None:
    from datetime import timedelta

    from api.models.audit import AuditEvent
    from tests.helpers import TODAY
    from tests.test_reception import OTHER_ID, add_entry, new_session

    sess = await new_session(api, TODAY - timedelta(days=1))
    r = await add_entry(
        api,
        sess,
        kind="denunciation",
        persons=[{"full_name": "Giàng Seo Phử", "address": "Bản Phố", "id_number": OTHER_ID}],
        content="Tố cáo cán bộ nhận tiền.",
        handling="within_competence",
    )
    assert r.status_code == 201, r.text
    entry = r.json()

    async def reads() -> int:
        api.session.expunge_all()
        return int(
            await api.session.scalar(
                sa.select(sa.func.count()).where(
                    AuditEvent.entity == "reception_entry",
                    AuditEvent.entity_id == str(entry["id"]),
                    AuditEvent.action == "identity_viewed",
                )
            )
            or 0
        )

    url, head = f"{V1}/reception-sessions/entries/{entry['id']}", await api.headers("xa.chutich")
    token = await api.session.scalar(sa.text("SELECT sealed FROM reception_entries WHERE id = :i"), {"i": entry["id"]})
    await api.session.execute(
        sa.text("UPDATE reception_entries SET sealed = :s WHERE id = :i"),
        {"s": token[:-6] + "AAAAAA", "i": entry["id"]},
    )
    r = await api.http.get(url, headers=head)
    assert r.status_code == 409 and r.json()["error"]["code"] == "sealed_data_invalid", r.text
    assert await reads() == 0  # the read failed: nothing recorded
    await api.session.execute(
        sa.text("UPDATE reception_entries SET sealed = :s WHERE id = :i"), {"s": token, "i": entry["id"]}
    )
    r = await api.http.get(url, headers=head)
    assert r.status_code == 200 and "Giàng Seo Phử" in r.text
    assert await reads() == 1
