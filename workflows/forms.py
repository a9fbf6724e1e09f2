"""The inspectorate's report forms as data: their columns (official numbers, Vietnamese labels, the grouped headers
they sit under) and the identities between columns that every row must satisfy. Layout after the form set of
Circulars 02/2021 and 01/2024 of the Government Inspectorate, which 06/2025 continues (LEGAL.md: its own numbering
is unconfirmed, so the numbering here is data)."""

from collections.abc import Collection, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    number: int
    key: str
    label: str
    groups: tuple[str, ...] = ()  # the header groups above the label, outermost first
    money: bool = False  # million VND / m², shown with decimals


@dataclass(frozen=True)
class Derivation:
    """A column an identity gives from others: the sum of `plus` less the sum of `minus`."""

    column: str
    plus: tuple[str, ...]
    minus: tuple[str, ...] = ()

    def value(self, values: Mapping[str, float]) -> float:
        return sum(values[k] for k in self.plus) - sum(values[k] for k in self.minus)


@dataclass(frozen=True)
class Form:
    code: str
    official: str
    title: str
    unit_basis: str  # whose figures a unit's row holds
    columns: tuple[Column, ...]
    identities: tuple[tuple[str, tuple[str, ...]], ...]  # column == sum of columns

    def column_keys(self) -> list[str]:
        return [c.key for c in self.columns]

    def derivations(self, counted: Collection[str]) -> tuple[Derivation, ...]:
        """How the columns that are not `counted` follow from the identities, in an order where each needs only
        columns counted or given before it: an identity with one unknown column gives it (the total as the sum of the
        parts, a part as the total less the other parts). A column that no identity reaches is not in the result."""
        known = set(counted)
        steps: list[Derivation] = []
        progress = True
        while progress:
            progress = False
            for total, parts in self.identities:
                unknown = [k for k in (total, *parts) if k not in known]
                if len(unknown) != 1:
                    continue
                column = unknown[0]
                if column == total:
                    steps.append(Derivation(column, parts))
                else:
                    steps.append(Derivation(column, (total,), tuple(p for p in parts if p != column)))
                known.add(column)
                progress = True
        return tuple(steps)

    def broken(self, values: Mapping[str, float]) -> list[str]:
        """The identities a row of figures breaks (none for a correct row)."""
        return [
            f"{total} != {' + '.join(parts)}"
            for total, parts in self.identities
            if round(values[total] - sum(values[p] for p in parts), 6) != 0
        ]


def _block(prefix: str, group: tuple[str, ...], start: int, sessions: bool) -> list[Column]:
    cols = []
    n = start
    if sessions:
        cols.append(Column(n, f"{prefix}_sessions", "Số kỳ tiếp", group))
        n += 1
    matters = (*group, "Số vụ việc")
    groups = (*group, "Đoàn đông người")
    for key, label, g in (
        ("visits", "Lượt", group),
        ("people", "Người", group),
        ("first", "Tiếp lần đầu", matters),
        ("repeat", "Tiếp nhiều lần", matters),
        ("groups", "Số đoàn", groups),
        ("group_people", "Người", groups),
        ("group_first", "Vụ việc tiếp lần đầu", groups),
        ("group_repeat", "Vụ việc tiếp nhiều lần", groups),
    ):
        cols.append(Column(n, f"{prefix}_{key}", label, g))
        n += 1
    return cols


_REG = ("Tiếp thường xuyên",)
_HEAD = ("Thủ trưởng tiếp định kỳ và đột xuất", "Trực tiếp tiếp")
_DEL = ("Thủ trưởng tiếp định kỳ và đột xuất", "Ủy quyền tiếp")

