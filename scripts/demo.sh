#!/usr/bin/env bash
# make demo: set up if needed, boot the VM, load rust_sockmod and show /dev/rust_sockmod.
#   usage: demo.sh [normal|debian]   (debian: Debian's own kernel image, make demo KERNEL=debian)
source "$(dirname "$0")/lib/lib.sh"
source "$RSM_ROOT/scripts/lib/target.sh"
FLAVOUR=${1:-normal}
bash "$RSM_ROOT/scripts/setup.sh" "$([ "$FLAVOUR" = debian ] && echo debian || echo all)"
rsm_target "$FLAVOUR"
OUT="$RSM_CACHE/runs/demo-$FLAVOUR"; rm -rf "$OUT"; mkdir -p "$OUT"
bash "$RSM_ROOT/scripts/vm-run.sh" "$FLAVOUR" "$OUT" "RSM_KO=${RSM_KO:-} bash $RSM_ROOT/scripts/guest/demo.sh $OUT" | tee "$OUT/demo.txt"
