# Guest side of the VM scenarios (busybox sh; sourced by /scenarios/*.sh).
#
# Two network namespaces joined by a veth pair: "lac" (192.0.2.1) and "lns"
# (192.0.2.2). Each check prints one "PASS: SCENARIO: what" or
# "FAIL: SCENARIO: what: why" line for the host to count.

LAC_IP=192.0.2.1
LNS_IP=192.0.2.2
POOL_LOCAL=10.9.0.1       # the LNS end of every ppp link ("local ip")
POOL_FIRST=10.9.0.10      # "ip range = 10.9.0.10-10.9.0.20"
POOL_LAST=10.9.0.20
W=/tmp/w
mkdir -p "$W"

# busybox's shell runs its own applets before PATH: iproute2's ip (netns)
# has to be named.
ip() { /sbin/ip "$@"; }

pass() { echo "PASS: $SCENARIO: $1"; }
fail() { echo "FAIL: $SCENARIO: $1: $2"; FAILED=1; }
FAILED=0

# check WHAT COMMAND...: PASS when COMMAND succeeds, FAIL with its output.
check() {
  what=$1
  shift
  if out=$("$@" 2>&1); then
    pass "$what"
  else
    fail "$what" "$(echo "$out" | tail -3 | tr '\n' ' ')"
    return 1
  fi
}

in_ns() { ns=$1; shift; ip netns exec "$ns" "$@"; }

make_namespaces() {
  ip netns add lac && ip netns add lns &&
    ip link add va type veth peer name vb &&
    ip link set va netns lac && ip link set vb netns lns &&
    ip -n lac addr add "$LAC_IP/24" dev va && ip -n lns addr add "$LNS_IP/24" dev vb &&
    ip -n lac link set va up && ip -n lns link set vb up &&
    ip -n lac link set lo up && ip -n lns link set lo up
}

# wait_for SECONDS COMMAND...: true once COMMAND succeeds.
wait_for() {
  limit=$1
  shift
  end=$(($(date +%s) + limit))
  while :; do
    "$@" >/dev/null 2>&1 && return 0
    [ "$(date +%s)" -lt "$end" ] || return 1
    sleep 0.2
  done
}

# wait_log FILE REGEX SECONDS
wait_log() { wait_for "$3" grep -Eq -- "$2" "$1"; }

# The IPv4 address and peer of NS's ppp interface: "ADDR PEER", or nothing.
ppp_addrs() {
  ip -n "$1" -4 -o addr show 2>/dev/null |
    awk '$2 ~ /^ppp/ { for (i = 1; i <= NF; i++) if ($i == "inet") { a = $(i + 1); p = $(i + 3) }
                       sub(/\/.*/, "", a); sub(/\/.*/, "", p); print a, p; exit }'
}
ppp_up() { [ -n "$(ppp_addrs "$1")" ]; }

# Is ADDR inside the LNS's pool?
in_pool() {
  case $1 in 10.9.0.*) n=${1##*.}; [ "$n" -ge "${POOL_FIRST##*.}" ] && [ "$n" -le "${POOL_LAST##*.}" ] ;; *) return 1 ;; esac
}

# PIDs of the pppd processes in namespace NS.
pppd_pids() {
  for p in $(ip netns pids "$1" 2>/dev/null); do
    [ "$(cat /proc/"$p"/comm 2>/dev/null)" = pppd ] && echo "$p"
  done
}
no_pppd() { [ -z "$(pppd_pids "$1")" ]; }
has_pppd() { [ -n "$(pppd_pids "$1")" ]; }

# check_link: the subscriber (LAC side) got an address from the pool, the
# LNS side is POOL_LOCAL with it as peer, and pings cross both ways. Sets SUB
# to the subscriber's address.
check_link() {
  label=$1
  check_pool_address "$label" || return 1
  # No default route in either namespace: the ppp link is the only way.
  check "$label: ping from the subscriber to the LNS" \
    in_ns lac ping -c 3 -W 3 -I "$SUB" "$POOL_LOCAL"
  check "$label: ping from the LNS to the subscriber" \
    in_ns lns ping -c 3 -W 3 -I "$POOL_LOCAL" "$SUB"
}

