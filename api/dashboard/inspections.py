"""The inspectorate's page of its own work (`/dashboard/inspections`): the year's inspection plans with each unit's
line and how far its inspection has gone, the inspections still open, and the recommendations past their deadline
(the inspectorate's watch-list of recommendations), each read through the inspection services in the caller's
scope. For the inspectorate (inspectors and the chief inspector) only; the template is `inspections.html`."""

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api import clock
from api.auth import Officer
from api.dashboard import render, web
from api.dashboard.web import BadParam, NotSignedIn
from api.deps import SessionDep
from api.errors import DomainError
from api.services import calendar as calendar_service
from api.services.inspections import access, conclusions, conduct, plans, recommendations
from workflows.inspections import OPEN_INSPECTIONS, Actor

router = APIRouter(prefix="/dashboard", include_in_schema=False)
SHOWN = 100
FORBIDDEN = "Trang này dành cho Thanh tra tỉnh (thanh tra viên và Chánh Thanh tra)."


@router.get("/inspections", response_class=HTMLResponse)
async def inspections_page(request: Request, session: SessionDep) -> Response:
    try:
        who = await web.officer(request, session)
    except NotSignedIn as exc:
        return web.to_sign_in(exc)
    if not await access.actors(session, who) & {Actor.inspector, Actor.chief}:
        return web.error_page(request, 403, FORBIDDEN, who)
    today = clock.today()
    try:
        year = web.int_param(request, "year", "Năm") or today.year
        if not 2000 <= year <= 2100:
            raise BadParam("Năm không hợp lệ.")
        return await _page(request, session, who, year, today)
    except BadParam as exc:
        return web.error_page(request, exc.status, exc.message, who)
    except DomainError as exc:
        return web.error_page(request, exc.status_code, exc.message, who)


async def _page(request: Request, session: SessionDep, who: Officer, year: int, today: date) -> Response:
    env = await calendar_service.env(session, request.app.state.settings)
    year_plans = await plans.of_year(session, who, year)
    rows, _ = await conduct.list_inspections(
        session,
        who,
        year=None,
        status=[s.value for s in OPEN_INSPECTIONS],
        unit_id=None,
        plan_id=None,
        limit=SHOWN,
        cursor=None,
    )
    open_inspections = await conduct.present(session, who, rows)
    threshold = request.app.state.settings.due_soon_working_days
    late, _ = await recommendations.list_recommendations(
        session,
        who,
        unit_id=None,
        inspection_id=None,
        status=None,
        state="overdue",
        today=today,
        cal=env.cal,
        threshold=threshold,
        limit=SHOWN,
        cursor=None,
    )
    overdue = await recommendations.present(session, late, today=today, cal=env.cal, threshold=threshold)
    numbers = await conclusions.numbers(session, [r.inspection_id for r in overdue])
    csrf = web.csrf_token(request)
    response = render.page(
        "inspections.html",
        officer=who,
        csrf=csrf,
        today=today,
        year=year,
        plans=year_plans,
        open_inspections=open_inspections,
        overdue=overdue,
        numbers=numbers,
    )
    response.headers["Cache-Control"] = "no-store"
    web.set_csrf(response, csrf, request.app.state.settings.production)
    return response
