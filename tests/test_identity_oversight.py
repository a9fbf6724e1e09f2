"""Who may see a protected identity, and who oversees a case whose officers are accused (issue 21, H2):
being the receiver of a letter through a system account (citizen channel, Open311) opens nothing; a verifier never
sees a denouncer; naming every inspector (and the holding unit's head) as accused never leaves a case without an
overseer, and the case says so."""

from typing import Any

import sqlalchemy as sa

from api.models.cases import Case, CaseEvent
from api.models.unit import Unit
from api.models.user import User
from api.services.citizen.submissions import CHANNEL_USERNAME
from tests.conftest import Api
from tests.helpers import V1, days_ago, get
from workflows import confidentiality as conf

DENOUNCER_NAME = "Thào Thị Mỷ"
DENOUNCER_ID = "015192004567"
DENOUNCER_PHONE = "0978123456"


async def _unit(api: Api, code: str) -> Unit:
    unit = await api.session.scalar(sa.select(Unit).where(Unit.code == code))
    assert unit is not None, code
    return unit


async def _officer(api: Api, username: str, roles: list[str], unit_code: str) -> User:
    """An active officer written straight into the database (the two-person grant is another test's concern)."""
    user = User(
        username=username,
        password_hash="!",
        full_name=username,
        unit_id=(await _unit(api, unit_code)).id or 0,
        roles=roles,
        is_active=True,
    )
    api.session.add(user)
    await api.session.flush()
    return user


def _denouncer(body: dict[str, Any]) -> dict[str, Any]:
    return next(p for p in body["parties"] if p["role"] == "denouncer")


def _reveals(body: dict[str, Any]) -> bool:
    return _denouncer(body)["full_name"] == DENOUNCER_NAME


# ---- the receiver of a letter from the citizen channel ----


async def _citizen_denunciation(api: Api) -> Case:
    body = {
        "kind": "denunciation",
        "field": "corruption",
        "content": "Tố cáo cán bộ địa chính xã thu tiền trái phép khi cấp giấy chứng nhận.",
        "location": {"commune_code": "04465"},
        "contact": {"full_name": DENOUNCER_NAME, "id_number": DENOUNCER_ID, "phone": DENOUNCER_PHONE},
        "consent": True,
    }
    r = await api.http.post(f"{V1}/public/submissions", json=body)
    assert r.status_code == 201, r.text
    case = await api.session.scalar(sa.select(Case).where(Case.tracking_code == r.json()["tracking_code"]))
    assert case is not None and case.id is not None
    return case


async def test_the_citizen_channels_account_sees_no_denouncer_even_given_roles(api: Api) -> None:
    case = await _citizen_denunciation(api)
    channel = await api.user(CHANNEL_USERNAME)
    assert case.received_by_id == channel.id
    # The attack: the channel's account re-activated and given a desk role (impossible through the API, and the
    # database refuses it while the account is marked as a system account: here someone with SQL clears the mark
    # too), then used to read every letter it "received".
    await api.session.execute(
        sa.text("UPDATE users SET is_system = false, roles = '{desk_officer}', is_active = true WHERE id = :id"),
        {"id": channel.id},
    )
    r = await get(api, CHANNEL_USERNAME, case.id or 0)
    if r.status_code == 200:
        assert not _reveals(r.json()) and _denouncer(r.json())["masked"] is True
        assert DENOUNCER_ID not in r.text and DENOUNCER_PHONE not in r.text
    else:
        assert r.status_code in (401, 403, 404), r.text
    reads = await api.session.scalar(
        sa.select(sa.func.count()).where(
            CaseEvent.case_id == case.id, CaseEvent.action == "identity_viewed", CaseEvent.actor_id == channel.id
        )
    )
    assert reads == 0
    # The head of the unit holding it sees the denouncer; a desk officer of that unit does not.
    head = await get(api, "xa.chutich", case.id or 0)
    assert head.status_code == 200 and _reveals(head.json())
    desk = await get(api, "xa.tiepdan", case.id or 0)
    assert desk.status_code == 200 and not _reveals(desk.json()) and DENOUNCER_ID not in desk.text


def test_the_rule_itself() -> None:
    base = {
        "officer_id": 7,
        "officer_unit_id": 3,
        "received_by_id": 7,
        "holding_unit_id": 3,
    }
    desk = frozenset({"desk_officer"})
    assert conf.may_see_identity(roles=desk, received_by_system=False, **base)
    assert not conf.may_see_identity(roles=desk, received_by_system=True, **base)
    assert conf.may_see_identity(roles=frozenset({"unit_head"}), received_by_system=True, **base)
    # Never a verifier, whatever else they hold; never an accused.
    assert not conf.may_see_identity(roles=frozenset({"unit_head", "handler"}), received_by_system=False, **base)
    assert not conf.may_see_identity(roles=frozenset({"desk_officer", "handler"}), received_by_system=False, **base)
    assert not conf.may_see_identity(
        roles=frozenset({"unit_head"}), received_by_system=False, named_accused=True, **base
    )
    assert conf.is_system_account(CHANNEL_USERNAME) and not conf.is_system_account("xa.tiepdan")


