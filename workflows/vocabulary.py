"""The one table of the Vietnamese names a user reads: statuses, kinds, fields, channels, roles, timers, outcomes,
reasons, actions and periods.

The API speaks English codes (`received`, `complaint`, `2026-Q4`); everything a person reads — errors, exports,
pages, forms — names them with this module, never with a table of its own. Pure: the standard library and
`workflows` only (no web framework, no database). tests/test_vocabulary.py walks every enum of `workflows/` and
`api/models/` (and every string `Literal` of a schema field) and fails when a value has no name here.

Reason labels (refusals, storing, termination, withdrawal exceptions) already live beside their legal grounds in
workflows/cases.py: `reason_name` reads them there instead of copying them.
"""

from collections.abc import Mapping
from datetime import date

from workflows import cases, periods

# ---- cases ----

KIND = {"complaint": "Khiếu nại", "denunciation": "Tố cáo", "petition": "Kiến nghị", "feedback": "Phản ánh"}

STATUS = {
    "received": "Đã tiếp nhận",
    "accepted": "Đã thụ lý",
    "transferred": "Đã chuyển đơn",
    "guided": "Đã hướng dẫn",
    "stored": "Lưu đơn",
    "rejected": "Không thụ lý",
    "in_progress": "Đang xác minh",
    "resolved": "Đã có quyết định, kết luận",
    "closed": "Đã kết thúc, lưu hồ sơ",
    "suspended": "Tạm đình chỉ",
    "terminated": "Đình chỉ",
}
# What a citizen reads of the same statuses (tracking page, Open311): plain words, no internal steps.
STATUS_PUBLIC = {
    "received": "Đã tiếp nhận, đang xử lý đơn",
    "accepted": "Đã thụ lý, đang giải quyết",
    "in_progress": "Đang xác minh, giải quyết",
    "suspended": "Tạm đình chỉ giải quyết",
    "transferred": "Đã chuyển đến cơ quan có thẩm quyền",
    "guided": "Đã hướng dẫn gửi đến cơ quan có thẩm quyền",
    "stored": "Đơn được lưu, không xử lý",
    "rejected": "Không thụ lý (đã thông báo lý do)",
    "resolved": "Đã có kết quả giải quyết",
    "closed": "Đã giải quyết xong",
    "terminated": "Đã đình chỉ giải quyết",
}

ACTION = {
    "accept": "Thụ lý",
    "reject": "Không thụ lý",
    "transfer": "Chuyển đơn",
    "guide": "Hướng dẫn",
    "store": "Lưu đơn",
    "assign": "Giao xác minh",
    "extend": "Gia hạn",
    "suspend": "Tạm đình chỉ",
    "resume": "Tiếp tục giải quyết",
    "withdraw": "Ghi nhận rút đơn",
    "terminate": "Đình chỉ",
    "resolve": "Ra quyết định, kết luận",
    "close": "Kết thúc, lưu hồ sơ",
    # commands outside the transition table (api/services/cases/actions/decisions.py)
    "decide_complexity": "Xác định mức độ phức tạp",
    "unlawful_resolution": "Ghi nhận giải quyết tố cáo không đúng pháp luật",
    "correct_competence": "Xác định cơ quan có thẩm quyền",
}

# Fields as the forms name them (02/XLD, 03/TCD …); FIELD_SHORT for chart axes where space is short.
FIELD = {
    "land": "Đất đai, nhà ở",
    "compensation": "Bồi thường, hỗ trợ, giải phóng mặt bằng",
    "policy": "Chế độ, chính sách xã hội",
    "civil_service": "Cán bộ, công chức, công vụ",
    "admin_other": "Hành chính khác",
    "judicial": "Tư pháp",
    "corruption": "Tham nhũng",
    "party": "Đảng",
    "other": "Lĩnh vực khác",
}
FIELD_SHORT = {
    "land": "Đất đai, nhà ở",
    "compensation": "Bồi thường, GPMB",
    "policy": "Chính sách xã hội",
    "civil_service": "Công chức, công vụ",
    "admin_other": "Hành chính khác",
    "judicial": "Tư pháp",
    "corruption": "Tham nhũng",
    "party": "Đảng",
    "other": "Khác",
}

CHANNEL = {
    "in_person": "Trực tiếp",
    "post": "Qua bưu chính",
    "reception_session": "Qua tiếp công dân",
    "transferred_in": "Cơ quan khác chuyển đến",
    "mobile": "Ứng dụng di động",
    "online": "Trực tuyến",
}

COMPLEXITY = {"normal": "Thông thường", "complex": "Phức tạp", "especially_complex": "Đặc biệt phức tạp"}

