"""deploy/ (issue 26): the production shape as a compose file (HAProxy, two API replicas, a jobs runner, Redis, a
PostgreSQL primary and its streaming replica, each with a health check, no secret in the file, the service as its
own login role) and as systemd units, both read as their tools read them: the compose file by `docker compose
config` where Docker's compose plugin exists, else by a YAML parser; the units by an INI parser."""

import configparser
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from api.settings import Settings
from tests.conftest import Api

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
LONG_RUNNING = ("haproxy", "api1", "api2", "jobs", "redis", "db", "db-replica")
SECRET_NAMES = re.compile(r"SECRET_KEY|IDENTITY_KEYS|PASSWORD|DATABASE_URL|DATABASE_READ_URL|CHAIN_KEY|TOKEN")


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    return loaded


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def test_the_compose_file_has_every_part_each_with_its_health_check() -> None:
    services = compose()["services"]
    assert set(LONG_RUNNING) | {"migrate"} == set(services)
    for name in LONG_RUNNING:
        check = services[name].get("healthcheck")
        assert check and check["test"] and check.get("retries"), name
    assert services["migrate"]["restart"] == "no"  # one-shot: the migrations, as the owner
    assert "login-role" in " ".join(services["migrate"]["command"])
    # The balancer: deploy/haproxy.cfg, its servers are the two replicas, checked on /readyz.
    assert "./haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro" in services["haproxy"]["volumes"]
    cfg = (DEPLOY / "haproxy.cfg").read_text()
    servers = re.findall(r"^\s*server (\S+) (\S+):8000 check", cfg, re.M)
    assert servers == [("api1", "api1"), ("api2", "api2")]
    assert "http-check send meth GET uri /readyz" in cfg and "http-check expect status 200" in cfg
    assert {"api1", "api2"} == set(services["haproxy"]["depends_on"])
    # The primary streams to the replica, which is a standby made by pg_basebackup -R.
    assert "wal_level=replica" in services["db"]["command"]
    replica_start = (DEPLOY / "postgres" / "replica-start.sh").read_text()
    assert re.search(r"pg_basebackup .*-R", replica_start) and "hot_standby=on" in replica_start
    assert "pg_is_in_recovery()" in " ".join(services["db-replica"]["healthcheck"]["test"])
    # What compose itself would refuse: a `$` that is neither `$$` (a literal `$`) nor a variable.
    text = "\n".join(
        x for x in (DEPLOY / "docker-compose.yml").read_text().splitlines() if not x.lstrip().startswith("#")
    )
    assert not re.search(r"\$(?![${A-Za-z_])", text.replace("$$", ""))
    assert "REPLICATION" in (DEPLOY / "postgres" / "primary-init.sh").read_text()


