#!/usr/bin/env bash
# Restart the stack from scratch and wait until every service is healthy.
#
#   ./run.sh           down, then up -d --build, then wait for db, cache, web
#   ./run.sh --reset   the same, but also delete the data volumes first
#
# Creates .env from .env.example with random passwords when there is none.
# Works with `docker compose` (v2) or `docker-compose` (1.29), whichever exists.
# RUN_TIMEOUT_S (default 180) bounds the wait for health.
set -euo pipefail

cd "$(dirname "$0")"

usage() {
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
}

reset=0
for arg in "$@"; do
  case "$arg" in
    --reset) reset=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument: $arg" >&2; usage >&2; exit 2 ;;
  esac
done

timeout_s=${RUN_TIMEOUT_S:-180}
services=(db cache web)

if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  compose=(docker-compose)
else
  echo "run.sh: neither 'docker compose' nor 'docker-compose' is available." >&2
  echo "        Install Docker with the Compose plugin (or docker-compose) first." >&2
  exit 1
fi

if [ ! -f .env ]; then
  if [ ! -f .env.example ]; then
    echo "run.sh: .env.example is missing; cannot create .env" >&2
    exit 1
  fi
  random_secret() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }
  umask 077
  sed -e "s/^POSTGRES_PASSWORD=.*/POSTGRES_PASSWORD=$(random_secret)/" \
      -e "s/^REDIS_PASSWORD=.*/REDIS_PASSWORD=$(random_secret)/" \
      .env.example > .env
  umask 022
  echo "==> Created .env with random passwords (from .env.example)."
fi

echo "==> Using: ${compose[*]}"
if [ "$reset" = 1 ]; then
  echo "==> Stopping the stack and deleting its volumes (--reset)"
  "${compose[@]}" down --volumes --remove-orphans
else
  echo "==> Stopping the stack (data volumes are kept; --reset deletes them)"
  "${compose[@]}" down --remove-orphans
fi

ids=()
# One `docker inspect` for all containers: "service=status" lines, where
# status is the health status, or the container state when it has no check.
statuses() {
  [ "${#ids[@]}" -gt 0 ] || return 0
  docker inspect -f '{{index .Config.Labels "com.docker.compose.service"}}={{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "${ids[@]}" 2>/dev/null || true
}
status_in() { # status_in SERVICE "STATUS LINES"
  local st
  st=$(printf '%s\n' "$2" | sed -n "s/^$1=//p" | head -n 1)
  echo "${st:-absent}"
}

show_failure() {
  echo >&2
  "${compose[@]}" ps >&2 || true
  local svc st all
  all=$(statuses)
  for svc in "${services[@]}"; do
    st=$(status_in "$svc" "$all")
    if [ "$st" != "healthy" ]; then
      echo >&2
      echo "==> $svc is $st; its last log lines:" >&2
      "${compose[@]}" logs --no-color --tail 40 "$svc" >&2 || true
    fi
  done
}

echo "==> Building and starting (web starts once db and cache are healthy)"
if ! "${compose[@]}" up -d --build; then
  echo "run.sh: '${compose[*]} up' failed." >&2
  # shellcheck disable=SC2207 # container ids: no spaces (bash 3 has no mapfile)
  ids=($("${compose[@]}" ps -q))
  show_failure
  exit 1
fi

# shellcheck disable=SC2207 # container ids: no spaces (bash 3 has no mapfile)
ids=($("${compose[@]}" ps -q))

echo "==> Waiting up to ${timeout_s}s for every service to be healthy"
start=$(date +%s)
last=""
while :; do
  line="" all=1 current=$(statuses)
  for svc in "${services[@]}"; do
    st=$(status_in "$svc" "$current")
    line+="$svc=$st "
    [ "$st" = "healthy" ] || all=0
  done
  elapsed=$(( $(date +%s) - start ))
  if [ "$line" != "$last" ]; then
    printf '    %3ss  %s\n' "$elapsed" "$line"
    last=$line
  fi
  [ "$all" = 1 ] && break
  if [ "$elapsed" -ge "$timeout_s" ]; then
    echo "run.sh: not healthy after ${timeout_s}s." >&2
    show_failure
    exit 1
  fi
  sleep 2
done

port=$("${compose[@]}" port web 8000 2>/dev/null | tail -n 1 | sed 's/.*://')
port=${port:-8000}
base="http://localhost:${port}"
cat <<URLS
==> The stack is up and healthy.
    App:      ${base}/
    Health:   ${base}/health
    Database: ${base}/db
    Cache:    ${base}/cache
    API docs: ${base}/docs
    Metrics:  ${base}/metrics
    Logs:     ${compose[*]} logs -f web
    Stop:     ${compose[*]} down      (add -v, or run ./run.sh --reset, to delete the data)
URLS
