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
    (S.received, A.withdraw): Transition(S.terminated, DESK_OR_HEAD, "rút đơn trước khi thụ lý"),
    # Settling an accepted case.
    (S.accepted, A.assign): Transition(S.in_progress, HEAD, "giao xác minh"),
    (S.accepted, A.extend): Transition(S.accepted, HEAD, "gia hạn (tố cáo)"),
    (S.accepted, A.suspend): Transition(S.suspended, HEAD, "tạm đình chỉ"),
    # A withdrawal is recorded by the desk; the case ends only by the head's termination decision (LKN art. 10,
    # 11a as amended; LTC art. 33; Decree 155/2026).
    (S.accepted, A.withdraw): Transition(S.accepted, DESK_OR_HEAD, "ghi nhận rút đơn"),
    (S.accepted, A.terminate): Transition(S.terminated, HEAD, "đình chỉ"),
    (S.accepted, A.resolve): Transition(S.resolved, HEAD, "quyết định / kết luận"),
    (S.in_progress, A.assign): Transition(S.in_progress, HEAD, "giao lại"),
    (S.in_progress, A.extend): Transition(S.in_progress, HEAD, "gia hạn (tố cáo)"),
    (S.in_progress, A.suspend): Transition(S.suspended, HEAD, "tạm đình chỉ"),
    (S.in_progress, A.withdraw): Transition(S.in_progress, DESK_OR_HEAD, "ghi nhận rút đơn"),
    (S.in_progress, A.terminate): Transition(S.terminated, HEAD, "đình chỉ"),
    (S.in_progress, A.resolve): Transition(S.resolved, HEAD, "quyết định / kết luận"),
    (S.suspended, A.resume): Transition(PREVIOUS, HEAD, "tiếp tục giải quyết"),
    (S.suspended, A.withdraw): Transition(S.suspended, DESK_OR_HEAD, "ghi nhận rút đơn"),
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


@dataclass(frozen=True)
class Refusal:
    """A legal ground for not accepting (không thụ lý) a letter of one kind, with the clause it rests on."""

    text: str
    legal_basis: str


# Complaints: LKN art. 11, clause by clause (the texts paraphrase the law; the officer's written refusal
# cites the clause). A letter outside the body's competence is guided or transferred, never refused; an
# anonymous letter is stored (lưu đơn), not refused.
COMPLAINT_REFUSALS = {
    "internal_direction": Refusal("Quyết định, hành vi hành chính trong nội bộ để chỉ đạo, điều hành", "LKN art. 11.1"),
    "no_legal_interest": Refusal(
        "Không liên quan trực tiếp đến quyền, lợi ích hợp pháp của người khiếu nại", "LKN art. 11.2"
    ),
    "no_capacity": Refusal(
        "Người khiếu nại không có năng lực hành vi dân sự đầy đủ, không có người đại diện hợp pháp", "LKN art. 11.3"
    ),
    "unlawful_representative": Refusal("Người đại diện không hợp pháp", "LKN art. 11.4"),
    "unsigned": Refusal("Đơn không có chữ ký hoặc điểm chỉ của người khiếu nại", "LKN art. 11.5"),
    "time_barred": Refusal("Hết thời hiệu, thời hạn khiếu nại mà không có lý do chính đáng", "LKN art. 11.6"),
    "already_settled": Refusal("Đã có quyết định giải quyết khiếu nại lần hai", "LKN art. 11.7"),
    "not_pursued": Refusal(
        "Đã đình chỉ giải quyết (rút đơn) mà người khiếu nại không tiếp tục khiếu nại", "LKN art. 11.8"
    ),
    "court_accepted": Refusal("Tòa án đã thụ lý hoặc đã giải quyết bằng bản án, quyết định", "LKN art. 11.9"),
}
# Denunciations: not accepted only when a condition of LTC art. 29 is unmet, naming it. "Time-barred" does
# not exist for a denunciation.
DENUNCIATION_REFUSALS = {
    "form_not_met": Refusal("Tố cáo không được thực hiện theo hình thức điều 22–23", "LTC art. 29.1.a"),
    "no_capacity": Refusal("Người tố cáo không có năng lực hành vi dân sự", "LTC art. 29.1.b"),
    "not_competent": Refusal("Không thuộc thẩm quyền giải quyết của cơ quan", "LTC art. 29.1.c"),
    "no_basis_to_identify": Refusal("Không có căn cứ xác định người vi phạm, hành vi vi phạm", "LTC art. 29.1.d"),
    "settled_complaint_without_new_evidence": Refusal(
        "Tố cáo việc giải quyết khiếu nại đã đúng pháp luật mà không có bằng chứng mới", "LTC art. 29.1.d"
    ),
}
PETITION_REFUSALS = {
    "not_competent": Refusal("Không thuộc thẩm quyền (trả lời, hướng dẫn)", "LTCD art. 28"),
    "ineligible": Refusal("Không đủ điều kiện xử lý", "TT 05/2021/TT-TTCP"),
}


