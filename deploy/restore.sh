#!/usr/bin/env bash
# Restores one database from a dump made by backup.sh: the database is dropped and
# created again from the dump (stop the services that write to it first).
#   deploy/restore.sh /backups/backends-20261204T020000Z.dump backends
set -euo pipefail
dump=${1:?usage: restore.sh <file.dump> <database>}
db=${2:?usage: restore.sh <file.dump> <database>}
pg_restore --list "$dump" >/dev/null   # refuse a damaged or foreign file before dropping
psql --quiet --set ON_ERROR_STOP=1 --dbname=postgres \
  --command="DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" \
  --command="CREATE DATABASE \"$db\""
pg_restore --no-owner --exit-on-error --dbname="$db" "$dump"
echo "restored $db from $dump"
