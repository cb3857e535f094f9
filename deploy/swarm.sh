#!/usr/bin/env bash
# The stack on Docker Swarm: what `./run.sh --swarm` and `./run.sh --swarm --down` run.
#
#   deploy/swarm.sh up [--reset]     deploy (or update) the stack and wait until every task is healthy
#   deploy/swarm.sh down [--reset]   remove the stack; --reset also deletes its volumes and secrets
#
# Run from the repository root, by run.sh (which checks Docker, creates .env and, with --offline,
# the stand-in images first). The stack is named after COMPOSE_PROJECT_NAME (.env; default
# web-db-cache). `up`:
#   1. makes this engine a Swarm manager when it is in no swarm (`docker swarm init`;
#      SWARM_ADVERTISE_ADDR picks the address other nodes reach it on);
#   2. labels it web-db-cache.data=true when no node has that label (db and cache run there);
#   3. creates the secrets <stack>_postgres_password and <stack>_redis_password from .env's
#      passwords when they do not exist yet;
#   4. builds the web image and tags it <stack>-web:<image id>, unless WEB_IMAGE names one;
#      (SWARM_ADVERTISE_ADDR and WEB_IMAGE, like WEB_PORT and WEB_REPLICAS, come from the shell or .env)
#   5. renders the stack file from compose.yaml + deploy/swarm.yaml and deploys it with
#      `docker stack deploy --resolve-image never` (local images are used as they are);
#   6. waits up to RUN_TIMEOUT_S (default 180) for every service to have all its tasks running,
#      which for a service with a health check means healthy.
# Exit codes: 0 healthy (or removed); 1 deploy failed or not healthy in time; 2 bad arguments.
set -euo pipefail

cd "$(dirname "$0")/.."

action=${1:-}
reset=0
[ "${2:-}" = --reset ] && reset=1
case "$action" in up | down) ;; *)
  sed -n '2,/^[^#]/p' "$0" | sed -n 's/^# \{0,1\}//p' >&2
  exit 2
  ;;
esac

env_value() { # env_value NAME: the shell's value, else .env's (the same precedence as Compose)
  local v=${!1:-}
  [ -n "$v" ] || [ ! -f .env ] || v=$(sed -n "s/^$1=//p" .env | tail -n 1)
  printf '%s' "$v"
}

stack=$(env_value COMPOSE_PROJECT_NAME)
stack=${stack:-web-db-cache}
export COMPOSE_PROJECT_NAME=$stack
timeout_s=${RUN_TIMEOUT_S:-180}
secrets=(postgres_password redis_password)
stack_filter=label=com.docker.stack.namespace=$stack

swarm_state() { docker info --format '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}'; }

# ---- down ---------------------------------------------------------------------------------
if [ "$action" = down ]; then
  if [ "$(swarm_state)" != "active true" ]; then
    echo "==> This engine is not a Swarm manager: no stack to remove."
    exit 0
  fi
  echo "==> Removing the stack $stack"
  docker stack rm "$stack" >/dev/null 2>&1 || true
  # `stack rm` returns at once; its containers and networks go over the next seconds.
  for _ in $(seq 1 60); do
    [ -z "$(docker ps -aq --filter "$stack_filter")$(docker network ls -q --filter "$stack_filter")" ] && break
    sleep 1
  done
  if [ "$reset" = 1 ]; then
    echo "==> Deleting its volumes and secrets (--reset)"
    for v in $(docker volume ls -q --filter "$stack_filter"); do docker volume rm "$v" >/dev/null; done
    for s in "${secrets[@]}"; do docker secret rm "${stack}_$s" >/dev/null 2>&1 || true; done
  else
    echo "==> Volumes kept (--reset deletes them): $(docker volume ls -q --filter "$stack_filter" | tr '\n' ' ')"
  fi
  echo "==> Removed. This engine stays a Swarm manager; 'docker swarm leave --force' ends that."
  exit 0
fi

# The stack file is rendered by Compose, with the !reset and !override tags of Compose 2.24.
compose_version=$(docker compose version --short 2>/dev/null || true)
if ! printf '%s\n' "$compose_version" | grep -Eq '^v?(2\.(2[4-9]|[3-9][0-9])|[3-9])'; then
  echo "run.sh: --swarm needs Docker Compose 2.24 or later ('docker compose'; found: ${compose_version:-none})." >&2
  exit 1
fi

# ---- 1. a swarm, and this engine a manager of it ---------------------------------------------
read -r state manager <<<"$(swarm_state)"
if [ "$state" = inactive ]; then
  echo "==> This engine is in no swarm: docker swarm init"
  advertise=$(env_value SWARM_ADVERTISE_ADDR)
  docker swarm init ${advertise:+--advertise-addr "$advertise"} >/dev/null
elif [ "$state" != active ] || [ "$manager" != true ]; then
  echo "run.sh: this engine is a Swarm worker or not ready ($state): run ./run.sh --swarm on a manager." >&2
  exit 1
fi

