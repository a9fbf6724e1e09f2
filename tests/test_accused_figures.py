"""An officer named as accused learns nothing of the case against them from a figure (docs/confidentiality.md, "who
can learn what"; api/services/stats/accused.py): every figure they are shown — the dashboard's overview, the stats
summary, the report forms and the register's counts — is counted over what they may read, so it equals the count of
its list, even for one day, one unit, one kind and one field. Everyone else's figures still count the case, and the
statistics' cache never hands one the other's answer."""

import html
import re
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from api import clock, security
from api.auth import Officer
from api.models.cases import CaseParty
from api.models.unit import Unit
from api.models.user import User
from api.services.stats import oversight
from tests.conftest import SETTINGS, Api, Live
from tests.helpers import TODAY, V1, days_ago, get, intake
from tests.test_dashboard import sign_in
from tests.test_reception import add_entry, new_session, session_body
from workflows import periods

DENOUNCER = "Thào Thị Mỷ"
DENOUNCER_ID = "015192004567"
MAY = "2026-05"  # a month long over: its forms are kept (stats/cache.py)


@pytest.fixture
async def browser(api: Api) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = api.http._transport.app  # type: ignore[attr-defined]
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="https://intranet.laocai") as client:
        yield client


async def _unit(api: Api, code: str) -> Unit:
    unit = await api.session.scalar(sa.select(Unit).where(Unit.code == code))
    assert unit is not None
    return unit


async def _second_inspector(api: Api) -> User:
    """An inspector the case does not name (written straight into the test's transaction)."""
    user = User(
        username="thanhtra.hai",
        password_hash="!",
        full_name="Thanh tra hai",
        unit_id=(await _unit(api, "15-TTT")).id or 0,
        roles=["inspector"],
        is_active=True,
    )
    api.session.add(user)
    await api.session.flush()
    return user


async def _denounce(api: Api, accused: list[User], competent: int, received_at: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "denunciation",
        "field": "corruption",
        "channel": "in_person",
        "title": "Tố cáo cán bộ thanh tra",
        "content": "Tố cáo cán bộ thanh tra bao che sai phạm.",
        "received_at": received_at,
        "competent_unit_id": competent,
        "parties": [{"role": "denouncer", "full_name": DENOUNCER, "id_number": DENOUNCER_ID}]
        + [{"role": "accused", "full_name": u.full_name, "officer_id": u.id} for u in accused],
    }
    r = await api.http.post(f"{V1}/cases", headers=await api.headers("tinh.tiepdan"), json=body)
    assert r.status_code == 201, r.text
    made: dict[str, Any] = r.json()
    return made


def _card(page: str, label: str) -> tuple[str, int]:
    cards = re.findall(
        r'<a class="card" href="([^"]+)"><span class="label">([^<]+)</span> <strong>([^<]+)</strong>', page
    )
    for link, lab, value in cards:
        if lab == label:
            return html.unescape(link), int(value.replace(".", ""))
    raise AssertionError(f"no card {label}")


def _total(page: str) -> int:
    m = re.search(r"Danh sách hồ sơ: ([\d.]+) hồ sơ", page)
    assert m is not None, page[:2000]
    return int(m.group(1).replace(".", ""))


async def _summary(api: Api, who: str, **params: Any) -> dict[str, Any]:
    r = await api.http.get(f"{V1}/stats/summary", params=params, headers=await api.headers(who))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def _form_total(api: Api, who: str, form: str, column: str, **params: Any) -> float:
    r = await api.http.get(f"{V1}/stats/forms/{form}", params=params, headers=await api.headers(who))
    assert r.status_code == 200, r.text
    (total,) = [row for row in r.json()["rows"] if row["type"] == "total"]
    value: float = total["values"][column]
    return value


# ---- the three reproductions of the audit ----


