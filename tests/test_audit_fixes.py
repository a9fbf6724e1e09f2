"""The outside audit's findings F2-F4, each held by a test that failed before its fix: the stripped copy's SHA-256
is sealed at rest like the original's (and `seal-existing` seals what older revisions kept in clear), an officer's
uploads never use up the room left for the denouncer's evidence (the citizen's and the officers' files counted
apart, the officers' bytes with their own quota), and a reporting period's label is the canonical one wherever it
goes (no line break into a response header, one file name and one cache entry per period)."""

import hashlib
import io
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from PIL import Image
from sqlalchemy.ext.asyncio import create_async_engine

from api.models.cases import Case
from api.models.public import Attachment
from api.services.cases import sealed_text
from api.services.citizen import attachments
from api.vault import vault_for
from tests.conftest import SETTINGS, Api, Live
from tests.helpers import TODAY, V1, act
from tests.test_citizen_privacy import PUBLIC, denunciation, gps_jpeg, settings_with, tables_holding
from tests.test_dashboard import sign_in

__all__ = ["settings_with"]  # a fixture of tests/test_citizen_privacy.py, used here

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64  # a PNG that does not open: no copy is made (cheap)


def evidence_pdf() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 10)).save(out, "PDF")
    return out.getvalue()


async def _denunciation_with_photo(api: Api, photo: bytes) -> tuple[Case, dict[str, Any], dict[str, Any]]:
    """A denunciation sent through the citizen channel with a photo, accepted and assigned to xa.xacminh."""
    made = (await api.http.post(PUBLIC, json=denunciation())).json()
    up = await api.http.post(
        f"{PUBLIC}/{made['tracking_code']}/attachments",
        headers={"X-Access-Key": made["access_key"]},
        files={"file": ("anh.jpg", photo, "image/jpeg")},
    )
    assert up.status_code == 201, up.text
    case = await api.session.scalar(sa.select(Case).where(Case.tracking_code == made["tracking_code"]))
    assert case is not None
    view = (await api.http.get(f"{V1}/cases/{case.id}", headers=await api.headers("xa.chutich"))).json()
    view = await act(api, "xa.chutich", view, "accept", decision_number="12/QĐ-TLTC")
    await act(api, "xa.chutich", view, "assign", handler_ids=[(await api.user("xa.xacminh")).id])
    return case, made, up.json()


async def _verifier_sees(api: Api, case_id: int | None, attachment_id: int) -> tuple[str, str, bytes]:
    """The SHA-256 the assigned verifier is told of a file (list, download header) and the copy's bytes."""
    h = await api.headers("xa.xacminh")
    listed = {a["id"]: a for a in (await api.http.get(f"{V1}/cases/{case_id}/attachments", headers=h)).json()}
    got = await api.http.get(f"{V1}/cases/{case_id}/attachments/{attachment_id}", headers=h)
    assert got.status_code == 200 and got.headers["x-attachment-form"] == "copy", got.text
    return listed[attachment_id]["sha256"], got.headers["x-content-sha256"], got.content


# ---- F2: the copy's SHA-256 is sealed at rest ----


async def test_no_copy_hash_is_in_clear_at_rest_and_its_readers_still_get_it(api: Api) -> None:
    photo = gps_jpeg()
    case, _, uploaded = await _denunciation_with_photo(api, photo)
    # The holder of a dump, with the photo in hand and the project's code, makes the same copy:
    fingerprint = hashlib.sha256(attachments.clean_copy(photo, "image/jpeg") or b"").hexdigest()
    assert await tables_holding(api, fingerprint) == []
    assert await api.session.scalar(sa.text("SELECT count(*) FROM attachments WHERE copy_sha256 IS NOT NULL")) == 0
    # An officer's upload too.
    pdf = evidence_pdf()
    up = await api.http.post(
        f"{V1}/cases/{case.id}/attachments",
        headers=await api.headers("xa.xacminh"),
        files={"file": ("bien-ban.pdf", pdf)},
    )
    assert up.status_code == 201, up.text
    assert await api.session.scalar(sa.text("SELECT count(*) FROM attachments WHERE copy_sha256 IS NOT NULL")) == 0
    # Those who get the copy are told its SHA-256 as before, in the list and in the download's header.
    listed, header, content = await _verifier_sees(api, case.id, uploaded["id"])
    assert listed == header == hashlib.sha256(content).hexdigest() == fingerprint
    listed, header, content = await _verifier_sees(api, case.id, up.json()["id"])
    assert listed == header == hashlib.sha256(content).hexdigest()
    assert await tables_holding(api, header) == []


