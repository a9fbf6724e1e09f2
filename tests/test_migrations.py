"""Alembic migrations are the schema: they match the models, and go down and up again cleanly."""

import asyncio
from collections.abc import Callable

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

import api.models  # noqa: F401
from alembic import command
from api.cli import ROOT
from api.models.base import include_object
from tests.pg import PgServer


def _config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["url"] = url
    config.attributes["configure_logging"] = False
    return config


def _sql(url: str, statement: str) -> list:
    """One statement in its own transaction, at whatever revision the database is; its rows, if any."""

    async def run() -> list:
        engine = create_async_engine(url)
        async with engine.begin() as conn:
            result = await conn.execute(text(statement))
            rows = result.all() if result.returns_rows else []
        await engine.dispose()
        return rows

    return asyncio.run(run())


def _diff(url: str) -> list:
    async def run() -> list:
        engine = create_async_engine(url)
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True, "include_object": include_object}),
                    SQLModel.metadata,
                )
            )
        await engine.dispose()
        return diff

    return asyncio.run(run())


def test_models_and_migrations_agree_and_downgrade_round_trips(pg_server: PgServer) -> None:
    name = pg_server.create_database("tiepdan_migr")
    url = pg_server.url(name)
    try:
        config = _config(url)
        command.upgrade(config, "head")
        assert _diff(url) == []
        command.downgrade(config, "base")
        command.upgrade(config, "head")
        assert _diff(url) == []
    finally:
        pg_server.drop_database(name)


def _unit_and_desk_officer(sql: Callable[[str], list]) -> None:
    """The unit (id 1) and the desk officer (id 1) a migration test's cases need."""
    sql("INSERT INTO units (code, name, level, path) VALUES ('U', 'Đơn vị', 'province', '/1/')")
    sql(
        "INSERT INTO users (username, password_hash, full_name, unit_id, roles) "
        "VALUES ('u', 'x', 'U', 1, '{desk_officer}')"
    )


def test_revision_0004_seals_existing_denouncers_and_downgrade_restores_them(pg_server: PgServer, monkeypatch) -> None:
    from api.vault import Vault
    from tests.conftest import SETTINGS

    monkeypatch.setenv("IDENTITY_KEYS", SETTINGS.identity_keys or "")
    name = pg_server.create_database("tiepdan_seal")
    url = pg_server.url(name)

    def sql(statement: str) -> list:
        return _sql(url, statement)

    try:
        config = _config(url)
        command.upgrade(config, "0003")
        _unit_and_desk_officer(sql)
        sql(
            "INSERT INTO cases (tracking_code, access_key_hash, kind, field, channel, title, content, "
            "received_at, receiving_unit_id, competent_unit_id, received_by_id, status) VALUES "
            "('T1', 'h', 'denunciation', 'land', 'post', 't', 'c', '2026-11-02', 1, 1, 1, 'received')"
        )
        sql(
            "INSERT INTO case_parties (case_id, role, full_name, id_number) VALUES "
            "(1, 'denouncer', 'Lò Thị Bình', '015190004321'), (1, 'accused', 'Cán bộ Y', NULL)"
        )
        command.upgrade(config, "head")
        rows = sql("SELECT role, full_name, id_number, sealed FROM case_parties ORDER BY id")
        assert rows[0].full_name == "" and rows[0].id_number is None
        assert Vault(tuple(SETTINGS.identity_key_list())).open(rows[0].sealed)["id_number"] == "015190004321"
        assert rows[1].full_name == "Cán bộ Y" and rows[1].sealed is None
        command.downgrade(config, "0003")
        rows = sql("SELECT full_name, id_number FROM case_parties ORDER BY id")
        assert (rows[0].full_name, rows[0].id_number) == ("Lò Thị Bình", "015190004321")
    finally:
        pg_server.drop_database(name)


def test_revision_0018_moves_existing_alert_dates_into_case_alerts_and_back(pg_server: PgServer) -> None:
    """An existing register keeps its sweep: the alert dates of open cases are copied into case_alerts (closed
    cases, with none, get no row), the trigger follows later changes, and a downgrade restores the index."""
    name = pg_server.create_database("tiepdan_alerts")
    url = pg_server.url(name)

    def sql(statement: str) -> list:
        return _sql(url, statement)

    try:
        config = _config(url)
        command.upgrade(config, "0017")
        _unit_and_desk_officer(sql)
        sql(
            "INSERT INTO cases (tracking_code, access_key_hash, kind, field, channel, title, content, received_at, "
            "receiving_unit_id, competent_unit_id, received_by_id, status, next_alert_date) VALUES "
            "('T1', 'h', 'complaint', 'land', 'post', 't', 'c', '2026-11-02', 1, 1, 1, 'received', '2026-11-12'), "
            "('T2', 'h', 'complaint', 'land', 'post', 't', 'c', '2026-11-02', 1, 1, 1, 'closed', NULL)"
        )
        command.upgrade(config, "head")
        assert [tuple(r) for r in sql("SELECT case_id, next_alert_date::text FROM case_alerts")] == [(1, "2026-11-12")]
        sql("UPDATE cases SET next_alert_date = '2026-11-20' WHERE id = 2")
        sql("UPDATE cases SET next_alert_date = NULL WHERE id = 1")
        assert [tuple(r) for r in sql("SELECT case_id, next_alert_date::text FROM case_alerts")] == [(2, "2026-11-20")]
        assert sql("SELECT reloptions FROM pg_class WHERE relname = 'cases'")[0][0] == ["fillfactor=85"]
        command.downgrade(config, "0017")
        assert sql("SELECT to_regclass('case_alerts') IS NULL, to_regclass('ix_cases_next_alert_date') IS NOT NULL")[
            0
        ] == (True, True)
    finally:
        pg_server.drop_database(name)
