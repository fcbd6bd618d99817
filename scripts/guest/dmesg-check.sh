# shellcheck shell=bash
# dmesg_clean LABEL: a TAP check that the kernel log has no splat; prints offending lines.
# Report markers only: the debug kernel's banners ("RCU lockdep checking is enabled",
# "kmemleak: Kernel memory leak detector initialized") are not reports.
DMESG_SPLAT='BUG:|WARNING:|Oops|KASAN|refcount_t:|suspected memory leak|possible circular locking|possible recursive locking|inconsistent lock state|bad unlock balance|lock held when returning|suspicious RCU usage|UBSAN|Kernel panic|general protection fault|Call Trace:|rust_kernel: panicked'
dmesg_clean() {
    local bad
    bad=$(dmesg | grep -E "$DMESG_SPLAT" || true)
    if [ -z "$bad" ]; then ok "dmesg clean ($1)"; else
        not_ok "dmesg clean ($1)"; printf '%s\n' "$bad" | head -n 40 | diag
        dmesg | grep -E -B5 -A30 "$DMESG_SPLAT" | head -n 120 | diag
    fi
}
