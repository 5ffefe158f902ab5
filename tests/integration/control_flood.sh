#!/usr/bin/env bash
# Protection of the control path under a flood (dataplane/police.hpp): our
# l2tpd as LNS on net_af_packet ports, an xl2tpd LAC with an established
# call whose subscriber pings a core host through the fast path, and our
# Hello every second on that tunnel. Then tools/l2tp_flood.cpp floods the
# access port from the LAC's namespace, as fast as this machine sends, with
# SCCRQs from random sources, data for unknown sessions, malformed
# datagrams and control messages (Hellos) for random tunnel IDs from random
# sources (FLOOD_KINDS, default sccrq,unknown,malformed,control), for
# FLOOD_SECONDS (default 6). Checked:
# - the ping keeps going: at most MAX_LOSS % (default 10) lost;
# - the tunnel stays up: our Hellos go on being sent and acknowledged, no
#   retransmission gives up, xl2tpd keeps its tunnel and call;
# - none of our Hellos is retransmitted: the spoofed control is not the
#   live tunnel's (the workers know the live tunnel IDs and their peers,
#   dataplane/tunnel_table.hpp), so it is policed in a class of its own
#   ("stray", police stray [worker] rate) and never takes the tokens of
#   the LAC's acknowledgements (police control worker rate);
# - every flooded packet is accounted for: what the kernel delivered to the
#   access port is what the PMD received plus what it missed, and every
#   packet the worker received was forwarded, punted or counted as a drop
#   (rx = decap + encap + to_control + drops), the flood's share in the
#   policed_*, unknown_session and malformed reasons.
# Prints the flood rate and what the session saw.
#
#   NS_A (LAC + flood)         NS_B (our LNS, DPDK)            NS_C (core host)
#   fa 192.0.2.1/24 ---------- fb [192.0.2.2/24]     [198.51.100.1/24] fc ---- fd 198.51.100.254/24
#
# Prints PASS:/FAIL:/SKIP: lines for tests/run; cleans up (processes,
# namespaces, veths) even when it fails. KEEP=1 keeps the logs.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
BUILD=$ROOT/${BUILD_DIR:-build/gcc}
PPP_PEER=$BUILD/tests/ppp-peer
L2TPD=$BUILD/control/l2tpd
FLOOD=$BUILD/tools/l2tp-flood
FLOOD_SECONDS=${FLOOD_SECONDS:-6}
FLOOD_KINDS=${FLOOD_KINDS:-sccrq,unknown,malformed,control}
MAX_LOSS=${MAX_LOSS:-10}
# shellcheck source=tests/integration/lib.bash
source tests/integration/lib.bash  # the cwd is the repo root

skip_all() { echo "SKIP: control flood: $1"; echo "*** control_flood.sh SKIPPED: $1 ***" >&2; exit 0; }
[[ $EUID -eq 0 ]] || skip_all "needs root (network namespaces, mount namespaces, TUN, AF_PACKET)"
for tool in xl2tpd ping ethtool dpdk-telemetry.py python3; do
  command -v "$tool" >/dev/null || skip_all "$tool is not installed (tools/setup-deps installs it)"
done
[[ -e /usr/sbin/pppd ]] || skip_all "/usr/sbin/pppd is missing: nothing to bind ppp-peer over (install ppp)"
[[ -c /dev/net/tun ]] || skip_all "/dev/net/tun is missing"
for b in "$PPP_PEER" "$L2TPD" "$FLOOD"; do
  [[ -x $b ]] || { fail "control flood" "$b not built"; exit 1; }
done

