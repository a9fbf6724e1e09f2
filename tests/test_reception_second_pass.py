"""Citizen reception, second pass (issue 22), worked examples on real dates through the API:

- a session with people in its register cannot be cancelled (LTCD art. 25: the register records who was received),
  also when the cancellation and an entry race; one cancelled before any entry counts nowhere;
- monthly compliance counts the head's periodic days (LTCD art. 12–18; delegated days only before 2026-07-01,
  Law 136/2025) and lists ad-hoc days beside them without letting them make up a shortfall;
- a visitor refused under LTCD art. 9 is written in the register with the ground and its written notice, due
  within 3 working days (Decree 154/2026)."""

import asyncio
from datetime import date
from typing import Any

import sqlalchemy as sa

from api.models.reception import ReceptionSession
from tests.conftest import Api, Live
from tests.helpers import V1, VALID_ID
from tests.test_reception import COMMUNE, add_entry, at, new_session, session_body, unit_id

PROVINCE = "15"


async def _session(api: Api, day: date, user: str = "xa.tiepdan", **overrides: Any) -> dict[str, Any]:
    """A session of the commune (or, with `unit_id`, the caller's unit) recorded through the API."""
    return await new_session(api, day, user=user, **overrides)


async def _cancel(api: Api, sess: dict[str, Any], user: str = "xa.chutich") -> Any:
    return await api.http.patch(
        f"{V1}/reception-sessions/{sess['id']}",
        headers=await api.headers(user),
        json={"status": "cancelled", "cancel_reason": "Chủ tịch họp đột xuất tại tỉnh"},
    )


async def _compliance(api: Api, period: str, unit: int, user: str = "thanhtra") -> dict[int, dict[str, Any]]:
    r = await api.http.get(
        f"{V1}/reception-sessions/compliance?period={period}&unit_id={unit}", headers=await api.headers(user)
    )
    assert r.status_code == 200, r.text
    return {row["unit_id"]: row for row in r.json()["items"]}


# ---- item 1: cancelling a session ----


async def test_ltcd_art_25_a_session_with_entries_in_the_register_cannot_be_cancelled(api: Api) -> None:
    # Friday 2026-11-27: the commune chair's day was scheduled and two visitors were written in the register on it
    # before anyone marked the session held.
    sess = await _session(api, date(2026, 11, 27), status="scheduled")
    first = await add_entry(api, sess)
    assert first.status_code == 201, first.text
    name = "Lò Văn Sáng"
    second = await add_entry(
        api,
        sess,
        kind="denunciation",
        persons=[{"full_name": name, "address": "Bản Nậm Pung", "id_number": VALID_ID}],
        content="Tố cáo trưởng thôn thu tiền sai quy định.",
    )
    assert second.status_code == 201, second.text
    for user in ("xa.chutich", "xa.tiepdan"):
        r = await _cancel(api, sess, user)
        assert r.status_code == 409, r.text
        error = r.json()["error"]
        assert error["code"] == "session_has_entries"
        assert error["details"]["entry_count"] == 2
        assert error["details"]["entries"] == [
            {"id": first.json()["id"], "number": first.json()["number"]},
            {"id": second.json()["id"], "number": second.json()["number"]},
        ]
        assert name not in r.text and VALID_ID not in r.text  # numbers only, never who came
    got = (await api.http.get(f"{V1}/reception-sessions/{sess['id']}", headers=await api.headers("xa.chutich"))).json()
    # What did happen is recorded instead: the first entry marked the session held (its start had come), and the
    # refused cancellations changed nothing.
    assert got["status"] == "held" and got["cancel_reason"] is None and got["version"] == 2
    r = await api.http.patch(
        f"{V1}/reception-sessions/{sess['id']}", headers=await api.headers("xa.tiepdan"), json={"status": "held"}
    )
    assert r.status_code == 200 and r.json()["status"] == "held"


