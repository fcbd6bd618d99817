#!/usr/bin/env bash
# make bench: the benchmarks, in the VM (table scale, then userspace_test bench for UDP, TCP
# and unix, the census with bpftrace beside it). RSM_BENCH_LIVE sets the big socket count
# (100000), RSM_BENCH_PARTS which run (scale bench netns-exit threads census), RSM_BENCH_ITERATIONS
# the pairs per round (2000); SVG plots land in the run dir.
#   usage: bench.sh [normal|debian]   (debian: Debian's own image, make bench KERNEL=debian)
source "$(dirname "$0")/lib/lib.sh"
source "$RSM_ROOT/scripts/lib/target.sh"
FLAVOUR=${1:-normal}
case $FLAVOUR in normal|debian) ;; *) rsm_die "bench: unknown kernel '$FLAVOUR' (normal|debian)" ;; esac
bash "$RSM_ROOT/scripts/setup.sh" "$([ "$FLAVOUR" = debian ] && echo debian || echo all)" --bench
rsm_target "$FLAVOUR"
OUT="$RSM_CACHE/runs/bench"; [ "$FLAVOUR" = normal ] || OUT="$OUT-$FLAVOUR"
rm -rf "$OUT"; mkdir -p "$OUT"
RSM_VM_MEMORY=${RSM_VM_MEMORY:-4G} bash "$RSM_ROOT/scripts/vm-run.sh" "$FLAVOUR" "$OUT" \
    "RSM_KVERSION=$KVERSION RSM_KO=${RSM_KO:-} RSM_OUT=$OUT RSM_BENCH_LIVE=${RSM_BENCH_LIVE:-100000} RSM_BENCH_PARTS='${RSM_BENCH_PARTS:-}' RSM_BENCH_ITERATIONS=${RSM_BENCH_ITERATIONS:-2000} bash $RSM_ROOT/scripts/guest/bench.sh" | tee "$OUT/bench.txt"