async def _as_written_before(api: Api, attachment_id: int) -> str:
    """Make a row as revisions before the fix wrote it: the copy's SHA-256 in clear, not in the sealed metadata."""
    row = await api.session.get(Attachment, attachment_id)
    assert row is not None
    vault = vault_for(SETTINGS)
    meta = vault.open(row.sealed)
    clear = meta.pop("copy_sha256")
    await api.session.execute(
        sa.text("UPDATE attachments SET sealed = :s, copy_sha256 = :h WHERE id = :i"),
        {"s": vault.seal(meta), "h": clear, "i": attachment_id},
    )
    api.session.expire_all()
    return str(clear)


async def test_seal_existing_seals_the_copy_hashes_older_revisions_kept_in_clear(api: Api) -> None:
    case, _, uploaded = await _denunciation_with_photo(api, gps_jpeg())
    case_id = case.id
    clear = await _as_written_before(api, uploaded["id"])
    assert await tables_holding(api, clear) == ["attachments"]
    # Not yet sealed: its readers still get the SHA-256 (from the column).
    assert (await _verifier_sees(api, case_id, uploaded["id"]))[:2] == (clear, clear)
    assert await sealed_text.seal_copy_hashes(api.session, SETTINGS) >= 1
    assert await sealed_text.seal_copy_hashes(api.session, SETTINGS) == 0  # idempotent
    assert await tables_holding(api, clear) == []
    assert await api.session.scalar(sealed_text.COPY_HASHES_TO_SEAL) == 0
    listed, header, content = await _verifier_sees(api, case_id, uploaded["id"])
    assert listed == header == clear == hashlib.sha256(content).hexdigest()


async def test_the_seal_existing_command_seals_the_copy_hashes(live: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    from api import cli, settings

    made = (await live.http.post(PUBLIC, json=denunciation())).json()
    up = await live.http.post(
        f"{PUBLIC}/{made['tracking_code']}/attachments",
        headers={"X-Access-Key": made["access_key"]},
        files={"file": ("anh.jpg", gps_jpeg(), "image/jpeg")},
    )
    assert up.status_code == 201, up.text
    vault = vault_for(SETTINGS)
    engine = create_async_engine(live.url)
    try:
        async with engine.begin() as conn:
            sealed = await conn.scalar(sa.text("SELECT sealed FROM attachments WHERE id = :i"), {"i": up.json()["id"]})
            meta = vault.open(sealed)
            clear = meta.pop("copy_sha256")
            await conn.execute(
                sa.text("UPDATE attachments SET sealed = :s, copy_sha256 = :h WHERE id = :i"),
                {"s": vault.seal(meta), "h": clear, "i": up.json()["id"]},
            )
        monkeypatch.setattr(settings, "get_settings", lambda: SETTINGS)
        said = await cli._seal_existing(live.url)  # noqa: SLF001
        assert said.endswith("; 1 attachment copy hashes sealed, 0 left in clear"), said
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    sa.text("SELECT sealed, copy_sha256 FROM attachments WHERE id = :i"), {"i": up.json()["id"]}
                )
            ).one()
    finally:
        await engine.dispose()
    assert row.copy_sha256 is None and vault.open(row.sealed)["copy_sha256"] == clear


# ---- F3: the officers' files never use up the denouncer's room ----


async def test_the_verifier_cannot_lock_the_denouncer_out_of_adding_evidence(api: Api) -> None:
    case, made, _ = await _denunciation_with_photo(api, gps_jpeg())
    h = await api.headers("xa.xacminh")
    officer_cap = attachments.MAX_FILES["officer"]
    for i in range(officer_cap):  # the verifier's "evidence", up to the officers' own cap
        r = await api.http.post(f"{V1}/cases/{case.id}/attachments", headers=h, files={"file": (f"{i}.png", PNG)})
        assert r.status_code == 201, (i, r.text)
    full = await api.http.post(f"{V1}/cases/{case.id}/attachments", headers=h, files={"file": ("x.png", PNG)})
    assert (full.status_code, full.json()["error"]["code"]) == (409, "attachment_count_limit")
    assert full.json()["error"]["details"] == {"max_files": officer_cap}
    # The denouncer comes back with the photo that matters: the officers' files do not count against it.
    again = await api.http.post(
        f"{PUBLIC}/{made['tracking_code']}/attachments",
        headers={"X-Access-Key": made["access_key"]},
        files={"file": ("b.jpg", gps_jpeg(), "image/jpeg")},
    )
    assert again.status_code == 201, again.text


