"""The inspectorate's form and export requests have their own limit (STATS_PER_MINUTE / STATS_BURST), separate from
text search's (EXPENSIVE_*), counted only when figures are computed: with the service's default limits (not the
suite's relaxed ones) the inspector pulls every form of every month, quarter, half, nine months and the year, in
every format, without a 429."""

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.app import create_app
from api.settings import Settings
from tests.conftest import SETTINGS, seeded_database
from tests.helpers import V1
from tests.pg import PgServer

LIMITS = ("expensive_per_minute", "expensive_burst", "stats_per_minute", "stats_burst", "stats_concurrency")
YEAR = 2025  # every period of it is over: its forms are kept once made
PERIODS = [
    *(f"{YEAR}-{m:02d}" for m in range(1, 13)),
    *(f"{YEAR}-Q{q}" for q in range(1, 5)),
    f"{YEAR}-H1",
    f"{YEAR}-9M",
    f"{YEAR}",
]
FORMS = ("tcd", "xld", "gqkn", "gqtc", "kqth")
FORMATS = ("json", "csv", "xlsx", "pdf")


def _settings(**limits: int) -> Settings:
    """The suite's settings with the service's own default limits (or those given)."""
    defaults = {name: Settings.model_fields[name].default for name in LIMITS}
    return SETTINGS.model_copy(update={**defaults, **limits})


@dataclass
class Service:
    app: FastAPI
    http: httpx.AsyncClient
    headers: dict[str, str]


@pytest.fixture(scope="module")
async def database(pg_server: PgServer) -> AsyncIterator[str]:
    name, url = await seeded_database(pg_server, "tiepdan_stats_limits")
    yield url
    await asyncio.to_thread(pg_server.drop_database, name)


@pytest.fixture
async def service(database: str, request: pytest.FixtureRequest) -> AsyncIterator[Service]:
    app = create_app(_settings(**getattr(request, "param", {})), database_url=database)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://stats") as http:
        r = await http.post(f"{V1}/auth/token", data={"username": "thanhtra", "password": "LaoCai@2026demo"})
        assert r.status_code == 200, r.text
        yield Service(app, http, {"Authorization": f"Bearer {r.json()['access_token']}"})
    await app.state.intake_writer.close()
    await app.state.hot_pool.close()
    await app.state.engine.dispose()
    await asyncio.sleep(0)


async def _pull(service: Service, form: str, period: str, fmt: str, **params: Any) -> httpx.Response:
    return await service.http.get(
        f"{V1}/stats/forms/{form}", headers=service.headers, params={"period": period, "format": fmt, **params}
    )


async def test_the_defaults_are_the_documented_ones() -> None:
    s = Settings(database_url="postgresql+asyncpg://unused/unused")
    assert (s.expensive_per_minute, s.expensive_burst) == (60, 10)
    assert (s.stats_per_minute, s.stats_burst, s.stats_concurrency) == (120, 400, 2)
    assert len(FORMS) * len(PERIODS) * len(FORMATS) <= s.stats_burst  # a year's pull fits even with no cache


@pytest.mark.slow  # 380 requests, a PDF and a spreadsheet of the whole province for each period: about a minute
async def test_the_inspector_pulls_every_form_of_a_year_in_every_format_without_a_429(service: Service) -> None:
    started = time.perf_counter()
    statuses: dict[int, int] = {}
    for form in FORMS:
        for period in PERIODS:
            for fmt in FORMATS:
                r = await _pull(service, form, period, fmt)
                statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                assert r.status_code == 200, (form, period, fmt, r.text[:200])
                assert r.content
    assert statuses == {200: len(FORMS) * len(PERIODS) * len(FORMATS)}
    first = time.perf_counter() - started
    # Again, all of it: every answer kept, nothing computed, nothing counted.
    started = time.perf_counter()
    for form in FORMS:
        for period in PERIODS:
            r = await _pull(service, form, period, "json")
            assert r.status_code == 200
    assert time.perf_counter() - started < first / 4


async def test_text_search_has_its_own_limit_and_does_not_use_up_the_statistics(service: Service) -> None:
    codes = [
        (await service.http.get(f"{V1}/cases", headers=service.headers, params={"q": f"đất {i}"})).status_code
        for i in range(11)
    ]
    assert codes[:10] == [200] * 10 and codes[10] == 429  # the 11th search in a burst (EXPENSIVE_BURST = 10)
    r = await _pull(service, "gqtc", f"{YEAR}-Q2", "xlsx", unit_id=1)
    assert r.status_code == 200, r.text  # the statistics are counted apart


@pytest.mark.parametrize("service", [{"stats_burst": 3, "stats_per_minute": 1}], indirect=True)
async def test_beyond_the_statistics_limit_a_computation_is_429_a_kept_answer_is_not(service: Service) -> None:
    units = [2, 3, 4, 5]  # four scopes never asked before: four computations
    for unit in units[:3]:
        assert (await _pull(service, "kqth", f"{YEAR}-Q3", "json", unit_id=unit)).status_code == 200
    refused = await _pull(service, "kqth", f"{YEAR}-Q3", "json", unit_id=units[3])
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited" and int(refused.headers["Retry-After"]) >= 1
    for unit in units[:3]:  # kept answers cost nothing, in any format
        for fmt in ("json", "pdf"):
            assert (await _pull(service, "kqth", f"{YEAR}-Q3", fmt, unit_id=unit)).status_code == 200
    search = await service.http.get(f"{V1}/cases", headers=service.headers, params={"q": "đất"})
    assert search.status_code == 200  # text search is counted apart
