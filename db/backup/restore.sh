#!/usr/bin/env bash
# ./run.sh --restore FILE [--yes]: replaces the running stack's database with a dump made by
# ./run.sh --backup or the backup service.
#
# Before touching anything it checks the file (checksum, pg_restore --list, that it is this
# service's database, that its schema is not newer than this code's migrations) and asks for
# confirmation unless --yes. Then: stop web; restore into a new database in one transaction; swap it
# in for the current one by renaming (the current one is kept until web is healthy again, then
# dropped, or swapped back when web does not come up); rebuild what Redis derives from PostgreSQL;
# start web, which applies pending migrations. Exit codes: 0 restored; 1 refused or failed, the
# database as it was; 2 bad arguments.
set -euo pipefail
# shellcheck source=db/backup/host.sh
. "$(dirname "$0")/host.sh"
# shellcheck source=db/backup/common.sh
. db/backup/common.sh

file='' yes=0
for arg in "$@"; do
  case "$arg" in
    --yes | -y) yes=1 ;;
    -*)
      echo "restore: unknown option $arg" >&2
      exit 2
      ;;
    *) file=$arg ;;
  esac
done
[ -n "$file" ] || {
  echo "restore: which file? ./run.sh --restore FILE [--yes]" >&2
  exit 2
}
refuse() {
  echo "restore: refused: $(basename "$file"): $1" >&2
  echo "         Nothing was changed: the database is as it was." >&2
  exit 1
}
[ -f "$file" ] || refuse "no such file"

# ---- checks: nothing is touched until all pass -------------------------------------------
problem=$(checksum_problem "$file") || refuse "$problem"
require_db restore
start=$(now_ms)
# pg_restore of the db container reads the file on its standard input: no copy inside it.
toc=$(in_db pg_restore --list <"$file" 2>&1) || refuse "pg_restore cannot read it ($(echo "$toc" | tail -n 1))"
for table in pgmigrations visit_counter visits users; do
  echo "$toc" | grep -Eq "TABLE public $table " ||
    refuse "it is not a backup of this service (no table $table); restore it by hand if it is yours"
done
applied=$(in_db pg_restore --data-only --table=pgmigrations -f - <"$file" |
  awk '/^COPY /{on=1; next} /^\\\.$/{on=0} on { print $2 }')
[ -n "$applied" ] || refuse "it records no applied migration"
known=$(find web/migrations -maxdepth 1 -type f -printf '%f\n' | sed 's/\.[^.]*$//' | sort)
unknown=$(comm -23 <(echo "$applied" | sort) <(echo "$known"))
dump_schema=$(echo "$applied" | sort | tail -n 1 | sed 's/_.*//')
code_schema=$(echo "$known" | tail -n 1 | sed 's/_.*//')
[ -z "$unknown" ] ||
  refuse "its schema ($dump_schema) is newer than this code knows ($code_schema; unknown: $(echo "$unknown" | tr '\n' ' ')). Update the code first, then restore."
created=$(echo "$toc" | sed -n 's/^; Archive created at //p')
current_schema=$(schema_version 2>/dev/null || echo none)

cat <<PLAN
==> $(basename "$file") passed its checks ($(seconds_since "$start")s)
    Taken:   ${created:-unknown}; schema $dump_schema (this code: $code_schema; the database now: ${current_schema:-none})
    Size:    $(human_size "$(stat -c %s "$file")")
    It will replace database "$db_name". web stops while it restores.
PLAN
if [ "$yes" = 0 ]; then
  if [ ! -t 0 ]; then
    echo "restore: not a terminal, so nobody can confirm: add --yes to restore without asking." >&2
    exit 2
  fi
  read -r -p "    Type yes to restore: " answer
  [ "$answer" = yes ] || refuse "not confirmed"
fi