async def test_an_accused_inspectors_overview_figure_is_the_count_of_its_list(
    browser: httpx.AsyncClient, api: Api
) -> None:
    thanhtra = await api.user("thanhtra")
    province = await _unit(api, "15")
    case = await _denounce(api, [thanhtra], province.id or 0, days_ago(2))
    assert (await get(api, "thanhtra", case["id"])).status_code == 404  # the accused cannot read it

    await sign_in(browser, "thanhtra")
    month = TODAY.strftime("%Y-%m") if TODAY.day > 2 else str(TODAY.year)
    page = await browser.get("/dashboard", params={"period": month, "unit_id": province.id})
    assert page.status_code == 200, page.text
    link, shown = _card(page.text, "Đơn tiếp nhận")
    listed = _total((await browser.get(link)).text)
    assert shown == listed, f"figure {shown} vs list {listed}: the hidden case shows"
    # The dashboard's download of 02/XLD counts what the accused may read, as the API's does; not what another
    # inspector's counts.
    other = await _second_inspector(api)
    params = {"period": month, "unit_id": province.id}
    download = await browser.get("/dashboard/export/xld.csv", params=params)
    assert download.status_code == 200
    mine = await _csv(api, "thanhtra", params)
    assert _rows(download.content) == _rows(mine) != _rows(await _csv(api, other.username, params))


async def _csv(api: Api, who: str, params: dict[str, Any]) -> bytes:
    r = await api.http.get(f"{V1}/stats/forms/xld", params={**params, "format": "csv"}, headers=await api.headers(who))
    assert r.status_code == 200, r.text
    return r.content


def _rows(body: bytes) -> list[str]:
    lines = body.decode("utf-8-sig").splitlines()
    return lines[:1] + lines[2:]  # the second line is the stamp (when it was made)


async def test_the_accused_inspectors_one_day_summary_shows_nothing_the_list_does_not(
    browser: httpx.AsyncClient, api: Api
) -> None:
    thanhtra = await api.user("thanhtra")
    province = await _unit(api, "15")
    day = days_ago(2)
    await _denounce(api, [thanhtra], province.id or 0, day)
    figures = await _summary(api, "thanhtra", **{"from": day, "to": day, "unit_id": province.id})
    await sign_in(browser, "thanhtra")
    listed = await browser.get(
        "/dashboard/cases",
        params={
            "unit_id": province.id,
            "kind": "denunciation",
            "field": "corruption",
            "received_from": day,
            "received_to": day,
        },
    )
    total = _total(listed.text)
    shown = figures["by_kind"].get("denunciation", 0), figures["by_field"].get("corruption", 0)
    assert shown == (total, total), f"figures {shown} vs list {total} for {day}"
    every = _total((await browser.get("/dashboard/cases", params={"received_from": day, "received_to": day})).text)
    assert figures["received"] == every
    assert sum(u["received"] for u in figures["by_unit"]) == every
    # The one-day forms, in every format the API writes, count no more than the list.
    assert await _form_total(api, "thanhtra", "xld", "denunciation", **{"from": day, "to": day}) <= every
    assert await _form_total(api, "thanhtra", "xld", "received", **{"from": day, "to": day}) == every


async def test_an_accused_commune_chairs_reception_form_counts_their_register(
    browser: httpx.AsyncClient, api: Api
) -> None:
    head = await api.user("xa.chutich")
    province = await _unit(api, "15")
    commune = await _unit(api, "04465")
    day = TODAY - timedelta(days=1)
    sess = await new_session(api, day)
    r = await add_entry(
        api,
        sess,
        kind="denunciation",
        persons=[{"full_name": DENOUNCER, "id_number": DENOUNCER_ID}],
        content="Tố cáo chủ tịch xã nhận tiền.",
        handling="within_competence",
        create_case={
            "title": "Tố cáo chủ tịch xã",
            "field": "corruption",
            "competent_unit_id": province.id,
            "accused_officer_ids": [head.id],
        },
    )
    assert r.status_code == 201, r.text
    entry = r.json()
    got = await api.http.get(f"{V1}/reception-sessions/entries/{entry['id']}", headers=await api.headers("xa.chutich"))
    assert got.status_code == 404  # the accused chair never finds the line
    await sign_in(browser, "xa.chutich")
    register = await browser.get(
        "/dashboard/register",
        params={"unit_id": commune.id, "subtree": "0", "start": day.isoformat(), "end": day.isoformat()},
    )
    m = re.search(r"Sổ tiếp công dân: ([\d.]+) lượt tiếp", register.text)
    assert m is not None
    listed = int(m.group(1))
    span = {"from": day.isoformat(), "to": day.isoformat(), "unit_id": commune.id}
    form = await api.http.get(f"{V1}/stats/forms/tcd", params=span, headers=await api.headers("xa.chutich"))
    assert form.status_code == 200, form.text
    (row,) = [row for row in form.json()["rows"] if row.get("unit_id") == commune.id]
    assert row["values"]["total_visits"] == listed == 0
    assert row["values"]["total_people"] == 0
    # The province's inspectorate, whom the line does not name, counts it as before.
    assert await _form_total(api, "thanhtra", "tcd", "total_visits", **span) == 1
    # And the chair's summary of the day has nothing either (the case is the province's; their scope is the commune).
    summary = await _summary(api, "xa.chutich", **{"from": day.isoformat(), "to": day.isoformat()})
    assert summary["received"] == 0


