"""The lean lane: the common request of a hot write route is served before routing, without FastAPI's request
machinery, and everything else by FastAPI as usual.

`LeanLane` is the innermost of the service's own middlewares (inside the request id, access log, body limit and
session scope, which apply as to any request). For a request whose method and path have a lean handler
(`POST /api/v1/cases`, `POST /api/v1/public/submissions`) it calls `handler(request)`, which either answers, or
returns None before doing anything with effect (a body that is not plain JSON, a model that does not validate, a
missing or unusable token, …); FastAPI's router then serves the same request, body included, exactly as it would
have. The route itself stays an ordinary FastAPI route: the OpenAPI document, the validation errors and every
dependency are FastAPI's. A lean handler therefore only needs the happy path; the errors the service raises in it
are rendered by the app's own exception handlers (api/http_errors.py), as on the routes.

The header rules of these routes (content type, bearer token, Idempotency-Key, device id) are declared once,
below, and used by both lanes: the lean handler lets FastAPI serve any request that breaks one, and the routes
declare the same rules as their parameters, so the answer is the same with the lane on or off (the LEAN_LANE
setting; tests/test_lean_lane.py sends the same requests both ways).

Why: on these routes FastAPI's routing, dependency resolution, body parsing and response validation were about
half of the service's CPU per letter (bench/intake.py, `--profile`).
"""

import inspect
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import FastAPI, Header, Request, Response
from fastapi.security.utils import get_authorization_scheme_param
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.models.cases.schemas import IDEMPOTENCY_KEY_MAX

# The header rules of the hot write routes, for both lanes.
JSON = "application/json"  # the lean lane takes this exact content type; FastAPI serves any other
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=IDEMPOTENCY_KEY_MAX)]
DEVICE_ID_MAX = 64
DeviceId = Annotated[str | None, Header(alias="X-Device-Id", max_length=DEVICE_ID_MAX)]
_DEVICE = re.compile(rf"^[A-Za-z0-9._:-]{{1,{DEVICE_ID_MAX}}}$")


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header (the scheme in any case), else None: exactly
    FastAPI's OAuth2PasswordBearer, which the routes use (api/deps.py, `oauth2_scheme`)."""
    scheme, token = get_authorization_scheme_param(authorization)
    return token if authorization and scheme.lower() == "bearer" else None


def idempotency_key_fits(key: str | None) -> bool:
    return key is None or len(key) <= IDEMPOTENCY_KEY_MAX


def device_id_valid(device: str | None) -> bool:
    """An app's device id: up to 64 letters, digits and . _ : - (none: the client address stands for it)."""
    return device is None or _DEVICE.match(device) is not None


def plain(headers: Mapping[str, str]) -> bool:
    """Headers the lean lane serves (on both routes): plain JSON and an Idempotency-Key that fits, if any."""
    return headers.get("content-type") == JSON and idempotency_key_fits(headers.get("idempotency-key"))


LeanHandler = Callable[[Request], Awaitable[Response | None]]


@dataclass(frozen=True, slots=True)
class LeanRoute:
    """What the access log and metrics read of a route (api/logs.py), for a request a lean handler answered."""

    path_format: str


class LeanLane:
    served = 0  # requests answered by a lean handler, over the process (tests check the lane was taken)

    def __init__(self, app: ASGIApp, owner: FastAPI, handlers: dict[tuple[str, str], LeanHandler]) -> None:
        self.app = app
        self._owner = owner
        self._handlers = handlers
        self._routes = {key: LeanRoute(key[1]) for key in handlers}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = self._handlers.get((scope.get("method", ""), scope.get("path", "")))
        if handler is None or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await handler(request)
        except Exception as exc:  # what the app's exception handlers would have made of it on the route
            response = await self._render(request, exc)  # (or raised on, as Starlette's ExceptionMiddleware does)
        if response is None:
            await self.app(scope, _replay(await request.body(), receive), send)
            return
        LeanLane.served += 1
        # For the access log and metrics: the route's template (a lean route's path has no parameter).
        scope["route"], scope["path_params"] = self._routes[(scope["method"], scope["path"])], {}
        await response(scope, receive, send)

    async def _render(self, request: Request, exc: Exception) -> Response:
        handlers = self._owner.exception_handlers
        for kind in type(exc).__mro__:
            if kind in (Exception, BaseException):
                break  # the catch-all is ServerErrorMiddleware's, outside (a body too large is the log's, too)
            render = handlers.get(kind)
            if render is not None:
                response = render(request, exc)
                return await response if inspect.isawaitable(response) else response
        raise exc


def _replay(body: bytes, receive: Receive) -> Receive:
    """The request's body again, for FastAPI to read (the lean handler has read it from the connection)."""
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


def install(app: FastAPI, handlers: dict[tuple[str, str], LeanHandler]) -> None:
    """Put the lane in front of the router (call before adding the other middlewares: it must be innermost), unless
    the settings turn it off (LEAN_LANE=false)."""
    if app.state.settings.lean_lane:
        app.add_middleware(LeanLane, owner=app, handlers=handlers)


async def dependency(request: Request, provider: Callable[[Request], Awaitable[Any]]) -> Any:
    """What a dependency of the request gives, honouring `app.dependency_overrides` as FastAPI does (an override
    here takes no arguments, as the tests' do)."""
    override = request.app.dependency_overrides.get(provider)
    return await (override() if override is not None else provider(request))
