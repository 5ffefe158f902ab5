#!/usr/bin/env bash
# The DPDK fast path end to end: our l2tpd as LNS with its access and core
# ports on net_af_packet over veths, a real xl2tpd LAC whose PPP is
# ppp-peer (our pppd stand-in, bridging to TUN: this kernel has no PPP), and
# a Linux host on the core side. The subscriber's ping of the core host
# crosses the fast path both ways: upstream decapsulated by the worker and
# routed to the next hop, the reply encapsulated for the LAC; the session's
# fast-path counters move while the pty carries no IP at all. Then the LAC
# disconnects and the fast-path entry is gone.
#
#   NS_A (LAC)                 NS_B (our LNS, DPDK)            NS_C (core host)
#   xl2tpd + ppp-peer          access port 0 (fb)    core port 1 (fc)
#   fa 192.0.2.1/24 ---------- fb [192.0.2.2/24]     [198.51.100.1/24] fc ---- fd 198.51.100.254/24
#   ppp0 10.9.0.10                                                             route 10.9.0.0/24 via .1
#
# Prints PASS:/FAIL:/SKIP: lines for tests/run; cleans up (processes,
# namespaces, veths) even when it fails. KEEP=1 keeps the logs. WORKERS=N
# runs N workers (N queue pairs per port: the session's owner gets what
# the other workers receive through the handoff rings).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
WORKERS=${WORKERS:-1}
TEST="fast path"
((WORKERS > 1)) && TEST="fast path ($WORKERS workers)"
LCORES="-l 0-$WORKERS"  # the main lcore (control thread) and the workers
# More lcores than CPUs: let them share (EAL --lcores lcore@cpu sets).
((WORKERS + 1 > $(nproc))) && LCORES="--lcores=(0-$WORKERS)@(0-$(($(nproc) - 1)))"
PPP_PEER=$ROOT/${BUILD_DIR:-build/gcc}/tests/ppp-peer
L2TPD=$ROOT/${BUILD_DIR:-build/gcc}/control/l2tpd
# shellcheck source=tests/integration/lib.bash
source tests/integration/lib.bash  # the cwd is the repo root

skip_all() { echo "SKIP: fast path ping: $1"; echo "*** fastpath_ping.sh SKIPPED: $1 ***" >&2; exit 0; }
[[ $EUID -eq 0 ]] || skip_all "needs root (network namespaces, mount namespaces, TUN, AF_PACKET)"
for tool in xl2tpd xl2tpd-control ping ethtool; do
  command -v "$tool" >/dev/null || skip_all "$tool is not installed (tools/setup-deps installs it)"
done
[[ -e /usr/sbin/pppd ]] || skip_all "/usr/sbin/pppd is missing: nothing to bind ppp-peer over (install ppp)"
[[ -c /dev/net/tun ]] || skip_all "/dev/net/tun is missing"
[[ -x $PPP_PEER ]] || { fail "fast path ping" "$PPP_PEER not built"; exit 1; }
[[ -x $L2TPD ]] || { fail "fast path ping" "$L2TPD not built"; exit 1; }

