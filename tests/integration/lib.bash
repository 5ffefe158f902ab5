# Shared by the integration scripts (sourced; not a test itself).

# wait_log FILE REGEX [SECONDS]: true once FILE has a line matching REGEX.
wait_log() {
  local deadline=$((SECONDS + ${3:-10}))
  while ((SECONDS < deadline)); do
    grep -Eq -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# pppd_standin FILE: writes FILE, a stand-in for our daemon's pppd (this
# kernel has no PPP, so the real one cannot run). It records its pid and
# arguments in $PPPD_ARGV_LOG when that is set, then reads the pty it was
# handed on stdin until SIGTERM or the pty's hang-up: it dies with a daemon
# killed by SIGKILL and leaves no orphan behind.
pppd_standin() {
  cat >"$1" <<'STUB'
#!/bin/sh
[ -n "$PPPD_ARGV_LOG" ] && echo "$$ $*" >>"$PPPD_ARGV_LOG"
exec cat >/dev/null
STUB
  chmod +x "$1"
}
