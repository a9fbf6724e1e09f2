"""The reception register follows its case's read rules (issue 21, H2): an officer named as accused does not find
the entry, a handler reads only the entries of cases assigned to them, a denunciation's (or a visitor's who asked
for protection) persons and content are sealed at rest and masked like the case's parties, and reading them is
audited."""

import json
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from api.models.audit import AuditEvent
from api.models.unit import Unit
from api.models.user import User
from tests.conftest import Api
from tests.helpers import TODAY, V1, act, days_ago
from tests.test_reception import add_entry, new_session

NAME = "Lò Văn Khuổi"
ID_NUMBER = "015187003344"
WORD = "bòn-rút-quỹ-nương"  # a distinctive word of the denunciation
CONTENT = f"Tố cáo cán bộ xác minh xã {WORD} của bản Tả Van."
MASK = "(được giữ bí mật)"


async def _officer(api: Api, username: str, roles: list[str], unit_code: str = "04465") -> User:
    unit = await api.session.scalar(sa.select(Unit.id).where(Unit.code == unit_code))
    user = User(username=username, password_hash="!", full_name=username, unit_id=unit, roles=roles, is_active=True)
    api.session.add(user)
    await api.session.flush()
    return user


def _denunciation_entry(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "denunciation",
        "persons": [{"full_name": NAME, "address": "Bản Tả Van", "id_number": ID_NUMBER}],
        "content": CONTENT,
        "handling": "within_competence",
    }
    body.update(overrides)
    return body


async def _entry(api: Api, user: str, entry_id: int) -> Any:
    return await api.http.get(f"{V1}/reception-sessions/entries/{entry_id}", headers=await api.headers(user))


async def _listed(api: Api, user: str) -> list[int]:
    r = await api.http.get(f"{V1}/reception-sessions/entries?limit=200", headers=await api.headers(user))
    assert r.status_code == 200, r.text
    return [e["id"] for e in r.json()["items"]]


def _leaks(text: str) -> bool:
    return any(s in text for s in (NAME, ID_NUMBER, WORD))


async def test_an_accused_officer_does_not_find_the_entry_of_the_denunciation_against_him(api: Api) -> None:
    accused_desk = await _officer(api, "xa.tiepdan2", ["desk_officer"])
    handler = await api.user("xa.xacminh")
    body = {
        "kind": "denunciation",
        "field": "corruption",
        "channel": "reception_session",
        "title": "Tố cáo cán bộ xã",
        "content": CONTENT,
        "received_at": days_ago(1),
        "parties": [
            {"role": "denouncer", "full_name": NAME, "id_number": ID_NUMBER},
            {"role": "accused", "full_name": "xa.xacminh", "officer_id": handler.id},
            {"role": "accused", "full_name": "xa.tiepdan2", "officer_id": accused_desk.id},
        ],
    }
    r = await api.http.post(f"{V1}/cases", headers=await api.headers("xa.tiepdan"), json=body)
    assert r.status_code == 201, r.text
    sess = await new_session(api, TODAY - timedelta(days=1))
    r = await add_entry(api, sess, **_denunciation_entry(case_id=r.json()["id"]))
    assert r.status_code == 201, r.text
    entry_id = r.json()["id"]
    for accused in ("xa.xacminh", "xa.tiepdan2"):
        seen = await _entry(api, accused, entry_id)
        assert seen.status_code == 404 and seen.json()["error"]["code"] == "entry_not_found", accused
        assert entry_id not in await _listed(api, accused), accused
    # The unit's other readers still find it.
    assert (await _entry(api, "xa.chutich", entry_id)).status_code == 200
    assert (await _entry(api, "thanhtra", entry_id)).status_code == 200


