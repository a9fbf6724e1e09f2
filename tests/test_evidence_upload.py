"""A verifying handler assigned to a denunciation adds the evidence they gather to it; downloads stay as restricted
as before (the handler still gets only copies, never the denouncer's files, names or identity), and every refused
upload says why with its own code — not assigned, protected case, case over, too large, type, file count."""

import io
from typing import Any

import sqlalchemy as sa
from PIL import Image

from api.models.cases import Case
from api.services.citizen.attachments import MAX_FILES
from tests.conftest import Api
from tests.helpers import V1, act
from tests.test_citizen_privacy import PUBLIC, denunciation, gps_jpeg

DENOUNCER = "Hoàng Thị Mỷ"  # tests.test_citizen_privacy.denunciation's sender
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64  # a PNG that does not open: no clean copy is made (cheap)


def evidence_pdf() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 10)).save(out, "PDF")
    return out.getvalue()


async def _assigned_denunciation(api: Api) -> tuple[Case, dict[str, Any], dict[str, Any]]:
    """A denunciation sent with a photo, accepted and assigned to xa.xacminh by the commune chair."""
    made = (await api.http.post(PUBLIC, json=denunciation())).json()
    photo = await api.http.post(
        f"{PUBLIC}/{made['tracking_code']}/attachments",
        headers={"X-Access-Key": made["access_key"]},
        files={"file": ("anh-cua-hoang-thi-my.jpg", gps_jpeg(), "image/jpeg")},
    )
    assert photo.status_code == 201, photo.text
    case = await api.session.scalar(sa.select(Case).where(Case.tracking_code == made["tracking_code"]))
    assert case is not None
    view = (await api.http.get(f"{V1}/cases/{case.id}", headers=await api.headers("xa.chutich"))).json()
    view = await act(api, "xa.chutich", view, "accept", decision_number="12/QĐ-TLTC")
    view = await act(api, "xa.chutich", view, "assign", handler_ids=[(await api.user("xa.xacminh")).id])
    return case, view, photo.json()


async def _upload(api: Api, who: str, case_id: int | None, name: str, data: bytes) -> Any:
    return await api.http.post(
        f"{V1}/cases/{case_id}/attachments", headers=await api.headers(who), files={"file": (name, data)}
    )


async def test_the_assigned_verifier_adds_evidence_and_still_never_sees_the_denouncer(api: Api) -> None:
    case, _, citizens = await _assigned_denunciation(api)
    pdf = evidence_pdf()
    up = await _upload(api, "xa.xacminh", case.id, "bien-ban-xac-minh.pdf", pdf)
    assert up.status_code == 201, up.text
    mine = up.json()
    assert mine["filename"] == "bien-ban-xac-minh.pdf" and mine["content_type"] == "application/pdf"
    assert DENOUNCER not in up.text
    # The verifier's list: every file as a stripped copy under a neutral name (their own too); nothing of the
    # denouncer — as before the upload.
    h = await api.headers("xa.xacminh")
    listed = await api.http.get(f"{V1}/cases/{case.id}/attachments", headers=h)
    assert listed.status_code == 200 and {a["form"] for a in listed.json()} == {"copy"}
    assert "hoang" not in listed.text.lower() and DENOUNCER not in listed.text
    got = await api.http.get(f"{V1}/cases/{case.id}/attachments/{citizens['id']}", headers=h)
    assert got.status_code == 200 and got.headers["x-attachment-form"] == "copy"
    assert b"Hoang Thi My" not in got.content and b"GPS" not in got.content
    # The head of the unit (who may see the denouncer) gets the verifier's original with its name.
    head = await api.http.get(f"{V1}/cases/{case.id}/attachments", headers=await api.headers("xa.chutich"))
    by_id = {a["id"]: a for a in head.json()}
    assert by_id[mine["id"]]["filename"] == "bien-ban-xac-minh.pdf" and by_id[mine["id"]]["form"] == "original"
    original = await api.http.get(
        f"{V1}/cases/{case.id}/attachments/{mine['id']}", headers=await api.headers("xa.chutich")
    )
    assert original.content == pdf
    # The upload is audited with its uploader.
    actor = await api.session.scalar(
        sa.text(
            "SELECT actor_id FROM audit_events WHERE entity = 'attachment' AND entity_id = :i AND action = 'upload'"
        ),
        {"i": str(mine["id"]), "a": "upload"},
    )
    assert actor == (await api.user("xa.xacminh")).id


async def test_a_refused_upload_names_why(api: Api) -> None:
    case, view, _ = await _assigned_denunciation(api)
    pdf = evidence_pdf()
    # The inspector reads the case but is not assigned to it; the commune's desk holds it but may not see the
    # denouncer (it did not receive the letter in person): each refused with its reason, neither "not found".
    for who, status, code in (
        ("thanhtra", 403, "attachment_not_assigned"),
        ("xa.tiepdan", 403, "attachment_protected_case"),
    ):
        r = await _upload(api, who, case.id, "x.pdf", pdf)
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), (who, r.text)
        assert r.json()["error"]["message"] and DENOUNCER not in r.text
    # An officer who does not read the case at all still does not learn it exists.
    assert (await _upload(api, "tinh.xacminh", case.id, "x.pdf", pdf)).status_code == 404
    # Size and type.
    limit = api.http._transport.app.state.settings.attachment_max_bytes  # type: ignore[attr-defined]
    big = await _upload(api, "xa.xacminh", case.id, "big.pdf", pdf + b"\x00" * limit)
    assert (big.status_code, big.json()["error"]["code"]) == (413, "attachment_too_large")
    exe = await _upload(api, "xa.xacminh", case.id, "bang-chung.pdf", b"MZ\x90\x00" + b"\x00" * 60)
    assert (exe.status_code, exe.json()["error"]["code"]) == (415, "attachment_type_refused")
    # The number of the officers' files of a case (the citizen's photo is counted apart: tests/test_audit_fixes.py).
    for i in range(MAX_FILES["officer"]):
        assert (await _upload(api, "xa.xacminh", case.id, f"anh-{i}.png", PNG)).status_code == 201
    full = await _upload(api, "xa.xacminh", case.id, "one-too-many.png", PNG)
    assert (full.status_code, full.json()["error"]["code"]) == (409, "attachment_count_limit")
    assert full.json()["error"]["details"] == {"max_files": MAX_FILES["officer"]}


async def test_no_evidence_is_added_once_the_case_is_over(api: Api) -> None:
    case, view, _ = await _assigned_denunciation(api)
    view = await act(api, "xa.chutich", view, "resolve", outcome="false", decision_number="13/KL", reason="Sai")
    # Resolved, not yet closed: the verifier may still file the last evidence.
    assert (await _upload(api, "xa.xacminh", case.id, "cuoi.pdf", evidence_pdf())).status_code == 201
    await act(api, "xa.chutich", view, "close")
    for who in ("xa.xacminh", "xa.chutich"):
        r = await _upload(api, who, case.id, "muon.pdf", evidence_pdf())
        assert (r.status_code, r.json()["error"]["code"]) == (409, "attachment_case_closed"), (who, r.text)
