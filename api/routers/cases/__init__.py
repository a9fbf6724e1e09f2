"""Cases over HTTP: intake, list and read, actions with If-Match, events, dialogues, notices, duplicates."""

from fastapi import APIRouter

from api.routers.cases import actions, intake, queries

router = APIRouter(tags=["cases"])
for part in (intake.router, queries.router, actions.router):
    router.include_router(part, prefix="/cases")
