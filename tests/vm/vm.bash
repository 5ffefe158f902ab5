# Host side of the VM tests (sourced by tests/vm/*.sh; not a test itself).
#
# The host kernel has no PPP, so real pppd runs in a VM: Debian's own kernel
# (which has the PPP and veth modules) booted by qemu with software emulation
# from an initramfs that holds busybox, pppd, xl2tpd, iproute2 and our daemon.
#
#   vm_kernel CACHE            sets VM_KERNEL (vmlinuz) and VM_MODDIR (its
#                              /lib/modules/VERSION with a modules.dep)
#   vm_initramfs BUILD OUT     writes the gzip'd cpio OUT
#   vm_run SCENARIO LOG SECS [CPUS]
#                              boots it (CPUS vCPUs, default 1), runs
#                              guest/scenarios/SCENARIO.sh, and sets VM_RC (0 finished, 1 crashed or no marker,
#                              124 timed out), VM_BOOT_S and VM_TOTAL_S
#
# The callers print PASS:/FAIL: lines; these functions only say what happened.

VM_DIR=${VM_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}

# Modules the scenarios need, by name; their dependencies come from modules.dep.
# ppp_async: pppd on a pty uses the async line discipline (N_PPP). n_hdlc:
# pppd's sync mode, loaded so that a pppd option asking for it does not fail
# with a confusing error. veth: the two namespaces' link. xl2tpd runs with
# "force userspace = yes" (the same pty handoff as our daemon), so the
# kernel's l2tp_ppp is not needed.
VM_MODULES=(ppp_generic ppp_async slhc n_hdlc veth)

vm_log() { echo "vm: $*" >&2; }

# The Debian kernel package that linux-image-amd64 depends on, downloaded once
# into CACHE and unpacked there (dpkg-deb -x: nothing is installed on the host).
vm_kernel() {
  local cache=$1 pkg deb
  mkdir -p "$cache"
  pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '$1 == "Depends:" && $2 ~ /^linux-image-6\.1.*-amd64$/ {print $2; exit}')
  if [[ -z $pkg ]]; then
    # No package lists yet (a fresh machine): read them once.
    vm_log "apt-cache does not know linux-image-amd64: apt-get update"
    apt-get -q -o DPkg::Lock::Timeout=600 update >/dev/null 2>&1
    pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '$1 == "Depends:" && $2 ~ /^linux-image-6\.1.*-amd64$/ {print $2; exit}')
  fi
  if [[ -z $pkg ]]; then
    # Offline: fall back on whatever kernel is already cached.
    deb=$(ls -t "$cache"/linux-image-6.1*-amd64_*.deb 2>/dev/null | head -1)
    [[ -n $deb ]] || { vm_log "cannot tell which linux-image-6.1*-amd64 to fetch, and none is cached"; return 1; }
    pkg=$(basename "$deb"); pkg=${pkg%%_*}
    vm_log "apt does not resolve linux-image-amd64: using the cached $pkg"
  fi
  deb=$(ls -t "$cache/${pkg}"_*.deb 2>/dev/null | head -1)
  if [[ -z $deb ]]; then
    vm_log "downloading $pkg"
    # apt's _apt user may not write into the cache: download as ourselves there.
    if (cd "$cache" && apt-get -q download "$pkg" >/dev/null 2>"$cache/download.err"); then
      rm -f "$cache/download.err"
      deb=$(ls -t "$cache/${pkg}"_*.deb | head -1)
      # A newer kernel replaces the cached ones (about 470 MB each unpacked).
      local old
      for old in "$cache"/linux-image-*; do
        [[ $old == "$cache/$pkg"[._]* ]] || rm -rf "$old"
      done
    else
      vm_log "apt-get download $pkg failed: $(tail -2 "$cache/download.err")"
      # The mirror may have moved on before our package lists did.
      deb=$(ls -t "$cache"/linux-image-6.1*-amd64_*.deb 2>/dev/null | head -1)
      [[ -n $deb ]] || return 1
      pkg=$(basename "$deb"); pkg=${pkg%%_*}
      vm_log "using the cached $pkg instead"
    fi
  fi
  local tree=$cache/${pkg}.tree version=${pkg#linux-image-}
  if [[ ! -f $tree/.complete ]]; then
    vm_log "unpacking $(basename "$deb")"
    rm -rf "$tree"
    if ! dpkg-deb -x "$deb" "$tree"; then
      # A truncated download: fetch it again next time.
      vm_log "dpkg-deb -x $deb failed: removing it"
      rm -rf "$deb" "$tree"
      return 1
    fi
    # The package ships no modules.dep (its postinst runs depmod): make one.
    busybox depmod -b "$tree" "$version" || { vm_log "depmod failed"; return 1; }
    touch "$tree/.complete"
  fi
  VM_KERNEL=$tree/boot/vmlinuz-$version
  VM_MODDIR=$tree/lib/modules/$version
  [[ -f $VM_KERNEL && -f $VM_MODDIR/modules.dep ]] || { vm_log "no kernel or modules.dep in $tree"; return 1; }
}