# Officer roles (accounts) and party roles (people in a case) are two tables: "người tố cáo" is never an account.
OFFICER_ROLE = {
    "admin": "Quản trị hệ thống",
    "desk_officer": "Cán bộ tiếp dân, xử lý đơn",
    "handler": "Người xác minh",
    "unit_head": "Thủ trưởng đơn vị",
    "inspector": "Thanh tra tỉnh",
}
PARTY_ROLE = {
    "complainant": "Người khiếu nại",
    "denouncer": "Người tố cáo",
    "petitioner": "Người kiến nghị, phản ánh",
    "representative": "Người đại diện",
    "accused": "Người bị tố cáo",
    "respondent": "Người bị khiếu nại",
    "related": "Người có quyền, nghĩa vụ liên quan",
}

# Outcomes of a decision or conclusion (workflows.cases.OUTCOMES); `outcome_name` names them for a kind.
OUTCOME = {
    "correct": "Đúng",
    "partly_correct": "Đúng một phần",
    "wrong": "Sai",
    "false": "Sai sự thật",  # a denunciation only (LTC art. 35): "Tố cáo sai sự thật"
    "upheld": "Công nhận quyết định lần đầu",
    "annulled": "Hủy quyết định lần đầu",
    "amended": "Sửa quyết định lần đầu",
    "addressed": "Đã xem xét, xử lý",
    "explained": "Đã giải thích, trả lời",
}

WITHDRAW_SCOPE = {"full": "Rút toàn bộ", "partial": "Rút một phần"}
CASE_SORT = {"-received_at": "Mới nhận trước", "received_at": "Nhận trước trước", "due_date": "Hạn gần nhất trước"}

# Why a case is on the inspectorate's watch-list (api/services/stats/oversight.py).
WATCH_REASON = {
    "overdue": "Quá hạn",
    "repeat_after_decision": "Khiếu nại, tố cáo tiếp",
    "level_skipping": "Vượt cấp",
    "multi_person": "Đông người",
}

# ---- deadlines ----

TIMER = {
    "processing": "Xử lý đơn",
    "acceptance": "Thụ lý",
    "transfer": "Chuyển đơn",
    "resolution": "Giải quyết",
    "notify_acceptance": "Thông báo thụ lý",
    "send_decision": "Gửi quyết định giải quyết",
    "send_conclusion": "Gửi kết luận nội dung tố cáo",
    "publish_conclusion": "Công khai kết luận",
    "notify_suspension": "Thông báo tạm đình chỉ",
    "notify_resumption": "Thông báo tiếp tục giải quyết",
    "notify_termination": "Thông báo đình chỉ",
    "notify_extension": "Thông báo gia hạn",
}
TIMER_STATUS = {
    "running": "Đang trong hạn",
    "paused": "Tạm dừng",
    "met": "Đúng hạn",
    "met_late": "Hoàn thành trễ hạn",
    "overdue": "Quá hạn",
}
BASIS = {"calendar": "ngày", "working": "ngày làm việc"}

# ---- reception ----

SESSION_KIND = {"regular": "Tiếp thường xuyên", "periodic": "Tiếp định kỳ", "adhoc": "Tiếp đột xuất"}
MODE = {"direct": "Trực tiếp", "online": "Trực tuyến"}
SESSION_STATUS = {"scheduled": "Đã lên lịch", "held": "Đã tiếp", "cancelled": "Đã hủy"}
HOST = {"head": "Người đứng đầu", "deputy": "Cấp phó được ủy quyền"}
VISIT = {"first": "Lần đầu", "repeat": "Nhiều lần"}
ID_TYPE = {
    "citizen_id": "Thẻ căn cước, căn cước công dân",
    "id_certificate": "Giấy chứng nhận căn cước",
    "personal_id_number": "Số định danh cá nhân",
    "passport": "Hộ chiếu",
}
HANDLING = {
    "within_competence": "Thuộc thẩm quyền, tiếp nhận giải quyết",
    "guided": "Hướng dẫn",
    "transferred": "Chuyển đơn",
    "explained": "Giải thích, trả lời tại chỗ",
    "refused": "Từ chối tiếp",
}

# ---- the inspectorate's inspections (workflows/inspections.py) ----

