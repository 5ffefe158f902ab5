#!/usr/bin/env bash
# Real pppd under qemu. The host kernel has no PPP, so Debian's own kernel
# (linux-image-amd64's 6.1, fetched with apt-get download and cached in
# build/vm/) boots under qemu with an initramfs built here from the host's
# busybox-static, pppd, xl2tpd, iproute2 and our built l2tpd. Each scenario
# is one VM boot with two network namespaces joined by a veth pair (LAC
# 192.0.2.1, LNS 192.0.2.2) and real pppd on both ends:
#
#   baseline  xl2tpd LAC + pppd dials xl2tpd LNS + pppd (the harness itself)
#   our_lns   our l2tpd as LNS, xl2tpd LAC + pppd
#   our_lac   our l2tpd as LAC (autodial), xl2tpd LNS + pppd
#   our_lns_dpdk  our l2tpd as LNS with its DPDK data plane (net_af_packet
#             on veths, 2 vCPUs), xl2tpd LAC + pppd, a core host in a third
#             namespace: the subscriber's pings cross our fast path
#
# Each checks that the subscriber gets an address from the LNS's ip range,
# that pings cross the tunnel both ways, and that teardown stops both pppds.
# The guest side is in tests/vm/guest/.
#
#   tests/vm/pppd_vm.sh [SCENARIO...]     default: all four
#   BUILD_DIR (default build/gcc), VM_TIMEOUT (s per scenario, default 120),
#   KEEP=1 keeps the initramfs and the consoles in a temporary folder.
#
# Prints PASS:/FAIL:/SKIP: lines for tests/run, and each scenario's console
# when it failed. Cleans up (qemu by PID, temporary files) even on failure.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=${BUILD_DIR:-build/gcc}
CACHE=$ROOT/build/vm
# A scenario takes 25-75 s on 2 busy cores; four at this limit stay under
# tests/run's 900 s per script.
TIMEOUT=${VM_TIMEOUT:-120}
SCENARIOS=("$@")
((${#SCENARIOS[@]})) || SCENARIOS=(baseline our_lns our_lac our_lns_dpdk)

# shellcheck source=tests/vm/vm.bash
source tests/vm/vm.bash

fails=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1${2:+: $2}"; fails=$((fails + 1)); }
skip_all() {
  echo "SKIP: real pppd under qemu: $1"
  echo "pppd_vm: *** SKIPPED: NOTHING WAS TESTED: $1 ***" >&2
  exit 0
}

W=$(mktemp -d "${TMPDIR:-/tmp}/l2tp-vm.XXXXXX")
VM_QEMU_PID='' probe=''
cleanup() {
  [[ -n $VM_QEMU_PID ]] && kill -KILL "$VM_QEMU_PID" 2>/dev/null
  [[ -n $probe ]] && kill -KILL "$probe" 2>/dev/null
  if [[ ${KEEP:-0} == 1 ]]; then echo "pppd_vm: kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

[[ $EUID -eq 0 ]] || skip_all "needs root (apt-get download, and the initramfs must hold root-owned files)"
command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 is not installed (tools/setup-deps installs qemu-system-x86)"
for tool in busybox cpio gzip dpkg-deb pppd xl2tpd xl2tpd-control ip ethtool; do
  command -v "$tool" >/dev/null || skip_all "$tool is not installed (tools/setup-deps installs it)"
done
[[ -x $BUILD/control/l2tpd ]] || { fail "pppd vm: l2tpd" "$BUILD/control/l2tpd is not built"; exit 1; }

total_start=$(date +%s%N)
if ! vm_kernel "$CACHE"; then
  fail "pppd vm: Debian's kernel" "could not fetch or unpack linux-image-6.1*-amd64 (see above)"
  exit 1
fi
VM_INITRD=$W/initrd.gz
t0=$(date +%s%N)
if ! vm_initramfs "$ROOT/$BUILD" "$VM_INITRD"; then
  fail "pppd vm: initramfs" "see above"
  exit 1
fi
echo "pppd_vm: kernel $(basename "$VM_KERNEL"), initramfs $(($(stat -c %s "$VM_INITRD") / 1024)) KiB built in $(vm_secs "$t0" "$(date +%s%N)") s"

# Is qemu usable at all? A scenario that cannot boot is a failure below; only
# a qemu that cannot even start its machine is a reason to skip.
qemu-system-x86_64 -accel tcg -cpu max -nodefaults -display none -S -no-reboot \
  -monitor none -serial none -m 64 </dev/null >"$W/qemu-probe.log" 2>&1 &
probe=$!
disown "$probe"  # killed below: no job report
sleep 1
if ! kill -0 "$probe" 2>/dev/null; then
  skip_all "qemu-system-x86_64 cannot start a TCG machine: $(tail -2 "$W/qemu-probe.log")"
fi
kill -KILL "$probe" 2>/dev/null
probe=''

for s in "${SCENARIOS[@]}"; do
  if [[ ! -f tests/vm/guest/scenarios/$s.sh ]]; then
    fail "pppd vm: $s" "no tests/vm/guest/scenarios/$s.sh"
    continue
  fi
  log=$W/console-$s.log
  # A scenario asks for more vCPUs with a "# l2tpvm: cpus N" line (the DPDK
  # one: the EAL's main lcore and a worker that polls without pause).
  cpus=$(sed -n 's/^# l2tpvm: cpus \([0-9][0-9]*\)$/\1/p' "tests/vm/guest/scenarios/$s.sh" | head -1)
  vm_run "$s" "$log" "$TIMEOUT" "${cpus:-1}"
  before=$fails
  # The guest's PASS:/FAIL: lines, as they are (the serial console adds \r).
  while IFS= read -r line; do
    case $line in
      "PASS: "*) echo "$line" ;;
      "FAIL: "*) echo "$line"; fails=$((fails + 1)) ;;
    esac
  done < <(tr -d '\r' <"$log")
  case $VM_RC in
    0) ;;
    124) fail "$s: the VM finished in time" "killed after ${TIMEOUT}s" ;;
    *) fail "$s: the VM finished" "no end marker on the console (kernel panic or qemu error: $(tail -2 "$log.qemu" 2>/dev/null))" ;;
  esac
  if ! tr -d '\r' <"$log" | grep -q "^PASS: $s: "; then
    ((fails > before)) || fail "$s: any check ran" "the guest printed no PASS: or FAIL: line"
  fi
  # Boot: qemu start to /init on the host's clock; the guest's uptime then
  # is the kernel's share (the rest is qemu, firmware and loading).
  kernel_s=$(tr -d '\r' <"$log" | sed -n 's/^l2tpvm: init at \([0-9.]*\) s uptime.*/\1/p')
  echo "pppd_vm: $s: ${cpus:-1} vCPU, boot ${VM_BOOT_S:-?} s (kernel ${kernel_s:-?} s of it), whole VM ${VM_TOTAL_S} s"
  if ((fails > before)); then
    echo "pppd_vm: ----- console of $s"
    tr -d '\r' <"$log" | tail -n 250
    echo "pppd_vm: ----- end of console of $s"
  fi
done
echo "pppd_vm: total $(vm_secs "$total_start" "$(date +%s%N)") s"
exit $((fails > 0))
