"""Deterministic realistic data at scale, drawn by the database itself: the generator every benchmark reuses.

    .venv/bin/python bench/data.py --cases 1000000 --communes 20   # prints what it made and the time it took
    .venv/bin/python bench/data.py --cases 1000000 --units 150 --entries 100000 --seed 7   # the statistics' data

Cases are spread over the first N communes of the seed (Khao Mang first), or with --units over departments added
up to that many units; five years of receipts, kinds, fields, channels and every status in plausible proportions
with the milestones each status implies; Vietnamese titles and contents built from phrases officers really type
(so "đất đai" is common and "Khe Sang" is rare); open cases with their statutory timers (suspended ones paused);
one party who wrote each letter (a denouncer's identity sealed under the service's keys) and the accused of each
denunciation; every step of each case as a chained event that /events/verify accepts; reception sessions for
every unit and register entries. Rows are made by INSERT … SELECT over generate_series in chunks, one chunk at a
time per connection and one connection per core, with setseed per chunk (the same seed gives the same data);
secondary indexes are dropped for the load and rebuilt in parallel afterwards. Progress bars with an ETA (tqdm).
"""

import argparse
import asyncio
import hashlib
import json
import os
import random
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.services.cases import sealed_text  # noqa: E402
from api.services.cases.trail import GENESIS  # noqa: E402
from api.settings import Settings  # noqa: E402
from api.vault import vault_for  # noqa: E402
from workflows.calendar import WorkCalendar  # noqa: E402
from workflows.deadlines import CaseFacts, intake_timers, max_due, next_alert, next_due  # noqa: E402
from workflows.reception import is_group  # noqa: E402

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
    ("suspended", 1),
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
SEALED_PER_FIELD = 32  # sealed denunciation texts per field (see Keys)


_CUMULATIVE: dict[int, tuple[list[str], list[int]]] = {}


def _pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    """A weighted choice with the cumulative weights computed once per list."""
    table = _CUMULATIVE.get(id(weighted))
    if table is None:
        values, cum, total = [v for v, _ in weighted], [], 0
        for _, w in weighted:
            total += w
            cum.append(total)
        table = _CUMULATIVE[id(weighted)] = (values, cum)
    return rng.choices(table[0], cum_weights=table[1])[0]


def bench_settings() -> Settings:
    """The keys every benchmark's service runs with (bench/intake.py passes them to it)."""
    from bench.intake import IDENTITY_KEY, SECRET

    return Settings(secret_key=SECRET, identity_keys=IDENTITY_KEY)


def connector(url: str) -> Callable[[], Awaitable[asyncpg.Connection]]:
    """Opens asyncpg connections to a SQLAlchemy-style URL (as tests/pg.py gives them)."""
    dsn, _, query = url.replace("postgresql+asyncpg://", "postgresql://").partition("?")
    host = {"host": query.split("host=", 1)[1]} if "host=" in query else {}

    async def connect() -> asyncpg.Connection:
        return await asyncpg.connect(dsn, **host)

    return connect


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
                is_group(people), "explained", "first" if rng.random() < 0.8 else "repeat", creator,
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


