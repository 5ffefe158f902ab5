#!/usr/bin/env bash
# A real ping across an L2TP tunnel on a host whose kernel has no PPP: two
# network namespaces on a veth pair (LAC 192.0.2.1, LNS 192.0.2.2) and
# ppp-peer (tests/integration/ppp_peer.cpp, our pppd stand-in that bridges
# PPP to a TUN device) bound over /usr/sbin/pppd in each L2TP daemon's
# private mount namespace. Three pairings: Debian's xl2tpd on both sides
# (which proves ppp-peer against a peer nobody here wrote), our l2tpd as
# LNS with xl2tpd as LAC, and our l2tpd as LAC with xl2tpd as LNS. In each,
# both ppp-peers negotiate LCP and IPCP through the tunnel, get their
# addresses from the LNS's "local ip" / "ip range", run their ip-up script,
# carry ping -c 3 both ways, and exit when the LAC disconnects; dialled
# again, a SIGTERM to one ppp-peer sends an LCP Terminate-Request across,
# both exit, and that side's daemon sees pppd's exit status.
#
# Prints PASS:/FAIL:/SKIP: lines for tests/run. Cleans up (processes by
# PID, namespaces, veths and with them the TUN devices) even when it fails.
# KEEP=1 keeps the logs.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
PPP_PEER=$ROOT/${BUILD_DIR:-build/gcc}/tests/ppp-peer
L2TPD=$ROOT/${BUILD_DIR:-build/gcc}/control/l2tpd
# shellcheck source=tests/integration/lib.bash
source tests/integration/lib.bash  # the cwd is the repo root: pass, fail, wait_log...

skip_all() { echo "SKIP: ppp ping: $1"; echo "*** ppp_ping.sh SKIPPED: $1 ***" >&2; exit 0; }

[[ $EUID -eq 0 ]] || skip_all "needs root (network namespaces, mount namespaces, TUN)"
command -v xl2tpd >/dev/null || skip_all "xl2tpd is not installed (tools/setup-deps installs it)"
command -v xl2tpd-control >/dev/null || skip_all "xl2tpd-control is not installed"
command -v ping >/dev/null || skip_all "ping is not installed (tools/setup-deps installs iputils-ping)"
[[ -e /usr/sbin/pppd ]] || skip_all "/usr/sbin/pppd is missing: nothing to bind ppp-peer over (install ppp)"
[[ -c /dev/net/tun ]] || skip_all "/dev/net/tun is missing: no TUN in this kernel or container"
[[ -x $PPP_PEER ]] || { fail "ppp ping" "$PPP_PEER not built"; exit 1; }
[[ -x $L2TPD ]] || { fail "ppp ping" "$L2TPD not built"; exit 1; }

W=$(mktemp -d /tmp/l2tp-ppp-ping.XXXXXX)
NS_A=l2pa$$ NS_B=l2pb$$
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
  # ppp-peers are the daemons' children, in the same network namespace;
  # their TUN devices go with them, the veth pair with the namespaces.
  netns_kill "$NS_A" "$NS_B"
  ip netns del "$NS_A" 2>/dev/null
  ip netns del "$NS_B" 2>/dev/null
  if [[ ${KEEP:-0} == 1 ]]; then echo "logs kept in $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 143' TERM INT  # tests/run's timeout: still run cleanup

netns_pair "$NS_A" "$NS_B" "pa$$" "pb$$" || skip_all "cannot create network namespaces and a veth pair here"

# xl2tpd-control makes its reply FIFO there (Debian's path).
mkdir -p /var/run/xl2tpd

# The ip-up hook records pppd's script arguments:
# interface tty speed local remote ipparam.
cat >"$W/ip-up" <<'EOF'
#!/bin/sh
echo "$*" >"$0.$1.$4.args"
EOF
chmod +x "$W/ip-up"

# pppd options for one side (pppoptfile): ppp-peer reads "file" as pppd does.
ppp_options() {  # SIDE
  cat <<EOF
noauth
logfile $W/$1-ppp.log
ip-up-script $W/ip-up
EOF
}

# Both daemons read xl2tpd.conf; the LAC's entry is "test", dialled at start.
lns_conf() {
  cat <<EOF
[global]
port = 1701

[lns default]
ip range = 10.9.0.10-10.9.0.20
local ip = 10.9.0.1
hostname = lns
pppoptfile = $W/lns.options
EOF
}
lac_conf() {
  cat <<EOF
[global]
port = 1701

[lac test]
lns = 192.0.2.2
hostname = lac
autodial = yes
redial = no
pppoptfile = $W/lac.options
EOF
}

