# Sourced by backup.sh and restore.sh: how the host reaches the stack. run.sh passes its Compose
# command in BACKUP_COMPOSE; run alone, these scripts find one the same way run.sh does.

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

if [ -n "${BACKUP_COMPOSE:-}" ]; then
  read -r -a compose <<<"$BACKUP_COMPOSE"
elif docker compose version >/dev/null 2>&1; then
  compose=(docker compose -f compose.yaml)
else
  compose=(docker-compose -f compose.yaml)
fi

# .env's value when the shell does not set one, as Compose itself resolves it.
env_value() { # env_value NAME DEFAULT
  local v=${!1:-}
  [ -n "$v" ] || v=$(sed -n "s/^$1=//p" .env 2>/dev/null | tail -n 1 | tr -d "\"'")
  echo "${v:-$2}"
}

backup_dir=$(env_value BACKUP_DIR backups)
# psql and friends inside the db container, as its own user, over its Unix socket: no password
# crosses the command line, and client and server versions match.
in_db() { "${compose[@]}" exec -T db "$@"; }
# shellcheck disable=SC2016 # expanded by the container's shell
psql_db() { # psql_db DATABASE SQL
  in_db sh -c 'psql -X -q -v ON_ERROR_STOP=1 -At -U "$POSTGRES_USER" -d "$1" -c "$2"' psql "$1" "$2"
}
db_name=$(env_value POSTGRES_DB app)

# The last applied migration's number: the schema version.
schema_version() { # schema_version [DATABASE]
  psql_db "${1:-$db_name}" "SELECT name FROM pgmigrations ORDER BY id DESC LIMIT 1" | sed -n 's/^\([0-9]*\)_.*/\1/p'
}

require_db() {
  if [ -z "$("${compose[@]}" ps -q db 2>/dev/null)" ] || ! in_db true 2>/dev/null; then
    echo "$1: the db service is not running: start the stack first (./run.sh)." >&2
    exit 1
  fi
}

now_ms() { date +%s%3N; }
seconds_since() { awk -v a="$1" -v b="$(now_ms)" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }
