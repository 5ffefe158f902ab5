#!/usr/bin/env bash
# dpdk-dumpcap on our DPDK ports: the daemon runs as in fastpath_ping.sh
# (LNS on net_af_packet ports over veths, an xl2tpd LAC whose PPP is
# ppp-peer, a core host), but on hugepages and with the shared
# configuration, so that it serves packet capture (rte_pdump_init) and
# Debian's dpdk-dumpcap, a secondary process, attaches with the same
# --file-prefix. While the subscriber pings the core host, dpdk-dumpcap
# captures the access port; tshark then decodes, in its pcapng, the session's
# L2TP data frames with the ICMP inside both ways: the LAC's requests as
# the worker received them (RX) and the replies the worker encapsulated and
# sent through rte_eth_tx_buffer (TX). Then everything is torn down and the
# hugepages this script reserved are given back (nr_hugepages as it was).
#
#   NS_A (LAC)                 NS_B (our LNS, DPDK)            NS_C (core host)
#   xl2tpd + ppp-peer          access port 0 (gb)    core port 1 (gc)
#   ga 192.0.2.1/24 ---------- gb [192.0.2.2/24]     [198.51.100.1/24] gc ---- gd 198.51.100.254/24
#   ppp0 10.9.0.10             dpdk-dumpcap -i 0                               route 10.9.0.0/24 via .1
#
# Hugepages are machine-wide: run it alone (flock /tmp/l2tp-integration.lock
# tests/integration/dumpcap.sh). Prints PASS:/FAIL:/SKIP: lines for
# tests/run; cleans up (processes, namespaces, veths, the hugetlbfs mount,
# the pages) even when it fails. KEEP=1 keeps the logs and the capture.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
PPP_PEER=$ROOT/${BUILD_DIR:-build/gcc}/tests/ppp-peer
L2TPD=$ROOT/${BUILD_DIR:-build/gcc}/control/l2tpd
# shellcheck source=tests/integration/lib.bash
source tests/integration/lib.bash  # the cwd is the repo root

skip_all() { echo "SKIP: dpdk-dumpcap: $1"; echo "*** dumpcap.sh SKIPPED: $1 ***" >&2; exit 0; }
[[ $EUID -eq 0 ]] || skip_all "needs root (hugepages, network namespaces, mount namespaces, TUN, AF_PACKET)"
for tool in xl2tpd xl2tpd-control ping ethtool tshark dpdk-dumpcap; do
  command -v "$tool" >/dev/null || skip_all "$tool is not installed (tools/setup-deps installs it)"
done
[[ -e /usr/sbin/pppd ]] || skip_all "/usr/sbin/pppd is missing: nothing to bind ppp-peer over (install ppp)"
[[ -c /dev/net/tun ]] || skip_all "/dev/net/tun is missing"
[[ -x $PPP_PEER ]] || { fail "dpdk-dumpcap" "$PPP_PEER not built"; exit 1; }
[[ -x $L2TPD ]] || { fail "dpdk-dumpcap" "$L2TPD not built"; exit 1; }

# A secondary process cannot attach to a --no-huge primary (its memory is
# anonymous), so this test needs real hugepages.
HP_KNOB=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
[[ -w $HP_KNOB ]] || skip_all "no 2 MB hugepages here ($HP_KNOB missing or read-only): dpdk-dumpcap cannot attach to a --no-huge primary"
HP_PAGES=128  # 256 MB: the daemon's pool and tables, and dumpcap's own pool
HP_BEFORE=$(cat "$HP_KNOB")

