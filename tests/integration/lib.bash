# Shared by the integration scripts (sourced; not a test itself).

# wait_log FILE REGEX [SECONDS]: true once FILE has a line matching REGEX.
wait_log() {
  local deadline=$((SECONDS + ${3:-10}))
  while ((SECONDS < deadline)); do
    grep -Eq -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# pppd_standin FILE: writes FILE, a stand-in for our daemon's pppd (this
# kernel has no PPP, so the real one cannot run). It records its pid and
# arguments in $PPPD_ARGV_LOG when that is set, then reads the pty it was
# handed on stdin until SIGTERM or the pty's hang-up: it dies with a daemon
# killed by SIGKILL and leaves no orphan behind.
pppd_standin() {
  cat >"$1" <<'STUB'
#!/bin/sh
[ -n "$PPPD_ARGV_LOG" ] && echo "$$ $*" >>"$PPPD_ARGV_LOG"
exec cat >/dev/null
STUB
  chmod +x "$1"
}

# The loopback scripts' common frame (lac_redial, config_reload,
# idle_timeout, call_churn): PASS/FAIL bookkeeping, a work folder and the
# processes to kill, cleaned up on any exit (KEEP=1 keeps the logs), the
# pppd stand-in, and our daemon started in the foreground.
fails=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1${2:+: $2}"; fails=$((fails + 1)); }

# loopback_setup NAME: W (the work folder), PIDS, the EXIT trap, $W/pppd.
# Exits with a FAIL line when l2tpd is not built.
loopback_setup() {
  L2TPD=${BUILD_DIR:-build/gcc}/control/l2tpd
  [[ -x $L2TPD ]] || { fail "$1" "$L2TPD not built"; exit 1; }
  W=$(mktemp -d "/tmp/l2tp-$1.XXXXXX")
  PIDS=()
  trap loopback_cleanup EXIT
  pppd_standin "$W/pppd"
}
loopback_cleanup() {
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
  if [[ ${KEEP:-0} == 1 ]]; then echo "logs kept in $W"; else rm -rf "$W"; fi
}

# start_l2tpd NAME CONF: our daemon with $W/NAME.{ctl,pid,log}, the pppd
# stand-in recording into $W/NAME.pppd; true once it listens.
start_l2tpd() {
  # Emptied before the start, not by the background job's redirection: else
  # wait_log may match a previous run's line (and a FIFO write then block
  # on that daemon's stale FIFO).
  : >"$W/$1.log"
  PPPD_ARGV_LOG="$W/$1.pppd" "$L2TPD" --socket -D -c "$2" -s /dev/null -C "$W/$1.ctl" -p "$W/$1.pid" \
    --pppd "$W/pppd" --log-level debug >>"$W/$1.log" 2>&1 &
  PIDS+=($!)
  disown
  wait_log "$W/$1.log" "listening on" 5
}

# count FILE REGEX: matching lines. wait_count FILE REGEX N [SECONDS].
count() { grep -Ec -- "$2" "$1" 2>/dev/null; }
wait_count() {
  local deadline=$((SECONDS + ${4:-10}))
  while ((SECONDS < deadline)); do (($(count "$1" "$2") >= $3)) && return 0; sleep 0.1; done
  return 1
}

# netns_pair NS_A NS_B DEV_A DEV_B: two network namespaces joined by a veth
# pair, 192.0.2.1/24 on DEV_A in NS_A and 192.0.2.2/24 on DEV_B in NS_B
# (RFC 5737 TEST-NET-1), loopbacks up. False when any step fails.
netns_pair() {
  ip netns add "$1" && ip netns add "$2" &&
    ip link add "$3" type veth peer name "$4" &&
    ip link set "$3" netns "$1" && ip link set "$4" netns "$2" &&
    ip -n "$1" addr add 192.0.2.1/24 dev "$3" && ip -n "$2" addr add 192.0.2.2/24 dev "$4" &&
    ip -n "$1" link set "$3" up && ip -n "$2" link set "$4" up &&
    ip -n "$1" link set lo up && ip -n "$2" link set lo up
}

# netns_kill NS...: SIGKILL every process in each namespace (daemons and
# the pppds they started), by PID.
netns_kill() {
  local ns p
  for ns in "$@"; do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
  done
}

# fastpath_stop NS...: the fast-path scripts' cleanup: SIGKILL what PIDS
# holds and every process in the namespaces, then delete them.
fastpath_stop() {
  local p ns
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
  netns_kill "$@"
  for ns in "$@"; do ip netns del "$ns" 2>/dev/null; done
}

# workdir_done W: keeps W when KEEP=1 (and says where), else removes it.
workdir_done() {
  if [[ ${KEEP:-0} == 1 ]]; then echo "logs kept in $1"; else rm -rf "$1"; fi
}

# lns_sigterm W NAME: SIGTERM to the daemon whose PID is in $W/lns.pid;
# PASS NAME when it logs "exiting" and is gone within 10 s, else FAIL.
lns_sigterm() {
  local pid _
  pid=$(cat "$1/lns.pid")
  kill -TERM "$pid"
  if wait_log "$1/lns.log" "exiting" 10; then
    for _ in $(seq 100); do
      kill -0 "$pid" 2>/dev/null || { pass "$2"; return 0; }
      sleep 0.1
    done
  fi
  fail "$2" "$(tail -3 "$1/lns.log")"
  return 1
}

# fastpath_netns NS_A NS_B NS_C A B C D: the fast-path scripts' three
# namespaces: NS_A (the LAC, 192.0.2.1/24 on A) -- B and C in NS_B (our
# daemon's DPDK ports, no addresses: the kernel must not own them) -- D in
# NS_C (the core host, 198.51.100.254/24, routing 10.9.0.0/24 back via
# 198.51.100.1). Checksum and segmentation offloads off everywhere: the
# kernel would hand AF_PACKET partial checksums or 64 KB super-frames.
# False when any step fails.
fastpath_netns() {
  local a=$1 b=$2 c=$3 ns_dev
  ip netns add "$a" && ip netns add "$b" && ip netns add "$c" &&
    ip link add "$4" type veth peer name "$5" && ip link add "$6" type veth peer name "$7" &&
    ip link set "$4" netns "$a" && ip link set "$5" netns "$b" &&
    ip link set "$6" netns "$b" && ip link set "$7" netns "$c" &&
    ip -n "$a" addr add 192.0.2.1/24 dev "$4" && ip -n "$c" addr add 198.51.100.254/24 dev "$7" || return 1
  for ns_dev in "$a:$4" "$b:$5" "$b:$6" "$c:$7"; do
    ip -n "${ns_dev%%:*}" link set "${ns_dev#*:}" up || return 1
    ip netns exec "${ns_dev%%:*}" ethtool -K "${ns_dev#*:}" rx off tx off tso off gso off gro off >/dev/null 2>&1
  done
  ip -n "$a" link set lo up && ip -n "$b" link set lo up && ip -n "$c" link set lo up &&
    ip -n "$c" route add 10.9.0.0/24 via 198.51.100.1
}

# fastpath_lac W: $W/lac.conf, an xl2tpd LAC dialling 192.0.2.2 at once,
# and the pppd option files $W/lac.options and $W/lns.options (logs in
# $W/lac-ppp.log and $W/lns-ppp.log).
fastpath_lac() {
  printf 'noauth\nlogfile %s/lac-ppp.log\n' "$1" >"$1/lac.options"
  printf 'noauth\nlogfile %s/lns-ppp.log\n' "$1" >"$1/lns.options"
  cat >"$1/lac.conf" <<CONF
[global]
port = 1701

[lac test]
lns = 192.0.2.2
hostname = lac
autodial = yes
redial = no
pppoptfile = $1/lac.options
CONF
}

# fastpath_lns_conf W [LINE...]: starts $W/lns.conf for the fast-path
# scripts: [global] on port 1701 with the LINEs, and the [lns default] the
# LAC of fastpath_lac calls (subscriber 10.9.0.10, pppd options
# $W/lns.options). The caller appends its [dataplane].
fastpath_lns_conf() {
  local w=$1
  shift
  {
    printf '[global]\nport = 1701\n'
    (($#)) && printf '%s\n' "$@"
    printf '\n[lns default]\nip range = 10.9.0.10-10.9.0.20\nlocal ip = 10.9.0.1\nhostname = lns\npppoptfile = %s/lns.options\n\n' "$w"
  } >"$w/lns.conf"
}

# fastpath_lac_up NS W PPP_PEER NAME: the LAC of the fast-path scripts:
# xl2tpd with $W/lac.conf (fastpath_lac) in NS, ppp-peer bound over pppd,
# its PID added to PIDS; then waits for IPCP to give the subscriber
# 10.9.0.10 on both ends (W/lac-ppp.log, W/lns.log), prints PASS/FAIL
# NAME, and routes the core subnet over ppp0. False when the call does not
# come up.
fastpath_lac_up() {
  unshare -m sh -c "mount --bind '$3' /usr/sbin/pppd && exec ip netns exec '$1' xl2tpd -D -c '$2/lac.conf' -s /dev/null -p '$2/lac.pid' -C '$2/lac.ctl'" \
    >"$2/lac.log" 2>&1 &
  PIDS+=($!)
  disown
  if wait_log "$2/lac-ppp.log" "IPCP up: local 10\.9\.0\.10 remote 10\.9\.0\.1 interface ppp0" 30 &&
     wait_log "$2/lns.log" "session [0-9]+: IPCP up, peer 10\.9\.0\.10, local 10\.9\.0\.1" 5; then
    pass "$4"
  else
    fail "$4" "$(tail -3 "$2/lns.log" | tr '\n' ' ') / $(tail -2 "$2/lac-ppp.log" 2>/dev/null | tr '\n' ' ')"
    return 1
  fi
  ip -n "$1" route add 198.51.100.0/24 dev ppp0
}
