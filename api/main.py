"""The ASGI application: `uvicorn api.main:app`. Honours DATABASE_URL; embedded PostgreSQL when unset."""

from api import logs
from api.app import create_app
from api.settings import get_settings

logs.configure(get_settings().log_level)
app = create_app()
