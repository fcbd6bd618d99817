#!/usr/bin/env bash
# In-guest test suite (runs as root inside the virtme-ng VM). Prints TAP.
# usage: run-tests.sh OUTDIR
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${1:-/tmp}
# RSM_KO: another build of the module (e.g. a deliberately broken scratch copy) under these tests.
KO=${RSM_KO:-$ROOT/rust_sockmod.ko}
UT="$ROOT/userspace_test/target/release/userspace_test"
source "$HERE/tap.sh"
source "$HERE/lib.sh"
source "$HERE/dmesg-check.sh"

echo "TAP version 13"
echo "# guest kernel $(uname -r), $(nproc) cpus"
dmesg_clean "boot, before the module"
dmesg > "$OUT/dmesg-boot.txt"
dmesg -C
mkdir -p /run/netns

# RSM_PARTS selects parts for a developer's run (default: all; "load" first, it loads the module).
for part in ${RSM_PARTS:-load text netns perm boundaries modproto limits concurrency compare hardening}; do
    echo "# --- $part"
    part_t0=$SECONDS
    source "$HERE/t_$part.sh"
    echo "# --- $part took $((SECONDS - part_t0)) s (suite at $SECONDS s)"
done

echo "# --- unload"
check "rmmod at the end" unload
check "device node removed" test ! -e "$DEV"
dmesg_clean "after the whole suite"
dmesg > "$OUT/dmesg.txt"
tap_done
[ "$TAP_FAIL" = 0 ]
