"""The row a letter becomes: one typed `CaseRow` (with its `PartyRow`s, first event and outbox message), built once
by `build`, written by the intake statement (api/services/cases/writer.py reads `COLUMNS` off it) and presented to
the officer who typed it as it is (it has the attributes of a `Case` that presenters read), never re-read."""

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from typing import Any, NamedTuple, cast

from api.auth import Officer
from api.models.cases import Case
from api.models.cases.schemas import CaseIn
from api.services.calendar import DeadlineEnv, store_timers
from api.services.cases import domain, presenters, sealed_text, trail
from api.services.cases.letter import Judged
from api.services.cases.remembered import Signer
from api.settings import Settings
from api.vault import Vault
from workflows.cases import Status
from workflows.confidentiality import is_protected
from workflows.deadlines import intake_timers

_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"  # no look-alikes (0/O, 1/I/L, U)


def new_tracking_code(year: int) -> str:
    """LCyy- and ten characters drawn uniformly from the alphabet (one draw from the system's CSPRNG)."""
    n, chars = secrets.randbelow(len(_CODE_ALPHABET) ** 10), []
    for _ in range(10):
        n, digit = divmod(n, len(_CODE_ALPHABET))
        chars.append(_CODE_ALPHABET[digit])
    return f"LC{year % 100:02d}-" + "".join(chars)


def access_key(settings: Settings, tracking_code: str) -> str:
    """The citizen's key, derived (HMAC) so a retried intake can hand it out again; stored as a hash."""
    mac = hmac.new(settings.jwt_secret().encode(), f"access:{tracking_code}".encode(), hashlib.sha256)
    return mac.hexdigest()[:24]


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(slots=True)
class PartyRow:
    """A party as written: a protected identity sealed and its clear columns left empty."""

    role: str
    full_name: str
    id_number: str | None
    phone: str | None
    address: str | None
    sealed: str | None
    id_number_hash: str | None
    officer_id: int | None
    id: int | None = None  # once written


PARTY_FIELDS = tuple(f.name for f in fields(PartyRow) if f.name != "id")  # as written, in the class's order


def party_row(vault: Vault, kind: str, data: dict[str, Any], identity_protected: bool) -> PartyRow:
    id_number = data.get("id_number")
    protected = is_protected(data["role"], kind, identity_protected)
    fingerprint = vault.fingerprint(id_number, protected=protected) if id_number else None
    if protected:
        sealed = vault.seal({k: data.get(k) for k in presenters.IDENTITY_FIELDS})
        return PartyRow(data["role"], "", None, None, None, sealed, fingerprint, data.get("officer_id"))
    return PartyRow(
        data["role"],
        data["full_name"],
        id_number,
        data.get("phone"),
        data.get("address"),
        None,
        fingerprint,
        data.get("officer_id"),
    )