# Refusals because the letter is not eligible for processing (TT 05/2021/TT-TTCP: no date, name, address or
# signature, or not in the form the law requires): such a letter is neither eligible nor within competence in 02/XLD
# (columns 6–7 and 14–17), whatever its kind. Every other refusal is of an eligible letter, within competence unless
# refused as outside it.
INELIGIBLE_REFUSALS = frozenset({"ineligible", "unsigned", "form_not_met"})


def refusals_for(kind: Kind) -> dict[str, Refusal]:
    """The grounds on which a letter of this kind may be refused (reject)."""
    if kind is Kind.complaint:
        return COMPLAINT_REFUSALS
    if kind is Kind.denunciation:
        return DENUNCIATION_REFUSALS
    return PETITION_REFUSALS


def store_reasons_for(kind: Kind) -> dict[str, str]:
    """Grounds for storing a letter without action (lưu đơn); a denunciation is never time-barred."""
    if kind is Kind.denunciation:
        return {k: v for k, v in STORE_REASONS.items() if k != "time_barred"}
    return STORE_REASONS


@dataclass(frozen=True)
class AcceptanceDocument:
    """The document that accepts (thụ lý) a case: its number and date are recorded, or it is not accepted."""

    name: str
    legal_basis: str


# LKN art. 27, 36: a complaint is accepted by an acceptance notice; LTC art. 29: a denunciation by an acceptance
# decision. Petitions and feedback have no statutory acceptance document.
ACCEPTANCE_DOCUMENTS = {
    Kind.complaint: AcceptanceDocument("thông báo thụ lý", "LKN art. 27, 36"),
    Kind.denunciation: AcceptanceDocument("quyết định thụ lý", "LTC art. 29"),
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
# Who withdraws a case of each kind (the authors); a withdrawal by each of them lets the head terminate it.
AUTHOR_ROLES = {
    Kind.complaint: "complainant",
    Kind.denunciation: "denouncer",
    Kind.petition: "petitioner",
    Kind.feedback: "petitioner",
}
WITHDRAWAL_LEGAL_BASIS = {
    Kind.complaint: "LKN art. 10, 11a (Law 136/2025); Decree 155/2026",
    Kind.denunciation: "LTC art. 33, 34",
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


def dialogue_required(kind: Kind, complaint_round: int, outcome: str) -> bool:
    """LKN art. 30: a first-round resolver holds a dialogue when the verification result differs from what the
    complainant asks (anything but "correct"); art. 39: the second round always does. Both before deciding."""
    if kind is not Kind.complaint:
        return False
    return complaint_round == 2 or outcome != "correct"


def outcomes_for(kind: Kind, complaint_round: int) -> set[str]:
    return OUTCOMES[(kind, complaint_round if kind is Kind.complaint else 1)]
