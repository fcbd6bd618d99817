#!/usr/bin/env bash
# In-guest benchmarks (make bench): scale of the socket table, then the two paths compared
# (userspace_test bench) for three socket kinds, UDP first (the README's figures). Prints
# figures and ratios, each set measured in one run; asserts nothing about time.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
UT="$ROOT/userspace_test/target/release/userspace_test"
# The kernel log captured from boot and scanned with the suite's own pattern (dmesg-check.sh).
KMSG_LOG="${RSM_OUT:-/tmp}/kmsg-bench.log"
source "$ROOT/scripts/guest/dmesg-check.sh"
kmsg_start
LIVE=${RSM_BENCH_LIVE:-100000}
insmod "$ROOT/rust_sockmod.ko" max_sockets=$((LIVE + 1000))
for _ in $(seq 50); do [ -c /dev/rust_sockmod ] && break; sleep 0.1; done
ulimit -n 4096
echo "# scale: kernel $(uname -r) (linux-source ${RSM_KVERSION:-?}), $(nproc) cpus, TCG unless RSM_KVM=1"
"$UT" scale --small 10 --big "$LIVE" --pairs 2000 --rounds 5
for kind in "inet dgram udp" "inet stream tcp" "unix stream 0"; do
    echo
    echo "# bench: $kind"
    # shellcheck disable=SC2086
    "$UT" bench $kind --iterations "${RSM_BENCH_ITERATIONS:-2000}" --rounds 5 \
        --svg "${RSM_OUT:-/tmp}/bench-${kind// /-}.svg"
done
rmmod rust_sockmod
bad=$(kmsg_splats all); kmsg_stop
if [ -n "$bad" ]; then printf '%s\n' "$bad"; echo "dmesg: SPLAT"; exit 1; fi
echo "dmesg: clean"