W=$(mktemp -d /tmp/l2tp-flood.XXXXXX)
NS_A=l2ca$$ NS_B=l2cb$$ NS_C=l2cc$$
PIDS=()
cleanup() {
  fastpath_stop "$NS_A" "$NS_B" "$NS_C"
  workdir_done "$W"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

FA=ca$$ FB=cb$$ FC=cc$$ FD=cd$$
PREFIX=l2tpcf$$  # the EAL's runtime folder, where dpdk-telemetry.py finds our socket
fastpath_netns "$NS_A" "$NS_B" "$NS_C" "$FA" "$FB" "$FC" "$FD" &&
  # No IPv6 from the kernel on the access port: the AF_PACKET socket would
  # see its own kernel's router solicitations, frames the veth never
  # received, and the port's count would not be the veth's.
  ip netns exec "$NS_B" sysctl -qw "net.ipv6.conf.$FB.disable_ipv6=1" ||
  skip_all "cannot create network namespaces and veth pairs here"
mkdir -p /var/run/xl2tpd

fastpath_lac "$W"
# hello interval = 1: our LNS sends a Hello after each idle second, so the
# tunnel's control channel is exercised (and acknowledged) throughout.
# framecnt=8192: the access port's AF_PACKET ring holds 40 ms of the flood
# while the worker is preempted (the PMD of DPDK 22.11 does not count what
# overflows it); mbufs and rings to match.
fastpath_lns_conf "$W" "hello interval = 1"
cat >>"$W/lns.conf" <<CONF
[dataplane]
eal args = -l 0-1 --no-huge -m 512 --no-shconf --no-pci --file-prefix=$PREFIX --log-level=lib.*:warning --vdev=net_af_packet0,iface=$FB,framecnt=8192 --vdev=net_af_packet1,iface=$FC
access port = 0
access address = 192.0.2.2/24
core port = 1
core address = 198.51.100.1/24
core next hop = 198.51.100.254
workers = 1
mbufs = 16383
ring size = 1024
CONF

unshare -m sh -c "mount --bind '$PPP_PEER' /usr/sbin/pppd && exec ip netns exec '$NS_B' '$L2TPD' -D -c '$W/lns.conf' -s /dev/null -p '$W/lns.pid' -C '$W/lns.ctl' --log-level info" \
  >"$W/lns.log" 2>&1 &
PIDS+=($!)
disown
if ! wait_log "$W/lns.log" "listening on 192\.0\.2\.2:1701 \(DPDK data plane\)" 30; then
  fail "control flood: l2tpd starts its DPDK data plane" "$(tail -5 "$W/lns.log")"
  exit 1
fi
fastpath_lac_up "$NS_A" "$W" "$PPP_PEER" "control flood: the call is up through the data plane (IPCP gives 10.9.0.10)" || exit 1
if ! ip netns exec "$NS_A" ping -c 3 -i 0.2 -W 2 -I 10.9.0.10 198.51.100.254 >"$W/ping0.txt" 2>&1; then
  fail "control flood: the subscriber's ping crosses the fast path before the flood" "$(tail -2 "$W/ping0.txt")"
  exit 1
fi

lns_pid=$(cat "$W/lns.pid")
# The tunnel's status line (SIGUSR1): "tunnel N LNS established peer
# 192.0.2.1:1701 (lac) ... control S sent, R retransmitted, X received".
tunnel_status() {
  local before
  before=$(count "$W/lns.log" "status: data plane: control path")
  kill -USR1 "$lns_pid"
  wait_count "$W/lns.log" "status: data plane: control path" $((before + 1)) 5
  sleep 0.3  # the tunnel lines follow the data plane's
  grep -E "tunnel [0-9]+ LNS [a-z-]+ peer 192\.0\.2\.1:" "$W/lns.log" | tail -1
}
# snapshot NAME: telemetry, with the kernel's view of the veths read just
# before and just after it (NAME.1, NAME.2): what the kernel delivered
# while the telemetry was read is bracketed, not guessed.
snapshot() {
  ip -n "$NS_B" -s -j link show "$FB" >"$W/$1.1.fb.json"
  ip -n "$NS_A" -s -j link show "$FA" >"$W/$1.1.fa.json"
  printf '/l2tp/summary\n/l2tp/drops\n/l2tp/ports\n' |
    ip netns exec "$NS_B" timeout 20 dpdk-telemetry.py -f "$PREFIX" >"$W/$1.telemetry" 2>&1
  ip -n "$NS_B" -s -j link show "$FB" >"$W/$1.2.fb.json"
  ip -n "$NS_A" -s -j link show "$FA" >"$W/$1.2.fa.json"
}
sleep 1.5  # a Hello or two before
status_before=$(tunnel_status)
snapshot before

# The ping through the fast path, across the flood (a second on each side).
PINGS=$(( (FLOOD_SECONDS + 2) * 50 ))
ip netns exec "$NS_A" ping -q -c "$PINGS" -i 0.02 -W 1 -I 10.9.0.10 198.51.100.254 >"$W/ping.txt" 2>&1 &
ping_pid=$!
PIDS+=("$ping_pid")
sleep 1
fb_mac=$(ip -n "$NS_B" -j link show "$FB" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')
# nice: the flood takes every cycle left over, but the LAC (xl2tpd, its
# ppp-peer, the ping) still gets the CPU when it has work; on a machine of
# two cores the DPDK worker has one of them.
ip netns exec "$NS_A" nice -n 19 "$FLOOD" -i "$FA" --dst-mac "$fb_mac" --dst 192.0.2.2 -t "$FLOOD_SECONDS" -k "$FLOOD_KINDS" >"$W/flood.txt" 2>&1
flood_rc=$?
wait "$ping_pid"
sleep 1.5  # the rings drain and the counters settle
snapshot after
status_after=$(tunnel_status)
echo "flood: $(cat "$W/flood.txt")"
echo "ping: $(grep -E 'transmitted|rtt' "$W/ping.txt" | tr '\n' ' ')"
echo "tunnel before: ${status_before#*status: }"
echo "tunnel after:  ${status_after#*status: }"
[[ $flood_rc == 0 ]] || fail "control flood: l2tp-flood ran" "$(cat "$W/flood.txt")"

# The tunnel: still established, Hellos sent all along and acknowledged
# (no retransmission gave up: the tunnel would be gone). ZLB acks are not
# counted as received messages.
# More new Hellos than the send window (4) means the earlier ones were
# acknowledged: the window would have stopped them otherwise.
sent() { grep -Eo "control [0-9]+ sent" <<<"$1" | awk '{print $2}'; }
resent() { grep -Eo "[0-9]+ retransmitted" <<<"$1" | awk '{print $1}'; }
hellos=$(( $(sent "$status_after") - $(sent "$status_before") ))
resends=$(( $(resent "$status_after") - $(resent "$status_before") ))
echo "tunnel: $hellos Hellos sent during the flood, $resends retransmissions"
if [[ $status_after == *" established peer "* ]] && ((hellos >= FLOOD_SECONDS - 1 && hellos > 4)) &&
   ! grep -Eiq "tunnel [0-9]+ down|StopCCN" "$W/lns.log" &&
   [[ $status_after == *", 1 sessions;"* ]] &&
   ! grep -Eiq "maximum retries|closed to|disconnect|hangup" "$W/lac.log"; then
  pass "control flood: the tunnel stays up, our Hellos are sent and acknowledged throughout"
else
  fail "control flood: the tunnel stays up, our Hellos are sent and acknowledged throughout" \
    "before: $status_before / after: $status_after / $(grep -Ei 'down|StopCCN|retries|clos' "$W/lns.log" "$W/lac.log" | tail -3)"
fi
# A retransmission means an acknowledgement of the LAC's came late or was
# lost. Policing must never be why: the live tunnel's control is in the
# control class, and nothing of that class may be policed (the flood's
# spoofed control is stray). Late acks on a machine whose two cores the
# flood keeps busy (sender, worker, control thread, xl2tpd) are not the
# control path's doing: then the retransmissions are reported, not failed.
policed_control=$(grep -E "drops:" "$W/lns.log" | tail -1 | grep -Eo "policed_control(_worker)? [0-9]+" |
  awk '{s += $2} END {print s + 0}')
if [[ -n $resends ]] && ((resends == 0 && hellos > 0)); then
  pass "control flood: no Hello of ours is retransmitted ($hellos sent, the flood's control is policed apart)"
elif [[ -n $resends ]] && ((hellos > 0 && policed_control == 0)); then
  pass "control flood: none of the tunnel's control was policed ($resends of $hellos Hellos retransmitted: late acks under load)"
else
  fail "control flood: no Hello of ours is retransmitted and none of the tunnel's control is policed" \
    "$resends retransmissions of $hellos Hellos, $policed_control control-class frames policed"
fi

# The rest from the counters and the ping: python prints PASS:/FAIL: lines
# and exits with the number of FAILs.
python3 - "$W" "$MAX_LOSS" <<'PY'
import json, re, sys
W, max_loss = sys.argv[1], float(sys.argv[2])
fails = 0
def check(ok, what, detail=""):
    global fails
    print(("PASS: " if ok else "FAIL: ") + "control flood: " + what + ("" if ok or not detail else ": " + detail))
    fails += 0 if ok else 1

def telemetry(name):
    text, objs, dec, i = open(f"{W}/{name}.telemetry").read(), [], json.JSONDecoder(), 0
    while (i := text.find("{", i)) >= 0:
        try:
            o, end = dec.raw_decode(text, i)
        except ValueError:
            i += 1
            continue
        objs.append(o)
        i = end
    return {k: v for o in objs for k, v in o.items()}
def kernel(name, dev):
    return json.load(open(f"{W}/{name}.{dev}.json"))[0]["stats64"]
def kdelta(dev, way, first="before.1", last="after.2"):
    x, y = kernel(first, dev)[way], kernel(last, dev)[way]
    return {k: y[k] - x[k] for k in y}

b, a = telemetry("before"), telemetry("after")
sb, sa = b["/l2tp/summary"], a["/l2tp/summary"]
db, da = b["/l2tp/drops"], a["/l2tp/drops"]
pb, pa = b["/l2tp/ports"]["access"], a["/l2tp/ports"]["access"]
d = lambda x, y, k: y[k] - x[k]
flood = open(f"{W}/flood.txt").read()
m = re.search(r"sent (\d+) frames in ([\d.]+) s: (\d+) pps", flood)
sent, secs, pps = (int(m[1]), float(m[2]), int(m[3])) if m else (0, 1.0, 0)
fa_tx = kdelta("fa", "tx")
fb_rx = kdelta("fb", "rx")
fb_rx_inner = kdelta("fb", "rx", "before.2", "after.1")["packets"]
rx_access = d(sb, sa, "rx_access")
pmd_rx, missed, nombuf = d(pb, pa, "rx_packets"), d(pb, pa, "rx_missed"), d(pb, pa, "rx_no_mbuf")
drops = {k: da[k] - db.get(k, 0) for k in da if da[k] != db.get(k, 0)}
policed = sum(v for k, v in drops.items() if k.startswith("policed_"))
malformed = sum(drops.get(k, 0) for k in ("l2tp_version", "l2tp_header", "udp_length", "ipv4_header", "runt"))
to_control = d(sb, sa, "to_control")

print(f"flood: {sent} frames sent by l2tp-flood in {secs:.2f} s ({pps} pps); the veth carried {fa_tx['packets']} "
      f"(dropped {fa_tx['dropped']}), the access port's kernel side got {fb_rx['packets']}")
print(f"access port: PMD received {pmd_rx}, missed {missed} (AF_PACKET ring full), no mbuf {nombuf}; "
      f"worker rx {rx_access}: decap {d(sb, sa, 'decap')}, to control {to_control}, drops {sum(drops.values())} {drops}")
print(f"control path held: {rx_access / secs:.0f} pps into the worker, {to_control / secs:.0f} pps up to the control thread")

check(sent > 0 and pps >= 10000, f"l2tp-flood sends at line rate for this machine ({pps} pps)", flood)
check(fb_rx["packets"] >= 0.5 * sent, "the flood reaches the access port", f"{fb_rx['packets']} of {sent}")
# Every packet the kernel put on the port's AF_PACKET socket: received by
# the PMD or counted missed by it. DPDK 22.11's net_af_packet does not
# report its ring's overflows (tp_drops) as rx_missed, so a gap here is
# loss in the kernel's ring, before DPDK: the ring is made large enough
# (framecnt) for the rate this machine floods at.
check(fb_rx_inner <= pmd_rx + missed <= fb_rx["packets"],
      f"the port accounts for every frame that arrived ({pmd_rx} received + {missed} missed, "
      f"the kernel delivered {fb_rx_inner}..{fb_rx['packets']})",
      f"a gap of {fb_rx_inner - pmd_rx - missed} frames: lost in the AF_PACKET ring, which this PMD does not count")
check(sa["rx_access"] == pa["rx_packets"], "the worker took in every frame the PMD received",
      f"worker {sa['rx_access']} vs PMD {pa['rx_packets']}")
# (Handed off to and in from other workers: 0 with one worker, but the
# identity holds with any number.)
total = sa["decap"] + sa["encap"] + sa["to_control"] + sa["dropped"] + sa.get("handed_off", 0)
check(sa["rx_access"] + sa["rx_core"] + sa.get("handed_in", 0) == total,
      "every received packet is forwarded, punted or counted as a drop (rx = decap + encap + to_control + drops)",
      f"{sa['rx_access']} + {sa['rx_core']} != {total}")
kinds = {k: int(v) for k, v in re.findall(r"(sccrq|unknown|malformed|control) (\d+)", flood)}
# The flood's control is for tunnel IDs that are not live from its sources:
# the stray class, never the live tunnel's.
policed_stray = drops.get("policed_stray", 0) + drops.get("policed_stray_worker", 0)
check(drops.get("unknown_session", 0) > 0 and malformed > 0 and policed > 0 and
      (policed_stray > 0 or not kinds.get("control")) and drops.get("policed_control_worker", 0) == 0,
      f"the flood is counted: unknown_session {drops.get('unknown_session', 0)}, malformed {malformed}, policed {policed} "
      f"(stray {policed_stray}), none at the control class's worker cap",
      str(drops))
# Kind by kind, when nothing was lost before the worker: every unknown
# session and every malformed frame sent is a drop of its reason, and every
# SCCRQ was policed or went up.
policed_sccrq = drops.get("policed_sccrq", 0) + drops.get("policed_sccrq_worker", 0)
if fb_rx["packets"] - fa_tx["packets"] == 0 and pmd_rx + missed >= fb_rx_inner and fa_tx["dropped"] == 0 and kinds:
    sccrq_up, control_up = kinds["sccrq"] - policed_sccrq, kinds.get("control", 0) - policed_stray
    check(drops.get("unknown_session", 0) == kinds["unknown"] and malformed == kinds["malformed"] and
          0 <= sccrq_up and 0 <= control_up and sccrq_up + control_up <= to_control,
          f"each flooded frame is counted: {kinds['unknown']} unknown sessions, {kinds['malformed']} malformed, "
          f"{kinds['sccrq']} SCCRQs = {policed_sccrq} policed + {sccrq_up} up, {kinds.get('control', 0)} spoofed control = "
          f"{policed_stray} policed as stray + {control_up} up",
          f"sent {kinds}, counted {drops}, to control {to_control}")
else:
    print("control flood: frames were lost before the worker: the kind-by-kind count is not exact this run")
# What went up is bounded by the policer's per-worker caps over the flood
# (SCCRQ 500/s burst 128; stray control 500/s burst 128 if flooded), plus
# the LAC's own control (acks, ARP). The worker drains the port's ring for
# a while after the sender stops (8192 frames at the flood's rate): half a
# second of slack on the window, a few hundred frames, far below what a
# missing cap would let up (thousands a second).
window = secs + 0.5
bound = 500 * window + 128 + 100 + ((500 * window + 128) if kinds.get("control") else 0)
check(to_control <= bound, f"what goes up to the control thread stays within the worker caps ({to_control / secs:.0f} pps, "
      f"{to_control} <= {bound:.0f})", str(drops))

ping = open(f"{W}/ping.txt").read()
m = re.search(r"(\d+) packets transmitted, (\d+) received", ping)
tx, rx = (int(m[1]), int(m[2])) if m else (0, 0)
loss = 100.0 * (tx - rx) / tx if tx else 100.0
rtt = re.search(r"rtt [^=]+= ([\d.]+)/([\d.]+)/([\d.]+)", ping)
print(f"session: ping {tx} sent, {rx} answered ({loss:.1f}% lost)" +
      (f", rtt min/avg/max {rtt[1]}/{rtt[2]}/{rtt[3]} ms" if rtt else ""))
check(tx > 0 and loss <= max_loss, f"the session keeps forwarding under the flood ({loss:.1f}% ping loss, bound {max_loss:g}%)",
      ping.strip().splitlines()[-2:] if ping else "no ping output")
sys.exit(fails)
PY
fails=$((fails + $?))
if ip netns exec "$NS_A" ping -c 3 -i 0.2 -W 2 -I 10.9.0.10 198.51.100.254 >"$W/ping2.txt" 2>&1; then
  pass "control flood: after the flood the session still forwards"
else
  fail "control flood: after the flood the session still forwards" "$(tail -2 "$W/ping2.txt")"
fi
exit $((fails > 0))