# check_pool_address LABEL: the first half of check_link, without the pings
# (with our data plane the LNS's ppp interface carries no traffic).
check_pool_address() {
  label=$1
  SUB=
  if wait_for 40 ppp_up lac && wait_for 10 ppp_up lns; then
    set -- $(ppp_addrs lac)
    SUB=$1
    lac_peer=$2
    set -- $(ppp_addrs lns)
    if in_pool "$SUB" && [ "$lac_peer" = "$POOL_LOCAL" ] && [ "$1" = "$POOL_LOCAL" ] && [ "$2" = "$SUB" ]; then
      echo "l2tpvm: $label: subscriber $SUB, LNS $POOL_LOCAL"
      pass "$label: the subscriber gets an address from the LNS's ip range"
    else
      fail "$label: the subscriber gets an address from the LNS's ip range" \
        "LAC ppp $SUB peer $lac_peer, LNS ppp $1 peer $2"
    fi
  else
    fail "$label: the subscriber gets an address from the LNS's ip range" \
      "no ppp address: LAC '$(ppp_addrs lac)', LNS '$(ppp_addrs lns)'"
    return 1
  fi
}

# check_pap LABEL [USER]: the LNS's pppd authenticated USER (default
# subscriber) with PAP.
check_pap() {
  check "$1: the LNS's pppd authenticates ${2:-the subscriber} with PAP" \
    grep -q "PAP peer authentication succeeded for ${2:-subscriber}\$" "$W/pppd-lns.log"
}

# check_pppds_exit LABEL: both pppds exit and both ppp interfaces go.
check_pppds_exit() {
  if wait_for 20 no_pppd lac && wait_for 10 no_pppd lns && wait_for 5 sh -c '! /sbin/ip -n lac -o link show | grep -q ppp && ! /sbin/ip -n lns -o link show | grep -q ppp'; then
    pass "$1: both pppds exit"
  else
    fail "$1: both pppds exit" "pppd left: LAC '$(pppd_pids lac | tr '\n' ' ')', LNS '$(pppd_pids lns | tr '\n' ' ')'"
  fi
}

# Every log and pppd log of the run, for a failed scenario.
dump_logs() {
  for f in "$W"/*.log; do
    [ -f "$f" ] || continue
    echo "----- $f"
    tail -n 60 "$f"
  done
  echo "----- dmesg"
  dmesg | tail -n 30
}

# pppd options for each side: no compression (its modules are not loaded),
# logs in $W for dump_logs, no default route so that the ppp link is the
# only path between the namespaces' 10.9.0.0 addresses. The LNS demands PAP;
# the subscriber's pppd answers as "subscriber" (the LAC's "name") with the
# secret of /etc/ppp/pap-secrets, and does not ask the LNS to authenticate.
write_ppp_options() {
  # No auth/noauth for the LNS: its l2tpd (ours or xl2tpd) says "auth
  # require-pap" from "require authentication" and "require pap".
  cat >"$W/options.lns" <<EOF
noccp
nodefaultroute
mtu 1400
mru 1400
lcp-echo-interval 0
logfile $W/pppd-lns.log
EOF
  cat >"$W/options.lac" <<EOF
noauth
noccp
nodefaultroute
noipdefault
mtu 1400
mru 1400
lcp-echo-interval 0
logfile $W/pppd-lac.log
# The subscriber's pppd looks its PAP secret up for this server name, so
# the lines of pap-secrets meant for server xl-lns alone are not its.
remotename lns-of-the-subscriber
EOF
  printf '# us them secret\n* * vm-tunnel-secret\n' >"$W/l2tp-secrets"
}

# xl2tpd LNS in namespace lns, with its own FIFO and pid file.
xl2tpd_lns_conf() {
  cat <<EOF
[global]
port = 1701
; the pty handoff, as our daemon does it (no kernel l2tp_ppp)
force userspace = yes

[lns default]
ip range = $POOL_FIRST-$POOL_LAST
local ip = $POOL_LOCAL
require authentication = yes
require pap = yes
hostname = xl-lns
name = xl-lns
ppp debug = yes
length bit = yes
pppoptfile = $W/options.lns
EOF
}

xl2tpd_lac_conf() {
  cat <<EOF
[global]
port = 1701
force userspace = yes

[lac vm]
lns = $LNS_IP
autodial = yes
redial = no
require authentication = no
hostname = xl-lac
name = subscriber
ppp debug = yes
length bit = yes
pppoptfile = $W/options.lac
EOF
}

# The daemons start in the background: never inside $(...), whose pipe
# they would hold open. Each prints its own PASS:/FAIL: line.

# start_xl2tpd NS NAME: xl2tpd -D with $W/NAME.conf, FIFO $W/NAME.ctl.
start_xl2tpd() {
  /sbin/ip netns exec "$1" xl2tpd -D -c "$W/$2.conf" -s "$W/l2tp-secrets" -p "$W/$2.pid" -C "$W/$2.ctl" \
    </dev/null >"$W/$2.log" 2>&1 &
  if wait_log "$W/$2.log" "Listening on IP address" 10; then
    pass "xl2tpd starts in $1"
  else
    fail "xl2tpd starts in $1" "$(tail -3 "$W/$2.log" | tr '\n' ' ')"
    return 1
  fi
}

# start_l2tpd NS NAME: our daemon in the foreground with $W/NAME.conf.
start_l2tpd() {
  /sbin/ip netns exec "$1" l2tpd --socket -D -c "$W/$2.conf" -s "$W/l2tp-secrets" -C "$W/$2.ctl" -p "$W/$2.pid" \
    --log-level debug </dev/null >"$W/$2.log" 2>&1 &
  if wait_log "$W/$2.log" "listening on" 10; then
    pass "l2tpd starts in $1"
  else
    fail "l2tpd starts in $1" "$(tail -3 "$W/$2.log" | tr '\n' ' ')"
    return 1
  fi
}

# Our daemon's pid (from its pid file).
l2tpd_pid() { cat "$W/$1.pid" 2>/dev/null; }

# check_pppd_parent LABEL NS NAME: the pppd in NS is a child of our l2tpd
# NAME, so the link the checks see is the one our daemon handed to pppd.
check_pppd_parent() {
  ours=$(l2tpd_pid "$3")
  parents=
  for p in $(pppd_pids "$2"); do
    parents="$parents $(sed -n 's/^PPid:[[:space:]]*//p' "/proc/$p/status")"
  done
  if [ -n "$ours" ] && [ "$parents" = " $ours" ]; then
    pass "$1: the pppd in $2 is our l2tpd's child"
  else
    fail "$1: the pppd in $2 is our l2tpd's child" "l2tpd pid '$ours', pppd parents '$parents'"
  fi
}

