#!/bin/sh
# Stand-in entrypoint: mimics the official haproxy image's (see ../README.md).
set -e

# `image -f cfg` means `haproxy -f cfg`.
case "${1:-}" in -*) set -- haproxy "$@" ;; esac

# Master-worker mode, in the foreground: a reload (SIGUSR2) keeps the listening socket.
if [ "${1:-}" = haproxy ]; then
  shift
  set -- haproxy -W -db "$@"
fi

exec "$@"
