#!/bin/bash
# The streaming replica: on its first start a base backup of the primary (pg_basebackup -R writes the standby's
# connection and standby.signal; -C -S a replication slot, so the primary keeps the WAL the standby still needs),
# then PostgreSQL as a hot standby (read-only queries, replaying the primary's WAL as it comes).
set -euo pipefail
export PGDATA="${PGDATA:-/var/lib/postgresql/data}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    mkdir -p "$PGDATA" && chown postgres:postgres "$PGDATA" && chmod 700 "$PGDATA"
    PGPASSWORD="$(cat "$REPLICATION_PASSWORD_FILE")"
    export PGPASSWORD
    until pg_isready -h "$PRIMARY_HOST" -U replicator -d postgres; do sleep 1; done
    gosu postgres pg_basebackup -h "$PRIMARY_HOST" -U replicator -D "$PGDATA" -R -X stream -C -S replica1 --progress
    unset PGPASSWORD
fi
exec gosu postgres postgres -c hot_standby=on
