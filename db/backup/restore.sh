#!/usr/bin/env bash
# ./run.sh --restore FILE [--yes]: replaces the running stack's database with a dump made by
# ./run.sh --backup or the backup service.
#
# Before touching anything it checks the file: its checksum; that pg_restore reads it whole (the
# table of contents, then every data block: a truncated file can have an intact table of
# contents); that it is this service's database; that its schema is not newer than this code's
# migrations; and that Redis answers (it is brought in line afterwards). It asks for confirmation
# unless --yes. Then: stop web; restore into a new database in one transaction; swap it in for the
# current one by renaming; bring Redis in line with it (visit counters rebuilt from PostgreSQL,
# cached lists dropped); start web, which applies pending migrations, and wait until every replica
# is ready on the restored database. Should anything fail or be interrupted after web was stopped,
# the exit trap puts the previous database back, brings Redis in line with it and starts web again.
# Exit codes: 0 restored; 1 refused or failed, the database as it was; 2 bad arguments.
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

# redis-cli in the cache container (REDISCLI_AUTH is set there); an error reply fails the call.
redis() {
  local out
  out=$("${compose[@]}" exec -T cache redis-cli --no-auth-warning "$@") || return 1
  case "$out" in ERR* | WRONGTYPE* | NOAUTH* | NOPERM* | LOADING* | MISCONF* | READONLY*)
    echo "redis-cli $1: $out" >&2
    return 1
    ;;
  esac
  printf '%s\n' "$out"
}

# ---- checks: nothing is touched until all pass -------------------------------------------
problem=$(checksum_problem "$file") || refuse "$problem"
require_db restore
[ "$(redis PING 2>/dev/null)" = PONG ] ||
  refuse "Redis (the cache service) does not answer, and the restore must bring it in line with the restored data: start it first (./run.sh), then restore"
start=$(now_ms)
# pg_restore of the db container reads the file on its standard input: no copy inside it.
toc=$(in_db pg_restore --list <"$file" 2>&1) || refuse "pg_restore cannot read it ($(echo "$toc" | tail -n 1))"
# The whole file, every data block decompressed, the output thrown away.
whole=$(in_db pg_restore -f /dev/null <"$file" 2>&1) ||
  refuse "pg_restore cannot read it to the end: it is truncated or corrupt ($(echo "$whole" | grep -v '^\s*$' | tail -n 1))"
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

# ---- the steps, and the way back from each ---------------------------------------------
staging="${db_name}_restoring" previous="${db_name}_before_restore" failed="${db_name}_failed_restore"
web_ids=$("${compose[@]}" ps -q web 2>/dev/null || true)

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

# What Redis derives from PostgreSQL follows the live database: the visit counters are set to its
# totals (the service only ever raises a counter, so a larger total left from before would hide
# the restored one); cached user lists are dropped and their generation moved on, so a fill that
# started before cannot put an old list back. Key/value entries are Redis's own data: kept.
align_redis() {
  local ttl commands replies
  ttl=$(env_value CACHE_TTL_S 60)
  # One redis-cli session for all of it: every exec into a container costs a second or more.
  commands=$(
    redis --scan --pattern 'visit_counter:*' | sed -n 's/^\(visit_counter:[^ ]*\)$/DEL \1/p'
    echo 'DEL users:cache'
    echo 'INCR users:gen'
    psql_db "$db_name" "SELECT 'SET visit_counter:' || label || ' ' || total || ' EX $ttl' FROM visit_counter"
  )
  replies=$(printf '%s\n' "$commands" | "${compose[@]}" exec -T cache redis-cli --no-auth-warning) || return 1
  if printf '%s\n' "$replies" | grep -Eq '^(ERR|WRONGTYPE|NOAUTH|NOPERM|LOADING|MISCONF|READONLY)'; then
    echo "restore: Redis refused: $(printf '%s\n' "$replies" | grep -E '^[A-Z]+ ' | head -n 1)" >&2
    return 1
  fi
}

