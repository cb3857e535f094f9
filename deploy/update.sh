#!/usr/bin/env bash
# ./run.sh --update: build the web image from the code as it is now, then replace the running web
# replicas one at a time behind the proxy, without a failed request:
#
#   for each old replica: start one new replica (compose up --scale web=N+1 --no-recreate); wait
#   until it is healthy and the proxy has it in rotation; take the old one out of rotation through
#   HAProxy's runtime API (drain: no new requests, then wait until those in flight are answered,
#   then maint); stop it (SIGTERM: the service finishes what it holds) and remove it.
#
# A new replica that exits or restarts, or is not healthy and in rotation within UPDATE_TIMEOUT_S
# (default 120), is stopped and removed, the old replicas keep serving (the image tag goes back
# to the previous image when no replica was replaced yet), and the exit code is 1.
# Exit codes: 0 updated; 1 failed (see the message; the stack keeps serving); 2 nothing to update
# (the stack is not running: start it with ./run.sh).
#
# Works with `docker compose` (v2) and docker-compose 1.29; run.sh passes its command in
# UPDATE_COMPOSE. The runtime API is reached inside the proxy container with bash alone.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -n "${UPDATE_COMPOSE:-}" ]; then
  read -r -a compose <<<"$UPDATE_COMPOSE"
elif docker compose version >/dev/null 2>&1; then
  compose=(docker compose -f compose.yaml)
else
  compose=(docker-compose -f compose.yaml)
fi
timeout_s=${UPDATE_TIMEOUT_S:-120}
drain_s=${UPDATE_DRAIN_S:-20}
[[ $timeout_s =~ ^[1-9][0-9]*$ && $drain_s =~ ^[1-9][0-9]*$ ]] || {
  echo "update: UPDATE_TIMEOUT_S and UPDATE_DRAIN_S must be whole numbers of seconds (1 or more)." >&2
  exit 2
}

say() { echo "==> $*"; }
now_ms() { date +%s%3N; }
seconds_since() { awk -v a="$1" -v b="$(now_ms)" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }

# One command to HAProxy's runtime API (proxy/haproxy.cfg: admin level on the container's loopback).
api() {
  # shellcheck disable=SC2016 # expanded by the container's shell
  "${compose[@]}" exec -T proxy bash -c 'exec 3<>/dev/tcp/127.0.0.1/9999 && printf "%s\n" "$1" >&3 && cat <&3' api "$1"
}
ip_of() { docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "$1" | awk '{ print $1 }'; }
# "SLOT OP_STATE ADMIN_STATE" of the proxy's server slot holding IP; empty when none does.
slot_of() {
  api 'show servers state web' | awk -v ip="$1" '$2 == "web" && $5 == ip { print $4, $6, $7; exit }'
}
# Requests the slot is serving now (`scur` in `show stat`).
in_flight() { api 'show stat' | awk -F, -v s="$1" '$1 == "web" && $2 == s { print $5; exit }'; }
web_ids() { "${compose[@]}" ps -q web 2>/dev/null | sort; }
# "status health restarts" of a container.
state_of() {
  docker inspect -f '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}} {{.RestartCount}}' "$1" 2>/dev/null || echo 'gone none 0'
}

# ---- what runs now ---------------------------------------------------------------------
old_ids=$(web_ids)
if [ -z "$old_ids" ] || [ -z "$("${compose[@]}" ps -q proxy 2>/dev/null)" ]; then
  echo "update: the stack is not running (no web replica or no proxy): start it with ./run.sh." >&2
  exit 2
fi
all_ids=$("${compose[@]}" ps -a -q web 2>/dev/null | sort)
if [ "$all_ids" != "$old_ids" ]; then
  echo "update: some web containers are stopped: start the stack again (./run.sh) or remove them, then update." >&2
  exit 1
fi
count=$(echo "$old_ids" | wc -l)
first=$(echo "$old_ids" | head -n 1)
image=$(docker inspect -f '{{.Config.Image}}' "$first")
old_image=$(docker inspect -f '{{.Image}}' "$first")
api 'show servers state web' >/dev/null || {
  echo "update: the proxy's runtime API does not answer (proxy/haproxy.cfg: stats socket 127.0.0.1:9999)." >&2
  exit 1
}

# ---- build -----------------------------------------------------------------------------
start=$(now_ms)
say "Building the web image ($image)"
build_log=$(mktemp)
if ! "${compose[@]}" build web >"$build_log" 2>&1; then
  tail -n 30 "$build_log" >&2
  rm -f "$build_log"
  echo "update: the build failed (see above); nothing was changed." >&2
  exit 1
fi
rm -f "$build_log"
new_image=$(docker image inspect -f '{{.Id}}' "$image")
say "Built in $(seconds_since "$start")s: ${new_image:7:12}$([ "$new_image" != "$old_image" ] || echo ' (the same image as running now)')"

