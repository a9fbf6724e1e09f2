"""The inspectorate's report forms on hand-counted fixtures (every column, the 14/15 March and 14/15 June
boundaries, carry-over), their exports, frozen submissions and their diff, scope, the summary and watch-list,
urging and enforcement through the API, and that statistics carry no name."""

import csv
import io
import itertools
from datetime import date, datetime, time, timedelta
from typing import Any

import openpyxl
import sqlalchemy as sa

from api.models.cases import Case
from api.models.reception import ReceptionEntry, ReceptionSession
from api.models.unit import Unit
from tests.conftest import Api
from tests.helpers import TODAY, V1, act, days_ago, intake
from workflows import forms

Q2 = "2026-Q2"  # statutory cut-offs: 15 March → 14 June 2026
_n = itertools.count(1)


async def _units(api: Api) -> tuple[int, int, int]:
    """A parent agency P with two communes A and B of its own, under the province."""
    province = await api.session.scalar(sa.select(Unit).where(Unit.code == "15"))
    assert province is not None
    made: list[Unit] = []
    for code, level in (("S-P", "agency"), ("S-A", "commune"), ("S-B", "commune")):
        parent = made[0] if made else province
        unit = Unit(code=code, name=f"Đơn vị {code}", level=level, parent_id=parent.id, path="/", is_active=True)
        api.session.add(unit)
        await api.session.flush()
        unit.path = f"{parent.path}{unit.id}/"
        made.append(unit)
    await api.session.flush()
    return made[0].id or 0, made[1].id or 0, made[2].id or 0


async def _case(api: Api, unit: int, received: date, *, receiving: int | None = None, **values: Any) -> int:
    desk = (await api.user("xa.tiepdan")).id
    n = next(_n)
    case = Case(
        tracking_code=f"ST-{n:08d}",
        access_key_hash="0" * 64,
        kind=values.pop("kind", "complaint"),
        field=values.pop("field", "land"),
        channel="in_person",
        title="Thống kê",
        content="Nội dung",
        received_at=received,
        receiving_unit_id=receiving or unit,
        competent_unit_id=unit,
        received_by_id=desk,
        status=values.pop("status", "received"),
        complexity="normal",
        remote_area=False,
        remote_area_explicit=False,
        signer_count=values.pop("signer_count", 1),
        is_anonymous=False,
        multi_place_verification=False,
        level_skipping=values.pop("level_skipping", False),
        version=1,
        remedies=values.pop("remedies", {}),
        extension_count=0,
        warnings=[],
        timers=[],
        event_count=0,
        **values,
    )
    api.session.add(case)
    await api.session.flush()
    assert case.id is not None
    return case.id


D = date


async def _xld_fixtures(api: Api, a: int) -> None:
    c2 = await _case(api, a, D(2026, 3, 14), processed_on=D(2026, 3, 15), processed_as="accept", status="accepted")
    await _case(api, a, D(2026, 3, 14))  # c1: carried over, still unprocessed
    await _case(api, a, D(2026, 3, 10), processed_on=D(2026, 3, 14), processed_as="accept")  # c3: before the period
    await _case(  # c4
        api, a, D(2026, 3, 15), kind="petition", field="policy", processed_on=D(2026, 4, 1), processed_as="guide"
    )
    await _case(  # c5: a repeat letter transferred
        api,
        a,
        D(2026, 5, 1),
        kind="denunciation",
        field="corruption",
        processed_on=D(2026, 5, 3),
        processed_as="transfer",
        repeat_of_case_id=c2,
    )
    await _case(api, a, D(2026, 6, 14), processed_on=D(2026, 6, 15), processed_as="store")  # c6: processed after
    await _case(api, a, D(2026, 6, 15))  # c7: after the period
    await _case(api, a, D(2026, 4, 10), kind="feedback", processed_on=D(2026, 4, 12), processed_as="store")  # c8
    await _case(  # c9: second round of a repeat, refused
        api,
        a,
        D(2026, 4, 11),
        field="admin_other",
        complaint_round=2,
        repeat_of_case_id=c2,
        processed_on=D(2026, 4, 13),
        processed_as="reject",
    )


