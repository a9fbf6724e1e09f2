"""Case statuses, actions and the transition table (who may do what, from which status).

The table is the single source: the service refuses anything not in it (409 with the allowed actions),
and the README's state diagram is generated from it (`python -m workflows.diagram`).
"""

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    complaint = "complaint"  # khiếu nại
    denunciation = "denunciation"  # tố cáo
    petition = "petition"  # kiến nghị
    feedback = "feedback"  # phản ánh


class Status(StrEnum):
    received = "received"  # đã tiếp nhận, chờ xử lý đơn
    accepted = "accepted"  # đã thụ lý
    transferred = "transferred"  # đã chuyển đơn
    guided = "guided"  # đã hướng dẫn
    stored = "stored"  # lưu đơn
    rejected = "rejected"  # không thụ lý (có lý do pháp lý)
    in_progress = "in_progress"  # đang xác minh
    resolved = "resolved"  # đã có quyết định / kết luận
    closed = "closed"  # kết thúc, lưu hồ sơ
    suspended = "suspended"  # tạm đình chỉ (đồng hồ dừng)
    terminated = "terminated"  # đình chỉ


class Action(StrEnum):
    accept = "accept"
    reject = "reject"
    transfer = "transfer"
    guide = "guide"
    store = "store"
    assign = "assign"
    extend = "extend"
    suspend = "suspend"
    resume = "resume"
    withdraw = "withdraw"
    terminate = "terminate"
    resolve = "resolve"
    close = "close"


class Role(StrEnum):
    """Officer roles: admin, cán bộ tiếp dân, người xác minh, chủ tịch / thủ trưởng, Thanh tra tỉnh."""

    admin = "admin"
    desk_officer = "desk_officer"
    handler = "handler"
    unit_head = "unit_head"
    inspector = "inspector"


# Marker: the case returns to the status it had before suspension.
PREVIOUS = "previous"


@dataclass(frozen=True)
class Transition:
    to: str  # a Status value, or PREVIOUS
    roles: frozenset[Role]
    note: str = ""


HEAD = frozenset({Role.unit_head})
DESK_OR_HEAD = frozenset({Role.desk_officer, Role.unit_head})
S, A = Status, Action

TRANSITIONS: dict[tuple[Status, Action], Transition] = {
    # Processing the letter (xử lý đơn): exactly one outcome.
    (S.received, A.accept): Transition(S.accepted, HEAD, "thụ lý"),
    (S.received, A.reject): Transition(S.rejected, HEAD, "không thụ lý, nêu lý do"),
    (S.received, A.transfer): Transition(S.transferred, DESK_OR_HEAD, "chuyển đơn (một lần)"),
    (S.received, A.guide): Transition(S.guided, DESK_OR_HEAD, "hướng dẫn"),
    (S.received, A.store): Transition(S.stored, DESK_OR_HEAD, "lưu đơn"),
    (S.received, A.withdraw): Transition(S.terminated, DESK_OR_HEAD, "rút đơn"),
    # Settling an accepted case.
    (S.accepted, A.assign): Transition(S.in_progress, HEAD, "giao xác minh"),
    (S.accepted, A.extend): Transition(S.accepted, HEAD, "gia hạn (tố cáo)"),
    (S.accepted, A.suspend): Transition(S.suspended, HEAD, "tạm đình chỉ"),
    (S.accepted, A.withdraw): Transition(S.terminated, DESK_OR_HEAD, "rút toàn bộ → đình chỉ"),
    (S.accepted, A.terminate): Transition(S.terminated, HEAD, "đình chỉ"),
    (S.accepted, A.resolve): Transition(S.resolved, HEAD, "quyết định / kết luận"),
    (S.in_progress, A.assign): Transition(S.in_progress, HEAD, "giao lại"),
    (S.in_progress, A.extend): Transition(S.in_progress, HEAD, "gia hạn (tố cáo)"),
    (S.in_progress, A.suspend): Transition(S.suspended, HEAD, "tạm đình chỉ"),
    (S.in_progress, A.withdraw): Transition(S.terminated, DESK_OR_HEAD, "rút toàn bộ → đình chỉ"),
    (S.in_progress, A.terminate): Transition(S.terminated, HEAD, "đình chỉ"),
    (S.in_progress, A.resolve): Transition(S.resolved, HEAD, "quyết định / kết luận"),
    (S.suspended, A.resume): Transition(PREVIOUS, HEAD, "tiếp tục giải quyết"),
    (S.suspended, A.withdraw): Transition(S.terminated, DESK_OR_HEAD, "rút toàn bộ → đình chỉ"),
    (S.suspended, A.terminate): Transition(S.terminated, HEAD, "đình chỉ"),
    (S.resolved, A.close): Transition(S.closed, DESK_OR_HEAD, "kết thúc, lưu hồ sơ"),
}