@dataclass(slots=True)
class CaseRow:
    """A case as taken in. Title and content are in clear (for the answer); `text` is what goes to disk instead
    when they are sealed (sealed_text.py). The fields after `warnings` are those of a case that intake never sets."""

    id: int
    tracking_code: str
    access_key_hash: str
    kind: str
    field: str
    channel: str
    title: str
    content: str
    received_at: date
    receiving_unit_id: int
    competent_unit_id: int
    received_by_id: int
    complaint_round: int | None
    previous_case_id: int | None
    decision_known_date: date | None
    complexity: str
    remote_area: bool
    remote_area_explicit: bool
    signer_count: int
    is_anonymous: bool
    multi_place_verification: bool
    identity_protected: bool
    disciplinary: bool
    level_skipping: bool
    repeat_of_case_id: int | None
    idempotency_key: str | None
    idempotency_fingerprint: str | None
    location: dict[str, Any] | None
    created_at: datetime
    warnings: list[dict[str, Any]]
    status: str = Status.received.value
    version: int = 1
    remedies: dict[str, Any] = field(default_factory=dict)
    extension_count: int = 0
    timers: list[dict[str, Any]] = field(default_factory=list)
    next_due_date: date | None = None
    next_alert_date: date | None = None
    max_due_date: date | None = None
    transferred_from_case_id: int | None = None
    transferred_to_case_id: int | None = None
    reason_code: str | None = None
    accepted_on: date | None = None
    outcome: str | None = None
    decision_number: str | None = None
    decision_date: date | None = None
    closed_on: date | None = None
    # Written with it: the text as stored, the parties, the first event, the outbox message, and the remembered
    # officer the write must still find (api/services/cases/remembered.py; None: read in this request).
    text: sealed_text.Sealed | None = None
    parties: list[PartyRow] = field(default_factory=list)
    event_payload: dict[str, Any] = field(default_factory=dict)
    prev_hash: str = trail.GENESIS
    hash: str = ""
    signer: Signer | None = None
    # Its JSON columns, encoded once by `build` while the request is served, not in the writer's lane
    # (reset by dataclasses.replace).
    _json: tuple[str, str, str | None, str, str] | None = field(default=None, init=False, repr=False)

    @property
    def updated_at(self) -> datetime:
        return self.created_at

    def encode(self) -> tuple[str, str, str | None, str, str]:
        """Warnings, timers, location, first event's payload, outbox message: as the statement takes them."""
        self._json = (
            json.dumps(self.warnings, ensure_ascii=False),
            json.dumps(self.timers),
            json.dumps(self.location) if self.location is not None else None,
            json.dumps(self.event_payload, ensure_ascii=False),
            json.dumps(self.outbox_payload(), default=str, ensure_ascii=False),
        )
        return self._json

    def written(self) -> tuple[Any, ...]:
        """The values of `COLUMNS`, in their order (what the intake statement takes for this letter)."""
        text = self.text
        warnings, timers, location, event_payload, outbox_payload = self._json or self.encode()
        return (
            self.id,
            self.tracking_code,
            self.access_key_hash,
            self.kind,
            self.field,
            self.channel,
            text.title if text else self.title,
            text.content if text else self.content,
            text.sealed_text if text else None,
            text.words if text else None,
            self.received_at,
            self.receiving_unit_id,
            self.competent_unit_id,
            self.received_by_id,
            self.complaint_round,
            self.previous_case_id,
            self.decision_known_date,
            self.complexity,
            self.remote_area,
            self.remote_area_explicit,
            self.signer_count,
            self.is_anonymous,
            self.multi_place_verification,
            self.identity_protected,
            self.disciplinary,
            self.level_skipping,
            self.repeat_of_case_id,
            self.status,
            warnings,
            timers,
            self.next_due_date,
            self.next_alert_date,
            self.max_due_date,
            self.idempotency_key,
            self.idempotency_fingerprint,
            location,
            self.created_at,
            event_payload,
            self.prev_hash,
            self.hash,
            outbox_payload,
            self.signer.fingerprint if self.signer else None,
            self.signer.calendar_version if self.signer else None,
        )

    def outbox_payload(self) -> dict[str, Any]:
        return {
            "case_id": self.id,
            "tracking_code": self.tracking_code,
            "kind": self.kind,
            "field": self.field,
            "channel": self.channel,
            "competent_unit_id": self.competent_unit_id,
            "received_at": self.received_at,
        }


# The intake statement's columns for one letter, in the order of `CaseRow.written`, with their PostgreSQL types.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "bigint"),
    ("tracking_code", "text"),
    ("access_key_hash", "text"),
    ("kind", "text"),
    ("field", "text"),
    ("channel", "text"),
    ("title", "text"),
    ("content", "text"),
    # A denunciation's sealed title and content, and its words' keyed MACs as an array literal (a text: unnest
    # cannot take an array of arrays of different lengths) (api/services/cases/sealed_text.py).
    ("sealed_text", "text"),
    ("text_words", "text"),
    ("received_at", "date"),
    ("receiving_unit_id", "int"),
    ("competent_unit_id", "int"),
    ("received_by_id", "int"),
    ("complaint_round", "int"),
    ("previous_case_id", "bigint"),
    ("decision_known_date", "date"),
    ("complexity", "text"),
    ("remote_area", "bool"),
    ("remote_area_explicit", "bool"),
    ("signer_count", "int"),
    ("is_anonymous", "bool"),
    ("multi_place_verification", "bool"),
    ("identity_protected", "bool"),
    ("disciplinary", "bool"),
    ("level_skipping", "bool"),
    ("repeat_of_case_id", "bigint"),
    ("status", "text"),
    ("warnings", "text"),
    ("timers", "text"),
    ("next_due_date", "date"),
    ("next_alert_date", "date"),
    ("max_due_date", "date"),
    ("idempotency_key", "text"),
    ("idempotency_fingerprint", "text"),
    ("location", "text"),
    ("at", "timestamptz"),
    ("event_payload", "text"),
    ("prev_hash", "text"),
    ("hash", "text"),
    ("outbox_payload", "text"),
    ("signer_fingerprint", "text"),
    ("calendar_version", "bigint"),
)


