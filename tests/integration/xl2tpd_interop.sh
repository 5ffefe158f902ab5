#!/usr/bin/env bash
# Interop with Debian's real xl2tpd (1.3.18) on one machine: two network
# namespaces joined by a veth pair, our l2tpd in socket mode on one side,
# xl2tpd on the other. Our daemon as LNS with xl2tpd as LAC and as LAC with
# xl2tpd as LNS, with and without tunnel authentication, with our hidden
# AVPs; tunnels and calls come up and teardown from either side is clean on
# both. pppd cannot run on this kernel (no PPP), so xl2tpd gets a stand-in
# that keeps the pty open, bound over /usr/sbin/pppd in a mount namespace
# of xl2tpd's own.
#
# Prints PASS:/FAIL:/SKIP: lines for tests/run. Cleans up (processes by
# PID, namespaces, veths) even when it fails.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
L2TPD=${BUILD_DIR:-build/gcc}/control/l2tpd
L2TPDUMP=${BUILD_DIR:-build/gcc}/tools/l2tpdump

fails=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1${2:+: $2}"; fails=$((fails + 1)); }
skip_all() { echo "SKIP: xl2tpd interop: $1"; exit 0; }

[[ $EUID -eq 0 ]] || skip_all "needs root (network namespaces)"
command -v xl2tpd >/dev/null || skip_all "xl2tpd is not installed (tools/setup-deps installs it)"
command -v xl2tpd-control >/dev/null || skip_all "xl2tpd-control is not installed"
[[ -x $L2TPD ]] || { fail "xl2tpd interop" "$L2TPD not built"; exit 1; }

W=$(mktemp -d /tmp/l2tp-interop.XXXXXX)
NS_A=l2ta$$ NS_B=l2tb$$
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
  # xl2tpd's stand-in pppds are its children; they die with their namespace's processes.
  for ns in "$NS_A" "$NS_B"; do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
  if [[ ${KEEP:-0} == 1 ]]; then echo "logs kept in $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT

ip netns add "$NS_A" && ip netns add "$NS_B" &&
  ip link add "va$$" type veth peer name "vb$$" &&
  ip link set "va$$" netns "$NS_A" && ip link set "vb$$" netns "$NS_B" &&
  ip -n "$NS_A" addr add 192.0.2.1/24 dev "va$$" && ip -n "$NS_B" addr add 192.0.2.2/24 dev "vb$$" &&
  ip -n "$NS_A" link set "va$$" up && ip -n "$NS_B" link set "vb$$" up &&
  ip -n "$NS_A" link set lo up && ip -n "$NS_B" link set lo up ||
  skip_all "cannot create network namespaces and a veth pair here"

# xl2tpd-control makes its reply FIFO there (Debian's path).
mkdir -p /var/run/xl2tpd

cat >"$W/fakepppd" <<'STUB'
#!/bin/sh
# Stand-in for xl2tpd's pppd: keeps the pty xl2tpd hands it open until killed.
exec sleep 100000
STUB
chmod +x "$W/fakepppd"
touch "$W/options"

# shellcheck source=tests/integration/lib.bash
source tests/integration/lib.bash  # the cwd is the repo root
pppd_standin "$W/ourpppd"

# start_ours NS NAME CONF [SECRETS]: our daemon in the foreground, in NS.
start_ours() {
  local ns=$1 name=$2
  : >"$W/$name.pppd"
  # Emptied before the start, not by the background job's redirection:
  # else wait_log can match the previous case's "listening on" and the
  # next "echo >ours.ctl" block forever on that daemon's stale FIFO.
  : >"$W/$name.log"
  ip netns exec "$ns" env PPPD_ARGV_LOG="$W/$name.pppd" \
    "$L2TPD" --socket -D -c "$3" -s "${4:-/dev/null}" -C "$W/$name.ctl" -p "$W/$name.pid" \
    --pppd "$W/ourpppd" --log-level debug >>"$W/$name.log" 2>&1 &
  PIDS+=($!)
  disown
  wait_log "$W/$name.log" "listening on" 5
}

