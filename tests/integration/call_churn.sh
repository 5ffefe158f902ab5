#!/usr/bin/env bash
# Calls come and go without leaking: 30 calls placed on one tunnel between
# two of our daemons on the loopback, each with its pppd (a stand-in: this
# kernel has no PPP), then hung up from either side. Afterwards the LNS has
# the descriptors it had before, no zombie children, no pppd left, and every
# pool address back.
#
# Prints PASS:/FAIL: lines for tests/run; cleans up even when it fails.
set -uo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tests/integration/lib.bash
source tests/integration/lib.bash  # the cwd is the repo root

loopback_setup call-churn

PORT=$((20000 + ($$ * 17) % 20000))
fds() { ls "/proc/$1/fd" | wc -l; }
children() { ps -o pid= --ppid "$1" | wc -l; }
zombies() { ps -o stat= --ppid "$1" | grep -c Z; }

cat >"$W/lns.conf" <<CONF
[global]
listen-addr = 127.0.0.2
port = $PORT

[lns default]
ip range = 10.9.0.10-10.9.0.200
local ip = 10.9.0.1
CONF
cat >"$W/lac.conf" <<CONF
[global]
listen-addr = 127.0.0.1
port = $((PORT + 1))

[lac churn]
lns = 127.0.0.2:$PORT
autodial = yes
CONF

start_l2tpd lns "$W/lns.conf" || { fail "call churn: start the LNS" "$(tail -2 "$W/lns.log")"; exit 1; }
LNS_PID=$(cat "$W/lns.pid" 2>/dev/null || echo "${PIDS[0]}")
start_l2tpd lac "$W/lac.conf" || { fail "call churn: start the LAC" "$(tail -2 "$W/lac.log")"; exit 1; }
wait_count "$W/lns.log" "session [0-9]+ up" 1 || { fail "call churn: the first call comes up" "$(tail -2 "$W/lns.log")"; exit 1; }
sleep 0.3
base_fds=$(fds "$LNS_PID")
tid=$(grep -Eo "tunnel [0-9]+ up as LAC" "$W/lac.log" | tail -1 | awk '{print $2}')

N=30
for _ in $(seq "$N"); do echo "c $tid" >"$W/lac.ctl"; done
wait_children() {  # PID N [SECONDS]
  local deadline=$((SECONDS + ${3:-5}))
  while ((SECONDS < deadline)); do (($(children "$1") == $2)) && return 0; sleep 0.1; done
  return 1
}
if wait_count "$W/lns.log" "session [0-9]+ on tunnel [0-9]+: pppd [0-9]+ on /dev/pts" $((N + 1)) 20 && wait_children "$LNS_PID" $((N + 1)); then
  pass "call churn: $N more calls come up, each with its pppd"
else
  fail "call churn: $N more calls come up, each with its pppd" "$(count "$W/lns.log" "pppd [0-9]+ on") pppds, $(children "$LNS_PID") children"
fi
# Every call gets its own address.
if (($(grep -Eo "10\.9\.0\.1:10\.9\.0\.[0-9]+" "$W/lns.pppd" | sort -u | wc -l) == N + 1)); then
  pass "call churn: $((N + 1)) calls hold $((N + 1)) different addresses"
else
  fail "call churn: $((N + 1)) calls hold $((N + 1)) different addresses" "$(grep -Eo "10\.9\.0\.1:[0-9.]+" "$W/lns.pppd" | sort | uniq -d | head -3)"
fi

# Hang them all up: half from the LAC, half from the LNS.
i=0
for cid in $(grep -Eo "session [0-9]+ up" "$W/lac.log" | awk '{print $2}'); do
  if ((i % 2)); then echo "h $cid" >"$W/lac.ctl"; fi
  i=$((i + 1))
done
i=0
for cid in $(grep -Eo "session [0-9]+ up" "$W/lns.log" | awk '{print $2}'); do
  if ((i % 2 == 0)); then echo "h $cid" >"$W/lns.ctl"; fi
  i=$((i + 1))
done
if wait_count "$W/lns.log" "session [0-9]+: pppd killed by SIGTERM" $((N + 1)) 20; then
  pass "call churn: every hang-up ends its pppd"
else
  fail "call churn: every hang-up ends its pppd" "$(count "$W/lns.log" "pppd killed") of $((N + 1))"
fi
sleep 0.5
kill -USR1 "$LNS_PID"
if wait_log "$W/lns.log" "status: [0-9]+ tunnels, 0 sessions, 0 pppds, 1 pool addresses in use" 5; then
  pass "call churn: no call, no pppd, and only the local address left in the pool"
else
  fail "call churn: no call, no pppd, and only the local address left in the pool" "$(grep 'status:' "$W/lns.log" | tail -2)"
fi
now_fds=$(fds "$LNS_PID")
if ((now_fds == base_fds - 1)) && (($(children "$LNS_PID") == 0)) && (($(zombies "$LNS_PID") == 0)); then
  # base_fds counted the first call's pty, which is gone too.
  pass "call churn: descriptors back to the baseline, no children, no zombies"
else
  fail "call churn: descriptors back to the baseline, no children, no zombies" \
    "fds $base_fds (with one call) -> $now_fds, $(children "$LNS_PID") children, $(zombies "$LNS_PID") zombies"
fi
exit $((fails > 0))
