"""Cases (hồ sơ vụ việc): letters and matters from intake to closure, their parties, handlers,
dialogues and the hash-chained event trail."""

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel

from api.models.base import created_at_column


class Case(SQLModel, table=True):
    __tablename__ = "cases"

    id: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger, primary_key=True))
    tracking_code: str = Field(sa_column=sa.Column(sa.String(24), nullable=False, unique=True))
    access_key_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    kind: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    field: str = Field(sa_column=sa.Column(sa.String(24), nullable=False))
    channel: str = Field(sa_column=sa.Column(sa.String(24), nullable=False))
    title: str = Field(sa_column=sa.Column(sa.String(500), nullable=False))
    content: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    # A denunciation's title and content, sealed together (api/services/cases/sealed_text.py; the clear columns
    # then hold ""), and the keyed MACs of their folded words, which search matches (GIN index ixx_cases_text_words,
    # migration 0021).
    sealed_text: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    text_words: list[int] | None = Field(default=None, sa_column=sa.Column(ARRAY(sa.BigInteger)))
    received_at: date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    receiving_unit_id: int = Field(sa_column=sa.Column(sa.Integer, sa.ForeignKey("units.id"), nullable=False))
    competent_unit_id: int = Field(sa_column=sa.Column(sa.Integer, sa.ForeignKey("units.id"), nullable=False))
    received_by_id: int = Field(sa_column=sa.Column(sa.Integer, sa.ForeignKey("users.id"), nullable=False))
    complaint_round: int | None = Field(default=None, sa_column=sa.Column(sa.SmallInteger))
    previous_case_id: int | None = Field(
        default=None, sa_column=sa.Column(sa.BigInteger, sa.ForeignKey("cases.id"), index=True)
    )
    decision_known_date: date | None = Field(default=None, sa_column=sa.Column(sa.Date))
    complexity: str = Field(sa_column=sa.Column(sa.String(24), nullable=False, server_default="normal"))
    remote_area: bool = Field(sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false()))
    # Set by an officer (kept through transfers) rather than taken from the competent unit.
    remote_area_explicit: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false())
    )
    signer_count: int = Field(sa_column=sa.Column(sa.Integer, nullable=False, server_default="1"))
    is_anonymous: bool = Field(sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false()))
    multi_place_verification: bool = Field(sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false()))
    # The sender asked for identity protection (a register entry's `identity_protection_requested`, or desk
    # intake's): the case is protected like a denunciation whatever its kind — its parties but the accused and the
    # respondent sealed and masked, its free text sealed (workflows.confidentiality; issue 21, migration 0025).
    identity_protected: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false())
    )
    # A complaint against a disciplinary decision on an officer (LKN art. 46–51; issue 22, migration 0024).
    disciplinary: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false())
    )
    level_skipping: bool = Field(sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false()))
    repeat_of_case_id: int | None = Field(
        default=None, sa_column=sa.Column(sa.BigInteger, sa.ForeignKey("cases.id"), index=True)
    )
    transferred_from_case_id: int | None = Field(
        default=None, sa_column=sa.Column(sa.BigInteger, sa.ForeignKey("cases.id"), index=True)
    )
    transferred_to_case_id: int | None = Field(
        default=None, sa_column=sa.Column(sa.BigInteger, sa.ForeignKey("cases.id"))
    )
    status: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    status_before_suspension: str | None = Field(default=None, sa_column=sa.Column(sa.String(16)))
    version: int = Field(sa_column=sa.Column(sa.Integer, nullable=False, server_default="1"))
    # Outcome of processing / resolution.
    reason_code: str | None = Field(default=None, sa_column=sa.Column(sa.String(32)))
    accepted_on: date | None = Field(default=None, sa_column=sa.Column(sa.Date))
    outcome: str | None = Field(default=None, sa_column=sa.Column(sa.String(24)))
    decision_number: str | None = Field(default=None, sa_column=sa.Column(sa.String(64)))
    decision_date: date | None = Field(default=None, sa_column=sa.Column(sa.Date))
    remedies: dict[str, Any] = Field(
        default_factory=dict, sa_column=sa.Column(JSONB, nullable=False, server_default="{}")
    )
    extension_count: int = Field(sa_column=sa.Column(sa.SmallInteger, nullable=False, server_default="0"))
    closed_on: date | None = Field(default=None, sa_column=sa.Column(sa.Date))
    # Milestones the statistics forms count by (migration 0014): when and how the letter left `received`
    # (accept, guide, transfer, store, reject, withdraw), when its settlement ended (resolved or terminated) and
    # whether the resolution period had run out by then; the enforcement of the decision (form 05/KQTH).
    processed_on: date | None = Field(default=None, sa_column=sa.Column(sa.Date))
    processed_as: str | None = Field(default=None, sa_column=sa.Column(sa.String(16)))
    settled_on: date | None = Field(default=None, sa_column=sa.Column(sa.Date))
    resolution_late: bool | None = Field(default=None, sa_column=sa.Column(sa.Boolean))
    enforced_on: date | None = Field(default=None, sa_column=sa.Column(sa.Date))
    enforcement: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(JSONB))
    # A letter stored as a duplicate keeps the link to the letter it duplicates (migration 0015).
    duplicate_of_case_id: int | None = Field(
        default=None, sa_column=sa.Column(sa.BigInteger, sa.ForeignKey("cases.id"), index=True)
    )
    # Where a public submission says the matter is (lat/long, commune): Open311's location (migration 0015).
    location: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(JSONB))
    warnings: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=sa.Column(JSONB, nullable=False, server_default="[]")
    )
    # Deadlines: the timers as data, and the earliest running due date (indexed for overdue filters).
    timers: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=sa.Column(JSONB, nullable=False, server_default="[]")
    )
    next_due_date: date | None = Field(default=None, sa_column=sa.Column(sa.Date, index=True))
    # The next day the deadline sweep has something to record for this case (due-soon or breach).
    # Indexed in case_alerts, not here (migration 0018): the sweep moves it without touching an index of cases.
    next_alert_date: date | None = Field(default=None, sa_column=sa.Column(sa.Date))
    # The latest open due date: a calendar change on or before it may move this case's deadlines.
    max_due_date: date | None = Field(default=None, sa_column=sa.Column(sa.Date, index=True))
    # LTC art. 38: an overdue denunciation is escalated to the supervising unit's head.
    escalated_to_unit_id: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, sa.ForeignKey("units.id")))
    # A retried intake with the same Idempotency-Key returns the case made the first time. A citizen-channel key
    # (it is scoped by the device) is erased with the fingerprint when its window ends (intake.purge_idempotency).
    idempotency_key: str | None = Field(default=None, sa_column=sa.Column(sa.String(64)))
    # Keyed HMAC of the request first made with that key, its identity fields left out (intake.fingerprint_input):
    # the same key with another letter is refused. Erased after IDEMPOTENCY_HOURS.
    idempotency_fingerprint: str | None = Field(default=None, sa_column=sa.Column(sa.String(64)))
    # Anchor of the event chain, kept by a trigger in the transaction that adds an event (migration 0010).
    event_count: int = Field(default=0, sa_column=sa.Column(sa.Integer, nullable=False, server_default="0"))
    event_head: str | None = Field(default=None, sa_column=sa.Column(sa.String(64)))
    created_at: datetime | None = Field(default=None, sa_column=created_at_column())
    updated_at: datetime | None = Field(default=None, sa_column=created_at_column())

    __table_args__ = (
        # Keyset order of every list (newest first), alone and within each unit scope (migration 0006).
        sa.Index("ix_cases_received", "received_at", "id"),
        sa.Index("ix_cases_unit_received", "competent_unit_id", "received_at", "id"),
        sa.Index("ix_cases_receiving_received", "receiving_unit_id", "received_at", "id"),
        sa.Index("ix_cases_kind_field_status", "kind", "field", "status"),
        sa.UniqueConstraint("received_by_id", "idempotency_key", name="uq_cases_idempotency"),
        sa.CheckConstraint("version >= 1", name="version_positive"),
        # Room on each page for a case's next version, so that an update of unindexed columns only (the sweep's
        # timers) is written in place (HOT) (migration 0018).
        {"postgresql_with": {"fillfactor": 85}},
    )