XLD_A = {
    "total": 7, "carried": 2, "received": 5, "processed": 5, "unprocessed": 2, "eligible_letters": 4,
    "eligible_matters": 2, "complaint": 2, "denunciation": 1, "petition": 1, "settled_once": 1, "settled_more": 1,
    "not_settled": 2, "competent": 2, "competent_complaint": 2, "competent_denunciation": 0, "competent_petition": 0,
    "outside": 2, "guided": 1, "transferred": 1, "urged": 0, "replies": 2, "field_land": 1, "field_compensation": 0,
    "field_policy": 1, "field_civil_service": 0, "field_admin_other": 1, "field_judicial": 0, "field_corruption": 1,
    "field_party": 0, "field_other": 0,
}  # fmt: skip


async def _settlement_fixtures(api: Api, a: int) -> None:
    """Matters A settles, received as letters by the province (so they stay out of A's letter form)."""
    province = await api.session.scalar(sa.select(Unit.id).where(Unit.code == "15"))

    async def matter(api: Api, unit: int, received: date, **values: Any) -> int:
        return await _case(api, unit, received, receiving=province, **values)

    acc = {"status": "accepted", "processed_as": "accept"}
    await matter(api, a, D(2026, 3, 1), accepted_on=D(2026, 3, 14), **acc)  # g1 carried, pending
    await matter(  # g2 carried, settled by decision, correct, on time, with remedies
        api,
        a,
        D(2026, 2, 20),
        accepted_on=D(2026, 3, 1),
        settled_on=D(2026, 3, 20),
        status="resolved",
        outcome="correct",
        complaint_round=1,
        decision_date=D(2026, 3, 20),
        resolution_late=False,
        remedies={"money_to_state_vnd": 5_000_000, "land_to_state_m2": 120.5, "people_sanctioned": 2,
                  "officials_sanctioned": 1},
    )  # fmt: skip
    await matter(  # g3 new, partly correct, late
        api,
        a,
        D(2026, 3, 10),
        accepted_on=D(2026, 3, 15),
        settled_on=D(2026, 6, 14),
        status="resolved",
        outcome="partly_correct",
        complaint_round=1,
        decision_date=D(2026, 6, 14),
        resolution_late=True,
    )
    await matter(  # g4 withdrawn
        api, a, D(2026, 3, 20), accepted_on=D(2026, 4, 1), settled_on=D(2026, 5, 1), status="terminated",
        reason_code="withdrawn", resolution_late=False,
    )  # fmt: skip
    await matter(api, a, D(2026, 3, 25), accepted_on=D(2026, 4, 2), settled_on=D(2026, 6, 15), status="resolved")  # g5
    await matter(  # g6 second round annulled
        api,
        a,
        D(2026, 4, 20),
        accepted_on=D(2026, 5, 1),
        settled_on=D(2026, 5, 20),
        status="resolved",
        outcome="annulled",
        complaint_round=2,
        decision_date=D(2026, 5, 20),
    )
    await matter(  # g7 settled before the period (and enforced then)
        api, a, D(2026, 1, 5), accepted_on=D(2026, 2, 1), settled_on=D(2026, 3, 14), status="resolved",
        outcome="correct", complaint_round=1, decision_date=D(2026, 3, 14), enforced_on=D(2026, 3, 14),
    )  # fmt: skip
    await matter(api, a, D(2026, 6, 1), accepted_on=D(2026, 6, 15), status="accepted")  # g8 after the period
    await matter(  # g9 terminated for another reason
        api, a, D(2026, 4, 1), accepted_on=D(2026, 4, 5), settled_on=D(2026, 4, 20), status="terminated",
        reason_code="complainant_died",
    )  # fmt: skip
    # Enforced in the period, decided before it.
    await matter(
        api,
        a,
        D(2025, 11, 1),
        accepted_on=D(2025, 11, 10),
        settled_on=D(2026, 1, 10),
        status="closed",
        outcome="correct",
        complaint_round=1,
        decision_date=D(2026, 1, 10),
        remedies={"money_to_citizens_vnd": 2_000_000},
        enforced_on=D(2026, 4, 1),
        enforcement={"money_to_citizens_vnd": 2_000_000, "people_sanctioned": 1},
    )
    den = {"kind": "denunciation", "field": "corruption"}
    await matter(api, a, D(2026, 3, 1), accepted_on=D(2026, 3, 5), repeat_of_case_id=None, **den, status="in_progress")
    await matter(
        api, a, D(2026, 4, 1), accepted_on=D(2026, 4, 3), settled_on=D(2026, 5, 3), status="resolved",
        outcome="false", decision_date=D(2026, 5, 3), **den,
    )  # fmt: skip
    await matter(
        api, a, D(2026, 4, 2), accepted_on=D(2026, 4, 4), settled_on=D(2026, 5, 4), status="terminated",
        reason_code="withdrawn", **den,
    )  # fmt: skip