SETTLED = ("resolved", "closed", "terminated")
OUTCOMES = {
    "complaint": ["correct", "partly_correct", "wrong", "wrong"],
    "denunciation": ["correct", "partly_correct", "false"],
    "petition": ["addressed", "explained"],
    "feedback": ["addressed", "explained"],
}
CHANNELS = [("in_person", 55), ("post", 30), ("reception_session", 8), ("online", 4), ("mobile", 3)]
ROLE_OF = {"complaint": "complainant", "denunciation": "denouncer", "petition": "petitioner", "feedback": "petitioner"}
SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vàng", "Giàng", "Lò", "Sùng", "Hầu", "Lý", "Đỗ"]
MIDDLE = ["Văn", "Thị", "Seo", "A", "Mí", "Đức", "Minh", "Ngọc"]
GIVEN = ["An", "Bình", "Chinh", "Dình", "Hoa", "Lử", "Mai", "Páo", "Sinh", "Tả", "Thào", "Vừ", "Xuân", "Yên"]
# How each status is reached, one event per step: (seq, action, from, to, the day it happened).
STEPS = {
    "received": [],
    "guided": [("guide", "received", "guided", "processed")],
    "transferred": [("transfer", "received", "transferred", "processed")],
    "stored": [("store", "received", "stored", "processed")],
    "rejected": [("reject", "received", "rejected", "processed")],
    "accepted": [("accept", "received", "accepted", "processed")],
    "in_progress": [
        ("accept", "received", "accepted", "processed"),
        ("assign", "accepted", "in_progress", "processed"),
    ],
    "suspended": [
        ("accept", "received", "accepted", "processed"),
        ("assign", "accepted", "in_progress", "processed"),
        ("suspend", "in_progress", "suspended", "paused"),
    ],
    "resolved": [
        ("accept", "received", "accepted", "processed"),
        ("assign", "accepted", "in_progress", "processed"),
        ("resolve", "in_progress", "resolved", "settled"),
    ],
    "closed": [
        ("accept", "received", "accepted", "processed"),
        ("assign", "accepted", "in_progress", "processed"),
        ("resolve", "in_progress", "resolved", "settled"),
        ("close", "resolved", "closed", "settled"),
    ],
    "terminated": [("accept", "received", "accepted", "processed"), ("terminate", "accepted", "terminated", "settled")],
}
PAUSED_AFTER = 20  # a suspended case was suspended this many days after its receipt
CHUNK = 25_000


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _weighted(expr: str, weighted: list[tuple[str, int]]) -> str:
    """SQL choosing a value with these weights from a uniform random `expr` in [0, 1)."""
    total, acc, parts = sum(w for _, w in weighted), 0, []
    for value, w in weighted[:-1]:
        acc += w
        parts.append(f"WHEN {expr} < {acc / total!r} THEN {_lit(value)}")
    return f"(CASE {' '.join(parts)} ELSE {_lit(weighted[-1][0])} END)"


def _one_of(expr: str, values: list[str]) -> str:
    """SQL picking one of `values` uniformly from a uniform random `expr` in [0, 1)."""
    return f"(ARRAY[{', '.join(_lit(v) for v in values)}])[1 + floor({expr} * {len(values)})::int]"


def _hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """The inner and outer padded keys of HMAC-SHA256 (RFC 2104), so the database computes the same keyed hashes
    as Python's hmac module with its built-in sha256(): H(okey || H(ikey || message))."""
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def _hmac_sql(ikey: str, okey: str, message: str) -> str:
    return f"encode(sha256({okey} || sha256({ikey} || convert_to({message}, 'UTF8'))), 'hex')"


def _draws(names: list[str]) -> str:
    return ", ".join(f"random() AS {n}" for n in names)


DRAWS = [
    "r_kind", "r_field", "r_status", "r_channel", "r_age", "r_u1", "r_u2", "r_u3", "r_place", "r_rare", "r_subject",
    "r_months", "r_homes", "r_signers", "r_skip", "r_proc", "r_rep", "r_repn", "r_settle", "r_reason", "r_outcome",
    "r_rem", "r_money", "r_land", "r_people", "r_late", "r_enf", "r_enfd", "r_name1", "r_name2", "r_name3", "r_idn",
    "r_phone", "r_minute",
]  # fmt: skip
OPEN = ("received", "accepted", "in_progress")


