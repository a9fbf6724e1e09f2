"""The citizen and mobile channel: ratings, Open311 API keys, attachments, and the public request and response
schemas. Citizens and apps are not officers: they reach a case only by its tracking code and access key."""

import re
from datetime import date, datetime
from typing import Literal

import sqlalchemy as sa
from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from api.models.base import created_at_column
from api.models.cases.schemas import CaseField, CitizenIdNumber, Strict
from workflows.cases import Kind


class CaseRating(SQLModel, table=True):
    """A citizen's rating of how their matter was settled: once per case (append-only for the service)."""

    __tablename__ = "case_ratings"

    case_id: int = SQLField(sa_column=sa.Column(sa.BigInteger, sa.ForeignKey("cases.id"), primary_key=True))
    score: int = SQLField(sa_column=sa.Column(sa.SmallInteger, nullable=False))
    comment: str | None = SQLField(default=None, sa_column=sa.Column(sa.Text))
    rated_on: date = SQLField(sa_column=sa.Column(sa.Date, nullable=False, index=True))
    created_at: datetime | None = SQLField(default=None, sa_column=created_at_column())

    __table_args__ = (sa.CheckConstraint("score BETWEEN 1 AND 5", name="rating_score_range"),)


DEFAULT_KEY_PER_MINUTE = 60  # an app server posting for many phones is one client: room for bursts of reports
DEFAULT_KEY_PER_DAY = 5_000
MAX_KEY_PER_MINUTE = 6_000
MAX_KEY_PER_DAY = 1_000_000


class ApiKey(SQLModel, table=True):
    """A client application's key for Open311 (issued by an admin, shown once, stored as a hash)."""

    __tablename__ = "api_keys"

    id: int | None = SQLField(default=None, primary_key=True)
    name: str = SQLField(sa_column=sa.Column(sa.String(120), nullable=False))
    key_hash: str = SQLField(sa_column=sa.Column(sa.String(64), nullable=False, unique=True))
    created_by_id: int = SQLField(sa_column=sa.Column(sa.Integer, sa.ForeignKey("users.id"), nullable=False))
    created_at: datetime | None = SQLField(default=None, sa_column=created_at_column())
    revoked_at: datetime | None = SQLField(default=None, sa_column=sa.Column(sa.DateTime(timezone=True)))
    # Its quota, set when issued: requests per minute and per day, counted per key (api_key_usage or Redis).
    per_minute: int = SQLField(
        default=DEFAULT_KEY_PER_MINUTE, sa_column=sa.Column(sa.Integer, nullable=False, server_default="60")
    )
    per_day: int = SQLField(
        default=DEFAULT_KEY_PER_DAY, sa_column=sa.Column(sa.Integer, nullable=False, server_default="5000")
    )

    __table_args__ = (sa.CheckConstraint("per_minute > 0 AND per_day > 0", name="api_key_quota_positive"),)


class ApiKeyUsage(SQLModel, table=True):
    """Requests of one Open311 key counted in one window (`span` minute or day): shared by every API process.
    Only a key's id and a number; past windows are deleted as new ones start."""

    __tablename__ = "api_key_usage"

    api_key_id: int = SQLField(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("api_keys.id", ondelete="CASCADE"), primary_key=True)
    )
    span: str = SQLField(sa_column=sa.Column(sa.String(6), primary_key=True))
    window_start: datetime = SQLField(sa_column=sa.Column(sa.DateTime(timezone=True), primary_key=True))
    count: int = SQLField(sa_column=sa.Column(sa.Integer, nullable=False))


class Attachment(SQLModel, table=True):
    __tablename__ = "attachments"

    id: int | None = SQLField(default=None, sa_column=sa.Column(sa.BigInteger, primary_key=True))
    case_id: int = SQLField(sa_column=sa.Column(sa.BigInteger, sa.ForeignKey("cases.id"), nullable=False, index=True))
    # The uploader's file name and the original's SHA-256, sealed (Fernet, IDENTITY_KEYS): JSON {filename, sha256}.
    sealed: str = SQLField(sa_column=sa.Column(sa.Text, nullable=False))
    content_type: str = SQLField(sa_column=sa.Column(sa.String(64), nullable=False))
    size: int = SQLField(sa_column=sa.Column(sa.BigInteger, nullable=False))
    storage_key: str = SQLField(sa_column=sa.Column(sa.String(200), nullable=False))
    # The metadata-stripped copy (photos and PDF), sealed in the store too; none when it could not be made.
    copy_key: str | None = SQLField(default=None, sa_column=sa.Column(sa.String(200)))
    copy_size: int | None = SQLField(default=None, sa_column=sa.Column(sa.BigInteger))
    copy_sha256: str | None = SQLField(default=None, sa_column=sa.Column(sa.String(64)))
    uploaded_by: str = SQLField(sa_column=sa.Column(sa.String(16), nullable=False))  # citizen | officer
    created_at: datetime | None = SQLField(default=None, sa_column=created_at_column())


class UploadQuota(SQLModel, table=True):
    """Bytes of anonymous uploads counted per day: per keyed daily hash of a client address (`a:…`) or a device
    id (`d:…`), and of all anonymous callers (`all`). No address is kept; days before yesterday are deleted."""

    __tablename__ = "upload_quotas"

    bucket: str = SQLField(sa_column=sa.Column(sa.String(80), primary_key=True))
    day: date = SQLField(sa_column=sa.Column(sa.Date, primary_key=True))
    bytes: int = SQLField(sa_column=sa.Column(sa.BigInteger, nullable=False))