# Module paths in load order (dependencies first), from modules.dep.
vm_module_order() {
  local moddir=$1
  shift
  awk -v want="$*" '
    function base(p) { sub(/.*\//, "", p); sub(/\.ko(\.[a-z]+)?$/, "", p); return p }
    { k = $1; sub(/:$/, "", k); n = base(k); path[n] = k; deps[n] = ""
      for (i = 2; i <= NF; i++) deps[n] = deps[n] " " base($i) }
    function visit(n,   d, a, i) {
      if (n in seen) return
      seen[n] = 1
      if (!(n in path)) { print "MISSING " n; return }
      split(deps[n], a, " ")
      for (i in a) if (a[i] != "") visit(a[i])
      print path[n]
    }
    END { split(want, w, " "); for (i = 1; i in w; i++) visit(w[i]) }
  ' "$moddir/modules.dep"
}

# vm_copy_bin ROOT FILE [DEST]: FILE into ROOT at DEST (default its own
# path) with every shared library ldd lists, at the paths ldd resolved.
vm_copy_bin() {
  local root=$1 src=$2 dest=${3:-$2} lib
  vm_install_stripped "$src" "$root$dest" || return 1
  while read -r lib; do
    [[ -e $root$lib ]] && continue
    vm_install_stripped "$(readlink -f "$lib")" "$root$lib" || return 1
  done < <(ldd "$src" 2>/dev/null | awk '/=> \// {print $3} /^\t\/[^ ]+ \(/ {print $1}')
}

# The DPDK plugins our data plane needs in the VM, from the EAL's default
# plugin folder (RTE_EAL_PMD_PATH of Debian's DPDK 22.11): net_af_packet for
# the ports on veths, mempool_ring for the mbuf pool's ring handler. Their
# own libraries (librte_bus_vdev, the vdev bus the ports are on, among them)
# come from ldd.
VM_DPDK_PMD_DIR=/usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0
VM_DPDK_PMDS=(librte_net_af_packet librte_mempool_ring)

# vm_copy_pmd ROOT NAME: NAME.so.* into ROOT's plugin folder, with the
# NAME.so and NAME.so.ABI links the host has (the EAL loads what ends in
# .so or .so.ABI; the same file twice is one dlopen).
vm_copy_pmd() {
  local root=$1 name=$2 real link
  real=$(readlink -f "$VM_DPDK_PMD_DIR/$name.so") && [[ -f $real ]] || return 1
  vm_copy_bin "$root" "$real" || return 1
  for link in "$VM_DPDK_PMD_DIR/$name".so*; do
    [[ -L $link ]] && ln -sfn "$(readlink "$link")" "$root$link"
  done
  return 0
}

# Without debug symbols: a smaller initramfs boots faster (qemu copies it in
# and the kernel unpacks it, both emulated). The debugoptimized l2tpd alone
# is 12 MB with them.
vm_install_stripped() {
  install -D -m 0755 "$1" "$2" || return 1
  if command -v strip >/dev/null; then strip --strip-debug "$2" 2>/dev/null || true; fi
}

# vm_initramfs BUILD_DIR OUT: the initramfs for every scenario.
vm_initramfs() {
  local build=$1 out=$2 root
  root=$(mktemp -d "${TMPDIR:-/tmp}/l2tp-vm-root.XXXXXX") || return 1
  local ok=0
  (
    set -e
    cd "$root"
    mkdir -p bin sbin usr/bin usr/sbin lib/modules etc/ppp proc sys dev run tmp root scenarios var
    # /var/run and /var/lock live on the tmpfs /init mounts at /run.
    ln -s ../run var/run
    ln -s ../run/lock var/lock
    # busybox-static: the shell and the small tools, one link per applet,
    # except ip (iproute2's, which has netns) and the ones copied below.
    install -m 0755 /bin/busybox bin/busybox
    for a in $(/bin/busybox --list); do
      case $a in busybox|ip) continue ;; esac
      [[ -e bin/$a ]] || ln -s busybox "bin/$a"
    done
    vm_copy_bin "$root" /usr/sbin/pppd /usr/sbin/pppd
    # pppd's plugin for a password on a descriptor, which our daemon uses
    # for connect-lac's password (never on argv).
    local plugin
    for plugin in /usr/lib/pppd/*/passwordfd.so; do
      vm_copy_bin "$root" "$plugin"
    done
    vm_copy_bin "$root" /usr/sbin/xl2tpd /usr/sbin/xl2tpd
    vm_copy_bin "$root" /usr/sbin/xl2tpd-control /usr/sbin/xl2tpd-control
    vm_copy_bin "$root" "$(command -v ip)" /sbin/ip
    vm_copy_bin "$root" "$build/control/l2tpd" /usr/sbin/l2tpd
    # The DPDK data plane (our_lns_dpdk): the EAL dlopens every driver in
    # its plugin folder at start, and the daemon links none of them.
    local pmd
    for pmd in "${VM_DPDK_PMDS[@]}"; do
      vm_copy_pmd "$root" "$pmd" || { vm_log "DPDK plugin $pmd is not in $VM_DPDK_PMD_DIR"; exit 1; }
    done
    # ethtool: checksum and segmentation offloads off on the veths that
    # net_af_packet reads.
    vm_copy_bin "$root" "$(command -v ethtool)" /sbin/ethtool
    # Modules, flat, with the load order for /init.
    local m
    while read -r m; do
      [[ $m != MISSING* ]] || { vm_log "module ${m#MISSING } is not in modules.dep"; exit 1; }
      install -m 0644 "$VM_MODDIR/$m" lib/modules/
      basename "$m" >>etc/modules.order
    done < <(vm_module_order "$VM_MODDIR" "${VM_MODULES[@]}")
    # What pppd and the daemons read from /etc.
    printf 'root:x:0:0:root:/root:/bin/sh\n' >etc/passwd
    printf 'root:x:0:\n' >etc/group
    printf '127.0.0.1 localhost\n' >etc/hosts
    printf 'hosts: files\npasswd: files\ngroup: files\n' >etc/nsswitch.conf
    # pppd reads /etc/ppp/options before anything else; the scenarios give
    # each side its own options through pppoptfile.
    printf '# see the pppoptfile of each side\n' >etc/ppp/options
    install -m 0600 "$VM_DIR/guest/pap-secrets" etc/ppp/pap-secrets
    install -m 0755 "$VM_DIR/guest/init" init
    install -m 0644 "$VM_DIR/guest/lib.sh" scenarios/lib.sh
    install -m 0755 "$VM_DIR"/guest/scenarios/*.sh scenarios/
    find . -print0 | cpio --null -o -H newc --quiet | gzip -1 >"$out"
  ) && ok=1
  rm -rf "$root"
  ((ok))
}

# vm_run SCENARIO LOG TIMEOUT_S [CPUS]
vm_run() {
  local scenario=$1 log=$2 limit=$3 cpus=${4:-1} start now pid
  VM_RC=1 VM_BOOT_S='' VM_TOTAL_S=''
  : >"$log"
  start=$(date +%s%N)
  # -nodefaults: no VGA, no NIC, no floppy; the serial port is the console.
  # /dev/kvm may exist but does not work here: TCG, with -cpu max for the
  # SSE4.2 that Debian's DPDK-linked binaries need.
  qemu-system-x86_64 -accel tcg -cpu max -m 1024 -smp "$cpus" -nodefaults -no-reboot \
    -display none -monitor none -serial "file:$log" \
    -kernel "$VM_KERNEL" -initrd "$VM_INITRD" \
    -append "console=ttyS0 panic=-1 loglevel=4 l2tpvm.scenario=$scenario" \
    </dev/null >>"$log.qemu" 2>&1 &
  pid=$!
  VM_QEMU_PID=$pid
  while kill -0 "$pid" 2>/dev/null; do
    now=$(date +%s%N)
    if [[ -z $VM_BOOT_S ]] && grep -q '^l2tpvm: init' "$log" 2>/dev/null; then
      VM_BOOT_S=$(vm_secs "$start" "$now")
    fi
    if (((now - start) / 1000000000 >= limit)); then
      kill -KILL "$pid" 2>/dev/null
      wait "$pid" 2>/dev/null
      VM_QEMU_PID=''
      VM_RC=124
      VM_TOTAL_S=$(vm_secs "$start" "$(date +%s%N)")
      return
    fi
    sleep 0.2
  done
  wait "$pid" 2>/dev/null
  VM_QEMU_PID=''
  VM_TOTAL_S=$(vm_secs "$start" "$(date +%s%N)")
  [[ -n $VM_BOOT_S ]] || ! grep -q '^l2tpvm: init' "$log" || VM_BOOT_S=?
  # The guest prints this marker just before it powers off.
  if tr -d '\r' <"$log" | grep -q "^l2tpvm: scenario $scenario finished"; then VM_RC=0; fi
}

vm_secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'; }