def _gen_sql() -> str:
    """One chunk of cases ($1..$2) drawn in the database: every column a realistic value, the milestones
    consistent with the status, never after $3 (today). $4: the unit ids; $5: id of the load's first case."""
    subject = "CASE field " + " ".join(f"WHEN {_lit(f)} THEN {_one_of('r_subject', s)}" for f, s in SUBJECTS.items())
    outcome = "CASE kind " + " ".join(f"WHEN {_lit(k)} THEN {_one_of('r_outcome', o)}" for k, o in OUTCOMES.items())
    opening = "CASE kind " + " ".join(f"WHEN {_lit(k)} THEN {_lit(v)}" for k, v in OPENING.items())
    return f"""
    CREATE TEMP TABLE gen ON COMMIT DROP AS
    WITH r AS MATERIALIZED (SELECT i AS id, {_draws(DRAWS)} FROM generate_series($1::bigint, $2::bigint) AS i),
    s AS (
        SELECT r.*, {_weighted("r_status", STATUSES)} AS status, {_weighted("r_field", FIELDS)} AS field,
               {_weighted("r_channel", CHANNELS)} AS channel, {_weighted("r_kind", KINDS)} AS kind0
        FROM r
    ),
    k AS (
        SELECT s.*,
            CASE WHEN status = 'suspended' THEN 'complaint' ELSE kind0 END AS kind,
            $3::date - (CASE WHEN status = 'suspended' THEN 30 + floor(r_age * 90)
                             WHEN status IN {OPEN} THEN floor(r_age * 120)
                             ELSE floor((1 - power(r_age, 0.8)) * 1825) END)::int AS received,
            ($4::int[])[1 + CASE WHEN r_u1 < 0.7 THEN least(floor(-ln(1 - r_u2) * 4)::int, cardinality($4) - 1)
                                 ELSE floor(r_u3 * cardinality($4))::int END] AS unit_id,
            CASE WHEN r_rare < 0.0005 THEN {_lit(RARE_PLACE)} ELSE {_one_of("r_place", PLACES)} END AS place,
            {subject} END AS subject
        FROM s
    ),
    p AS (
        SELECT k.*, CASE WHEN status = 'received' THEN NULL
                         ELSE least($3::date, received + 1 + floor(r_proc * 11)::int) END AS processed
        FROM k
    ),
    q AS (
        SELECT p.*,
            CASE WHEN status IN {SETTLED} THEN least($3::date, processed + 15 + floor(r_settle * 105)::int) END
                AS settled,
            CASE WHEN status IN ('resolved', 'closed') THEN {outcome} END END AS outcome
        FROM p
    ),
    m AS (
        SELECT q.*,
            CASE WHEN kind IN ('complaint', 'denunciation') AND outcome IS NOT NULL AND outcome <> 'wrong'
                      AND r_rem < 0.3
                 THEN jsonb_build_object('money_to_state_vnd', floor(r_money * 500)::bigint * 1000000,
                                         'land_to_state_m2', round((r_land * 800)::numeric, 2),
                                         'people_sanctioned', floor(r_people * 3)::int)
                 ELSE '{{}}'::jsonb END AS remedies,
            CASE WHEN outcome IS NOT NULL AND r_enf >= 0.12 AND settled + 10 + floor(r_enfd * 190)::int <= $3::date
                 THEN settled + 10 + floor(r_enfd * 190)::int END AS enforced_on
        FROM q
    )
    SELECT m.*,
        {opening} END || ' về ' || subject AS title,
        'Gia đình tôi ở ' || place || ' đề nghị xem xét ' || subject || '. Sự việc kéo dài đã '
            || (1 + floor(r_months * 35))::int || ' tháng, ảnh hưởng đến đời sống của '
            || (1 + floor(r_homes * 11))::int || ' hộ gia đình.' AS content,
        CASE WHEN status <> 'received' AND r_rep < 0.04 AND id > $5::bigint + 5000
             THEN id - 1 - floor(r_repn * 4999)::bigint END AS repeat_of_case_id
    FROM m
    """  # noqa: S608 - made of the constants above; values are parameters


