"""Prometheus metrics (exposed at /metrics)."""

from prometheus_client import Counter, Histogram

REQUESTS = Counter("http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("http_request_duration_seconds", "HTTP request duration", ["method", "route"])


def observe(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)


# Intake's group commit (api/services/cases/writer.py): letters per statement = letters / statements.
INTAKE_STATEMENTS = Counter("tiepdan_intake_statements_total", "Intake statements written (each one commit)")
INTAKE_LETTERS = Counter("tiepdan_intake_letters_total", "Letters written by intake statements")
