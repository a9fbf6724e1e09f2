"""Citizen reception (tiếp công dân): sessions and the register (sổ tiếp công dân, form 03/TCD of
Decree 154/2026), and their request and response schemas."""

import re
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from pydantic import AfterValidator, BaseModel, Field, field_validator, model_validator
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from api.clock import VN
from api.models.base import created_at_column
from api.models.cases.schemas import CaseField, Complexity, Strict
from api.types import Id32, Id64, StrictDate
from workflows.cases import Kind
from workflows.identity import id_number_problem
from workflows.reception import Mode, SessionKind


def _lao_cai(value: datetime) -> datetime:
    return value.astimezone(VN) if value.tzinfo is not None else value


# A time in an answer: Lào Cai's (Asia/Ho_Chi_Minh, +07:00), whatever offset it was written in or the database
# returns it in (UTC): a sitting written as 08:00+07:00 reads back as 08:00+07:00, the same instant written as
# 01:00Z reads back as 08:00+07:00 too.
LocalTime = Annotated[datetime, AfterValidator(_lao_cai)]


class ReceptionSession(SQLModel, table=True):
    __tablename__ = "reception_sessions"

    id: int | None = SQLField(default=None, sa_column=sa.Column(sa.BigInteger, primary_key=True))
    unit_id: int = SQLField(sa_column=sa.Column(sa.Integer, sa.ForeignKey("units.id"), nullable=False))
    kind: str = SQLField(sa_column=sa.Column(sa.String(16), nullable=False))
    mode: str = SQLField(sa_column=sa.Column(sa.String(16), nullable=False))
    # The head in person, or (false) a deputy the head delegated to; the host's title, never required by name.
    in_person: bool = SQLField(sa_column=sa.Column(sa.Boolean, nullable=False))
    host_title: str | None = SQLField(default=None, sa_column=sa.Column(sa.String(255)))
    status: str = SQLField(sa_column=sa.Column(sa.String(16), nullable=False))
    starts_at: datetime = SQLField(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    ends_at: datetime = SQLField(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    # The legal day of the session (Asia/Ho_Chi_Minh): compliance counts distinct days.
    day: date = SQLField(sa_column=sa.Column(sa.Date, nullable=False))
    location: str | None = SQLField(default=None, sa_column=sa.Column(sa.String(500)))
    online_link: str | None = SQLField(default=None, sa_column=sa.Column(sa.String(500)))
    citizens_notified_on: date | None = SQLField(default=None, sa_column=sa.Column(sa.Date))
    recording_ref: str | None = SQLField(default=None, sa_column=sa.Column(sa.String(500)))
    cancel_reason: str | None = SQLField(default=None, sa_column=sa.Column(sa.Text))
    conclusion_number: str | None = SQLField(default=None, sa_column=sa.Column(sa.String(64)))
    conclusion_date: date | None = SQLField(default=None, sa_column=sa.Column(sa.Date))
    conclusion_text: str | None = SQLField(default=None, sa_column=sa.Column(sa.Text))
    version: int = SQLField(default=1, sa_column=sa.Column(sa.Integer, nullable=False, server_default="1"))
    created_by_id: int = SQLField(sa_column=sa.Column(sa.Integer, sa.ForeignKey("users.id"), nullable=False))
    created_at: datetime | None = SQLField(default=None, sa_column=created_at_column())
    updated_at: datetime | None = SQLField(default=None, sa_column=created_at_column())

    __table_args__ = (
        sa.Index("ix_reception_sessions_unit_day", "unit_id", "day", "id"),
        sa.Index("ix_reception_sessions_upcoming", "day", "id", postgresql_where=sa.text("status = 'scheduled'")),
        sa.CheckConstraint("ends_at > starts_at", name="session_ends_after_start"),
    )


class ReceptionEntry(SQLModel, table=True):
    """One line of the register: the persons received on a session and what became of their matter."""

    __tablename__ = "reception_entries"

    id: int | None = SQLField(default=None, sa_column=sa.Column(sa.BigInteger, primary_key=True))
    session_id: int = SQLField(
        sa_column=sa.Column(sa.BigInteger, sa.ForeignKey("reception_sessions.id"), nullable=False, index=True)
    )
    unit_id: int = SQLField(sa_column=sa.Column(sa.Integer, sa.ForeignKey("units.id"), nullable=False))
    year: int = SQLField(sa_column=sa.Column(sa.SmallInteger, nullable=False))
    serial: int = SQLField(sa_column=sa.Column(sa.Integer, nullable=False))
    received_on: date = SQLField(sa_column=sa.Column(sa.Date, nullable=False))
    kind: str = SQLField(sa_column=sa.Column(sa.String(16), nullable=False))
    content: str = SQLField(sa_column=sa.Column(sa.Text, nullable=False))
    # Persons and representatives in clear, or (denunciations, and lines whose visitor asked for identity protection)
    # sealed with the notes, follow-up and content, the clear columns left empty (content '').
    persons: list[dict[str, Any]] = SQLField(
        default_factory=list, sa_column=sa.Column(JSONB, nullable=False, server_default="[]")
    )
    representatives: list[dict[str, Any]] = SQLField(
        default_factory=list, sa_column=sa.Column(JSONB, nullable=False, server_default="[]")
    )
    notes: str | None = SQLField(default=None, sa_column=sa.Column(sa.Text))
    sealed: str | None = SQLField(default=None, sa_column=sa.Column(sa.Text))
    people_count: int = SQLField(sa_column=sa.Column(sa.Integer, nullable=False))
    is_group: bool = SQLField(sa_column=sa.Column(sa.Boolean, nullable=False))
    identity_protection_requested: bool = SQLField(
        sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false())
    )
    previously_handled_by: str | None = SQLField(default=None, sa_column=sa.Column(sa.String(1000)))
    handling: str = SQLField(sa_column=sa.Column(sa.String(24), nullable=False))
    guided_to: str | None = SQLField(default=None, sa_column=sa.Column(sa.String(500)))
    guided_doc: str | None = SQLField(default=None, sa_column=sa.Column(sa.String(64)))
    transferred_to: str | None = SQLField(default=None, sa_column=sa.Column(sa.String(500)))
    transferred_doc: str | None = SQLField(default=None, sa_column=sa.Column(sa.String(64)))
    follow_up: str | None = SQLField(default=None, sa_column=sa.Column(sa.Text))
    visit: str = SQLField(sa_column=sa.Column(sa.String(8), nullable=False))
    repeat_of_entry_id: int | None = SQLField(
        default=None, sa_column=sa.Column(sa.BigInteger, sa.ForeignKey("reception_entries.id"))
    )
    repeat_of_case_id: int | None = SQLField(
        default=None, sa_column=sa.Column(sa.BigInteger, sa.ForeignKey("cases.id"))
    )
    case_id: int | None = SQLField(
        default=None, sa_column=sa.Column(sa.BigInteger, sa.ForeignKey("cases.id"), index=True)
    )
    refusal_ground: str | None = SQLField(default=None, sa_column=sa.Column(sa.String(32)))
    refusal_notice_due: date | None = SQLField(default=None, sa_column=sa.Column(sa.Date))
    refusal_notice_number: str | None = SQLField(default=None, sa_column=sa.Column(sa.String(64)))
    refusal_notice_date: date | None = SQLField(default=None, sa_column=sa.Column(sa.Date))
    created_by_id: int = SQLField(sa_column=sa.Column(sa.Integer, sa.ForeignKey("users.id"), nullable=False))
    created_at: datetime | None = SQLField(default=None, sa_column=created_at_column())
    updated_at: datetime | None = SQLField(default=None, sa_column=created_at_column())

    __table_args__ = (
        sa.UniqueConstraint("unit_id", "year", "serial", name="uq_reception_entries_serial"),
        sa.Index("ix_reception_entries_unit_received", "unit_id", "received_on", "id"),
        sa.CheckConstraint("people_count >= 1", name="entry_people_positive"),
    )


class ReceptionCounter(SQLModel, table=True):
    """The last register number given per unit and year (the row is locked while an entry is numbered)."""

    __tablename__ = "reception_counters"

    unit_id: int = SQLField(sa_column=sa.Column(sa.Integer, sa.ForeignKey("units.id"), primary_key=True))
    year: int = SQLField(sa_column=sa.Column(sa.SmallInteger, primary_key=True))
    last: int = SQLField(sa_column=sa.Column(sa.Integer, nullable=False))


# ---- schemas ----


class IdType(StrEnum):
    """Identity papers Law 136/2025 lists for a citizen at reception."""

    citizen_id = "citizen_id"  # thẻ căn cước / căn cước công dân (12 digits)
    id_certificate = "id_certificate"  # giấy chứng nhận căn cước (the personal identification number)
    personal_id_number = "personal_id_number"  # số định danh cá nhân
    passport = "passport"  # hộ chiếu


_PASSPORT = re.compile(r"^[A-Z0-9]{6,9}$")


class PersonIn(Strict):
    full_name: str = Field(min_length=1, max_length=255)
    address: str | None = Field(default=None, max_length=500)
    id_type: IdType | None = None
    id_number: str | None = Field(default=None, max_length=12)

    @model_validator(mode="after")
    def _paper(self) -> "PersonIn":
        if self.id_number is None:
            if self.id_type is not None:
                raise ValueError("id_type given without id_number")
            return self
        number = self.id_number.upper()
        kind = self.id_type or IdType.citizen_id
        if kind is IdType.passport:
            if not _PASSPORT.match(number):
                raise ValueError("invalid passport number: 6–9 letters or digits")
        else:
            problem = id_number_problem(number)
            if problem:
                raise ValueError(f"invalid identity number: {problem}")
        self.id_type, self.id_number = kind, number
        return self


class RepresentativeIn(PersonIn):
    pass


class Handling(StrEnum):
    """What became of the matter at the desk (the result columns of form 03/TCD)."""

    within_competence = "within_competence"  # received for settlement here: a case is created or linked
    guided = "guided"  # guided to the competent body (guided_to, guided_doc)
    transferred = "transferred"  # letter transferred to the competent body (transferred_to, transferred_doc)
    explained = "explained"  # answered and explained on the spot, nothing left to settle
    refused = "refused"  # reception refused (LTCD art. 9), notified in writing


class CaseFromEntry(Strict):
    """The case an entry opens (channel reception_session, received on the session's day)."""

    title: str = Field(min_length=1, max_length=500)
    field: CaseField
    competent_unit_id: Id32 | None = None
    complexity: Complexity = Complexity.normal
    complaint_round: Literal[1, 2] | None = None
    previous_case_id: Id64 | None = None
    decision_known_date: StrictDate | None = None
    accused_officer_ids: list[Id32] = Field(
        default_factory=list,
        max_length=10,
        description="Officers the matter is brought against (accused parties linked to their accounts, as desk intake "
        "names them): they do not find the case or this entry",
    )


class RefusalIn(Strict):
    ground: str = Field(
        max_length=32,
        description="LTCD art. 9 ground: incapacitated, threats_or_insults, already_settled, other_by_law",
    )
    notice_number: str | None = Field(default=None, max_length=64)
    notice_date: StrictDate | None = None


MAX_PERSONS = 50


class EntryIn(Strict):
    persons: list[PersonIn] = Field(min_length=1, max_length=MAX_PERSONS)
    kind: Kind
    content: str = Field(min_length=1, max_length=20_000)
    people_count: int | None = Field(
        default=None, ge=1, le=100_000, description="People with the same content (default: persons listed)"
    )
    group: bool = Field(default=False, description="Đoàn đông người (5 or more people on one matter)")
    representatives: list[RepresentativeIn] = Field(default_factory=list, max_length=10)
    identity_protection_requested: bool = Field(
        default=False, description="The visitor asks for identity protection: the line is sealed whatever its kind"
    )
    previously_handled_by: str | None = Field(default=None, max_length=1000)
    handling: Handling
    guided_to: str | None = Field(default=None, max_length=500)
    guided_doc: str | None = Field(default=None, max_length=64)
    transferred_to: str | None = Field(default=None, max_length=500)
    transferred_doc: str | None = Field(default=None, max_length=64)
    follow_up: str | None = Field(default=None, max_length=5000)
    notes: str | None = Field(default=None, max_length=5000)
    visit: Literal["first", "repeat"] = "first"
    repeat_of_entry_id: Id64 | None = None
    repeat_of_case_id: Id64 | None = None
    case_id: Id64 | None = Field(default=None, description="Link to an existing case")
    create_case: CaseFromEntry | None = Field(default=None, description="Open a case from this entry")
    refusal: RefusalIn | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "EntryIn":
        if self.case_id is not None and self.create_case is not None:
            raise ValueError("give case_id or create_case, not both")
        if (
            self.case_id is not None or self.create_case is not None
        ) and self.handling is not Handling.within_competence:
            raise ValueError("only a matter within competence is linked to or opens a case")
        if (self.refusal is None) != (self.handling is not Handling.refused):
            raise ValueError("refusal is given exactly when handling is 'refused'")
        if self.visit == "first" and (self.repeat_of_entry_id or self.repeat_of_case_id):
            raise ValueError("a first visit repeats nothing: drop repeat_of_entry_id / repeat_of_case_id")
        if self.visit == "repeat" and not (self.repeat_of_entry_id or self.repeat_of_case_id):
            raise ValueError("a repeat visit names the earlier entry (repeat_of_entry_id) or case (repeat_of_case_id)")
        if self.handling is Handling.guided and not self.guided_to:
            raise ValueError("guided: say where (guided_to)")
        if self.handling is Handling.transferred and not self.transferred_to:
            raise ValueError("transferred: say to whom (transferred_to)")
        return self


class EntryUpdate(Strict):
    """What may be filled in after the day: the written documents and the follow-up."""

    guided_doc: str | None = Field(default=None, max_length=64)
    transferred_doc: str | None = Field(default=None, max_length=64)
    follow_up: str | None = Field(default=None, max_length=5000)
    notes: str | None = Field(default=None, max_length=5000)
    refusal_notice_number: str | None = Field(default=None, max_length=64)
    refusal_notice_date: StrictDate | None = None

    @field_validator("*", mode="after")
    @classmethod
    def _not_blank(cls, v: Any) -> Any:
        if isinstance(v, str) and not v:
            raise ValueError("must not be blank")
        return v


class PersonOut(BaseModel):
    full_name: str
    address: str | None = None
    id_type: str | None = None
    id_number: str | None = None


class RefusalOut(BaseModel):
    ground: str
    text: str
    legal_basis: str
    notice_due_date: date | None
    notice_number: str | None
    notice_date: date | None
    notice_overdue: bool


class EntryOut(BaseModel):
    id: int
    number: str = Field(description="Register number: serial/year, per unit")
    serial: int
    year: int
    session_id: int
    unit_id: int
    received_on: date
    persons: list[PersonOut]
    representatives: list[PersonOut]
    people_count: int
    group: bool
    identity_protection_requested: bool
    sealed: bool = Field(
        description="Persons, representatives, notes, follow-up, content, what was done before, where it was guided "
        "or transferred and those documents' numbers are kept secret (a denunciation, or a visitor who asked for "
        "identity protection): masked for whoever may not see the identity"
    )
    kind: str
    content: str
    previously_handled_by: str | None
    within_competence: bool
    handling: str
    guided_to: str | None
    guided_doc: str | None
    transferred_to: str | None
    transferred_doc: str | None
    follow_up: str | None
    notes: str | None
    visit: str
    repeat_of_entry_id: int | None
    repeat_of_case_id: int | None
    case_id: int | None
    case_tracking_code: str | None = None
    refusal: RefusalOut | None
    created_at: LocalTime | None


class Conclusion(Strict):
    """Thông báo kết luận: the written conclusion of the head's session."""

    number: str = Field(min_length=1, max_length=64)
    date: StrictDate
    text: str = Field(min_length=1, max_length=20_000)


class SessionIn(Strict):
    unit_id: Id32
    kind: SessionKind
    mode: Mode = Mode.direct
    in_person: bool = Field(default=True, description="The head in person (false: a deputy by delegation)")
    host_title: str | None = Field(default=None, max_length=255, description="e.g. 'Phó Chủ tịch UBND xã'")
    status: Literal["scheduled", "held"] = "scheduled"
    starts_at: datetime
    ends_at: datetime
    location: str | None = Field(default=None, max_length=500)
    online_link: str | None = Field(default=None, max_length=500, pattern=r"^https://\S+$")
    citizens_notified_on: StrictDate | None = Field(default=None, description="Online: when citizens were told")
    recording_ref: str | None = Field(default=None, max_length=500)
    conclusion: Conclusion | None = None

    @model_validator(mode="after")
    def _shape(self) -> "SessionIn":
        for name in ("starts_at", "ends_at"):
            if getattr(self, name).tzinfo is None:
                raise ValueError(f"{name} needs a time zone (e.g. 2026-12-01T08:00:00+07:00)")
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if (self.ends_at - self.starts_at).days >= 1:
            raise ValueError("a session lasts less than a day")
        if self.mode is Mode.online and not self.online_link:
            raise ValueError("an online session needs online_link")
        if self.mode is Mode.direct and not self.location:
            raise ValueError("a direct session needs location")
        return self


class SessionUpdate(Strict):
    status: Literal["scheduled", "held", "cancelled"] | None = None
    cancel_reason: str | None = Field(default=None, min_length=1, max_length=2000)
    recording_ref: str | None = Field(default=None, min_length=1, max_length=500)
    location: str | None = Field(default=None, min_length=1, max_length=500)
    conclusion: Conclusion | None = None


class SessionOut(BaseModel):
    id: int
    unit_id: int
    kind: str
    mode: str
    in_person: bool
    host_title: str | None
    status: str
    starts_at: LocalTime
    ends_at: LocalTime
    day: date
    location: str | None
    online_link: str | None
    citizens_notified_on: date | None
    recording_ref: str | None
    cancel_reason: str | None
    conclusion: Conclusion | None
    conclusion_missing: bool = Field(description="A head's session held without its conclusion notice")
    version: int
    created_at: LocalTime | None


class ScheduleItemOut(BaseModel):
    """A published session: when and where the head receives, no personal data."""

    id: int
    unit_id: int
    unit_code: str
    unit_name: str
    kind: str
    mode: str
    host: Literal["head", "deputy"]
    starts_at: LocalTime
    ends_at: LocalTime
    location: str | None


class MonthOut(BaseModel):
    month: str
    required: int
    in_person_days: int = Field(description="Periodic days (định kỳ) the head received in person")
    delegated_days: int = Field(description="Periodic days only a deputy received (count before 2026-07-01 only)")
    counted_days: int = Field(description="Periodic days that meet the requirement")
    adhoc_days: int = Field(description="Days of ad-hoc reception (đột xuất): a separate duty, never counted")
    adhoc_dates: list[date]
    shortfall: int
    weeks_short: list[date] = Field(
        default_factory=list,
        description="Under a weekly rule (LTCD art. 15 before 2026-07-01): the Mondays of the month's weeks left short",
    )
    delegation_counts: bool
    basis: str
    complete: bool = Field(
        description="The month is over (its shortfall counts in the row's shortfall); under a weekly rule, after the "
        "Sunday of its last week"
    )


class ComplianceRowOut(BaseModel):
    unit_id: int
    unit_code: str
    unit_name: str
    level: str
    required_days: int
    in_person_days: int
    delegated_days: int
    counted_days: int
    adhoc_days: int = Field(description="Days of ad-hoc reception in the period, listed beside the periodic days")
    shortfall: int
    months: list[MonthOut]


class ComplianceOut(BaseModel):
    period: str
    start: date
    end: date
    items: list[ComplianceRowOut]
    next_cursor: str | None
