"""Shared metadata (constraint naming convention) and column helpers."""

import sqlalchemy as sa
from sqlmodel import SQLModel

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def created_at_column() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


# Generated search columns live only in migrations (0006): never loaded into objects, only searched.
MIGRATION_ONLY_COLUMNS = frozenset({"search_vector"})


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Alembic autogenerate filter: expression indexes (named ixx_*, for unaccent/trigram/full-text search)
    and generated search columns exist only in migrations, since the models cannot express them."""
    if type_ == "index" and name is not None and name.startswith("ixx_"):
        return False
    return not (type_ == "column" and name in MIGRATION_ONLY_COLUMNS)