# Every web container that was running is running again, answers /readyz (PostgreSQL reachable,
# migrations applied: it listens only after both) and passes its own health check; and the proxy,
# when there is one, has a replica in rotation again. A container that is not running (it exited
# or restarts in a loop) fails the wait at once instead of being skipped.
wait_web() {
  local deadline id st probe
  deadline=$(($(date +%s) + $(env_value RUN_TIMEOUT_S 180)))
  probe="fetch('http://127.0.0.1:8000/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
  for id in $web_ids; do
    while :; do
      st=$(docker inspect -f '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}} {{.RestartCount}}' "$id" 2>/dev/null || echo gone)
      case "$st" in
        "running healthy "*) docker exec "$id" node -e "$probe" 2>/dev/null && break ;;
        "running "*) ;;
        *)
          echo "restore: web container ${id:0:12} is not running ($st)." >&2
          return 1
          ;;
      esac
      [ "$(date +%s)" -lt "$deadline" ] || {
        echo "restore: web container ${id:0:12} is not ready after $(env_value RUN_TIMEOUT_S 180)s ($st)." >&2
        return 1
      }
      sleep 1
    done
  done
  [ -n "$("${compose[@]}" ps -q proxy 2>/dev/null)" ] || return 0
  until "${compose[@]}" exec -T proxy bash -c \
    "exec 3<>/dev/tcp/127.0.0.1/8000 && printf 'GET /proxyz HTTP/1.0\r\n\r\n' >&3 && head -n 1 <&3 | grep -q ' 200 '" 2>/dev/null; do
    [ "$(date +%s)" -lt "$deadline" ] || {
      echo "restore: the proxy has no web replica in rotation." >&2
      return 1
    }
    sleep 1
  done
}

# Compose's progress lines only when it fails.
quiet() { # quiet COMMAND...
  local out
  out=$("$@" 2>&1) || {
    echo "$out" >&2
    return 1
  }
}
start_web() { [ -z "$web_ids" ] || quiet "${compose[@]}" start web; }
stop_web() { [ -z "$web_ids" ] || quiet "${compose[@]}" stop web; }
drop_db() { # drop_db NAME: when it exists
  [ "$(psql_db postgres "SELECT 1 FROM pg_database WHERE datname = '$1'")" != 1 ] || psql_db postgres "DROP DATABASE \"$1\""
}
# Progress, with the seconds since web was stopped.
step_say() { echo "==> $* ($(seconds_since "$start")s)"; }

# none: nothing touched yet; stopped: web is stopped; staging: a new database holds (part of) the
# dump; swapped: the dump is live, the previous database kept under $previous; done.
step=none
on_exit() {
  local code=$?
  [ "$step" != done ] && [ "$step" != none ] || return 0
  trap - INT TERM
  echo >&2
  echo "restore: FAILED or interrupted (step: $step); putting things back as they were." >&2
  if [ "$step" = swapped ]; then
    stop_web || true
    drop_db "$failed" || true
    if swap "$previous" "$failed"; then
      echo "restore: the previous database is live again; the restored one is kept as \"$failed\" to inspect (drop it when done)." >&2
    else
      echo "restore: could not swap the previous database back: it is \"$previous\"; rename it to \"$db_name\" by hand." >&2
    fi
    align_redis || echo "restore: Redis could not be brought in line; it refills itself (counters expire after CACHE_TTL_S)." >&2
  else
    drop_db "$staging" || true
  fi
  if [ -n "$web_ids" ]; then
    echo "restore: starting web again." >&2
    if start_web && wait_web; then
      echo "restore: web is back on the previous database." >&2
    else
      echo "restore: web did not come back: see '${compose[*]} logs web'." >&2
    fi
  fi
  echo "restore: nothing of $(basename "$file") is live." >&2
  exit "$((code == 0 ? 1 : code))"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- restore into a new database, then swap ---------------------------------------------
start=$(now_ms)
echo "==> Stopping web"
step=stopped
stop_web
step=staging
drop_db "$staging"
psql_db postgres "CREATE DATABASE \"$staging\""
step_say "Restoring into a new database \"$staging\" in one transaction"
# shellcheck disable=SC2016 # expanded by the container's shell
in_db sh -c 'pg_restore -U "$POSTGRES_USER" -d "$1" --single-transaction --exit-on-error --no-owner --no-acl' \
  pg_restore "$staging" <"$file"
drop_db "$previous"
step_say "Swapping it in (the current database is kept as \"$previous\" until web is ready on the new one)"
swap "$staging" "$previous"
step=swapped
step_say "Bringing Redis in line with it (visit counters from PostgreSQL, cached lists dropped)"
align_redis
if [ -n "$web_ids" ]; then
  step_say "Starting web (it applies pending migrations) and waiting until it is ready"
  start_web
  wait_web
fi
drop_db "$previous"
step=done
took=$(seconds_since "$start")
counts=$(psql_db "$db_name" "SELECT (SELECT count(*) FROM users) || ' users, ' || (SELECT coalesce(sum(total), 0) FROM visit_counter) || ' visits'")
cat <<DONE
==> Restored $(basename "$file") in ${took}s (web stopped for that long).
    Schema:  $(schema_version) (the dump had $dump_schema)
    Data:    $counts
    web:     $([ -n "$web_ids" ] && echo "ready ($(echo "$web_ids" | wc -w) replica(s))" || echo 'was not running; start it with ./run.sh')
DONE
