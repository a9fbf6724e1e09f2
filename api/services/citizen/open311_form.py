"""An Open311 `POST requests` form made a citizen's submission, and what is wrong with one said per attribute.

The form carries GeoReport v2's standard fields (`first_name`, `last_name`, `phone`, `email`, `lat`/`long`,
`address_string`, `address_id`, `description`) and the attributes of the service's definition as
`attribute[code]` (`id_number`, `consent`, `title`). Every refusal names the form field a client sent (or should
have sent) and says why in Vietnamese: one GeoReport error `{code: 400, description: "<field>: <why>"}` each."""

from typing import Any

from pydantic import ValidationError

from api.models.public import SubmissionIn
from api.services.citizen.open311 import Open311Error, definition

CONSENT_VALUES = ("true", "false")
NO_NAME = "(không ghi tên)"

# Where a field of SubmissionIn comes from in the form.
_FORM_FIELD = {
    ("contact",): "attribute[id_number]",
    ("contact", "full_name"): "first_name",
    ("contact", "phone"): "phone",
    ("contact", "email"): "email",
    ("contact", "id_number"): "attribute[id_number]",
    ("content",): "description",
    ("title",): "attribute[title]",
    ("location",): "lat",
    ("location", "lat"): "lat",
    ("location", "long"): "long",
    ("location", "address"): "address_string",
    ("location", "commune_code"): "address_id",
    ("consent",): "attribute[consent]",
    ("kind",): "service_code",
    ("field",): "service_code",
}
_SPECIFIC = {
    "phone": "số điện thoại gồm 8–20 chữ số (có thể có +, dấu cách, dấu chấm, gạch nối)",
    "email": "địa chỉ email không hợp lệ",
    "attribute[id_number]": "số định danh cá nhân phải gồm đúng 12 chữ số",
    "address_id": "mã xã, phường là mã đơn vị hành chính (chữ số, ví dụ 04465)",
    "lat": "vĩ độ (lat) phải từ -90 đến 90",
    "long": "kinh độ (long) phải từ -180 đến 180",
}


def _why(field: str, error: Any) -> str:
    kind: str = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "bắt buộc, chưa có"
    if kind == "string_too_short":
        return "không được để trống"
    if kind == "string_too_long":
        return f"dài tối đa {ctx.get('max_length')} ký tự"
    if kind in ("string_pattern_mismatch", "greater_than_equal", "less_than_equal", "value_error"):
        return _SPECIFIC.get(field, "không đúng định dạng")
    if kind in ("bool_type", "bool_parsing"):
        return "chỉ nhận true hoặc false"
    if kind in ("enum", "literal_error"):
        return "giá trị không nằm trong danh sách cho phép"
    if not kind.endswith(("_type", "_parsing")) and error.get("msg"):
        return str(error["msg"])  # the schema's own Vietnamese message (consent, identity, location)
    return "giá trị không hợp lệ"


def describe(exc: ValidationError) -> list[str]:
    """One Vietnamese line per wrong form field: `<field>: <why>`."""
    out: list[str] = []
    for error in exc.errors():
        loc = tuple(str(p) for p in error["loc"])
        field = _FORM_FIELD.get(loc) or _FORM_FIELD.get(loc[:1]) or (loc[-1] if loc else "description")
        line = f"{field}: {_why(field, error)}"
        if line not in out:
            out.append(line)
    return out


def _consent(form: dict[str, str]) -> bool | None:
    raw = form.get("attribute[consent]")
    if raw is None or raw == "":
        return None
    if raw not in CONSENT_VALUES:
        raise Open311Error(400, "attribute[consent]: chỉ nhận true (đồng ý) hoặc false (không đồng ý)")
    return raw == "true"


def _location(form: dict[str, str]) -> dict[str, Any]:
    location: dict[str, Any] = {}
    problems: list[str] = []
    lat, long = form.get("lat", "").strip(), form.get("long", "").strip()
    if lat or long:
        for name, value in (("lat", lat), ("long", long)):
            if not value:
                problems.append(f"{name}: gửi lat và long cùng nhau")
                continue
            try:
                location[name] = float(value)
            except ValueError:
                problems.append(f"{name}: phải là số thập phân (ví dụ 22.3364)")
    if problems:
        raise Open311Error(400, *problems)
    if form.get("address_string"):
        location["address"] = form["address_string"]
    if form.get("address_id"):
        location["commune_code"] = form["address_id"]
    if not location:
        raise Open311Error(400, "lat, long: cần vị trí (lat và long), address_string hoặc address_id (mã xã)")
    return location


def _unknown_attributes(form: dict[str, str], kind: str, fld: str) -> None:
    """An `attribute[...]` the service's definition does not have is refused, not dropped: a client that misspells
    one (`attribute[consen]`) would otherwise believe it was sent."""
    known = {f"attribute[{a['code']}]" for a in definition(f"{kind}.{fld}")["attributes"]}
    unknown = [k for k in form if k.startswith("attribute[") and k not in known]
    if unknown:
        raise Open311Error(
            400,
            *(
                f"{k[:60]}: thuộc tính không có trong định nghĩa dịch vụ (dịch vụ này nhận {', '.join(sorted(known))})"
                for k in unknown[:10]
            ),
        )


def submission(form: dict[str, str], kind: str, fld: str) -> SubmissionIn:
    """The form as a submission (one validation, the JSON channel's); 400 naming each wrong field otherwise."""
    _unknown_attributes(form, kind, fld)
    name = " ".join(p for p in (form.get("first_name", "").strip(), form.get("last_name", "").strip()) if p)
    id_number = form.get("attribute[id_number]") or None
    contact = None
    if name or id_number or form.get("phone") or form.get("email"):
        contact = {
            "full_name": name or NO_NAME,
            "phone": form.get("phone") or None,
            "email": form.get("email") or None,
            "id_number": id_number,
        }
    consent = _consent(form)
    if consent is None:
        if contact is not None:
            raise Open311Error(
                400,
                "attribute[consent]: bắt buộc khi gửi họ tên, điện thoại, email hoặc số định danh — true nếu người "
                "gửi đồng ý cho cơ quan nhà nước xử lý các thông tin đó",
            )
        consent = False
    try:
        return SubmissionIn.model_validate(
            {
                "kind": kind,
                "field": fld,
                "title": form.get("attribute[title]") or None,
                "content": form.get("description", ""),
                "location": _location(form),
                "contact": contact,
                "consent": consent,
            }
        )
    except ValidationError as exc:
        raise Open311Error(400, *describe(exc)) from None
