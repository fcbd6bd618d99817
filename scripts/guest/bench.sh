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
# RSM_BENCH_PARTS: which benchmarks (default all); a part not run is null in bench.json.
PARTS=" ${RSM_BENCH_PARTS:-scale bench netns-exit threads census} "
part() { [[ "$PARTS" == *" $1 "* ]]; }
insmod "${RSM_KO:-$ROOT/rust_sockmod.ko}" max_sockets=$((LIVE + 1000)) census_max=$((LIVE + 1000))
for _ in $(seq 50); do [ -c /dev/rust_sockmod ] && break; sleep 0.1; done
ulimit -n 4096
# Under QEMU -icount (RSM_BENCH_ICOUNT=1, the host's second run: bench and census) the clock
# counts instructions: the figures are deterministic, so one round is the figure.
rounds=5
if [ "${RSM_BENCH_ICOUNT:-0}" = 1 ]; then
    echo "# under QEMU -icount shift=0: every 'ns' below is one guest instruction"
    rounds=1
fi
echo "# scale: kernel $(uname -r) (linux-source ${RSM_KVERSION:-?}), $(nproc) cpus, TCG unless RSM_KVM=1"
part scale && "$UT" scale --small 10 --big "$LIVE" --pairs 2000 --rounds 5 --json-out "$OUT/scale.json"
part bench && for kind in "inet dgram udp" "inet stream tcp" "unix stream 0"; do
    echo
    echo "# bench: $kind"
    # shellcheck disable=SC2086
    "$UT" bench $kind --iterations "${RSM_BENCH_ITERATIONS:-2000}" --rounds "$rounds" \
        --svg "$OUT/bench-${kind// /-}.svg" --json-out "$OUT/bench-${kind// /-}.json"
done
if part netns-exit; then
    echo
    echo "# netns-exit: teardown of a netns with 1 kernel socket, 10 vs $LIVE other live sockets"
    "$UT" netns-exit --small 10 --big "$LIVE" --rounds 5 --json-out "$OUT/netns-exit.json"
fi
if part threads; then
    echo
    echo "# threads: inet dgram udp, 2 threads against 1"
    "$UT" threads inet dgram udp --threads 2 --iterations 5000 --rounds 15 --json-out "$OUT/threads.json"
fi
peer_why="the census part was not run (RSM_BENCH_PARTS)"
part census && {
echo
echo "# census: socket()+close() and the raw kernel loop, census off and on (room for $((LIVE + 1000))), and bpftrace keeping the same table (scripts/guest/census-peer.bt)"
# bpftrace's reason when it cannot run here (its first error line), in bench.json.
peer_why=""
census_bench=("$UT" census-bench --iterations "${RSM_BENCH_ITERATIONS:-2000}" --rounds "$rounds" --json-out "$OUT/census.json")
if ! command -v bpftrace >/dev/null; then
    peer_why="bpftrace is not installed (make bench installs it: setup.sh --bench)"
elif ! "${census_bench[@]}" --bpftrace "$ROOT/scripts/guest/census-peer.bt" 2> "$OUT/census-bench.err"; then
    peer_why=$(grep -m1 . "$OUT/census-bench.err" || echo "census-bench --bpftrace failed without a message")
    echo "# census-bench with bpftrace failed: $peer_why"
fi
[ -z "$peer_why" ] || "${census_bench[@]}"
}
# The headline figures in one file (the keys are fixed; "live" says what "100k" was).
python3 - "$OUT" "$LIVE" "$(uname -r)" "$peer_why" <<'EOF_PY'
import json, sys
out, live, kernel, peer_why = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def load(name):
    try:
        with open(f"{out}/{name}.json") as f:
            return json.load(f)
    except FileNotFoundError:
        return {}  # a part RSM_BENCH_PARTS left out: its figures are null
kinds = {"tcp": "inet-stream-tcp", "udp": "inet-dgram-udp", "unix": "unix-stream-0"}
summary = {
    "bookkeeping_over_raw": {k: load(f"bench-{f}").get("bookkeeping_over_raw") for k, f in kinds.items()},
    "threads2_over_threads1": load("threads").get("threads2_over_threads1"),
    "netns_exit_100k_over_10": load("netns-exit").get("netns_exit_big_over_small"),
    "scale_100k_over_10": load("scale").get("ratio_big_over_small"),
    "census_on_over_off": {
        "syscall": load("census").get("syscall_on_over_off"),
        "kernel": load("census").get("kernel_on_over_off"),
        # The peer a user would reach for, in the same run: null, and why, when it could not run.
        "bpftrace_syscall": (load("census").get("bpftrace") or {}).get("syscall_on_over_off"),
        "bpftrace_kernel": (load("census").get("bpftrace") or {}).get("kernel_on_over_off"),
    },
    "bpftrace": (load("census").get("bpftrace") or {}).get("version") or f"not run: {peer_why}",
    "census_bytes_per_entry": load("census").get("bytes_per_entry"),
    "census_memory_bytes": load("census").get("memory_bytes"),
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
