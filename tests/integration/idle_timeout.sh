#!/usr/bin/env bash
# pppd's `idle` enforced by the daemon: an LNS whose pppoptfile says
# `idle 2` starts pppd with `idle 0` after the file (pppd would not see
# fast-path traffic) and hangs a call with no data up itself: pppd ended,
# then CDN result 3 "idle for 2 s". Two of our daemons on the loopback; the
# pppd stand-ins move no data. (The busy-session half is the simulated-time
# unit test IdleMonitor.BusySessionStaysUp...: data frames come from a real
# PPP peer, which this kernel cannot run.)
#
# Prints PASS:/FAIL: lines for tests/run; cleans up even when it fails.
set -uo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tests/integration/lib.bash
source tests/integration/lib.bash  # the cwd is the repo root

loopback_setup idle-timeout

PORT=$((20000 + ($$ * 13) % 20000))

printf '# subscribers idle for 2 s are hung up\nnoauth\nidle 2\n' >"$W/options.lns"
cat >"$W/lns.conf" <<CONF
[global]
listen-addr = 127.0.0.2
port = $PORT

[lns default]
ip range = 10.9.0.10-10.9.0.20
local ip = 10.9.0.1
pppoptfile = $W/options.lns
CONF
cat >"$W/lac.conf" <<CONF
[global]
listen-addr = 127.0.0.1
port = $((PORT + 1))

[lac idle]
lns = 127.0.0.2:$PORT
autodial = yes
CONF

start_l2tpd lns "$W/lns.conf" || { fail "idle timeout: start the LNS" "$(tail -2 "$W/lns.log")"; exit 1; }
start_l2tpd lac "$W/lac.conf" || { fail "idle timeout: start the LAC" "$(tail -2 "$W/lac.log")"; exit 1; }
if wait_log "$W/lns.pppd" "file $W/options\.lns idle 0 /dev/pts/[0-9]+$" 5 &&
   wait_log "$W/lns.log" "idle 2 s \(from $W/options\.lns\) is enforced by l2tpd" 5; then
  pass "idle timeout: pppd gets idle 0 after the options file, and the daemon says it enforces idle 2"
else
  fail "idle timeout: pppd gets idle 0 after the options file, and the daemon says it enforces idle 2" "$(cat "$W/lns.pppd")"
fi
if wait_log "$W/lns.log" "session [0-9]+: no data for 2 s \(idle\): ending pppd, then CDN" 6 &&
   wait_log "$W/lns.log" "session [0-9]+ on tunnel [0-9]+ down: result 3 \"idle for 2 s\"" 5 &&
   wait_log "$W/lac.log" "session [0-9]+ on tunnel [0-9]+ down: result 3 \"idle for 2 s\"" 5; then
  pass "idle timeout: a call without data is hung up with CDN result 3 on both sides"
else
  fail "idle timeout: a call without data is hung up with CDN result 3 on both sides" "$(tail -3 "$W/lns.log")"
fi
pppd_pid=$(awk 'END {print $1}' "$W/lns.pppd")
if [[ -n $pppd_pid ]] && ! kill -0 "$pppd_pid" 2>/dev/null; then
  pass "idle timeout: the idle call's pppd is gone"
else
  fail "idle timeout: the idle call's pppd is gone" "pid ${pppd_pid:-?}"
fi
exit $((fails > 0))
