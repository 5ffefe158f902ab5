#!/usr/bin/env bash
# Debian's real xl2tpd-control (1.3.18) against our command FIFO, and the
# classic l2tpd commands: two instances of our daemon on 127.0.0.1 (LAC)
# and 127.0.0.2 (LNS) in socket mode, no namespaces. available, add-lac,
# status-lac, connect-lac, disconnect-lac, remove-lac, add-lns, status-lns,
# remove-lns and the errors the client exits with; t, c, h, d and o written
# by hand with a reply FIFO; the classic /var/run/l2tp-control symlink when
# the default FIFO path is free.
#
# Prints PASS:/FAIL:/SKIP: lines for tests/run. Cleans up (processes by
# PID, files) even when it fails.
set -uo pipefail
cd "$(dirname "$0")/../.."
L2TPD=${BUILD_DIR:-build/gcc}/control/l2tpd

fails=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1${2:+: $2}"; fails=$((fails + 1)); }
skip_all() { echo "SKIP: xl2tpd-control: $1"; exit 0; }

[[ $EUID -eq 0 ]] || skip_all "needs root (xl2tpd-control makes its reply FIFO in /var/run/xl2tpd)"
command -v xl2tpd-control >/dev/null || skip_all "xl2tpd-control is not installed (tools/setup-deps installs xl2tpd)"
[[ -x $L2TPD ]] || { fail "xl2tpd-control" "$L2TPD not built"; exit 1; }

