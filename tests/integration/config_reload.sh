#!/usr/bin/env bash
# SIGHUP reloads the configuration without dropping calls: two of our
# daemons on the loopback (LNS and LAC). A [lac] added to the file is
# dialled; a new "ip range" serves the next call while the established one
# keeps its address; what only a restart applies is reported and kept; a
# broken file leaves the running configuration in place.
#
# Prints PASS:/FAIL: lines for tests/run; cleans up even when it fails.
set -uo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tests/integration/lib.bash
source tests/integration/lib.bash  # the cwd is the repo root

loopback_setup config-reload

PORT=$((20000 + ($$ * 11) % 20000))

lns_conf() {  # RANGE [EXTRA GLOBAL LINE]
  cat <<CONF
[global]
listen-addr = 127.0.0.2
port = $PORT
${2:-}

[lns default]
hostname = reload-lns
local ip = 10.9.0.1
ip range = $1
CONF
}
lns_conf 10.9.0.10-10.9.0.20 >"$W/lns.conf"
cat >"$W/lac.conf" <<CONF
[global]
listen-addr = 127.0.0.1
port = $((PORT + 1))
CONF

start_l2tpd lns "$W/lns.conf" || { fail "config reload: start the LNS" "$(tail -2 "$W/lns.log")"; exit 1; }
start_l2tpd lac "$W/lac.conf" || { fail "config reload: start the LAC" "$(tail -2 "$W/lac.log")"; exit 1; }

# A [lac] with autodial appears in the LAC's file: SIGHUP dials it.
cat >>"$W/lac.conf" <<CONF

[lac one]
lns = 127.0.0.2:$PORT
hostname = reload-lac
autodial = yes
CONF
kill -HUP "$(cat "$W/lac.pid")"
if wait_log "$W/lac.log" "SIGHUP: reloaded .*: 0 \[lns\], 1 \[lac\]" 5 && wait_log "$W/lac.log" "session [0-9]+ up" 5 &&
   wait_log "$W/lns.pppd" "10\.9\.0\.1:10\.9\.0\.10 " 5; then
  pass "config reload: a [lac] added to the file is dialled on SIGHUP"
else
  fail "config reload: a [lac] added to the file is dialled on SIGHUP" "$(tail -3 "$W/lac.log")"
fi

# The LNS gets a new pool and a new port: the pool serves the next call,
# the port is reported and kept, and the established call stays.
lns_conf 10.9.1.10-10.9.1.20 "port = $((PORT + 7))" >"$W/lns.conf"
kill -HUP "$(cat "$W/lns.pid")"
if wait_log "$W/lns.log" "SIGHUP: changed, but only a restart applies them \(running values kept\): port" 5; then
  pass "config reload: a changed port is reported as needing a restart"
else
  fail "config reload: a changed port is reported as needing a restart" "$(grep SIGHUP "$W/lns.log" | tail -3)"
fi
pppd_pid=$(awk 'END {print $1}' "$W/lns.pppd")
sleep 0.5
if kill -0 "$pppd_pid" 2>/dev/null && (($(count "$W/lns.log" "session [0-9]+ on tunnel [0-9]+ down") == 0)); then
  pass "config reload: the established call and its pppd stay"
else
  fail "config reload: the established call and its pppd stay" "$(tail -3 "$W/lns.log")"
fi
tid=$(grep -Eo "tunnel [0-9]+ up as LAC" "$W/lac.log" | tail -1 | awk '{print $2}')
echo "c $tid" >"$W/lac.ctl"
if wait_log "$W/lns.pppd" "10\.9\.0\.1:10\.9\.1\.10 " 5; then
  pass "config reload: the next call takes its address from the new ip range"
else
  fail "config reload: the next call takes its address from the new ip range" "$(cat "$W/lns.pppd")"
fi

# A broken file: errors logged with file and line, the running one stays.
echo "bogus key = 1" >>"$W/lns.conf"
kill -HUP "$(cat "$W/lns.pid")"
if wait_log "$W/lns.log" "SIGHUP: $W/lns.conf:[0-9]+: .*bogus key" 5 &&
   wait_log "$W/lns.log" "not reloaded: the running configuration stays" 5; then
  echo "c $tid" >"$W/lac.ctl"
  if wait_log "$W/lns.pppd" "10\.9\.0\.1:10\.9\.1\.11 " 5; then
    pass "config reload: a broken file is refused and the running configuration serves on"
  else
    fail "config reload: a broken file is refused and the running configuration serves on" "$(tail -2 "$W/lns.pppd")"
  fi
else
  fail "config reload: a broken file is refused and the running configuration serves on" "$(grep SIGHUP "$W/lns.log" | tail -3)"
fi
exit $((fails > 0))
