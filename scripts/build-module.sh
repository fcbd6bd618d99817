#!/usr/bin/env bash
# Builds rust_sockmod.ko against KDIR and the userspace_test binary.
#   usage: build-module.sh KDIR | --userspace-only   (the latter: Debian's kernel, whose module
#   debian-module.sh builds)
source "$(dirname "$0")/lib/lib.sh"
KDIR=${1:-$(rsm_kernel_link normal)}
if [ "$KDIR" != --userspace-only ]; then
    log="$RSM_LOGS/module-build.log"
    make -C "$RSM_ROOT" KDIR="$KDIR" modules >"$log" 2>&1 || rsm_die "module: build against $KDIR failed" "$log"
    grep -E '^(warning|error)' "$log" | head -n 20 >&2 || true
    # shellcheck disable=SC2012 # One known file; ls -l gives its size.
    rsm_log "module: $(ls -l "$RSM_ROOT/rust_sockmod.ko" | awk '{print $5}') bytes, built against $(readlink -f "$KDIR")"
fi
log="$RSM_LOGS/userspace-build.log"
(cd "$RSM_ROOT/userspace_test" && cargo build --release --locked) >"$log" 2>&1 \
    || rsm_die "userspace_test: cargo build failed" "$log"
rsm_log "userspace_test: built"