def _events_sql(chain: tuple[str, str]) -> str:
    """The chunk's events, chained per case exactly as api/services/cases/trail.py does (the canonical JSON of
    each event, HMAC-SHA256 under the chain key, over the previous hash). $1: desk officer, $2: head.

    Why SQL must compute it rather than `trail.digest_of`: the events exist only in the database — their cases,
    steps and dates are drawn there by `random()` under the chunk's `setseed` — and a million cases make millions of
    events (up to five each); hashing them in Python would read every event out and write it back, the whole load
    again (and the reason the generator draws in SQL at all). So this is the one other writer of the chain, held to
    the service's: tests/test_bench_data.py has the service verify the chains it makes (`/events/verify`, which runs
    `trail.verify`), so any drift between this SQL and trail.py fails there."""
    ikey, okey = chain
    at = "to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || '+00:00'"
    canonical = (
        '\'{"action":"\' || action || \'","actor_id":\' || actor_id || \',"at":"\' || ' + at + " || "
        "'\",\"case_id\":' || case_id || ',\"effective_date\":\"' || to_char(effective_date, 'YYYY-MM-DD') || "
        "'\",\"from\":' || coalesce('\"' || from_status || '\"', 'null') || "
        '\',"payload":{},"reason":null,"seq":\' || seq || \',"to":"\' || to_status || \'"}\''
    )
    first = _hmac_sql(ikey, okey, _lit(GENESIS) + " || canonical")
    return f"""
    CREATE TEMP TABLE ev ON COMMIT DROP AS
    WITH RECURSIVE e AS (
        SELECT g.id AS case_id, st.seq, st.action, st.from_status, st.to_status,
               CASE st.day WHEN 'received' THEN g.received WHEN 'processed' THEN g.processed
                           WHEN 'settled' THEN g.settled ELSE g.received + {PAUSED_AFTER} END AS effective_date,
               CASE WHEN st.seq = 1 THEN $1::int ELSE $2::int END AS actor_id, g.r_minute
        FROM gen g JOIN bench_gen_steps st ON st.status = g.status
    ),
    t AS (
        SELECT e.*, (effective_date + make_interval(secs => 3600 + seq * 60 + floor(r_minute * 20000)::int))
                    AT TIME ZONE 'UTC' AS at
        FROM e
    ),
    c AS MATERIALIZED (SELECT t.*, {canonical} AS canonical FROM t),
    chain AS (
        SELECT case_id, seq, {_lit(GENESIS)}::text AS prev_hash, {first} AS hash
        FROM c WHERE seq = 1
        UNION ALL
        SELECT c.case_id, c.seq, chain.hash, {_hmac_sql(ikey, okey, "chain.hash || c.canonical")}
        FROM chain JOIN c ON c.case_id = chain.case_id AND c.seq = chain.seq + 1
    )
    SELECT c.case_id, c.seq, c.at, c.actor_id, c.action, c.from_status, c.to_status, c.effective_date,
           chain.prev_hash, chain.hash
    FROM c JOIN chain USING (case_id, seq)
    """  # noqa: S608 - made of the constants above; values are parameters


INSERT_CASES = """
INSERT INTO cases (id, tracking_code, access_key_hash, kind, field, channel, title, content, sealed_text, text_words,
    received_at,
    receiving_unit_id, competent_unit_id, received_by_id, complaint_round, status, status_before_suspension,
    signer_count, level_skipping, timers, next_due_date, next_alert_date, max_due_date, repeat_of_case_id,
    processed_on, processed_as, accepted_on, settled_on, outcome, decision_date, reason_code, resolution_late,
    remedies, enforced_on, enforcement, closed_on, event_count, event_head, created_at, updated_at)
SELECT g.id, 'B' || lpad(g.id::text, 12, '0'), repeat('0', 64), g.kind, g.field, g.channel,
    CASE WHEN g.kind = 'denunciation' THEN '' ELSE g.title END,
    CASE WHEN g.kind = 'denunciation' THEN '' ELSE g.content END,
    CASE WHEN g.kind = 'denunciation' THEN ($2::text[])[{pick}] END,
    CASE WHEN g.kind = 'denunciation' THEN CAST(($3::text[])[{pick}] AS bigint[]) END,
    g.received, g.unit_id, g.unit_id, $1::int, CASE WHEN g.kind = 'complaint' THEN 1 END, g.status,
    CASE WHEN g.status = 'suspended' THEN 'in_progress' END,
    (ARRAY[1, 1, 1, 1, 1, 1, 2, 3, 6, 12])[1 + floor(g.r_signers * 10)::int], g.r_skip < 0.03,
    coalesce(t.timers, '[]'::jsonb), t.next_due_date, t.next_alert_date, t.max_due_date, g.repeat_of_case_id,
    g.processed, CASE g.status WHEN 'received' THEN NULL WHEN 'guided' THEN 'guide' WHEN 'transferred' THEN 'transfer'
                               WHEN 'stored' THEN 'store' WHEN 'rejected' THEN 'reject' ELSE 'accept' END,
    CASE WHEN g.status NOT IN ('received', 'guided', 'transferred', 'stored', 'rejected') THEN g.processed END,
    g.settled, g.outcome, g.settled,
    CASE WHEN g.status = 'terminated' THEN CASE WHEN g.r_reason < 0.7 THEN 'withdrawn' ELSE 'nothing_left' END END,
    CASE WHEN g.status = 'terminated' THEN g.r_late < 0.1 WHEN g.status IN ('resolved', 'closed') THEN g.r_late < 0.15
    END,
    g.remedies, g.enforced_on, CASE WHEN g.enforced_on IS NOT NULL THEN g.remedies END,
    CASE WHEN g.status = 'closed' THEN g.settled END, h.seq, h.hash, h.first_at, h.at
FROM gen g
JOIN (SELECT DISTINCT ON (case_id) case_id, seq, hash, at, min(at) OVER (PARTITION BY case_id) AS first_at
      FROM ev ORDER BY case_id, seq DESC) h ON h.case_id = g.id
LEFT JOIN bench_gen_timers t ON t.kind = g.kind AND t.received = g.received AND t.status = g.status
""".replace(  # a denunciation's sealed text: one of its field's (Keys)
    "{pick}", f"1 + (array_position($4::text[], g.field) - 1) * {SEALED_PER_FIELD} + g.id % {SEALED_PER_FIELD}"
)