# ---- 2. the node that keeps the data ----------------------------------------------------------
label=web-db-cache.data
if [ -z "$(docker node ls -q --filter "node.label=$label=true")" ]; then
  self=$(docker info --format '{{.Swarm.NodeID}}')
  echo "==> Labelling this node $label=true: db and cache run here, with their volumes"
  docker node update --label-add "$label=true" "$self" >/dev/null
fi

# ---- 3. secrets ---------------------------------------------------------------------------
passwords=("$(env_value POSTGRES_PASSWORD)" "$(env_value REDIS_PASSWORD)")
for s in "${secrets[@]}"; do
  name=${stack}_$s
  docker secret inspect "$name" >/dev/null 2>&1 && continue
  var=$(printf '%s' "$s" | tr '[:lower:]' '[:upper:]')
  value=$(env_value "$var")
  if [ -z "$value" ]; then
    echo "run.sh: $var is empty in .env: cannot create the secret $name." >&2
    exit 1
  fi
  echo "==> Creating the secret $name from .env's $var"
  printf '%s' "$value" | docker secret create "$name" - >/dev/null
done

# ---- 4. the web image -----------------------------------------------------------------------
# Placeholders for compose's required variables: the stack file names secrets instead, and
# must not hold a password (checked below).
placeholder=unused-on-swarm-see-secrets
export POSTGRES_PASSWORD=$placeholder REDIS_PASSWORD=$placeholder
WEB_IMAGE=$(env_value WEB_IMAGE)
if [ -z "$WEB_IMAGE" ]; then
  echo "==> Building the web image"
  docker compose -f compose.yaml build web
  built=$stack-web # Compose's name for the image it builds for the service web
  id=$(docker image inspect --format '{{.Id}}' "$built")
  id=${id#sha256:}
  # Tagged by content: deploying the same source again changes nothing; a new build rolls out.
  WEB_IMAGE=$stack-web:${id:0:12}
  docker tag "$built" "$WEB_IMAGE"
fi
export WEB_IMAGE
echo "==> web image: $WEB_IMAGE"

# ---- 5. render and deploy -----------------------------------------------------------------------
stack_file=$(mktemp)
trap 'rm -f "$stack_file"' EXIT
# What `docker stack deploy` reads differently from Compose's output: no top-level name, cpus as
# a string, sizes and ports as integers.
docker compose -f compose.yaml -f deploy/swarm.yaml config --no-normalize |
  sed -E -e '/^name: /d' \
    -e 's/^( *cpus: )([0-9.]+)$/\1"\2"/' \
    -e 's/^( *(size|published): )"([0-9]+)"$/\1\3/' >"$stack_file"
for secret in "$placeholder" "${passwords[@]}"; do
  if [ -n "$secret" ] && grep -qF -- "$secret" "$stack_file"; then
    echo "run.sh: the rendered stack file holds a password; refusing to deploy it." >&2
    exit 1
  fi
done

echo "==> Deploying the stack $stack (docker stack deploy)"
docker stack deploy --resolve-image never --prune -c "$stack_file" "$stack"

# ---- 6. wait ----------------------------------------------------------------------------------
# A task with a health check counts as running only once healthy, so "3/3" means three healthy.
echo "==> Waiting up to ${timeout_s}s for every task to be healthy"
start=$(date +%s)
last=""
while :; do
  line=$(docker service ls --filter "$stack_filter" --format '{{.Name}}={{.Replicas}}' | sed "s/^${stack}_//" | sort | tr '\n' ' ')
  elapsed=$(($(date +%s) - start))
  if [ "$line" != "$last" ]; then
    printf '    %3ss  %s\n' "$elapsed" "$line"
    last=$line
  fi
  ready=1
  for pair in $line; do
    counts=${pair#*=}
    counts=${counts%% *}
    [ "${counts%/*}" = "${counts#*/}" ] || ready=0
  done
  [ -n "$line" ] && [ "$ready" = 1 ] && break
  if [ "$elapsed" -ge "$timeout_s" ]; then
    echo "run.sh: not healthy after ${timeout_s}s. Tasks:" >&2
    docker stack ps --no-trunc --format '{{.Name}} {{.Node}} {{.CurrentState}} {{.Error}}' "$stack" >&2 || true
    exit 1
  fi
  sleep 2
done

port=$(env_value WEB_PORT)
port=${port:-8000}
proxy_node=$(docker service ps --filter desired-state=running --format '{{.Node}}' "${stack}_proxy" | head -n 1)
base="http://localhost:${port}"
cat <<URLS
==> The stack $stack is up and healthy on Swarm.
    App:      ${base}/   (the proxy publishes port ${port} on the node ${proxy_node:-?})
    Health:   ${base}/health
    Tasks:    docker stack ps $stack
    Logs:     docker service logs -f ${stack}_web
    Scale:    docker service scale ${stack}_web=5
    Update:   ./run.sh --swarm again (a new build rolls out one task at a time; docs/swarm.md)
    Stop:     ./run.sh --swarm --down   (add --reset to delete the data)
URLS