# ---- schemas ----

_COMMUNE_CODE = re.compile(r"^[0-9A-Za-z-]{1,16}$")
MAX_PUBLIC_CONTENT = 10_000


class Location(Strict):
    commune_code: str | None = Field(default=None, max_length=16, description="Official code of the commune")
    lat: float | None = Field(default=None, ge=-90, le=90)
    long: float | None = Field(default=None, ge=-180, le=180)
    address: str | None = Field(default=None, max_length=500)

    @field_validator("commune_code", mode="after")
    @classmethod
    def _code(cls, code: str | None) -> str | None:
        if code is not None and not _COMMUNE_CODE.match(code):
            raise PydanticCustomError("commune_code", "Mã xã, phường là mã đơn vị hành chính (ví dụ 04465)")
        return code

    @model_validator(mode="after")
    def _something(self) -> "Location":
        if (self.lat is None) != (self.long is None):
            raise PydanticCustomError("lat_long_together", "Gửi vĩ độ (lat) và kinh độ (long) cùng nhau")
        if self.commune_code is None and self.lat is None and not self.address:
            raise PydanticCustomError(
                "location_required", "Cần mã xã (commune_code), vị trí (lat và long) hoặc địa chỉ (address)"
            )
        return self


class Contact(Strict):
    full_name: str = Field(min_length=1, max_length=255)
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9 .-]{8,20}$")
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    id_number: CitizenIdNumber = None
    address: str | None = Field(default=None, max_length=500)


IDENTITY_REQUIRED = (
    "Khiếu nại, tố cáo phải ghi họ tên và số định danh cá nhân (12 chữ số) của người gửi: "
    "thiếu thì không tiếp nhận được qua kênh này"
)
CONSENT_REQUIRED = (
    "Đã cung cấp thông tin cá nhân (họ tên, điện thoại, email, số định danh) thì phải đồng ý cho cơ quan nhà nước "
    "xử lý các thông tin đó (consent = true); không đồng ý thì gửi không kèm thông tin cá nhân"
)


class SubmissionIn(Strict):
    kind: Kind
    field: CaseField
    title: str | None = Field(default=None, max_length=200)
    content: str = Field(min_length=1, max_length=MAX_PUBLIC_CONTENT)
    location: Location
    contact: Contact | None = Field(
        default=None,
        validate_default=True,
        description="Who writes: required (with id_number) for a complaint or denunciation, optional otherwise",
    )
    consent: bool = Field(
        strict=True,
        description="Consent to the processing of the personal data given (Law on Personal Data Protection): "
        "the JSON booleans true or false only; true is required whenever `contact` is given",
    )

    @field_validator("contact", mode="after")
    @classmethod
    def _identity(cls, contact: Contact | None, info: ValidationInfo) -> Contact | None:
        if info.data.get("kind") in (Kind.complaint, Kind.denunciation) and (contact is None or not contact.id_number):
            raise PydanticCustomError("identity_required", IDENTITY_REQUIRED)
        return contact

    @field_validator("consent", mode="after")
    @classmethod
    def _consent(cls, consent: bool, info: ValidationInfo) -> bool:
        if info.data.get("contact") is not None and not consent:
            raise PydanticCustomError("consent_required", CONSENT_REQUIRED)
        return consent


class SubmissionCreatedOut(BaseModel):
    tracking_code: str
    access_key: str = Field(description="Shown once: keep it to follow the case (header X-Access-Key)")
    status: str
    public_status: str
    received_at: date
    unit_code: str
    unit_name: str
    due_date: date | None


class TimelineItemOut(BaseModel):
    date: date | None
    event: str


class SubmissionStatusOut(BaseModel):
    tracking_code: str
    kind: str
    field: str
    status: str
    public_status: str
    open: bool
    received_at: date
    unit_name: str
    due_date: date | None
    timeline: list[TimelineItemOut]
    outcome: str | None
    rating: int | None


class RatingIn(Strict):
    score: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=1000)


class ApiKeyIn(Strict):
    name: str = Field(min_length=1, max_length=120)
    per_minute: int = Field(
        default=DEFAULT_KEY_PER_MINUTE,
        ge=1,
        le=MAX_KEY_PER_MINUTE,
        description="The key's quota: Open311 requests per minute, however many phones or addresses it serves",
    )
    per_day: int = Field(
        default=DEFAULT_KEY_PER_DAY,
        ge=1,
        le=MAX_KEY_PER_DAY,
        description="The key's quota: Open311 requests per day (Asia/Ho_Chi_Minh)",
    )


class ApiKeyCreatedOut(BaseModel):
    id: int
    name: str
    api_key: str = Field(description="Shown once; stored only as a hash")
    per_minute: int
    per_day: int


class AttachmentOut(BaseModel):
    id: int
    filename: str = Field(description="The uploader's name for the original; a neutral name for a copy")
    content_type: str
    size: int
    sha256: str | None = Field(description="Of the file you may download (the original or the copy)")
    form: Literal["original", "copy", "none"] = Field(
        description="original: the file as uploaded; copy: a copy stripped of metadata (GPS position, device, "
        "author, software), what those who may not see a denouncer get; none: no clean copy could be made "
        "(audio, a file that does not open), so nothing is offered to them"
    )
    created_at: datetime | None
