"""Demo data: Lào Cai province, its inspectorate and three agencies, its 99 communes and wards
(official 2025 codes from shared/data), and a demo officer for every role. Idempotent."""

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api import locks
from api.models.unit import Unit
from api.models.user import Role, User
from api.security import Passwords
from api.settings import Settings

COMMUNES_CSV = Path(__file__).parent / "data" / "lao-cai-communes-2025.csv"
DEMO_PASSWORD = "LaoCai@2026demo"  # noqa: S105 - documented demo accounts only
PROVINCE_CODE = "15"

AGENCIES = [
    ("15-TTT", "Thanh tra tỉnh Lào Cai", "inspectorate"),
    ("15-SNV", "Sở Nội vụ tỉnh Lào Cai", "agency"),
    ("15-STP", "Sở Tư pháp tỉnh Lào Cai", "agency"),
    ("15-BDT", "Ban Dân tộc tỉnh Lào Cai", "agency"),
]


@dataclass(frozen=True)
class DemoOfficer:
    username: str
    full_name: str
    unit_code: str
    roles: tuple[Role, ...]


DEMO_OFFICERS = [
    DemoOfficer("admin", "Quản trị hệ thống", PROVINCE_CODE, (Role.admin,)),
    # A second administrator: grants of roles through the API wait for another administrator's approval.
    DemoOfficer("admin2", "Quản trị viên phê duyệt", PROVINCE_CODE, (Role.admin,)),
    DemoOfficer("tinh.tiepdan", "Nguyễn Văn Tiếp", PROVINCE_CODE, (Role.desk_officer,)),
    DemoOfficer("tinh.xacminh", "Trần Thị Minh", PROVINCE_CODE, (Role.handler,)),
    DemoOfficer("tinh.chutich", "Lê Văn Chủ", PROVINCE_CODE, (Role.unit_head,)),
    DemoOfficer("thanhtra", "Phạm Thị Thanh", "15-TTT", (Role.inspector,)),
    DemoOfficer("xa.tiepdan", "Hoàng Văn Dân", "04465", (Role.desk_officer,)),
    DemoOfficer("xa.xacminh", "Vàng A Sử", "04465", (Role.handler,)),
    DemoOfficer("xa.chutich", "Giàng Seo Chư", "04465", (Role.unit_head,)),
    # The chief inspector (Chánh Thanh tra: the inspectorate's head approves inspection plans and signs conclusions)
    # and an officer of Sở Nội vụ, who reads the inspectorate's six-month and annual reports (issue 25).
    DemoOfficer("thanhtra.truong", "Đỗ Văn Trưởng", "15-TTT", (Role.unit_head,)),
    DemoOfficer("noivu", "Lý Thị Nội", "15-SNV", (Role.unit_head,)),
]


def read_communes(path: Path = COMMUNES_CSV) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


async def seed_demo(session: AsyncSession, passwords: Passwords) -> bool:
    """Insert the demo data unless the province already exists. Returns True when it seeded."""
    await locks.hold(session, locks.Lock.seed)
    if await session.scalar(sa.select(Unit.id).where(Unit.code == PROVINCE_CODE)) is not None:
        await session.rollback()  # never a demo account (known password) in a database seeded, or set up, before
        return False
    units: dict[str, Unit] = {}

    async def add(code: str, name: str, level: str, parent: Unit | None, remote: bool = False) -> None:
        unit = Unit(
            code=code,
            name=name,
            level=level,
            parent_id=parent.id if parent else None,
            path="/",
            remote_area=remote,
            is_active=True,
        )
        session.add(unit)
        await session.flush()
        unit.path = f"{parent.path if parent else '/'}{unit.id}/"
        units[code] = unit

    await add(PROVINCE_CODE, "Ủy ban nhân dân tỉnh Lào Cai", "province", None)
    province = units[PROVINCE_CODE]
    for code, name, level in AGENCIES:
        await add(code, name, level, province)
    for row in read_communes():
        await add(row["code"], row["name"], "commune", province, remote=row["remote"].strip() == "1")
    await _add_officers(session, passwords, units)
    await session.commit()
    return True


async def _add_officers(session: AsyncSession, passwords: Passwords, units: dict[str, Unit]) -> None:
    """The demo accounts, made directly (the operator's act: no grant waits for approval), unless they exist."""
    existing = set(await session.scalars(sa.select(User.username)))
    missing = [o for o in DEMO_OFFICERS if o.username not in existing and o.unit_code in units]
    if not missing:
        return
    password_hash = passwords.hash(DEMO_PASSWORD)
    for officer in missing:
        unit_id = units[officer.unit_code].id
        assert unit_id is not None
        session.add(
            User(
                username=officer.username,
                password_hash=password_hash,
                full_name=officer.full_name,
                unit_id=unit_id,
                roles=[r.value for r in officer.roles],
                is_active=True,
            )
        )
    await session.flush()


async def seed_demo_cases(session: AsyncSession, settings: Settings, today: date) -> int:
    """A few cases of each kind, in several statuses, so a new user sees the workflow. Idempotent."""
    from datetime import timedelta

    from api.auth import Officer
    from api.deps import load_officer
    from api.models.cases import Case
    from api.models.cases.schemas import ActionIn, CaseIn, CaseOut
    from api.services import calendar as calendar_service
    from api.services.cases import actions as case_actions
    from api.services.cases import intake
    from api.vault import vault_for
    from workflows.cases import Action

    if await session.scalar(sa.select(Case.id).where(Case.idempotency_key.like("demo-%")).limit(1)) is not None:
        return 0

    async def principal(username: str) -> Officer:
        user_id = await session.scalar(sa.select(User.id).where(User.username == username))
        assert user_id is not None
        officer = await load_officer(session, user_id)
        assert officer is not None
        return officer

    env = await calendar_service.env(session, settings)
    province_desk, commune_desk = await principal("tinh.tiepdan"), await principal("xa.tiepdan")
    head = await principal("tinh.chutich")
    khao_mang = commune_desk.unit_id
    citizen = {
        "role": "complainant",
        "full_name": "Giàng A Lử",
        "id_number": "015088001122",
        "phone": "0912000111",
        "address": "Thôn Khao Mang",
    }
    demos = [
        (
            commune_desk,
            "demo-1",
            dict(
                kind="complaint",
                field="land",
                channel="in_person",
                received_at=today - timedelta(5),
                title="Khiếu nại quyết định thu hồi đất nương",
                content="Hộ gia đình không đồng ý mức bồi thường đất nương rẫy khi thu hồi đất.",
                parties=[citizen],
            ),
        ),
        (
            province_desk,
            "demo-2",
            dict(
                kind="denunciation",
                field="corruption",
                channel="post",
                received_at=today - timedelta(20),
                title="Tố cáo cán bộ nhận tiền khi cấp sổ đỏ",
                content="Tố cáo cán bộ địa chính yêu cầu nộp tiền ngoài quy định.",
                parties=[
                    {
                        "role": "denouncer",
                        "full_name": "Lò Văn Pha",
                        "id_number": "015085003344",
                        "address": "Phường Cam Đường",
                    },
                    {"role": "accused", "full_name": "Cán bộ địa chính X"},
                ],
            ),
        ),
        (
            province_desk,
            "demo-3",
            dict(
                kind="petition",
                field="policy",
                channel="reception_session",
                received_at=today - timedelta(30),
                title="Kiến nghị hỗ trợ hộ nghèo",
                content="Đề nghị xem xét chế độ hỗ trợ nhà ở cho hộ nghèo.",
                signer_count=6,
                parties=[{"role": "petitioner", "full_name": "Sùng Thị Mai"}],
            ),
        ),
        (
            province_desk,
            "demo-4",
            dict(
                kind="complaint",
                field="compensation",
                channel="in_person",
                received_at=today - timedelta(2),
                competent_unit_id=khao_mang,
                title="Khiếu nại bồi thường giải phóng mặt bằng đường liên xã",
                content="Chưa nhận tiền bồi thường giải phóng mặt bằng.",
                parties=[citizen],
            ),
        ),
        (
            commune_desk,
            "demo-5",
            dict(
                kind="feedback",
                field="other",
                channel="mobile",
                received_at=today - timedelta(1),
                title="Phản ánh đường vào bản bị sạt lở",
                content="Đường vào bản bị sạt lở sau mưa lớn, đề nghị khắc phục.",
            ),
        ),
    ]
    made: dict[str, CaseOut] = {}
    for who, key, body in demos:
        made[key] = await intake.create(
            session, who, settings, CaseIn(**body), today=today, env=env, options=intake.Options(idempotency_key=key)
        )
    den = made["demo-2"]
    vault = vault_for(settings)
    den = await case_actions.perform(
        session,
        head,
        den.id,
        Action.accept,
        den.version,
        ActionIn(effective_date=today - timedelta(15), decision_number="15/QĐ-TLTC"),
        today=today,
        env=env,
        vault=vault,
    )
    handler = await principal("tinh.xacminh")
    await case_actions.perform(
        session,
        head,
        den.id,
        Action.assign,
        den.version,
        ActionIn(handler_ids=[handler.id]),
        today=today,
        env=env,
        vault=vault,
    )
    await _seed_reception(session, settings, env, today, commune_desk, province_desk)
    return len(demos)