# The last "tunnel N up ... (peer tunnel M)" of our log: "N M".
our_tunnel_ids() {
  sed -n 's/.*tunnel \([0-9]*\) up as .*(peer tunnel \([0-9]*\)).*/\1 \2/p' "$W/$1.log" | tail -n 1
}

# Our daemon as an [lns default] with the pool, as xl2tpd's.
our_lns_conf() {
  cat <<EOF2
[global]
port = 1701

[lns default]
ip range = $POOL_FIRST-$POOL_LAST
local ip = $POOL_LOCAL
require authentication = yes
require pap = yes
hostname = our-lns
name = our-lns
ppp debug = yes
length bit = yes
pppoptfile = $W/options.lns
EOF2
}

our_lac_conf() {
  cat <<EOF2
[global]
port = 1701

[lac vm]
lns = $LNS_IP
autodial = yes
redial = no
require authentication = no
hostname = our-lac
name = subscriber
ppp debug = yes
length bit = yes
pppoptfile = $W/options.lac
EOF2
}

# --- our_lns_dpdk: our data plane between the LAC and a core host ---------
#
#   lac                    lns (our l2tpd, DPDK)                core
#   va 192.0.2.1 --------- vb port 0 [192.0.2.2]   port 1 vc --------- vd 198.51.100.254
#   ppp0 10.9.0.x             [198.51.100.1]                           10.9.0.0/24 via .1
#
# vb and vc have no kernel address: net_af_packet reads them and our data
# plane answers ARP and ping for 192.0.2.2 and 198.51.100.1 itself.
DP_CORE_IP=198.51.100.1
CORE_HOST_IP=198.51.100.254
CORE_NET=198.51.100.0/24