PLAN_STATUS = {"draft": "Dự thảo", "approved": "Đã phê duyệt"}
INSPECTION_STATUS = {
    "planned": "Trong kế hoạch",
    "decided": "Đã có quyết định thành lập đoàn",
    "in_progress": "Đang kiểm tra",
    "concluded": "Đã có kết luận",
    "cancelled": "Đã hủy",
}
INSPECTION_ACTION = {
    "decide": "Quyết định thành lập đoàn",
    "start": "Công bố quyết định, bắt đầu kiểm tra",
    "conclude": "Ban hành kết luận kiểm tra",
    "cancel": "Hủy",
}
INSPECTION_ACTOR = {
    "inspector": "Thanh tra viên",
    "chief": "Chánh Thanh tra",
    "inspected_head": "Thủ trưởng đơn vị được kiểm tra",
}
RECOMMENDATION_STATUS = {"open": "Đang thực hiện", "reported": "Đã báo cáo, chờ xem xét", "done": "Đã thực hiện xong"}
RECOMMENDATION_ACTION = {"report": "Báo cáo kết quả", "accept": "Chấp nhận báo cáo", "reject": "Không chấp nhận"}
RECOMMENDATION_TIMER = {
    "running": "Đang trong hạn",
    "due_soon": "Sắp đến hạn",
    "overdue": "Quá hạn",
    "reported": "Đã báo cáo trong hạn, chờ Thanh tra xem xét",
    "reported_late": "Đã báo cáo sau hạn, chờ Thanh tra xem xét",
    "met": "Đúng hạn",
    "met_late": "Hoàn thành trễ hạn",
}

# ---- units, attachments, webhooks, reports ----

UNIT_LEVEL = {
    "province": "Tỉnh",
    "commune": "Xã, phường",
    "agency": "Sở, ban, ngành",
    "inspectorate": "Thanh tra",
    "district": "Huyện (trước 01/7/2025)",
}
RECEPTION_PERIOD = {"week": "Tuần", "month": "Tháng"}
ATTACHMENT_FORM = {"original": "Bản gốc", "copy": "Bản sao đã xóa siêu dữ liệu", "none": "Không có bản sao"}
DELIVERY_OUTCOME = {"delivered": "Đã gửi", "failed": "Gửi không thành công", "address_refused": "Địa chỉ bị từ chối"}
ROW_TYPE = {"unit": "Đơn vị", "subtotal": "Cộng", "total": "Tổng cộng"}
PERIOD_FORM = {"month": "Tháng", "quarter": "Quý", "half": "6 tháng", "nine": "9 tháng", "year": "Năm"}

# Every table by the name of the enum (or `Literal` field) whose values it names; the test walks the code against it.
TABLES: Mapping[str, Mapping[str, str]] = {
    "Kind": KIND,
    "Status": STATUS,
    "Action": ACTION,
    "Role": OFFICER_ROLE,
    "CaseField": FIELD,
    "Channel": CHANNEL,
    "Complexity": COMPLEXITY,
    "PartyRole": PARTY_ROLE,
    "TimerStatus": TIMER_STATUS,
    "Basis": BASIS,
    "SessionKind": SESSION_KIND,
    "Mode": MODE,
    "SessionStatus": SESSION_STATUS,
    "IdType": ID_TYPE,
    "Handling": HANDLING,
    "UnitLevel": UNIT_LEVEL,
    "ReceptionPeriod": RECEPTION_PERIOD,
    "PlanStatus": PLAN_STATUS,
    "InspectionStatus": INSPECTION_STATUS,
    "InspectionAction": INSPECTION_ACTION,
    "Actor": INSPECTION_ACTOR,
    "RecommendationStatus": RECOMMENDATION_STATUS,
    "RecommendationAction": RECOMMENDATION_ACTION,
    "TimerState": RECOMMENDATION_TIMER,
}
# Open311 GeoReport v2 (api/models/open311.py) and the inspectorate's teams (api/models/inspections.py).
OPEN311_STATUS = {"open": "Đang xử lý", "closed": "Đã xử lý xong"}
OPEN311_SERVICE_TYPE = {"realtime": "Xử lý ngay", "batch": "Xử lý theo đợt", "blackbox": "Không theo dõi được"}
OPEN311_DATATYPE = {
    "string": "Chuỗi ký tự",
    "number": "Số",
    "datetime": "Thời điểm",
    "text": "Văn bản",
    "singlevaluelist": "Chọn một giá trị",
    "multivaluelist": "Chọn nhiều giá trị",
}
CONSENT = {"true": "Đồng ý", "false": "Không đồng ý"}
TEAM_ROLE = {"head": "Trưởng đoàn", "deputy": "Phó trưởng đoàn", "member": "Thành viên"}
REPORT_DECISION = {"accepted": "Chấp nhận", "rejected": "Không chấp nhận"}

