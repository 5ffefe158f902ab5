#!/usr/bin/env bash
# A real ping across an L2TP tunnel on a host whose kernel has no PPP: two
# network namespaces on a veth pair (LAC 192.0.2.1, LNS 192.0.2.2), Debian's
# xl2tpd on both sides, and ppp-peer (tests/integration/ppp_peer.cpp, our
# pppd stand-in that bridges PPP to a TUN device) bound over /usr/sbin/pppd
# in each xl2tpd's private mount namespace. Both ppp-peers must negotiate
# LCP and IPCP through the tunnel, get their addresses from the LNS's
# "local ip" / "ip range", run their ip-up script, carry ping -c 3 from the
# LAC to the LNS's PPP address and back, and exit when the tunnel is torn
# down with xl2tpd-control.
#
# Prints PASS:/FAIL:/SKIP: lines for tests/run. Cleans up (processes by
# PID, namespaces, veths and with them the TUN devices) even when it fails.
# KEEP=1 keeps the logs.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
PPP_PEER=$ROOT/${BUILD_DIR:-build/gcc}/tests/ppp-peer

fails=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1${2:+: $2}"; fails=$((fails + 1)); }
skip_all() { echo "SKIP: ppp ping: $1"; echo "*** ppp_ping.sh SKIPPED: $1 ***" >&2; exit 0; }

[[ $EUID -eq 0 ]] || skip_all "needs root (network namespaces, mount namespaces, TUN)"
command -v xl2tpd >/dev/null || skip_all "xl2tpd is not installed (tools/setup-deps installs it)"
command -v xl2tpd-control >/dev/null || skip_all "xl2tpd-control is not installed"
command -v ping >/dev/null || skip_all "ping (iputils-ping) is not installed"
[[ -e /usr/sbin/pppd ]] || skip_all "/usr/sbin/pppd is missing: nothing to bind ppp-peer over (install ppp)"
[[ -c /dev/net/tun ]] || skip_all "/dev/net/tun is missing: no TUN in this kernel or container"
[[ -x $PPP_PEER ]] || { fail "ppp ping" "$PPP_PEER not built"; exit 1; }

W=$(mktemp -d /tmp/l2tp-ppp-ping.XXXXXX)
NS_A=l2pa$$ NS_B=l2pb$$
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
  # ppp-peers are xl2tpd's children, in the same network namespace.
  for ns in "$NS_A" "$NS_B"; do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
  if [[ ${KEEP:-0} == 1 ]]; then echo "logs kept in $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT

ip netns add "$NS_A" && ip netns add "$NS_B" &&
  ip link add "pa$$" type veth peer name "pb$$" &&
  ip link set "pa$$" netns "$NS_A" && ip link set "pb$$" netns "$NS_B" &&
  ip -n "$NS_A" addr add 192.0.2.1/24 dev "pa$$" && ip -n "$NS_B" addr add 192.0.2.2/24 dev "pb$$" &&
  ip -n "$NS_A" link set "pa$$" up && ip -n "$NS_B" link set "pb$$" up &&
  ip -n "$NS_A" link set lo up && ip -n "$NS_B" link set lo up ||
  skip_all "cannot create network namespaces and a veth pair here"

# xl2tpd-control makes its reply FIFO there (Debian's path).
mkdir -p /var/run/xl2tpd

# shellcheck source=tests/integration/lib.bash
source tests/integration/lib.bash  # the cwd is the repo root

# The ip-up hook records pppd's script arguments:
# interface tty speed local remote ipparam.
cat >"$W/ip-up" <<'EOF'
#!/bin/sh
echo "$*" >"$0.$1.$4.args"
EOF
chmod +x "$W/ip-up"

# pppd options for one side (pppoptfile): ppp-peer reads "file" as pppd does.
ppp_options() {  # NAME
  cat <<EOF
noauth
logfile $W/$1-ppp.log
ip-up-script $W/ip-up
EOF
}

# start_xl2tpd NS NAME CONF: xl2tpd with ppp-peer as its pppd.
start_xl2tpd() {
  local ns=$1 name=$2
  unshare -m sh -c "mount --bind '$PPP_PEER' /usr/sbin/pppd && exec ip netns exec '$ns' xl2tpd -D -c '$3' -s /dev/null -p '$W/$name.pid' -C '$W/$name.ctl'" \
    >"$W/$name.log" 2>&1 &
  PIDS+=($!)
  disown
  wait_log "$W/$name.log" "Listening on IP address" 5
}

stop_all() {
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
  for ns in "$NS_A" "$NS_B"; do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
  done
  PIDS=()
}