# start_daemon KIND NS SIDE: xl2tpd or our l2tpd (KIND xl2tpd|ours) in NS
# in the foreground with $W/SIDE.conf, ppp-peer bound over /usr/sbin/pppd
# in a mount namespace of its own; log $W/SIDE.log, FIFO $W/SIDE.ctl.
start_daemon() {
  local kind=$1 ns=$2 side=$3 cmd ready
  if [[ $kind == xl2tpd ]]; then
    cmd="xl2tpd -D -c '$W/$side.conf' -s /dev/null -p '$W/$side.pid' -C '$W/$side.ctl'"
    ready="Listening on IP address"
  else
    # Our daemon's default --pppd is /usr/sbin/pppd: it runs the bind
    # mount, as xl2tpd does.
    cmd="'$L2TPD' --socket -D -c '$W/$side.conf' -s /dev/null -p '$W/$side.pid' -C '$W/$side.ctl' --log-level debug"
    ready="listening on"
  fi
  # Emptied here, not by the background job's redirection: wait_log must
  # not find the previous daemon's line before the new one has started
  # (and a FIFO command then block on the previous daemon's stale FIFO).
  : >"$W/$side.log"
  unshare -m sh -c "mount --bind '$PPP_PEER' /usr/sbin/pppd && exec ip netns exec '$ns' $cmd" \
    >>"$W/$side.log" 2>&1 &
  PIDS+=($!)
  disown
  wait_log "$W/$side.log" "$ready" 5
}

# lac_command KIND connect|disconnect: xl2tpd-control for xl2tpd, the
# classic FIFO commands (c/d ENTRY) for ours.
lac_command() {
  if [[ $1 == xl2tpd ]]; then
    ip netns exec "$NS_A" xl2tpd-control -c "$W/lac.ctl" "$2-lac" test >/dev/null 2>&1
  else
    # A FIFO nobody reads would block the open forever: bound it.
    timeout 5 sh -c "echo '$([[ $2 == connect ]] && echo c || echo d) test' >'$W/lac.ctl'"
  fi
}

stop_all() {
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
  netns_kill "$NS_A" "$NS_B"
  PIDS=()
  # The next pair binds the same UDP port: wait until both namespaces are
  # empty (their TUN devices go with the ppp-peers).
  local deadline=$((SECONDS + 5))
  while ((SECONDS < deadline)) && [[ -n $(ip netns pids "$NS_A")$(ip netns pids "$NS_B") ]]; do sleep 0.1; done
}

# Logs of ppp-peers that have exited, out of the way of the next ones.
rotations=0
fresh_logs() {
  local f
  for f in "$W"/lac-ppp.log "$W"/lns-ppp.log "$W"/ip-up.*.args; do
    [[ -e $f ]] && mv "$f" "$f.$((++rotations))"
  done
}

# The pid ppp-peer logs on its first line ("ppp-peer[PID]: start: ...").
peer_pid() { grep -m1 -o 'ppp-peer\[[0-9]*\]: start' "$1" 2>/dev/null | grep -o '[0-9][0-9]*'; }

# wait_gone PID SECONDS: true once PID has exited. A zombie has: reaping
# is its parent's business, and xl2tpd can leave one for a while (it reaps
# on a SIGCHLD flag that its select() may sleep past).
wait_gone() {
  local deadline=$((SECONDS + $2)) stat
  while ((SECONDS < deadline)); do
    stat=$(ps -o stat= -p "$1" 2>/dev/null) || return 0
    [[ $stat == Z* ]] && return 0
    sleep 0.1
  done
  return 1
}

# ppp_case LABEL: the LAC in NS_A and the LNS in NS_B are up and dialling
# (their ppp-peers log to $W/lac-ppp.log and $W/lns-ppp.log); checks
# negotiation, the interfaces, the ip-up hook and the pings. Teardown is
# the caller's.
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
      "LAC: $(tail -2 "$W/lac-ppp.log" | tr '\n' ' ') / LNS: $(tail -2 "$W/lns-ppp.log" | tr '\n' ' ') / left: $(ps -o pid=,stat=,ppid=,comm= -p "${lac_pid:-1},${lns_pid:-1}" | tr '\n' ' ')"
  fi
  if ! ip -n "$NS_A" link show ppp0 >/dev/null 2>&1 && ! ip -n "$NS_B" link show ppp0 >/dev/null 2>&1; then
    pass "$label: ppp0 is gone on both sides"
  else
    fail "$label: ppp0 is gone on both sides"
  fi
}