# String `Literal` fields of the API's schemas, by "Model.field" where one field name means different things in
# different schemas, else by field name.
LITERAL_FIELDS: Mapping[str, Mapping[str, str]] = {
    "Open311Request.status": OPEN311_STATUS,
    "Open311Service.type": OPEN311_SERVICE_TYPE,
    "Open311Attribute.datatype": OPEN311_DATATYPE,
    "MemberIn.role": TEAM_ROLE,
    "attribute_consent": CONSENT,
    "decision": REPORT_DECISION,
    "status": SESSION_STATUS,
    "host": HOST,
    "visit": VISIT,
    "scope": WITHDRAW_SCOPE,
    "sort": CASE_SORT,
    "form": ATTACHMENT_FORM,
    "last_outcome": DELIVERY_OUTCOME,
    "type": ROW_TYPE,
}


def name(table: Mapping[str, str], code: str | None) -> str:
    """The Vietnamese name of `code` in `table`; the code itself when the table lacks it (never an error: a page
    still renders), and "" for None."""
    if code is None:
        return ""
    return table.get(str(code), str(code))


def outcome_name(kind: str, code: str) -> str:
    """'Khiếu nại đúng một phần', 'Tố cáo sai sự thật', 'Công nhận quyết định lần đầu' …"""
    base = OUTCOME.get(code, code)
    if code in ("correct", "partly_correct", "wrong", "false") and kind in ("complaint", "denunciation"):
        return f"{KIND[kind]} {base.lower()}"
    return base


def reason_name(code: str, kind: str | None = None, action: str | None = None) -> str:
    """A reason code's label, read from workflows/cases.py. `action` (reject, store, terminate, withdraw) says which
    table first, since a code may sit in two (`time_barred` refuses a complaint and stores a letter); then the kind's
    refusals, storing and termination grounds, then every table."""
    k = cases.Kind(kind) if kind is not None and kind in cases.Kind.__members__ else None
    by_action: dict[str, list[Mapping[str, object]]] = {
        "reject": [cases.refusals_for(k)] if k else [],
        "store": [cases.store_reasons_for(k)] if k else [cases.STORE_REASONS],
        "terminate": [cases.TERMINATE_REASONS.get(k, {})] if k else [],
        "withdraw": [cases.WITHDRAWAL_EXCEPTIONS],
    }
    tables: list[Mapping[str, object]] = list(by_action.get(action or "", []))
    if k is not None:
        tables += [cases.refusals_for(k), cases.store_reasons_for(k), cases.TERMINATE_REASONS.get(k, {})]
    tables += [
        cases.COMPLAINT_REFUSALS,
        cases.DENUNCIATION_REFUSALS,
        cases.PETITION_REFUSALS,
        cases.STORE_REASONS,
        *cases.TERMINATE_REASONS.values(),
        cases.WITHDRAWAL_EXCEPTIONS,
        WATCH_REASON,
    ]
    for table in tables:
        label = table.get(code)
        if label is not None:
            return label.text if isinstance(label, cases.Refusal) else str(label)
    return code


def actions_text(actions: list[str]) -> str:
    """'Thụ lý, Chuyển đơn, Lưu đơn' — the allowed actions of a 409, as a person reads them."""
    return ", ".join(ACTION.get(a, a) for a in actions)


_ROMAN = ("I", "II", "III", "IV")


def period_name(label: str) -> str:
    """A period label as a user reads it: 2026-12 → "Tháng 12/2026", 2026-Q4 → "Quý IV/2026", 2026-H1 → "6 tháng
    đầu năm 2026", 2026-9M → "9 tháng năm 2026", 2026 → "Năm 2026", 2026-01-01..2026-03-31 → "Từ 01/01/2026 đến
    31/03/2026". (There is no code for the last six months: a 6-month report is always the first half.) A label of
    no known form is returned as it is."""
    label = label.strip()
    if ".." in label:
        try:
            p = periods.between(*(_iso(x) for x in label.split("..", 1)))
        except ValueError:
            return label
        return f"Từ {p.start:%d/%m/%Y} đến {p.end:%d/%m/%Y}"
    try:
        periods.parse(label)
    except periods.PeriodError:
        return label
    form = periods.form_of(label)
    year = label[:4]
    if form == "month":
        return f"Tháng {label[5:7]}/{year}"
    if form == "quarter":
        return f"Quý {_ROMAN[int(label[6:]) - 1]}/{year}"
    if form == "half":
        return f"6 tháng đầu năm {year}"
    if form == "nine":
        return f"9 tháng năm {year}"
    return f"Năm {year}"


def _iso(text: str) -> date:
    return date.fromisoformat(text.strip())
