"""API fuzzing with schemathesis against the running service's /openapi.json: for every operation (the public
and Open311 ones included), bounded generated requests, each as a role drawn from every role and no sign-in —
no 5xx, and every response matches the documented status codes and schemas.

FUZZ_EXAMPLES (default 6) sets the examples per operation; `FUZZ_EXAMPLES=100 .venv/bin/python -m pytest
tests/test_fuzz.py` is the long run."""

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import checks

from tests.conftest import Databases
from tests.test_reliability import _port, api_process

pytestmark = pytest.mark.slow  # a real server and every operation of /openapi.json

ROLES = ("admin", "tinh.tiepdan", "tinh.xacminh", "tinh.chutich", "thanhtra", "xa.tiepdan", "xa.chutich")
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))


@pytest.fixture(scope="module")
def server(databases: Databases) -> Iterator[tuple[str, dict[str | None, dict[str, str]]]]:
    name, url = databases.copy("tiepdan_fuzz")
    port = _port()
    os.environ["EXPENSIVE_BURST"] = "100000"  # the fuzzer is one client asking a lot on purpose
    try:
        with api_process(url, port):
            base = f"http://127.0.0.1:{port}"
            headers: dict[str | None, dict[str, str]] = {None: {}}
            for role in ROLES:
                r = httpx.post(f"{base}/api/v1/auth/token", data={"username": role, "password": "LaoCai@2026demo"})
                headers[role] = {"Authorization": f"Bearer {r.json()['access_token']}"}
            yield base, headers
    finally:
        os.environ.pop("EXPENSIVE_BURST", None)
        databases.server.drop_database(name)


def test_no_operation_answers_5xx_or_off_its_schema(server: tuple[str, dict[str | None, dict[str, str]]]) -> None:
    base, headers = server
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 60
    failures: list[str] = []
    for operation in operations:

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        )
        @given(case=operation.as_strategy(), role=st.sampled_from([None, *ROLES]))
        def run(case: schemathesis.Case, role: str | None) -> None:
            case.call_and_validate(
                base_url=base,
                headers=headers[role],
                checks=[checks.not_a_server_error, checks.status_code_conformance, checks.response_schema_conformance],
            )

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collect every failure, report them all
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:600]}")
    if os.environ.get("FUZZ_REPORT"):
        Path(os.environ["FUZZ_REPORT"]).write_text("\n\n".join(failures))
    assert not failures, "\n\n".join(failures)
