"""Request and response schemas of the case API."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, JsonValue, field_validator, model_validator

from api.types import Id32, Id64, StrictDate, clean_any
from workflows.calendar import Basis
from workflows.cases import Kind, Status
from workflows.deadlines import NOTICE_TIMERS, TimerStatus
from workflows.identity import id_number_problem

MAX_CONTENT = 20_000
MAX_TITLE = 500
# The longest Idempotency-Key a letter may carry, on every lane that takes one (the desk's and the citizen's, FastAPI's
# and the lean one): the key is stored in cases.idempotency_key, a String(64).
IDEMPOTENCY_KEY_MAX = 64


class CaseField(StrEnum):
    land = "land"  # đất đai, nhà ở
    compensation = "compensation"  # bồi thường, hỗ trợ, giải phóng mặt bằng
    policy = "policy"  # chế độ, chính sách xã hội
    civil_service = "civil_service"
    admin_other = "admin_other"
    judicial = "judicial"
    corruption = "corruption"
    party = "party"
    other = "other"


class Channel(StrEnum):
    in_person = "in_person"
    post = "post"
    reception_session = "reception_session"
    transferred_in = "transferred_in"
    mobile = "mobile"
    online = "online"


class Complexity(StrEnum):
    normal = "normal"
    complex = "complex"
    especially_complex = "especially_complex"


class PartyRole(StrEnum):
    complainant = "complainant"
    denouncer = "denouncer"
    petitioner = "petitioner"
    representative = "representative"
    accused = "accused"
    respondent = "respondent"
    related = "related"


class Strict(BaseModel):
    """Request bodies: unknown fields refused; every text NFC-normalised and refused when it holds NUL,
    invalid Unicode or invisible direction controls (422 naming the field)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")  # NFC before the constraints: a max_length holds after it
    @classmethod
    def _clean_text(cls, value: Any) -> Any:
        return clean_any(value)


def _citizen_id(v: Any) -> Any:
    if v in (None, ""):
        return None
    problem = id_number_problem(str(v).strip())
    if problem:
        raise ValueError(f"invalid citizen ID number: {problem}")
    return str(v).strip()


# A 12-digit citizen ID number (empty means none), checked by workflows.identity.
CitizenIdNumber = Annotated[Annotated[str, Field(max_length=12)] | None, BeforeValidator(_citizen_id)]


class PartyIn(Strict):
    role: PartyRole
    full_name: str = Field(min_length=1, max_length=255)
    id_number: CitizenIdNumber = None
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9 .-]{8,20}$")
    address: str | None = Field(default=None, max_length=500)
    officer_id: Id32 | None = Field(default=None, description="The accused officer's user id, when one is named")


class CaseIn(Strict):
    kind: Kind
    field: CaseField
    channel: Channel = Channel.in_person
    title: str = Field(min_length=1, max_length=MAX_TITLE)
    content: str = Field(min_length=1, max_length=MAX_CONTENT)
    received_at: StrictDate = Field(description="Ngày nhận đơn (may be earlier than entry, e.g. a postmark)")
    competent_unit_id: Id32 | None = Field(default=None, description="Unit competent to settle it (default: yours)")
    complaint_round: Literal[1, 2] | None = None
    previous_case_id: Id64 | None = Field(
        default=None,
        description="The first-round case (2nd-round complaints), or the earlier denunciation of a further "
        "denunciation (tố cáo tiếp, LTC art. 38.1: decided, or its resolution period passed unresolved; sent to the "
        "unit directly above its resolver)",
    )
    decision_known_date: StrictDate | None = Field(
        default=None, description="When the complainant learned of the decision"
    )
    complexity: Complexity = Complexity.normal
    remote_area: bool | None = Field(default=None, description="Override of the commune's remote_area flag")
    signer_count: int = Field(default=1, ge=1, le=100_000)
    is_anonymous: bool = False
    multi_place_verification: bool = False
    disciplinary: bool = Field(
        default=False,
        description="A complaint against a disciplinary decision on an officer (LKN art. 46–51): window 15 days "
        "from receiving the decision (decision_known_date), resolution periods of art. 50–51; field civil_service",
    )
    repeat_of_case_id: Id64 | None = Field(default=None, description="A decided case this letter repeats")
    identity_protection_requested: bool = Field(
        default=False,
        description="The sender asks for identity protection: the case is protected like a denunciation whatever its "
        "kind (its parties but the accused and the respondent sealed and masked, its title, content and reasons "
        "sealed)",
    )
    parties: list[PartyIn] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _rounds(self) -> "CaseIn":
        if self.kind is not Kind.complaint and self.complaint_round is not None:
            raise ValueError("complaint_round applies to complaints only")
        if self.kind is Kind.complaint and self.complaint_round is None:
            self.complaint_round = 1
        if self.complaint_round == 2 and self.previous_case_id is None:
            raise ValueError("a second-round complaint needs previous_case_id (its first round)")
        if self.previous_case_id is not None and self.kind not in (Kind.complaint, Kind.denunciation):
            raise ValueError("previous_case_id applies to second-round complaints and further denunciations")
        if self.disciplinary and self.kind is not Kind.complaint:
            raise ValueError("disciplinary applies to complaints only (LKN art. 46)")
        if self.disciplinary and self.field is not CaseField.civil_service:
            raise ValueError("a complaint against a disciplinary decision is in the field civil_service (LKN art. 46)")
        return self