def build(
    settings: Settings,
    vault: Vault,
    principal: Officer,
    data: CaseIn,
    judged: Judged,
    *,
    case_id: int,
    today: date,
    env: DeadlineEnv,
    idempotency_key: str | None,
    idempotency_fingerprint: str | None,
    location: dict[str, Any] | None,
) -> "Made":
    """The row of a letter the rules accepted, with its first event chained."""
    tracking_code = new_tracking_code(today.year)
    key = access_key(settings, tracking_code)
    case = CaseRow(
        id=case_id,
        tracking_code=tracking_code,
        access_key_hash=hash_key(key),
        kind=data.kind.value,
        field=data.field.value,
        channel=data.channel.value,
        title=data.title,
        content=data.content,
        received_at=data.received_at,
        receiving_unit_id=principal.unit_id,
        competent_unit_id=judged.competent_unit_id,
        received_by_id=principal.id,
        complaint_round=data.complaint_round,
        previous_case_id=data.previous_case_id,
        decision_known_date=data.decision_known_date,
        complexity=data.complexity.value,
        remote_area=judged.remote_area,
        remote_area_explicit=judged.remote_area_explicit,
        signer_count=data.signer_count,
        is_anonymous=data.is_anonymous,
        multi_place_verification=data.multi_place_verification,
        identity_protected=judged.identity_protected,
        disciplinary=judged.disciplinary,
        level_skipping=judged.level_skipping,
        repeat_of_case_id=data.repeat_of_case_id,
        idempotency_key=idempotency_key,
        idempotency_fingerprint=idempotency_fingerprint,
        location=location,
        created_at=datetime.now(UTC),
        warnings=judged.warnings,
    )
    as_case = cast(Case, case)
    store_timers(as_case, intake_timers(domain.facts(as_case), data.received_at, env.rules), env)
    clear = [p.model_dump() for p in data.parties]
    protected = case.identity_protected
    # A denunciation's title and content go to disk sealed, with the keyed MACs of their words (sealed_text.py);
    # the row keeps them in clear for the answer to the officer who typed them. The index holds no word of a
    # protected party's name, ID number or phone (the letter names its author).
    if sealed_text.seals(case.kind, protected):
        hidden = [p for p in clear if is_protected(p["role"], case.kind, protected)]
        case.text = sealed_text.seal(vault, sealed_text.keys_for(settings), data.title, data.content, hidden)
    case.parties = [party_row(vault, case.kind, p, protected) for p in clear]
    case.event_payload = _event_payload(case, data, judged)
    case.hash = trail.digest_of(
        trail.GENESIS,
        case_id=case_id,
        seq=1,
        at=case.created_at,
        actor_id=principal.id,
        action="create",
        from_status=None,
        to_status=case.status,
        effective_date=data.received_at,
        reason=None,
        payload=case.event_payload,
    )
    case.encode()
    return Made(case, key, clear)


class Made(NamedTuple):
    row: CaseRow
    access_key: str  # the citizen's, shown once
    clear_parties: list[dict[str, Any]]  # the parties as typed, for the answer to the officer who typed them


def _event_payload(case: CaseRow, data: CaseIn, judged: Judged) -> dict[str, Any]:
    roles: dict[str, int] = {}
    for p in data.parties:
        roles[p.role.value] = roles.get(p.role.value, 0) + 1
    return {
        "kind": case.kind,
        "field": case.field,
        "channel": case.channel,
        "receiving_unit_id": case.receiving_unit_id,
        "competent_unit_id": case.competent_unit_id,
        "parties_by_role": roles,
        "level_skipping": case.level_skipping,
        "warnings": [w["code"] for w in case.warnings],
        # Linking officers as accused is on the record the supervising units read.
        **({"accused_officer_ids": judged.accused_officer_ids} if judged.accused_officer_ids else {}),
        **({"oversight_escalated": judged.oversight_escalated} if judged.oversight_escalated else {}),
        # The case row and its parties as written: verify-events proves them against this (H5, issue 21).
        trail.STATE_KEY: trail.state_digest(case, case.parties),
    }