# The pid ppp-peer logs on its first line ("ppp-peer[PID]: start: ...").
peer_pid() { grep -m1 -o 'ppp-peer\[[0-9]*\]: start' "$1" 2>/dev/null | grep -o '[0-9][0-9]*'; }

# wait_gone PID SECONDS: true once PID has exited.
wait_gone() {
  local deadline=$((SECONDS + $2))
  while ((SECONDS < deadline)); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.1
  done
  return 1
}

# ppp_case LABEL: the LAC in NS_A and the LNS in NS_B are up and dialling
# (their ppp-peers log to $W/lac-ppp.log and $W/lns-ppp.log); check
# negotiation, the interfaces, the ip-up hook and the ping. Teardown is the
# caller's.
ppp_case() {
  local label=$1 lac_log=$W/lac-ppp.log lns_log=$W/lns-ppp.log
  if wait_log "$lac_log" "IPCP up: local 10\.9\.0\.10 remote 10\.9\.0\.1 interface ppp0" 20 &&
     wait_log "$lns_log" "IPCP up: local 10\.9\.0\.1 remote 10\.9\.0\.10 interface ppp0" 5; then
    pass "$label: both ppp-peers negotiate LCP and IPCP through the tunnel"
  else
    fail "$label: both ppp-peers negotiate LCP and IPCP through the tunnel" \
      "LAC: $(tail -2 "$lac_log" 2>/dev/null | tr '\n' ' ') / LNS: $(tail -2 "$lns_log" 2>/dev/null | tr '\n' ' ')"
    return 1
  fi
  # The TUN device stands where pppd's ppp0 would: point-to-point, the
  # negotiated addresses.
  if ip -n "$NS_A" -4 addr show dev ppp0 2>/dev/null | grep -q "inet 10\.9\.0\.10 peer 10\.9\.0\.1/32" &&
     ip -n "$NS_B" -4 addr show dev ppp0 2>/dev/null | grep -q "inet 10\.9\.0\.1 peer 10\.9\.0\.10/32"; then
    pass "$label: ppp0 carries the negotiated addresses on both sides"
  else
    fail "$label: ppp0 carries the negotiated addresses on both sides" \
      "$(ip -n "$NS_A" -4 addr show dev ppp0 2>&1 | grep inet) / $(ip -n "$NS_B" -4 addr show dev ppp0 2>&1 | grep inet)"
  fi
  local up_lac=$W/ip-up.ppp0.10.9.0.10.args up_lns=$W/ip-up.ppp0.10.9.0.1.args
  if wait_log "$up_lac" "^ppp0 /dev/pts/[0-9]+ 0 10\.9\.0\.10 10\.9\.0\.1" 5 &&
     wait_log "$up_lns" "^ppp0 /dev/pts/[0-9]+ 0 10\.9\.0\.1 10\.9\.0\.10" 5; then
    pass "$label: ip-up runs with pppd's arguments"
  else
    fail "$label: ip-up runs with pppd's arguments" "$(cat "$up_lac" "$up_lns" 2>&1 | tr '\n' ' ')"
  fi
  local out
  out=$(ip netns exec "$NS_A" ping -c 3 -i 0.3 -W 3 10.9.0.1 2>&1)
  if grep -q "3 packets transmitted, 3 received" <<<"$out"; then
    pass "$label: ping -c 3 from the LAC to the LNS's PPP address crosses the tunnel"
  else
    fail "$label: ping -c 3 from the LAC to the LNS's PPP address crosses the tunnel" \
      "$(tail -2 <<<"$out" | tr '\n' ' ')"
  fi
  # And the other way: the LNS reaches the subscriber.
  out=$(ip netns exec "$NS_B" ping -c 3 -i 0.3 -W 3 10.9.0.10 2>&1)
  if grep -q "3 packets transmitted, 3 received" <<<"$out"; then
    pass "$label: ping -c 3 from the LNS to the LAC's PPP address crosses the tunnel"
  else
    fail "$label: ping -c 3 from the LNS to the LAC's PPP address crosses the tunnel" \
      "$(tail -2 <<<"$out" | tr '\n' ' ')"
  fi
}

