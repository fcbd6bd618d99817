#!/usr/bin/env bash
# make bench: the benchmarks, in the VM (table scale, then userspace_test bench for UDP, TCP
# and unix). RSM_BENCH_LIVE sets the big socket count (100000); SVG plots land in the run dir.
source "$(dirname "$0")/lib/lib.sh"
source "$RSM_ROOT/scripts/lib/target.sh"
bash "$RSM_ROOT/scripts/setup.sh"
rsm_target normal
OUT="$RSM_CACHE/runs/bench"; rm -rf "$OUT"; mkdir -p "$OUT"
RSM_VM_MEMORY=${RSM_VM_MEMORY:-4G} bash "$RSM_ROOT/scripts/vm-run.sh" normal "$OUT" \
    "RSM_KVERSION=$KVERSION RSM_OUT=$OUT RSM_BENCH_LIVE=${RSM_BENCH_LIVE:-100000} bash $RSM_ROOT/scripts/guest/bench.sh" | tee "$OUT/bench.txt"
