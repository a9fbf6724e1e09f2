"""Routes with a lean path: the common request of a hot route is served without FastAPI's request machinery, and
everything else by FastAPI as usual.

A route of an `APIRouter(route_class=LeanRoute)` whose endpoint has a lean handler (`@lean(handler)`) keeps what
FastAPI makes of its signature — the OpenAPI document, the validation errors, every dependency — and is served
first by the handler: `handler(request)` answers the request, or returns None before doing anything with effect
(a body that is not plain JSON, a model that does not validate, a missing or unusable token, …), and FastAPI's own
handler then serves the same request, body included, exactly as it would have. A lean handler therefore only
needs the happy path, and the errors the service itself raises (api/errors.py renders them the same for both).

Why: on `POST /cases` FastAPI's dependency resolution, body parsing and response validation were a third of the
service's CPU per letter (bench/intake.py, `--profile`).
"""

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from fastapi import Request, Response
from fastapi.routing import APIRoute

LeanHandler = Callable[[Request], Awaitable[Response | None]]
F = TypeVar("F", bound=Callable[..., Any])

_LEAN = "__lean_handler__"


def lean(handler: LeanHandler) -> Callable[[F], F]:
    """Give an endpoint a lean handler (see the module's docstring)."""

    def mark(endpoint: F) -> F:
        setattr(endpoint, _LEAN, handler)
        return endpoint

    return mark


class LeanRoute(APIRoute):
    served = 0  # requests answered by a lean handler, over the process (tests check the path was taken)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        standard = super().get_route_handler()
        handler: LeanHandler | None = getattr(self.endpoint, _LEAN, None)
        if handler is None:
            return standard

        async def serve(request: Request) -> Response:
            response = await handler(request)
            if response is None:
                return await standard(request)  # Starlette keeps the body read, for FastAPI to read again
            LeanRoute.served += 1
            return response

        return serve


async def dependency(request: Request, provider: Callable[[Request], Awaitable[Any]]) -> Any:
    """What a dependency of the request gives, honouring `app.dependency_overrides` as FastAPI does (an override
    here takes no arguments, as the tests' do)."""
    override = request.app.dependency_overrides.get(provider)
    return await (override() if override is not None else provider(request))
