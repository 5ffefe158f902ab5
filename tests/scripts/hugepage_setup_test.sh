#!/usr/bin/env bash
# Tests for the top-level hugepage-setup script. Prints PASS/FAIL/SKIP lines
# and exits non-zero if anything failed.
#
# The reservation tests change real kernel state, so they run only as root,
# only where the kernel lets us, and only when no 2 MB hugepages are reserved
# already (someone else's DPDK may be using them). They use a private mount
# point, and a trap puts nr_hugepages and the mounts back as they were, even
# when a test fails or the run is interrupted.
set -euo pipefail

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
script=$(realpath -- "$here/../../hugepage-setup")
readonly size_dir=/sys/kernel/mm/hugepages/hugepages-2048kB
cd /  # nothing below depends on the caller's directory
readonly state_file=/run/hugepage-setup.mounts

failures=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1${2:+: $2}"; failures=$((failures + 1)); }
skip() { echo "SKIP: $1: $2"; }

work=$(mktemp -d)
saved_pages=""
mount_dir=""

# shellcheck disable=SC2317  # called from the EXIT trap
cleanup() {
  if [[ -n $mount_dir ]]; then
    while awk -v d="$mount_dir" '$3 == "hugetlbfs" && $2 == d { f = 1 } END { exit !f }' /proc/mounts; do
      umount -- "$mount_dir" || break
    done
    if [[ -f $state_file ]]; then
      awk -F '\t' -v d="$mount_dir" '$1 != d' "$state_file" >"$work/state"
      if [[ -s $work/state ]]; then cat "$work/state" >"$state_file"; else rm -f "$state_file"; fi
    fi
    rmdir -- "$mount_dir" 2>/dev/null || true
  fi
  if [[ -n $saved_pages ]]; then
    echo "$saved_pages" >"$size_dir/nr_hugepages" || true
  fi
  rm -rf -- "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# run NAME ARGS...: runs the script, leaves rc, out and err behind.
run() {
  rc=0
  "$@" >"$work/out" 2>"$work/err" || rc=$?
  out=$(cat "$work/out")
  err=$(cat "$work/err")
}

hugetlbfs_count_at() {
  awk -v d="$1" '$3 == "hugetlbfs" && $2 == d { n++ } END { print n + 0 }' /proc/mounts
}

# --- --help -----------------------------------------------------------------

run "$script" --help
if ((rc == 0)) && [[ $out == *Usage:* && $out == *--teardown* ]]; then
  pass help
else
  fail help "rc=$rc"
fi

run "$script" --no-such-option
if ((rc != 0)) && [[ $err == *"unknown argument"* ]]; then
  pass rejects-unknown-option
else
  fail rejects-unknown-option "rc=$rc"
fi

run "$script" --pages twelve
if ((rc != 0)) && [[ $err == *"non-negative integer"* ]]; then
  pass rejects-bad-page-count
else
  fail rejects-bad-page-count "rc=$rc"
fi

# --- not root ---------------------------------------------------------------

# A copy everybody can read, run from /, so the unprivileged user is not
# stopped by the permissions of the checkout before the script's own check.
cp -- "$script" "$work/hugepage-setup"
chmod 0755 "$work" "$work/hugepage-setup"
if ((EUID != 0)); then
  run "$work/hugepage-setup" --pages 8
  as_user="as uid $EUID"
elif command -v setpriv >/dev/null; then
  run setpriv --reuid=65534 --regid=65534 --clear-groups -- "$work/hugepage-setup" --pages 8
  as_user="via setpriv"
elif command -v su >/dev/null && id nobody >/dev/null 2>&1; then
  run su nobody -s /bin/bash -c "cd / && '$work/hugepage-setup' --pages 8"
  as_user="via su nobody"
else
  rc=""
fi
if [[ -z $rc ]]; then
  skip non-root-refused "neither setpriv nor su is available"
elif ((rc != 0)) && [[ $err == *"hugepage-setup: must run as root"* ]]; then
  pass non-root-refused
else
  fail non-root-refused "$as_user: rc=$rc err=$err"
fi

# --- --status ---------------------------------------------------------------

run "$script" --status
if ((rc == 0)) && [[ $out == *nr_hugepages=* || $out == *"not supported"* ]] &&
  [[ $out == *"hugetlbfs mounts:"* || $out == *"not supported"* ]]; then
  pass status
else
  fail status "rc=$rc out=$out"
fi

# --- reserve, again, teardown (root only) -----------------------------------

reason=""
if ((EUID != 0)); then
  reason="not root"
elif [[ ! -d $size_dir ]]; then
  reason="no 2 MB hugepage support in this kernel"
elif [[ ! -w $size_dir/nr_hugepages ]]; then
  reason="$size_dir/nr_hugepages is not writable (read-only /sys?)"
elif (($(cat "$size_dir/nr_hugepages") != 0)); then
  reason="$(cat "$size_dir/nr_hugepages") 2 MB hugepages already reserved; not disturbing them"
fi

if [[ -n $reason ]]; then
  for t in reserve idempotent teardown-refuses-in-use teardown restores-previous teardown-to-count; do
    skip "$t" "$reason"
  done
else
  saved_pages=$(cat "$size_dir/nr_hugepages")
  mount_dir=$(realpath -m -- "$work/hugepages")
  mkdir -p -- "$mount_dir"

  run "$script" --pages 8 --mount "$mount_dir"
  if ((rc != 0)) && [[ $err == *"kernel gave only"* || $err == *"could not mount"* ]]; then
    reason="the kernel refused: $err"
    for t in reserve idempotent teardown-refuses-in-use teardown restores-previous teardown-to-count; do
      skip "$t" "$reason"
    done
  else
    nr=$(cat "$size_dir/nr_hugepages")
    opts=$(awk -v d="$mount_dir" '$3 == "hugetlbfs" && $2 == d { print $4 }' /proc/mounts)
    if ((rc == 0 && nr == 8)) && [[ ,$opts, == *,pagesize=2M,* ]]; then
      pass reserve
    else
      fail reserve "rc=$rc nr_hugepages=$nr mount options='$opts' err=$err"
    fi

    run "$script" --pages 8 --mount "$mount_dir"
    nr=$(cat "$size_dir/nr_hugepages")
    mounts=$(hugetlbfs_count_at "$mount_dir")
    if ((rc == 0 && nr == 8 && mounts == 1)) && [[ $out == *"already reserved"* && $out == *"already mounted"* ]]; then
      pass idempotent
    else
      fail idempotent "rc=$rc nr_hugepages=$nr mounts=$mounts out=$out"
    fi

    # DPDK leaves rtemap_* files in the mount while it runs.
    touch -- "$mount_dir/rtemap_0"
    run "$script" --teardown --mount "$mount_dir"
    mounts=$(hugetlbfs_count_at "$mount_dir")
    nr=$(cat "$size_dir/nr_hugepages")
    if ((rc != 0 && mounts == 1 && nr == 8)) && [[ $err == *"in use"* ]]; then
      pass teardown-refuses-in-use
    else
      fail teardown-refuses-in-use "rc=$rc mounts=$mounts nr_hugepages=$nr err=$err"
    fi
    rm -f -- "$mount_dir/rtemap_0"

    run "$script" --teardown --mount "$mount_dir"
    mounts=$(hugetlbfs_count_at "$mount_dir")
    nr=$(cat "$size_dir/nr_hugepages")
    if ((rc == 0 && mounts == 0 && nr == 0)); then
      pass teardown
    else
      fail teardown "rc=$rc mounts=$mounts nr_hugepages=$nr err=$err"
    fi
    if ((nr == saved_pages)) && ! grep -q -- "$mount_dir" "$state_file" 2>/dev/null; then
      pass restores-previous
    else
      fail restores-previous "nr_hugepages=$nr, was $saved_pages"
    fi

    # A test that adds pages to those already reserved gives back only its
    # own (tests/integration/dumpcap.sh): --teardown --pages N.
    run "$script" --pages 6 --mount "$mount_dir"
    run "$script" --teardown --pages 2 --mount "$mount_dir"
    mounts=$(hugetlbfs_count_at "$mount_dir")
    nr=$(cat "$size_dir/nr_hugepages")
    if ((rc == 0 && mounts == 0 && nr == 2)) && ! grep -q -- "$mount_dir" "$state_file" 2>/dev/null; then
      pass teardown-to-count
    else
      fail teardown-to-count "rc=$rc mounts=$mounts nr_hugepages=$nr err=$err"
    fi
    run "$script" --teardown --mount "$mount_dir"
    nr=$(cat "$size_dir/nr_hugepages")
    ((nr == saved_pages)) || fail teardown-to-count "left nr_hugepages=$nr, was $saved_pages"
  fi
fi

if ((failures)); then
  echo "$failures test(s) failed"
  exit 1
fi
exit 0
