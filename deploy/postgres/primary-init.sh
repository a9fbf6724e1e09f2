#!/bin/bash
# Run once by the postgres image when the primary's data folder is made: the role the standby streams as, and
# the line of pg_hba.conf that lets it (password from the Docker secret, never in a file of the repository).
set -euo pipefail
password="$(cat "$REPLICATION_PASSWORD_FILE")"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -v pw="$password" <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'pw';
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