async def test_a_handler_reads_only_the_entries_of_cases_assigned_to_them_and_never_the_denouncer(api: Api) -> None:
    await _officer(api, "xa.xacminh2", ["handler"])
    sess = await new_session(api, TODAY - timedelta(days=1))
    r = await add_entry(
        api, sess, **_denunciation_entry(create_case={"title": "Tố cáo cán bộ xã", "field": "corruption"})
    )
    assert r.status_code == 201, r.text
    entry = r.json()
    case = (await api.http.get(f"{V1}/cases/{entry['case_id']}", headers=await api.headers("xa.chutich"))).json()
    case = await act(api, "xa.chutich", case, "accept", decision_number="3/QĐ-TLTC")
    await act(api, "xa.chutich", case, "assign", handler_ids=[(await api.user("xa.xacminh")).id])
    plain = await add_entry(api, sess, handling="explained")  # a complaint explained on the spot: no case
    assert plain.status_code == 201
    # A handler of the unit not assigned: no entry at all.
    for entry_id in (entry["id"], plain.json()["id"]):
        assert (await _entry(api, "xa.xacminh2", entry_id)).status_code == 404
        assert entry_id not in await _listed(api, "xa.xacminh2")
    # The assigned handler finds the entry of their case, with the denouncer and what they said masked.
    seen = await _entry(api, "xa.xacminh", entry["id"])
    assert seen.status_code == 200, seen.text
    assert seen.json()["persons"][0]["full_name"] == MASK and seen.json()["content"] == MASK
    assert not _leaks(seen.text)
    assert (await _entry(api, "xa.xacminh", plain.json()["id"])).status_code == 404
    listed = await api.http.get(f"{V1}/reception-sessions/entries", headers=await api.headers("xa.xacminh"))
    assert [e["id"] for e in listed.json()["items"]] == [entry["id"]] and not _leaks(listed.text)
    # The head of the unit reads all of it, and that read is audited.
    head = await _entry(api, "xa.chutich", entry["id"])
    assert head.json()["persons"][0]["full_name"] == NAME and head.json()["content"] == CONTENT


async def test_a_visitor_who_asked_for_protection_is_sealed_and_masked_whatever_the_kind(api: Api) -> None:
    await _officer(api, "xa.tiepdan2", ["desk_officer"])
    sess = await new_session(api, TODAY - timedelta(days=1))
    r = await add_entry(
        api,
        sess,
        kind="complaint",
        persons=[{"full_name": NAME, "id_number": ID_NUMBER}],
        content=CONTENT,
        identity_protection_requested=True,
    )
    assert r.status_code == 201, r.text
    entry = r.json()
    assert entry["sealed"] is True and entry["persons"][0]["full_name"] == NAME  # the writer typed it
    other_desk = await _entry(api, "xa.tiepdan2", entry["id"])
    assert other_desk.status_code == 200 and not _leaks(other_desk.text)
    assert other_desk.json()["content"] == MASK
    head = await _entry(api, "xa.chutich", entry["id"])
    assert head.json()["persons"][0]["full_name"] == NAME and head.json()["content"] == CONTENT
    reads = await api.session.scalar(
        sa.select(sa.func.count()).where(
            AuditEvent.entity == "reception_entry",
            AuditEvent.entity_id == str(entry["id"]),
            AuditEvent.action == "identity_viewed",
            AuditEvent.actor_id == (await api.user("xa.chutich")).id,
        )
    )
    assert reads == 1


async def test_the_register_table_holds_no_denouncer_name_or_content_word(api: Api) -> None:
    sess = await new_session(api, TODAY - timedelta(days=1))
    r = await add_entry(
        api,
        sess,
        **_denunciation_entry(
            notes=f"Ông {NAME} xin giữ bí mật",
            follow_up=f"Hẹn ông {NAME} tuần sau",
            create_case={"title": "Tố cáo cán bộ xã", "field": "corruption"},
        ),
    )
    assert r.status_code == 201, r.text
    r = await add_entry(
        api, sess, kind="petition", persons=[{"full_name": NAME}], content=CONTENT, identity_protection_requested=True
    )
    assert r.status_code == 201, r.text
    await api.session.flush()
    for needle in (NAME, ID_NUMBER, WORD, "Khuổi"):
        found = await api.session.scalar(
            sa.text("SELECT count(*) FROM reception_entries e WHERE CAST(e AS text) ILIKE :n"), {"n": f"%{needle}%"}
        )
        assert found == 0, needle
    # The register's listing, filtered by kind, shows none of it to a reader who may not see the denouncer.
    listed = await api.http.get(
        f"{V1}/reception-sessions/entries?kind=denunciation", headers=await api.headers("thanhtra")
    )
    assert listed.status_code == 200 and listed.json()["items"] and not _leaks(listed.text)


