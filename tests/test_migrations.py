"""Alembic migrations are the schema: they match the models, and go down and up again cleanly."""

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
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


def _diff(url: str) -> list:
    async def run() -> list:
        engine = create_async_engine(url)
        async with engine.connect() as conn:
            diff = await conn.run_sync(lambda sync: compare_metadata(
                MigrationContext.configure(sync, opts={"compare_type": True, "include_object": include_object}),
                SQLModel.metadata))
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