class AccusedIn(Strict):
    """An accused party named after intake (`POST /cases/{id}/accused`): an officer (their name is taken from their
    account unless given), or a person by name."""

    officer_id: Id32 | None = Field(default=None, description="The accused officer's user id")
    full_name: str | None = Field(default=None, min_length=1, max_length=255)
    address: str | None = Field(default=None, max_length=500)
    reason: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _named(self) -> "AccusedIn":
        if self.officer_id is None and not self.full_name:
            raise ValueError("name the accused: officer_id or full_name")
        return self


class AccusedRemoveIn(Strict):
    """Removing an accused link (`DELETE /cases/{id}/accused/{party_id}`): the holding unit's head, with a reason.
    The link is kept as removed: the officer once named never reads the case again."""

    reason: str = Field(min_length=1, max_length=2000, pattern=r"\S", description="Why the link is removed")


class Remedies(Strict):
    money_to_state_vnd: Decimal = Field(default=Decimal(0), ge=0, max_digits=18, decimal_places=0)
    money_to_citizens_vnd: Decimal = Field(default=Decimal(0), ge=0, max_digits=18, decimal_places=0)
    land_to_state_m2: Decimal = Field(default=Decimal(0), ge=0, max_digits=14, decimal_places=2)
    land_to_citizens_m2: Decimal = Field(default=Decimal(0), ge=0, max_digits=14, decimal_places=2)
    organisations_restored: int = Field(default=0, ge=0, le=1_000_000)
    people_restored: int = Field(default=0, ge=0, le=1_000_000)
    people_sanctioned: int = Field(default=0, ge=0, le=1_000_000)
    officials_sanctioned: int = Field(default=0, ge=0, le=1_000_000)
    referred_cases: int = Field(default=0, ge=0, le=1_000_000)
    referred_people: int = Field(default=0, ge=0, le=1_000_000)


class EnforcementIn(Strict):
    """What the decision's enforcement achieved (form 05/KQTH), as of `enforced_on`."""

    enforced_on: StrictDate
    money_to_state_vnd: Decimal = Field(default=Decimal(0), ge=0, max_digits=18, decimal_places=0)
    land_to_state_m2: Decimal = Field(default=Decimal(0), ge=0, max_digits=14, decimal_places=2)
    money_to_citizens_vnd: Decimal = Field(default=Decimal(0), ge=0, max_digits=18, decimal_places=0)
    land_to_citizens_m2: Decimal = Field(default=Decimal(0), ge=0, max_digits=14, decimal_places=2)
    people_sanctioned: int = Field(default=0, ge=0, le=1_000_000)
    prosecuted_cases: int = Field(default=0, ge=0, le=1_000_000)
    prosecuted_people: int = Field(default=0, ge=0, le=1_000_000)
    note: str | None = Field(default=None, max_length=5000)


class ActionIn(Strict):
    effective_date: StrictDate | None = Field(default=None, description="Date on the legal document (default: today)")
    reason: str | None = Field(default=None, max_length=5000)
    decision_number: str | None = Field(default=None, max_length=64)
    reason_code: str | None = Field(default=None, max_length=32)
    handler_ids: list[Id32] | None = Field(default=None, min_length=1, max_length=20)
    to_unit_id: Id32 | None = None
    outcome: str | None = Field(default=None, max_length=24)
    remedies: Remedies | None = None
    scope: Literal["full", "partial"] | None = Field(default=None, description="withdraw: full or partial")
    party_id: Id64 | None = Field(
        default=None, description="withdraw: the party (complainant, denouncer, …) who withdraws"
    )
    exception_code: str | None = Field(
        default=None, max_length=32, description="withdraw of a denunciation: LTC art. 33 exception"
    )
    extension_days: int | None = Field(default=None, ge=1, le=30)
    complexity: Complexity | None = None
    inspection_lead: bool = Field(default=False, description="store: keep an anonymous denunciation as a lead")
    duplicate_of_case_id: Id64 | None = Field(
        default=None, description="store with reason_code duplicate: the letter this one duplicates"
    )


