#!/usr/bin/env bash
# The backup service (compose profile "backup"): runs in the PostgreSQL image, so pg_dump matches
# the server, and dumps over the backend network every BACKUP_SCHEDULE into /backups (BACKUP_DIR on
# the host), keeping the last BACKUP_KEEP good dumps.
#
#   scheduled.sh          the loop (the service's command)
#   scheduled.sh health   exit 0 when the last attempt succeeded and the last success is recent
#                         (under two periods old): the service's health check
set -euo pipefail
# shellcheck source=db/backup/common.sh
. "$(dirname "$0")/common.sh"

dir=/backups
keep=${BACKUP_KEEP:-7}
period=$(schedule_seconds "${BACKUP_SCHEDULE:-daily}") || {
  echo "backup: BACKUP_SCHEDULE=${BACKUP_SCHEDULE} is not hourly, daily, weekly or a number with s, m, h or d (30m, 6h, 1d)" >&2
  exit 2
}
[[ $keep =~ ^[1-9][0-9]*$ ]] || {
  echo "backup: BACKUP_KEEP=$keep is not a whole number of 1 or more" >&2
  exit 2
}
status_value() { sed -n "s/^$1=//p" "$dir/$STATUS_NAME" 2>/dev/null || true; }

if [ "${1:-}" = health ]; then
  last_ok=$(status_value last_success_epoch)
  [ "$(status_value last_outcome)" = ok ] && [ -n "$last_ok" ] &&
    [ $(($(date -u +%s) - last_ok)) -lt $((2 * period)) ]
  exit
fi

log() { echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) backup: $*"; }

backup_once() {
  local started version name partial bytes took
  started=$(date +%s%3N)
  took() { awk -v a="$started" -v b="$(date +%s%3N)" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }
  version=$(psql -X -At -c "SELECT name FROM pgmigrations ORDER BY id DESC LIMIT 1" 2>&1 | sed -n 's/^\([0-9]*\)_.*/\1/p') || true
  if [ -z "$version" ]; then
    write_status "$dir" failed '' 0 "$(took)" "no schema version (database unreachable or not migrated)"
    log "FAILED: no schema version (database unreachable or not migrated)"
    return 1
  fi
  name=$(backup_name "$version")
  partial="$dir/.$name.partial"
  if ! pg_dump -Fc >"$partial"; then
    rm -f "$partial"
    write_status "$dir" failed "$name" 0 "$(took)" "pg_dump failed"
    log "FAILED: pg_dump failed"
    return 1
  fi
  mv "$partial" "$dir/$name"
  write_checksum "$dir/$name"
  bytes=$(stat -c %s "$dir/$name")
  write_status "$dir" ok "$name" "$bytes" "$(took)" "written by the backup service"
  log "wrote $name ($(human_size "$bytes")) in $(took)s"
  rotate "$dir" "$keep" | while read -r line; do log "$line"; done
}

# Stop promptly: the sleep runs in the background so the TERM from `docker compose stop` is seen.
trap 'exit 0' TERM INT
log "every $period s (BACKUP_SCHEDULE=${BACKUP_SCHEDULE:-daily}), keeping the last $keep good dumps in $dir"
while :; do
  last_ok=$(status_value last_success_epoch)
  wait_s=0
  [ -z "$last_ok" ] || wait_s=$((last_ok + period - $(date -u +%s)))
  if [ "$wait_s" -gt 0 ]; then
    log "next backup in ${wait_s}s"
    sleep "$wait_s" &
    wait $! || true
  fi
  # A failed attempt is retried after a tenth of the period (at least a minute, at most an hour).
  if ! backup_once; then
    retry=$((period / 10))
    [ "$retry" -ge 60 ] || retry=60
    [ "$retry" -le 3600 ] || retry=3600
    sleep "$retry" &
    wait $! || true
  fi
done
