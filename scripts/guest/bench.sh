#!/usr/bin/env bash
# In-guest benchmarks (make bench): scale of the socket table, then the two paths compared
# (userspace_test bench) for three socket kinds, UDP first (docs/measurements.md), then the
# netns teardown hook with 10 and LIVE other sockets (netns-exit) and 2 threads against 1
# (threads, UDP). Prints figures and ratios, each set measured in one run; asserts nothing about
# time. The headline ratios go to $RSM_OUT/bench.json (printed at the end), assembled from each
# run's --json-out file.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${RSM_OUT:-/tmp}
UT="$ROOT/userspace_test/target/release/userspace_test"
# The kernel log captured from boot and scanned with the suite's own pattern (dmesg-check.sh).
KMSG_LOG="$OUT/kmsg-bench.log"
source "$ROOT/scripts/guest/dmesg-check.sh"
kmsg_start
LIVE=${RSM_BENCH_LIVE:-100000}
insmod "$ROOT/rust_sockmod.ko" max_sockets=$((LIVE + 1000)) census_max=$((LIVE + 1000))
for _ in $(seq 50); do [ -c /dev/rust_sockmod ] && break; sleep 0.1; done
ulimit -n 4096
echo "# scale: kernel $(uname -r) (linux-source ${RSM_KVERSION:-?}), $(nproc) cpus, TCG unless RSM_KVM=1"
"$UT" scale --small 10 --big "$LIVE" --pairs 2000 --rounds 5 --json-out "$OUT/scale.json"
for kind in "inet dgram udp" "inet stream tcp" "unix stream 0"; do
    echo
    echo "# bench: $kind"
    # shellcheck disable=SC2086
    "$UT" bench $kind --iterations "${RSM_BENCH_ITERATIONS:-2000}" --rounds 5 \
        --svg "$OUT/bench-${kind// /-}.svg" --json-out "$OUT/bench-${kind// /-}.json"
done
echo
echo "# netns-exit: teardown of a netns with 1 kernel socket, 10 vs $LIVE other live sockets"
"$UT" netns-exit --small 10 --big "$LIVE" --rounds 5 --json-out "$OUT/netns-exit.json"
echo
echo "# threads: inet dgram udp, 2 threads against 1"
"$UT" threads inet dgram udp --threads 2 --iterations 5000 --rounds 15 --json-out "$OUT/threads.json"
echo
echo "# census: socket()+close() and the raw kernel loop, census off and on (room for $((LIVE + 1000)))"
"$UT" census-bench --iterations "${RSM_BENCH_ITERATIONS:-2000}" --rounds 5 --json-out "$OUT/census.json"
# The headline figures in one file (the keys are fixed; "live" says what "100k" was).
python3 - "$OUT" "$LIVE" "$(uname -r)" <<'EOF_PY'
import json, sys
out, live, kernel = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def load(name):
    with open(f"{out}/{name}.json") as f:
        return json.load(f)
kinds = {"tcp": "inet-stream-tcp", "udp": "inet-dgram-udp", "unix": "unix-stream-0"}
summary = {
    "bookkeeping_over_raw": {k: load(f"bench-{f}")["bookkeeping_over_raw"] for k, f in kinds.items()},
    "threads2_over_threads1": load("threads")["threads2_over_threads1"],
    "netns_exit_100k_over_10": load("netns-exit")["netns_exit_big_over_small"],
    "scale_100k_over_10": load("scale")["ratio_big_over_small"],
    "census_on_over_off": {
        "syscall": load("census")["syscall_on_over_off"],
        "kernel": load("census")["kernel_on_over_off"],
        # The peer a user would reach for cannot run here: the test kernel is built without
        # CONFIG_BPF_SYSCALL (kconfig/base.config is lean), and bpftrace is not installed.
        "bpftrace_syscall": None,
    },
    "census_bytes_per_entry": load("census")["bytes_per_entry"],
    "census_memory_bytes": load("census")["memory_bytes"],
    "kernel": kernel,
    "live": live,
}
with open(f"{out}/bench.json", "w") as f:
    json.dump(summary, f, indent=2)
    f.write("\n")
EOF_PY
echo
echo "# $OUT/bench.json"
cat "$OUT/bench.json"
rmmod rust_sockmod
bad=$(kmsg_splats all); kmsg_stop
if [ -n "$bad" ]; then printf '%s\n' "$bad"; echo "dmesg: SPLAT"; exit 1; fi
echo "dmesg: clean"