class CaseFilters(BaseModel):
    """Filters of the case list, read from the query string (repeat a parameter for several values)."""

    model_config = ConfigDict(extra="forbid")

    kind: list[Kind] | None = None
    status: list[Status] | None = None
    field: list[CaseField] | None = None
    unit_id: Id32 | None = Field(default=None, description="Competent unit")
    include_subtree: bool = Field(default=False, description="unit_id and its subtree")
    handler_id: Id32 | None = None
    overdue: bool | None = None
    due_before: StrictDate | None = None
    received_from: StrictDate | None = None
    received_to: StrictDate | None = None
    multi_person: bool | None = None
    level_skipping: bool | None = None
    q: str | None = Field(
        default=None,
        min_length=2,
        max_length=200,
        description="Tìm không dấu: 'dat dai' tìm thấy 'đất đai'; hoặc mã hồ sơ",
    )
    sort: Literal["-received_at", "received_at", "due_date"] = "-received_at"
    limit: int = Field(default=50, ge=1, le=200, description="Số bản ghi mỗi trang (1–200)")
    cursor: str | None = Field(default=None, max_length=512, description="Giá trị next_cursor của trang trước")

    @field_validator("q", mode="before")  # NFC before the constraints: max_length holds after it
    @classmethod
    def _clean_q(cls, value: Any) -> Any:
        return clean_any(value)

    @model_validator(mode="after")
    def _range(self) -> "CaseFilters":
        if self.received_from and self.received_to and self.received_from > self.received_to:
            raise ValueError("received_from is after received_to")
        return self


class ComplexityIn(Strict):
    complexity: Complexity
    reason: str = Field(min_length=1, max_length=2000)
    effective_date: StrictDate | None = Field(
        default=None,
        description="The decision's real date (default: today): not in the future, not before the acceptance, and "
        "while the resolution period still runs (409 `period_already_ended`)",
    )


class UnlawfulResolutionIn(Strict):
    """The head directly above the resolver finds a denunciation's resolution unlawful (LTC art. 38)."""

    reason: str = Field(min_length=1, max_length=5000)
    decision_number: str | None = Field(default=None, max_length=64)
    effective_date: StrictDate | None = Field(default=None, description="Date of the finding (default: today)")


class CompetenceIn(Strict):
    competent_unit_id: Id32
    reason: str = Field(min_length=1, max_length=2000)


_NOTICE_ENUM: list[JsonValue] = [*sorted(NOTICE_TIMERS)]


class NoticeIn(Strict):
    timer: str = Field(
        max_length=32,
        description="A notification duty the engine created on the case (workflows.deadlines.NOTICE_TIMERS)",
        json_schema_extra={"enum": _NOTICE_ENUM},
    )
    sent_on: StrictDate
    decision_date: StrictDate | None = Field(
        default=None,
        description="The date of the decision this notice sends (the start of its duty): a notice meets that one "
        "duty only. Default: the latest open duty of this name started on or before `sent_on`",
    )
    recipients: str | None = Field(
        default=None, max_length=500, description="Free text; sealed on a case with protected parties"
    )
    recipient_party_ids: list[Id64] = Field(
        default_factory=list,
        max_length=50,
        description="The parties notified, by reference (a notice to a denouncer names no one in clear)",
    )

    @field_validator("timer", mode="after")
    @classmethod
    def _notice_timer(cls, value: str) -> str:
        if value not in NOTICE_TIMERS:
            raise ValueError(f"not a notification duty; one of {', '.join(sorted(NOTICE_TIMERS))}")
        return value


class PartyOut(BaseModel):
    id: int
    role: PartyRole
    full_name: str
    id_number: str | None
    phone: str | None
    address: str | None
    officer_id: int | None = None
    masked: bool = False