async def test_a_desk_officer_who_also_verifies_never_sees_the_denouncer(api: Api) -> None:
    await _officer(api, "tinh.tiepdan.xacminh", ["desk_officer", "handler"], "15")
    body = {
        "kind": "denunciation",
        "field": "corruption",
        "channel": "in_person",
        "title": "Tố cáo nhận hối lộ",
        "content": "Tố cáo cán bộ nhận hối lộ khi thẩm định hồ sơ.",
        "received_at": days_ago(2),
        "parties": [{"role": "denouncer", "full_name": DENOUNCER_NAME, "id_number": DENOUNCER_ID}],
    }
    r = await api.http.post(f"{V1}/cases", headers=await api.headers("tinh.tiepdan.xacminh"), json=body)
    assert r.status_code == 201, r.text
    assert not _reveals(r.json())
    seen = await get(api, "tinh.tiepdan.xacminh", r.json()["id"])
    assert seen.status_code == 200 and not _reveals(seen.json()) and DENOUNCER_ID not in seen.text


# ---- a case always keeps an overseer ----


async def _denounce(api: Api, desk: str, accused: list[User], competent: int | None = None) -> Any:
    body: dict[str, Any] = {
        "kind": "denunciation",
        "field": "corruption",
        "channel": "in_person",
        "title": "Tố cáo cán bộ thanh tra",
        "content": "Tố cáo cán bộ thanh tra bao che sai phạm.",
        "received_at": days_ago(2),
        "parties": [{"role": "denouncer", "full_name": DENOUNCER_NAME, "id_number": DENOUNCER_ID}]
        + [{"role": "accused", "full_name": u.full_name, "officer_id": u.id} for u in accused],
    }
    if competent is not None:
        body["competent_unit_id"] = competent
    return await api.http.post(f"{V1}/cases", headers=await api.headers(desk), json=body)


async def test_naming_every_inspector_and_the_holding_head_leaves_the_chief_inspector_and_the_chair(api: Api) -> None:
    """The worst case: every inspector of the province and the head of the unit holding the case are named."""
    chief = await _officer(api, "chanh.thanhtra", ["unit_head"], "15-TTT")
    second = await _officer(api, "thanhtra2", ["inspector"], "15-TTT")
    inspectors = (await api.session.scalars(sa.select(User).where(User.is_active, User.roles.any("inspector")))).all()
    assert {u.username for u in inspectors} == {"thanhtra", "thanhtra2"}
    commune_head = await api.user("xa.chutich")
    province = await _unit(api, "15")
    r = await _denounce(api, "xa.tiepdan", [*inspectors, commune_head], competent=province.id)
    assert r.status_code == 201, r.text
    case_id = r.json()["id"]
    # Those named see nothing.
    for accused in ("thanhtra", "thanhtra2", "xa.chutich"):
        assert (await get(api, accused, case_id)).status_code == 404, accused
        listed = await api.http.get(f"{V1}/cases", headers=await api.headers(accused))
        assert case_id not in [c["id"] for c in listed.json()["items"]], accused
    # The chief inspector (head of the inspectorate, who reads no commune's cases otherwise) oversees it, flagged;
    # the province chair, the head above, reads it as always. Neither sees the denouncer (the case is received at
    # the commune, whose desk keeps it until it is processed).
    for overseer in ("chanh.thanhtra", "tinh.chutich"):
        seen = await get(api, overseer, case_id)
        assert seen.status_code == 200, overseer
        body = seen.json()
        assert body["oversight_escalated"] is True and body["oversight_reason"] == conf.ALL_INSPECTORS_ACCUSED
        assert not _reveals(body) and DENOUNCER_ID not in seen.text, overseer
    listed = await api.http.get(f"{V1}/cases", headers=await api.headers("chanh.thanhtra"))
    assert case_id in [c["id"] for c in listed.json()["items"]]
    # The escalation is on the case's record.
    create = await api.session.scalar(
        sa.select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.action == "create")
    )
    assert create is not None and create.payload["oversight_escalated"] == conf.ALL_INSPECTORS_ACCUSED
    # Transferred to the province, the new case keeps its overseer and says so on its own record.
    headers = {**await api.headers("xa.tiepdan"), "If-Match": str(r.json()["version"])}
    moved = await api.http.post(
        f"{V1}/cases/{case_id}/actions/transfer",
        headers=headers,
        json={"to_unit_id": province.id, "reason": "Thuộc thẩm quyền tỉnh", "effective_date": days_ago(1)},
    )
    assert moved.status_code == 200, moved.text
    copy_id = await api.session.scalar(sa.select(Case.transferred_to_case_id).where(Case.id == case_id))
    copy_create = await api.session.scalar(
        sa.select(CaseEvent).where(CaseEvent.case_id == copy_id, CaseEvent.action == "create")
    )
    assert copy_create is not None and copy_create.payload["oversight_escalated"] == conf.ALL_INSPECTORS_ACCUSED
    assert (await get(api, "chanh.thanhtra", copy_id or 0)).json()["oversight_escalated"] is True
    # An ordinary case of the commune stays out of the chief inspector's sight.
    r = await _denounce(api, "xa.tiepdan", [second])
    assert r.status_code == 201
    assert (await get(api, "chanh.thanhtra", r.json()["id"])).status_code == 404
    assert (await get(api, "thanhtra", r.json()["id"])).json()["oversight_escalated"] is False
    assert chief.id is not None