# expect_peers_exit LABEL: after a teardown, both ppp-peers exit and their
# ppp0 devices go with them.
expect_peers_exit() {
  local label=$1 lac_pid lns_pid
  lac_pid=$(peer_pid "$W/lac-ppp.log")
  lns_pid=$(peer_pid "$W/lns-ppp.log")
  if [[ -n $lac_pid && -n $lns_pid ]] &&
     wait_log "$W/lac-ppp.log" "exit: " 10 && wait_log "$W/lns-ppp.log" "exit: " 10 &&
     wait_gone "$lac_pid" 5 && wait_gone "$lns_pid" 5; then
    pass "$label: both ppp-peers exit on teardown"
  else
    fail "$label: both ppp-peers exit on teardown" \
      "LAC: $(tail -2 "$W/lac-ppp.log" | tr '\n' ' ') / LNS: $(tail -2 "$W/lns-ppp.log" | tr '\n' ' ')"
  fi
  if ! ip -n "$NS_A" link show ppp0 >/dev/null 2>&1 && ! ip -n "$NS_B" link show ppp0 >/dev/null 2>&1; then
    pass "$label: ppp0 is gone on both sides"
  else
    fail "$label: ppp0 is gone on both sides"
  fi
}

# Logs of the ppp-peers that have exited, out of the way of the next ones.
fresh_logs() {
  local f
  for f in "$W"/lac-ppp.log "$W"/lns-ppp.log "$W"/ip-up.*.args; do
    [[ -e $f ]] && mv "$f" "$f.$((++rotations))"
  done
}
rotations=0

# terminate_case LABEL LNS_DAEMON_LOG: SIGTERM to the LNS's ppp-peer, as an
# operator would stop pppd: it sends an LCP Terminate-Request through the
# tunnel, the LAC's ppp-peer acknowledges, both exit, and the LNS daemon
# sees its pppd exit with pppd's status for a user request (5).
terminate_case() {
  local label="$1, SIGTERM to the LNS's ppp-peer" lns_pid
  lns_pid=$(peer_pid "$W/lns-ppp.log")
  [[ -n $lns_pid ]] && kill -TERM "$lns_pid"
  if wait_log "$W/lac-ppp.log" "LCP Terminate-Request received" 5 &&
     wait_log "$W/lns-ppp.log" "LCP Terminate-Ack received" 5 &&
     wait_log "$W/lns-ppp.log" "exit: link terminated on signal \(status 5\)" 5; then
    pass "$label: LCP Terminate-Request and Ack cross the tunnel"
  else
    fail "$label: LCP Terminate-Request and Ack cross the tunnel" \
      "LAC: $(tail -2 "$W/lac-ppp.log" | tr '\n' ' ') / LNS: $(tail -2 "$W/lns-ppp.log" | tr '\n' ' ')"
  fi
  if wait_log "$2" "pppd (exited for call [0-9]+ with code|[0-9]+ exited with status) 5" 5; then
    pass "$label: the LNS daemon sees its pppd exit with status 5"
  else
    fail "$label: the LNS daemon sees its pppd exit with status 5" "$(grep -i pppd "$2" | tail -2 | tr '\n' ' ')"
  fi
  expect_peers_exit "$label"
}

# --- xl2tpd LAC, xl2tpd LNS ---------------------------------------------------
xl2tpd_both() {
  local label="xl2tpd LAC, xl2tpd LNS"
  ppp_options lac >"$W/lac.options"
  ppp_options lns >"$W/lns.options"
  cat >"$W/lns.conf" <<EOF
[global]
port = 1701

[lns default]
ip range = 10.9.0.10-10.9.0.20
local ip = 10.9.0.1
hostname = xl-lns
pppoptfile = $W/lns.options
EOF
  cat >"$W/lac.conf" <<EOF
[global]
port = 1701

[lac test]
lns = 192.0.2.2
hostname = xl-lac
autodial = yes
redial = no
pppoptfile = $W/lac.options
EOF
  start_xl2tpd "$NS_B" lns "$W/lns.conf" || { fail "$label: start the LNS" "$(tail -3 "$W/lns.log")"; return; }
  start_xl2tpd "$NS_A" lac "$W/lac.conf" || { fail "$label: start the LAC" "$(tail -3 "$W/lac.log")"; return; }
  if ppp_case "$label"; then
    ip netns exec "$NS_A" xl2tpd-control -c "$W/lac.ctl" disconnect-lac test >/dev/null 2>&1
    expect_peers_exit "$label"
    # Dial again; this time the LNS's ppp-peer ends the link itself.
    fresh_logs
    ip netns exec "$NS_A" xl2tpd-control -c "$W/lac.ctl" connect-lac test >/dev/null 2>&1
    if ppp_case "$label, redialled"; then
      terminate_case "$label" "$W/lns.log"
    fi
  fi
  stop_all
}

start=$SECONDS
xl2tpd_both
echo "ppp_ping.sh: $((SECONDS - start)) s"
exit $((fails > 0))