W=$(mktemp -d /tmp/l2tp-fastpath.XXXXXX)
NS_A=l2fa$$ NS_B=l2fb$$ NS_C=l2fc$$
PIDS=()
cleanup() {
  fastpath_stop "$NS_A" "$NS_B" "$NS_C"
  workdir_done "$W"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

FA=fa$$ FB=fb$$ FC=fc$$ FD=fd$$
PREFIX=l2tpfp$$  # the EAL's runtime folder, where dpdk-telemetry.py finds our socket
fastpath_netns "$NS_A" "$NS_B" "$NS_C" "$FA" "$FB" "$FC" "$FD" ||
  skip_all "cannot create network namespaces and veth pairs here"
mkdir -p /var/run/xl2tpd

fastpath_lac "$W"
fastpath_lns_conf "$W"
cat >>"$W/lns.conf" <<EOF
[dataplane]
eal args = $LCORES --no-huge -m 512 --no-shconf --no-pci --file-prefix=$PREFIX --log-level=lib.*:warning --vdev=net_af_packet0,iface=$FB,qpairs=$WORKERS --vdev=net_af_packet1,iface=$FC,qpairs=$WORKERS
access port = 0
access address = 192.0.2.2/24
core port = 1
core address = 198.51.100.1/24
core next hop = 198.51.100.254
workers = $WORKERS
mbufs = 8191
EOF

# Our LNS with the data plane, and ppp-peer over /usr/sbin/pppd in its own
# mount namespace (as for xl2tpd below).
unshare -m sh -c "mount --bind '$PPP_PEER' /usr/sbin/pppd && exec ip netns exec '$NS_B' '$L2TPD' -D -c '$W/lns.conf' -s /dev/null -p '$W/lns.pid' -C '$W/lns.ctl' --log-level debug" \
  >"$W/lns.log" 2>&1 &
PIDS+=($!)
disown
if wait_log "$W/lns.log" "listening on 192\.0\.2\.2:1701 \(DPDK data plane\)" 30 &&
   wait_log "$W/lns.log" "LACs reach this box at UDP port 1701 of 192\.0\.2\.2\$" 2; then
  pass "$TEST: l2tpd starts its DPDK data plane on net_af_packet ports (next hop resolved by ARP)"
else
  fail "$TEST: l2tpd starts its DPDK data plane on net_af_packet ports (next hop resolved by ARP)" "$(tail -5 "$W/lns.log")"
  exit 1
fi
# Our core address answers ping from the core host (ARP and ICMP on the control path).
if ip netns exec "$NS_C" ping -c 1 -W 3 198.51.100.1 >"$W/ping-core.txt" 2>&1 &&
   ip netns exec "$NS_A" ping -c 1 -W 3 192.0.2.2 >"$W/ping-access.txt" 2>&1; then
  pass "$TEST: our core and access addresses answer ARP and ping"
else
  fail "$TEST: our core and access addresses answer ARP and ping" \
    "$(tail -1 "$W/ping-core.txt") / $(tail -1 "$W/ping-access.txt" 2>/dev/null)"
fi

fastpath_lac_up "$NS_A" "$W" "$PPP_PEER" "$TEST: the call comes up through the data plane's control path, IPCP gives 10.9.0.10" || exit 1

if ip netns exec "$NS_A" ping -c 5 -i 0.2 -W 3 -I 10.9.0.10 198.51.100.254 >"$W/ping.txt" 2>&1; then
  pass "$TEST: the subscriber's ping of the core host crosses the fast path and the replies come back"
else
  fail "$TEST: the subscriber's ping of the core host crosses the fast path and the replies come back" \
    "$(tail -2 "$W/ping.txt" | tr '\n' ' ')"
fi

# MTU (dataplane/mtu.hpp): the session carries at most 1462 octets (access
# MTU 1500 less IPv4, UDP, L2TP and PPP). A bigger packet without DF is
# fragmented by the worker and reassembled by the subscriber's kernel; one
# with DF gets ICMP "fragmentation needed" with 1462 from our core
# address. In that order: the second teaches the core host the path MTU.
if ip netns exec "$NS_C" ping -M dont -s 1472 -c 2 -i 0.2 -W 3 10.9.0.10 >"$W/ping-frag.txt" 2>&1; then
  pass "$TEST: a 1500-octet packet without DF reaches the subscriber in fragments and is answered"
else
  fail "$TEST: a 1500-octet packet without DF reaches the subscriber in fragments and is answered" \
    "$(tail -2 "$W/ping-frag.txt" | tr '\n' ' ')"
fi
ip netns exec "$NS_C" ping -M do -s 1472 -c 1 -W 3 10.9.0.10 >"$W/ping-df.txt" 2>&1
if grep -Eq "From 198\.51\.100\.1 .*[Ff]rag needed.*mtu ?= ?1462" "$W/ping-df.txt"; then
  pass "$TEST: a 1500-octet packet with DF gets ICMP fragmentation needed, MTU 1462, from our core address"
else
  fail "$TEST: a 1500-octet packet with DF gets ICMP fragmentation needed, MTU 1462, from our core address" \
    "$(tr '\n' ' ' <"$W/ping-df.txt")"
fi

# The counters: the session's fast path moved the ping both ways, the pty
# carried no IP (only LCP, IPCP and echoes), and the worker counted it.
kill -USR1 "$(cat "$W/lns.pid")"
if wait_log "$W/lns.log" "session [0-9]+ established .*of them data; fast path ([1-9][0-9]*)" 5; then
  line=$(grep -E "session [0-9]+ established .*fast path" "$W/lns.log" | tail -1)
  fast=$(grep -Eo "fast path [0-9]+" <<<"$line" | awk '{print $3}')
  pty_data=$(grep -Eo "dropped, [0-9]+ of them data" <<<"$line" | awk '{print $2}')
  if ((fast >= 10)) && ((pty_data == 0)); then
    pass "$TEST: the session's fast-path counters hold the ping ($fast packets) and the pty carried no IP"
  else
    fail "$TEST: the session's fast-path counters hold the ping and the pty carried no IP" "$line"
  fi
else
  fail "$TEST: the session's fast-path counters hold the ping and the pty carried no IP" \
    "$(grep -E 'session [0-9]+ established|data plane' "$W/lns.log" | tail -4)"
fi
if grep -Eq "status: data plane: workers $WORKERS: decap ([5-9]|[1-9][0-9]+) encap ([5-9]|[1-9][0-9]+) " "$W/lns.log"; then
  pass "$TEST: the worker decapsulated and encapsulated the ping"
else
  fail "$TEST: the worker decapsulated and encapsulated the ping" "$(grep 'data plane' "$W/lns.log" | tail -3)"
fi
if grep -Eq "ICMP frag needed [1-9][0-9]* .*fragmented [1-9][0-9]* into [2-9]" "$W/lns.log"; then
  pass "$TEST: the worker counted the ICMP it sent and the packets it fragmented"
else
  fail "$TEST: the worker counted the ICMP it sent and the packets it fragmented" "$(grep 'worker 0' "$W/lns.log" | tail -1)"
fi
if ((WORKERS > 1)); then
  # Whether a flow lands on its owner's queue is up to the PMD's hash: what
  # must hold is that every packet handed off was taken in by its owner and
  # that none was dropped for belonging to another worker.
  report=$(grep -E "worker [0-9]+ \(lcore" "$W/lns.log" | tail -n "$WORKERS")
  off=$(grep -Eo "handed off [0-9]+" <<<"$report" | awk '{s += $3} END {print s + 0}')
  in=$(grep -Eo "handed off [0-9]+ in [0-9]+" <<<"$report" | awk '{s += $5} END {print s + 0}')
  if ((off == in)) && ! grep -Eq "not_owner [1-9]" "$W/lns.log"; then
    pass "$TEST: every packet handed to the owner worker arrived ($off handed off), none dropped as not_owner"
  else
    fail "$TEST: every packet handed to the owner worker arrived, none dropped as not_owner" "$report"
  fi
fi
# The same counters through DPDK telemetry, read by Debian's own script.
sid=$(grep -Eo "session [0-9]+: IPCP up" "$W/lns.log" | tail -1 | awk '{print $2}' | tr -d :)
printf '/l2tp/summary\n/l2tp/session,%s\n/l2tp/drops\n' "$sid" |
  ip netns exec "$NS_B" timeout 20 dpdk-telemetry.py -f "$PREFIX" >"$W/telemetry.txt" 2>&1
if python3 - "$W/telemetry.txt" "$sid" "$WORKERS" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
# dpdk-telemetry.py prints one JSON object per command (after its banner).
objs, dec, i = [], json.JSONDecoder(), 0
while (i := text.find("{", i)) >= 0:
    try:
        o, end = dec.raw_decode(text, i)
    except ValueError:
        i += 1
        continue
    objs.append(o)
    i = end
by = {k: v for o in objs for k, v in o.items()}
s, sess, drops = by["/l2tp/summary"], by["/l2tp/session"], by["/l2tp/drops"]
assert s["workers"] == int(sys.argv[3]) and s["subscribers"] == 1 and s["decap"] >= 5 and s["encap"] >= 5, s
assert sess["local_session_id"] == int(sys.argv[2]) and sess["subscriber"] == "10.9.0.10", sess
assert sess["rx_packets"] >= 5 and sess["tx_packets"] >= 5, sess
# We are the LNS and xl2tpd's LAC asks for no sequencing: none, and ours to decide.
assert sess["sequenced"] == 0 and sess["follows_peer_sequencing"] == 0, sess
assert "unknown_session" in drops and "spoofed_source" in drops, drops
PY
then
  pass "$TEST: dpdk-telemetry.py reads the summary, the session's counters and the drops"
else
  fail "$TEST: dpdk-telemetry.py reads the summary, the session's counters and the drops" "$(tail -c 600 "$W/telemetry.txt")"
fi

# Teardown from the LAC: the fast-path entry is withdrawn.
ip netns exec "$NS_A" xl2tpd-control -c "$W/lac.ctl" disconnect-lac test >/dev/null 2>&1
if wait_log "$W/lns.log" "tunnel [0-9]+ down" 10; then
  sleep 0.5
  kill -USR1 "$(cat "$W/lns.pid")"
  if wait_log "$W/lns.log" "fast-path sessions 0;" 5 && wait_log "$W/lns.log" "status: fast path: 0 sessions published" 5; then
    pass "$TEST: after the LAC's disconnect the fast-path entry is gone"
  else
    fail "$TEST: after the LAC's disconnect the fast-path entry is gone" "$(grep 'fast' "$W/lns.log" | tail -3)"
  fi
else
  fail "$TEST: the LAC's disconnect reaches our LNS" "$(tail -3 "$W/lns.log")"
fi
lns_sigterm "$W" "$TEST: SIGTERM stops the daemon and its workers"
exit $((fails > 0))