# ---- nothing lost for the others ----


async def test_an_unaccused_inspector_still_counts_the_case(api: Api) -> None:
    thanhtra = await api.user("thanhtra")
    other = await _second_inspector(api)
    province = await _unit(api, "15")
    day = days_ago(2)
    span = {"from": day, "to": day}
    before = await _summary(api, other.username, **span)
    await _denounce(api, [thanhtra], province.id or 0, day)
    after = await _summary(api, other.username, **span)
    assert after["received"] == before["received"] + 1
    assert after["by_kind"].get("denunciation", 0) == before["by_kind"].get("denunciation", 0) + 1
    assert after["by_field"].get("corruption", 0) == before["by_field"].get("corruption", 0) + 1
    accused = await _summary(api, "thanhtra", **span)
    assert accused["received"] == before["received"]
    # The forms likewise: the other inspector's 02/XLD counts the letter received that day, the accused's does not.
    assert (
        await _form_total(api, other.username, "xld", "received", **span)
        == await _form_total(api, "thanhtra", "xld", "received", **span) + 1
    )
    # A link removed later still hides the case from the accused (as their lists do).
    await api.session.execute(
        sa.text("UPDATE case_parties SET removed_at = now() WHERE officer_id = :me"), {"me": thanhtra.id}
    )
    assert (await _summary(api, "thanhtra", **span))["received"] == before["received"]


# ---- the cache keeps each one's answers apart (on a database whose requests commit: only then is an answer kept) ----


async def _orm(url: str, *rows: Any) -> list[int]:
    """Rows written and committed straight into the live database (the grant of a role is another test's concern);
    their ids."""
    engine = create_async_engine(url)
    async with AsyncSession(engine, expire_on_commit=False) as db:
        db.add_all(rows)
        await db.commit()
    await engine.dispose()
    return [r.id for r in rows]


async def _scalar(url: str, statement: str, **params: Any) -> Any:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        value = await conn.scalar(sa.text(statement), params)
    await engine.dispose()
    return value


async def _token(live: Live, username: str) -> dict[str, str]:
    user_id = await _scalar(live.url, "SELECT id FROM users WHERE username = :u", u=username)
    token, _ = security.create_access_token(SETTINGS, str(user_id), version=0)
    return {"Authorization": f"Bearer {token}"}


async def _live_total(live: Live, who: dict[str, str], form: str, column: str) -> float:
    r = await live.http.get(f"{V1}/stats/forms/{form}", params={"period": MAY}, headers=who)
    assert r.status_code == 200, r.text
    (total,) = [row for row in r.json()["rows"] if row["type"] == "total"]
    value: float = total["values"][column]
    return value


async def _live_denounce(live: Live, accused_id: int, day: str) -> int:
    province = await _scalar(live.url, "SELECT id FROM units WHERE code = '15'")
    body = {
        "kind": "denunciation",
        "field": "corruption",
        "channel": "in_person",
        "title": "Tố cáo cán bộ thanh tra",
        "content": "Tố cáo cán bộ thanh tra bao che sai phạm.",
        "received_at": day,
        "competent_unit_id": province,
        "parties": [{"role": "denouncer", "full_name": DENOUNCER, "id_number": DENOUNCER_ID}]
        + ([{"role": "accused", "full_name": "Cán bộ", "officer_id": accused_id}] if accused_id else []),
    }
    r = await live.http.post(f"{V1}/cases", headers=await live.headers("tinh.tiepdan"), json=body)
    assert r.status_code == 201, r.text
    made: int = r.json()["id"]
    return made


