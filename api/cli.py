"""Command line: `python -m api serve | migrate | seed | jobs | checkpoint | verify-events | import-units |
create-admin | migrate-attachments | backup | restore`."""

import argparse
import asyncio
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def migrate(url: str) -> None:
    from alembic.config import Config

    from alembic import command

    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["url"] = url
    config.attributes["configure_logging"] = False
    command.upgrade(config, "head")


async def _with_session(url: str, work: str, username: str | None = None, password: str | None = None) -> str:
    from api import db
    from api.security import Passwords
    from api.settings import get_settings

    engine = db.make_engine(url)
    passwords = Passwords(get_settings())
    try:
        async with db.make_sessionmaker(engine)() as session:
            if work == "seed":
                from api import clock
                from api.seed import seed_demo, seed_demo_cases

                seeded = await seed_demo(session, passwords)
                cases = await seed_demo_cases(session, get_settings(), clock.today())
                return f"demo data: units and officers {'seeded' if seeded else 'already present'}, {cases} new cases"
            from api.services.users import ensure_named_admin

            assert username and password
            made = await ensure_named_admin(session, passwords, username, password)
            return "admin created" if made else f"{username} already exists; nothing changed"
    finally:
        await engine.dispose()


async def _import_units(url: str, path: Path, username: str) -> str:
    """Units from a CSV or JSON file (the format of POST /units/import), all or nothing, as an administrator."""
    import sqlalchemy as sa
    from tqdm import tqdm

    from api import db
    from api.errors import DomainError
    from api.services import units

    engine = db.make_engine(url)
    try:
        async with db.make_sessionmaker(engine)() as session:
            admin = await session.scalar(
                sa.text("SELECT id FROM users WHERE username = :u AND is_active AND 'admin' = ANY(roles)"),
                {"u": username},
            )
            if admin is None:
                raise SystemExit(f"{username}: no active administrator of that name")
            kind = "application/json" if path.suffix.lower() == ".json" else "text/csv"
            try:
                rows = units.parse_import(kind, await asyncio.to_thread(path.read_bytes))
                with tqdm(total=len(rows), unit=" units", desc="import", file=sys.stderr) as bar:
                    created, updated, _ = await units.import_rows(session, admin, rows, bar.update)
            except DomainError as exc:
                raise SystemExit(f"nothing imported — {exc.message} ({exc.code}): {exc.details or ''}") from None
            await session.commit()
            return f"{created} units created, {updated} updated"
    finally:
        await engine.dispose()


async def _jobs(url: str, *, once: bool) -> str:
    import httpx

    from api import db
    from api.services import jobs
    from api.settings import get_settings

    settings = get_settings()
    engine = db.make_engine(url, role=settings.db_app_role or None)
    try:
        maker = db.make_sessionmaker(engine)
        from api.services import keychecks

        async with maker() as session:  # other keys than the data's: refused, naming the key
            wrong = await keychecks.mismatched(session, settings)
        if wrong:
            raise SystemExit(keychecks.refusal(wrong))
        if not once:
            await jobs.loop(maker, settings)
        async with httpx.AsyncClient(timeout=settings.webhook_timeout_seconds) as client:
            return str(await jobs.run_once(maker, settings, client))
    finally:
        await engine.dispose()


async def _integrity(url: str, work: str, path: Path | None) -> int:
    import sqlalchemy as sa
    from tqdm import tqdm

    from api import db
    from api.services import checkpoints, keychecks
    from api.settings import get_settings
    from api.vault import vault_for

    settings = get_settings()
    engine = db.make_engine(url, statement_timeout_ms=0)
    try:
        async with db.make_sessionmaker(engine)() as session:
            # Other keys than the data's would report every chain as tampered: refused, naming the key.
            wrong = await keychecks.mismatched(session, settings)
            if wrong:
                print(keychecks.refusal(wrong), file=sys.stderr)
                return 2
            read = None
            if work == "verify-events" and path is not None:
                try:
                    read = checkpoints.read_file(path)
                except ValueError as exc:
                    print(f"{path}: {exc}", file=sys.stderr)
                    return 1
            total = await session.scalar(sa.text("SELECT count(*) FROM cases"))
            # On stderr, with an ETA; a million cases take minutes.
            with tqdm(total=total, unit=" cases", unit_scale=True, desc=work, file=sys.stderr) as bar:
                if work == "checkpoint":
                    made = await checkpoints.make(session, path, bar.update)
                else:
                    report = await checkpoints.verify_all(
                        session,
                        read.heads if read else None,
                        bar.update,
                        vault=vault_for(settings),
                        file_headers=read.headers if read else (),
                    )
            if work == "checkpoint":
                print(f"checkpoint {made.seq}: {made.cases} cases, {made.events} events, digest {made.digest}")
                return 0
            for problem in report.problems:
                print(problem.describe())
            print(f"{report.cases} cases, {report.events} events: {'valid' if report.valid else 'NOT VALID'}")
            return 0 if report.valid else 1
    finally:
        await engine.dispose()


