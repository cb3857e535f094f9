#!/usr/bin/env bash
# Restart the stack from scratch and wait until every service is healthy.
#
#   ./run.sh            down, then up -d --build, then wait for db, cache, web
#   ./run.sh --reset    the same, but also delete the data volumes first
#   ./run.sh --offline  no image registry needed: build local stand-ins for the official images
#                       (offline/stand-ins.sh: Debian packages, debootstrap, npm) and use them
#   ./run.sh --dev      the development shape: compose.override.yaml too (db and cache published
#                       on 127.0.0.1, web reloads when web/src changes)
#   ./run.sh --swarm    the same stack on Docker Swarm (deploy/swarm.sh, docs/swarm.md): swarm init
#                       when needed, secrets from .env, web built and rolled out, wait until healthy
#   ./run.sh --swarm --down [--reset]   remove the Swarm stack (--reset: its volumes and secrets too;
#                       --swarm --reset deploys from empty volumes)
#   ./run.sh --backup   dump the running stack's database into BACKUP_DIR (default backups/)
#   ./run.sh --restore FILE [--yes]   check FILE, then replace the database with it (docs/backups.md)
#   ./run.sh --backup-status          when the last backup ran and how it went
#   ./run.sh --update   build web from the code as it is, replace the running replicas one at a time
#                       behind the proxy, without downtime (deploy/update.sh, docs/updates.md)
#
# Creates .env from .env.example with random passwords when there is none. Works with
# `docker compose` (v2) or `docker-compose` (1.29), whichever exists. RUN_TIMEOUT_S (default 180)
# bounds the wait for health. Exit codes: 0 healthy; 1 not healthy, or compose failed; 2 bad
# arguments; 3 Docker or Compose missing, or the engine not reachable; 4 an image could not be
# pulled; 5 --offline could not build the stand-ins.
set -euo pipefail

cd "$(dirname "$0")"

usage() {
  sed -n '2,/^[^#]/p' "$0" | sed -n 's/^# \{0,1\}//p'
}

reset=0 offline=0 dev=0 swarm=0 down=0 action='' restore_file='' restore_yes=''
for arg in "$@"; do
  case "$arg" in
    --backup | --backup-status | --restore | --update) action=${arg#--} ;;
    --yes) restore_yes=--yes ;;
    --reset) reset=1 ;;
    --offline) offline=1 ;;
    --dev) dev=1 ;;
    --swarm) swarm=1 ;;
    --down) down=1 ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      if [ "$action" = restore ] && [ -z "$restore_file" ] && [ "${arg#-}" = "$arg" ]; then
        restore_file=$arg
        continue
      fi
      echo "run.sh: unknown argument: $arg" >&2
      usage >&2
      exit 2
      ;;
  esac
done

if [ "$down" = 1 ] && [ "$swarm" = 0 ]; then
  echo "run.sh: --down goes with --swarm (for Compose: docker compose down)" >&2
  exit 2
fi

timeout_s=${RUN_TIMEOUT_S:-180}
services=(db cache web proxy)
# compose.yaml alone is the production shape; Compose would add compose.override.yaml by itself.
files=(-f compose.yaml)
[ "$dev" = 0 ] || files+=(-f compose.override.yaml)

# ---- preflight: Docker, Compose, a running engine -----------------------------------------
if ! command -v docker >/dev/null 2>&1; then
  echo "run.sh: Docker is not installed (no 'docker' command): install Docker Engine or Docker Desktop first." >&2
  exit 3
fi
if docker compose version >/dev/null 2>&1; then
  compose=(docker compose "${files[@]}")
elif command -v docker-compose >/dev/null 2>&1; then
  compose=(docker-compose "${files[@]}")
else
  echo "run.sh: Docker Compose is not installed: install the Compose plugin ('docker compose') or docker-compose." >&2
  exit 3