class CaseAlert(SQLModel, table=True):
    """When the deadline sweep must next look at a case (its `next_alert_date`), in a narrow row kept by a trigger on
    `cases` in the same transaction as every change (migration 0018): the sweep finds its cases here, and moving a
    case's alert rewrites two index entries instead of every index of cases."""

    __tablename__ = "case_alerts"

    case_id: int = Field(
        sa_column=sa.Column(sa.BigInteger, sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    )
    next_alert_date: date = Field(sa_column=sa.Column(sa.Date, nullable=False))

    __table_args__ = (sa.Index("ix_case_alerts_due", "next_alert_date", "case_id"),)


class CaseParty(SQLModel, table=True):
    """A person or organisation in a case. A denouncer's identity is secret (LTC art. 9, 47)."""

    __tablename__ = "case_parties"

    id: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger, primary_key=True))
    case_id: int = Field(
        sa_column=sa.Column(sa.BigInteger, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    role: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    full_name: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    id_number: str | None = Field(default=None, sa_column=sa.Column(sa.String(12), index=True))
    phone: str | None = Field(default=None, sa_column=sa.Column(sa.String(20)))
    address: str | None = Field(default=None, sa_column=sa.Column(sa.String(500)))
    # Secret identities (denouncers) are sealed here, with the clear columns left empty (api/vault.py).
    sealed: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    # Keyed fingerprint of the ID number: matches the same person without the number in clear.
    id_number_hash: str | None = Field(default=None, sa_column=sa.Column(sa.String(64), index=True))
    # An accused officer of this service: they may neither see the case nor be assigned to it.
    officer_id: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, sa.ForeignKey("users.id"), index=True))
    # An accused link removed (by the holding unit's head, with a reason in the chained `accused_removed` event) is
    # kept (migration 0028): the party leaves the case's party list, but the officer once named stays excluded from
    # the case forever (access rules, oversight, transfers).
    removed_at: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True)))
    removed_by_id: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, sa.ForeignKey("users.id")))


