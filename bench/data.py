"""Deterministic realistic case data at scale, written with COPY: the generator every benchmark reuses.

    .venv/bin/python bench/data.py --cases 1000000 --communes 20   # prints the time it took
    .venv/bin/python bench/data.py --cases 1000000 --units 150 --entries 100000   # the statistics' data


Cases are spread over the first N communes of the seed (Khao Mang first), five years of receipts, kinds,
fields and statuses in plausible proportions, Vietnamese titles and contents built from phrases officers
really type (so "đất đai" is common and "Khe Sang" is rare), open cases with running timers.
"""

import argparse
import asyncio
import json
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from workflows.calendar import WorkCalendar
from workflows.deadlines import CaseFacts, intake_timers, max_due, next_alert, next_due

KINDS = [("complaint", 45), ("denunciation", 12), ("petition", 28), ("feedback", 15)]
FIELDS = [
    ("land", 38),
    ("compensation", 17),
    ("policy", 14),
    ("civil_service", 8),
    ("admin_other", 10),
    ("judicial", 4),
    ("corruption", 4),
    ("party", 1),
    ("other", 4),
]
STATUSES = [
    ("closed", 55),
    ("resolved", 8),
    ("in_progress", 8),
    ("accepted", 4),
    ("received", 5),
    ("guided", 8),
    ("transferred", 5),
    ("stored", 4),
    ("rejected", 2),
    ("terminated", 1),
]
SUBJECTS = {
    "land": [
        "quyết định thu hồi đất đai",
        "cấp giấy chứng nhận quyền sử dụng đất",
        "tranh chấp ranh giới đất đai",
        "lấn chiếm đất nương rẫy",
        "chuyển mục đích sử dụng đất",
    ],
    "compensation": ["bồi thường giải phóng mặt bằng", "mức hỗ trợ tái định cư", "chậm chi trả tiền bồi thường"],
    "policy": ["chế độ hộ nghèo", "trợ cấp người có công", "bảo hiểm y tế cho đồng bào dân tộc"],
    "civil_service": ["thái độ của cán bộ địa chính", "chậm giải quyết thủ tục hành chính"],
    "admin_other": ["cấp phép xây dựng", "xử phạt vi phạm hành chính"],
    "judicial": ["thi hành án dân sự", "hòa giải ở cơ sở"],
    "corruption": ["cán bộ nhận tiền khi cấp sổ đỏ", "sai phạm trong quản lý ngân sách xã"],
    "party": ["đảng viên vi phạm quy định"],
    "other": ["đường giao thông nông thôn bị sạt lở", "ô nhiễm nguồn nước sinh hoạt"],
}
PLACES = [
    "thôn Nậm Khắt",
    "bản Tả Ngảo",
    "thôn Trống Páo Sang",
    "bản Hua Khắt",
    "thôn Mả Lầy",
    "bản Chế Cu Nha",
    "thôn Sáng Pao",
    "bản Kim Nọi",
    "thôn Làng Cổ",
    "bản Ngã Ba Kim",
]
RARE_PLACE = "thôn Khe Sang"  # about one case in two thousand
OPENING = {"complaint": "Khiếu nại", "denunciation": "Tố cáo", "petition": "Kiến nghị", "feedback": "Phản ánh"}
OPEN = {"received", "accepted", "in_progress"}


_CUMULATIVE: dict[int, tuple[list[str], list[int]]] = {}


def _pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    """A weighted choice with the cumulative weights computed once per list (the generator's hottest line)."""
    table = _CUMULATIVE.get(id(weighted))
    if table is None:
        values, cum, total = [v for v, _ in weighted], [], 0
        for _, w in weighted:
            total += w
            cum.append(total)
        table = _CUMULATIVE[id(weighted)] = (values, cum)
    return rng.choices(table[0], cum_weights=table[1])[0]


PROCESSED_AS = {"guided": "guide", "transferred": "transfer", "stored": "store", "rejected": "reject"}
SETTLED = {"resolved", "closed", "terminated"}
OUTCOMES = {
    "complaint": ["correct", "partly_correct", "wrong", "wrong"],
    "denunciation": ["correct", "partly_correct", "false"],
    "petition": ["addressed", "explained"],
    "feedback": ["addressed", "explained"],
}