TCD = Form(
    code="tcd",
    official="Biểu số 01/TCD",
    title="Tổng hợp kết quả tiếp công dân",
    unit_basis="the unit whose register records the visit",
    columns=(
        Column(1, "total_visits", "Lượt", ("Tổng số",)),
        Column(2, "total_people", "Người", ("Tổng số",)),
        Column(3, "total_matters", "Vụ việc", ("Tổng số",)),
        *_block("reg", _REG, 4, sessions=False),
        *_block("head", _HEAD, 12, sessions=True),
        *_block("del", _DEL, 21, sessions=True),
    ),
    identities=(
        ("total_visits", ("reg_visits", "head_visits", "del_visits")),
        ("total_people", ("reg_people", "head_people", "del_people")),
        ("total_matters", ("reg_first", "reg_repeat", "head_first", "head_repeat", "del_first", "del_repeat")),
    ),
)

FIELD_COLUMNS = (
    ("land", "Đất đai, nhà ở"),
    ("compensation", "Bồi thường, hỗ trợ, GPMB"),
    ("policy", "Chế độ, chính sách"),
    ("civil_service", "Công chức, công vụ"),
    ("admin_other", "Hành chính khác"),
    ("judicial", "Tư pháp"),
    ("corruption", "Tham nhũng"),
    ("party", "Đảng"),
    ("other", "Lĩnh vực khác"),
)
_RECV = ("Số đơn tiếp nhận",)
_ELIG = ("Đơn, vụ việc đủ điều kiện xử lý",)
_IN = ("Kết quả xử lý", "Thuộc thẩm quyền")
_OUT = ("Kết quả xử lý", "Không thuộc thẩm quyền")
XLD = Form(
    code="xld",
    official="Biểu số 02/XLD",
    title="Tổng hợp kết quả xử lý đơn",
    unit_basis="the unit that received and processes the letter",
    columns=(
        Column(1, "total", "Tổng số đơn", _RECV),
        Column(2, "carried", "Kỳ trước chuyển sang", _RECV),
        Column(3, "received", "Tiếp nhận trong kỳ", _RECV),
        Column(4, "processed", "Đã xử lý", ("Tình hình xử lý",)),
        Column(5, "unprocessed", "Chưa xử lý (chuyển kỳ sau)", ("Tình hình xử lý",)),
        Column(6, "eligible_letters", "Số đơn", _ELIG),
        Column(7, "eligible_matters", "Số vụ việc", _ELIG),
        Column(8, "complaint", "Khiếu nại", (*_ELIG, "Phân loại theo nội dung")),
        Column(9, "denunciation", "Tố cáo", (*_ELIG, "Phân loại theo nội dung")),
        Column(10, "petition", "Kiến nghị, phản ánh", (*_ELIG, "Phân loại theo nội dung")),
        Column(11, "settled_once", "Đã giải quyết lần đầu", (*_ELIG, "Theo tình trạng giải quyết")),
        Column(12, "settled_more", "Đã giải quyết nhiều lần", (*_ELIG, "Theo tình trạng giải quyết")),
        Column(13, "not_settled", "Chưa được giải quyết", (*_ELIG, "Theo tình trạng giải quyết")),
        Column(14, "competent", "Tổng", _IN),
        Column(15, "competent_complaint", "Khiếu nại", _IN),
        Column(16, "competent_denunciation", "Tố cáo", _IN),
        Column(17, "competent_petition", "Kiến nghị, phản ánh", _IN),
        Column(18, "outside", "Tổng", _OUT),
        Column(19, "guided", "Hướng dẫn", _OUT),
        Column(20, "transferred", "Chuyển đơn", _OUT),
        Column(21, "urged", "Đôn đốc giải quyết", _OUT),
        Column(22, "replies", "Văn bản trả lời, hướng dẫn", ("Kết quả xử lý",)),
        *(
            Column(23 + i, f"field_{key}", label, (*_ELIG, "Phân loại theo lĩnh vực"))
            for i, (key, label) in enumerate(FIELD_COLUMNS)
        ),
    ),
    identities=(
        ("total", ("carried", "received")),
        ("total", ("processed", "unprocessed")),
        ("eligible_letters", ("complaint", "denunciation", "petition")),
        ("eligible_letters", ("settled_once", "settled_more", "not_settled")),
        ("eligible_letters", tuple(f"field_{k}" for k, _ in FIELD_COLUMNS)),
        ("competent", ("competent_complaint", "competent_denunciation", "competent_petition")),
        ("outside", ("guided", "transferred", "urged")),
    ),
)