class CaseAssignment(SQLModel, table=True):
    __tablename__ = "case_assignments"

    case_id: int = Field(
        sa_column=sa.Column(sa.BigInteger, sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    )
    user_id: int = Field(sa_column=sa.Column(sa.Integer, sa.ForeignKey("users.id"), primary_key=True, index=True))
    assigned_at: datetime | None = Field(default=None, sa_column=created_at_column())


class CaseDialogue(SQLModel, table=True):
    """Đối thoại: the resolver's direct dialogue with the citizen (LKN art. 30, 39)."""

    __tablename__ = "case_dialogues"

    id: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger, primary_key=True))
    case_id: int = Field(
        sa_column=sa.Column(sa.BigInteger, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    held_on: date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    participants: list[str] = Field(default_factory=list, sa_column=sa.Column(JSONB, nullable=False))
    minutes: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    # On a case with protected parties, participants and minutes are sealed here and the clear columns empty.
    sealed: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    agreement_reached: bool = Field(sa_column=sa.Column(sa.Boolean, nullable=False))
    complainant_absent: bool = Field(sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false()))
    recorded_by_id: int = Field(sa_column=sa.Column(sa.Integer, sa.ForeignKey("users.id"), nullable=False))
    created_at: datetime | None = Field(default=None, sa_column=created_at_column())


class CaseEvent(SQLModel, table=True):
    """Append-only, chained per case: hash = HMAC-SHA256(chain key, prev_hash + canonical event JSON)."""

    __tablename__ = "case_events"

    id: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger, primary_key=True))
    case_id: int = Field(sa_column=sa.Column(sa.BigInteger, sa.ForeignKey("cases.id"), nullable=False))
    seq: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    actor_id: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, sa.ForeignKey("users.id")))
    action: str = Field(sa_column=sa.Column(sa.String(32), nullable=False))
    from_status: str | None = Field(default=None, sa_column=sa.Column(sa.String(16)))
    to_status: str | None = Field(default=None, sa_column=sa.Column(sa.String(16)))
    effective_date: date | None = Field(default=None, sa_column=sa.Column(sa.Date))
    reason: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(JSONB, nullable=False))
    prev_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    # Free text of a case with protected parties, sealed; the chain covers its keyed digest (payload.sealed_text).
    sealed: str | None = Field(default=None, sa_column=sa.Column(sa.Text))

    __table_args__ = (
        sa.UniqueConstraint("case_id", "seq", name="uq_case_events_case_seq"),
        # Urging notices (đôn đốc) are counted by the statistics forms.
        sa.Index("ix_case_events_urge", "effective_date", postgresql_where=sa.text("action = 'urge'")),
    )


class ChainCheckpoint(SQLModel, table=True):
    """A signed summary of every case's chain head at one moment (api/services/checkpoints.py)."""

    __tablename__ = "chain_checkpoints"

    id: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger, primary_key=True))
    at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    cases: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    events: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    digest: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    signature: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    # Contiguous and chained (migration 0023): number n signs the signature of number n - 1 (None: written before
    # 0023, signed without it), so a checkpoint deleted or altered is seen (api/services/checkpoints.py).
    seq: int = Field(default=0, sa_column=sa.Column(sa.BigInteger, nullable=False, unique=True))
    prev_signature: str | None = Field(default=None, sa_column=sa.Column(sa.String(64)))


class DuplicateDismissal(SQLModel, table=True):
    """An officer's "not the same matter" on a suggested duplicate: the pair is not suggested again."""

    __tablename__ = "duplicate_dismissals"

    case_id: int = Field(sa_column=sa.Column(sa.BigInteger, sa.ForeignKey("cases.id"), primary_key=True))
    other_case_id: int = Field(sa_column=sa.Column(sa.BigInteger, sa.ForeignKey("cases.id"), primary_key=True))
    dismissed_by_id: int = Field(sa_column=sa.Column(sa.Integer, sa.ForeignKey("users.id"), nullable=False))
    created_at: datetime | None = Field(default=None, sa_column=created_at_column())