# start_xl2tpd NS NAME CONF SECRETS: xl2tpd with the pppd stand-in.
start_xl2tpd() {
  local ns=$1 name=$2
  : >"$W/$name.log"  # before the start: see start_ours
  unshare -m sh -c "mount --bind '$W/fakepppd' /usr/sbin/pppd && exec ip netns exec '$ns' xl2tpd -D -c '$3' -s '$4' -p '$W/$name.pid' -C '$W/$name.ctl'" \
    >>"$W/$name.log" 2>&1 &
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
  sleep 0.2
}

# --- configurations ---------------------------------------------------------
cat >"$W/secrets" <<'EOF2'
# us        them        secret
*           *           interop-secret-42
EOF2

xl2tpd_lac_conf() {  # AUTH(yes/no)
  cat <<EOF2
[global]
port = 1701

[lac test]
lns = 192.0.2.2
hostname = xl-lac
autodial = yes
redial = no
challenge = $1
pppoptfile = $W/options
EOF2
}
ours_lns_conf() {  # AUTH(yes/no)
  cat <<EOF2
[global]
port = 1701

[lns default]
ip range = 10.9.0.10-10.9.0.20
local ip = 10.9.0.1
hostname = our-lns
challenge = $1
EOF2
}
xl2tpd_lns_conf() {  # AUTH(yes/no)
  cat <<EOF2
[global]
port = 1701

[lns default]
ip range = 10.9.0.10-10.9.0.20
local ip = 10.9.0.1
hostname = xl-lns
challenge = $1
pppoptfile = $W/options
EOF2
}
ours_lac_conf() {  # AUTH HIDDEN
  cat <<EOF2
[global]
port = 1701

[lac up]
lns = 192.0.2.2
hostname = our-lac
challenge = $1
hidden bit = $2
EOF2
}