W=$(mktemp -d /tmp/l2tp-dumpcap.XXXXXX)
PREFIX=l2tpdc$$  # the EAL's runtime folder /var/run/dpdk/$PREFIX: dpdk-dumpcap attaches through it
HP_DIR=$W/hugepages
NS_A=l2ga$$ NS_B=l2gb$$ NS_C=l2gc$$
PIDS=()
HP_MOUNTED=0
hugepages_release() {
  # The DPDK primary leaves its hugepage files (PREFIXmap_N) behind when it
  # exits: that is how secondaries map its memory. Without them
  # hugepage-setup unmounts what it mounted and puts the count back as it
  # was (other users' pages untouched).
  ((HP_MOUNTED)) || return 0
  rm -f "$HP_DIR/${PREFIX}"map_* 2>/dev/null
  local _
  for _ in $(seq 30); do
    if ./hugepage-setup --teardown --pages "$HP_BEFORE" --mount "$HP_DIR" >>"$W/hugepage-setup.log" 2>&1; then
      HP_MOUNTED=0
      return 0
    fi
    sleep 0.1  # a mount namespace of ours not yet gone with its last process
  done
  return 1
}
cleanup() {
  fastpath_stop "$NS_A" "$NS_B" "$NS_C"
  hugepages_release || echo "dumpcap.sh: could not unmount $HP_DIR: its hugepages stay reserved" >&2
  rm -rf "/var/run/dpdk/$PREFIX"  # the primary's runtime folder, left behind as its hugepage files
  workdir_done "$W"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# The project's script reserves and mounts (on a folder of our own, so that
# unmounting later frees exactly our pages); the kernel may give fewer
# pages than asked on a fragmented machine, and then this test cannot run.
mkdir -p "$HP_DIR"
if ! ./hugepage-setup --pages $((HP_BEFORE + HP_PAGES)) --mount "$HP_DIR" >"$W/hugepage-setup.log" 2>&1; then
  # It has put the count back; the EXIT trap unmounts if it got that far.
  HP_MOUNTED=$(mountpoint -q "$HP_DIR" && echo 1 || echo 0)
  skip_all "cannot reserve $HP_PAGES 2 MB hugepages for the DPDK primary that dpdk-dumpcap attaches to: $(tail -1 "$W/hugepage-setup.log")"
fi
HP_MOUNTED=1

GA=ga$$ GB=gb$$ GC=gc$$ GD=gd$$
fastpath_netns "$NS_A" "$NS_B" "$NS_C" "$GA" "$GB" "$GC" "$GD" ||
  skip_all "cannot create network namespaces and veth pairs here"
mkdir -p /var/run/xl2tpd
fastpath_lac "$W"  # lac.conf, lac.options and lns.options, as fastpath_ping.sh's
# Hugepages on our mount, the shared configuration on (no --no-shconf),
# and capture = yes: the daemon refuses to start rather than run without
# the capture server.
fastpath_lns_conf "$W"
cat >>"$W/lns.conf" <<EOF
[dataplane]
eal args = -l 0-1 --huge-dir=$HP_DIR --no-pci --file-prefix=$PREFIX --log-level=lib.*:warning --vdev=net_af_packet0,iface=$GB --vdev=net_af_packet1,iface=$GC
access port = 0
access address = 192.0.2.2/24
core port = 1
core address = 198.51.100.1/24
core next hop = 198.51.100.254
workers = 1
mbufs = 4095
capture = yes
EOF

unshare -m sh -c "mount --bind '$PPP_PEER' /usr/sbin/pppd && exec ip netns exec '$NS_B' '$L2TPD' -D -c '$W/lns.conf' -s /dev/null -p '$W/lns.pid' -C '$W/lns.ctl' --log-level debug" \
  >"$W/lns.log" 2>&1 &
PIDS+=($!)
disown
if wait_log "$W/lns.log" "listening on 192\.0\.2\.2:1701 \(DPDK data plane\)" 30 &&
   wait_log "$W/lns.log" "capture: dpdk-dumpcap can attach: dpdk-dumpcap --file-prefix=$PREFIX " 2; then
  pass "dpdk-dumpcap: l2tpd on hugepages with the shared configuration serves capture (--file-prefix=$PREFIX)"
else
  fail "dpdk-dumpcap: l2tpd on hugepages with the shared configuration serves capture" \
    "$(grep -E 'capture|EAL|l2tpd:' "$W/lns.log" | tail -5 | tr '\n' ' ')"
  exit 1
fi

fastpath_lac_up "$NS_A" "$W" "$PPP_PEER" "dpdk-dumpcap: the call comes up and IPCP gives the subscriber 10.9.0.10" || exit 1
# "session 5 up on tunnel 3 (peer session 9, ...)": upstream frames carry
# our IDs, downstream ones the LAC's.
up=$(grep -Eo "session [0-9]+ up on tunnel [0-9]+ \(peer session [0-9]+" "$W/lns.log" | tail -1)
read -r sid tid peer_sid < <(sed -E 's/session ([0-9]+) up on tunnel ([0-9]+) \(peer session ([0-9]+)/\1 \2 \3/' <<<"$up")

# The pings run while dpdk-dumpcap attaches, captures 20 packets of the
# access port (RX and TX) and detaches; -p leaves the port's promiscuous
# mode alone.
ip netns exec "$NS_A" ping -c 60 -i 0.1 -W 2 -I 10.9.0.10 198.51.100.254 >"$W/ping.txt" 2>&1 &
ping_pid=$!
PIDS+=("$ping_pid")
sleep 0.5
PCAP=$W/access.pcapng
# It names the port as the EAL does (net_af_packet0); its progress line is
# backspaced, the summary is not.
ip netns exec "$NS_B" timeout 20 dpdk-dumpcap --file-prefix="$PREFIX" -p -i 0 -c 20 -w "$PCAP" >"$W/dumpcap.log" 2>&1
dumpcap_rc=$?
wait "$ping_pid" 2>/dev/null
# -c stops with the burst that reaches 20: one or two more may come.
received=$(grep -Eo "Packets received/dropped on interface 'net_af_packet0': [0-9]+/0 " "$W/dumpcap.log" |
  grep -Eo "[0-9]+/0" | cut -d/ -f1)
in_file=$(tshark -r "$PCAP" 2>/dev/null | wc -l)
if ((dumpcap_rc == 0)) && [[ -n $received ]] && ((in_file >= 20 && received >= in_file)); then
  pass "dpdk-dumpcap: attaches to the running daemon and writes $in_file packets of the access port, none dropped"
else
  fail "dpdk-dumpcap: attaches to the running daemon and captures 20 packets of the access port" \
    "rc $dumpcap_rc, $in_file in the file: $(tail -4 "$W/dumpcap.log" | tr '\n' ' ')"
fi

# tshark's L2TP dissector over the capture: the session's data frames, ICMP
# inside, both ways.
# The outer IPv4 source (the first of two), the L2TP IDs, the inner ICMP type.
tshark -r "$PCAP" -Y l2tp -T fields -E separator=';' -E occurrence=f -e ip.src -e l2tp.tunnel -e l2tp.session \
  -e icmp.type >"$W/tshark.txt" 2>"$W/tshark.err"
up_n=$(grep -c "^192\.0\.2\.1;$tid;$sid;8$" "$W/tshark.txt")
down_n=$(grep -Ec "^192\.0\.2\.2;[0-9]+;$peer_sid;0$" "$W/tshark.txt")
if ((up_n >= 1)); then
  pass "dpdk-dumpcap: tshark decodes RX frames as L2TP, tunnel $tid session $sid, an ICMP echo request inside ($up_n)"
else
  fail "dpdk-dumpcap: tshark decodes RX frames as L2TP of tunnel $tid session $sid with an ICMP echo request inside" \
    "$(head -5 "$W/tshark.txt" | tr '\n' ' ') $(head -2 "$W/tshark.err")"
fi
if ((down_n >= 1)); then
  pass "dpdk-dumpcap: tshark decodes the worker's TX frames as L2TP, peer session $peer_sid, an ICMP echo reply inside ($down_n)"
else
  fail "dpdk-dumpcap: tshark decodes the worker's TX frames as L2TP of peer session $peer_sid with an ICMP echo reply inside" \
    "$(head -5 "$W/tshark.txt" | tr '\n' ' ') $(head -2 "$W/tshark.err")"
fi
# The capture took nothing from the subscriber: every ping answered.
sent=$(grep -Eo "^[0-9]+ packets transmitted" "$W/ping.txt" | awk '{print $1}')
got=$(grep -Eo "[0-9]+ received" "$W/ping.txt" | awk '{print $1}')
if [[ -n $sent && -n $got ]] && ((got >= 5 && sent - got <= 1)); then
  pass "dpdk-dumpcap: the pings kept crossing the fast path while it captured ($got of $sent answered)"
else
  fail "dpdk-dumpcap: the pings kept crossing the fast path while it captured" "$(tail -2 "$W/ping.txt" | tr '\n' ' ')"
fi

# Teardown: SIGTERM stops the daemon; the pages go back.
lns_sigterm "$W" "dpdk-dumpcap: SIGTERM stops the daemon after the capture"
for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
netns_kill "$NS_A" "$NS_B" "$NS_C"
sleep 0.3  # the killed processes' mount namespace (holding our hugetlbfs) goes with the last of them
hugepages_release
now=$(cat "$HP_KNOB")
if ((!HP_MOUNTED && now == HP_BEFORE)) && ! mountpoint -q "$HP_DIR"; then
  pass "dpdk-dumpcap: the hugepages are released (nr_hugepages back to $HP_BEFORE)"
else
  fail "dpdk-dumpcap: the hugepages are released" "nr_hugepages $now (was $HP_BEFORE), $HP_DIR $( ((HP_MOUNTED)) && echo still mounted || echo unmounted)"
fi
exit $((fails > 0))