def _milestones(rng: random.Random, kind: str, status: str, received: date, today: date, case_id: int) -> tuple:
    """repeat_of_case_id, processed_on, processed_as, accepted_on, settled_on, outcome, decision_date, reason_code,
    resolution_late, remedies, enforced_on, enforcement — consistent with the status, never after today."""
    return _enforced(rng, _decided(rng, kind, status, received, today, case_id), today)


def _enforced(rng: random.Random, m: tuple, today: date) -> tuple:
    """Most decisions are carried out within months; a few stay pending for long."""
    settled, outcome = m[4], m[5]
    if outcome is None or settled is None or rng.random() < 0.12:
        return (*m, None, None)
    enforced = settled + timedelta(days=rng.randrange(10, 200))
    return (*m, enforced, m[9]) if enforced <= today else (*m, None, None)


def _decided(rng: random.Random, kind: str, status: str, received: date, today: date, case_id: int) -> tuple:
    if status == "received":
        return (None, None, None, None, None, None, None, None, None, "{}")
    processed = min(today, received + timedelta(days=rng.randrange(1, 12)))
    repeat = case_id - rng.randrange(1, 5000) if rng.random() < 0.04 and case_id > 5000 else None
    if status in PROCESSED_AS:
        return (repeat, processed, PROCESSED_AS[status], None, None, None, None, None, None, "{}")
    accepted = processed
    if status not in SETTLED:
        return (repeat, processed, "accept", accepted, None, None, None, None, None, "{}")
    settled = min(today, accepted + timedelta(days=rng.randrange(15, 120)))
    if status == "terminated":
        reason = "withdrawn" if rng.random() < 0.7 else "nothing_left"
        return (repeat, processed, "accept", accepted, settled, None, settled, reason, rng.random() < 0.1, "{}")
    outcome = rng.choice(OUTCOMES[kind])
    remedies = "{}"
    if kind in ("complaint", "denunciation") and outcome != "wrong" and rng.random() < 0.3:
        remedies = json.dumps(
            {
                "money_to_state_vnd": rng.randrange(0, 500) * 1_000_000,
                "land_to_state_m2": round(rng.random() * 800, 2),
                "people_sanctioned": rng.randrange(0, 3),
            }
        )
    late = rng.random() < 0.15
    return (repeat, processed, "accept", accepted, settled, outcome, settled, None, late, remedies)


async def add_units(conn: asyncpg.Connection, total: int) -> int:
    """Departments (sở, ban, ngành) under the province until there are `total` units; returns how many it added."""
    have = await conn.fetchval("SELECT count(*) FROM units")
    province, path = await conn.fetchrow("SELECT id, path FROM units WHERE code = '15'")
    added = 0
    for n in range(max(0, total - have)):
        uid = await conn.fetchval(
            "INSERT INTO units (code, name, level, parent_id, path, remote_area, is_active) "
            "VALUES ($1, $2, 'agency', $3, '/', false, true) RETURNING id",
            f"15-BENCH-{n:03d}",
            f"Sở, ngành số {n + 1}",
            province,
        )
        await conn.execute("UPDATE units SET path = $1 WHERE id = $2", f"{path}{uid}/", uid)
        added += 1
    return added