async def test_a_session_cancelled_before_any_entry_counts_nowhere(api: Api) -> None:
    # September 2026, commune (two periodic days a month from 2026-07-01, LTCD art. 15 as amended): the chair held
    # Tuesday 8th; the day scheduled for Tuesday 22nd was cancelled before anyone was received.
    commune = await unit_id(api, COMMUNE)
    await _session(api, date(2026, 9, 8))
    cancelled = await _session(api, date(2026, 9, 22), status="scheduled")
    r = await _cancel(api, cancelled)
    assert r.status_code == 200 and r.json()["status"] == "cancelled", r.text
    r = await add_entry(api, cancelled)
    assert r.status_code == 409 and r.json()["error"]["code"] == "session_cancelled"
    month = (await _compliance(api, "2026-09", commune))[commune]
    assert (month["required_days"], month["in_person_days"], month["counted_days"], month["shortfall"]) == (2, 1, 1, 1)
    assert month["adhoc_days"] == 0
    # 01/TCD (head's sessions, column 12) counts the held session only.
    r = await api.http.get(
        f"{V1}/stats/forms/tcd",
        headers=await api.headers("thanhtra"),
        params={"from": "2026-09-01", "to": "2026-09-30", "unit_id": commune},
    )
    assert r.status_code == 200, r.text
    row = next(x for x in r.json()["rows"] if x["unit_id"] == commune and x["type"] == "unit")
    assert row["values"]["head_sessions"] == 1 and row["values"]["del_sessions"] == 0


async def _blocked(conn: sa.ext.asyncio.AsyncConnection) -> int:
    count = await conn.scalar(sa.text("SELECT count(*) FROM pg_locks WHERE NOT granted"))
    return int(count or 0)


async def _wait_until_blocked(conn: sa.ext.asyncio.AsyncConnection) -> None:
    for _ in range(200):
        if await _blocked(conn):
            return
        await asyncio.sleep(0.025)
    raise AssertionError("the request never waited on the session's lock")


async def test_an_entry_written_while_the_session_is_being_cancelled_sees_it_cancelled(live: Live) -> None:
    """The entry's request reads the session's status under its lock: one cancelled while it waited is cancelled."""
    desk = await live.headers("xa.tiepdan")
    me = (await live.http.get(f"{V1}/auth/me", headers=desk)).json()
    body = session_body(me["unit_id"], date(2026, 11, 26), status="scheduled")
    sess = (await live.http.post(f"{V1}/reception-sessions", headers=desk, json=body)).json()
    engine = live.app.state.engine
    async with engine.connect() as cancelling, engine.connect() as watch:
        await cancelling.begin()
        await cancelling.execute(
            sa.select(ReceptionSession.id).where(ReceptionSession.id == sess["id"]).with_for_update()
        )
        await cancelling.execute(
            sa.update(ReceptionSession)
            .where(ReceptionSession.id == sess["id"])
            .values(status="cancelled", cancel_reason="Hoãn")
        )
        entry = asyncio.create_task(
            live.http.post(
                f"{V1}/reception-sessions/{sess['id']}/entries",
                headers=desk,
                json={
                    "persons": [{"full_name": "Vàng A Chứ"}],
                    "kind": "petition",
                    "content": "Kiến nghị làm đường",
                    "handling": "explained",
                },
            )
        )
        await _wait_until_blocked(watch)
        await cancelling.commit()
        r = await entry
    assert r.status_code == 409 and r.json()["error"]["code"] == "session_cancelled", r.text