class TimerOut(BaseModel):
    name: str
    basis: Basis
    start_date: date
    due_date: date
    status: TimerStatus
    remaining_days: int | None
    days: int
    legal_basis: str
    completed_on: date | None


class CaseOut(BaseModel):
    id: int
    tracking_code: str
    kind: Kind
    field: CaseField
    channel: Channel
    title: str
    content: str
    status: Status
    version: int
    received_at: date
    receiving_unit_id: int
    competent_unit_id: int
    complaint_round: int | None
    previous_case_id: int | None
    complexity: Complexity
    remote_area: bool
    signer_count: int
    is_multi_person: bool
    is_anonymous: bool
    multi_place_verification: bool
    disciplinary: bool
    identity_protected: bool = Field(
        default=False, description="The sender asked for identity protection: protected like a denunciation"
    )
    level_skipping: bool
    repeat_of_case_id: int | None
    repeat_count: int
    transferred_from_case_id: int | None
    transferred_to_case_id: int | None
    reason_code: str | None
    accepted_on: date | None
    outcome: str | None
    decision_number: str | None
    decision_date: date | None
    remedies: dict[str, Any]
    extension_count: int
    closed_on: date | None
    handler_ids: list[int]
    parties: list[PartyOut]
    timers: list[TimerOut]
    next_due_date: date | None
    warnings: list[dict[str, Any]]
    allowed_actions: list[str]
    created_at: datetime
    updated_at: datetime
    oversight_escalated: bool | None = Field(
        default=None,
        description="Every inspector is named as accused: the case is overseen by the chief inspector or a head "
        "above (GET /cases/{id}; null in other answers)",
    )
    oversight_reason: str | None = Field(
        default=None, description="all_inspectors_accused | inspectorate_accused | everyone_accused"
    )
    text_redacted: bool = Field(
        default=False,
        description="Title and content shown with each protected party's name, ID number, phone and address masked "
        "(you may not see who sent it)",
    )


class CaseCreatedOut(CaseOut):
    access_key: str = Field(description="For the citizen's status look-up; shown once, stored only as a hash")


class CaseItemOut(BaseModel):
    id: int
    tracking_code: str
    kind: Kind
    field: CaseField
    title: str
    status: Status
    version: int
    received_at: date
    receiving_unit_id: int
    competent_unit_id: int
    is_multi_person: bool
    level_skipping: bool
    next_due_date: date | None
    overdue: bool
    text_redacted: bool = Field(
        default=False,
        description="Title and content shown with each protected party's name, ID number, phone and address masked "
        "(you may not see who sent it)",
    )


class EventOut(BaseModel):
    seq: int
    at: datetime
    actor_id: int | None
    action: str
    from_status: str | None
    to_status: str | None
    effective_date: date | None
    reason: str | None
    payload: dict[str, Any]
    hash: str
    sealed: bool = Field(
        default=False, description="Free text sealed (case with protected parties); masked unless you may see them"
    )


class ChainReportOut(BaseModel):
    valid: bool
    events_checked: int
    first_tampered_seq: int | None
    # What does not hold (a chain, the case row against its chain's state, a sealed text): only when invalid.
    problems: list[str] | None = None


class DialogueIn(Strict):
    held_on: StrictDate
    participants: list[str] = Field(min_length=1, max_length=50)
    minutes: str = Field(min_length=1, max_length=MAX_CONTENT)
    agreement_reached: bool
    complainant_absent: bool = Field(
        default=False, description="Skipped without good reason (Law 136: does not stop the resolution)"
    )


class DialogueOut(BaseModel):
    id: int
    held_on: date
    participants: list[str]
    minutes: str
    agreement_reached: bool
    complainant_absent: bool
    recorded_by_id: int
    created_at: datetime
    sealed: bool = Field(default=False, description="Participants and minutes sealed (case with protected parties)")


class DuplicateOut(BaseModel):
    id: int
    tracking_code: str
    kind: Kind
    status: Status
    title: str
    received_at: date
    similarity: float
    same_person: bool


class UrgentCaseOut(BaseModel):
    """A case in the overdue / due-soon lists, with its most urgent running timer."""

    case_id: int
    tracking_code: str
    kind: Kind
    status: Status
    title: str
    competent_unit_id: int
    escalated_to_unit_id: int | None
    timer: str
    basis: str
    due_date: date
    remaining_days: int | None
    text_redacted: bool = Field(
        default=False,
        description="Title and content shown with each protected party's name, ID number, phone and address masked "
        "(you may not see who sent it)",
    )