async def _without_the_seeded_chief(api: Api) -> None:
    """The demo seed's chief inspector (thanhtra.truong) leaves, so the test's own is the inspectorate's only head."""
    await api.session.execute(sa.update(User).where(User.username == "thanhtra.truong").values(is_active=False))
    await api.session.flush()


async def test_with_the_chief_inspector_accused_too_the_head_above_oversees_it(api: Api) -> None:
    await _without_the_seeded_chief(api)
    chief = await _officer(api, "chanh.thanhtra", ["unit_head", "inspector"], "15-TTT")
    thanhtra = await api.user("thanhtra")
    province = await _unit(api, "15")
    r = await _denounce(api, "xa.tiepdan", [thanhtra, chief], competent=province.id)
    assert r.status_code == 201, r.text
    case_id = r.json()["id"]
    assert (await get(api, "chanh.thanhtra", case_id)).status_code == 404
    seen = await get(api, "tinh.chutich", case_id)
    assert seen.status_code == 200
    assert seen.json()["oversight_escalated"] is True
    assert seen.json()["oversight_reason"] == conf.INSPECTORATE_ACCUSED


async def test_when_everyone_is_accused_the_province_chair_still_has_it_flagged(api: Api) -> None:
    """Everyone who could oversee it accused (a named officer later made the chair: the intake refuses to name the
    chair): the chair reads it — never its denouncer — so that it can be passed above the province."""
    await _without_the_seeded_chief(api)
    thanhtra = await api.user("thanhtra")
    deputy = await _officer(api, "pho.chutich", ["desk_officer"], "04465")
    r = await _denounce(api, "xa.tiepdan", [thanhtra, deputy])
    assert r.status_code == 201, r.text
    case_id = r.json()["id"]
    # The accused deputy becomes the province's chair; the old chair leaves.
    province = await _unit(api, "15")
    await api.session.execute(sa.update(User).where(User.username == "tinh.chutich").values(is_active=False))
    await api.session.execute(
        sa.update(User).where(User.id == deputy.id).values(roles=["unit_head"], unit_id=province.id)
    )
    await api.session.flush()
    seen = await get(api, "pho.chutich", case_id)
    assert seen.status_code == 200, seen.text
    body = seen.json()
    assert body["oversight_escalated"] is True and body["oversight_reason"] == conf.EVERYONE_ACCUSED
    assert not _reveals(body) and DENOUNCER_ID not in seen.text
    events = await api.http.get(f"{V1}/cases/{case_id}/events", headers=await api.headers("pho.chutich"))
    assert events.status_code == 200 and DENOUNCER_NAME not in events.text
    reads = await api.session.scalar(
        sa.select(sa.func.count()).where(
            CaseEvent.case_id == case_id, CaseEvent.action == "identity_viewed", CaseEvent.actor_id == deputy.id
        )
    )
    assert reads == 0


def test_the_overseer_rule() -> None:
    rule = conf.oversight
    none: frozenset[int] = frozenset()
    kw = {"chief_inspectors": frozenset({10}), "heads_above": [frozenset({20}), frozenset({30})]}
    assert rule(accused=none, inspectors=frozenset({1, 2}), province_chairs=frozenset({30}), **kw).escalated is False
    assert rule(accused=frozenset({1}), inspectors=frozenset({1, 2}), province_chairs=frozenset({30}), **kw) == (
        conf.Oversight(False, None, frozenset({2}))
    )
    assert rule(accused=frozenset({1, 2}), inspectors=frozenset({1, 2}), province_chairs=frozenset({30}), **kw) == (
        conf.Oversight(True, conf.ALL_INSPECTORS_ACCUSED, frozenset({10}))
    )
    assert rule(
        accused=frozenset({1, 2, 10, 20}), inspectors=frozenset({1, 2}), province_chairs=frozenset({30}), **kw
    ) == conf.Oversight(True, conf.INSPECTORATE_ACCUSED, frozenset({30}))
    assert rule(
        accused=frozenset({1, 2, 10, 20, 30}), inspectors=frozenset({1, 2}), province_chairs=frozenset({30}), **kw
    ) == conf.Oversight(True, conf.EVERYONE_ACCUSED, frozenset({30}))
    # No inspector at all and an officer named: escalated to the chief inspector.
    assert rule(accused=frozenset({5}), inspectors=none, province_chairs=frozenset({30}), **kw).escalated is True