TERMINAL = frozenset({S.transferred, S.guided, S.stored, S.rejected, S.closed, S.terminated})


def allowed_actions(status: Status, roles: set[str]) -> list[str]:
    """Actions the holder of `roles` may take on a case in `status`, in table order."""
    return [a.value for (s, a), t in TRANSITIONS.items() if s == status and any(r.value in roles for r in t.roles)]


def transition(status: Status, action: Action, roles: set[str]) -> Transition | None:
    """The transition, or None when the action is illegal in this status or for these roles."""
    t = TRANSITIONS.get((status, action))
    if t is None or not any(r.value in roles for r in t.roles):
        return None
    return t


# Reason codes (lists from LEGAL.md; the English code is the API's, the Vietnamese the officer's).
STORE_REASONS = {
    "anonymous": "Đơn nặc danh, mạo danh",
    "duplicate": "Đơn trùng nội dung đã xử lý",
    "ineligible": "Đơn không đủ điều kiện xử lý",
    "time_barred": "Đơn hết thời hiệu",
    "already_settled": "Vụ việc đã được giải quyết đúng pháp luật",
}
REJECT_REASONS = {
    "not_competent": "Không thuộc thẩm quyền",
    "time_barred": "Hết thời hiệu khiếu nại",
    "ineligible": "Không đủ điều kiện thụ lý",
    "already_settled": "Đã có quyết định giải quyết có hiệu lực pháp luật",
    "court_accepted": "Tòa án đã thụ lý hoặc giải quyết",
    "no_legal_interest": "Không liên quan đến quyền, lợi ích hợp pháp của người khiếu nại",
    "anonymous": "Không rõ họ tên, địa chỉ người tố cáo",
}
TERMINATE_REASONS = {
    Kind.complaint: {
        "withdrawn": "Người khiếu nại rút toàn bộ khiếu nại",
        "complainant_died": "Người khiếu nại chết, không có người thừa kế quyền",
        "organisation_dissolved": "Tổ chức khiếu nại giải thể, không có tổ chức kế thừa",
        "nothing_to_resolve": "Không còn nội dung phải giải quyết",
        "court_accepted": "Tòa án đã thụ lý hoặc giải quyết",
    },
    Kind.denunciation: {
        "withdrawn": "Người tố cáo rút toàn bộ tố cáo",
        "accused_died": "Người bị tố cáo chết, nội dung chỉ liên quan đến người đó",
        "final_judgment": "Vụ việc đã được giải quyết bằng bản án có hiệu lực",
    },
}
# LTC art. 33: a full withdrawal does not end a denunciation in these cases.
WITHDRAWAL_EXCEPTIONS = {
    "signs_of_violation": "Có dấu hiệu vi phạm pháp luật",
    "coerced": "Rút tố cáo do bị đe dọa, mua chuộc",
    "slander": "Lợi dụng tố cáo để vu khống",
}
OUTCOMES = {
    (Kind.complaint, 1): {"correct", "partly_correct", "wrong"},
    (Kind.complaint, 2): {"upheld", "annulled", "amended"},
    (Kind.denunciation, 1): {"correct", "partly_correct", "false"},
    (Kind.petition, 1): {"addressed", "explained"},
    (Kind.feedback, 1): {"addressed", "explained"},
}


def outcomes_for(kind: Kind, complaint_round: int) -> set[str]:
    return OUTCOMES[(kind, complaint_round if kind is Kind.complaint else 1)]
