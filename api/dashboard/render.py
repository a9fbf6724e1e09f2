"""The dashboard's pages rendered from Jinja2 templates (`api/dashboard/templates/`) with autoescape on for every
template: a value is written as text unless a template says otherwise (none does), so no page needs an `escape()`.

`base.html` is the layout (skip link, header with the officer and the sign-out form, navigation); each page extends
it: `login.html`, `overview.html` (the period's figures, charts, units, reception and watch-list), `cases.html` and
`register.html` (the cases or register entries a figure counts), `watch.html` (the whole watch-list), `case.html`
and `error.html` (every dashboard error page, with its status code, a way back and a sign-out). `charts.html` holds
the bar chart macro (what it shows from `charts.py`), `macros.html` the pieces pages share.
The templates carry no inline script or style: the Content-Security-Policy (api/logs.py) allows neither."""

from datetime import date
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from workflows import vocabulary


def num(value: float) -> str:
    """A count as Vietnamese write it: 1.234.567."""
    return f"{value:,.0f}".replace(",", ".")


def pct(value: float | None) -> str:
    """A share as Vietnamese write it: 87,5%; a dash when there is nothing to divide."""
    return "—" if value is None else f"{value:.1%}".replace(".", ",")


def day(value: date, fmt: str = "%d/%m/%Y") -> str:
    return value.strftime(fmt)


ENV = Environment(
    loader=PackageLoader("api.dashboard", "templates"),
    autoescape=select_autoescape(default_for_string=True, default=True),
    undefined=StrictUndefined,  # a misspelt name fails the page (and its test) instead of printing nothing
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,
)
ENV.filters.update(num=num, pct=pct, day=day, period_name=vocabulary.period_name)
# Every name a user reads comes from the one table (workflows/vocabulary.py): `V.name(V.STATUS, code)` …
ENV.globals.update(V=vocabulary)


def page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """The page, never cached (it shows an officer's data)."""
    response = HTMLResponse(ENV.get_template(template).render(**context), status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response