async def _inspector(live: Live, username: str) -> tuple[int, dict[str, str]]:
    unit = await _scalar(live.url, "SELECT id FROM units WHERE code = '15-TTT'")
    user = User(
        username=username, password_hash="!", full_name=username, unit_id=unit, roles=["inspector"], is_active=True
    )
    (user_id,) = await _orm(live.url, user)
    return user_id, await _token(live, username)


async def _kept(live: Live, period: str) -> int:
    found = await _scalar(live.url, "SELECT count(*) FROM stats_cache WHERE key LIKE :k", k=f"form:xld:{period}:%")
    return int(found or 0)


@pytest.mark.parametrize("first", ["everyone", "accused"])
async def test_the_cache_never_serves_one_the_others_figures(live: Live, first: str) -> None:
    accused_id, accused = await _inspector(live, f"thanhtra.bicao.{first}")
    _, other = await _inspector(live, f"thanhtra.khac.{first}")
    await _live_denounce(live, accused_id, "2026-05-20")
    order = [other, accused] if first == "everyone" else [accused, other]
    got: list[list[float]] = [[], []]
    for _ in range(2):  # the second round is served from the cache
        for i, who in enumerate(order):
            got[i].append(await _live_total(live, who, "xld", "received"))
    everyone, hidden = (got[0], got[1]) if first == "everyone" else (got[1], got[0])
    assert everyone[0] == hidden[0] + 1
    assert everyone[1] == everyone[0] and hidden[1] == hidden[0]
    # Kept: everyone's answer and the accused's own (and those of other accused callers), never one for both.
    assert await _kept(live, MAY) >= 2
    # The summary of a kept month likewise, both ways.
    summaries = []
    for who in order * 2:
        r = await live.http.get(f"{V1}/stats/summary", params={"period": MAY}, headers=who)
        assert r.status_code == 200, r.text
        summaries.append(r.json()["received"])
    a, b, a2, b2 = summaries
    assert (a, b) == (a2, b2) and abs(a - b) == 1


async def test_a_later_link_to_an_older_case_is_not_served_from_the_accuseds_kept_answer(live: Live) -> None:
    """case_parties has no version counter: the accused's kept answer carries their links (stats/accused.py)."""
    accused_id, accused = await _inspector(live, "thanhtra.lienket")
    await _live_denounce(live, accused_id, "2026-05-20")
    older = await _live_denounce(live, 0, "2026-05-21")
    first = await _live_total(live, accused, "xld", "received")
    assert await _live_total(live, accused, "xld", "received") == first  # kept
    # The older case now names the inspector too (a link made on a party): no counted column of it changed.
    await _orm(live.url, CaseParty(case_id=older, role="accused", full_name="Cán bộ", officer_id=accused_id))
    assert await _live_total(live, accused, "xld", "received") == first - 1


# ---- the inspections' evaluation, computed through the same statistics ----