GQKN_A = {
    "total": 7, "carried": 2, "new": 5, "settled": 5, "by_decision": 3, "withdrawn": 1, "terminated": 1,
    "first_correct": 1, "first_partly": 1, "first_wrong": 0, "second_upheld": 0, "second_changed": 1,
    "money_to_state": 5.0, "land_to_state": 120.5, "money_to_citizens": 0, "land_to_citizens": 0,
    "organisations_restored": 0, "people_restored": 0, "people_sanctioned": 2, "officials_sanctioned": 1,
    "referred_cases": 0, "referred_people": 0, "on_time": 4, "late": 1, "pending": 2,
}  # fmt: skip
GQTC_A = {
    "total": 3, "carried": 1, "new": 2, "repeat": 0, "settled": 2, "by_conclusion": 1, "withdrawn": 1,
    "terminated": 0, "correct": 0, "partly": 0, "false": 1, "on_time": 2, "late": 0, "pending": 1,
}  # fmt: skip
KQTH_A = {
    "total": 5, "carried": 1, "new": 4, "enforced": 1, "pending": 4, "money_to_state_due": 5.0,
    "money_to_state_done": 0, "land_to_state_due": 120.5, "land_to_state_done": 0, "money_to_citizens_due": 2.0,
    "money_to_citizens_done": 2.0, "land_to_citizens_due": 0, "land_to_citizens_done": 0, "sanction_due": 2,
    "sanction_done": 1, "prosecute_due": 0, "prosecuted_cases": 0, "prosecuted_people": 0,
}  # fmt: skip


async def _tcd_fixtures(api: Api, a: int) -> None:
    creator = (await api.user("admin")).id

    async def session(day: date, kind: str, in_person: bool = True, status: str = "held") -> int:
        start = datetime.combine(day, time(8), tzinfo=datetime.now().astimezone().tzinfo)
        s = ReceptionSession(
            unit_id=a, kind=kind, mode="direct", in_person=in_person, status=status, starts_at=start,
            ends_at=start + timedelta(hours=2), day=day, location="Hội trường", created_by_id=creator,
        )  # fmt: skip
        api.session.add(s)
        await api.session.flush()
        assert s.id is not None
        return s.id

    serial = itertools.count(1)

    async def entry(sid: int, day: date, visit: str, people: int = 1) -> None:
        api.session.add(
            ReceptionEntry(
                session_id=sid, unit_id=a, year=day.year, serial=next(serial), received_on=day, kind="complaint",
                content="x", persons=[{}], representatives=[], people_count=people, is_group=people >= 5,
                handling="explained", visit=visit, created_by_id=creator,
            )
        )  # fmt: skip
        await api.session.flush()

    s1 = await session(D(2026, 3, 14), "regular")
    await entry(s1, D(2026, 3, 14), "first")  # before the period
    s2 = await session(D(2026, 3, 15), "regular")
    await entry(s2, D(2026, 3, 15), "first")
    await entry(s2, D(2026, 3, 15), "repeat", people=6)
    s3 = await session(D(2026, 4, 10), "periodic")
    await entry(s3, D(2026, 4, 10), "first", people=2)
    await entry(s3, D(2026, 4, 10), "first", people=12)
    await session(D(2026, 5, 5), "adhoc")  # held, no one came: still a session
    s5 = await session(D(2026, 6, 14), "periodic", in_person=False)
    await entry(s5, D(2026, 6, 14), "repeat")
    await session(D(2026, 5, 6), "periodic", status="cancelled")
    s7 = await session(D(2026, 6, 15), "periodic")
    await entry(s7, D(2026, 6, 15), "first")  # after the period


