"""Cases over HTTP: intake, list and read, actions with If-Match, events, dialogues, notices, duplicates.
Each part is mounted on the app directly (one router level less to walk on every request)."""

from fastapi import APIRouter

from api.routers.cases import actions, intake, queries

PREFIX = "/cases"
ROUTERS: tuple[APIRouter, ...] = (intake.router, queries.router, actions.router)