make_dp_namespaces() {
  ip netns add lac && ip netns add lns && ip netns add core &&
    ip link add va type veth peer name vb && ip link add vc type veth peer name vd &&
    ip link set va netns lac && ip link set vb netns lns &&
    ip link set vc netns lns && ip link set vd netns core &&
    ip -n lac addr add "$LAC_IP/24" dev va && ip -n core addr add "$CORE_HOST_IP/24" dev vd || return 1
  for ns_dev in lac:va lns:vb lns:vc core:vd; do
    ip -n "${ns_dev%%:*}" link set "${ns_dev#*:}" up || return 1
    # AF_PACKET would hand the data plane frames with partial checksums
    # (checksum offload) or 64 KB super-frames (segmentation offload).
    in_ns "${ns_dev%%:*}" ethtool -K "${ns_dev#*:}" rx off tx off tso off gso off gro off || return 1
  done
  ip -n lac link set lo up && ip -n lns link set lo up && ip -n core link set lo up &&
    ip -n core route add 10.9.0.0/24 via "$DP_CORE_IP"
}

# The [dataplane] section of tests/integration/fastpath_ping.sh: the EAL's
# main lcore (our control thread) on CPU 0, one worker on CPU 1, no
# hugepages, the two veths as net_af_packet ports.
our_dataplane_conf() {
  cat <<EOF2

[dataplane]
eal args = -l 0-1 --no-huge -m 512 --no-shconf --no-pci --no-telemetry --log-level=lib.*:warning --vdev=net_af_packet0,iface=vb --vdev=net_af_packet1,iface=vc
access port = 0
access address = $LNS_IP/24
core port = 1
core address = $DP_CORE_IP/24
core next hop = $CORE_HOST_IP
workers = 1
mbufs = 4095
EOF2
}

# start_l2tpd_dpdk NS NAME: our daemon without --socket: the EAL, its ports
# and its worker start before it listens (slow under TCG).
start_l2tpd_dpdk() {
  /sbin/ip netns exec "$1" l2tpd -D -c "$W/$2.conf" -s "$W/l2tp-secrets" -C "$W/$2.ctl" -p "$W/$2.pid" \
    --log-level debug </dev/null >"$W/$2.log" 2>&1 &
  if wait_log "$W/$2.log" "listening on .*DPDK data plane" 60; then
    pass "l2tpd starts its DPDK data plane in $1 (net_af_packet ports, next hop resolved by ARP)"
  else
    fail "l2tpd starts its DPDK data plane in $1 (net_af_packet ports, next hop resolved by ARP)" \
      "$(tail -5 "$W/$2.log" | tr '\n' ' ')"
    return 1
  fi
}

# The name of NS's ppp interface, and one of its counters:
# ppp_stat NS rx_packets|tx_packets.
ppp_ifname() {
  ip -n "$1" -o link show 2>/dev/null | awk -F': ' '$2 ~ /^ppp/ { sub(/@.*/, "", $2); print $2; exit }'
}
ppp_stat() {
  dev=$(ppp_ifname "$1")
  [ -n "$dev" ] && in_ns "$1" cat "/sys/class/net/$dev/statistics/$2"
}

# our_status NAME: SIGUSR1 to our daemon NAME; true once its status report
# (which ends with the tunnels and sessions) has been written.
our_status() {
  before=$(grep -c "status: fast path:" "$W/$1.log")
  kill -USR1 "$(l2tpd_pid "$1")" &&
    wait_for 10 sh -c "[ \$(grep -c 'status: fast path:' '$W/$1.log') -gt $before ]" &&
    sleep 0.5
}

# proc_gone PID: PID has exited (gone, or a zombie its parent has yet to
# wait for: kill -0 succeeds on those).
proc_gone() {
  [ ! -e "/proc/$1/stat" ] || [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" = Z ]
}

# proc_report PID: what each thread of PID is doing (for a process that
# does not exit): name, state, kernel wait channel, current system call
# (number and arguments), CPU ticks used over one second, kernel stack.
proc_report() {
  for t in /proc/"$1"/task/*; do
    [ -d "$t" ] || continue
    u0=$(awk '{print $14 + $15}' "$t/stat" 2>/dev/null)
    sleep 1
    u1=$(awk '{print $14 + $15}' "$t/stat" 2>/dev/null)
    echo "thread ${t##*/} $(cat "$t/comm" 2>/dev/null): $(sed -n 's/^State:[[:space:]]*//p' "$t/status" 2>/dev/null)," \
      "wchan $(cat "$t/wchan" 2>/dev/null), syscall $(cat "$t/syscall" 2>/dev/null), ticks in 1 s $((u1 - u0))"
    sed 's/^/    /' "$t/stack" 2>/dev/null | head -n 8
  done
}