def test_revision_0020_seals_existing_register_lines_and_downgrade_restores_them(pg_server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from alembic import command
    from api.vault import Vault
    from tests.conftest import SETTINGS
    from tests.test_migrations import _config, _sql, _unit_and_desk_officer

    monkeypatch.setenv("IDENTITY_KEYS", SETTINGS.identity_keys or "")
    vault = Vault(tuple(SETTINGS.identity_key_list()))
    name = pg_server.create_database("tiepdan_register_seal")
    url = pg_server.url(name)

    def sql(statement: str) -> list:  # type: ignore[type-arg]
        return _sql(url, statement)

    try:
        config = _config(url)
        command.upgrade(config, "0019")
        _unit_and_desk_officer(sql)
        sql(
            "INSERT INTO reception_sessions (unit_id, kind, mode, in_person, status, starts_at, ends_at, day, "
            "created_by_id) VALUES (1, 'periodic', 'direct', true, 'held', '2026-11-02 08:00+07', "
            "'2026-11-02 11:00+07', '2026-11-02', 1)"
        )
        # As revision 0013 wrote a denunciation: persons sealed, content in clear; and a protected complaint, all clear.
        sealed = vault.seal({"persons": [{"full_name": NAME}], "representatives": [], "notes": None})
        persons = json.dumps([{"full_name": NAME, "id_number": ID_NUMBER}], ensure_ascii=False)
        sql(
            "INSERT INTO reception_entries (session_id, unit_id, year, serial, received_on, kind, content, persons, "  # noqa: S608
            "sealed, people_count, is_group, identity_protection_requested, handling, visit, created_by_id) VALUES "
            f"(1, 1, 2026, 1, '2026-11-02', 'denunciation', '{CONTENT}', '[{{}}]', '{sealed}', 1, false, false, "
            "'explained', 'first', 1), "
            f"(1, 1, 2026, 2, '2026-11-02', 'complaint', '{CONTENT}', '{persons}', NULL, 1, false, true, "
            "'explained', 'first', 1), "
            "(1, 1, 2026, 3, '2026-11-02', 'complaint', 'Khiếu nại thường', '[{\"full_name\": \"A\"}]', NULL, 1, "
            "false, false, 'explained', 'first', 1)"
        )
        command.upgrade(config, "0020")
        rows = sql("SELECT serial, content, persons::text, sealed FROM reception_entries ORDER BY serial")
        assert [r.content for r in rows] == ["", "", "Khiếu nại thường"]
        assert vault.open(rows[0].sealed) == {
            "persons": [{"full_name": NAME}],
            "representatives": [],
            "notes": None,
            "content": CONTENT,
        }
        opened = vault.open(rows[1].sealed)
        assert opened["persons"] == [{"full_name": NAME, "id_number": ID_NUMBER}] and opened["content"] == CONTENT
        assert NAME not in rows[1].persons and rows[2].sealed is None
        leaked = sql(f"SELECT count(*) FROM reception_entries e WHERE CAST(e AS text) LIKE '%{WORD}%'")  # noqa: S608
        assert leaked[0][0] == 0
        command.upgrade(config, "0020")  # once sealed, nothing is sealed twice
        command.downgrade(config, "0019")
        rows = sql("SELECT content, persons::text, sealed FROM reception_entries ORDER BY serial")
        assert [r.content for r in rows] == [CONTENT, CONTENT, "Khiếu nại thường"]
        assert rows[0].sealed is not None and NAME in rows[1].persons and rows[1].sealed is None
    finally:
        pg_server.drop_database(name)


# ---- the case a protected visitor's entry opens is protected too (issue 21, F2) ----

PROTECTED_TITLE = f"Khiếu nại {WORD}"


async def _protected_visitor_case(api: Api) -> tuple[dict[str, Any], dict[str, Any]]:
    """A complaint received at the commune's desk from a visitor who asked for identity protection, opening a case."""
    sess = await new_session(api, TODAY - timedelta(days=1))
    r = await add_entry(
        api,
        sess,
        kind="complaint",
        persons=[{"full_name": NAME, "address": "Bản Tả Van", "id_number": ID_NUMBER}],
        content=CONTENT,
        handling="within_competence",
        identity_protection_requested=True,
        create_case={"title": PROTECTED_TITLE, "field": "land"},
    )
    assert r.status_code == 201, r.text
    entry = r.json()
    case = (await api.http.get(f"{V1}/cases/{entry['case_id']}", headers=await api.headers("xa.chutich"))).json()
    return entry, case


async def _row_leaks(api: Api, table: str, column: str, case_id: int) -> list[str]:
    await api.session.flush()
    found = []
    for needle in (NAME, ID_NUMBER, WORD, "Khuổi"):
        n = await api.session.scalar(
            sa.text(f"SELECT count(*) FROM {table} t WHERE t.{column} = :id AND CAST(t AS text) ILIKE :n"),  # noqa: S608
            {"id": case_id, "n": f"%{needle}%"},
        )
        if n:
            found.append(needle)
    return found


async def test_the_case_opened_for_a_visitor_who_asked_for_protection_is_protected_like_a_denunciation(
    api: Api,
) -> None:
    await _officer(api, "xa.tiepdan2", ["desk_officer"])
    entry, case = await _protected_visitor_case(api)
    case_id = entry["case_id"]
    assert case["identity_protected"] is True and case["kind"] == "complaint"
    # The head of the unit holding it sees the visitor (an audited read); the title is the one typed.
    assert case["parties"][0]["full_name"] == NAME and case["title"] == PROTECTED_TITLE
    # Nobody else who reads it learns who came: the inspectorate, the head above, another desk officer.
    for reader in ("thanhtra", "tinh.chutich", "xa.tiepdan2"):
        seen = await api.http.get(f"{V1}/cases/{case_id}", headers=await api.headers(reader))
        assert seen.status_code == 200, reader
        party = seen.json()["parties"][0]
        assert party["full_name"] == MASK and party["masked"] is True, reader
        assert NAME not in seen.text and ID_NUMBER not in seen.text, reader
    # At rest: the parties sealed, the title and content sealed (found by their words through the keyed index).
    assert await _row_leaks(api, "cases", "id", case_id) == []
    assert await _row_leaks(api, "case_parties", "case_id", case_id) == []
    found = await api.http.get(f"{V1}/cases", params={"q": WORD}, headers=await api.headers("thanhtra"))
    assert case_id in [c["id"] for c in found.json()["items"]]
    # The reasons of its steps are sealed like a denunciation's: shown to the head, masked for the inspectorate.
    accepted = await act(api, "xa.chutich", case, "accept", reason=f"Ông {NAME} đủ điều kiện")
    events = await api.http.get(f"{V1}/cases/{case_id}/events", headers=await api.headers("thanhtra"))
    assert events.status_code == 200 and NAME not in events.text
    assert await _row_leaks(api, "case_events", "case_id", case_id) == []
    assert accepted["identity_protected"] is True


async def test_desk_intake_takes_a_protection_request_and_a_transfer_keeps_it(api: Api) -> None:
    body = {
        "kind": "petition",
        "field": "land",
        "channel": "in_person",
        "title": PROTECTED_TITLE,
        "content": CONTENT,
        "received_at": days_ago(2),
        "identity_protection_requested": True,
        "parties": [
            {"role": "petitioner", "full_name": NAME, "id_number": ID_NUMBER, "phone": "0912000111"},
            {"role": "respondent", "full_name": "UBND xã Khao Mang"},
        ],
    }
    r = await api.http.post(f"{V1}/cases", headers=await api.headers("xa.tiepdan"), json=body)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["identity_protected"] is True and made["parties"][0]["full_name"] == NAME  # the one who typed it
    seen = await api.http.get(f"{V1}/cases/{made['id']}", headers=await api.headers("thanhtra"))
    parties = {p["role"]: p for p in seen.json()["parties"]}
    assert parties["petitioner"]["full_name"] == MASK and parties["respondent"]["full_name"] == "UBND xã Khao Mang"
    assert await _row_leaks(api, "cases", "id", made["id"]) == []
    assert await _row_leaks(api, "case_parties", "case_id", made["id"]) == []
    # Transferred to the province: the new case is protected too, its new holder's head reads the visitor.
    province = await api.session.scalar(sa.select(Unit.id).where(Unit.code == "15"))
    moved = await act(api, "xa.tiepdan", made, "transfer", to_unit_id=province, reason=f"Chuyển, ông {NAME}")
    copy_id = moved["transferred_to_case_id"]
    for reader in ("thanhtra", "tinh.tiepdan"):
        copy = await api.http.get(f"{V1}/cases/{copy_id}", headers=await api.headers(reader))
        assert copy.json()["identity_protected"] is True and NAME not in copy.text, reader
    head = await api.http.get(f"{V1}/cases/{copy_id}", headers=await api.headers("tinh.chutich"))
    assert head.json()["parties"][0]["full_name"] == NAME
    assert await _row_leaks(api, "cases", "id", copy_id) == []
    assert await _row_leaks(api, "case_events", "case_id", made["id"]) == []


async def test_protection_asked_for_in_the_first_round_follows_the_complaint_into_its_second(api: Api) -> None:
    """Audit 2 #7: the second round (same complainant, previous_case_id the protected first round) showed the
    complainant to the inspectorate, the handler and the heads above."""
    party = [
        {"role": "complainant", "full_name": NAME, "id_number": ID_NUMBER},
        {"role": "respondent", "full_name": "UBND xã Khao Mang"},
    ]
    body = {
        "kind": "complaint",
        "field": "land",
        "channel": "in_person",
        "title": "Khiếu nại quyết định thu hồi đất",
        "content": "Khiếu nại quyết định thu hồi đất của UBND xã",
        "received_at": days_ago(20),
        "identity_protection_requested": True,
        "parties": party,
    }
    r = await api.http.post(f"{V1}/cases", headers=await api.headers("xa.tiepdan"), json=body)
    assert r.status_code == 201, r.text
    first = await act(api, "xa.chutich", r.json(), "accept", decision_number="1/TL", effective_date=days_ago(15))
    dialogue = {"held_on": days_ago(6), "participants": ["A"], "minutes": "Đối thoại", "agreement_reached": False}
    r = await api.http.post(
        f"{V1}/cases/{first['id']}/dialogues", headers=await api.headers("xa.chutich"), json=dialogue
    )
    assert r.status_code in (200, 201), r.text
    first = (await api.http.get(f"{V1}/cases/{first['id']}", headers=await api.headers("xa.chutich"))).json()
    first = await act(
        api, "xa.chutich", first, "resolve", effective_date=days_ago(4), outcome="wrong", decision_number="2/QĐ"
    )
    second = {
        **body,
        "received_at": days_ago(1),
        "identity_protection_requested": False,  # not asked again: the first round's request holds
        "complaint_round": 2,
        "previous_case_id": first["id"],
        "decision_known_date": days_ago(3),
    }
    r = await api.http.post(f"{V1}/cases", headers=await api.headers("tinh.tiepdan"), json=second)
    assert r.status_code == 201, r.text
    assert r.json()["identity_protected"] is True
    seen = await api.http.get(f"{V1}/cases/{r.json()['id']}", headers=await api.headers("thanhtra"))
    assert seen.status_code == 200 and NAME not in seen.text and ID_NUMBER not in seen.text
    assert await _row_leaks(api, "case_parties", "case_id", r.json()["id"]) == []


async def test_clearing_a_cases_protection_behind_the_service_is_found_by_the_chain(api: Api) -> None:
    from api.services import checkpoints
    from api.vault import vault_for
    from tests.conftest import SETTINGS

    _, case = await _protected_visitor_case(api)
    r = await api.http.get(f"{V1}/cases/{case['id']}/events/verify", headers=await api.headers("xa.chutich"))
    assert r.json()["valid"] is True, r.text
    report = await checkpoints.verify_all(api.session, vault=vault_for(SETTINGS))
    assert not [p for p in report.problems if p.case_id == case["id"]]
    await api.session.execute(sa.text("UPDATE cases SET identity_protected = false WHERE id = :id"), {"id": case["id"]})
    api.session.expunge_all()
    r = await api.http.get(f"{V1}/cases/{case['id']}/events/verify", headers=await api.headers("xa.chutich"))
    assert r.json()["valid"] is False, r.text
    # And by `python -m api verify-events`'s verification.
    report = await checkpoints.verify_all(api.session, vault=vault_for(SETTINGS))
    assert any(p.case_id == case["id"] for p in report.problems)


# ---- where a protected line was guided or transferred, and what was done before, are sealed too (F8) ----

WHERE = f"Hội Nông dân xã, ông {NAME}"


async def test_a_protected_lines_referrals_and_documents_are_sealed_and_masked(api: Api) -> None:
    await _officer(api, "xa.tiepdan2", ["desk_officer"])
    sess = await new_session(api, TODAY - timedelta(days=1))
    r = await add_entry(
        api,
        sess,
        **_denunciation_entry(
            handling="guided",
            guided_to=WHERE,
            guided_doc=f"5/HD-{WORD[:10]}",
            previously_handled_by=f"Công an xã đã nghe ông {NAME}",
        ),
    )
    assert r.status_code == 201, r.text
    entry = r.json()
    assert entry["guided_to"] == WHERE  # the writer typed it
    r = await add_entry(
        api,
        sess,
        kind="petition",
        persons=[{"full_name": "Người khác"}],
        content="Kiến nghị",
        handling="transferred",
        transferred_to=f"Phòng Tư pháp, bà {NAME}",
        identity_protection_requested=True,
    )
    assert r.status_code == 201, r.text
    second = r.json()
    # A later document number on a sealed line is sealed with it.
    patched = await api.http.patch(
        f"{V1}/reception-sessions/entries/{second['id']}",
        headers=await api.headers("xa.tiepdan"),
        json={"transferred_doc": f"7/CV-{WORD[:10]}"},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["transferred_doc"] == f"7/CV-{WORD[:10]}"
    await api.session.flush()
    for needle in (NAME, "Khuổi", WORD[:10]):
        found = await api.session.scalar(
            sa.text("SELECT count(*) FROM reception_entries e WHERE CAST(e AS text) ILIKE :n"), {"n": f"%{needle}%"}
        )
        assert found == 0, needle
    for reader in ("xa.tiepdan2", "thanhtra"):
        for e in (entry, second):
            seen = await _entry(api, reader, e["id"])
            assert seen.status_code == 200 and NAME not in seen.text and WORD[:10] not in seen.text, reader
        masked = (await _entry(api, reader, entry["id"])).json()
        assert masked["guided_to"] == MASK and masked["previously_handled_by"] == MASK
        assert masked["guided_doc"] == MASK and masked["transferred_to"] is None
    head = (await _entry(api, "xa.chutich", entry["id"])).json()
    assert head["guided_to"] == WHERE and head["previously_handled_by"] == f"Công an xã đã nghe ông {NAME}"
    head2 = (await _entry(api, "xa.chutich", second["id"])).json()
    assert head2["transferred_to"] == f"Phòng Tư pháp, bà {NAME}"
    assert head2["transferred_doc"] == f"7/CV-{WORD[:10]}"


def test_revision_0025_seals_existing_lines_referrals_and_downgrade_restores_them(pg_server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from alembic import command
    from api.vault import Vault
    from tests.conftest import SETTINGS
    from tests.test_migrations import _config, _sql, _unit_and_desk_officer

    monkeypatch.setenv("IDENTITY_KEYS", SETTINGS.identity_keys or "")
    vault = Vault(tuple(SETTINGS.identity_key_list()))
    name = pg_server.create_database("tiepdan_register_seal25")
    url = pg_server.url(name)

    def sql(statement: str) -> list:  # type: ignore[type-arg]
        return _sql(url, statement)

    try:
        config = _config(url)
        command.upgrade(config, "0024")
        _unit_and_desk_officer(sql)
        sql(
            "INSERT INTO reception_sessions (unit_id, kind, mode, in_person, status, starts_at, ends_at, day, "
            "created_by_id) VALUES (1, 'periodic', 'direct', true, 'held', '2026-11-02 08:00+07', "
            "'2026-11-02 11:00+07', '2026-11-02', 1)"
        )
        plain = {"persons": [{"full_name": NAME}], "representatives": [], "notes": None, "content": CONTENT}
        sealed = vault.seal(plain)
        sql(
            "INSERT INTO reception_entries (session_id, unit_id, year, serial, received_on, kind, content, persons, "  # noqa: S608
            "sealed, people_count, is_group, identity_protection_requested, handling, guided_to, guided_doc, "
            "previously_handled_by, visit, created_by_id) VALUES "
            f"(1, 1, 2026, 1, '2026-11-02', 'denunciation', '', '[{{}}]', '{sealed}', 1, false, false, "
            f"'guided', '{WHERE}', '5/HD', 'Công an xã', 'first', 1), "
            "(1, 1, 2026, 2, '2026-11-02', 'complaint', 'Khiếu nại thường', '[{\"full_name\": \"A\"}]', NULL, 1, "
            "false, false, 'guided', 'Phòng Tư pháp', '6/HD', NULL, 'first', 1)"
        )
        command.upgrade(config, "0025")
        rows = sql("SELECT serial, guided_to, guided_doc, previously_handled_by, sealed FROM reception_entries "
                   "ORDER BY serial")  # fmt: skip
        assert (rows[0].guided_to, rows[0].guided_doc, rows[0].previously_handled_by) == ("", "", "")
        opened = vault.open(rows[0].sealed)
        assert opened == {**plain, "guided_to": WHERE, "guided_doc": "5/HD", "previously_handled_by": "Công an xã",
                          "transferred_to": None, "transferred_doc": None}  # fmt: skip
        assert (rows[1].guided_to, rows[1].sealed) == ("Phòng Tư pháp", None)
        command.upgrade(config, "0025")
        command.downgrade(config, "0024")
        rows = sql("SELECT guided_to, guided_doc, previously_handled_by, sealed FROM reception_entries ORDER BY serial")
        assert (rows[0].guided_to, rows[0].guided_doc, rows[0].previously_handled_by) == (WHERE, "5/HD", "Công an xã")
        assert vault.open(rows[0].sealed) == plain
    finally:
        pg_server.drop_database(name)


def test_the_rule_for_a_sender_who_asked_for_protection() -> None:
    from workflows.confidentiality import is_protected, seals_free_text

    for role in ("complainant", "petitioner", "representative", "related"):
        assert is_protected(role, "complaint", True) and is_protected(role, "feedback", True), role
        assert not is_protected(role, "complaint") or role == "denouncer", role
    # Those the matter is brought against keep their names; a denunciation is unchanged by the flag.
    assert not is_protected("accused", "complaint", True) and not is_protected("respondent", "petition", True)
    assert not is_protected("accused", "denunciation", True) and is_protected("related", "denunciation")
    assert seals_free_text("complaint", True) and seals_free_text("denunciation") and not seals_free_text("petition")
