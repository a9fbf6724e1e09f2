FROM python:3.11-slim

WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml README.md alembic.ini ./
COPY api ./api
COPY workflows ./workflows
COPY alembic ./alembic
# Editable install: `python -m api migrate` finds alembic.ini and alembic/ beside the code in /app.
RUN pip install --no-cache-dir -e . && useradd --system --home /app app && mkdir /data && chown -R app /app /data
ENV DATA_DIR=/data
USER app
EXPOSE 8000
# DATABASE_URL must point at the PostgreSQL server; `serve` migrates to head, then runs uvicorn.
CMD ["python", "-m", "api", "serve", "--host", "0.0.0.0", "--port", "8000", "--no-seed"]