TCD_A = {
    "total_visits": 5, "total_people": 22, "total_matters": 5,
    "reg_visits": 2, "reg_people": 7, "reg_first": 1, "reg_repeat": 1, "reg_groups": 1, "reg_group_people": 6,
    "reg_group_first": 0, "reg_group_repeat": 1,
    "head_sessions": 2, "head_visits": 2, "head_people": 14, "head_first": 2, "head_repeat": 0, "head_groups": 1,
    "head_group_people": 12, "head_group_first": 1, "head_group_repeat": 0,
    "del_sessions": 1, "del_visits": 1, "del_people": 1, "del_first": 0, "del_repeat": 1, "del_groups": 0,
    "del_group_people": 0, "del_group_first": 0, "del_group_repeat": 0,
}  # fmt: skip

EXPECTED = {"tcd": TCD_A, "xld": XLD_A, "gqkn": GQKN_A, "gqtc": GQTC_A, "kqth": KQTH_A}


async def _all_fixtures(api: Api) -> tuple[int, int, int]:
    p, a, b = await _units(api)
    await _xld_fixtures(api, a)
    await _settlement_fixtures(api, a)
    await _tcd_fixtures(api, a)
    await _case(api, b, D(2026, 5, 5))  # B: one letter received, unprocessed
    return p, a, b


async def _form(api: Api, form: str, user: str = "thanhtra", **params: Any) -> Any:
    r = await api.http.get(f"{V1}/stats/forms/{form}", headers=await api.headers(user), params=params)
    assert r.status_code == 200, r.text
    return r


def _row(doc: dict[str, Any], unit: int | None, kind: str = "unit") -> dict[str, Any]:
    return next(r for r in doc["rows"] if r["unit_id"] == unit and r["type"] == kind)


async def test_every_column_of_every_form_on_hand_counted_fixtures(api: Api) -> None:
    p, a, b = await _all_fixtures(api)
    for code, expected in EXPECTED.items():
        doc = (await _form(api, code, period=Q2, unit_id=p)).json()
        assert doc["start"] == "2026-03-15" and doc["end"] == "2026-06-14"
        values = _row(doc, a)["values"]
        full = {k: expected.get(k, 0) for k in forms.FORMS[code].column_keys()}
        assert values == full, code
        # Column numbers run 1..n in order, and every row keeps the form's identities.
        assert [c["number"] for c in doc["columns"]] == list(range(1, len(doc["columns"]) + 1))
        for row in doc["rows"]:
            assert forms.FORMS[code].broken(row["values"]) == [], (code, row["unit_code"])
        # P's scope: P, A, B and the total; the total is the sum of the units.
        assert [r["type"] for r in doc["rows"]] == ["unit", "unit", "unit", "total"]
        total = _row(doc, None, "total")["values"]
        for key in total:
            assert round(total[key], 2) == round(sum(r["values"][key] for r in doc["rows"][:-1]), 2)
    xld = (await _form(api, "xld", period=Q2, unit_id=p)).json()
    assert _row(xld, b)["values"]["received"] == 1 and _row(xld, b)["values"]["unprocessed"] == 1
    assert _row(xld, None, "total")["values"]["total"] == 8


async def test_the_boundaries_move_with_the_cut_offs(api: Api) -> None:
    p, a, _ = await _all_fixtures(api)
    # Q1 2026 is 15 December 2025 → 14 March 2026: the letters of 14 March are new there, carried into Q2.
    q1 = _row((await _form(api, "xld", period="2026-Q1", unit_id=p)).json(), a)["values"]
    assert (q1["received"], q1["carried"], q1["processed"], q1["unprocessed"]) == (3, 0, 1, 2)  # c1, c2, c3
    # A calendar range is also accepted, and the forms agree with the period when the range is the same.
    same = _row((await _form(api, "xld", unit_id=p, **{"from": "2026-03-15", "to": "2026-06-14"})).json(), a)
    assert same["values"] == {k: XLD_A.get(k, 0) for k in forms.XLD.column_keys()}