_TOTAL = ("Vụ việc thuộc thẩm quyền",)
_SETTLED = ("Đã giải quyết",)
_MONEY = ("Kiến nghị thu hồi cho Nhà nước",)
_RETURN = ("Trả lại cho tổ chức, cá nhân",)
_RIGHTS = ("Khôi phục quyền lợi",)
_SANCT = ("Kiến nghị xử lý",)
_TIME = ("Thời hạn giải quyết",)


def _remedy_columns(start: int) -> list[Column]:
    spec = [
        ("money_to_state", "Tiền (triệu đồng)", _MONEY, True),
        ("land_to_state", "Đất (m²)", _MONEY, True),
        ("money_to_citizens", "Tiền (triệu đồng)", _RETURN, True),
        ("land_to_citizens", "Đất (m²)", _RETURN, True),
        ("organisations_restored", "Tổ chức", _RIGHTS, False),
        ("people_restored", "Cá nhân", _RIGHTS, False),
        ("people_sanctioned", "Xử lý hành chính (người)", _SANCT, False),
        ("officials_sanctioned", "Trong đó cán bộ, công chức", _SANCT, False),
        ("referred_cases", "Chuyển cơ quan điều tra (vụ)", _SANCT, False),
        ("referred_people", "Chuyển cơ quan điều tra (người)", _SANCT, False),
    ]
    return [Column(start + i, k, label, g, money) for i, (k, label, g, money) in enumerate(spec)]


GQKN = Form(
    code="gqkn",
    official="Biểu số 03/GQKN",
    title="Tổng hợp kết quả giải quyết khiếu nại",
    unit_basis="the unit competent to settle the complaint",
    columns=(
        Column(1, "total", "Tổng số", _TOTAL),
        Column(2, "carried", "Kỳ trước chuyển sang", _TOTAL),
        Column(3, "new", "Thụ lý mới", _TOTAL),
        Column(4, "settled", "Tổng", _SETTLED),
        Column(5, "by_decision", "Bằng quyết định", _SETTLED),
        Column(6, "withdrawn", "Rút đơn thông qua giải thích", _SETTLED),
        Column(7, "terminated", "Đình chỉ vì lý do khác", _SETTLED),
        Column(8, "first_correct", "Đúng", ("Kết quả lần đầu",)),
        Column(9, "first_partly", "Đúng một phần", ("Kết quả lần đầu",)),
        Column(10, "first_wrong", "Sai", ("Kết quả lần đầu",)),
        Column(11, "second_upheld", "Công nhận quyết định lần đầu", ("Kết quả lần hai",)),
        Column(12, "second_changed", "Hủy, sửa quyết định lần đầu", ("Kết quả lần hai",)),
        *_remedy_columns(13),
        Column(23, "on_time", "Đúng hạn", _TIME),
        Column(24, "late", "Quá hạn", _TIME),
        Column(25, "pending", "Chưa giải quyết xong (chuyển kỳ sau)", ()),
    ),
    identities=(
        ("total", ("carried", "new")),
        ("total", ("settled", "pending")),
        ("settled", ("by_decision", "withdrawn", "terminated")),
        ("by_decision", ("first_correct", "first_partly", "first_wrong", "second_upheld", "second_changed")),
        ("settled", ("on_time", "late")),
    ),
)

