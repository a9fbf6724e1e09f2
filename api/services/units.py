"""Organisation units: create, update (with cycle check and subtree path rewrite), list, import."""

import csv
import io
from collections.abc import Callable
from datetime import date
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from api import clock
from api.errors import Code, DomainError
from api.models.unit import ReceptionRequirementOut, Unit, UnitIn, UnitOut, UnitUpdate
from api.pagination import by_id
from api.services import audit, search
from workflows import reception

MAX_IMPORT_ROWS = 5000


def to_public(unit: Unit, today: date) -> UnitOut:
    override = (unit.reception_days, unit.reception_period) if unit.reception_days and unit.reception_period else None
    rule = reception.requirement(unit.level, today, override)
    requirement = ReceptionRequirementOut(days=rule.days, per=rule.per, basis=rule.basis) if rule else None
    assert unit.id is not None
    return UnitOut(
        id=unit.id,
        code=unit.code,
        name=unit.name,
        level=unit.level,
        parent_id=unit.parent_id,
        remote_area=unit.remote_area,
        is_active=unit.is_active,
        reception_requirement=requirement,
    )


async def get(session: AsyncSession, unit_id: int) -> Unit:
    unit = await session.get(Unit, unit_id)
    if unit is None:
        raise DomainError(Code.no_such_unit)
    return unit


async def _parent(session: AsyncSession, parent_id: int | None) -> Unit | None:
    if parent_id is None:
        return None
    parent = await session.get(Unit, parent_id)
    if parent is None:
        raise DomainError(Code.parent_not_found, details={"field": "parent_id"})
    return parent


async def _ensure_code_free(session: AsyncSession, code: str) -> None:
    taken = await session.scalar(sa.select(Unit.id).where(sa.func.lower(Unit.code) == code.lower()))
    if taken is not None:
        raise DomainError(Code.duplicate_unit_code, details={"field": "code"})


async def _insert(session: AsyncSession, data: UnitIn) -> Unit:
    parent = await _parent(session, data.parent_id)
    unit = Unit(
        code=data.code,
        name=data.name,
        level=data.level.value,
        parent_id=data.parent_id,
        path="/",
        remote_area=data.remote_area,
        reception_days=data.reception_days,
        reception_period=data.reception_period.value if data.reception_period else None,
        is_active=True,
    )
    _check_reception(unit)
    session.add(unit)
    await session.flush()
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    return unit


def _check_reception(unit: Unit) -> None:
    """An override may raise a head's reception requirement, never set it below the law's."""
    if unit.reception_days and unit.reception_period:
        legal = reception.below_minimum(unit.level, clock.today(), unit.reception_days, unit.reception_period)
        if legal is not None:
            raise DomainError(
                Code.reception_below_minimum,
                details={
                    "field": "reception_days",
                    "minimum": {"days": legal.days, "per": legal.per, "basis": legal.basis},
                },
            )


async def create(session: AsyncSession, actor_id: int, data: UnitIn) -> Unit:
    await _ensure_code_free(session, data.code)
    unit = await _insert(session, data)
    audit.record(
        session,
        actor_id=actor_id,
        entity="unit",
        entity_id=unit.id,
        action="create",
        payload=data.model_dump(mode="json"),
    )
    await session.commit()
    return unit


async def _move(session: AsyncSession, unit: Unit, parent_id: int | None) -> None:
    parent = await _parent(session, parent_id)
    if parent is not None and parent.path.startswith(unit.path):
        raise DomainError(Code.unit_cycle, details={"field": "parent_id"})
    old_path = unit.path
    new_path = f"{parent.path if parent else '/'}{unit.id}/"
    await session.execute(
        sa.update(Unit)
        .where(Unit.path.startswith(old_path))
        .values(path=sa.func.concat(new_path, sa.func.substr(Unit.path, len(old_path) + 1)))
        .execution_options(synchronize_session=False)
    )
    unit.parent_id = parent_id
    unit.path = new_path