fi
# Docker 26's client exits 0 with empty output when no engine answers: judge by the output.
info_err=$(mktemp)
server=$(docker info --format '{{.ServerVersion}}' 2>"$info_err" || true)
cause=$(grep -v '^\s*$' "$info_err" | tail -n 1 || true)
rm -f "$info_err"
if [ -z "$server" ]; then
  if printf '%s' "$cause" | grep -qi 'permission denied'; then
    echo "run.sh: this user may not use the Docker engine: add it to the docker group (sudo usermod -aG docker \$USER, then log in again), or run ./run.sh with sudo." >&2
  else
    echo "run.sh: the Docker engine is not running: start it (Linux: sudo systemctl start docker; Docker Desktop: open it), then run ./run.sh again." >&2
  fi
  [ -z "$cause" ] || echo "        (docker info: $cause)" >&2
  exit 3
fi

# ---- .env ------------------------------------------------------------------------------
if [ ! -f .env ]; then
  if [ ! -f .env.example ]; then
    echo "run.sh: .env.example is missing; cannot create .env" >&2
    exit 1
  fi
  random_secret() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }
  umask 077
  sed -e "s/^POSTGRES_PASSWORD=.*/POSTGRES_PASSWORD=$(random_secret)/" \
    -e "s/^REDIS_PASSWORD=.*/REDIS_PASSWORD=$(random_secret)/" \
    .env.example >.env
  umask 022
  echo "==> Created .env with random passwords (from .env.example)."
fi

echo "==> Using: ${compose[*]} (Docker engine $server)"

swarm_down=(down)
[ "$reset" = 0 ] || swarm_down+=(--reset)
[ "$swarm" = 0 ] || [ "$down" = 0 ] || exec deploy/swarm.sh "${swarm_down[@]}"

# ---- backup and restore work on the running stack: no restart ------------------------------
if [ -n "$action" ] && [ "$action" != update ]; then
  export BACKUP_COMPOSE="${compose[*]}"
  case "$action" in
    backup) exec db/backup/backup.sh ;;
    backup-status) exec db/backup/backup.sh status ;;
    restore) exec db/backup/restore.sh "$restore_file" $restore_yes ;;
  esac
fi

# ---- images: every image the stack runs or builds on, present or pulled -----------------------
# The images compose.yaml resolves to (.env and the shell's POSTGRES_IMAGE, REDIS_IMAGE, PROXY_IMAGE,
# NODE_IMAGE included): each service's image: and web's NODE_IMAGE build argument.
stack_images() {
  "${compose[@]}" config | sed -n -e 's/^ *image: *//p' -e 's/^ *NODE_IMAGE: *//p' | tr -d "\"'" | sort -u
}
images_text=$(stack_images) || {
  echo "run.sh: '${compose[*]} config' failed (see above)." >&2
  exit 1
}
# shellcheck disable=SC2206 # image names have no spaces (bash 3 has no mapfile)
images=($images_text)

if [ "$offline" = 1 ]; then
  echo "==> Building stand-ins for ${images[*]} (--offline)"
  built=$(mktemp)
  if ! DOCKER=docker offline/stand-ins.sh build "${images[@]}" >"$built"; then
    rm -f "$built"
    echo "run.sh: --offline could not build the stand-in images (see above)." >&2
    exit 5
  fi
  while IFS='=' read -r name value; do
    case "$name" in POSTGRES_IMAGE | REDIS_IMAGE | PROXY_IMAGE | NODE_IMAGE) export "$name=$value" ;; esac
  done <"$built"
  echo "==> Stand-ins for this run (the same lines in .env make them the default):"
  sed 's/^/        /' "$built"
  rm -f "$built"
  images_text=$(stack_images)
  # shellcheck disable=SC2206
  images=($images_text)
fi

for image in "${images[@]}"; do
  docker image inspect "$image" >/dev/null 2>&1 && continue
  echo "==> Pulling $image"
  pull_log=$(mktemp)
  # Progress on the terminal; the error goes into the paragraph below.
  if docker pull "$image" 2>"$pull_log"; then
    rm -f "$pull_log"
    continue
  fi
  cause=$(grep -v '^\s*$' "$pull_log" | tail -n 1)
  rm -f "$pull_log"
  cat >&2 <<PULL