INSERT_EVENTS = """
INSERT INTO case_events (id, case_id, seq, at, actor_id, action, from_status, to_status, effective_date, reason,
    payload, prev_hash, hash)
SELECT $1::bigint + (case_id - $2::bigint) * 5 + seq, case_id, seq, at, actor_id, action, from_status, to_status,
    effective_date, NULL, '{}'::jsonb, prev_hash, hash
FROM ev
"""


def _parties_sql(fingerprint: tuple[str, str]) -> str:
    """One party who wrote each letter (a denouncer's identity sealed, from a pool of sealed identities: $3, their
    fingerprints $4) and the accused of each denunciation. $1: first party id, $2: the load's first case id."""
    ikey, okey = fingerprint
    name = (
        f"{_one_of('r_name1', SURNAMES)} || ' ' || {_one_of('r_name2', MIDDLE)} || ' ' || {_one_of('r_name3', GIVEN)}"
    )
    id_number = "(CASE WHEN r_idn < 0.5 THEN '010' ELSE '015' END) || lpad(floor(r_idn * 1e9)::bigint::text, 9, '0')"
    return f"""
    INSERT INTO case_parties (id, case_id, role, full_name, id_number, phone, address, sealed, id_number_hash)
    SELECT $1::bigint + (id - $2::bigint) * 2, id, role, full_name, id_number, phone, address, sealed,
           CASE WHEN sealed IS NOT NULL THEN ($4::text[])[1 + id % cardinality($4)]
                ELSE {_hmac_sql(ikey, okey, "id_number")} END
    FROM (
        SELECT g.id, CASE g.kind {" ".join(f"WHEN {_lit(k)} THEN {_lit(v)}" for k, v in ROLE_OF.items())} END AS role,
               CASE WHEN g.kind = 'denunciation' THEN '' ELSE {name} END AS full_name,
               CASE WHEN g.kind = 'denunciation' THEN NULL ELSE {id_number} END AS id_number,
               CASE WHEN g.kind = 'denunciation' THEN NULL ELSE '09' || lpad(floor(g.r_phone * 1e8)::int::text, 8, '0')
               END AS phone,
               CASE WHEN g.kind = 'denunciation' THEN NULL ELSE g.place END AS address,
               CASE WHEN g.kind = 'denunciation' THEN ($3::text[])[1 + g.id % cardinality($3)] END AS sealed
        FROM gen g
    ) p
    UNION ALL
    SELECT $1::bigint + (g.id - $2::bigint) * 2 + 1, g.id, 'accused',
           'Cán bộ ' || {_one_of("r_name3", ["địa chính xã", "tư pháp xã", "ban quản lý dự án", "thuế"])}, NULL, NULL,
           NULL, NULL, NULL
    FROM gen g WHERE g.kind = 'denunciation'
    """  # noqa: S608 - made of the constants above; values are parameters