async def test_the_citizens_files_have_their_own_cap(api: Api) -> None:
    case, made, _ = await _denunciation_with_photo(api, gps_jpeg())
    storage = api.http._transport.app.state.storage  # type: ignore[attr-defined]
    citizen_cap = attachments.MAX_FILES["citizen"]
    for i in range(citizen_cap - 1):  # the photo is the first
        await attachments.add(
            api.session, storage, case, f"{i}.png", PNG, uploaded_by="citizen", actor_id=None, settings=SETTINGS
        )
    full = await api.http.post(
        f"{PUBLIC}/{made['tracking_code']}/attachments",
        headers={"X-Access-Key": made["access_key"]},
        files={"file": ("c.png", PNG)},
    )
    assert (full.status_code, full.json()["error"]["code"]) == (409, "attachment_count_limit")
    assert full.json()["error"]["details"] == {"max_files": citizen_cap}
    # The verifier still adds evidence: the citizen's files do not count against the officers'.
    r = await api.http.post(
        f"{V1}/cases/{case.id}/attachments", headers=await api.headers("xa.xacminh"), files={"file": ("v.png", PNG)}
    )
    assert r.status_code == 201, r.text


async def test_the_officers_bytes_of_a_case_have_their_own_quota(api: Api, settings_with: Any) -> None:
    pdf = evidence_pdf()
    settings_with(officer_upload_bytes_per_case=2 * len(pdf))
    case, made, _ = await _denunciation_with_photo(api, gps_jpeg())
    h = await api.headers("xa.xacminh")
    for name in ("a.pdf", "b.pdf"):
        r = await api.http.post(f"{V1}/cases/{case.id}/attachments", headers=h, files={"file": (name, pdf)})
        assert r.status_code == 201, r.text
    over = await api.http.post(f"{V1}/cases/{case.id}/attachments", headers=h, files={"file": ("c.pdf", pdf)})
    assert (over.status_code, over.json()["error"]["code"]) == (413, "upload_quota_case")
    assert over.json()["error"]["details"] == {"max_bytes": 2 * len(pdf)} and over.json()["error"]["message"]
    # The head of the unit is an officer too: same quota.
    head = await api.http.post(
        f"{V1}/cases/{case.id}/attachments", headers=await api.headers("xa.chutich"), files={"file": ("d.pdf", pdf)}
    )
    assert head.status_code == 413
    # The denouncer's evidence is counted apart.
    citizen = await api.http.post(
        f"{PUBLIC}/{made['tracking_code']}/attachments",
        headers={"X-Access-Key": made["access_key"]},
        files={"file": ("b.jpg", gps_jpeg(), "image/jpeg")},
    )
    assert citizen.status_code == 201, citizen.text


# ---- F4: the period's label in file names is the canonical one ----


@pytest.fixture
async def browser(api: Api) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = api.http._transport.app  # type: ignore[attr-defined]
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="https://intranet.laocai") as client:
        yield client


def _filename(response: httpx.Response) -> str:
    disposition = response.headers.get("content-disposition", "")
    assert "\r" not in disposition and "\n" not in disposition, repr(disposition)
    m = re.fullmatch(r'attachment; filename="([^"]+)"', disposition)
    assert m is not None, repr(disposition)
    return m.group(1)


@pytest.mark.parametrize("typed", ["{y}\r\n\r\n", " {y}-Q1\t", "{y}-Q1\n"])
async def test_an_export_is_named_by_the_canonical_period_with_no_line_break(
    browser: httpx.AsyncClient, api: Api, typed: str
) -> None:
    period = typed.format(y=TODAY.year)
    canonical = period.strip()
    await sign_in(browser, "thanhtra")
    page = await browser.get("/dashboard/export/tcd.csv", params={"period": period})
    assert page.status_code == 200, page.text[:300]
    assert _filename(page) == f"tcd_{canonical}.csv"
    h = await api.headers("thanhtra")
    r = await api.http.get(f"{V1}/stats/forms/tcd", params={"period": period, "format": "csv"}, headers=h)
    assert r.status_code == 200, r.text[:300]
    assert _filename(r) == f"tcd_{canonical}.csv"
    # The JSON form names the same period as the canonical spelling does (one period, one entry of the cache).
    typed_doc = await api.http.get(f"{V1}/stats/forms/tcd", params={"period": period}, headers=h)
    plain_doc = await api.http.get(f"{V1}/stats/forms/tcd", params={"period": canonical}, headers=h)
    assert typed_doc.status_code == plain_doc.status_code == 200, typed_doc.text[:300]
    assert typed_doc.json()["period"] == plain_doc.json()["period"] == canonical