# --- our LNS, xl2tpd LAC ----------------------------------------------------
lns_case() {  # AUTH
  local auth=$1 label="our LNS, xl2tpd LAC, challenge=$1"
  ours_lns_conf "$auth" >"$W/ours.conf"
  xl2tpd_lac_conf "$auth" >"$W/xl.conf"
  start_ours "$NS_B" ours "$W/ours.conf" "$W/secrets" || { fail "$label: start l2tpd" "$(tail -3 "$W/ours.log")"; return; }
  start_xl2tpd "$NS_A" xl "$W/xl.conf" "$W/secrets" || { fail "$label: start xl2tpd" "$(tail -3 "$W/xl.log")"; return; }
  if wait_log "$W/ours.log" "session [0-9]+ up" && wait_log "$W/xl.log" "Call established"; then
    pass "$label: tunnel and call come up"
  else
    fail "$label: tunnel and call come up" "$(tail -3 "$W/ours.log") / $(grep -v '"' "$W/xl.log" | tail -3)"
    stop_all
    return
  fi
  if [[ $auth == yes ]]; then
    grep -q "authenticated" "$W/ours.log" && pass "$label: the LAC proved the secret" ||
      fail "$label: the LAC proved the secret"
  fi
  # Our pppd: xl2tpd's arguments, the first address of the pool, the pty last.
  local pppd_pid
  if wait_log "$W/ours.pppd" "passive nodetach 10\.9\.0\.1:10\.9\.0\.10 noauth /dev/pts/[0-9]+$" 5; then
    pass "$label: pppd started with the pool's first address and the pty"
  else
    fail "$label: pppd started with the pool's first address and the pty" "$(cat "$W/ours.pppd")"
  fi
  pppd_pid=$(awk 'END {print $1}' "$W/ours.pppd")
  # SIGUSR1: every tunnel and call, with its pppd and counters.
  kill -USR1 "$(cat "$W/ours.pid")"
  if wait_log "$W/ours.log" "tunnel [0-9]+ LNS established peer 192\.0\.2\.1:1701 .* 1 sessions; control [0-9]+ sent" 5 &&
     wait_log "$W/ours.log" "session [0-9]+ established peer session [0-9]+, age [0-9]+ s, pppd $pppd_pid on /dev/pts/[0-9]+, LCP down" 5; then
    pass "$label: SIGUSR1 reports the tunnel and the call with its pppd"
  else
    fail "$label: SIGUSR1 reports the tunnel and the call with its pppd" "$(grep -A3 'status:' "$W/ours.log" | tail -4)"
  fi
  # Teardown from xl2tpd's side.
  ip netns exec "$NS_A" xl2tpd-control -c "$W/xl.ctl" disconnect-lac test >/dev/null 2>&1
  if wait_log "$W/ours.log" "tunnel [0-9]+ down: result 1" && wait_log "$W/xl.log" "Connection ([0-9]+ )?closed"; then
    pass "$label: xl2tpd's disconnect tears down both sides"
  else
    fail "$label: xl2tpd's disconnect tears down both sides" "$(tail -2 "$W/ours.log")"
  fi
  if [[ -n $pppd_pid ]] && wait_log "$W/ours.log" "session [0-9]+: pppd killed by SIGTERM \(terminated\)" 5 &&
     ! kill -0 "$pppd_pid" 2>/dev/null; then
    pass "$label: the tunnel's end ends our pppd and reaps it"
  else
    fail "$label: the tunnel's end ends our pppd and reaps it" "pid ${pppd_pid:-?}; $(grep pppd "$W/ours.log" | tail -2)"
  fi
  # A pppd that exits by itself ends its call with CDN; the address goes
  # back to the pool, so the next call gets it again.
  ip netns exec "$NS_A" xl2tpd-control -c "$W/xl.ctl" connect-lac test >/dev/null 2>&1
  if wait_log "$W/ours.pppd" "^[0-9]+ .*10\.9\.0\.1:10\.9\.0\.10 .*" 5 && [[ $(wc -l <"$W/ours.pppd") -ge 2 ]] ||
     { sleep 3; [[ $(wc -l <"$W/ours.pppd") -ge 2 ]]; }; then
    pppd_pid=$(awk 'END {print $1}' "$W/ours.pppd")
    grep -q "10\.9\.0\.1:10\.9\.0\.10 " <(tail -1 "$W/ours.pppd") &&
      pass "$label: the released address is handed out again" ||
      fail "$label: the released address is handed out again" "$(tail -1 "$W/ours.pppd")"
    kill -KILL "$pppd_pid"
    if wait_log "$W/ours.log" "session [0-9]+ on tunnel [0-9]+ down: result 1 \"pppd killed by SIGKILL" 5 &&
       wait_log "$W/xl.log" "[Cc]all.*(disconnect|closed)|CDN|Connection [0-9]+ closed" 5; then
      pass "$label: pppd's exit hangs up the call with CDN"
    else
      fail "$label: pppd's exit hangs up the call with CDN" "$(tail -2 "$W/ours.log") / $(grep -v '"' "$W/xl.log" | tail -2)"
    fi
    ip netns exec "$NS_A" xl2tpd-control -c "$W/xl.ctl" disconnect-lac test >/dev/null 2>&1
    wait_log "$W/xl.log" "Connection ([0-9]+ )?closed.*" 5
  else
    fail "$label: a second call gets a pppd" "$(cat "$W/ours.pppd")"
  fi
  sleep 0.5
  # Up again, and teardown from our side (SIGTERM: StopCCN, then exit).
  ip netns exec "$NS_A" xl2tpd-control -c "$W/xl.ctl" connect-lac test >/dev/null 2>&1
  if wait_log "$W/ours.log" "session [0-9]+ up.*" && [[ $(grep -Ec "session [0-9]+ up" "$W/ours.log") -ge 2 ]] ||
     { sleep 2; [[ $(grep -Ec "session [0-9]+ up" "$W/ours.log") -ge 2 ]]; }; then
    kill -TERM "$(cat "$W/ours.pid")"
    if wait_log "$W/xl.log" "Connection ([0-9]+ )?closed.*l2tpd shutting down" && wait_log "$W/ours.log" "exiting"; then
      pass "$label: our shutdown tears down both sides"
    else
      fail "$label: our shutdown tears down both sides" "$(grep -v '"' "$W/xl.log" | tail -2)"
    fi
  else
    fail "$label: call comes up again after a disconnect" "$(tail -2 "$W/ours.log")"
  fi
  stop_all
}