async def _prepare(conn: asyncpg.Connection, today: date, keys: "Keys") -> None:
    """The load's lookup tables: how each status is reached (events) and the timers of every open case by kind
    and day of receipt (computed by the workflows, as intake and suspension would have)."""
    await conn.execute(
        "DROP TABLE IF EXISTS bench_gen_steps, bench_gen_timers;"
        "CREATE UNLOGGED TABLE bench_gen_steps (status text, seq int, action text, from_status text, to_status text,"
        " day text);"
        "CREATE UNLOGGED TABLE bench_gen_timers (kind text, received date, status text, timers jsonb,"
        " next_due_date date, next_alert_date date, max_due_date date)"
    )
    steps = []
    for status, path in STEPS.items():
        steps.append((status, 1, "create", None, "received", "received"))
        steps += [(status, n, a, f, t, d) for n, (a, f, t, d) in enumerate(path, start=2)]
    await conn.copy_records_to_table("bench_gen_steps", records=steps)
    cal, rows = WorkCalendar(), []
    for kind, _ in KINDS:
        for age in range(0, 121):
            received = today - timedelta(days=age)
            timers = intake_timers(CaseFacts(kind), received)
            for status in OPEN:
                rows.append((kind, received, status, json.dumps([t.to_dict() for t in timers]),
                             next_due(timers, cal), next_alert(timers, cal, 3), max_due(timers, cal)))  # fmt: skip
            paused_on = received + timedelta(days=PAUSED_AFTER)
            if kind == "complaint" and paused_on <= today:
                paused = [replace(t, paused_since=paused_on) for t in timers]
                rows.append((kind, received, "suspended", json.dumps([t.to_dict() for t in paused]),
                             next_due(paused, cal), next_alert(paused, cal, 3), max_due(paused, cal)))  # fmt: skip
    await conn.copy_records_to_table("bench_gen_timers", records=rows)


class Keys:
    """The keys the benchmarked service runs with: events must verify and sealed identities open under them. A
    denunciation's title and content are sealed at rest (api/services/cases/sealed_text.py), which SQL cannot do:
    each denunciation takes one of SEALED_PER_FIELD texts of its field, sealed here with the keyed MACs of their
    words (`sealed_texts`, `sealed_words`, in the order of `fields`)."""

    def __init__(self, settings: Settings) -> None:
        vault = vault_for(settings)
        chain = _hmac_pads(settings.chain_secret())
        self.chain = chain
        self.fingerprint = _hmac_pads(vault._fingerprint_key)  # noqa: SLF001 - the generator mirrors the vault
        rng = random.Random(3)
        self.sealed, self.sealed_fingerprints = [], []
        for _ in range(256):
            id_number = f"015{rng.randrange(10**9):09d}"
            identity = {
                "full_name": f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}",
                "id_number": id_number,
                "phone": f"09{rng.randrange(10**8):08d}",
                "address": rng.choice(PLACES),
            }
            self.sealed.append(vault.seal(identity))
            self.sealed_fingerprints.append(vault.fingerprint(id_number, protected=True))
        text_keys = sealed_text.keys_for(settings)
        self.fields = list(SUBJECTS)
        self.sealed_texts, self.sealed_words = [], []
        for field in self.fields:
            for _ in range(SEALED_PER_FIELD):
                subject = rng.choice(SUBJECTS[field])
                title = f"{OPENING['denunciation']} về {subject}"
                content = (
                    f"Gia đình tôi ở {rng.choice(PLACES)} đề nghị xem xét {subject}. Sự việc kéo dài đã "
                    f"{rng.randint(1, 35)} tháng, ảnh hưởng đến đời sống của {rng.randint(1, 11)} hộ gia đình."
                )
                sealed = sealed_text.seal(vault, text_keys, title, content)
                self.sealed_texts.append(sealed.sealed_text)
                self.sealed_words.append(sealed.words)


