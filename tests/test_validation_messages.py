"""A 422 says what is wrong in Vietnamese and which field, by its path (no "body." prefix); pydantic's English stays
beside it for programs and logs. A 409 on a case names the action, the status and what may be done, in Vietnamese."""

import ast
import typing
from pathlib import Path

from pydantic_core.core_schema import ErrorType

from api.errors import VALIDATION_MESSAGES, VALUE_ERRORS, _value_error
from tests.conftest import Api
from tests.helpers import V1, act_raw, case_body, intake

ROOT = Path(__file__).resolve().parent.parent


def _has_vietnamese(text: str) -> bool:
    """Vietnamese is written with letters outside ASCII (ư, ơ, đ, tone marks) in nearly every sentence."""
    return any(ord(ch) > 127 for ch in text)


def test_every_pydantic_error_type_has_a_vietnamese_message() -> None:
    missing = set(typing.get_args(ErrorType)) - set(VALIDATION_MESSAGES)
    assert not missing, f"no Vietnamese message for pydantic error types {sorted(missing)}"
    assert all(_has_vietnamese(m) for m in VALIDATION_MESSAGES.values())


def _validator_reasons() -> list[tuple[str, str]]:
    """(file, reason) of every `raise ValueError(...)` in the API's schemas and types and the identity checks: the
    text (or the literal part of an f-string) a client sees as the reason of a value_error."""
    files = [*sorted((ROOT / "api" / "models").rglob("*.py")), ROOT / "api" / "types.py"]
    found = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                continue
            if getattr(node.exc.func, "id", None) != "ValueError" or not node.exc.args:
                continue
            arg = node.exc.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.append((path.name, arg.value))
            elif isinstance(arg, ast.JoinedStr):
                parts = [v.value for v in arg.values if isinstance(v, ast.Constant) and isinstance(v.value, str)]
                found.append((path.name, max(parts, key=len)))
    identity = (ROOT / "workflows" / "identity.py").read_text()
    for node in ast.walk(ast.parse(identity)):
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            found.append(("identity.py", node.value.value))
    return found


def test_every_reason_of_the_apis_validators_reads_in_vietnamese() -> None:
    reasons = _validator_reasons()
    assert len(reasons) > 20  # the walk found the validators
    untranslated = [(f, r) for f, r in reasons if _value_error(f"Value error, {r}") is None]
    assert not untranslated, f"add these to api/errors.py VALUE_ERRORS: {untranslated}"
    assert all(_has_vietnamese(v) for v in VALUE_ERRORS.values())


def _by_field(body: dict[str, typing.Any]) -> dict[str | None, dict[str, typing.Any]]:
    return {d["field"]: d for d in body["error"]["details"]}


async def test_each_wrong_field_is_named_by_its_path_with_a_vietnamese_reason(api: Api) -> None:
    h = await api.headers("tinh.tiepdan")
    bad = case_body(
        kind="appeal",
        title="x" * 501,
        signer_count="nhiều",
        is_anonymous="maybe",
        received_at="2026-13-45",
        unexpected="?",
    )
    bad["parties"][0].pop("full_name")
    r = await api.http.post(f"{V1}/cases", headers=h, json=bad)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "validation_error"
    by_field = _by_field(r.json())
    expected = {
        "kind": ("enum", "chọn một trong"),
        "title": ("string_too_long", "tối đa 500 ký tự"),
        "signer_count": ("int_parsing", "Phải là số nguyên"),
        "is_anonymous": ("bool_parsing", "true hoặc false"),
        "received_at": ("date_from_datetime_parsing", "YYYY-MM-DD"),
        "unexpected": ("extra_forbidden", "không có trong mẫu"),
        "parties.0.full_name": ("missing", "Thiếu thông tin bắt buộc"),
    }
    for field, (kind, words) in expected.items():
        item = by_field.get(field)
        assert item is not None, f"{field} not named: {sorted(by_field, key=str)}"
        assert words in item["message"] and _has_vietnamese(item["message"]), item
        assert item["message_en"] and not _has_vietnamese(item["message_en"])
        assert item["type"] == kind or kind == "date_from_datetime_parsing", item
    assert not any(f and f.startswith("body") for f in by_field)
    # the accepted values are listed, joined in Vietnamese
    assert "'complaint'" in by_field["kind"]["message"] and " hoặc " in by_field["kind"]["message"]
    # the one message a person reads names the first problem and how many more there are
    assert error["message"].startswith("Dữ liệu không hợp lệ: ") and "lỗi khác" in error["message"]


