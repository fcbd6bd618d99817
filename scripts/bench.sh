#!/usr/bin/env bash
# make bench: the benchmarks, in the VM (table scale, then userspace_test bench for UDP, TCP
# and unix, the census with bpftrace beside it). RSM_BENCH_LIVE sets the big socket count
# (100000), RSM_BENCH_PARTS which run (scale bench netns-exit threads census), RSM_BENCH_ITERATIONS
# the pairs per round (2000); SVG plots land in the run dir. The bench and census parts run a
# second time in a VM under QEMU -icount (time counted in guest instructions):
# bookkeeping_over_raw_icount and census_on_over_off_icount.
#   usage: bench.sh [normal|debian]   (debian: Debian's own image, make bench KERNEL=debian)
source "$(dirname "$0")/lib/lib.sh"
source "$RSM_ROOT/scripts/lib/target.sh"
FLAVOUR=${1:-normal}
case $FLAVOUR in normal|debian) ;; *) rsm_die "bench: unknown kernel '$FLAVOUR' (normal|debian)" ;; esac
bash "$RSM_ROOT/scripts/setup.sh" "$([ "$FLAVOUR" = debian ] && echo debian || echo all)" --bench
rsm_target "$FLAVOUR"
OUT="$RSM_CACHE/runs/bench"; [ "$FLAVOUR" = normal ] || OUT="$OUT-$FLAVOUR"
rm -rf "$OUT"; mkdir -p "$OUT"
# guest_bench OUTDIR PARTS [ICOUNT]: one VM running the in-guest benchmarks.
guest_bench() {
    RSM_VM_MEMORY=${RSM_VM_MEMORY:-4G} bash "$RSM_ROOT/scripts/vm-run.sh" "$FLAVOUR" "$1" \
        "RSM_KVERSION=$KVERSION RSM_KO=${RSM_KO:-} RSM_OUT=$1 RSM_BENCH_LIVE=${RSM_BENCH_LIVE:-100000} RSM_BENCH_PARTS='$2' RSM_BENCH_ITERATIONS=${RSM_BENCH_ITERATIONS:-2000} RSM_BENCH_ICOUNT=${3:-0} bash $RSM_ROOT/scripts/guest/bench.sh"
}
guest_bench "$OUT" "${RSM_BENCH_PARTS:-}" | tee "$OUT/bench.txt"
# The ratios again under QEMU -icount, where time is instructions: the same ratios without the
# host's noise (timed runs of one build spread by about +-0.1 here), added to bench.json.
icount_parts=()
for p in bench census; do
    [[ " ${RSM_BENCH_PARTS:-$p} " == *" $p "* ]] && icount_parts+=("$p")
done
if [ ${#icount_parts[@]} -gt 0 ]; then
    RSM_VM_QEMU_OPTS="-icount shift=0,sleep=off" guest_bench "$OUT/icount" "${icount_parts[*]}" 1 \
        | tee "$OUT/bench-icount.txt"
    python3 - "$OUT" "${icount_parts[@]}" <<'EOF_PY'
import json, sys
out, parts = sys.argv[1], sys.argv[2:]
with open(f"{out}/bench.json") as f:
    summary = json.load(f)
with open(f"{out}/icount/bench.json") as f:
    counted = json.load(f)
keys = {"bench": "bookkeeping_over_raw", "census": "census_on_over_off"}
added = {f"{keys[p]}_icount": counted[keys[p]] for p in parts}
summary.update(added)
with open(f"{out}/bench.json", "w") as f:
    json.dump(summary, f, indent=2)
    f.write("\n")
print(json.dumps(added, indent=2))
EOF_PY
fi