async def _seal_existing(url: str, reindex: bool = False, rewrite: bool = False) -> str:
    """Seal the denunciations written in clear before revision 0021 (issue 21; the jobs round does it too), and
    the attachment copies' SHA-256 kept in clear before the outside audit (`sealed_text.seal_copy_hashes`);
    `reindex`: then rebuild every sealed text's word index without the protected parties' identities. Then, when
    anything was sealed in place since the last rewrite (here or by the jobs round) or `rewrite`, the tables are
    rewritten (VACUUM FULL, outside audit 2): the replaced clear text is otherwise still in their files, and in a
    base backup. Fails (non-zero exit) when they could not be (not run as their owner)."""
    import sqlalchemy as sa

    from api import db
    from api.services.cases import sealed_text
    from api.settings import get_settings

    engine = db.make_engine(url, statement_timeout_ms=0)
    try:
        async with db.make_sessionmaker(engine)() as session:
            sealed = await sealed_text.seal_existing(session, get_settings())
            left = await session.scalar(sealed_text.TO_SEAL)
            hashes = await sealed_text.seal_copy_hashes(session, get_settings())
            clear = await session.scalar(sealed_text.COPY_HASHES_TO_SEAL)
            indexed = await sealed_text.reindex_sealed(session, get_settings()) if reindex else None
            pending = bool(await session.scalar(sa.text(sealed_text.REWRITE_PENDING_SQL)))
            await session.commit()
        rewritten = ""
        if pending or rewrite:
            if not await sealed_text.rewrite_tables(engine):
                raise SystemExit(
                    f"{sealed} denunciations and {hashes} attachment copy hashes sealed; the tables were NOT "
                    "rewritten (only their owner may: run `python -m api seal-existing` with the migrations' "
                    "DATABASE_URL): the clear text sealed in place is still in their files, and `python -m api "
                    "backup` refuses until it is gone"
                )
            tables = ", ".join(sealed_text.REWRITTEN_TABLES)
            rewritten = f"{tables} rewritten (VACUUM FULL): the clear text sealed in place is gone from their files; "
        copies = f"{rewritten}{hashes} attachment copy hashes sealed, {clear} left in clear"
        if indexed is not None:
            return (
                f"{sealed} denunciations sealed, {left} left in clear; {indexed} sealed texts indexed again; {copies}"
            )
        if left:
            return f"{sealed} denunciations sealed, {left} left (another process is sealing them); {copies}"
        return f"{sealed} denunciations sealed; none is left in clear; {copies}"
    finally:
        await engine.dispose()


async def _login_role(url: str, name: str, password: str) -> str:
    """The login role the service connects as (run as the database owner, after the migrations): a member of the
    application role and nothing more — no superuser, no role or database creation, owning nothing — so a session
    that resets its role (`RESET ROLE`) has no right the application role lacks. Created, or its password and
    attributes set again (idempotent)."""
    import sqlalchemy as sa

    from api import db
    from api.settings import get_settings

    app_role = get_settings().db_app_role
    engine = db.make_engine(url)
    try:
        async with engine.begin() as conn:
            if name == await conn.scalar(sa.text("SELECT current_user")):
                raise SystemExit("DB_LOGIN_ROLE must not be the database owner (the migrations role)")
            exists = await conn.scalar(sa.text("SELECT count(*) FROM pg_roles WHERE rolname = :n"), {"n": name})
            verb = "ALTER" if exists else "CREATE"
            # Quoted by the server (format %I / %L): the name and the password are data, never SQL.
            for template in (
                f"{verb} ROLE %I LOGIN PASSWORD %L NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS",
                "GRANT %I TO %I",
            ):
                args = {"n": name, "p": password} if "%L" in template else {"n": app_role, "p": name}
                statement = await conn.scalar(
                    sa.text("SELECT format(CAST(:t AS text), CAST(:n AS text), CAST(:p AS text))"),
                    {"t": template, **args},
                )
                await conn.exec_driver_sql(str(statement))
            owned = await conn.scalar(
                sa.text("SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = :n"),
                {"n": name},
            )
            if owned:
                raise SystemExit(f"{name} owns {owned} relations: give them to the owner first")
    finally:
        await engine.dispose()
    done = "altered" if exists else "created"
    return f"login role {name}: {done}, a member of {app_role} and nothing more"