async def test_an_accused_inspectors_evaluation_counts_what_they_may_read(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    thanhtra = await api.user("thanhtra")
    commune = await _unit(api, "04465")
    parties = [
        {"role": "denouncer", "full_name": DENOUNCER, "id_number": DENOUNCER_ID},
        {"role": "accused", "full_name": thanhtra.full_name, "officer_id": thanhtra.id},
    ]
    await intake(api, "xa.tiepdan", kind="denunciation", field="corruption", received_at="2026-10-01", parties=parties)
    monkeypatch.setattr(clock, "fixed_today", date(2027, 1, 10))  # the period under review has ended
    body = {"unit_id": commune.id, "review_period": "2026"}
    r = await api.http.post(f"{V1}/inspections", headers=await api.headers("thanhtra"), json=body)
    assert r.status_code == 201, r.text
    insp = r.json()

    async def evaluation(who: str) -> dict[str, Any]:
        got = await api.http.get(f"{V1}/inspections/{insp['id']}/evaluation", headers=await api.headers(who))
        assert got.status_code == 200, got.text
        out: dict[str, Any] = got.json()
        return out

    def value(ev: dict[str, Any], key: str) -> Any:
        return next(f["value"] for f in ev["figures"] if f["key"] == key)

    mine, chiefs = await evaluation("thanhtra"), await evaluation("thanhtra.truong")
    assert value(chiefs, "letters_received") == value(mine, "letters_received") + 1
    # Once the inspection runs, the figures kept at the start are complete, whoever read them first.
    team = {"decision_number": "1/QĐ", "decision_date": "2027-01-04", "members": [{"full_name": "Cán bộ mời"}]}
    h = await api.headers("thanhtra")
    assert (await api.http.post(f"{V1}/inspections/{insp['id']}/decision", headers=h, json=team)).status_code == 200
    started = await api.http.post(f"{V1}/inspections/{insp['id']}/start", headers=h, json={"start_date": "2027-01-05"})
    assert started.status_code == 200, started.text
    await evaluation("thanhtra")  # the first reading keeps the figures
    chiefs_now = await evaluation("thanhtra.truong")
    assert chiefs_now["changed_since_snapshot"] == []
    assert value(chiefs_now, "letters_received") == value(chiefs, "letters_received")


async def test_the_accused_chief_inspectors_live_report_leaves_the_case_out_but_the_frozen_report_is_complete(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    chief = await api.user("thanhtra.truong")
    province = await _unit(api, "15")
    await _denounce(api, [chief], province.id or 0, "2026-03-02")
    monkeypatch.setattr(clock, "fixed_today", date(2026, 7, 1))  # 2026-H1 (to 14 June) has ended

    async def live(who: str) -> dict[str, Any]:
        r = await api.http.get(
            f"{V1}/stats/inspectorate-report", params={"period": "2026-H1"}, headers=await api.headers(who)
        )
        assert r.status_code == 200, r.text
        province_figures: dict[str, Any] = r.json()["province"]
        return province_figures

    chiefs, inspectors = await live("thanhtra.truong"), await live("thanhtra")
    assert inspectors["received"] == chiefs["received"] + 1
    sent = await api.http.post(
        f"{V1}/stats/inspectorate-report/submissions",
        json={"period": "2026-H1"},
        headers=await api.headers("thanhtra.truong"),
    )
    assert sent.status_code == 201, sent.text
    assert sent.json()["figures"]["province"]["received"] == inspectors["received"]  # the record is complete


# ---- the heads' reception compliance: a sitting counts as held through the register lines the caller may read ----


async def _officer(api: Api, username: str) -> Officer:
    user = await api.user(username)
    unit = await api.session.get(Unit, user.unit_id)
    assert user.id is not None and unit is not None
    return Officer(user.id, user.username, unit.id or 0, unit.path, False, frozenset(user.roles))


async def _line_naming(api: Api, sess: dict[str, Any], accused: User) -> None:
    """The commune desk writes on the sitting a denunciation naming `accused` (a line they never find)."""
    province = await _unit(api, "15")
    r = await add_entry(
        api,
        sess,
        kind="denunciation",
        persons=[{"full_name": DENOUNCER, "id_number": DENOUNCER_ID}],
        content="Tố cáo cán bộ nhận tiền.",
        handling="within_competence",
        create_case={
            "title": "Tố cáo cán bộ",
            "field": "corruption",
            "competent_unit_id": province.id,
            "accused_officer_ids": [accused.id],
        },
    )
    assert r.status_code == 201, r.text
    got = await api.http.get(
        f"{V1}/reception-sessions/entries/{r.json()['id']}", headers=await api.headers(accused.username)
    )
    assert got.status_code == 404  # the accused may not find the line


async def _delegated(api: Api, who: str, period: str, unit_id: int) -> tuple[int, int]:
    """The unit's delegated days on GET /reception-sessions/compliance, and on the dashboard's reception table
    (oversight.compliance, through the statistics cache)."""
    r = await api.http.get(
        f"{V1}/reception-sessions/compliance", params={"period": period}, headers=await api.headers(who)
    )
    assert r.status_code == 200, r.text
    api_rows = [row for row in r.json()["items"] if row["unit_id"] == unit_id]
    table = await oversight.compliance(
        api.session, await _officer(api, who), periods.parse(period), unit_id=None, today=TODAY
    )
    kept_rows = [row for row in table if row["unit_id"] == unit_id]
    return (
        int(api_rows[0]["delegated_days"]) if api_rows else 0,
        int(kept_rows[0]["delegated_days"]) if kept_rows else 0,
    )


async def test_an_accused_chairs_reception_compliance_does_not_count_a_day_held_only_by_the_line_naming_them(
    api: Api,
) -> None:
    """Outside audit 2: a delegated sitting left `scheduled` counts as held once it has a register line
    (sittings.took_place). The line denouncing the commune chair is hidden from them; their compliance (the API's
    and the dashboard's) must not show a delegated day that exists only because of it."""
    day = TODAY - timedelta(days=1)
    sess = await new_session(api, day, in_person=False, status="scheduled")
    period = day.strftime("%Y-%m")
    commune = await _unit(api, "04465")
    before = await _delegated(api, "xa.chutich", period, commune.id or 0)
    await _line_naming(api, sess, await api.user("xa.chutich"))
    assert sess["status"] == "scheduled"
    assert await _delegated(api, "xa.chutich", period, commune.id or 0) == before


async def test_an_unaccused_inspector_still_counts_the_day_and_the_accuseds_table_is_kept_apart(api: Api) -> None:
    """The same line naming an inspector: another inspector (same view of the province) counts the day, on the API
    and on the dashboard's kept table; the accused inspector, asking after, is not served that kept answer."""
    day = TODAY - timedelta(days=1)
    sess = await new_session(api, day, in_person=False, status="scheduled")
    period = day.strftime("%Y-%m")
    commune = (await _unit(api, "04465")).id or 0
    other = await _second_inspector(api)
    before = await _delegated(api, other.username, period, commune)
    assert await _delegated(api, "thanhtra", period, commune) == before
    await _line_naming(api, sess, await api.user("thanhtra"))
    assert await _delegated(api, other.username, period, commune) == (before[0] + 1, before[1] + 1)
    assert await _delegated(api, "thanhtra", period, commune) == before


async def test_the_dashboards_kept_reception_table_is_never_served_across_the_accused(live: Live) -> None:
    """The dashboard's reception table is kept (oversight.compliance, a month long over): an inspector named in a
    line's case gets their own kept answer, never another inspector's (who counts the day the line made)."""
    accused_id, _ = await _inspector(live, "thanhtra.tiepdan.bicao")
    other_id, _ = await _inspector(live, "thanhtra.tiepdan.khac")
    commune = await _scalar(live.url, "SELECT id FROM units WHERE code = '04465'")
    body = session_body(commune, date(2026, 5, 14), status="scheduled")
    body.update(in_person=False)
    made = await live.http.post(f"{V1}/reception-sessions", headers=await live.headers("xa.tiepdan"), json=body)
    assert made.status_code == 201, made.text
    sess = made.json()
    province = await _scalar(live.url, "SELECT id FROM units WHERE code = '15'")
    line = await add_entry(
        live,  # type: ignore[arg-type]
        sess,
        kind="denunciation",
        persons=[{"full_name": DENOUNCER, "id_number": DENOUNCER_ID}],
        content="Tố cáo thanh tra viên nhận tiền.",
        handling="within_competence",
        create_case={
            "title": "Tố cáo thanh tra viên",
            "field": "corruption",
            "competent_unit_id": province,
            "accused_officer_ids": [accused_id],
        },
    )
    assert line.status_code == 201, line.text
    path = await _scalar(live.url, "SELECT path FROM units WHERE code = '15-TTT'")
    unit = await _scalar(live.url, "SELECT id FROM units WHERE code = '15-TTT'")

    def officer(user_id: int, name: str) -> Officer:
        return Officer(user_id, name, unit, path, False, frozenset({"inspector"}))

    engine = create_async_engine(live.url)
    try:
        got = []
        for who in [officer(other_id, "thanhtra.tiepdan.khac"), officer(accused_id, "thanhtra.tiepdan.bicao")] * 2:
            async with AsyncSession(engine, expire_on_commit=False) as s:  # the second round: from the cache
                rows = await oversight.compliance(s, who, periods.parse(MAY), unit_id=None, today=TODAY)
            got.append(sum(int(r["delegated_days"]) for r in rows if r["unit_id"] == commune))
        other, accused, other_again, accused_again = got
        assert (other, accused) == (other_again, accused_again) and other == accused + 1
        kept = await _scalar(live.url, "SELECT count(*) FROM stats_cache WHERE key LIKE 'compliance:2026-05:%'")
        assert int(kept) >= 2  # everyone's answer and the accused's own, apart
    finally:
        await engine.dispose()