# terminate_case LABEL SIDE: SIGTERM to SIDE's (lac|lns) ppp-peer, as an
# operator would stop pppd: it sends an LCP Terminate-Request through the
# tunnel, the other ppp-peer acknowledges, both exit, and SIDE's daemon
# sees its pppd exit with pppd's status for a user request (5).
terminate_case() {
  local side=$2 other=lac pid
  [[ $side == lac ]] && other=lns
  local label="$1, SIGTERM to the ${side^^}'s ppp-peer"
  pid=$(peer_pid "$W/$side-ppp.log")
  [[ -n $pid ]] && kill -TERM "$pid"
  if wait_log "$W/$other-ppp.log" "LCP Terminate-Request received" 5 &&
     wait_log "$W/$side-ppp.log" "LCP Terminate-Ack received" 5 &&
     wait_log "$W/$side-ppp.log" "exit: link terminated on signal \(status 5\)" 5; then
    pass "$label: LCP Terminate-Request and Ack cross the tunnel"
  else
    fail "$label: LCP Terminate-Request and Ack cross the tunnel" \
      "${side^^}: $(tail -2 "$W/$side-ppp.log" | tr '\n' ' ') / ${other^^}: $(tail -2 "$W/$other-ppp.log" | tr '\n' ' ')"
  fi
  # xl2tpd: "pppd exited for call N with code 5"; ours: "pppd exited with status 5".
  if wait_log "$W/$side.log" "pppd exited (for call [0-9]+ with code|with status) 5" 5; then
    pass "$label: the ${side^^} daemon sees its pppd exit with status 5"
  else
    fail "$label: the ${side^^} daemon sees its pppd exit with status 5" \
      "$(grep -i pppd "$W/$side.log" | tail -2 | tr '\n' ' ')"
  fi
  expect_peers_exit "$label"
}

# run_case LAC_KIND LNS_KIND (xl2tpd|ours each).
run_case() {
  local lac_kind=$1 lns_kind=$2 label side
  label="$([[ $1 == ours ]] && echo "our LAC" || echo "xl2tpd LAC"), $([[ $2 == ours ]] && echo "our LNS" || echo "xl2tpd LNS")"
  fresh_logs
  ppp_options lac >"$W/lac.options"
  ppp_options lns >"$W/lns.options"
  lns_conf >"$W/lns.conf"
  lac_conf >"$W/lac.conf"
  if ! start_daemon "$lns_kind" "$NS_B" lns; then
    fail "$label: start the LNS" "$(tail -3 "$W/lns.log")"
    stop_all
    return
  fi
  if ! start_daemon "$lac_kind" "$NS_A" lac; then
    fail "$label: start the LAC" "$(tail -3 "$W/lac.log")"
    stop_all
    return
  fi
  if ppp_case "$label"; then
    # Our daemon watches LCP and IPCP on the pty it hands pppd.
    for side in lac lns; do
      local kind=$lac_kind local_re='10\.9\.0\.10' peer_re='10\.9\.0\.1'
      [[ $side == lns ]] && kind=$lns_kind local_re='10\.9\.0\.1' peer_re='10\.9\.0\.10'
      [[ $kind == ours ]] || continue
      if wait_log "$W/$side.log" "session [0-9]+: IPCP up, peer $peer_re, local $local_re\$" 5; then
        pass "$label: our ${side^^} sees IPCP up on the pty"
      else
        fail "$label: our ${side^^} sees IPCP up on the pty" "$(grep -E 'LCP|IPCP' "$W/$side.log" | tail -2 | tr '\n' ' ')"
      fi
    done
    if [[ $lns_kind == ours ]]; then
      # Accounting through the FIFO (socket mode has no telemetry):
      # xl2tpd-control status-lns shows the subscriber and the traffic.
      local st
      st=$(ip netns exec "$NS_B" timeout 10 xl2tpd-control -d -c "$W/lns.ctl" status-lns default 2>&1)
      if grep -q "calls.0.subscriber=10\.9\.0\.10$" <<<"$st" &&
         grep -Eq "calls.0.frames_in=([1-9][0-9]+)$" <<<"$st" && grep -Eq "calls.0.bytes_out=[1-9][0-9]*$" <<<"$st"; then
        pass "$label: xl2tpd-control status-lns shows the subscriber's address and traffic"
      else
        fail "$label: xl2tpd-control status-lns shows the subscriber's address and traffic" "$(grep calls.0 <<<"$st" | tr '\n' ' ')"
      fi
    fi
    lac_command "$lac_kind" disconnect
    expect_peers_exit "$label"
    # Dial again; this time a ppp-peer ends the link itself: the one under
    # our daemon when there is one, so that our daemon sees its exit.
    fresh_logs
    lac_command "$lac_kind" connect
    if ppp_case "$label, redialled"; then
      side=lns
      [[ $lac_kind == ours ]] && side=lac
      terminate_case "$label" "$side"
    fi
  fi
  stop_all
}

start=$SECONDS
run_case xl2tpd xl2tpd
run_case xl2tpd ours
run_case ours xl2tpd
echo "ppp_ping.sh: $((SECONDS - start)) s"
exit $((fails > 0))
