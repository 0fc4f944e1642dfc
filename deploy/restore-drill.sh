#!/usr/bin/env bash
# Restore drill: prove that a backup of the log restores to a log that verifies.
#
#   deploy/restore-drill.sh [SOURCE_URL]
#
# 1. pg_dump the source database (custom format: what the nightly backup job keeps);
# 2. restore it into a scratch database on the same server;
# 3. `dispatch verify` against the scratch copy: every event's hash chain, every seal
#    (signed with DISPATCH_SEAL_KEY when it is set), every attachment file;
# 4. compare the head position and event count of source and copy;
# 5. drop the scratch database (DRILL_KEEP=1 keeps it for a look).
#
# SOURCE_URL defaults to DISPATCH_DATABASE_URL. With DRILL_SEED=N (and no data in the source)
# the source is first filled with N demo cases, so the drill can run on an empty server.
# Exit 0 only when the copy verifies and matches; run it monthly and after every upgrade.
set -euo pipefail

SOURCE_URL="${1:-${DISPATCH_DATABASE_URL:-}}"
if [[ -z "$SOURCE_URL" || "$SOURCE_URL" != postgres* ]]; then
  echo "usage: $0 postgresql://user@host:port/db   (or set DISPATCH_DATABASE_URL)" >&2
  exit 2
fi
DISPATCH="${DISPATCH:-dispatch}"
PYTHON="${PYTHON:-python3}"
SOURCE_URL="${SOURCE_URL/postgresql+psycopg:/postgresql:}"
SERVER_URL="${SOURCE_URL%/*}"
SCRATCH="restore_drill_$(date +%Y%m%d%H%M%S)_$$"
SCRATCH_URL="$SERVER_URL/$SCRATCH"
WORK="$(mktemp -d)"
DUMP="$WORK/backup.dump"

cleanup() {
  if [[ "${DRILL_KEEP:-0}" != 1 ]]; then
    psql -q "$SERVER_URL/postgres" -c "DROP DATABASE IF EXISTS \"$SCRATCH\"" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

count_events() {
  psql -qtA "$1" -c "SELECT count(*) || ' ' || coalesce(max(position), 0) FROM events"
}

if [[ -n "${DRILL_SEED:-}" ]]; then
  if ! psql -qtA "$SOURCE_URL" -c "SELECT 1 FROM events LIMIT 1" 2>/dev/null | grep -q 1; then
    echo "== seeding $SOURCE_URL with $DRILL_SEED demo cases"
    DISPATCH_DATABASE_URL="$SOURCE_URL" "$PYTHON" - "$DRILL_SEED" <<'PY'
import sys
from datetime import UTC, datetime

from dispatch.bootstrap import bootstrap
from dispatch.demo.agenda import DemoClock
from dispatch.demo.history import write_history
from dispatch.ops.migrations import prepare_database
from dispatch.settings import Settings
from events.seals import seal_log

config = Settings()
clock = DemoClock(datetime.now(UTC))
container = bootstrap(config, clock=clock)
prepare_database(container.engine)
write_history(container, clock, cases=int(sys.argv[1]), seed=7, end=clock.now)
seal_log(container.engine, key=config.seal_key)
container.close()
PY
  fi
fi

echo "== 1. backup: pg_dump $SOURCE_URL"
started=$(date +%s)
pg_dump --format=custom --no-owner --no-privileges --file="$DUMP" "$SOURCE_URL"
read -r source_events source_head < <(count_events "$SOURCE_URL")
echo "   $(du -h "$DUMP" | cut -f1) in $(( $(date +%s) - started ))s; $source_events events, head $source_head"

echo "== 2. restore into $SCRATCH"
started=$(date +%s)
psql -q "$SERVER_URL/postgres" -c "CREATE DATABASE \"$SCRATCH\"" >/dev/null
pg_restore --no-owner --no-privileges --exit-on-error --dbname="$SCRATCH_URL" "$DUMP"
echo "   restored in $(( $(date +%s) - started ))s"

echo "== 3. dispatch verify against the copy"
DISPATCH_DATABASE_URL="$SCRATCH_URL" "$DISPATCH" verify

echo "== 4. the copy holds what the backup held"
read -r copy_events copy_head < <(count_events "$SCRATCH_URL")
if [[ "$copy_events" != "$source_events" || "$copy_head" != "$source_head" ]]; then
  # The source may have grown since the dump; the copy must never hold more than it.
  if (( copy_head > source_head )); then
    echo "FAIL: the copy's head $copy_head is past the source's $source_head" >&2
    exit 1
  fi
fi
echo "   $copy_events events, head $copy_head"
echo "restore drill passed: the backup restores to a log that verifies"