async def test_a_rule_across_fields_is_a_whole_body_error_in_vietnamese(api: Api) -> None:
    h = await api.headers("tinh.tiepdan")
    r = await api.http.post(f"{V1}/cases", headers=h, json=case_body(kind="petition", complaint_round=1))
    assert r.status_code == 422, r.text
    (item,) = r.json()["error"]["details"]
    assert item["field"] is None  # the whole body, not a field called "body"
    assert item["type"] == "value_error"
    assert item["message"] == "complaint_round (lần khiếu nại) chỉ dùng cho khiếu nại"
    assert item["message_en"] == "Value error, complaint_round applies to complaints only"
    assert (
        r.json()["error"]["message"] == "Dữ liệu không hợp lệ: complaint_round (lần khiếu nại) chỉ dùng cho khiếu nại"
    )


async def test_a_reason_with_a_detail_keeps_the_detail_translated(api: Api) -> None:
    h = await api.headers("tinh.tiepdan")
    body = case_body()
    body["parties"][0]["id_number"] = "12345"
    r = await api.http.post(f"{V1}/cases", headers=h, json=body)
    assert r.status_code == 422, r.text
    item = _by_field(r.json())["parties.0.id_number"]
    assert item["message"] == "Số định danh cá nhân không hợp lệ: phải gồm đúng 12 chữ số", item


async def test_broken_json_and_a_missing_body_say_so_in_vietnamese(api: Api) -> None:
    h = {**(await api.headers("tinh.tiepdan")), "Content-Type": "application/json"}
    r = await api.http.post(f"{V1}/cases", headers=h, content=b'{"kind": "complaint",')
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "malformed_json" and error["message"] == "Nội dung JSON không đúng cú pháp"
    (item,) = error["details"]
    assert item["field"] is None and item["message"].startswith("Nội dung JSON không đúng cú pháp (ký tự thứ ")
    r = await api.http.post(f"{V1}/cases", headers=h)
    assert r.status_code == 422, r.text
    (item,) = r.json()["error"]["details"]
    assert item["field"] is None and item["message"] == "Thiếu nội dung yêu cầu (JSON)"


async def test_a_query_parameter_is_named_without_its_location(api: Api) -> None:
    h = await api.headers("tinh.tiepdan")
    r = await api.http.get(f"{V1}/cases", headers=h, params={"limit": "0"})
    assert r.status_code == 422, r.text
    item = _by_field(r.json())["limit"]
    assert item["message"] == "Phải lớn hơn hoặc bằng 1" and item["type"] == "greater_than_equal"
    r = await api.http.get(f"{V1}/cases", headers=h, params={"limit": "mười"})
    assert _by_field(r.json())["limit"]["message"] == "Phải là số nguyên"


async def test_a_refused_action_names_the_action_the_status_and_what_may_be_done(api: Api) -> None:
    case = await intake(api)
    r = await act_raw(api, "tinh.chutich", case, "close")  # nothing decided yet: close is not in this status
    error = r.json()["error"]
    assert r.status_code == 409 and error["code"] == "action_not_allowed"
    assert "«Kết thúc, lưu hồ sơ» khi hồ sơ ở trạng thái «Đã tiếp nhận»" in error["message"]
    assert "thao tác được phép: Thụ lý, Không thụ lý" in error["message"]
    assert "accept" in error["details"]["allowed_actions"]  # the codes stay for programs
    r = await act_raw(api, "tinh.tiepdan", case, "accept")  # a desk officer may not accept (thụ lý)
    error = r.json()["error"]
    assert error["code"] == "action_not_allowed_for_role"
    assert error["message"].endswith(
        "«Thụ lý» khi hồ sơ ở trạng thái «Đã tiếp nhận»; người có thẩm quyền: Thủ trưởng đơn vị"
    )