async def update(session: AsyncSession, actor_id: int, unit_id: int, data: UnitUpdate) -> Unit:
    unit = await session.get(Unit, unit_id, with_for_update=True)
    if unit is None:
        raise DomainError(Code.no_such_unit)
    changes = data.model_dump(mode="json", exclude_unset=True)
    if "parent_id" in changes and changes["parent_id"] != unit.parent_id:
        await _move(session, unit, changes["parent_id"])
    for key in ("name", "level", "remote_area", "reception_days", "reception_period", "is_active"):
        if key in changes:
            setattr(unit, key, changes[key])
    _check_reception(unit)
    unit.updated_at = sa.func.now()
    audit.record(session, actor_id=actor_id, entity="unit", entity_id=unit.id, action="update", payload=changes)
    await session.commit()
    await session.refresh(unit)
    return unit


async def list_units(
    session: AsyncSession,
    *,
    limit: int,
    cursor: str | None,
    level: str | None,
    parent_id: int | None,
    under: int | None,
    q: str | None,
) -> tuple[list[Unit], str | None]:
    stmt = sa.select(Unit)
    if level:
        stmt = stmt.where(Unit.level == level)
    if parent_id is not None:
        stmt = stmt.where(Unit.parent_id == parent_id)
    if under is not None:
        root = await get(session, under)
        stmt = stmt.where(Unit.path.startswith(root.path))
    if q:
        stmt = stmt.where(search.all_words(search.folded(Unit.name), q))
    return await by_id(Unit.id).fetch(session, stmt, limit=limit, cursor=cursor)


def parse_import(content_type: str, raw: bytes) -> list[dict[str, Any]]:
    """Rows of {code, name, level, parent_code, remote_area} from CSV or a JSON list."""
    import json

    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DomainError(Code.invalid_encoding) from None
    if "json" in content_type:
        try:
            rows = json.loads(text)
        except ValueError:
            raise DomainError(Code.malformed_json) from None
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise DomainError(Code.invalid_import)
    else:
        rows = list(csv.DictReader(io.StringIO(text)))
    if len(rows) > MAX_IMPORT_ROWS:
        raise DomainError(Code.too_many_rows)
    return rows


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in {"1", "true", "yes", "x", "có"}


async def import_rows(
    session: AsyncSession,
    actor_id: int,
    rows: list[dict[str, Any]],
    progress: Callable[[int], object] | None = None,
) -> tuple[int, int, list[Unit]]:
    """Upsert by code, all or nothing. Parents are referenced by code and may be earlier rows. `progress` is told
    of every row read (the command line's progress bar)."""
    created = updated = 0
    result: list[Unit] = []
    errors: list[dict[str, Any]] = []
    for index, row in enumerate(rows, start=1):
        if progress is not None:
            progress(1)
        parent_code = (row.get("parent_code") or "").strip() or None
        parent_id = None
        if parent_code:
            parent_id = await session.scalar(sa.select(Unit.id).where(Unit.code == parent_code))
            if parent_id is None:
                errors.append({"row": index, "field": "parent_code", "message": "parent not found"})
                continue
        try:
            data = UnitIn(
                code=str(row.get("code", "")).strip(),
                name=str(row.get("name", "")),
                level=row.get("level") or "commune",
                parent_id=parent_id,
                remote_area=_truthy(row.get("remote_area", row.get("remote", ""))),
            )
        except ValidationError as exc:
            errors.append(
                {
                    "row": index,
                    "field": ".".join(str(p) for p in exc.errors()[0]["loc"]),
                    "message": exc.errors()[0]["msg"],
                }
            )
            continue
        existing = await session.scalar(sa.select(Unit).where(Unit.code == data.code))
        if existing is None:
            unit = await _insert(session, data)
            created += 1
        else:
            unit = existing
            if data.parent_id != unit.parent_id:
                await _move(session, unit, data.parent_id)
            unit.name, unit.level, unit.remote_area = data.name, data.level.value, data.remote_area
            updated += 1
        result.append(unit)
    if errors:
        await session.rollback()
        raise DomainError(Code.invalid_import, details=errors[:100])
    audit.record(
        session,
        actor_id=actor_id,
        entity="unit",
        entity_id="import",
        action="import",
        payload={"created": created, "updated": updated},
    )
    await session.commit()
    return created, updated, result
