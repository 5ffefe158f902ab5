#!/usr/bin/env bash
# LAC redial (xl2tpd's "redial", "redial timeout", "max redials"): two of
# our daemons on 127.0.0.1 (LAC) and 127.0.0.2 (LNS), socket mode. A tunnel
# the LNS closes is dialled again after the timeout and its call comes
# back; our own disconnect is not redialled; with the LNS gone, redialling
# stops after "max redials" attempts.
#
# Prints PASS:/FAIL:/SKIP: lines for tests/run; cleans up by PID.
set -uo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tests/integration/lib.bash
source tests/integration/lib.bash  # the cwd is the repo root

loopback_setup lac-redial

PORT=$((20000 + ($$ * 7) % 20000))

cat >"$W/lns.conf" <<CONF
[global]
listen-addr = 127.0.0.2
port = $PORT

[lns default]
hostname = redial-lns
CONF
cat >"$W/lac.conf" <<CONF
[global]
listen-addr = 127.0.0.1
port = $((PORT + 1))
max retries = 1

[lac r]
lns = 127.0.0.2:$PORT
hostname = redial-lac
autodial = yes
redial = yes
redial timeout = 1
max redials = 2
CONF

start_l2tpd lns "$W/lns.conf" || { fail "lac redial: start the LNS" "$(tail -2 "$W/lns.log")"; exit 1; }
start_l2tpd lac "$W/lac.conf" || { fail "lac redial: start the LAC" "$(tail -2 "$W/lac.log")"; exit 1; }
if ! wait_log "$W/lac.log" "session [0-9]+ up"; then
  fail "lac redial: autodial brings the call up" "$(tail -2 "$W/lac.log")"
  exit 1
fi
pass "lac redial: autodial brings the call up"

# The LNS closes the tunnel: the LAC redials and the call comes back.
tid=$(grep -Eo "tunnel [0-9]+ up as LNS" "$W/lns.log" | tail -1 | awk '{print $2}')
echo "d $tid" >"$W/lns.ctl"
if wait_log "$W/lac.log" "redialling in 1 s \(1 of 2\)" && wait_count "$W/lac.log" "session [0-9]+ up" 2; then
  pass "lac redial: a tunnel the peer closed is dialled again and its call comes back"
else
  fail "lac redial: a tunnel the peer closed is dialled again and its call comes back" "$(tail -3 "$W/lac.log")"
fi

# Our own disconnect is not redialled.
before=$(count "$W/lac.log" "redialling")
echo "d r" >"$W/lac.ctl"
wait_count "$W/lac.log" "tunnel [0-9]+ down" 2
sleep 2
if (($(count "$W/lac.log" "redialling") == before)) && (($(count "$W/lac.log" "session [0-9]+ up") == 2)); then
  pass "lac redial: our own disconnect is not redialled"
else
  fail "lac redial: our own disconnect is not redialled" "$(tail -3 "$W/lac.log")"
fi

# Up again by hand; then the LNS goes away (SIGTERM: StopCCN): the LAC
# redials until max redials, then stops.
echo "c r" >"$W/lac.ctl"
wait_count "$W/lac.log" "session [0-9]+ up" 3
kill -TERM "$(cat "$W/lns.pid")"
if wait_log "$W/lac.log" "not redialling: 2 redials in a row" 20; then
  pass "lac redial: redialling stops after max redials"
else
  fail "lac redial: redialling stops after max redials" "$(tail -4 "$W/lac.log")"
fi
exit $((fails > 0))
