"""An integrator generates a client from /openapi.json with openapi-python-client and gets every operation: no schema
name is used twice (two `SubmissionIn` once made the generator drop the report submission), no endpoint is skipped,
and the generated package compiles. Runs offline (the generator reads the file; its formatting hooks are off)."""

import asyncio
import json
import py_compile
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Api

GENERATOR = Path(sys.executable).parent / "openapi-python-client"
METHODS = {"get", "post", "put", "patch", "delete", "head", "options"}


def test_every_schema_name_is_unique_without_module_paths() -> None:
    """FastAPI names two models of one name by their module paths (`api__models__public__SubmissionIn`): a client
    generator then keeps one and drops what uses the other. Checked on the app itself, without the generator."""
    from api.app import create_app
    from tests.conftest import SETTINGS

    spec = create_app(SETTINGS, database_url="postgresql+asyncpg://unused@127.0.0.1:1/unused").openapi()
    names = list(spec["components"]["schemas"])
    assert not [n for n in names if "__" in n], "two schemas share a class name"
    titles = [s.get("title", n) for n, s in spec["components"]["schemas"].items()]
    assert len({t.lower() for t in titles}) == len(titles)


@pytest.mark.slow  # the generator takes a few seconds
@pytest.mark.skipif(not GENERATOR.exists(), reason="openapi-python-client is not installed (requirements-test.lock)")
async def test_a_generated_client_holds_every_operation(api: Api, tmp_path: Path) -> None:
    r = await api.http.get("/openapi.json")
    assert r.status_code == 200
    spec = r.json()
    operations = {
        op["operationId"]: (method.upper(), path)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in METHODS
    }
    assert len(operations) > 50 and "statistics_submit" in operations and "auth_token" in operations
    (tmp_path / "openapi.json").write_text(json.dumps(spec))
    (tmp_path / "config.json").write_text(json.dumps({"post_hooks": []}))  # no ruff run on the output
    out = tmp_path / "client"
    done = await asyncio.to_thread(
        subprocess.run,
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(tmp_path / "openapi.json"),
            "--output-path",
            str(out),
            "--meta",
            "none",
            "--config",
            str(tmp_path / "config.json"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    said = done.stdout + done.stderr
    assert done.returncode == 0, said
    assert "Warning" not in said and "will not be generated" not in said, said
    modules = {p.stem: p for p in (out / "api").rglob("*.py") if p.stem != "__init__"}
    missing = sorted(f"{op} ({method} {path})" for op, (method, path) in operations.items() if op not in modules)
    assert not missing, f"operations absent from the generated client: {missing}"
    for op in operations:
        text = modules[op].read_text()
        assert "def sync_detailed(" in text and "async def asyncio_detailed(" in text, op
    # the shared error body, the report submission's body and the answers (…Out) are models of the client
    models = {p.stem for p in (out / "models").glob("*.py")}
    assert {"error_body", "report_submission_in", "submission_in", "case_item_out", "links_out"} <= models
    for path in out.rglob("*.py"):
        py_compile.compile(str(path), doraise=True)
    shutil.rmtree(out)