# ---- the way back from an interrupted step ----------------------------------------------
pending='' draining='' draining_slot='' replaced=0
on_exit() {
  local code=$?
  if [ -n "$pending" ]; then
    docker rm -f "$pending" >/dev/null 2>&1 || true
  fi
  if [ -n "$draining_slot" ] && [ -n "$(docker ps -q --filter "id=$draining" 2>/dev/null)" ]; then
    api "set server web/$draining_slot state ready" >/dev/null 2>&1 || true
  fi
  if [ "$code" != 0 ] && [ "$replaced" = 0 ] && [ "$new_image" != "$old_image" ]; then
    # No replica runs the new image: the tag goes back to the one the replicas run.
    docker tag "$old_image" "$image" >/dev/null 2>&1 && docker image rm "$new_image" >/dev/null 2>&1 || true
  fi
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail_new() { # fail_new ID WHY
  echo "update: FAILED: the new web replica ${1:0:12} $2." >&2
  echo "        Its last log lines:" >&2
  docker logs --tail 15 "$1" 2>&1 | sed 's/^/        | /' >&2 || true
  docker rm -f "$1" >/dev/null 2>&1 || true
  pending=''
  echo "        It was stopped and removed. The $count running replicas are untouched ($replaced of them" >&2
  echo "        already on the new image) and keep serving. Fix the cause, then run ./run.sh --update again." >&2
  exit 1
}

# Waits until container ID is healthy and in the proxy's rotation; fails at once when it exits or
# restarts.
wait_ready() { # wait_ready ID
  local deadline st ip slot
  deadline=$(($(date +%s) + timeout_s))
  while :; do
    st=$(state_of "$1")
    case "$st" in
      "running healthy 0")
        ip=$(ip_of "$1")
        read -r slot op admin <<<"$(slot_of "$ip")" || true
        if [ -n "${slot:-}" ]; then
          # A slot left out of rotation by an interrupted update: this replica is ours to put in.
          [ $((admin & 9)) = 0 ] || api "set server web/$slot state ready" >/dev/null
          [ "$op" != 2 ] || return 0
        fi
        ;;
      # Unhealthy may still turn healthy (a slow start on a busy machine): the time limit decides.
      "running starting 0" | "running unhealthy 0" | "running none 0" | "created "*) ;;
      *) fail_new "$1" "is not healthy (state, health, restarts: $st)" ;;
    esac
    [ "$(date +%s)" -lt "$deadline" ] ||
      fail_new "$1" "was not healthy and in the proxy's rotation within ${timeout_s}s (UPDATE_TIMEOUT_S; state, health, restarts: $st)"
    sleep 1
  done
}

retire() { # retire ID: out of rotation, in-flight requests answered, stopped, removed
  local ip slot op admin deadline n
  ip=$(ip_of "$1")
  read -r slot op admin <<<"$(slot_of "$ip")" || true
  if [ -n "${slot:-}" ]; then
    draining=$1 draining_slot=$slot
    api "set server web/$slot state drain" >/dev/null
    deadline=$(($(date +%s) + drain_s))
    while n=$(in_flight "$slot") && [ "${n:-0}" != 0 ] && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.2; done
    api "set server web/$slot state maint" >/dev/null
  fi
  docker stop "$1" >/dev/null
  docker rm "$1" >/dev/null
  if [ -n "${slot:-}" ]; then
    # Once DNS no longer names the old address, the slot is free for a later replica: out of
    # forced maintenance, or a replica that lands in it would never get a request.
    deadline=$(($(date +%s) + 15))
    while [ "$(slot_of "$ip" | awk '{ print $1 }')" = "$slot" ] && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.5; done
    api "set server web/$slot state ready" >/dev/null
  fi
  draining='' draining_slot=''
}

# ---- one replica at a time ---------------------------------------------------------------
i=0
for old in $old_ids; do
  i=$((i + 1))
  step=$(now_ms)
  known=$(web_ids)
  say "[$i/$count] Starting a new replica"
  "${compose[@]}" up -d --no-deps --no-build --no-recreate --scale "web=$((count + 1))" web >/dev/null 2>&1 || {
    echo "update: '${compose[*]} up --scale web=$((count + 1))' failed." >&2
    exit 1
  }
  pending=$(comm -13 <(echo "$known") <(web_ids) | head -n 1)
  if [ -z "$pending" ]; then
    pending=$("${compose[@]}" ps -a -q web | sort | comm -13 <(echo "$known") - | head -n 1)
    [ -n "$pending" ] || {
      echo "update: compose started no new web container." >&2
      exit 1
    }
  fi
  wait_ready "$pending"
  new=$pending
  pending=''
  say "[$i/$count] ${new:0:12} is healthy and in rotation; retiring ${old:0:12}"
  retire "$old"
  replaced=$((replaced + 1))
  say "[$i/$count] done in $(seconds_since "$step")s"
done

if [ "$new_image" != "$old_image" ]; then
  # The previous image, now unused and untagged (the tag moved to the new one).
  docker image rm "$old_image" >/dev/null 2>&1 || true
fi
say "Updated $count web replica(s) to ${new_image:7:12} in $(seconds_since "$start")s."