async def _migrate_attachments(url: str, *, to_local: bool, remove: bool) -> str:
    """The attachment files of the directory store (ATTACHMENTS_DIR) moved into PostgreSQL, sealed in chunks (or
    back with `to_local`), each read back before its source is removed (`remove`); idempotent."""
    import sqlalchemy as sa
    from cryptography.fernet import Fernet, MultiFernet
    from tqdm import tqdm

    from api import db
    from api.services.citizen import blobs, storage
    from api.settings import get_settings

    settings = get_settings()
    fernet = MultiFernet([Fernet(k.encode()) for k in settings.identity_key_list()])
    engine = db.make_engine(url, statement_timeout_ms=0, role=settings.db_app_role or None)
    try:
        async with engine.connect() as conn:
            total = await conn.scalar(sa.text("SELECT count(*) FROM attachments"))
        with tqdm(total=total, unit=" attachments", desc="migrate-attachments", file=sys.stderr) as bar:
            counts = await blobs.migrate(
                engine, fernet, storage.directory(settings), to_local=to_local, remove=remove, step=bar.update
            )
    finally:
        await engine.dispose()
    where = "the directory store" if to_local else "PostgreSQL"
    return (
        f"{counts['moved']} files moved to {where}, {counts['present']} already there, {counts['missing']} missing"
        f"{' (sources removed)' if remove else ''}"
    )


def _resolve_url() -> str:
    from api import db
    from api.settings import get_settings

    url = db.database_url(get_settings())
    # uvicorn (same process) and alembic then use this database, embedded or not.
    os.environ["DATABASE_URL"] = url
    get_settings.cache_clear()
    return url