# --- our LAC, xl2tpd LNS ----------------------------------------------------
lac_case() {  # AUTH HIDDEN
  local auth=$1 hidden=$2 label="our LAC, xl2tpd LNS, challenge=$1, hidden=$2"
  ours_lac_conf "$auth" "$hidden" >"$W/ours.conf"
  xl2tpd_lns_conf "$auth" >"$W/xl.conf"
  start_xl2tpd "$NS_B" xl "$W/xl.conf" "$W/secrets" || { fail "$label: start xl2tpd" "$(tail -3 "$W/xl.log")"; return; }
  start_ours "$NS_A" ours "$W/ours.conf" "$W/secrets" || { fail "$label: start l2tpd" "$(tail -3 "$W/ours.log")"; return; }
  local cap=$W/lac.pcap
  if [[ $hidden == yes ]] && command -v tshark >/dev/null; then
    ip netns exec "$NS_A" tshark -q -i "va$$" -f "udp port 1701" -w "$cap" >/dev/null 2>"$W/tshark.log" &
    local capture=$!
    PIDS+=("$capture")
    # tshark says so once it captures (seconds on a loaded machine).
    wait_log "$W/tshark.log" "Capturing on" 20 || fail "$label: tshark starts capturing" "$(cat "$W/tshark.log")"
  fi
  echo "c up" >"$W/ours.ctl"
  if wait_log "$W/ours.log" "session [0-9]+ up" && wait_log "$W/xl.log" "Call established"; then
    pass "$label: tunnel and call come up"
  else
    fail "$label: tunnel and call come up" "$(tail -3 "$W/ours.log") / $(grep -v '"' "$W/xl.log" | tail -3)"
    stop_all
    return
  fi
  # Teardown from our side: d <lac>.
  echo "d up" >"$W/ours.ctl"
  if wait_log "$W/xl.log" "Connection ([0-9]+ )?closed.*disconnected by command" && wait_log "$W/ours.log" "tunnel [0-9]+ down"; then
    pass "$label: our disconnect tears down both sides"
  else
    fail "$label: our disconnect tears down both sides" "$(grep -v '"' "$W/xl.log" | tail -2)"
  fi
  # Up again; teardown from xl2tpd's side with the classic "d <tunnel>".
  echo "c up" >"$W/ours.ctl"
  sleep 0.5
  if wait_log "$W/ours.log" "tunnel [0-9]+ up" && { sleep 1; [[ $(grep -Ec "session [0-9]+ up" "$W/ours.log") -ge 2 ]]; }; then
    local peer_tunnel
    peer_tunnel=$(grep -Eo "peer tunnel [0-9]+" "$W/ours.log" | tail -1 | awk '{print $3}')
    echo "d $peer_tunnel" >"$W/xl.ctl"
    if wait_log "$W/ours.log" "tunnel [0-9]+ down: result 1.*" 10 && [[ $(grep -Ec "tunnel [0-9]+ down" "$W/ours.log") -ge 2 ]]; then
      pass "$label: xl2tpd's disconnect tears down both sides"
    else
      fail "$label: xl2tpd's disconnect tears down both sides" "$(tail -2 "$W/ours.log")"
    fi
  else
    fail "$label: call comes up again after a disconnect" "$(tail -2 "$W/ours.log")"
  fi
  if [[ $hidden == yes && -n ${capture:-} ]]; then
    # The capture ran over both calls (on a loaded machine tshark may say
    # "Capturing on" a moment before it captures): stop it, let it write
    # what it holds, and look for a hidden AVP in an ICRQ xl2tpd answered.
    sleep 1
    kill -INT "$capture" 2>/dev/null
    wait "$capture" 2>/dev/null
    local dump
    dump=$("$ROOT/$L2TPDUMP" --secret interop-secret-42 "$cap" 2>&1)
    if grep -q "ICRQ.*?AssignedSessionID" <<<"$dump" && grep -q " ICRP " <<<"$dump"; then
      pass "$label: xl2tpd accepts our hidden AVPs"
    else
      fail "$label: xl2tpd accepts our hidden AVPs" \
        "$(wc -c <"$cap" 2>/dev/null) bytes captured; $(grep -cE 'ICRQ|ICRP|SCCRQ' <<<"$dump") messages; $(head -c 300 <<<"$dump")"
    fi
  fi
  stop_all
}

lns_case no
lns_case yes
lac_case no no
lac_case yes no
lac_case yes yes
exit $((fails > 0))