async def fill_reception(
    conn: asyncpg.Connection, entries: int, *, seed: int = 11, today: date | None = None, progress: bool = True
) -> float:
    """Reception sessions (regular, the head's periodic and ad-hoc days, in person or delegated, some cancelled)
    over five years for every unit, and `entries` register entries on the held ones; COPY."""
    started = time.perf_counter()
    today = today or date.today()
    rng = random.Random(seed)
    units = [r["id"] for r in await conn.fetch("SELECT id FROM units ORDER BY id")]
    creator = await conn.fetchval("SELECT id FROM users WHERE username = 'admin'")
    first = date(today.year - 5, today.month, 1)
    sessions, held = [], []
    sid = await conn.fetchval("SELECT coalesce(max(id), 0) FROM reception_sessions")
    for unit in units:
        day = first
        while day <= today:
            kind = "regular" if rng.random() < 0.5 else ("periodic" if rng.random() < 0.8 else "adhoc")
            status = "cancelled" if rng.random() < 0.05 else "held"
            in_person = kind == "regular" or rng.random() < 0.8
            sid += 1
            start = datetime(day.year, day.month, day.day, 1, 0, tzinfo=UTC)  # 08:00 in Hà Nội
            sessions.append(
                (
                    sid,
                    unit,
                    kind,
                    "direct",
                    in_person,
                    status,
                    start,
                    start + timedelta(hours=3),
                    day,
                    "Trụ sở",
                    creator,
                )
            )
            if status == "held":
                held.append((sid, unit, day))
            day += timedelta(days=rng.randrange(5, 12))
    await conn.copy_records_to_table(
        "reception_sessions",
        records=sessions,
        columns=[
            "id", "unit_id", "kind", "mode", "in_person", "status", "starts_at", "ends_at", "day", "location",
            "created_by_id",
        ],
    )  # fmt: skip
    await conn.execute(f"SELECT setval(pg_get_serial_sequence('reception_sessions', 'id'), {sid})")
    serials: dict[tuple[int, int], int] = {}
    rows = []
    for _ in range(entries):
        s, unit, day = rng.choice(held)
        serial = serials[(unit, day.year)] = serials.get((unit, day.year), 0) + 1
        people = 1 if rng.random() < 0.9 else rng.randrange(2, 40)
        rows.append(
            (
                s, unit, day.year, serial, day, _pick(rng, KINDS), "Nội dung tiếp công dân", "[{}]", "[]", people,
                people >= 5, "explained", "first" if rng.random() < 0.8 else "repeat", creator,
            )
        )  # fmt: skip
    await conn.copy_records_to_table(
        "reception_entries",
        records=rows,
        columns=[
            "session_id", "unit_id", "year", "serial", "received_on", "kind", "content", "persons",
            "representatives", "people_count", "is_group", "handling", "visit", "created_by_id",
        ],
    )  # fmt: skip
    await conn.executemany(
        "INSERT INTO reception_counters (unit_id, year, last) VALUES ($1, $2, $3)",
        [(u, y, n) for (u, y), n in serials.items()],
    )
    await conn.execute("ANALYZE reception_sessions; ANALYZE reception_entries")
    if progress:
        print(f"  reception: {len(sessions):,} sessions, {entries:,} entries", flush=True)
    return time.perf_counter() - started


