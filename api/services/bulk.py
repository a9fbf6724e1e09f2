"""Set-based writes for jobs that touch thousands of locked cases at once (the deadline sweep, calendar
recomputation): one UPDATE for the timers and their indexed dates, one query for the event chain
heads and one INSERT for the hash-chained events. The caller holds the cases' row locks."""

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from api.models.cases import CaseEvent
from api.services.cases import trail
from workflows.calendar import WorkCalendar
from workflows.deadlines import Timer, max_due, next_alert, next_due

# The chain anchor (event_count, event_head) is written here too when the caller knows it (the sweep chains its
# events first): the anchor trigger then finds nothing to change, and each case row is rewritten once, not twice.
_UPDATE = sa.text("""
    UPDATE cases AS c SET timers = v.timers::jsonb, next_due_date = v.ndd, next_alert_date = v.nad,
           max_due_date = v.mdd, escalated_to_unit_id = COALESCE(v.esc, c.escalated_to_unit_id),
           event_count = COALESCE(v.ec, c.event_count), event_head = COALESCE(v.eh, c.event_head)
    FROM unnest(:ids, :timers, :ndd, :nad, :mdd, :esc, :ec, :eh) AS v(id, timers, ndd, nad, mdd, esc, ec, eh)
    WHERE c.id = v.id
""").bindparams(
    sa.bindparam("ids", type_=ARRAY(sa.BigInteger)),
    sa.bindparam("timers", type_=ARRAY(sa.Text)),
    sa.bindparam("ndd", type_=ARRAY(sa.Date)),
    sa.bindparam("nad", type_=ARRAY(sa.Date)),
    sa.bindparam("mdd", type_=ARRAY(sa.Date)),
    sa.bindparam("esc", type_=ARRAY(sa.Integer)),
    sa.bindparam("ec", type_=ARRAY(sa.Integer)),
    sa.bindparam("eh", type_=ARRAY(sa.String)),
)

_INSERT_EVENTS = sa.text("""
    INSERT INTO case_events (case_id, seq, at, actor_id, action, effective_date, reason, payload, prev_hash, hash)
    SELECT c, s, :at, :actor_id, a, :effective_date, :reason, p::jsonb, ph, h
    FROM unnest(:case_ids, :seqs, :actions, :payloads, :prevs, :hashes) AS v(c, s, a, p, ph, h)
""").bindparams(
    sa.bindparam("case_ids", type_=ARRAY(sa.BigInteger)),
    sa.bindparam("seqs", type_=ARRAY(sa.Integer)),
    sa.bindparam("actions", type_=ARRAY(sa.String)),
    sa.bindparam("payloads", type_=ARRAY(sa.Text)),
    sa.bindparam("prevs", type_=ARRAY(sa.String)),
    sa.bindparam("hashes", type_=ARRAY(sa.String)),
    sa.bindparam("at", type_=sa.DateTime(timezone=True)),
    sa.bindparam("effective_date", type_=sa.Date),
    sa.bindparam("actor_id", type_=sa.Integer),
    sa.bindparam("reason", type_=sa.Text),
)


# One encoder made once (json.dumps with an argument makes a new one on every call: twice the cost of the
# encoding of a small payload, and the sweep encodes tens of thousands).
_PAYLOAD = json.JSONEncoder(ensure_ascii=False).encode


@dataclass
class TimerUpdates:
    """Rows for one set-based UPDATE of cases' timers and derived dates."""

    cal: WorkCalendar
    threshold: int
    columns: dict[str, list[Any]] = field(
        default_factory=lambda: {k: [] for k in ("ids", "timers", "ndd", "nad", "mdd", "esc")}
    )

    def add(self, case_id: int, timers: list[Timer], escalate_to: int | None = None) -> None:
        cal = self.cal
        for key, value in (
            ("ids", case_id),
            ("timers", json.dumps([t.to_dict() for t in timers])),
            ("ndd", next_due(timers, cal)),
            ("nad", next_alert(timers, cal, self.threshold)),
            ("mdd", max_due(timers, cal)),
            ("esc", escalate_to),
        ):
            self.columns[key].append(value)

    async def write(self, session: AsyncSession, anchors: dict[int, tuple[int, str]] | None = None) -> None:
        """One UPDATE; `anchors`: the chain heads (seq, hash) the cases will have once their new events are in."""
        if self.columns["ids"]:
            heads = [(anchors or {}).get(case_id) for case_id in self.columns["ids"]]
            ec = [h[0] if h else None for h in heads]
            eh = [h[1] if h else None for h in heads]
            await session.execute(_UPDATE, {**self.columns, "ec": ec, "eh": eh})


@dataclass
class Chained:
    """Events hashed onto their cases' chains, not yet written: the INSERT's columns and each case's new head."""

    params: dict[str, Any]
    heads: dict[int, tuple[int, str]]

    @property
    def count(self) -> int:
        return len(self.params.get("case_ids", []))


async def append_events(
    session: AsyncSession,
    pending: Sequence[tuple[int, list[tuple[str, dict[str, Any]]]]],
    *,
    effective_date: date | None,
    actor_id: int | None = None,
    reason: str | None = None,
) -> int:
    """Hash-chained events for many locked cases: [(case_id, [(action, payload), …]), …]."""
    chained = await chain(session, pending, effective_date=effective_date, actor_id=actor_id, reason=reason)
    await insert(session, chained)
    return chained.count


async def insert(session: AsyncSession, chained: Chained) -> None:
    if chained.count:
        await session.execute(_INSERT_EVENTS, chained.params)


async def chain(
    session: AsyncSession,
    pending: Sequence[tuple[int, list[tuple[str, dict[str, Any]]]]],
    *,
    effective_date: date | None,
    actor_id: int | None = None,
    reason: str | None = None,
) -> Chained:
    """Hash the events of many locked cases onto their chains (one query for the current heads)."""
    if not pending:
        return Chained({}, {})
    ids = [case_id for case_id, _ in pending]
    heads = {
        r.case_id: (r.seq, r.hash)
        for r in (
            await session.execute(
                sa.select(CaseEvent.case_id, CaseEvent.seq, CaseEvent.hash)
                .where(CaseEvent.case_id == sa.func.any(sa.cast(ids, ARRAY(sa.BigInteger))))
                .order_by(CaseEvent.case_id, CaseEvent.seq.desc())
                .distinct(CaseEvent.case_id)
            )
        ).all()
    }
    now = datetime.now(UTC)
    cols: dict[str, list[Any]] = {k: [] for k in ("case_ids", "seqs", "actions", "payloads", "prevs", "hashes")}
    new_heads: dict[int, tuple[int, str]] = {}
    for case_id, evts in pending:
        seq, prev = heads.get(case_id, (0, trail.GENESIS))
        for action, payload in evts:
            seq += 1
            digest = trail.digest_of(
                prev,
                case_id=case_id,
                seq=seq,
                at=now,
                actor_id=actor_id,
                action=action,
                from_status=None,
                to_status=None,
                effective_date=effective_date,
                reason=reason,
                payload=payload,
            )
            for key, value in (
                ("case_ids", case_id),
                ("seqs", seq),
                ("actions", action),
                ("payloads", _PAYLOAD(payload)),
                ("prevs", prev),
                ("hashes", digest),
            ):
                cols[key].append(value)
            prev = digest
        new_heads[case_id] = (seq, prev)
    params = {**cols, "at": now, "effective_date": effective_date, "actor_id": actor_id, "reason": reason}
    return Chained(params, new_heads)