GQTC = Form(
    code="gqtc",
    official="Biểu số 04/GQTC",
    title="Tổng hợp kết quả giải quyết tố cáo",
    unit_basis="the unit competent to settle the denunciation",
    columns=(
        Column(1, "total", "Tổng số", _TOTAL),
        Column(2, "carried", "Kỳ trước chuyển sang", _TOTAL),
        Column(3, "new", "Thụ lý mới", _TOTAL),
        Column(4, "repeat", "Trong đó tố cáo tiếp", _TOTAL),
        Column(5, "settled", "Tổng", _SETTLED),
        Column(6, "by_conclusion", "Bằng kết luận", _SETTLED),
        Column(7, "withdrawn", "Rút toàn bộ nội dung tố cáo", _SETTLED),
        Column(8, "terminated", "Đình chỉ vì lý do khác", _SETTLED),
        Column(9, "correct", "Đúng", ("Kết quả",)),
        Column(10, "partly", "Đúng một phần", ("Kết quả",)),
        Column(11, "false", "Sai sự thật", ("Kết quả",)),
        *_remedy_columns(12),
        Column(22, "on_time", "Đúng hạn", _TIME),
        Column(23, "late", "Quá hạn", _TIME),
        Column(24, "pending", "Chưa giải quyết xong (chuyển kỳ sau)", ()),
    ),
    identities=(
        ("total", ("carried", "new")),
        ("total", ("settled", "pending")),
        ("settled", ("by_conclusion", "withdrawn", "terminated")),
        ("by_conclusion", ("correct", "partly", "false")),
        ("settled", ("on_time", "late")),
    ),
)

_ENF = ("Quyết định, kết luận phải tổ chức thực hiện",)
KQTH = Form(
    code="kqth",
    official="Biểu số 05/KQTH",
    title="Tổng hợp kết quả thực hiện quyết định giải quyết khiếu nại, kết luận nội dung tố cáo",
    unit_basis="the unit that decided",
    columns=(
        Column(1, "total", "Tổng số", _ENF),
        Column(2, "carried", "Kỳ trước chuyển sang", _ENF),
        Column(3, "new", "Trong kỳ", _ENF),
        Column(4, "enforced", "Đã thực hiện xong", ("Kết quả thực hiện",)),
        Column(5, "pending", "Chưa thực hiện xong", ("Kết quả thực hiện",)),
        Column(6, "money_to_state_due", "Phải thu (triệu đồng)", ("Thu hồi cho Nhà nước", "Tiền"), True),
        Column(7, "money_to_state_done", "Đã thu (triệu đồng)", ("Thu hồi cho Nhà nước", "Tiền"), True),
        Column(8, "land_to_state_due", "Phải thu (m²)", ("Thu hồi cho Nhà nước", "Đất"), True),
        Column(9, "land_to_state_done", "Đã thu (m²)", ("Thu hồi cho Nhà nước", "Đất"), True),
        Column(10, "money_to_citizens_due", "Phải trả (triệu đồng)", ("Trả lại cho tổ chức, cá nhân", "Tiền"), True),
        Column(11, "money_to_citizens_done", "Đã trả (triệu đồng)", ("Trả lại cho tổ chức, cá nhân", "Tiền"), True),
        Column(12, "land_to_citizens_due", "Phải trả (m²)", ("Trả lại cho tổ chức, cá nhân", "Đất"), True),
        Column(13, "land_to_citizens_done", "Đã trả (m²)", ("Trả lại cho tổ chức, cá nhân", "Đất"), True),
        Column(14, "sanction_due", "Phải xử lý (người)", ("Xử lý hành chính",)),
        Column(15, "sanction_done", "Đã xử lý (người)", ("Xử lý hành chính",)),
        Column(16, "prosecute_due", "Kiến nghị (vụ)", ("Khởi tố",)),
        Column(17, "prosecuted_cases", "Đã khởi tố (vụ)", ("Khởi tố",)),
        Column(18, "prosecuted_people", "Đã khởi tố (người)", ("Khởi tố",)),
    ),
    identities=(("total", ("carried", "new")), ("total", ("enforced", "pending"))),
)

FORMS: dict[str, Form] = {f.code: f for f in (TCD, XLD, GQKN, GQTC, KQTH)}
