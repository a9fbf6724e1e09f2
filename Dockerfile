FROM python:3.11-slim

WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
# Dependencies first, exactly as locked (every file checked against its hash), then the project without deps.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY pyproject.toml README.md alembic.ini ./
COPY api ./api
COPY workflows ./workflows
COPY alembic ./alembic
# Editable install: `python -m api migrate` finds alembic.ini and alembic/ beside the code in /app.
RUN pip install --no-cache-dir --no-deps -e . && useradd --system --home /app app && mkdir /data /keys \
    && chown -R app /app /data /keys
# Keys are never in the image: set SECRET_KEY and IDENTITY_KEYS (docker-compose.yml reads them from .env).
ENV DATA_DIR=/data KEYS_DIR=/keys
USER app
EXPOSE 8000
# DATABASE_URL must point at the PostgreSQL server. Alone, `serve` migrates to head (as the database owner, creating
# the application role the service then works as), then runs uvicorn; docker-compose.yml instead runs
# `migrate` + `login-role` once as the owner and the service as its own login role (`serve --no-migrate`).
CMD ["python", "-m", "api", "serve", "--host", "0.0.0.0", "--port", "8000", "--no-seed"]