# ---- restore into a new database, then swap ---------------------------------------------
staging="${db_name}_restoring" previous="${db_name}_before_restore"
start=$(now_ms)
web_ids=$("${compose[@]}" ps -q web 2>/dev/null || true)
start_web() { [ -z "$web_ids" ] || "${compose[@]}" start web >/dev/null; }
echo "==> Stopping web"
[ -z "$web_ids" ] || "${compose[@]}" stop web >/dev/null
psql_db postgres "DROP DATABASE IF EXISTS \"$staging\"" && psql_db postgres "CREATE DATABASE \"$staging\""
echo "==> Restoring into a new database \"$staging\" in one transaction"
# shellcheck disable=SC2016 # expanded by the container's shell
if ! in_db sh -c 'pg_restore -U "$POSTGRES_USER" -d "$1" --single-transaction --exit-on-error --no-owner --no-acl' \
  pg_restore "$staging" <"$file"; then
  psql_db postgres "DROP DATABASE IF EXISTS \"$staging\"" || true
  start_web
  refuse "pg_restore failed (see above)"
fi

swap() { # swap FROM TO: the live database becomes TO, FROM becomes the live one
  local sql="SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '$db_name' AND pid <> pg_backend_pid();
ALTER DATABASE \"$db_name\" RENAME TO \"$2\"; ALTER DATABASE \"$1\" RENAME TO \"$db_name\";"
  # A client that connects between the terminate and the rename makes the rename fail: try again.
  for _ in 1 2 3 4 5; do
    psql_db postgres "BEGIN; $sql COMMIT;" >/dev/null 2>&1 && return 0
    sleep 1
  done
  psql_db postgres "BEGIN; $sql COMMIT;" >/dev/null
}
psql_db postgres "DROP DATABASE IF EXISTS \"$previous\""
echo "==> Swapping it in (the current database is kept as \"$previous\" until web is healthy)"
swap "$staging" "$previous"

# ---- Redis: what it derives from PostgreSQL follows the restored data ----------------------
# The visit counters are set to the restored totals (they only ever grow, so a larger total left
# from before would hide the restored one); cached user lists are dropped and their generation
# moved on. Key/value entries are Redis's own data and stay as they are.
ttl=$(env_value CACHE_TTL_S 60)
echo "==> Rebuilding Redis state derived from PostgreSQL"
redis() { "${compose[@]}" exec -T cache redis-cli --no-auth-warning "$@"; }
stale_counters=$(redis --scan --pattern 'visit_counter:*' | tr '\n' ' ')
[ -z "${stale_counters// /}" ] || redis DEL $stale_counters >/dev/null
redis DEL users:cache >/dev/null
redis INCR users:gen >/dev/null
while read -r label total; do
  [ -z "$label" ] || redis SET "visit_counter:$label" "$total" EX "$ttl" >/dev/null
done < <(psql_db "$db_name" "SELECT label || ' ' || total FROM visit_counter" | tr '|' ' ')

# ---- web back: it applies pending migrations at start -------------------------------------
wait_web() {
  local deadline=$(($(date +%s) + $(env_value RUN_TIMEOUT_S 180))) id st all
  while [ "$(date +%s)" -lt "$deadline" ]; do
    all=1
    for id in $("${compose[@]}" ps -q web); do
      st=$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$id")
      [ "$st" = healthy ] || all=0
    done
    [ "$all" = 1 ] && return 0
    sleep 2
  done
  return 1
}
if [ -n "$web_ids" ]; then
  echo "==> Starting web (it applies pending migrations)"
  start_web
  if ! wait_web; then
    echo "restore: web did not become healthy on the restored database; putting the previous one back." >&2
    "${compose[@]}" stop web >/dev/null
    swap "$previous" "${db_name}_failed_restore"
    start_web
    echo "restore: the previous database is back; the restored one is kept as \"${db_name}_failed_restore\" to inspect." >&2
    "${compose[@]}" logs --no-color --tail 30 web >&2 || true
    exit 1
  fi
fi
psql_db postgres "DROP DATABASE \"$previous\""
counts=$(psql_db "$db_name" "SELECT (SELECT count(*) FROM users) || ' users, ' || (SELECT coalesce(sum(total), 0) FROM visit_counter) || ' visits'")
cat <<DONE
==> Restored $(basename "$file") in $(seconds_since "$start")s.
    Schema:  $(schema_version) (the dump had $dump_schema)
    Data:    $counts
    web:     ${web_ids:+healthy}${web_ids:-was not running; start it with ./run.sh}
DONE
