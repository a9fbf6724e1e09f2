"""Demo data: Lào Cai province, its inspectorate and three agencies, its 99 communes and wards
(official 2025 codes from shared/data), and a demo officer for every role. Idempotent."""

import csv
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api.models.unit import Unit
from api.models.user import Role, User
from api.security import Passwords

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
    DemoOfficer("tinh.tiepdan", "Nguyễn Văn Tiếp", PROVINCE_CODE, (Role.desk_officer,)),
    DemoOfficer("tinh.xacminh", "Trần Thị Minh", PROVINCE_CODE, (Role.handler,)),
    DemoOfficer("tinh.chutich", "Lê Văn Chủ", PROVINCE_CODE, (Role.unit_head,)),
    DemoOfficer("thanhtra", "Phạm Thị Thanh", "15-TTT", (Role.inspector,)),
    DemoOfficer("xa.tiepdan", "Hoàng Văn Dân", "04465", (Role.desk_officer,)),
    DemoOfficer("xa.xacminh", "Vàng A Sử", "04465", (Role.handler,)),
    DemoOfficer("xa.chutich", "Giàng Seo Chư", "04465", (Role.unit_head,)),
]


def read_communes(path: Path = COMMUNES_CSV) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


async def seed_demo(session: AsyncSession, passwords: Passwords) -> bool:
    """Insert the demo data unless the province already exists. Returns True when it seeded."""
    await session.execute(sa.text("SELECT pg_advisory_xact_lock(7261002)"))
    if await session.scalar(sa.select(Unit.id).where(Unit.code == PROVINCE_CODE)) is not None:
        await session.rollback()
        return False
    units: dict[str, Unit] = {}

    async def add(code: str, name: str, level: str, parent: Unit | None, remote: bool = False) -> None:
        unit = Unit(code=code, name=name, level=level, parent_id=parent.id if parent else None, path="/",
                    remote_area=remote, is_active=True)
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
    password_hash = passwords.hash(DEMO_PASSWORD)
    for officer in DEMO_OFFICERS:
        exists = await session.scalar(sa.select(User.id).where(User.username == officer.username))
        if exists is None:
            unit_id = units[officer.unit_code].id
            assert unit_id is not None
            session.add(User(username=officer.username, password_hash=password_hash, full_name=officer.full_name,
                             unit_id=unit_id, roles=[r.value for r in officer.roles], is_active=True))
    await session.commit()
    return True
