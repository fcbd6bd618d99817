#!/usr/bin/env bash
# make demo: set up if needed, boot the VM, load rust_sockmod and show /dev/rust_sockmod.
source "$(dirname "$0")/lib.sh"
bash "$RSM_ROOT/scripts/setup.sh"
KDIR=$(bash "$RSM_ROOT/scripts/build-kernel.sh" normal)
export RSM_KDIR=$KDIR
bash "$RSM_ROOT/scripts/build-module.sh" "$KDIR"
OUT="$RSM_CACHE/runs/demo"; rm -rf "$OUT"; mkdir -p "$OUT"
bash "$RSM_ROOT/scripts/vm-run.sh" normal "$OUT" "bash $RSM_ROOT/scripts/guest/demo.sh $OUT" | tee "$OUT/demo.txt"
