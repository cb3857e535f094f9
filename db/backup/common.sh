# Shared by backup.sh, restore.sh (on the host) and scheduled.sh (in the backup container).
# Sourced, not run. Only POSIX tools and coreutils: both places have them.

# A dump's name says when it was taken and which schema it holds (the last applied migration's
# number), so a directory listing answers "which one do I want" without opening any file.
backup_name() { # backup_name SCHEMA_VERSION
  printf 'web-db-cache_%s_schema-%s.dump' "$(date -u +%Y%m%dT%H%M%SZ)" "$1"
}

# The schema version inside a name, or empty.
schema_of_name() { basename "$1" | sed -n 's/.*_schema-\([0-9][0-9]*\)\.dump$/\1/p'; }

# FILE.sha256 in sha256sum's own format, with the bare name, so `sha256sum -c` works in the folder
# the pair was copied to.
write_checksum() { # write_checksum FILE
  (cd "$(dirname "$1")" && sha256sum "$(basename "$1")" >"$(basename "$1").sha256.partial" &&
    mv "$(basename "$1").sha256.partial" "$(basename "$1").sha256")
}

# 0 when FILE.sha256 exists and matches FILE; otherwise a reason on stdout.
checksum_problem() { # checksum_problem FILE
  local sum want got
  sum="$1.sha256"
  if [ ! -f "$sum" ]; then
    echo "no checksum file beside it ($(basename "$sum")); copy the .dump and its .sha256 together"
    return 1
  fi
  want=$(awk 'NR == 1 { print $1 }' "$sum")
  got=$(sha256sum <"$1" | awk '{ print $1 }')
  if [ "$want" != "$got" ]; then
    echo "its checksum does not match $(basename "$sum") (the file is corrupt or truncated)"
    return 1
  fi
}

human_size() { # human_size BYTES
  awk -v b="$1" 'BEGIN { split("B KiB MiB GiB TiB", u); i = 1; while (b >= 1024 && i < 5) { b /= 1024; i++ }
    printf (i == 1 ? "%d %s" : "%.1f %s"), b, u[i] }'
}

# The outcome of the last backup, one key=value a line, replaced atomically. An operator reads it
# with `./run.sh --backup-status`; the backup service's health check reads it too.
STATUS_NAME=last-backup.status
write_status() { # write_status DIR OUTCOME FILE BYTES SECONDS MESSAGE
  local dir=$1 now previous_ok
  now=$(date -u +%s)
  previous_ok=$(sed -n 's/^last_success_epoch=//p' "$dir/$STATUS_NAME" 2>/dev/null || true)
  [ "$2" != ok ] || previous_ok=$now
  {
    echo "last_attempt_epoch=$now"
    echo "last_attempt_at=$(date -u -d "@$now" +%Y-%m-%dT%H:%M:%SZ)"
    echo "last_outcome=$2"
    echo "last_file=$3"
    echo "last_size_bytes=$4"
    echo "last_duration_s=$5"
    echo "last_message=$6"
    echo "last_success_epoch=${previous_ok:-}"
    [ -z "${previous_ok:-}" ] || echo "last_success_at=$(date -u -d "@$previous_ok" +%Y-%m-%dT%H:%M:%SZ)"
  } >"$dir/$STATUS_NAME.partial"
  mv "$dir/$STATUS_NAME.partial" "$dir/$STATUS_NAME"
}

# Keeps the newest KEEP dumps whose checksum holds and deletes older ones. A dump that fails its
# checksum is never counted as a good one, so rotation can never leave the folder without a
# restorable dump when it had one.
rotate() { # rotate DIR KEEP
  local dir=$1 keep=$2 good=0 f
  # Names sort by time (UTC, fixed width), newest first.
  for f in $(find "$dir" -maxdepth 1 -name 'web-db-cache_*.dump' -printf '%f\n' | sort -r); do
    if [ "$good" -lt "$keep" ]; then
      if checksum_problem "$dir/$f" >/dev/null; then good=$((good + 1)); fi
    else
      rm -f "$dir/$f" "$dir/$f.sha256"
      echo "removed $f (BACKUP_KEEP=$keep)"
    fi
  done
}

# BACKUP_SCHEDULE in seconds: hourly, daily, weekly, or a number with s, m, h or d.
schedule_seconds() { # schedule_seconds SPEC
  case "$1" in
    hourly) echo 3600 ;;
    daily) echo 86400 ;;
    weekly) echo 604800 ;;
    *)
      [[ $1 =~ ^([1-9][0-9]*)([smhd])$ ]] || return 1
      case "${BASH_REMATCH[2]}" in
        s) echo "${BASH_REMATCH[1]}" ;;
        m) echo $((BASH_REMATCH[1] * 60)) ;;
        h) echo $((BASH_REMATCH[1] * 3600)) ;;
        d) echo $((BASH_REMATCH[1] * 86400)) ;;
      esac
      ;;
  esac
}
