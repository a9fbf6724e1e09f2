"""Open311 GeoReport v2 documents as OpenAPI describes them: the form a client posts, the service list and
definitions, the requests, and the spec's error list. The routes write these documents themselves (JSON or XML,
api/services/citizen/open311.py); these schemas say what they hold, for client generators and readers of /docs."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Open311RequestForm(BaseModel):
    """`POST /open311/v2/requests.{json|xml}`, form-encoded (application/x-www-form-urlencoded) as GeoReport v2
    has it: the standard fields plus the service definition's attributes as `attribute[code]`."""

    model_config = ConfigDict(populate_by_name=True)

    api_key: str = Field(description="The app's key (POST /api/v1/open311/api-keys); its quota counts the request")
    service_code: str = Field(description="A code of services.json, kind.field, e.g. complaint.land")
    lat: float | None = Field(default=None, ge=-90, le=90, description="With long; or address_string/address_id")
    long: float | None = Field(default=None, ge=-180, le=180)
    address_string: str | None = Field(default=None, max_length=500)
    address_id: str | None = Field(default=None, description="Official code of the commune, e.g. 04465")
    description: str = Field(min_length=1, max_length=10_000, description="What the citizen writes")
    first_name: str | None = Field(default=None, description="Needs attribute[consent]=true")
    last_name: str | None = Field(default=None, description="Needs attribute[consent]=true")
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9 .-]{8,20}$", description="Needs consent")
    email: str | None = Field(default=None, max_length=254, description="Needs consent; used for nothing, not kept")
    device_id: str | None = Field(default=None, max_length=64, description="The phone's id (its own limit)")
    account_id: str | None = Field(default=None, max_length=64, description="Echoed back; else as device_id")
    attribute_id_number: str | None = Field(
        default=None,
        alias="attribute[id_number]",
        pattern=r"^[0-9]{12}$",
        description="Personal identification number (12 digits): required for complaint.* and denunciation.*",
    )
    attribute_consent: Literal["true", "false"] | None = Field(
        default=None,
        alias="attribute[consent]",
        description="Consent to the processing of the personal data given: `true` or `false` only (anything "
        "else is 400); `true` is required when first_name, last_name, phone, email or id_number is given",
    )
    attribute_title: str | None = Field(default=None, alias="attribute[title]", max_length=200)


class Open311Created(BaseModel):
    service_request_id: str = Field(description="The tracking code")
    token: str
    service_notice: str | None
    account_id: str | None
    access_key: str = Field(description="Not in GeoReport v2: the citizen's key to follow the case, shown once")


class Open311Service(BaseModel):
    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: Literal["realtime", "batch", "blackbox"]
    keywords: str
    group: str


class Open311AttributeValue(BaseModel):
    key: str
    name: str


class Open311Attribute(BaseModel):
    variable: bool
    code: str
    datatype: Literal["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]
    required: bool
    datatype_description: str | None = None
    order: int | None = None
    description: str | None = None
    values: list[Open311AttributeValue] | None = None


class Open311Definition(BaseModel):
    service_code: str
    attributes: list[Open311Attribute]


class Open311Request(BaseModel):
    """A request as listed: never what the citizen wrote, who they are, nor (for a complaint) where."""

    service_request_id: str
    status: Literal["open", "closed"]
    status_notes: str | None
    service_name: str
    service_code: str
    description: None
    agency_responsible: str
    service_notice: str | None
    requested_datetime: str
    updated_datetime: str
    expected_datetime: str | None
    address: str
    address_id: str | None
    zipcode: None
    lat: float | None
    long: float | None
    media_url: None


class Open311Token(BaseModel):
    service_request_id: str
    token: str


class Open311ErrorItem(BaseModel):
    """GeoReport v2's error: one per problem; a 400 names the form field first (`phone: …`)."""

    code: int
    description: str