async def _seed_reception(
    session: AsyncSession, settings: Settings, env: Any, today: date, commune_desk: Any, province_desk: Any
) -> None:
    """The commune chair's last reception day (held, concluded, two register entries) and the next ones of the
    commune and the province on the public schedule."""
    from datetime import datetime, time, timedelta

    from api import clock
    from api.models.reception import Conclusion, EntryIn, SessionIn
    from api.services import reception

    def at(day: date, hour: int) -> datetime:
        return datetime.combine(day, time(hour), tzinfo=clock.VN)

    held_day = env.cal.roll_forward(today - timedelta(days=10))
    while held_day >= today:
        held_day -= timedelta(days=1)
    held = await reception.create_sitting(
        session,
        commune_desk,
        SessionIn(
            unit_id=commune_desk.unit_id,
            kind="periodic",
            mode="direct",
            in_person=True,
            host_title="Chủ tịch UBND xã",
            status="held",
            starts_at=at(held_day, 8),
            ends_at=at(held_day, 11),
            location="Trụ sở UBND xã",
            conclusion=Conclusion(
                number="01/TB-UBND",
                date=held_day,
                text="Giao công chức địa chính kiểm tra hiện trạng, trả lời công dân.",
            ),
        ),
        env=env,
        now=clock.now(),
    )
    for body in (
        {
            "persons": [{"full_name": "Giàng A Lử", "address": "Thôn Khao Mang", "id_number": "015088001122"}],
            "kind": "complaint",
            "content": "Khiếu nại việc đo đạc lại ranh giới đất nương.",
            "handling": "within_competence",
            "create_case": {"title": "Khiếu nại đo đạc ranh giới đất nương", "field": "land"},
        },
        {
            "persons": [{"full_name": "Sùng Thị Mai", "address": "Bản Sín Chải"}],
            "kind": "petition",
            "content": "Kiến nghị sửa cầu treo qua suối.",
            "handling": "guided",
            "guided_to": "Sở Xây dựng tỉnh Lào Cai",
            "people_count": 6,
            "representatives": [{"full_name": "Sùng A Páo"}],
        },
    ):
        await reception.add_entry(session, commune_desk, settings, held.id, EntryIn(**body), env=env, today=today)
    for who, days, title in ((commune_desk, 7, "Chủ tịch UBND xã"), (province_desk, 12, "Chủ tịch UBND tỉnh")):
        day = env.cal.roll_forward(today + timedelta(days=days))
        await reception.create_sitting(
            session,
            who,
            SessionIn(
                unit_id=who.unit_id,
                kind="periodic",
                mode="direct",
                in_person=True,
                host_title=title,
                starts_at=at(day, 8),
                ends_at=at(day, 11),
                location="Phòng tiếp công dân",
            ),
            env=env,
            now=clock.now(),
        )