def where_to_go(host: str, port: int, demo: bool) -> str:
    """The two lines `serve` prints first: where the API and the dashboard are, and which account to sign in with."""
    from api.seed import DEMO_PASSWORD

    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 - compared, not bound
    base = f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"
    account = (
        f"Demo account: thanhtra / {DEMO_PASSWORD} (Thanh tra tỉnh; the other demo accounts are in the README)"
        if demo
        else "No demo data: sign in with an administrator (python -m api create-admin --username … --password …)"
    )
    return f"API: {base}/docs  ·  dashboard: {base}/dashboard  ·  Open311: {base}/open311/v2/services.json\n{account}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m api", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser(
        "serve", help="migrate, seed demo data (development only, unless --no-seed; --seed forces it) and run the API"
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--no-seed", action="store_true")
    serve.add_argument("--seed", action="store_true", help="seed the demo data even with production keys set")
    serve.add_argument("--no-migrate", action="store_true", help="the migrations are run apart, as the owner")
    sub.add_parser("migrate", help="alembic upgrade head on the configured database")
    sub.add_parser(
        "login-role",
        help="as the owner: create (or update) the login role DB_LOGIN_ROLE with DB_LOGIN_PASSWORD, a member of the "
        "application role only, for the service to connect as",
    )
    sub.add_parser("seed", help="insert the Lào Cai demo data (idempotent)")
    seal = sub.add_parser(
        "seal-existing",
        help="seal denunciations' text written in clear before revision 0021, and the attachment copies' SHA-256 "
        "kept in clear before the outside audit (idempotent)",
    )
    seal.add_argument(
        "--reindex",
        action="store_true",
        help="also rebuild every sealed text's word index without the protected parties' names, ID numbers and "
        "phones (once after upgrading; idempotent)",
    )
    seal.add_argument(
        "--rewrite",
        action="store_true",
        help="rewrite the cases and attachments tables (VACUUM FULL, as the owner) even when nothing was sealed: once "
        "after upgrading, for clear text sealed in place before this release (it stays in the tables' files)",
    )
    jobs = sub.add_parser("jobs", help="run the deadline sweep and webhook delivery (once, or in a loop)")
    jobs.add_argument("--once", action="store_true")
    checkpoint = sub.add_parser("checkpoint", help="sign a checkpoint of every case's event chain head")
    checkpoint.add_argument("--out", type=Path, help="write the full list of heads here (keep it off the server)")
    verify = sub.add_parser(
        "verify-events",
        help="verify every case's event chain, case row, parties and sealed texts, and the checkpoints (and "
        "against a checkpoint file)",
    )
    verify.add_argument(
        "--checkpoint", type=Path, help="a file written by `checkpoint --out`, or CHECKPOINT_FILE (its last record)"
    )
    imports = sub.add_parser("import-units", help="import units from a CSV or JSON file (all or nothing)")
    imports.add_argument("file", type=Path)
    imports.add_argument("--as", dest="username", required=True, help="the administrator recorded in the audit log")
    moving = sub.add_parser(
        "migrate-attachments",
        help="move the attachment files of the directory store (ATTACHMENTS_DIR) into PostgreSQL, sealed in chunks "
        "(idempotent; each file read back before --remove deletes its source)",
    )
    moving.add_argument("--to", choices=("postgres", "local"), default="postgres")
    moving.add_argument("--remove", action="store_true", help="delete each source file once its copy reads back")
    admin = sub.add_parser(
        "create-admin",
        help="create an administrator (the first, or the second that approves grants) unless the name exists",
    )
    admin.add_argument("--username", required=True)
    admin.add_argument("--password", required=True)
    from api import backup

    backup.add_parsers(sub)  # backup, restore
    args = parser.parse_args(argv)

    from api import logs
    from api.settings import get_settings

    logs.configure(get_settings().log_level)
    from api.services.cases import trail

    trail.configure(get_settings().chain_secret())
    if args.command in ("backup", "restore"):  # pg_basebackup, WAL archive, point-in-time recovery (api/backup.py)
        sys.exit(backup.main(args))
    # The demo seed (demo officers with a known password) never goes into a production database by default.
    demo = args.command == "serve" and not args.no_seed and (args.seed or not get_settings().production)
    if args.command == "serve":  # what a person needs, above the database's and the migrations' log
        print(where_to_go(args.host, args.port, demo), file=sys.stderr, flush=True)
    url = _resolve_url()
    if args.command == "migrate" or (args.command == "serve" and not args.no_migrate):
        migrate(url)
    if args.command == "login-role":
        name, password = os.environ.get("DB_LOGIN_ROLE", ""), os.environ.get("DB_LOGIN_PASSWORD", "")
        if not name.replace("_", "").isalnum() or len(password) < 16:
            raise SystemExit("set DB_LOGIN_ROLE (a plain name) and DB_LOGIN_PASSWORD (16 characters or more)")
        print(asyncio.run(_login_role(url, name, password)), file=sys.stderr)
    if args.command == "seed" or demo:
        print(asyncio.run(_with_session(url, "seed")), file=sys.stderr)
    if args.command == "seal-existing":
        print(asyncio.run(_seal_existing(url, reindex=args.reindex, rewrite=args.rewrite)), file=sys.stderr)
    if args.command == "jobs":
        print(asyncio.run(_jobs(url, once=args.once)), file=sys.stderr)
    if args.command in ("checkpoint", "verify-events"):
        path = args.out if args.command == "checkpoint" else args.checkpoint
        code = asyncio.run(_integrity(url, args.command, path))
        from api import embedded

        embedded.stop()
        sys.exit(code)
    if args.command == "import-units":
        print(asyncio.run(_import_units(url, args.file, args.username)), file=sys.stderr)
    if args.command == "migrate-attachments":
        moved = _migrate_attachments(url, to_local=args.to == "local", remove=args.remove)
        print(asyncio.run(moved), file=sys.stderr)
    if args.command == "create-admin":
        print(asyncio.run(_with_session(url, "admin", args.username, args.password)), file=sys.stderr)
    if args.command == "serve":
        import signal

        import uvicorn

        # uvicorn re-raises SIGTERM after its graceful shutdown; exiting through Python instead lets
        # the embedded PostgreSQL stop cleanly.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

        uvicorn.run(  # X-Forwarded-For believed only from FORWARDED_ALLOW_IPS (the app checks it again)
            "api.main:app",
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_config=None,
            proxy_headers=True,
            forwarded_allow_ips=get_settings().forwarded_allow_ips,
            timeout_graceful_shutdown=int(get_settings().drain_timeout_seconds),  # after the drain (api/drain.py)
        )
    from api import embedded

    embedded.stop()


if __name__ == "__main__":
    main()