def test_replicas_share_everything_and_jobs_run_apart() -> None:
    services = compose()["services"]
    settings = set(Settings.model_fields)
    haproxy_ip = services["haproxy"]["networks"]["backend"]["ipv4_address"]
    for name in ("api1", "api2"):
        api = services[name]
        env = environment(api)
        assert api["command"][:4] == ["python", "-m", "api", "serve"] and "--no-migrate" in api["command"]
        assert env["JOBS_ENABLED"] == "false" and env["ATTACHMENT_STORAGE"] == "postgres"
        assert env["REDIS_URL"].startswith("redis://redis:") and env["FORWARDED_ALLOW_IPS"] == haproxy_ip
        assert float(env["DRAIN_SECONDS"]) > 2  # above HAProxy's inter x fall (1 s x 2)
        grace = int(api["stop_grace_period"].rstrip("s"))
        assert grace > float(env["DRAIN_SECONDS"]) + float(env["DRAIN_TIMEOUT_SECONDS"])
        assert "/readyz" in " ".join(api["healthcheck"]["test"])
        assert {k.lower() for k in env} <= settings, "every variable is a setting of the service"
        assert api["env_file"] == ["tiepdan.env"]
        assert api["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    jobs = services["jobs"]
    assert jobs["command"] == ["python", "-m", "api", "jobs"] and environment(jobs)["JOBS_ENABLED"] == "true"
    assert {k.lower() for k in environment(jobs)} <= settings


def test_no_secret_is_in_the_compose_file_and_the_service_is_its_own_login_role() -> None:
    text = (DEPLOY / "docker-compose.yml").read_text()
    services = compose()["services"]
    for name, service in services.items():
        for key, value in environment(service).items():
            if SECRET_NAMES.search(key):  # only a path to a Docker secret may be named here
                assert key.endswith("_FILE") and value.startswith("/run/secrets/"), (name, key)
    assert not re.search(r"[A-Za-z0-9_-]{43}=", text)  # no Fernet key
    assert not re.search(r"://[^/\s:@]+:[^@\s${}]+@", text)  # no URL with a password
    for secret in compose()["secrets"].values():
        assert secret["file"].startswith("./secrets/")
    ignored = (DEPLOY / ".gitignore").read_text().split()
    assert "secrets/" in ignored and "*.env" in ignored
    # The examples carry no value for a secret, and the service's URL names its own login role, not the owner.
    example = dict(
        line.split("=", 1) for line in (DEPLOY / "tiepdan.env.example").read_text().splitlines() if "=" in line
        and not line.startswith("#")
    )  # fmt: skip
    assert example["SECRET_KEY"] == example["IDENTITY_KEYS"] == example["BOOTSTRAP_ADMIN_PASSWORD"] == ""
    migrate = dict(
        line.split("=", 1) for line in (DEPLOY / "migrate.env.example").read_text().splitlines() if "=" in line
        and not line.startswith("#")
    )  # fmt: skip
    login = migrate["DB_LOGIN_ROLE"]
    assert example["DATABASE_URL"].startswith(f"postgresql+asyncpg://{login}:<")  # the login role `login-role` makes
    assert migrate["DATABASE_URL"].startswith("postgresql+asyncpg://tiepdan:<")  # the owner only migrates
    assert login not in ("tiepdan", "postgres", Settings.model_fields["db_app_role"].default)
    assert migrate["DB_LOGIN_PASSWORD"] == migrate["SECRET_KEY"] == ""
    for name in ("api1", "api2", "jobs"):
        assert environment(services[name])["DB_APP_ROLE"] == Settings.model_fields["db_app_role"].default


DOCKER = shutil.which("docker")


@pytest.mark.skipif(DOCKER is None, reason="no docker on this machine")
def test_docker_compose_config_accepts_the_file(tmp_path: Path) -> None:
    assert DOCKER is not None
    version = subprocess.run([DOCKER, "compose", "version"], capture_output=True, text=True, check=False)  # noqa: S603
    if version.returncode != 0:
        pytest.skip("docker has no compose plugin here (the YAML checks above stand in for it)")
    shutil.copytree(DEPLOY, tmp_path / "deploy")
    work = tmp_path / "deploy"
    for name in ("tiepdan", "migrate"):
        shutil.copy(work / f"{name}.env.example", work / f"{name}.env")
    (work / "secrets").mkdir()
    for name in ("postgres_password", "replication_password"):
        (work / "secrets" / name).write_text("not-a-real-secret\n")
    done = subprocess.run(  # noqa: S603
        [DOCKER, "compose", "config", "--services"],
        cwd=work,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert set(done.stdout.split()) == set(LONG_RUNNING) | {"migrate"}


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    parser.read_string((DEPLOY / "systemd" / name).read_text())
    return parser


def unit_env(parsed: configparser.ConfigParser) -> dict[str, str]:
    return dict(item.split("=", 1) for item in shlex.split(parsed["Service"].get("Environment", "")))


def test_the_systemd_units_run_the_same_shape_as_an_unprivileged_user() -> None:
    names = sorted(p.name for p in (DEPLOY / "systemd").glob("*.service"))
    assert names == ["tiepdan-api@.service", "tiepdan-jobs.service", "tiepdan-migrate.service"]
    settings = set(Settings.model_fields)
    for name in names:
        service = unit(name)["Service"]
        assert service["User"] == "tiepdan" and service["User"] != "root"
        assert service["EnvironmentFile"].startswith("/etc/tiepdan/")
        assert service["NoNewPrivileges"] == "yes" and service["ProtectSystem"] == "strict"
        assert shlex.split(service["ExecStart"])[0] in ("/opt/tiepdan/.venv/bin/python", "/bin/sh")
        assert {k.lower() for k in unit_env(unit(name))} <= settings
    api = unit("tiepdan-api@.service")
    start = shlex.split(api["Service"]["ExecStart"])
    assert start[1:4] == ["-m", "api", "serve"] and "--no-migrate" in start and start[start.index("--port") + 1] == "%i"
    env = unit_env(api)
    assert env["JOBS_ENABLED"] == "false" and env["ATTACHMENT_STORAGE"] == "postgres" and "REDIS_URL" in env
    assert api["Service"]["KillSignal"] == "SIGTERM"
    assert int(api["Service"]["TimeoutStopSec"]) > float(env["DRAIN_SECONDS"]) + float(env["DRAIN_TIMEOUT_SECONDS"])
    jobs = unit("tiepdan-jobs.service")
    assert shlex.split(jobs["Service"]["ExecStart"])[1:] == ["-m", "api", "jobs"]
    assert unit_env(jobs)["JOBS_ENABLED"] == "true"
    migrate = unit("tiepdan-migrate.service")
    assert migrate["Service"]["Type"] == "oneshot" and "login-role" in migrate["Service"]["ExecStart"]


def test_the_quick_start_compose_file_is_still_the_readmes() -> None:
    """The top-level docker-compose.yml (README quick start) is untouched by deploy/: one api, its db, migrate."""
    top = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert {"db", "migrate", "api"} <= set(top["services"])
    assert "docker compose up" in (ROOT / "docker-compose.yml").read_text()


def self_signed_certificate(folder: Path, name: str = "localhost") -> Path:
    """A throw-away certificate and its key in one PEM (as HAProxy's `crt <folder>/` reads them), for the tests."""
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    pem = cert.public_bytes(serialization.Encoding.PEM) + key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (folder / f"{name}.pem").write_bytes(pem)
    return folder


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy is not installed (apt-get install haproxy)")
def test_haproxy_accepts_the_balancer_configuration(tmp_path: Path) -> None:
    """As shipped, only the certificate folder (a secret, never in git) pointed at a test certificate."""
    haproxy = shutil.which("haproxy")
    assert haproxy is not None
    certs = self_signed_certificate(tmp_path / "certs")
    config = tmp_path / "haproxy.cfg"
    shipped = (DEPLOY / "haproxy.cfg").read_text()
    assert shipped.count(CERTS) == 2  # the comment and the bind
    config.write_text(shipped.replace(f"crt {CERTS}", f"crt {certs}/"))
    done = subprocess.run([haproxy, "-c", "-f", str(config)], capture_output=True, text=True)  # noqa: S603
    assert done.returncode == 0, done.stdout + done.stderr


CERTS = "/etc/haproxy/certs/"


def haproxy_sections() -> dict[str, list[str]]:
    """deploy/haproxy.cfg as HAProxy reads it: each section ("global", "defaults", "frontend api", …) and its
    directives, comments left out."""
    sections: dict[str, list[str]] = {}
    current: list[str] = []
    for raw in (DEPLOY / "haproxy.cfg").read_text().splitlines():
        line = raw.split("#", 1)[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if not line.strip():
            continue
        if not line[0].isspace():
            current = sections.setdefault(" ".join(line.split()), [])
        else:
            current.append(" ".join(line.split()))
    return sections


def test_the_balancer_logs_no_client_address_request_line_or_query() -> None:
    """docs/confidentiality.md: the holder of the logs sees no tracking code, query string or client address. The
    balancer's log line is the frontend, backend/server, method, status, timings, bytes: no %ci/%cp (client address
    and port), no %r/%HU/%HQ (request line, URI, query: tracking codes, an Open311 api_key), no captured header."""
    sections = haproxy_sections()
    active = [d for directives in sections.values() for d in directives]
    text = "\n".join(active)
    variables = set(re.findall(r"%(?:\{[^}]*\})?([A-Za-z]+)", text))  # %ci, %{+Q}r, %HU … (not %[sample])
    assert "ST" in variables and "HM" in variables  # the parser sees the log format's variables
    assert not variables & {"ci", "cp", "r", "HU", "HQ", "HP", "hr", "hrl", "hs", "hsl", "CC", "CS"}, variables
    assert not re.search(r"%\[[^]]*(src|req\.hdr|path|query|url)", text)  # nor the same as a sample fetch
    assert not any(re.match(r"(no )?option (httplog|httpslog|tcplog)|capture |log-format-sd", d) for d in active)
    assert any(d.startswith("log-format ") for d in sections["defaults"])
    assert any(d.startswith("error-log-format ") for d in sections["defaults"])  # a failed TLS handshake too
    assert not any(d.startswith(("log-format", "error-log-format")) for s, ds in sections.items() if s != "defaults"
                   for d in ds)  # fmt: skip
    unique = [d for d in sections["frontend api"] if d.startswith("unique-id-format ")]
    assert unique and "%ci" not in unique[0] and "%cp" not in unique[0]


def test_the_balancer_speaks_only_tls_and_sets_the_scheme_itself() -> None:
    """HTTPS on :443 with the certificate folder mounted from a secret; the scheme the replicas believe is set by
    HAProxy (never the client's X-Forwarded-Proto); :80 only redirects to https; no plain listener reaches them."""
    sections = haproxy_sections()
    frontends = {name: ds for name, ds in sections.items() if name.startswith("frontend ")}
    serving = {name: ds for name, ds in frontends.items() if any(d.startswith("default_backend ") for d in ds)}
    assert list(serving) == ["frontend api"]
    api = serving["frontend api"]
    assert [d for d in api if d.startswith("bind ")] == [f"bind :443 ssl crt {CERTS}"]
    assert "http-request set-header X-Forwarded-Proto https" in api
    assert not any(d.startswith(("use_backend", "default_backend")) for n, ds in frontends.items() if n not in serving
                   for d in ds)  # fmt: skip
    plain = frontends["frontend plain"]
    assert [d for d in plain if d.startswith("bind ")] == ["bind :80"]
    assert "http-request del-header X-Forwarded-Proto" in plain
    assert plain[-1] == "http-request redirect scheme https code 301"
    health = frontends["frontend health"]
    assert [d for d in health if d.startswith("bind ")] == ["bind 127.0.0.1:8405"] and "monitor-uri /readyz" in health
    haproxy = compose()["services"]["haproxy"]
    assert sorted(haproxy["ports"]) == ["443:443", "80:80"]
    assert f"./secrets/certs:{CERTS.rstrip('/')}:ro" in haproxy["volumes"]  # secrets/ is git-ignored
    assert "127.0.0.1/8405" in " ".join(haproxy["healthcheck"]["test"])
    assert "TLS" in (ROOT / "docs" / "deploy.md").read_text() and CERTS in (ROOT / "docs" / "deploy.md").read_text()


def test_sigterm_first_drains_then_reaches_the_servers_own_handler() -> None:
    """api/drain.py on its own (the real processes are in tests/test_replicas.py): the first SIGTERM only marks the
    process draining; the server's handler gets it DRAIN_SECONDS later."""
    import os
    import signal
    import time

    from api import drain

    reached: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda sig, frame: reached.append(sig))
    try:
        drain.install(0.2)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.01)  # the handler runs in this thread between two bytecodes
        assert drain.DRAINING.is_set() and reached == []
        deadline = time.monotonic() + 2
        while not reached and time.monotonic() < deadline:
            time.sleep(0.02)
        assert reached == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, previous)
        drain.DRAINING.clear()


async def test_readyz_fails_while_draining_and_healthz_does_not(api: Api) -> None:
    from api import drain

    assert (await api.http.get("/readyz")).status_code == 200
    drain.DRAINING.set()
    try:
        ready = await api.http.get("/readyz")
        assert ready.status_code == 503 and ready.json()["error"]["code"] == "service_draining"
        assert ready.json()["error"]["message"]  # Vietnamese, from the catalogue
        assert (await api.http.get("/healthz")).status_code == 200
    finally:
        drain.DRAINING.clear()
    assert (await api.http.get("/readyz")).status_code == 200
