#!/bin/sh
# Starts Redis with the password from REDIS_PASSWORD_FILE (a Docker secret) or REDIS_PASSWORD, handed
# to redis-server on standard input: never on its command line (ps, docker top) nor in a file of
# the image. The official image has no *_FILE variable of its own; this fills the gap.
#
#   start.sh [redis-server arguments...]     e.g. start.sh /usr/local/etc/redis/redis.conf
#
# Exit code 2 when the password is missing, unreadable, or given both ways.
set -eu

fail() {
  echo "start.sh: $*" >&2
  exit 2
}

if [ -n "${REDIS_PASSWORD_FILE:-}" ]; then
  [ -z "${REDIS_PASSWORD:-}" ] || fail "REDIS_PASSWORD and REDIS_PASSWORD_FILE are both set: use one of them"
  [ -r "$REDIS_PASSWORD_FILE" ] && [ -f "$REDIS_PASSWORD_FILE" ] || fail "REDIS_PASSWORD_FILE: cannot read $REDIS_PASSWORD_FILE"
  # $(...) drops the trailing newline that editors and `echo` add.
  password=$(cat "$REDIS_PASSWORD_FILE")
else
  password=${REDIS_PASSWORD:-}
fi
[ -n "$password" ] || fail "set REDIS_PASSWORD or REDIS_PASSWORD_FILE (the password is empty)"
unset REDIS_PASSWORD

# A double-quoted string in Redis's config syntax: backslashes and quotes escaped.
quoted=$(printf '%s' "$password" | sed 's/[\\"]/\\&/g')

# The official image's entrypoint, when there is one, drops root and fixes /data's owner first.
if command -v docker-entrypoint.sh >/dev/null 2>&1; then
  set -- docker-entrypoint.sh redis-server "$@" -
else
  set -- redis-server "$@" -
fi
exec "$@" <<CONFIG
requirepass "$quoted"
CONFIG