async def test_subtotals_per_parent_in_the_province_view(api: Api) -> None:
    p, a, b = await _all_fixtures(api)
    doc = (await _form(api, "gqkn", period=Q2)).json()
    sub = _row(doc, p, "subtotal")
    assert sub["values"]["total"] == GQKN_A["total"] and sub["unit_name"].startswith("Cộng")
    types = [r["type"] for r in doc["rows"]]
    assert types[-1] == "total" and types.count("subtotal") == 1
    position = [(r["type"], r["unit_id"]) for r in doc["rows"]]
    assert position.index(("unit", p)) < position.index(("unit", a)) < position.index(("subtotal", p))


async def test_exports_match_the_json(api: Api) -> None:
    p, a, _ = await _all_fixtures(api)
    doc = (await _form(api, "tcd", period=Q2, unit_id=p)).json()
    x = await _form(api, "tcd", period=Q2, unit_id=p, format="xlsx")
    assert x.headers["content-type"].startswith("application/vnd.openxmlformats")
    ws = openpyxl.load_workbook(io.BytesIO(x.content)).active
    assert ws is not None
    assert ws.freeze_panes is not None and "2026" in ws.oddFooter.center.text
    cells = [[c.value for c in row] for row in ws.iter_rows()]
    numbers_row = next(i for i, row in enumerate(cells) if row[3] == "(1)")
    assert cells[numbers_row][3 : 3 + 29] == [f"({n})" for n in range(1, 30)]
    # Grouped header: "Tổng số" over three columns, merged.
    merged = {str(m) for m in ws.merged_cells.ranges}
    assert "D4:F4" in merged and "A4:A7" in merged  # header rows 4–7, the numbers on row 8
    body = cells[numbers_row + 1 :]
    keys = forms.TCD.column_keys()
    assert len(body) == len(doc["rows"])
    for row, line in zip(doc["rows"], body, strict=True):
        assert (line[1] or "") == row["unit_code"] and line[3 : 3 + len(keys)] == [row["values"][k] for k in keys]
    c = await _form(api, "tcd", period=Q2, unit_id=p, format="csv")
    assert c.content.startswith("\ufeff".encode())
    lines = list(csv.reader(io.StringIO(c.content.decode("utf-8-sig"))))
    assert lines[3][3:6] == ["(1)", "(2)", "(3)"] and "Tổng số / Lượt" in lines[2]
    a_line = next(line for line in lines if line[1:2] == ["S-A"])
    assert [float(v) for v in a_line[3:]] == [float(TCD_A[k]) for k in keys]


