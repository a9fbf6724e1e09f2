"""application role: the service works as a role that owns no table (so it cannot alter, disable triggers on,
or truncate any), is no superuser (so it cannot set session_replication_role), and may only insert and read
the append-only records (case events, audit events, chain checkpoints). Migrations run as the owner, which is
made a member so that it may assume the role (SET ROLE / the `role` connection setting).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 15:40:00
"""
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

APPEND_ONLY = ("case_events", "audit_events", "chain_checkpoints")


def _role() -> str:
    from api.settings import Settings

    role = Settings().db_app_role
    if not role.replace("_", "").isalnum():
        raise ValueError("DB_APP_ROLE must be a plain identifier")
    return role


def upgrade() -> None:
    role = _role()
    if not role:
        return
    # Roles are per cluster: another database of the cluster (or a parallel migration) may have made it.
    op.execute(f"""
        DO $$ BEGIN
            CREATE ROLE {role} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END $$
    """)
    op.execute(f"""
        DO $$ BEGIN
            IF NOT pg_has_role(current_user, '{role}', 'MEMBER') THEN
                EXECUTE format('GRANT %I TO %I', '{role}', current_user);
            END IF;
        END $$
    """)
    op.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}")
    op.execute(f"REVOKE UPDATE, DELETE ON {', '.join(APPEND_ONLY)} FROM {role}")
    op.execute(f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {role}")
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")
    # Tables of later migrations: read and written by the service unless that migration says otherwise.
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role}")


def downgrade() -> None:
    role = _role()
    if not role:
        return
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM {role}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM {role}")
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}")
    op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {role}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {role}")