async def fill_cases(
    conn: asyncpg.Connection,
    n: int,
    *,
    communes: int = 20,
    seed: int = 7,
    today: date | None = None,
    progress: bool = True,
    all_units: bool = False,
    connect: Callable[[], Awaitable[asyncpg.Connection]] | None = None,
    settings: Settings | None = None,
    chunk: int = CHUNK,
) -> float:
    """Append `n` cases to the database (already migrated and seeded) with their parties and their chained
    events; returns the seconds it took. With `all_units`, the cases spread over every unit (see `add_units`)
    rather than the first communes. Rows are drawn by the database itself (INSERT … SELECT over
    generate_series, `setseed` per chunk of `chunk` cases, so the same seed gives the same data whatever the
    number of connections); `connect` opens more connections to load chunks in parallel (one per core)."""
    started = time.perf_counter()
    today = today or date.today()
    keys = Keys(settings or bench_settings())
    where = "true" if all_units else "level = 'commune'"
    units = [
        r["id"]
        for r in await conn.fetch(
            f"SELECT id FROM units WHERE {where} ORDER BY (code = '04465') DESC, code LIMIT $1",  # noqa: S608
            communes if not all_units else 10_000,
        )
    ]
    desk = await conn.fetchval("SELECT id FROM users WHERE username = 'xa.tiepdan'")
    head = await conn.fetchval("SELECT id FROM users WHERE username = 'xa.chutich'")
    first_id = await conn.fetchval("SELECT coalesce(max(id), 0) + 1 FROM cases")
    first_event = await conn.fetchval("SELECT coalesce(max(id), 0) FROM case_events")
    first_party = await conn.fetchval("SELECT coalesce(max(id), 0) + 1 FROM case_parties")
    await _prepare(conn, today, keys)
    # Secondary indexes are dropped for the load and built again after it (in parallel): much faster than
    # maintaining them row by row. The statistics' copy (case_facts) is filled in one statement after the load.
    indexes = await conn.fetch(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('cases', 'case_events', 'case_parties') "
        "AND indexname NOT IN (SELECT conname FROM pg_constraint)"
    )
    for ix in indexes:
        await conn.execute(f'DROP INDEX "{ix["indexname"]}"')
    # So are the keys of the events and parties (no foreign key points at them), re-added with their index.
    keys_ = await conn.fetch(
        "SELECT c.conrelid::regclass::text AS tab, c.conname, pg_get_constraintdef(c.oid) AS def FROM pg_constraint c "
        "WHERE c.conrelid IN ('case_events'::regclass, 'case_parties'::regclass) AND c.contype IN ('p', 'u') "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.confrelid = c.conrelid)"
    )
    for k in keys_:
        await conn.execute(f'ALTER TABLE {k["tab"]} DROP CONSTRAINT "{k["conname"]}"')
    rebuild = [ix["indexdef"] for ix in indexes] + [
        f'ALTER TABLE {k["tab"]} ADD CONSTRAINT "{k["conname"]}" {k["def"]}' for k in keys_
    ]
    gen, events, parties = _gen_sql(), _events_sql(("$3::bytea", "$4::bytea")), _parties_sql(("$5::bytea", "$6::bytea"))
    chunks = [(s, min(s + chunk, n)) for s in range(0, n, chunk)]
    bar = tqdm(total=n, unit=" cases", unit_scale=True, desc="cases", disable=not progress, smoothing=0.1)
    pads = [*keys.chain, *keys.fingerprint]

    async def worker(c: asyncpg.Connection) -> None:
        # Replica mode: no triggers and no foreign-key checks during the load (the anchors and case_facts
        # the triggers would keep are written here and after the load); superuser only, as the load itself.
        await c.execute("SET session_replication_role = replica; SET synchronous_commit = off")
        while chunks:
            lo, hi = chunks.pop(0)
            async with c.transaction():
                await c.execute("SELECT setseed($1)", ((seed * 7919 + lo // chunk) % 20011) / 20011)
                await c.execute(gen, first_id + lo, first_id + hi - 1, today, units, first_id)
                await c.execute(events, desk, head, *pads[:2])
                await c.execute(INSERT_CASES, desk, keys.sealed_texts, keys.sealed_words, keys.fields)
                await c.execute(INSERT_EVENTS, first_event, first_id)
                await c.execute(parties, first_party, first_id, keys.sealed, keys.sealed_fingerprints, *pads[2:])
            bar.update(hi - lo)

    extra = [await connect() for _ in range(max(0, (os.cpu_count() or 1) - 1))] if connect else []
    try:
        await asyncio.gather(worker(conn), *(worker(c) for c in extra))
        bar.close()
        await conn.execute("SET session_replication_role = DEFAULT")
        await conn.execute(
            f"SELECT setval(pg_get_serial_sequence('cases', 'id'), {first_id + n - 1});"  # noqa: S608
            "SELECT setval(pg_get_serial_sequence('case_events', 'id'), (SELECT max(id) FROM case_events));"
            "SELECT setval(pg_get_serial_sequence('case_parties', 'id'), (SELECT max(id) FROM case_parties));"
            "DROP TABLE bench_gen_steps, bench_gen_timers"
        )
        todo = list(rebuild)
        ibar = tqdm(total=len(todo), desc="indexes", unit=" index", disable=not progress)

        async def build(c: asyncpg.Connection) -> None:
            await c.execute("SET maintenance_work_mem = '256MB'")
            while todo:
                await c.execute(todo.pop(0))
                ibar.update(1)

        await asyncio.gather(build(conn), *(build(c) for c in extra))
        ibar.close()
        half = first_id + n // 2
        await asyncio.gather(
            fill_trigger_rows(conn, first_id, half if extra else first_id + n),
            *([fill_trigger_rows(extra[0], half, first_id + n)] if extra else []),
        )
        await conn.execute(
            "ANALYZE cases; ANALYZE case_events; ANALYZE case_parties; ANALYZE case_facts; ANALYZE case_alerts"
        )
    finally:
        for c in extra:
            await c.close()
    return time.perf_counter() - started


async def fill_trigger_rows(conn: asyncpg.Connection, lo: int, hi: int) -> None:
    """What the triggers on cases write, for cases lo ≤ id < hi loaded in replica mode (no triggers): the
    statistics' copy (case_facts, migration 0016) and the sweep's alert dates (case_alerts, 0018)."""
    cols = await conn.fetchval(
        "SELECT string_agg(column_name, ', ') FROM information_schema.columns "
        "WHERE table_name = 'case_facts' AND column_name <> 'case_id'"
    )
    await conn.execute(
        f"INSERT INTO case_facts (case_id, {cols}) SELECT id, {cols} FROM cases WHERE id >= $1 AND id < $2",  # noqa: S608
        lo,
        hi,
    )
    await conn.execute(
        "INSERT INTO case_alerts (case_id, next_alert_date) SELECT id, next_alert_date FROM cases "
        "WHERE id >= $1 AND id < $2 AND next_alert_date IS NOT NULL",
        lo,
        hi,
    )


async def _main() -> None:
    from bench.intake import database

    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--communes", type=int, default=20)
    parser.add_argument("--units", type=int, default=0, help="add departments up to this many units; cases over all")
    parser.add_argument("--entries", type=int, default=0, help="register entries (with sessions for every unit)")
    parser.add_argument("--seed", type=int, default=7, help="the same seed gives the same data")
    args = parser.parse_args()
    async with database() as url:
        connect = connector(url)
        conn = await connect()
        t0 = time.perf_counter()
        if args.units:
            await add_units(conn, args.units)
        await fill_cases(
            conn, args.cases, communes=args.communes, all_units=bool(args.units), seed=args.seed, connect=connect
        )
        if args.entries:
            await fill_reception(conn, args.entries, seed=args.seed + 4)
        counts = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM cases) AS cases, (SELECT count(*) FROM case_events) AS events, "
            "(SELECT count(*) FROM case_parties) AS parties, (SELECT count(*) FROM reception_sessions) AS sessions, "
            "(SELECT count(*) FROM reception_entries) AS entries"
        )
        await conn.close()
        print(
            f"{counts['cases']:,} cases, {counts['events']:,} events, {counts['parties']:,} parties, "
            f"{counts['sessions']:,} reception sessions, {counts['entries']:,} register entries "
            f"in {time.perf_counter() - t0:.1f} s"
        )


if __name__ == "__main__":
    asyncio.run(_main())