async def test_bad_input(api: Api) -> None:
    h = await api.headers("thanhtra")
    for params, status, code in (
        ({"period": "2026-Q5"}, 422, "invalid_period"),
        ({"period": "2026-13"}, 422, "invalid_period"),
        ({"from": "2026-05-01", "to": "2026-04-01"}, 422, "invalid_period"),
        ({"period": "2026-Q2", "format": "odt"}, 415, "unsupported_format"),
        ({}, 422, "invalid_period"),
    ):
        r = await api.http.get(f"{V1}/stats/forms/xld", headers=h, params=params)
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), params
    assert r.json()["error"]["message"]
    r = await api.http.get(f"{V1}/stats/forms/abc", headers=h, params={"period": "2026-Q2"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "no_such_form"
    refused = (await api.http.get(f"{V1}/stats/forms/xld", headers=h, params={"period": Q2, "format": "odt"})).json()
    assert refused["error"]["details"]["allowed"] == ["json", "csv", "xlsx", "pdf"]


async def test_a_unit_head_sees_only_their_subtree(api: Api) -> None:
    p, _, _ = await _all_fixtures(api)
    doc = (await _form(api, "xld", user="xa.chutich", period=Q2)).json()
    assert [r["unit_code"] for r in doc["rows"]] == ["04465", ""]
    h = await api.headers("xa.chutich")
    r = await api.http.get(f"{V1}/stats/forms/xld", headers=h, params={"period": Q2, "unit_id": p})
    assert r.status_code == 404
    r = await api.http.get(f"{V1}/stats/forms/xld", headers=await api.headers("xa.tiepdan"), params={"period": Q2})
    assert r.status_code == 403


async def test_a_submitted_report_is_frozen_and_its_diff_shows_what_moved(api: Api) -> None:
    p, a, _ = await _all_fixtures(api)
    h = await api.headers("thanhtra")
    r = await api.http.post(f"{V1}/stats/forms/gqkn/submissions", headers=h, json={"period": Q2, "unit_id": p})
    assert r.status_code == 201, r.text
    report = r.json()
    again = await api.http.post(f"{V1}/stats/forms/gqkn/submissions", headers=h, json={"period": Q2, "unit_id": p})
    assert again.status_code == 409 and again.json()["error"]["code"] == "report_already_submitted"
    # A case changes after submission: one more complaint accepted in the period.
    await _case(api, a, D(2026, 5, 1), accepted_on=D(2026, 5, 2), status="accepted")
    stored = (await api.http.get(f"{V1}/stats/forms/gqkn/submissions/{report['id']}", headers=h)).json()
    assert _row(stored, a)["values"]["total"] == GQKN_A["total"]
    diff = (await api.http.get(f"{V1}/stats/forms/gqkn/submissions/{report['id']}/diff", headers=h)).json()
    moved = {(c["type"], c["unit_id"], c["column"]): (c["submitted"], c["live"]) for c in diff["changes"]}
    assert moved[("unit", a, "total")] == (7, 8) and moved[("unit", a, "new")] == (5, 6)
    assert moved[("total", None, "pending")] == (2, 3)
    # Not even the service's own database role can rewrite it.
    try:
        await api.session.execute(sa.text("SAVEPOINT frozen"))
        await api.session.execute(
            sa.text("UPDATE stat_reports SET figures = '{}' WHERE id = :id"), {"id": report["id"]}
        )
        raise AssertionError("the application role updated a submitted report")
    except sa.exc.ProgrammingError as exc:
        assert "permission denied" in str(exc)
        await api.session.execute(sa.text("ROLLBACK TO SAVEPOINT frozen"))
    status = (await api.http.get(f"{V1}/stats/submissions", headers=h, params={"form": "gqkn", "period": Q2})).json()
    assert status["due_date"] == "2026-06-21"
    mine = next(i for i in status["items"] if i["unit_id"] == p)
    assert mine["submitted"] is True and status["missing"] >= 100
    # A unit head submits for their own unit only.
    r = await api.http.post(
        f"{V1}/stats/forms/xld/submissions", headers=await api.headers("xa.chutich"), json={"period": Q2, "unit_id": p}
    )
    assert r.status_code == 403 and r.json()["error"]["code"] == "report_forbidden"


async def test_the_workflow_sets_the_milestones_the_forms_count(api: Api) -> None:
    case = await intake(api, "xa.tiepdan", received_at=days_ago(20))
    case = await act(api, "xa.chutich", case, "accept", decision_number="1/TL", effective_date=days_ago(18))
    row = await api.session.get(Case, case["id"])
    assert row is not None and row.processed_on == TODAY - timedelta(days=18) and row.processed_as == "accept"
    case = await act(
        api,
        "xa.chutich",
        case,
        "resolve",
        outcome="correct",
        decision_number="2/QĐ",
        effective_date=days_ago(2),
        remedies={"money_to_citizens_vnd": 3_000_000, "people_restored": 2},
    )
    await api.session.refresh(row)
    assert row.settled_on == TODAY - timedelta(days=2) and row.resolution_late is False
    unit = row.competent_unit_id
    span = {"from": days_ago(30), "to": TODAY.isoformat(), "unit_id": unit}
    gqkn = _row((await _form(api, "gqkn", **span)).json(), unit)["values"]
    assert (gqkn["new"], gqkn["first_correct"], gqkn["money_to_citizens"], gqkn["people_restored"]) == (1, 1, 3.0, 2)
    # Enforcement, through the API.
    h = await api.headers("xa.chutich")
    r = await api.http.post(
        f"{V1}/cases/{case['id']}/enforcement",
        headers=h,
        json={"enforced_on": days_ago(1), "money_to_citizens_vnd": 3_000_000},
    )
    assert r.status_code == 200, r.text
    kqth = _row((await _form(api, "kqth", **span)).json(), unit)["values"]
    assert (kqth["enforced"], kqth["money_to_citizens_due"], kqth["money_to_citizens_done"]) == (1, 3.0, 3.0)
    r = await api.http.post(
        f"{V1}/cases/{case['id']}/enforcement", headers=h, json={"enforced_on": days_ago(10)}
    )  # before the decision
    assert r.status_code == 422
    open_case = await intake(api, "xa.tiepdan")
    r = await api.http.post(f"{V1}/cases/{open_case['id']}/enforcement", headers=h, json={"enforced_on": days_ago(1)})
    assert r.status_code == 409 and r.json()["error"]["code"] == "enforcement_not_allowed"


async def test_urging_an_overdue_unit_is_recorded_and_counted(api: Api) -> None:
    late = await intake(api, "xa.tiepdan", received_at=days_ago(60))
    fresh = await intake(api, "xa.tiepdan")
    unit = (await api.session.get(Case, late["id"])).competent_unit_id  # type: ignore[union-attr]
    h = await api.headers("thanhtra")
    r = await api.http.post(f"{V1}/stats/urge", headers=h, json={"unit_id": unit, "case_ids": [fresh["id"]]})
    assert r.status_code == 422 and r.json()["error"]["code"] == "not_overdue"
    r = await api.http.post(f"{V1}/stats/urge", headers=h, json={"unit_id": unit, "reason": "Đề nghị giải quyết"})
    assert r.status_code == 200 and late["id"] in r.json()["case_ids"]
    events = (await api.http.get(f"{V1}/cases/{late['id']}/events", headers=h)).json()["items"]
    assert any(e["action"] == "urge" for e in events)
    inspectorate = (await api.user("thanhtra")).unit_id
    xld = (await _form(api, "xld", **{"from": days_ago(1), "to": TODAY.isoformat(), "unit_id": inspectorate})).json()
    assert _row(xld, inspectorate)["values"]["urged"] == r.json()["urged"]
    assert _row(xld, inspectorate)["values"]["outside"] >= r.json()["urged"]


async def test_summary_and_watchlist(api: Api) -> None:
    await intake(api, "xa.tiepdan", received_at=days_ago(60))  # overdue by now
    multi = await intake(api, "xa.tiepdan", signer_count=8, field="compensation")
    h = await api.headers("thanhtra")
    s = (
        await api.http.get(f"{V1}/stats/summary", headers=h, params={"from": days_ago(90), "to": TODAY.isoformat()})
    ).json()
    assert s["received"] >= 2 and s["by_kind"]["complaint"] >= 2 and s["overdue_now"] >= 1
    assert s["satisfaction"] == {"ratings": 0, "share_4_5": None, "goal": 0.9}
    assert sum(t["received"] for t in s["trend"]) == s["received"]
    w = (await api.http.get(f"{V1}/stats/watchlist", headers=h, params={"limit": 200})).json()
    reasons = {i["case_id"]: i["reasons"] for i in w["items"]}
    assert "multi_person" in reasons[multi["id"]]
    assert any("overdue" in r for r in reasons.values())
    only = (await api.http.get(f"{V1}/stats/watchlist", headers=h, params={"reason": "multi_person"})).json()
    assert all("multi_person" in i["reasons"] for i in only["items"])
    bad = await api.http.get(f"{V1}/stats/watchlist", headers=h, params={"reason": "nope"})
    assert bad.status_code == 422


async def test_statistics_carry_counts_never_names(api: Api) -> None:
    name = "Lường Thị Nhàn"
    await intake(
        api,
        kind="denunciation",
        field="corruption",
        title=f"Tố cáo của bà {name}",
        content=f"Tôi là {name}, tố cáo cán bộ xã.",
        received_at=days_ago(50),
        parties=[{"role": "denouncer", "full_name": name, "id_number": "015190001111"}],
    )
    h = await api.headers("thanhtra")
    span = {"from": days_ago(90), "to": TODAY.isoformat()}
    seen = []
    for code in forms.FORMS:
        for fmt in ("json", "csv", "xlsx"):
            r = await api.http.get(f"{V1}/stats/forms/{code}", headers=h, params={**span, "format": fmt})
            seen.append(r.content)
    seen.append((await api.http.get(f"{V1}/stats/summary", headers=h, params=span)).content)
    seen.append((await api.http.get(f"{V1}/stats/watchlist", headers=h, params={"limit": 200})).content)
    for body in seen:
        assert name.encode() not in body and b"015190001111" not in body


async def test_the_14_15_december_boundary(api: Api) -> None:
    p, a, _ = await _units(api)
    await _case(api, a, D(2025, 12, 14), processed_on=D(2025, 12, 15), processed_as="accept")
    await _case(api, a, D(2025, 12, 15), processed_on=D(2025, 12, 16), processed_as="guide", kind="petition")
    year_2025 = _row((await _form(api, "xld", period="2025", unit_id=p)).json(), a)["values"]
    # 2025's year ends on 14 December: the first letter is new there and still unprocessed at its end.
    assert (year_2025["received"], year_2025["processed"], year_2025["unprocessed"]) == (1, 0, 1)
    q1 = _row((await _form(api, "xld", period="2026-Q1", unit_id=p)).json(), a)["values"]
    # 2026's first quarter starts on 15 December 2025: the first letter is carried into it, the second is new.
    assert (q1["carried"], q1["received"], q1["processed"], q1["competent"], q1["guided"]) == (1, 1, 2, 1, 1)
    assert _row((await _form(api, "xld", period="2026", unit_id=p)).json(), a)["values"]["total"] == 2


async def test_times_in_answers_and_on_forms_are_lao_cais(api: Api) -> None:
    """A sitting reads back at +07:00 from the API (as written, or the same instant when written in UTC), in its
    list, its page and the public schedule; a form's `generated_at` is +07:00 and its exports print that time."""
    from tests.test_reception import COMMUNE, unit_id

    commune = await unit_id(api, COMMUNE)
    h = await api.headers("xa.tiepdan")
    day = TODAY + timedelta(days=10)
    written = {
        "unit_id": commune, "kind": "periodic", "mode": "direct", "in_person": True, "location": "Trụ sở UBND xã",
        "starts_at": f"{day.isoformat()}T08:00:00+07:00", "ends_at": f"{day.isoformat()}T04:00:00Z",  # 11:00 here
    }  # fmt: skip
    made = await api.http.post(f"{V1}/reception-sessions", headers=h, json=written)
    assert made.status_code == 201, made.text
    read = (await api.http.get(f"{V1}/reception-sessions/{made.json()['id']}", headers=h)).json()
    for answer in (made.json(), read):
        assert answer["starts_at"] == f"{day.isoformat()}T08:00:00+07:00"
        assert answer["ends_at"] == f"{day.isoformat()}T11:00:00+07:00"
        assert answer["created_at"].endswith("+07:00")
    listed = (await api.http.get(f"{V1}/reception-sessions", headers=h, params={"unit_id": commune})).json()["items"]
    assert all(s["starts_at"].endswith("+07:00") for s in listed) and listed
    schedule = (await api.http.get(f"{V1}/reception-sessions/schedule")).json()["items"]
    mine = [s for s in schedule if s["id"] == made.json()["id"]]
    assert mine and mine[0]["starts_at"] == f"{day.isoformat()}T08:00:00+07:00"
    doc = (await _form(api, "gqkn", period=Q2)).json()
    generated = datetime.fromisoformat(doc["generated_at"])
    assert doc["generated_at"].endswith("+07:00")
    csv_text = (await _form(api, "gqkn", period=Q2, format="csv")).content.decode("utf-8-sig")
    assert f"lập lúc {generated:%H:%M} ngày {generated:%d/%m/%Y}" in csv_text and "Quý II/2026" in csv_text
