#!/usr/bin/env bash
# Backs up every Delhi Sewa database with pg_dump (custom format, compressed), one file
# per database: $BACKUP_DIR/<db>-<UTC time>.dump. Connection from the standard libpq
# variables (PGHOST, PGPORT, PGUSER, PGPASSWORD or ~/.pgpass). Run nightly (cron / a
# Kubernetes CronJob); keep 35 daily copies off-host, in India (docs/operations.md).
#   BACKUP_DIR=/backups DATABASES="tracker events channel backends dashboard" deploy/backup.sh
set -euo pipefail
: "${BACKUP_DIR:?set BACKUP_DIR}"
DATABASES=${DATABASES:-"tracker events channel backends dashboard"}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$BACKUP_DIR"
umask 077   # dumps hold personal data: readable by the backup user only
for db in $DATABASES; do
  out="$BACKUP_DIR/$db-$stamp.dump"
  pg_dump --format=custom --compress=6 --no-owner --file="$out.partial" "$db"
  mv "$out.partial" "$out"
  echo "backup $db -> $out ($(stat -c %s "$out") bytes)"
done