async def test_a_cancellation_waiting_on_an_entry_being_written_finds_it(live: Live) -> None:
    """An entry is written under a shared lock on its session: a cancellation waits for it and then names it."""
    desk, head = await live.headers("xa.tiepdan"), await live.headers("xa.chutich")
    me = (await live.http.get(f"{V1}/auth/me", headers=desk)).json()
    body = session_body(me["unit_id"], date(2026, 11, 25), status="scheduled")
    sess = (await live.http.post(f"{V1}/reception-sessions", headers=desk, json=body)).json()
    engine = live.app.state.engine
    async with engine.connect() as writing, engine.connect() as watch:
        await writing.begin()
        await writing.execute(
            sa.select(ReceptionSession.id).where(ReceptionSession.id == sess["id"]).with_for_update(read=True)
        )
        entry_id = await writing.scalar(
            sa.text(
                "INSERT INTO reception_entries (session_id, unit_id, year, serial, received_on, kind, content, "
                "people_count, is_group, handling, visit, created_by_id) VALUES (:s, :u, 2026, 990001, "
                "'2026-11-25', 'petition', 'Kiến nghị', 1, false, 'explained', 'first', :by) RETURNING id"
            ),
            {"s": sess["id"], "u": me["unit_id"], "by": me["id"]},
        )
        cancel = asyncio.create_task(
            live.http.patch(
                f"{V1}/reception-sessions/{sess['id']}",
                headers=head,
                json={"status": "cancelled", "cancel_reason": "Hoãn"},
            )
        )
        await _wait_until_blocked(watch)
        await writing.commit()
        r = await cancel
    assert r.status_code == 409, r.text
    assert r.json()["error"]["details"]["entries"] == [{"id": entry_id, "number": "990001/2026"}]


# ---- item 2: periodic days counted, ad-hoc days listed ----


async def test_ltcd_art_12_18_compliance_counts_periodic_days_and_lists_adhoc_days_beside_them(api: Api) -> None:
    commune = await unit_id(api, COMMUNE)
    # June 2026 — one day a week (LTCD art. 15 before Law 136/2025): the weeks whose Monday is in June are the 1st,
    # 8th, 15th, 22nd and 29th, so 5 days. The chair received in person on Tuesday 2nd, a deputy on the 9th
    # (delegation still counts before 2026-07-01), and ad-hoc on the 16th, 23rd and 30th: three more days of
    # reception, which under the old count would have met the five; they do not.
    await _session(api, date(2026, 6, 2))
    await _session(api, date(2026, 6, 9), in_person=False, host_title="Phó Chủ tịch UBND xã")
    for day in (16, 23, 30):
        await _session(api, date(2026, 6, day), kind="adhoc")
    june = (await _compliance(api, "2026-06", commune))[commune]
    assert (june["required_days"], june["in_person_days"], june["delegated_days"], june["counted_days"]) == (5, 1, 1, 2)
    assert june["shortfall"] == 3 and june["adhoc_days"] == 3
    (jm,) = june["months"]
    assert jm["adhoc_dates"] == ["2026-06-16", "2026-06-23", "2026-06-30"] and jm["delegation_counts"] is True
    # September 2026 — two days a month from 2026-07-01, delegated days no longer count (Law 136/2025): in person
    # on Tuesday 8th (and an ad-hoc session the same morning), a deputy on the 29th, ad-hoc on the 15th and 22nd.
    # Two ad-hoc days would have closed the gap of one; the month is still one day short.
    await _session(api, date(2026, 9, 8))
    await _session(
        api, date(2026, 9, 8), kind="adhoc", starts_at=at(date(2026, 9, 8), 14), ends_at=at(date(2026, 9, 8), 16)
    )
    await _session(api, date(2026, 9, 29), in_person=False, host_title="Phó Chủ tịch UBND xã")
    for day in (15, 22):
        await _session(api, date(2026, 9, day), kind="adhoc")
    sept = (await _compliance(api, "2026-09", commune))[commune]
    assert (sept["required_days"], sept["in_person_days"], sept["delegated_days"], sept["counted_days"]) == (2, 1, 1, 1)
    assert sept["shortfall"] == 1 and sept["adhoc_days"] == 3
    (sm,) = sept["months"]
    assert sm["adhoc_dates"] == ["2026-09-08", "2026-09-15", "2026-09-22"] and sm["delegation_counts"] is False
    assert sm["basis"] == "LTCD art. 15 as amended by Law 136/2025"
    # The quarter across the change: July and August nothing (2 + 2 short), September 1 short.
    q3 = (await _compliance(api, "2026-Q3", commune))[commune]
    assert (q3["required_days"], q3["counted_days"], q3["adhoc_days"], q3["shortfall"]) == (6, 1, 3, 5)


