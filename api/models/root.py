"""The answer of `GET /` (api/routers/root.py): where to go from the service's address."""

from pydantic import BaseModel, Field


class LinksOut(BaseModel):
    docs: str = Field(description="The API's documentation (Swagger UI, served offline)")
    openapi: str = Field(description="The OpenAPI document, for client generators")
    api: str = Field(description="The officers' API (sign in at {api}/auth/token)")
    dashboard: str = Field(description="The dashboard of the inspectorate and the unit heads (sign in there)")
    open311: str = Field(description="Open311 GeoReport v2: the services a citizen app may submit to")
    health: str = Field(description="Liveness (readiness at /readyz)")
