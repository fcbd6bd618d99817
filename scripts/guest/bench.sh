#!/usr/bin/env bash
# In-guest benchmarks (make bench): scale of the socket table. Prints figures and ratios
# measured in one run; asserts nothing about time.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
UT="$ROOT/userspace_test/target/release/userspace_test"
LIVE=${RSM_BENCH_LIVE:-100000}
insmod "$ROOT/rust_sockmod.ko" max_sockets=$((LIVE + 1000))
for _ in $(seq 50); do [ -c /dev/rust_sockmod ] && break; sleep 0.1; done
ulimit -n 4096
echo "# scale: kernel $(uname -r), $(nproc) cpus, TCG unless RSM_KVM=1"
"$UT" scale --small 10 --big "$LIVE" --pairs 2000 --rounds 5
rmmod rust_sockmod
if dmesg | grep -E 'BUG:|WARNING:|Oops|KASAN|refcount_t:|kmemleak|lockdep'; then echo "dmesg: SPLAT"; exit 1; fi
echo "dmesg: clean"