async def test_ltcd_art_12_an_adhoc_day_does_not_stand_for_the_province_chairs_monthly_day(api: Api) -> None:
    # October 2026: the province chair received a mass petition ad-hoc on Thursday 15th and held no periodic day.
    province = await unit_id(api, PROVINCE)
    await _session(api, date(2026, 10, 15), user="tinh.tiepdan", unit_id=province, kind="adhoc")
    row = (await _compliance(api, "2026-10", province))[province]
    assert (row["required_days"], row["counted_days"], row["adhoc_days"], row["shortfall"]) == (1, 0, 1, 1)
    assert row["months"][0]["basis"] == "LTCD art. 12"
    # The head of the province sees the same figures.
    assert (await _compliance(api, "2026-10", province, user="tinh.chutich"))[province]["shortfall"] == 1


# ---- item 3: a refused visitor in the register ----


async def test_ltcd_art_9_a_refused_visitor_is_in_the_register_with_the_ground_and_the_written_notice(
    api: Api,
) -> None:
    # Friday 2026-08-28: a visitor persisting with a matter already settled and answered in writing is refused
    # (LTCD art. 9.3). The written notice is due within 3 working days (Decree 154/2026, in force from 2026-07-01;
    # a refusal before then owes no dated notice: test_legal_second_pass). Monday 31 August is off (swapped for
    # Saturday 22 August), 1–2 September are National Day: Thursday 3, Friday 4 and Monday 7 September.
    day = date(2026, 8, 28)
    sess = await _session(api, day)
    r = await add_entry(
        api,
        sess,
        handling="refused",
        refusal={"ground": "already_settled"},
        previously_handled_by="UBND xã, Quyết định 12/QĐ-UBND ngày 10/02/2026",
    )
    assert r.status_code == 201, r.text
    entry = r.json()
    assert entry["handling"] == "refused" and entry["within_competence"] is False and entry["case_id"] is None
    refusal = entry["refusal"]
    assert refusal["ground"] == "already_settled" and refusal["legal_basis"] == "Luật Tiếp công dân, điều 9 khoản 3"
    assert refusal["notice_due_date"] == "2026-09-07" and refusal["notice_number"] is None
    assert refusal["notice_overdue"] is True  # long past, nothing sent yet
    url = f"{V1}/reception-sessions/entries/{entry['id']}"
    h = await api.headers("xa.tiepdan")
    r = await api.http.patch(
        url, headers=h, json={"refusal_notice_number": "07/TB-UBND", "refusal_notice_date": "2026-08-27"}
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "date_before_previous_step"
    r = await api.http.patch(
        url, headers=h, json={"refusal_notice_number": "07/TB-UBND", "refusal_notice_date": "2026-09-07"}
    )
    assert r.status_code == 200, r.text
    # The register (form 03/TCD) keeps the line, numbered like any other, with the refusal and its notice.
    listed = await api.http.get(
        f"{V1}/reception-sessions/entries",
        headers=await api.headers("xa.chutich"),
        params={"unit_id": await unit_id(api, COMMUNE), "handling": "refused", "year": 2026},
    )
    line = next(e for e in listed.json()["items"] if e["id"] == entry["id"])
    assert line["number"] == entry["number"] and line["received_on"] == "2026-08-28"
    assert line["persons"][0]["full_name"] == "Nguyễn Văn An"
    assert line["refusal"] == {
        **refusal,
        "notice_number": "07/TB-UBND",
        "notice_date": "2026-09-07",
        "notice_overdue": False,
    }
    # A notice on a line that was not a refusal is refused.
    other = (await add_entry(api, sess)).json()
    r = await api.http.patch(
        f"{V1}/reception-sessions/entries/{other['id']}", headers=h, json={"refusal_notice_number": "08/TB-UBND"}
    )
    assert r.status_code == 422