run.sh: Docker could not pull $image, so the stack cannot start.
        (docker pull: $cause)
        This machine cannot reach that image registry, or the registry refused. Ways out: name
        images you can reach in .env (POSTGRES_IMAGE, REDIS_IMAGE, PROXY_IMAGE, NODE_IMAGE: a mirror's copies,
        or images already on this machine); or give the engine a registry mirror
        ("registry-mirrors" in /etc/docker/daemon.json); or run ./run.sh --offline, which builds
        local stand-ins from Debian packages (needs debootstrap and root) and starts the stack
        with them. See "When ./run.sh fails" in README.md.
PULL
  exit 4
done

# What the service shows when it runs on stand-ins (their real versions); empty otherwise.
STACK_IMAGE_NOTE=$(DOCKER=docker offline/stand-ins.sh note "${images[@]}")
export STACK_IMAGE_NOTE
[ -z "$STACK_IMAGE_NOTE" ] || echo "==> Note: $STACK_IMAGE_NOTE"

# ---- an update replaces the running replicas, behind the proxy: no restart ------------------
if [ "$action" = update ]; then
  export UPDATE_COMPOSE="${compose[*]}"
  exec deploy/update.sh
fi

# Swarm: the images are ready; deploy/swarm.sh does the rest (--reset: from empty volumes).
if [ "$swarm" = 1 ]; then
  [ "$reset" = 0 ] || deploy/swarm.sh down --reset
  exec deploy/swarm.sh up
fi

# ---- down, up, wait ---------------------------------------------------------------------
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
# The stack's containers, running or not: Compose finds them by its labels.
container_ids() { "${compose[@]}" ps -a -q 2>/dev/null || "${compose[@]}" ps -q; }

show_failure() {
  echo >&2
  "${compose[@]}" ps -a >&2 || true
  local svc st all
  all=$(statuses)
  for svc in "${services[@]}"; do
    st=$(status_in "$svc" "$all")
    if [ "$st" = "absent" ]; then
      echo "==> $svc has no container." >&2
    elif [ "$st" != "healthy" ]; then
      echo >&2
      echo "==> $svc is $st; its last log lines:" >&2
      "${compose[@]}" logs --no-color --tail 40 "$svc" >&2 || true
    fi
  done
}

echo "==> Building and starting (web starts once db and cache are healthy)"
if ! "${compose[@]}" up -d --build; then
  echo "run.sh: '${compose[*]} up' failed (see above)." >&2
  # shellcheck disable=SC2207 # container ids: no spaces (bash 3 has no mapfile)
  ids=($(container_ids))
  show_failure
  exit 1
fi

# shellcheck disable=SC2207 # container ids: no spaces (bash 3 has no mapfile)
ids=($(container_ids))

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
  elapsed=$(($(date +%s) - start))
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

port=$("${compose[@]}" port proxy 8000 2>/dev/null | tail -n 1 | sed 's/.*://')
port=${port:-8000}
base="http://localhost:${port}"
plain=${compose[0]}
[ "$plain" = docker ] && plain="docker compose"
cat <<URLS
==> The stack is up and healthy.
    App:      ${base}/
    Health:   ${base}/health
    Database: ${base}/db
    Cache:    ${base}/cache
    API docs: ${base}/docs
    Metrics:  ${base}/metrics
    Logs:     ${plain} logs -f web
    Scale:    ${plain} -f compose.yaml up -d --scale web=3   (the proxy balances over the replicas)
    Stop:     ${plain} down      (add -v, or run ./run.sh --reset, to delete the data)
URLS
if [ "$dev" = 1 ]; then
  db_port=$("${compose[@]}" port db 5432 2>/dev/null | tail -n 1)
  cache_port=$("${compose[@]}" port cache 6379 2>/dev/null | tail -n 1)
  echo "    Dev:      PostgreSQL on ${db_port}, Redis on ${cache_port}; web reloads when web/src changes"
fi