async def fill_cases(
    conn: asyncpg.Connection,
    n: int,
    *,
    communes: int = 20,
    seed: int = 7,
    today: date | None = None,
    progress: bool = True,
    all_units: bool = False,
) -> float:
    """Append `n` cases to the database (already migrated and seeded); returns the seconds it took. With
    `all_units`, the cases spread over every unit (see `add_units`) rather than the first communes. Each case
    carries the milestones its status implies (processed, accepted, settled, outcome, lateness, remedies), as
    the workflow would have written them."""
    started = time.perf_counter()
    today = today or date.today()
    rng = random.Random(seed)
    where = "true" if all_units else "level = 'commune'"
    units = [
        r["id"]
        for r in await conn.fetch(
            f"SELECT id FROM units WHERE {where} ORDER BY (code = '04465') DESC, code LIMIT $1",  # noqa: S608
            communes if not all_units else 10_000,
        )
    ]
    desk = await conn.fetchval("SELECT id FROM users WHERE username = 'xa.tiepdan'")
    cal = WorkCalendar()
    timers_cache: dict[tuple[str, date], tuple[str, date | None, date | None, date | None]] = {}
    first_id = await conn.fetchval("SELECT coalesce(max(id), 0) + 1 FROM cases")
    # Secondary indexes are dropped for the load and built again after it: much faster than maintaining them.
    indexes = await conn.fetch(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'cases' AND indexname NOT IN "
        "(SELECT conname FROM pg_constraint WHERE conrelid = 'cases'::regclass)"
    )
    for ix in indexes:
        await conn.execute(f'DROP INDEX "{ix["indexname"]}"')
    # Likewise the statistics' copy (case_facts) is filled in one statement after the load rather than row by row.
    facts = await conn.fetchval("SELECT to_regclass('case_facts') IS NOT NULL")
    if facts:
        await conn.execute("ALTER TABLE cases DISABLE TRIGGER case_facts_sync")
    cols = [
        "id",
        "tracking_code",
        "access_key_hash",
        "kind",
        "field",
        "channel",
        "title",
        "content",
        "received_at",
        "receiving_unit_id",
        "competent_unit_id",
        "received_by_id",
        "complaint_round",
        "status",
        "signer_count",
        "level_skipping",
        "timers",
        "next_due_date",
        "next_alert_date",
        "max_due_date",
        "repeat_of_case_id",
        "processed_on",
        "processed_as",
        "accepted_on",
        "settled_on",
        "outcome",
        "decision_date",
        "reason_code",
        "resolution_late",
        "remedies",
        "enforced_on",
        "enforcement",
        "created_at",
        "updated_at",
    ]
    chunk = 50_000
    bar = tqdm(total=n, unit=" cases", unit_scale=True, desc="cases", disable=not progress, smoothing=0.1)
    for start in range(0, n, chunk):
        rows = []
        for i in range(start, min(start + chunk, n)):
            kind, field = _pick(rng, KINDS), _pick(rng, FIELDS)
            status = _pick(rng, STATUSES)
            # Five years, more letters in recent years; open cases are recent.
            age = int((1 - rng.random() ** 0.8) * 5 * 365) if status not in OPEN else rng.randrange(0, 120)
            received = today - timedelta(days=age)
            unit = units[min(int(rng.expovariate(1 / 4)), len(units) - 1)] if rng.random() < 0.7 else rng.choice(units)
            place = RARE_PLACE if rng.random() < 0.0005 else rng.choice(PLACES)
            subject = rng.choice(SUBJECTS[field])
            title = f"{OPENING[kind]} về {subject}"
            content = (
                f"Gia đình tôi ở {place} đề nghị xem xét {subject}. "
                f"Sự việc kéo dài đã {rng.randrange(1, 36)} tháng, ảnh hưởng đến đời sống của "
                f"{rng.randrange(1, 12)} hộ gia đình."
            )
            timers, ndd, nad, mdd = "[]", None, None, None
            if status in OPEN:
                key = (kind, received)
                if key not in timers_cache:
                    ts = intake_timers(CaseFacts(kind), received)
                    timers_cache[key] = (
                        json.dumps([t.to_dict() for t in ts]),
                        next_due(ts, cal),
                        next_alert(ts, cal, 3),
                        max_due(ts, cal),
                    )
                timers, ndd, nad, mdd = timers_cache[key]
            m = _milestones(rng, kind, status, received, today, first_id + i)
            at = time.time()
            rows.append(
                (
                    first_id + i,
                    f"B{first_id + i:012d}",
                    "0" * 64,
                    kind,
                    field,
                    "in_person",
                    title,
                    content,
                    received,
                    unit,
                    unit,
                    desk,
                    1 if kind == "complaint" else None,
                    status,
                    rng.choice((1, 1, 1, 1, 1, 1, 2, 3, 6, 12)),
                    rng.random() < 0.03,
                    timers,
                    ndd,
                    nad,
                    mdd,
                    *m,
                    None,
                    None,
                )
            )
            del at
        await conn.copy_records_to_table("cases", records=[r[:-2] for r in rows], columns=cols[:-2])
        bar.update(len(rows))
    bar.close()
    await conn.execute(f"SELECT setval(pg_get_serial_sequence('cases', 'id'), {first_id + n})")
    await conn.execute("SET maintenance_work_mem = '512MB'")
    for ix in tqdm(indexes, desc="indexes", unit=" index", disable=not progress):
        await conn.execute(ix["indexdef"])
    if facts:
        cols = await conn.fetchval(
            "SELECT string_agg(column_name, ', ') FROM information_schema.columns "
            "WHERE table_name = 'case_facts' AND column_name <> 'case_id'"
        )
        await conn.execute(
            f"INSERT INTO case_facts (case_id, {cols}) SELECT id, {cols} FROM cases WHERE id >= $1",  # noqa: S608
            first_id,
        )
        await conn.execute("ALTER TABLE cases ENABLE TRIGGER case_facts_sync")
        await conn.execute("ANALYZE case_facts")
    await conn.execute("ANALYZE cases")
    return time.perf_counter() - started


async def _main() -> None:
    from bench.intake import database

    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--communes", type=int, default=20)
    parser.add_argument("--units", type=int, default=0, help="add departments up to this many units; cases over all")
    parser.add_argument("--entries", type=int, default=0, help="register entries (with sessions for every unit)")
    args = parser.parse_args()
    async with database() as url:
        dsn, _, query = url.replace("postgresql+asyncpg://", "postgresql://").partition("?")
        conn = await asyncpg.connect(dsn, **({"host": query.split("host=", 1)[1]} if "host=" in query else {}))
        t0 = time.perf_counter()
        if args.units:
            await add_units(conn, args.units)
        await fill_cases(conn, args.cases, communes=args.communes, all_units=bool(args.units))
        if args.entries:
            await fill_reception(conn, args.entries)
        await conn.close()
        print(f"{args.cases:,} cases, {args.entries:,} register entries in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    asyncio.run(_main())