W=$(mktemp -d /tmp/l2tp-xctl.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
  if [[ ${KEEP:-0} == 1 ]]; then echo "logs kept in $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT

mkdir -p /var/run/xl2tpd
LNS_PORT=$((20000 + $$ % 20000))
LAC_PORT=$((LNS_PORT + 1))
SYM_PORT=$((LNS_PORT + 2))

# shellcheck source=tests/integration/lib.bash
source tests/integration/lib.bash  # the cwd is the repo root
pppd_standin "$W/pppd"

# start NAME CONF [extra options]: our daemon in the foreground.
start() {
  local name=$1 conf=$2
  shift 2
  PPPD_ARGV_LOG="$W/$name.pppd" \
    "$L2TPD" --socket -D -c "$conf" -s /dev/null -p "$W/$name.pid" --pppd "$W/pppd" --log-level debug "$@" >"$W/$name.log" 2>&1 &
  PIDS+=($!)
  disown
  wait_log "$W/$name.log" "listening on" 5
}

# ctl FIFO ARGS...: runs xl2tpd-control -d; sets RC and OUT (its stderr,
# where -d prints the reply).
ctl() {
  local fifo=$1
  shift
  OUT=$(timeout 10 xl2tpd-control -d -c "$fifo" "$@" 2>&1)
  RC=$?
}

# classic FIFO LINE: writes "@REPLY LINE\n" as the classic tools would (by
# hand, with a newline) and sets OUT to the reply.
classic() {
  local reply=$W/reply.$RANDOM
  mkfifo "$reply"
  timeout 5 cat "$reply" >"$reply.out" &
  local reader=$!
  sleep 0.1
  printf '@%s %s\n' "$reply" "$2" >"$1"
  wait "$reader"
  OUT=$(cat "$reply.out")
  rm -f "$reply" "$reply.out"
}

# expect NAME RC REGEX...: the last ctl's exit code, and a line of its
# reply matches each REGEX.
expect() {
  local name=$1 rc=$2 re ok=1
  shift 2
  [[ $RC == "$rc" ]] || ok=0
  for re in "$@"; do grep -Eq -- "$re" <<<"$OUT" || ok=0; done
  if ((ok)); then pass "$name"; else fail "$name" "exit $RC, reply: $(tr '\n' '|' <<<"$OUT")"; fi
}
expect_reply() {  # NAME REGEX (classic replies)
  if grep -Eq -- "$2" <<<"$OUT"; then pass "$1"; else fail "$1" "reply: $(tr '\n' '|' <<<"$OUT")"; fi
}

cat >"$W/lns.conf" <<EOF
[global]
listen-addr = 127.0.0.2
port = $LNS_PORT

[lns default]
hostname = ctl-lns
EOF
cat >"$W/lac.conf" <<EOF
[global]
listen-addr = 127.0.0.1
port = $LAC_PORT

[lac fromfile]
lns = 127.0.0.2:$LNS_PORT
hostname = ctl-lac
EOF

start lns "$W/lns.conf" -C "$W/lns.ctl" || { fail "LNS instance starts" "$(tail -3 "$W/lns.log")"; exit 1; }
start lac "$W/lac.conf" -C "$W/lac.ctl" || { fail "LAC instance starts" "$(tail -3 "$W/lac.log")"; exit 1; }
LNS=$W/lns.ctl LAC=$W/lac.ctl

# --- xl2tpd-control ---------------------------------------------------------
ctl "$LAC" available
expect "available lists the config's entries" 0 "^00 OK$" "^00 AVAILABLE lac.0.name=fromfile$" \
  "^00 AVAILABLE tunnels count=0$"

ctl "$LAC" add-lac dyn "lns=127.0.0.2:$LNS_PORT" "redial timeout" = 5 hostname=dyn-lac
expect "add-lac adds an entry" 0 "^00 OK$"
ctl "$LAC" available
expect "available lists the added entry" 0 "AVAILABLE lac.1.name=dyn"

ctl "$LAC" status-lac dyn
expect "status-lac of an idle entry answers state=down" 0 "00 STATUS state=down"

ctl "$LAC" connect-lac dyn alice wonderland
expect "connect-lac answers OK" 0 "^00 OK$"
if wait_log "$W/lac.log" "session [0-9]+ up" 10; then
  pass "connect-lac brings the tunnel and the call up"
else
  fail "connect-lac brings the tunnel and the call up" "$(tail -3 "$W/lac.log")"
fi
# Its authname and password go to the LAC's pppd: the name on the command
# line, the password through the passwordfd pipe only.
if wait_log "$W/lac.pppd" " name alice .*plugin passwordfd.so passwordfd 3 " 5 && ! grep -q wonderland "$W/lac.pppd"; then
  pass "connect-lac's authname and password reach pppd, the password never on its command line"
else
  fail "connect-lac's authname and password reach pppd, the password never on its command line" "$(cat "$W/lac.pppd")"
fi
ctl "$LAC" status-lac dyn
expect "status-lac shows the tunnel and its call" 0 "^00 STATUS state=established$" \
  "^00 STATUS tunnel.peer=127.0.0.2:$LNS_PORT$" "^00 STATUS tunnel.calls.0.state=established$"
ctl "$LNS" status-lns default
expect "status-lns shows the tunnel it serves" 0 "^00 STATUS tunnels.0.peer=127.0.0.1:$LAC_PORT$" \
  "^00 STATUS tunnels.0.calls.count=1$" "^00 STATUS tunnels.count=1$"

ctl "$LAC" connect-lac dyn
expect "connect-lac of a connected entry fails" 1 "01 .*already connected"

ctl "$LAC" disconnect-lac dyn
expect "disconnect-lac answers OK" 0 "^00 OK$"
if wait_log "$W/lac.log" "tunnel [0-9]+ down" 10 && wait_log "$W/lns.log" "tunnel [0-9]+ down" 10; then
  pass "disconnect-lac tears the tunnel down on both sides"
else
  fail "disconnect-lac tears the tunnel down on both sides" "$(tail -3 "$W/lac.log")"
fi
ctl "$LAC" status-lac dyn
expect "status-lac after disconnect-lac says down" 0 "00 STATUS state=down"
ctl "$LAC" disconnect-lac dyn
expect "disconnect-lac of an entry that is down fails" 1 "01 .*not connected"

ctl "$LAC" remove-lac dyn
expect "remove-lac answers OK" 0 "^00 OK$"
ctl "$LAC" status-lac dyn
expect "status-lac of a removed entry fails" 1 "01 No such tunnel 'dyn'"

ctl "$LAC" add-lns extra "lac = 10.1.0.1-10.1.0.9" "hidden bit = yes"
expect "add-lns adds an entry" 0 "^00 OK$"
ctl "$LAC" add-lns extra "ip range = 10.2.0.1-10.2.0.9"
expect "add-lns on an added entry modifies it" 0 "^00 OK$"
ctl "$LAC" status-lns extra
expect "status-lns of an entry without tunnels" 0 "00 STATUS tunnels.count=0"
ctl "$LAC" available
expect "available lists the added lns" 0 "AVAILABLE lns.0.name=extra"
ctl "$LAC" remove-lns extra
expect "remove-lns answers OK" 0 "^00 OK$"
ctl "$LAC" status-lns extra
expect "status-lns of a removed entry fails" 1 "^01 "

ctl "$LAC" connect-lac nosuch
expect "connect-lac of an unknown name exits 1 with the error" 1 "01 No such tunnel 'nosuch'"
ctl "$LAC" add-lac bad "redial timeout=soon"
expect "add-lac with a bad value exits 3 naming the key" 3 "03 Configuration parse error: .*redial timeout"
ctl "$LAC" add-lac bad "no such key=1"
expect "add-lac with an unknown key exits 3" 3 "03 Configuration parse error: .*no such key"
ctl "$LAC" add-lac fromfile "redial=yes"
expect "add-lac cannot change an entry of the config file" 1 "01 .*comes from"

# --- the classic commands ---------------------------------------------------
classic "$LAC" "t 127.0.0.2:$LNS_PORT"
expect_reply "t opens a tunnel and answers its id" "^00 TUNNEL id=[0-9]+"
TID=$(grep -Eo "TUNNEL id=[0-9]+" <<<"$OUT" | cut -d= -f2)
if [[ -n $TID ]] && wait_log "$W/lac.log" "tunnel $TID up" 10; then
  pass "t: the tunnel comes up"
  classic "$LAC" "c $TID"
  expect_reply "c <tid> places a call" "^00 CALL id=[0-9]+"
  CID=$(grep -Eo "CALL id=[0-9]+" <<<"$OUT" | cut -d= -f2)
  if [[ -n $CID ]] && wait_log "$W/lac.log" "session $CID up on tunnel $TID" 10; then
    pass "c <tid>: the call comes up"
    classic "$LAC" "h $CID"
    expect_reply "h <cid> answers OK" "^00 OK"
    if wait_log "$W/lac.log" "session $CID on tunnel $TID down" 10; then pass "h <cid>: the call ends"
    else fail "h <cid>: the call ends" "$(tail -2 "$W/lac.log")"; fi
  else
    fail "c <tid>: the call comes up" "$(tail -2 "$W/lac.log")"
  fi
  classic "$LAC" "o $TID 5551234"
  expect_reply "o on a LAC's tunnel is refused" "^01 .*LNS's"
  # As the LNS: an outgoing call (OCRQ) on the tunnel [lns default] serves.
  classic "$LNS" "o default 5551234"
  expect_reply "o <lns entry> <number> places an outgoing call" "^00 CALL id=[0-9]+"
  if wait_log "$W/lac.log" "session [0-9]+ up on tunnel $TID \(peer session [0-9]+, outgoing call\)" 10; then
    pass "o: the outgoing call comes up at the LAC"
  else
    fail "o: the outgoing call comes up at the LAC" "$(tail -2 "$W/lac.log")"
  fi
  classic "$LAC" "d $TID"
  expect_reply "d <tid> answers OK" "^00 OK"
  if wait_log "$W/lac.log" "tunnel $TID down" 10; then pass "d <tid>: the tunnel goes down"
  else fail "d <tid>: the tunnel goes down" "$(tail -2 "$W/lac.log")"; fi
else
  fail "t: the tunnel comes up" "$(tail -2 "$W/lac.log")"
fi
classic "$LAC" "h 9999"
expect_reply "h of an unknown call fails" "^01 No such call 9999"
classic "$LAC" "q whatever"
expect_reply "an unknown letter gets an error" "^01 Unknown command q"
# Without a reply FIFO: logged, and the daemon lives on.
printf 'd nosuch\n' >"$LAC"
if wait_log "$W/lac.log" "command FIFO: d \(disconnect\) nosuch: No such tunnel" 5 && kill -0 "${PIDS[1]}" 2>/dev/null; then
  pass "a classic command without a reply FIFO is logged"
else
  fail "a classic command without a reply FIFO is logged" "$(tail -2 "$W/lac.log")"
fi

# --- the classic path -------------------------------------------------------
if [[ -e /var/run/xl2tpd/l2tp-control || -e /var/run/l2tp-control || -L /var/run/l2tp-control ]]; then
  echo "SKIP: classic FIFO symlink: /var/run/xl2tpd/l2tp-control or /var/run/l2tp-control is in use here"
else
  cat >"$W/sym.conf" <<EOF
[global]
listen-addr = 127.0.0.1
port = $SYM_PORT
EOF
  if start sym "$W/sym.conf"; then
    SYM_PID=${PIDS[-1]}
    if [[ -L /var/run/l2tp-control && $(readlink /var/run/l2tp-control) == /var/run/xl2tpd/l2tp-control ]]; then
      pass "the default FIFO is also linked at /var/run/l2tp-control"
    else
      fail "the default FIFO is also linked at /var/run/l2tp-control" "$(ls -l /var/run/l2tp-control 2>&1)"
    fi
    ctl /var/run/l2tp-control available
    expect "xl2tpd-control through the classic path" 0 "AVAILABLE lns.count=1"  # the built-in LNS: [global] alone sets up nothing
    OUT=$(timeout 10 xl2tpd-control -d available 2>&1); RC=$?
    expect "xl2tpd-control with no -c finds the default FIFO" 0 "AVAILABLE lac.count=0"
    kill -TERM "$SYM_PID"
    for _ in $(seq 50); do kill -0 "$SYM_PID" 2>/dev/null || break; sleep 0.1; done
    if [[ ! -e /var/run/l2tp-control && ! -L /var/run/l2tp-control && ! -e /var/run/xl2tpd/l2tp-control ]]; then
      pass "the FIFO and its classic link are removed at exit"
    else
      fail "the FIFO and its classic link are removed at exit" "$(ls -l /var/run/l2tp-control /var/run/xl2tpd/l2tp-control 2>&1)"
    fi
  else
    fail "instance on the default FIFO starts" "$(tail -3 "$W/sym.log")"
  fi
fi

exit $((fails > 0))
