"""One error body for everything: {"error": {"code", "message", "details"}}.

Services raise `DomainError(Code.x)` (or a typed subclass): the catalogue below gives every code its one
HTTP status and message; api/http_errors.py renders them (and framework errors) as HTTP answers. This module
imports no web framework: services depend on it, not on FastAPI.
Messages are Vietnamese for the people at the desk; codes are English for the programs.
"""

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from workflows import vocabulary


class AppError(Exception):
    """An error with its HTTP status, English code, Vietnamese message and optional details."""

    def __init__(
        self, status_code: int, code: str, message: str, *, details: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status_code, self.code, self.message = status_code, code, message
        self.details = details
        self.headers = headers


class Code(StrEnum):
    """Every error code the API returns. The same code always has the same status and message."""

    # Framework and transport
    bad_request = "bad_request"
    not_authenticated = "not_authenticated"
    invalid_token = "invalid_token"  # noqa: S105 - an error code, not a secret
    invalid_credentials = "invalid_credentials"
    too_many_attempts = "too_many_attempts"
    rate_limited = "rate_limited"
    forbidden = "forbidden"
    not_found = "not_found"
    method_not_allowed = "method_not_allowed"
    payload_too_large = "payload_too_large"
    unsupported_media_type = "unsupported_media_type"
    validation_error = "validation_error"
    malformed_json = "malformed_json"
    invalid_cursor = "invalid_cursor"
    invalid_range = "invalid_range"
    internal_error = "internal_error"
    database_unavailable = "database_unavailable"
    query_timeout = "query_timeout"
    service_draining = "service_draining"
    sealed_data_invalid = "sealed_data_invalid"
    record_altered = "record_altered"
    http_error = "http_error"
    # Units, officers, calendar, webhooks
    unit_not_found = "unit_not_found"
    no_such_unit = "no_such_unit"
    parent_not_found = "parent_not_found"
    unit_cycle = "unit_cycle"
    reception_below_minimum = "reception_below_minimum"
    duplicate_unit_code = "duplicate_unit_code"
    invalid_import = "invalid_import"
    invalid_encoding = "invalid_encoding"
    too_many_rows = "too_many_rows"
    user_not_found = "user_not_found"
    no_such_user = "no_such_user"
    duplicate_username = "duplicate_username"
    last_admin = "last_admin"
    invalid_kind = "invalid_kind"
    override_not_found = "override_not_found"
    webhook_not_found = "webhook_not_found"
    invalid_url = "invalid_url"
    webhook_url_not_public = "webhook_url_not_public"
    invalid_event_type = "invalid_event_type"
    # Cases
    case_not_found = "case_not_found"
    idempotency_key_reused = "idempotency_key_reused"
    intake_forbidden = "intake_forbidden"
    not_your_unit = "not_your_unit"
    not_competent_to_accept = "not_competent_to_accept"
    action_not_allowed = "action_not_allowed"
    action_not_allowed_for_role = "action_not_allowed_for_role"
    version_mismatch = "version_mismatch"
    if_match_required = "if_match_required"
    invalid_if_match = "invalid_if_match"
    date_in_future = "date_in_future"
    date_too_early = "date_too_early"
    date_before_receipt = "date_before_receipt"
    date_before_previous_step = "date_before_previous_step"
    extension_after_deadline = "extension_after_deadline"
    period_already_ended = "period_already_ended"
    date_before_suspension = "date_before_suspension"
    missing_field = "missing_field"
    invalid_reason_code = "invalid_reason_code"
    invalid_exception_code = "invalid_exception_code"
    invalid_outcome = "invalid_outcome"
    invalid_handler = "invalid_handler"
    handler_is_accused = "handler_is_accused"
    officer_link_not_accused = "officer_link_not_accused"
    first_round_not_found = "first_round_not_found"
    first_round_not_settled = "first_round_not_settled"
    second_round_wrong_unit = "second_round_wrong_unit"
    repeat_target_not_decided = "repeat_target_not_decided"
    same_unit = "same_unit"
    already_transferred = "already_transferred"
    invalid_party = "invalid_party"
    already_withdrawn = "already_withdrawn"
    withdrawal_does_not_end = "withdrawal_does_not_end"
    anonymous_denunciation = "anonymous_denunciation"
    extension_not_allowed = "extension_not_allowed"
    extension_limit = "extension_limit"
    complexity_lowered = "complexity_lowered"
    suspension_not_available = "suspension_not_available"
    suspension_not_in_force = "suspension_not_in_force"
    termination_ground_not_in_force = "termination_ground_not_in_force"
    dialogue_required = "dialogue_required"
    dialogue_forbidden = "dialogue_forbidden"
    dialogue_not_allowed = "dialogue_not_allowed"
    notice_forbidden = "notice_forbidden"
    no_such_notice = "no_such_notice"
    acceptance_document_missing = "acceptance_document_missing"
    earlier_denunciation_not_found = "earlier_denunciation_not_found"
    further_denunciation_premature = "further_denunciation_premature"
    further_denunciation_wrong_unit = "further_denunciation_wrong_unit"
    unknown_recipient = "unknown_recipient"
    too_many_accused_officers = "too_many_accused_officers"
    accused_head_competence = "accused_head_competence"
    already_accused = "already_accused"
    party_not_found = "party_not_found"
    accused_removal_head_only = "accused_removal_head_only"
    self_grant_refused = "self_grant_refused"
    system_account = "system_account"
    approval_by_requester = "approval_by_requester"
    approval_of_own_grant = "approval_of_own_grant"
    nothing_pending = "nothing_pending"
    pending_changed = "pending_changed"
    password_change_required = "password_change_required"  # noqa: S105 - an error code
    same_password = "same_password"  # noqa: S105 - an error code
    # Reception
    invalid_period = "invalid_period"
    session_not_found = "session_not_found"
    entry_not_found = "entry_not_found"
    reception_forbidden = "reception_forbidden"
    session_move_not_allowed = "session_move_not_allowed"
    session_not_started = "session_not_started"
    session_cancelled = "session_cancelled"
    session_has_entries = "session_has_entries"
    session_in_future = "session_in_future"
    online_notice_too_late = "online_notice_too_late"
    recording_required = "recording_required"
    online_reception_refused = "online_reception_refused"
    not_a_group = "not_a_group"
    representatives_count = "representatives_count"
    invalid_refusal_ground = "invalid_refusal_ground"
    conclusion_not_allowed = "conclusion_not_allowed"
    repeat_target_not_found = "repeat_target_not_found"
    # Statistics
    no_such_form = "no_such_form"
    unsupported_format = "unsupported_format"
    report_already_submitted = "report_already_submitted"
    report_not_found = "report_not_found"
    report_forbidden = "report_forbidden"
    not_overdue = "not_overdue"
    enforcement_not_allowed = "enforcement_not_allowed"
    # Citizen channel
    unknown_commune = "unknown_commune"
    idempotency_key_expired = "idempotency_key_expired"
    submission_not_found = "submission_not_found"
    not_settled_yet = "not_settled_yet"
    already_rated = "already_rated"
    invalid_api_key = "invalid_api_key"
    attachment_too_large = "attachment_too_large"
    attachment_type_refused = "attachment_type_refused"
    attachment_not_found = "attachment_not_found"
    attachment_original_only = "attachment_original_only"
    upload_quota_case = "upload_quota_case"
    upload_quota_device = "upload_quota_device"
    upload_quota_address = "upload_quota_address"
    upload_quota_total = "upload_quota_total"
    attachment_not_assigned = "attachment_not_assigned"
    attachment_protected_case = "attachment_protected_case"
    attachment_case_closed = "attachment_case_closed"
    attachment_count_limit = "attachment_count_limit"
    api_key_quota_minute = "api_key_quota_minute"
    api_key_quota_day = "api_key_quota_day"
    duplicate_target_not_found = "duplicate_target_not_found"
    # Thanh tra tỉnh's inspections (plans, inspections, conclusions, recommendations, the report to Sở Nội vụ)
    inspection_forbidden = "inspection_forbidden"
    chief_inspector_only = "chief_inspector_only"
    plan_not_found = "plan_not_found"
    plan_not_draft = "plan_not_draft"
    plan_not_approved = "plan_not_approved"
    plan_item_not_found = "plan_item_not_found"
    inspection_not_found = "inspection_not_found"
    inspection_action_not_allowed = "inspection_action_not_allowed"
    inspection_exists = "inspection_exists"
    unknown_criterion = "unknown_criterion"
    invalid_member = "invalid_member"
    conclusion_not_found = "conclusion_not_found"
    conclusion_already_issued = "conclusion_already_issued"
    recommendation_not_found = "recommendation_not_found"
    recommendation_action_not_allowed = "recommendation_action_not_allowed"
    recommendation_not_overdue = "recommendation_not_overdue"
    inspectorate_report_not_found = "inspectorate_report_not_found"
    inspectorate_report_forbidden = "inspectorate_report_forbidden"
    inspectorate_period_not_started = "inspectorate_period_not_started"
    inspectorate_period_not_ended = "inspectorate_period_not_ended"
    review_period_not_ended = "review_period_not_ended"
    review_period_after_plan = "review_period_after_plan"
    plan_unit_repeated = "plan_unit_repeated"
    plan_approval_date_out_of_range = "plan_approval_date_out_of_range"
    conflict_of_interest = "conflict_of_interest"


C = Code
CATALOGUE: dict[Code, tuple[int, str]] = {
    C.bad_request: (400, "Yêu cầu không hợp lệ"),
    C.not_authenticated: (401, "Chưa đăng nhập hoặc phiên đăng nhập không hợp lệ"),
    C.invalid_token: (401, "Chưa đăng nhập hoặc phiên đăng nhập không hợp lệ"),
    C.invalid_credentials: (401, "Sai tên đăng nhập hoặc mật khẩu"),
    C.too_many_attempts: (429, "Thử quá nhiều lần; vui lòng đợi rồi thử lại"),
    C.rate_limited: (429, "Quá nhiều yêu cầu trong thời gian ngắn; vui lòng đợi rồi thử lại"),
    C.forbidden: (403, "Bạn không có quyền thực hiện thao tác này"),
    C.not_found: (404, "Không tìm thấy"),
    C.method_not_allowed: (405, "Phương thức không được hỗ trợ"),
    C.payload_too_large: (413, "Dữ liệu gửi lên vượt quá giới hạn cho phép"),
    C.unsupported_media_type: (415, "Định dạng dữ liệu không được hỗ trợ"),
    C.validation_error: (422, "Dữ liệu không hợp lệ"),
    C.malformed_json: (422, "Nội dung JSON không đúng cú pháp"),
    C.invalid_cursor: (422, "Con trỏ phân trang không hợp lệ"),
    C.invalid_range: (422, "Khoảng ngày không hợp lệ"),
    C.internal_error: (500, "Lỗi hệ thống, vui lòng thử lại sau"),
    C.database_unavailable: (503, "Không kết nối được cơ sở dữ liệu"),
    C.query_timeout: (503, "Yêu cầu chạy quá lâu và đã bị dừng; hãy thu hẹp điều kiện tìm kiếm"),
    C.service_draining: (503, "Tiến trình đang dừng để bảo trì; yêu cầu mới được chuyển sang tiến trình khác"),
    C.sealed_data_invalid: (
        409,
        "Dữ liệu niêm phong của hồ sơ không mở được bằng khóa hiện có hoặc đã bị sửa đổi ngoài hệ thống; "
        "cần kiểm tra tính toàn vẹn (python -m api verify-events)",
    ),
    C.record_altered: (
        409,
        "Hồ sơ đã bị sửa đổi ngoài hệ thống (không khớp với chuỗi nhật ký); không ghi thêm bước nào cho đến khi "
        "được kiểm tra (python -m api verify-events)",
    ),
    C.http_error: (400, "Lỗi yêu cầu"),
    C.unit_not_found: (422, "Đơn vị không tồn tại"),
    C.no_such_unit: (404, "Không tìm thấy đơn vị"),
    C.parent_not_found: (422, "Đơn vị cấp trên không tồn tại"),
    C.unit_cycle: (409, "Không thể đặt đơn vị làm cấp dưới của chính nó"),
    C.reception_below_minimum: (422, "Lịch tiếp công dân không được thấp hơn mức tối thiểu luật định"),
    C.duplicate_unit_code: (409, "Mã đơn vị đã tồn tại"),
    C.invalid_import: (422, "Tệp nhập không hợp lệ; không dòng nào được lưu"),
    C.invalid_encoding: (422, "Tệp phải mã hoá UTF-8"),
    C.too_many_rows: (422, "Quá số dòng cho phép mỗi lần nhập"),
    C.user_not_found: (422, "Cán bộ không tồn tại"),
    C.no_such_user: (404, "Không tìm thấy cán bộ"),
    C.duplicate_username: (409, "Tên đăng nhập đã tồn tại"),
    C.last_admin: (409, "Không thể bỏ quản trị viên cuối cùng"),
    C.invalid_kind: (422, "Loại ngày không hợp lệ"),
    C.override_not_found: (404, "Không có điều chỉnh lịch cho ngày này"),
    C.webhook_not_found: (404, "Không tìm thấy đăng ký webhook"),
    C.invalid_url: (422, "URL phải bắt đầu bằng http:// hoặc https://"),
    C.webhook_url_not_public: (
        422,
        "URL webhook phải là địa chỉ công khai (không phải mạng nội bộ, loopback, link-local)",
    ),
    C.invalid_event_type: (422, "Loại sự kiện không tồn tại"),
    C.case_not_found: (404, "Không tìm thấy hồ sơ"),
    C.idempotency_key_reused: (422, "Idempotency-Key này đã được dùng cho một yêu cầu khác"),
    C.intake_forbidden: (403, "Chỉ cán bộ tiếp dân hoặc thủ trưởng được tiếp nhận đơn"),
    C.not_your_unit: (403, "Chỉ cán bộ của đơn vị có thẩm quyền được thực hiện thao tác này"),
    C.not_competent_to_accept: (
        409,
        "Chỉ cơ quan có thẩm quyền được thụ lý; hãy hướng dẫn hoặc chuyển đơn đến cơ quan có thẩm quyền",
    ),
    C.action_not_allowed: (409, "Thao tác này không thực hiện được khi hồ sơ đang ở trạng thái hiện tại"),
    C.action_not_allowed_for_role: (409, "Vai trò của bạn không được thực hiện thao tác này; cần người có thẩm quyền"),
    C.version_mismatch: (412, "Hồ sơ đã được người khác thay đổi; hãy tải lại rồi thử lại"),
    C.if_match_required: (428, "Thiếu tiêu đề If-Match (phiên bản hồ sơ)"),
    C.invalid_if_match: (422, "If-Match phải là số phiên bản của hồ sơ"),
    C.date_in_future: (422, "Ngày không được ở tương lai"),
    C.date_too_early: (422, "Ngày nhận đơn sớm hơn mốc cho phép (RECEIVED_FLOOR)"),
    C.date_before_receipt: (422, "Ngày hiệu lực không được trước ngày nhận đơn"),
    C.date_before_previous_step: (422, "Ngày của bước này không được trước ngày của bước liền trước trong hồ sơ"),
    C.extension_after_deadline: (
        409,
        "Chỉ gia hạn khi thời hạn giải quyết còn đang chạy; hồ sơ đã quá hạn vẫn là quá hạn",
    ),
    C.period_already_ended: (
        409,
        "Thời hạn giải quyết đã hết: không thể xác định lại mức độ phức tạp để kéo dài thời hạn, cũng không thể tạm "
        "đình chỉ để dừng thời hạn; hồ sơ quá hạn vẫn là quá hạn",
    ),
    C.date_before_suspension: (422, "Ngày tiếp tục không được trước ngày tạm đình chỉ"),
    C.missing_field: (422, "Thiếu thông tin bắt buộc"),
    C.invalid_reason_code: (422, "Mã lý do không hợp lệ"),
    C.invalid_exception_code: (422, "Ngoại lệ rút đơn không hợp lệ (chỉ áp dụng cho tố cáo)"),
    C.invalid_outcome: (422, "Kết quả không phù hợp với loại vụ việc"),
    C.invalid_handler: (422, "Người xác minh phải là cán bộ xác minh của đơn vị giải quyết"),
    C.handler_is_accused: (422, "Người bị tố cáo không được giao xác minh vụ việc"),
    C.officer_link_not_accused: (422, "Chỉ người bị tố cáo / bị khiếu nại mới gắn với cán bộ"),
    C.first_round_not_found: (422, "Không tìm thấy vụ việc khiếu nại lần đầu tương ứng"),
    C.first_round_not_settled: (
        409,
        "Chỉ khiếu nại lần hai khi đã có quyết định lần đầu hoặc đã hết thời hạn giải quyết lần đầu",
    ),
    C.second_round_wrong_unit: (
        422,
        "Khiếu nại lần hai do thủ trưởng cấp trên trực tiếp của người giải quyết lần đầu giải quyết",
    ),
    C.repeat_target_not_decided: (422, "Vụ việc bị lặp lại phải là vụ việc đã có quyết định"),
    C.same_unit: (422, "Không thể chuyển đơn cho chính đơn vị đang giữ đơn"),
    C.already_transferred: (409, "Đơn có cùng nội dung chỉ được chuyển một lần"),
    C.invalid_party: (422, "Người rút đơn phải là người khiếu nại, tố cáo, kiến nghị (hoặc người đại diện) của hồ sơ"),
    C.already_withdrawn: (409, "Người này đã rút đơn"),
    C.withdrawal_does_not_end: (
        409,
        "Chưa đình chỉ được: còn người khiếu nại, tố cáo chưa rút đơn, hoặc việc rút tố cáo thuộc trường hợp tại "
        "điều 33 Luật Tố cáo",
    ),
    C.anonymous_denunciation: (
        409,
        "Đơn tố cáo nặc danh không được thụ lý là tố cáo (Luật Tố cáo, điều 25); "
        "hãy lưu đơn hoặc chuyển thành nguồn tin thanh tra",
    ),
    C.extension_not_allowed: (409, "Chỉ gia hạn giải quyết tố cáo (Luật Tố cáo, điều 30)"),
    C.extension_limit: (409, "Đã hết số lần gia hạn cho phép"),
    C.complexity_lowered: (422, "Chỉ được xác định hoặc nâng mức độ phức tạp, không hạ xuống"),
    C.suspension_not_available: (409, "Chỉ tạm đình chỉ việc giải quyết khiếu nại, tố cáo"),
    C.suspension_not_in_force: (
        409,
        "Tạm đình chỉ giải quyết khiếu nại chỉ áp dụng cho khiếu nại được thụ lý từ 01/7/2026 "
        "(điều 11a Luật Khiếu nại, sửa đổi bởi Luật 136/2025)",
    ),
    C.termination_ground_not_in_force: (
        409,
        "Khiếu nại thụ lý trước 01/7/2026 chỉ được đình chỉ khi người khiếu nại rút toàn bộ khiếu nại (điều 10 Luật "
        "Khiếu nại); các căn cứ của điều 11a (Luật 136/2025) áp dụng cho khiếu nại thụ lý từ ngày đó",
    ),
    C.dialogue_required: (
        409,
        "Phải đối thoại trước khi ra quyết định (kết quả xác minh khác yêu cầu, hoặc khiếu nại lần hai)",
    ),
    C.dialogue_forbidden: (403, "Chỉ người giải quyết hoặc người được giao xác minh ghi nhận đối thoại"),
    C.dialogue_not_allowed: (409, "Chỉ đối thoại khi vụ việc đang được giải quyết"),
    C.notice_forbidden: (403, "Chỉ cán bộ của đơn vị giải quyết ghi nhận việc thông báo"),
    C.no_such_notice: (422, "Hồ sơ không có nghĩa vụ thông báo này đang mở"),
    C.acceptance_document_missing: (
        422,
        "Thụ lý phải có số và ngày của văn bản thụ lý: thông báo thụ lý khiếu nại (Luật Khiếu nại điều 27, 36) "
        "hoặc quyết định thụ lý tố cáo (Luật Tố cáo điều 29)",
    ),
    C.earlier_denunciation_not_found: (422, "Không tìm thấy vụ việc tố cáo trước đó tương ứng"),
    C.further_denunciation_premature: (
        409,
        "Chỉ tố cáo tiếp khi tố cáo trước đã được giải quyết hoặc đã quá thời hạn giải quyết mà chưa được giải quyết "
        "(Luật Tố cáo, điều 38)",
    ),
    C.further_denunciation_wrong_unit: (
        422,
        "Tố cáo tiếp gửi đến người đứng đầu cơ quan, tổ chức cấp trên trực tiếp của người giải quyết tố cáo "
        "(Luật Tố cáo, điều 38)",
    ),
    C.unknown_recipient: (422, "Người nhận thông báo phải là đương sự của hồ sơ"),
    C.too_many_accused_officers: (422, "Một hồ sơ chỉ được liên kết tối đa 3 cán bộ bị tố cáo"),
    C.already_accused: (409, "Cán bộ này đã được ghi là người bị tố cáo / bị khiếu nại trong hồ sơ"),
    C.party_not_found: (404, "Không tìm thấy người bị tố cáo / bị khiếu nại này trong hồ sơ"),
    C.accused_removal_head_only: (
        403,
        "Chỉ thủ trưởng đơn vị đang giữ hồ sơ được bỏ người bị tố cáo / bị khiếu nại đã ghi nhận, và phải ghi rõ lý do",
    ),
    C.accused_head_competence: (
        422,
        "Tố cáo người đứng đầu phải do người đứng đầu cơ quan cấp trên trực tiếp giải quyết (Điều 13 Luật Tố cáo): "
        "chọn cơ quan có thẩm quyền ở cấp trên",
    ),
    C.self_grant_refused: (
        403,
        "Quản trị viên không được tự cấp cho mình vai trò hoặc đơn vị có thể xem danh tính người tố cáo; "
        "việc này phải do một quản trị viên khác thực hiện",
    ),
    C.system_account: (
        409,
        "Tài khoản hệ thống không thể đăng nhập, kích hoạt, cấp vai trò, đặt mật khẩu, đổi tên hay chuyển đơn vị",
    ),
    C.approval_by_requester: (
        403,
        "Quản trị viên đề nghị cấp quyền không được tự phê duyệt; việc này phải do một quản trị viên khác thực hiện",
    ),
    C.approval_of_own_grant: (403, "Quản trị viên không được phê duyệt việc cấp quyền cho chính mình"),
    C.nothing_pending: (409, "Tài khoản này không có thay đổi nào chờ phê duyệt"),
    C.pending_changed: (409, "Đề nghị chờ phê duyệt đã thay đổi kể từ khi bạn xem; hãy xem lại trước khi phê duyệt"),
    C.password_change_required: (
        403,
        "Mật khẩu này do người khác đặt và chỉ dùng một lần: hãy đặt mật khẩu mới của riêng bạn trước khi đăng nhập",
    ),
    C.same_password: (422, "Mật khẩu mới phải khác mật khẩu cũ"),
    C.invalid_period: (422, "Kỳ không hợp lệ: dùng YYYY-MM, YYYY-Qn (n = 1–4), YYYY-H1, YYYY-9M hoặc YYYY"),
    C.session_not_found: (404, "Không tìm thấy buổi tiếp công dân"),
    C.entry_not_found: (404, "Không tìm thấy mục sổ tiếp công dân"),
    C.reception_forbidden: (
        403,
        "Chỉ cán bộ tiếp dân hoặc thủ trưởng của đơn vị được ghi buổi tiếp và sổ tiếp công dân",
    ),
    C.session_move_not_allowed: (409, "Buổi tiếp đã diễn ra hoặc đã hủy; không thể chuyển sang trạng thái này"),
    C.session_not_started: (409, "Buổi tiếp chưa bắt đầu nên chưa thể ghi nhận đã diễn ra"),
    C.session_cancelled: (409, "Buổi tiếp đã bị hủy; không ghi sổ vào buổi này"),
    C.session_has_entries: (
        409,
        "Buổi tiếp đã có người được tiếp ghi trong sổ tiếp công dân; không thể hủy buổi tiếp này",
    ),
    C.session_in_future: (409, "Chưa đến ngày tiếp; chỉ ghi sổ khi buổi tiếp đã diễn ra"),
    C.online_notice_too_late: (
        422,
        "Tiếp trực tuyến: công dân phải được thông báo trước ít nhất 5 ngày làm việc (Nghị định 154/2026/NĐ-CP)",
    ),
    C.recording_required: (
        422,
        "Buổi tiếp trực tuyến phải được ghi âm, ghi hình và lưu trữ; "
        "cần mã tham chiếu bản ghi (Nghị định 154/2026/NĐ-CP)",
    ),
    C.online_reception_refused: (
        422,
        "Không tiếp trực tuyến người tố cáo có yêu cầu giữ bí mật, bảo vệ danh tính (Nghị định 154/2026/NĐ-CP); "
        "hãy hẹn tiếp trực tiếp",
    ),
    C.not_a_group: (422, "Đoàn đông người phải có từ 5 người trở lên cùng một nội dung (Điều 29 Luật Tiếp công dân)"),
    C.representatives_count: (
        422,
        "Số người đại diện không đúng quy định: đoàn 5–10 người cử 1–2 người, đoàn trên 10 người cử tối đa 5 người "
        "(Điều 29 Luật Tiếp công dân)",
    ),
    C.invalid_refusal_ground: (422, "Căn cứ từ chối tiếp không thuộc các trường hợp tại Điều 9 Luật Tiếp công dân"),
    C.conclusion_not_allowed: (
        422,
        "Thông báo kết luận chỉ có ở buổi tiếp định kỳ hoặc đột xuất của thủ trưởng đã diễn ra",
    ),
    C.repeat_target_not_found: (422, "Không tìm thấy lần tiếp hoặc hồ sơ trước của cùng vụ việc"),
    C.no_such_form: (404, "Không có biểu mẫu này: dùng tcd, xld, gqkn, gqtc hoặc kqth"),
    C.unsupported_format: (415, "Định dạng xuất không được hỗ trợ: dùng json, csv hoặc xlsx"),
    C.report_already_submitted: (409, "Báo cáo của đơn vị cho kỳ này đã được gửi và không thể thay đổi"),
    C.report_not_found: (404, "Không tìm thấy báo cáo đã gửi"),
    C.report_forbidden: (
        403,
        "Thủ trưởng gửi báo cáo của đơn vị mình; Thanh tra tỉnh gửi báo cáo của tỉnh",
    ),
    C.not_overdue: (422, "Chỉ đôn đốc hồ sơ quá hạn giải quyết thuộc đơn vị được đôn đốc"),
    C.unknown_commune: (422, "Mã xã, phường không tồn tại"),
    C.idempotency_key_expired: (422, "Idempotency-Key đã hết hạn; hãy dùng khóa mới cho lần gửi mới"),
    C.submission_not_found: (404, "Không tìm thấy hồ sơ với mã tra cứu và khóa truy cập này"),
    C.not_settled_yet: (409, "Chỉ đánh giá khi vụ việc đã được giải quyết"),
    C.already_rated: (409, "Vụ việc này đã được đánh giá"),
    C.invalid_api_key: (403, "Khóa API không hợp lệ hoặc đã bị thu hồi"),
    C.attachment_too_large: (413, "Tệp đính kèm vượt quá dung lượng cho phép"),
    C.attachment_type_refused: (415, "Chỉ nhận ảnh (JPEG, PNG), PDF hoặc âm thanh (MP3, M4A, OGG, WAV)"),
    C.attachment_not_found: (404, "Không tìm thấy tệp đính kèm"),
    C.attachment_original_only: (
        403,
        "Tệp này không tạo được bản sao đã xóa siêu dữ liệu; chỉ người được biết danh tính người tố cáo mới xem "
        "được bản gốc",
    ),
    C.upload_quota_case: (413, "Tổng dung lượng tệp đính kèm của hồ sơ này đã đạt mức tối đa cho phép"),
    C.upload_quota_device: (
        429,
        "Thiết bị này đã gửi quá dung lượng tệp đính kèm cho phép trong ngày; vui lòng thử lại vào ngày mai",
    ),
    C.upload_quota_address: (
        429,
        "Địa chỉ mạng này đã gửi quá dung lượng tệp đính kèm cho phép trong ngày; vui lòng thử lại vào ngày mai",
    ),
    C.upload_quota_total: (
        429,
        "Hệ thống đã nhận đủ dung lượng tệp đính kèm cho phép trong ngày; vui lòng thử lại vào ngày mai",
    ),
    C.attachment_not_assigned: (
        403,
        "Chỉ cán bộ được giao xác minh hồ sơ này, bộ phận tiếp nhận hoặc thủ trưởng đơn vị đang giữ hồ sơ mới thêm "
        "được tệp đính kèm",
    ),
    C.attachment_protected_case: (
        403,
        "Hồ sơ có danh tính được bảo vệ: chỉ cán bộ được giao xác minh hoặc người được biết danh tính người gửi mới "
        "thêm được tệp đính kèm",
    ),
    C.attachment_case_closed: (409, "Hồ sơ đã kết thúc xử lý; không thêm tệp đính kèm được nữa"),
    C.attachment_count_limit: (409, "Hồ sơ đã có số tệp đính kèm tối đa cho phép"),
    C.api_key_quota_minute: (429, "Khóa API này đã dùng hết số yêu cầu cho phép trong một phút; vui lòng đợi"),
    C.api_key_quota_day: (429, "Khóa API này đã dùng hết số yêu cầu cho phép trong ngày; vui lòng thử lại ngày mai"),
    C.duplicate_target_not_found: (422, "Đơn trùng phải chỉ ra đơn gốc (một hồ sơ khác mà bạn được xem)"),
    C.enforcement_not_allowed: (
        409,
        "Chỉ ghi nhận thi hành đối với quyết định giải quyết khiếu nại, kết luận nội dung tố cáo đã ban hành",
    ),
    C.inspection_forbidden: (403, "Chỉ Thanh tra tỉnh lập kế hoạch, tiến hành và kết luận kiểm tra"),
    C.chief_inspector_only: (
        403,
        "Chỉ Chánh Thanh tra tỉnh phê duyệt, điều chỉnh kế hoạch kiểm tra, ký kết luận kiểm tra và gửi báo cáo định kỳ",
    ),
    C.plan_not_found: (404, "Không tìm thấy kế hoạch kiểm tra"),
    C.plan_not_draft: (
        409,
        "Kế hoạch đã được phê duyệt; thay đổi kế hoạch phải bằng quyết định điều chỉnh (POST .../amendments)",
    ),
    C.plan_not_approved: (409, "Kế hoạch chưa được phê duyệt"),
    C.plan_item_not_found: (422, "Đơn vị này không có trong kế hoạch kiểm tra (hoặc đã được đưa ra khỏi kế hoạch)"),
    C.inspection_not_found: (404, "Không tìm thấy cuộc kiểm tra"),
    C.inspection_action_not_allowed: (409, "Cuộc kiểm tra đang ở trạng thái không cho phép thao tác này"),
    C.inspection_exists: (409, "Đơn vị này trong kế hoạch đã có cuộc kiểm tra"),
    C.unknown_criterion: (422, "Nội dung hoặc mức đánh giá không có trong thang đánh giá của kế hoạch"),
    C.invalid_member: (422, "Thành viên đoàn có tài khoản phải là thanh tra viên đang hoạt động"),
    C.conclusion_not_found: (404, "Cuộc kiểm tra chưa có kết luận"),
    C.conclusion_already_issued: (409, "Kết luận kiểm tra đã được ký ban hành và không thể thay đổi"),
    C.recommendation_not_found: (404, "Không tìm thấy kiến nghị"),
    C.recommendation_action_not_allowed: (409, "Kiến nghị đang ở trạng thái không cho phép thao tác này"),
    C.recommendation_not_overdue: (422, "Chỉ đôn đốc kiến nghị quá hạn chưa thực hiện của đơn vị được đôn đốc"),
    C.inspectorate_report_not_found: (404, "Không tìm thấy báo cáo của Thanh tra tỉnh đã gửi"),
    C.inspectorate_report_forbidden: (403, "Báo cáo của Thanh tra tỉnh chỉ Thanh tra tỉnh và Sở Nội vụ được xem"),
    C.inspectorate_period_not_started: (422, "Kỳ báo cáo chưa bắt đầu: không gửi (chốt) báo cáo cho một kỳ tương lai"),
    C.inspectorate_period_not_ended: (
        422,
        "Kỳ báo cáo chưa kết thúc: chỉ gửi trước khi hết kỳ nếu đánh dấu là báo cáo tạm (provisional: true)",
    ),
    C.review_period_not_ended: (422, "Kỳ được kiểm tra chưa kết thúc: chỉ đánh giá, kết luận về một kỳ đã qua"),
    C.review_period_after_plan: (
        422,
        "Kỳ được kiểm tra phải kết thúc trước ngày đầu của tháng dự kiến kiểm tra trong kế hoạch",
    ),
    C.plan_unit_repeated: (422, "Mỗi đơn vị chỉ có một dòng trong kế hoạch kiểm tra"),
    C.plan_approval_date_out_of_range: (
        422,
        "Ngày quyết định phê duyệt kế hoạch phải trong năm kế hoạch hoặc năm liền trước",
    ),
    C.conflict_of_interest: (
        403,
        "Xung đột lợi ích: không tự quyết định báo cáo do mình lập hoặc của đơn vị mình, không kết luận về đơn vị mình",
    ),
}


class DomainError(AppError):
    """An error from the catalogue: its status and message come from the code."""

    def __init__(self, code: Code, *, details: Any = None, headers: dict[str, str] | None = None) -> None:
        status, message = CATALOGUE[code]
        super().__init__(status, code.value, message, details=details, headers=headers)


def unauthenticated(code: Code = Code.not_authenticated) -> DomainError:
    return DomainError(code, headers={"WWW-Authenticate": "Bearer"})


def field_error(code: Code, field: str, **details: Any) -> DomainError:
    """A catalogue error about one input field (details.field names it)."""
    return DomainError(code, details={"field": field, **details})


class CaseNotFound(DomainError):
    def __init__(self) -> None:
        super().__init__(Code.case_not_found)


class UnitNotFound(DomainError):
    """A unit referenced by an input field does not exist (or is inactive)."""

    def __init__(self, field: str) -> None:
        super().__init__(Code.unit_not_found, details={"field": field})


class ActionNotAllowed(DomainError):
    """409: the action does not exist in this status (`action_not_allowed`), or it does but not for the
    caller's roles (`action_not_allowed_for_role`, with the roles that may)."""

    def __init__(
        self, *, action: str, status: str, allowed_actions: list[str], required_roles: list[str] | None = None
    ) -> None:
        details: dict[str, Any] = {"action": action, "status": status, "allowed_actions": allowed_actions}
        code = Code.action_not_allowed
        if required_roles:
            details["required_roles"] = required_roles
            code = Code.action_not_allowed_for_role
        super().__init__(code, details=details)
        # The catalogue's sentence, then what a person needs to act: the action and status by name, what may be done
        # instead or who may do it (workflows/vocabulary.py; the codes stay in details for programs).
        action_vi, status_vi = vocabulary.name(vocabulary.ACTION, action), vocabulary.name(vocabulary.STATUS, status)
        said = f"«{action_vi}» khi hồ sơ ở trạng thái «{status_vi}»"
        if required_roles:
            who = ", ".join(vocabulary.name(vocabulary.OFFICER_ROLE, r) for r in required_roles)
            self.message = f"{self.message}: {said}; người có thẩm quyền: {who}"
        elif allowed_actions:
            self.message = f"{self.message}: {said}; thao tác được phép: {vocabulary.actions_text(allowed_actions)}"
        else:
            self.message = f"{self.message}: {said}; không còn thao tác nào"


class VersionStale(DomainError):
    def __init__(self, current_version: int) -> None:
        super().__init__(Code.version_mismatch, details={"current_version": current_version})


class ErrorDetail(BaseModel):
    code: Code = Field(description="English, stable: what programs branch on")
    message: str = Field(description="Vietnamese, for the person at the desk")
    details: Any = Field(default=None, description="e.g. [{field, type, message}] or {allowed_actions}")


class ErrorBody(BaseModel):
    error: ErrorDetail


DESCRIPTIONS = {
    401: "Chưa đăng nhập / mã truy cập không hợp lệ",
    403: "Không có quyền",
    404: "Không tìm thấy",
    409: "Xung đột trạng thái",
    412: "Phiên bản hồ sơ đã cũ (If-Match)",
    413: "Dữ liệu quá lớn",
    415: "Định dạng không được hỗ trợ",
    422: "Dữ liệu không hợp lệ",
    428: "Thiếu If-Match",
    429: "Quá nhiều yêu cầu",
    500: "Lỗi hệ thống",
    503: "Tạm thời không phục vụ được",
}


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def catalogue_body(code: Code, details: Any = None) -> dict[str, Any]:
    return error_body(code.value, CATALOGUE[code][1], details)


def timed_out(exc: BaseException) -> bool:
    """PostgreSQL cancelled the statement (statement_timeout, SQLSTATE 57014), through SQLAlchemy or not."""
    for err in (exc, getattr(exc, "orig", None), getattr(getattr(exc, "orig", None), "__cause__", None)):
        if err is not None and getattr(err, "sqlstate", None) == "57014":
            return True
    return False


_DB_DOWN_STATES = {"08000", "08001", "08003", "08004", "08006", "57P01", "57P02", "57P03", "55000"}


def database_down(exc: BaseException) -> bool:
    """The database cannot be reached (refused, gone, shutting down, starting up): a state the client should
    retry, not a server bug. Looks through SQLAlchemy's wrapping and the exception chain."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        err = stack.pop()
        if err is None or id(err) in seen or len(seen) > 10:
            continue
        seen.add(id(err))
        if isinstance(err, ConnectionError | TimeoutError) or (isinstance(err, OSError) and err.errno is not None):
            return True
        if getattr(err, "sqlstate", None) in _DB_DOWN_STATES or getattr(err, "connection_invalidated", False):
            return True
        name = type(err).__name__
        if name in ("ConnectionDoesNotExistError", "InterfaceError") and "connection" in str(err).lower():
            return True
        if name == "InternalClientError" and "another operation" in str(err):
            return True  # a pooled connection the server dropped mid-operation (the pool then discards it)
        stack += [getattr(err, "orig", None), err.__cause__, err.__context__]
    return False


# ---- validation errors in Vietnamese ----
# Each pydantic error type as a person reads it ({…} are the error's context: lengths, bounds, the accepted values);
# `validation_details` turns pydantic's errors into [{field, type, message, message_en}] for every 422 of the API
# (api/http_errors.py) and for services that validate a part of a request themselves.
VALIDATION_MESSAGES: dict[str, str] = {
    "missing": "Thiếu thông tin bắt buộc",
    "missing_argument": "Thiếu thông tin bắt buộc",
    "missing_keyword_only_argument": "Thiếu thông tin bắt buộc",
    "missing_positional_only_argument": "Thiếu thông tin bắt buộc",
    "extra_forbidden": "Trường này không có trong mẫu dữ liệu (không được gửi)",
    "unexpected_keyword_argument": "Trường này không có trong mẫu dữ liệu (không được gửi)",
    "unexpected_positional_argument": "Có giá trị thừa không có trong mẫu dữ liệu",
    "multiple_argument_values": "Một trường được gửi nhiều lần",
    "json_invalid": "Nội dung JSON không đúng cú pháp",
    "json_type": "Phải là chuỗi JSON",
    "recursion_loop": "Dữ liệu lồng nhau vòng tròn",
    "recursion_depth_exceeded": "Dữ liệu lồng nhau quá sâu",
    "frozen_field": "Trường này không được thay đổi",
    "frozen_instance": "Dữ liệu này không được thay đổi",
    "no_such_attribute": "Trường này không tồn tại",
    "invalid_key": "Tên trường phải là chuỗi ký tự",
    "model_type": "Phải là một đối tượng JSON ({{…}})",
    "model_attributes_type": "Phải là một đối tượng JSON ({{…}})",
    "dataclass_type": "Phải là một đối tượng JSON ({{…}})",
    "dataclass_exact_type": "Phải là một đối tượng JSON ({{…}})",
    "named_tuple_type": "Phải là một danh sách giá trị",
    "dict_type": "Phải là một đối tượng JSON ({{…}})",
    "mapping_type": "Phải là một đối tượng JSON ({{…}})",
    "frozen_dict_type": "Phải là một đối tượng JSON ({{…}})",
    "ordered_dict_type": "Phải là một đối tượng JSON ({{…}})",
    "counter_type": "Phải là một đối tượng JSON ({{…}})",
    "none_required": "Phải để trống (null)",
    "greater_than": "Phải lớn hơn {gt}",
    "greater_than_equal": "Phải lớn hơn hoặc bằng {ge}",
    "less_than": "Phải nhỏ hơn {lt}",
    "less_than_equal": "Phải nhỏ hơn hoặc bằng {le}",
    "multiple_of": "Phải là bội số của {multiple_of}",
    "finite_number": "Phải là số hữu hạn",
    "too_short": "Quá ít phần tử: tối thiểu {min_length}",
    "too_long": "Quá nhiều phần tử: tối đa {max_length}",
    "iterable_type": "Phải là một danh sách",
    "iteration_error": "Không đọc được danh sách",
    "list_type": "Phải là một danh sách ([…])",
    "tuple_type": "Phải là một danh sách ([…])",
    "set_type": "Phải là một danh sách ([…])",
    "frozen_set_type": "Phải là một danh sách ([…])",
    "deque_type": "Phải là một danh sách ([…])",
    "set_item_not_hashable": "Phần tử của danh sách không hợp lệ",
    "string_type": "Phải là chuỗi ký tự",
    "string_unicode": "Chuỗi ký tự không phải Unicode hợp lệ",
    "string_too_short": "Quá ngắn: tối thiểu {min_length} ký tự",
    "string_too_long": "Quá dài: tối đa {max_length} ký tự",
    "string_pattern_mismatch": "Không đúng định dạng quy định (mẫu {pattern})",
    "string_not_ascii": "Chỉ được dùng ký tự ASCII (không dấu)",
    "enum": "Giá trị không hợp lệ; chọn một trong: {expected}",
    "literal_error": "Giá trị không hợp lệ; chọn một trong: {expected}",
    "bool_type": "Phải là true hoặc false",
    "bool_parsing": "Phải là true hoặc false",
    "int_type": "Phải là số nguyên",
    "int_parsing": "Phải là số nguyên",
    "int_parsing_size": "Số quá lớn",
    "int_from_float": "Phải là số nguyên (không có phần thập phân)",
    "float_type": "Phải là số",
    "float_parsing": "Phải là số",
    "bytes_type": "Phải là chuỗi ký tự",
    "bytes_too_short": "Quá ngắn: tối thiểu {min_length} byte",
    "bytes_too_long": "Quá dài: tối đa {max_length} byte",
    "bytes_invalid_encoding": "Mã hóa dữ liệu không hợp lệ",
    "value_error": "Giá trị không hợp lệ",
    "assertion_error": "Giá trị không hợp lệ",
    "date_type": "Phải là ngày dạng YYYY-MM-DD",
    "date_parsing": "Ngày không hợp lệ: phải có dạng YYYY-MM-DD",
    "date_from_datetime_parsing": "Ngày không hợp lệ: phải có dạng YYYY-MM-DD",
    "date_from_datetime_inexact": "Phải là ngày (không kèm giờ)",
    "date_past": "Ngày phải ở quá khứ",
    "date_future": "Ngày phải ở tương lai",
    "time_type": "Phải là giờ dạng HH:MM[:SS]",
    "time_parsing": "Giờ không hợp lệ: phải có dạng HH:MM[:SS]",
    "datetime_type": "Phải là thời điểm dạng YYYY-MM-DDTHH:MM:SS+07:00",
    "datetime_parsing": "Thời điểm không hợp lệ: phải có dạng YYYY-MM-DDTHH:MM:SS+07:00",
    "datetime_object_invalid": "Thời điểm không hợp lệ",
    "datetime_from_date_parsing": "Thời điểm không hợp lệ: phải có dạng YYYY-MM-DDTHH:MM:SS+07:00",
    "datetime_past": "Thời điểm phải ở quá khứ",
    "datetime_future": "Thời điểm phải ở tương lai",
    "timezone_naive": "Thời điểm không được kèm múi giờ",
    "timezone_aware": "Thời điểm phải kèm múi giờ (ví dụ +07:00)",
    "timezone_offset": "Múi giờ phải là {tz_expected}",
    "time_delta_type": "Phải là khoảng thời gian",
    "time_delta_parsing": "Khoảng thời gian không hợp lệ",
    "is_instance_of": "Kiểu dữ liệu không hợp lệ",
    "is_subclass_of": "Kiểu dữ liệu không hợp lệ",
    "callable_type": "Kiểu dữ liệu không hợp lệ",
    "union_tag_invalid": "Giá trị của «{discriminator}» không hợp lệ; chọn một trong: {expected_tags}",
    "union_tag_not_found": "Thiếu trường «{discriminator}» để xác định loại dữ liệu",
    "arguments_type": "Dữ liệu không hợp lệ",
    "url_type": "Phải là địa chỉ URL",
    "url_parsing": "Địa chỉ URL không hợp lệ",
    "url_syntax_violation": "Địa chỉ URL không hợp lệ",
    "url_too_long": "Địa chỉ URL quá dài: tối đa {max_length} ký tự",
    "url_scheme": "Địa chỉ URL phải bắt đầu bằng {expected_schemes}",
    "uuid_type": "Phải là mã UUID",
    "uuid_parsing": "Mã UUID không hợp lệ",
    "uuid_version": "Mã UUID phải là phiên bản {expected_version}",
    "decimal_type": "Phải là số thập phân",
    "decimal_parsing": "Phải là số thập phân",
    "decimal_max_digits": "Tối đa {max_digits} chữ số",
    "decimal_max_places": "Tối đa {decimal_places} chữ số sau dấu phẩy",
    "decimal_whole_digits": "Tối đa {whole_digits} chữ số trước dấu phẩy",
    "fraction_type": "Phải là phân số",
    "fraction_parsing": "Phân số không hợp lệ",
    "complex_type": "Phải là số",
    "complex_str_parsing": "Phải là số",
    # internal to pydantic, never from a request; named so that every type has a message
    "needs_python_object": "Dữ liệu không hợp lệ",
    "get_attribute_error": "Dữ liệu không hợp lệ",
    "default_factory_not_called": "Dữ liệu không hợp lệ",
    "missing_sentinel_error": "Dữ liệu không hợp lệ",
    "ellipsis_error": "Dữ liệu không hợp lệ",
}
# The reasons the API's own validators give (`raise ValueError("…")` in api/models, api/types.py and the identity
# checks of workflows/identity.py), matched as a part of pydantic's message; `{rest}` is what follows the matched
# text (names or codes, the same in both languages). tests/test_validation_messages.py reads those files and
# fails when a reason is missing here.
VALUE_ERRORS: dict[str, str] = {
    # api/types.py
    "text must not contain a NUL character": "Văn bản không được chứa ký tự NUL",
    "text must not contain invisible direction-control characters": "Văn bản không được chứa ký tự điều khiển hướng "
    "chữ ẩn",
    "text is not valid Unicode": "Văn bản không phải Unicode hợp lệ",
    "a date must be written as YYYY-MM-DD, not a number": "Ngày phải viết dạng YYYY-MM-DD, không phải một con số",
    # workflows/identity.py
    "must be exactly 12 digits": "phải gồm đúng 12 chữ số",
    "unknown province code in the first 3 digits": "3 chữ số đầu không phải mã tỉnh, thành phố",
    # cases
    "invalid citizen ID number: ": "Số định danh cá nhân không hợp lệ: {rest}",
    "complaint_round applies to complaints only": "complaint_round (lần khiếu nại) chỉ dùng cho khiếu nại",
    "a second-round complaint needs previous_case_id (its first round)": "Khiếu nại lần hai phải ghi previous_case_id "
    "(vụ việc khiếu nại lần đầu)",
    "previous_case_id applies to second-round complaints and further denunciations": "previous_case_id chỉ dùng cho "
    "khiếu nại lần hai và tố cáo tiếp",
    "disciplinary applies to complaints only (LKN art. 46)": "disciplinary (quyết định kỷ luật) chỉ dùng cho khiếu nại "
    "(Điều 46 Luật Khiếu nại)",
    "a complaint against a disciplinary decision is in the field civil_service (LKN art. 46)": "Khiếu nại quyết định "
    "kỷ luật thuộc lĩnh vực civil_service (cán bộ, công chức, công vụ; Điều 46 Luật Khiếu nại)",
    "name the accused: officer_id or full_name": "Ghi người bị tố cáo: officer_id hoặc full_name",
    "received_from is after received_to": "received_from (từ ngày) sau received_to (đến ngày)",
    "not a notification duty; one of ": "Không phải nghĩa vụ thông báo; chọn một trong: {rest}",
    # reception
    "id_type given without id_number": "Có id_type (loại giấy tờ) nhưng thiếu id_number (số giấy tờ)",
    "invalid passport number: 6–9 letters or digits": "Số hộ chiếu không hợp lệ: 6–9 chữ cái hoặc chữ số",
    "invalid identity number: ": "Số giấy tờ tùy thân không hợp lệ: {rest}",
    "give case_id or create_case, not both": "Chỉ ghi case_id (hồ sơ có sẵn) hoặc create_case (mở hồ sơ mới), không "
    "cả hai",
    "only a matter within competence is linked to or opens a case": "Chỉ vụ việc thuộc thẩm quyền mới gắn với hoặc mở "
    "hồ sơ",
    "refusal is given exactly when handling is 'refused'": "Chỉ ghi refusal (căn cứ từ chối) khi handling là "
    "'refused' (từ chối tiếp), và phải ghi khi đó",
    "a first visit repeats nothing: drop repeat_of_entry_id / repeat_of_case_id": "Lần đầu đến thì không lặp lại lần "
    "nào: bỏ repeat_of_entry_id / repeat_of_case_id",
    "a repeat visit names the earlier entry (repeat_of_entry_id) or case (repeat_of_case_id)": "Đến nhiều lần phải ghi "
    "lần tiếp trước (repeat_of_entry_id) hoặc hồ sơ trước (repeat_of_case_id)",
    "guided: say where (guided_to)": "Hướng dẫn: ghi nơi hướng dẫn đến (guided_to)",
    "transferred: say to whom (transferred_to)": "Chuyển đơn: ghi nơi nhận (transferred_to)",
    " needs a time zone (e.g. 2026-12-01T08:00:00+07:00)": "Thời điểm bắt đầu và kết thúc phải kèm múi giờ (ví dụ "
    "2026-12-01T08:00:00+07:00)",
    "ends_at must be after starts_at": "ends_at (giờ kết thúc) phải sau starts_at (giờ bắt đầu)",
    "a session lasts less than a day": "Một buổi tiếp kéo dài không quá một ngày",
    "an online session needs online_link": "Buổi tiếp trực tuyến phải có online_link (đường dẫn)",
    "a direct session needs location": "Buổi tiếp trực tiếp phải có location (địa điểm)",
    "must not be blank": "Không được để trống",
    # the citizens' submissions
    "give lat and long together": "Gửi vĩ độ (lat) và kinh độ (long) cùng nhau",
    "commune_code is a unit code such as 04465": "commune_code là mã xã, phường, ví dụ 04465",
    "give commune_code, lat/long or address": "Ghi nơi xảy ra: commune_code, lat/long hoặc address",
    "a complaint or denunciation needs contact.full_name and contact.id_number": "Khiếu nại, tố cáo phải ghi họ tên "
    "(contact.full_name) và số định danh cá nhân (contact.id_number) của người gửi",
    "personal data is processed only with consent: set consent to true": "Dữ liệu cá nhân chỉ được xử lý khi có sự "
    "đồng ý: đặt consent là true",
    # units
    "name must not be blank": "Tên không được để trống",
    # inspections
    "an amendment adds, removes or reschedules at least one unit": "Điều chỉnh kế hoạch phải thêm, bỏ hoặc đổi lịch ít "
    "nhất một đơn vị",
    "a member is an account (user_id) or a named invited member (full_name), not both": "Thành viên đoàn là một tài "
    "khoản (user_id) hoặc người được mời ghi họ tên (full_name), không cả hai",
}
_LOCATIONS = ("body", "query", "path", "header", "cookie", "form")
_PYDANTIC_PREFIXES = ("Value error, ", "Assertion failed, ")


def _value_error(message: str) -> str | None:
    """The Vietnamese of a validator's own reason, or None when it has none."""
    for prefix in _PYDANTIC_PREFIXES:
        message = message.removeprefix(prefix)
    for english in sorted(VALUE_ERRORS, key=len, reverse=True):
        at = message.find(english)
        if at >= 0:
            rest = message[at + len(english) :]
            return VALUE_ERRORS[english].format(rest=VALUE_ERRORS.get(rest, rest))
    return None


def validation_field(loc: tuple[Any, ...] | list[Any]) -> str | None:
    """The path of the field a pydantic error is about, without where it came from ("body", "query" …): "title",
    "parties.0.full_name"; None when the error is about the whole body."""
    parts = list(loc)
    if parts and parts[0] in _LOCATIONS:
        parts = parts[1:]
    return ".".join(str(p) for p in parts) or None


def validation_message(error: Mapping[str, Any]) -> str:
    """What is wrong, in Vietnamese, for one pydantic error."""
    kind, english = str(error.get("type", "")), str(error.get("msg", ""))
    if kind in ("value_error", "assertion_error"):
        own = _value_error(english)
        if own is not None:
            return own
    template = VALIDATION_MESSAGES.get(kind)
    if template is None:
        return english  # a custom error type (PydanticCustomError) already carries the service's own message
    ctx = {k: str(v).replace(" or ", " hoặc ") for k, v in (error.get("ctx") or {}).items()}
    if kind == "missing" and validation_field(error.get("loc", ())) is None:
        return "Thiếu nội dung yêu cầu (JSON)"
    try:
        return template.format(**ctx)
    except (KeyError, IndexError):
        return template.split(":")[0].split(";")[0].split("(")[0].strip()


def validation_details(errors: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """[{field, type, message (Vietnamese), message_en (pydantic's)}] for a list of pydantic errors."""
    out = []
    for err in errors:
        kind = str(err.get("type", ""))
        loc = tuple(err.get("loc", ()))
        item = {"field": validation_field(loc), "type": kind, "message": validation_message(err)}
        if kind == "json_invalid":  # the location is a character offset, not a field
            item["field"] = None
            if loc and isinstance(loc[-1], int):
                item["message"] = f"{item['message']} (ký tự thứ {loc[-1] + 1})"
        out.append({**item, "message_en": err.get("msg", "")})
    return out


def validation_summary(code: Code, details: list[dict[str, Any]]) -> str:
    """The error's one message: the catalogue's, then the first problem by field, and how many more."""
    message = CATALOGUE[code][1]
    if not details or code is Code.malformed_json:
        return message
    first = details[0]
    said = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
    more = f" (và {len(details) - 1} lỗi khác)" if len(details) > 1 else ""
    return f"{message}: {said}{more}"
