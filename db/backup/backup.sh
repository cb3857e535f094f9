#!/usr/bin/env bash
# ./run.sh --backup: a consistent dump of the running stack's database (pg_dump's custom format,
# one snapshot, taken inside the db container) into BACKUP_DIR (default backups/), named with the
# time and the schema version, with a sha256 checksum beside it. Prints the file, its size and how
# long it took. Exit codes: 0 written; 1 failed (nothing half-written is left behind).
#
# backup.sh status (./run.sh --backup-status): the last backup's time and outcome, from
# BACKUP_DIR/last-backup.status. Exit 0 when it succeeded less than two BACKUP_SCHEDULE periods
# ago; 1 when it failed, is overdue, or there is none.
set -euo pipefail
# shellcheck source=db/backup/host.sh
. "$(dirname "$0")/host.sh"
# shellcheck source=db/backup/common.sh
. db/backup/common.sh

if [ "${1:-}" = status ]; then
  status="$backup_dir/$STATUS_NAME"
  if [ ! -f "$status" ]; then
    echo "backup status: no backup recorded in $backup_dir yet (./run.sh --backup makes one)."
    exit 1
  fi
  sed 's/^/    /' "$status"
  period=$(schedule_seconds "$(env_value BACKUP_SCHEDULE daily)") || period=86400
  last_ok=$(sed -n 's/^last_success_epoch=//p' "$status")
  if [ "$(sed -n 's/^last_outcome=//p' "$status")" != ok ]; then
    echo "backup status: the last attempt FAILED (see last_message; the service's logs: ${compose[*]} logs backup)."
    exit 1
  elif [ $(($(date -u +%s) - ${last_ok:-0})) -ge $((2 * period)) ]; then
    echo "backup status: OVERDUE: the last success is older than two periods of BACKUP_SCHEDULE."
    exit 1
  fi
  echo "backup status: ok"
  exit 0
fi

require_db backup
mkdir -p "$backup_dir"
start=$(now_ms)
version=$(schema_version) || version=''
if [ -z "$version" ]; then
  echo "backup: the database has no applied migration (pgmigrations is empty or missing): nothing of this service to back up." >&2
  exit 1
fi
name=$(backup_name "$version")
partial="$backup_dir/.$name.partial"
trap 'rm -f "$partial"' EXIT
echo "==> Dumping database \"$db_name\" (schema $version) inside the db container"
# shellcheck disable=SC2016 # expanded by the container's shell
if ! in_db sh -c 'pg_dump -Fc -U "$POSTGRES_USER" -d "$POSTGRES_DB"' >"$partial"; then
  write_status "$backup_dir" failed "$name" 0 "$(seconds_since "$start")" "pg_dump failed"
  echo "backup: pg_dump failed (see above); no file was written." >&2
  exit 1
fi
mv "$partial" "$backup_dir/$name"
write_checksum "$backup_dir/$name"
bytes=$(stat -c %s "$backup_dir/$name")
took=$(seconds_since "$start")
write_status "$backup_dir" ok "$name" "$bytes" "$took" "written by ./run.sh --backup"
cat <<DONE
==> Backup written.
    File:     $backup_dir/$name
    Checksum: $backup_dir/$name.sha256
    Size:     $(human_size "$bytes") ($bytes bytes)
    Took:     ${took}s
    Restore:  ./run.sh --restore $backup_dir/$name
DONE
