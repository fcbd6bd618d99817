# shellcheck shell=bash
# The kernel log as the tests see it: captured continuously from boot (/dev/kmsg copied into
# $KMSG_LOG by kmsg-capture.py), so that neither `dmesg -C` nor a flood of later messages can
# hide an early splat (the ring is 256 KiB), and the one splat pattern every guest script scans
# it with. Source it after setting KMSG_LOG.
# Report markers only: the debug kernel's banners ("RCU lockdep checking is enabled",
# "kmemleak: Kernel memory leak detector initialized") are not reports.
DMESG_SPLAT='BUG:|WARNING:|Oops|KASAN|refcount_t:|suspected memory leak|possible circular locking|possible recursive locking|inconsistent lock state|bad unlock balance|lock held when returning|suspicious RCU usage|UBSAN|Kernel panic|general protection fault|Call Trace:|rust_kernel: panicked|detected stall|blocked for more than|soft lockup|hard LOCKUP|rsm-kmsg: records lost'

# kmsg_start: starts the capture (idempotent) and waits for its first lines.
kmsg_start() {
    [ -n "${KMSG_PID:-}" ] && return 0
    : > "$KMSG_LOG"; echo 0 > "$KMSG_LOG.scanned"
    # The sync markers are writes to /dev/kmsg, which are rate-limited by default.
    echo on > /proc/sys/kernel/printk_devkmsg
    python3 "$(dirname "${BASH_SOURCE[0]}")/kmsg-capture.py" "$KMSG_LOG" & KMSG_PID=$!
    kmsg_sync
}
# kmsg_count PATTERN: how many lines of the kernel log since boot match PATTERN, counted in
# $KMSG_LOG (synced first), not in `dmesg`: the ring wraps (256 KiB), so after an earlier part's
# flood a line logged now can push out an older matching one and a before/after count taken
# with `dmesg` stays the same; the capture only grows.
kmsg_count() { kmsg_sync; grep -c -- "$1" "$KMSG_LOG" || true; }
kmsg_stop() { [ -n "${KMSG_PID:-}" ] || return 0; kill "$KMSG_PID" 2>/dev/null; wait "$KMSG_PID" 2>/dev/null || true; KMSG_PID=; }
# kmsg_sync: everything logged before this call is in $KMSG_LOG when it returns (a marker
# record is written and waited for, up to 20 s).
kmsg_sync() {
    local mark="rsm-kmsg-sync $$-$RANDOM-$SECONDS"
    echo "$mark" > /dev/kmsg
    for _ in $(seq 200); do grep -qF "$mark" "$KMSG_LOG" && return 0; sleep 0.1; done
    echo "rsm-kmsg: records lost (capture did not show its sync marker within 20 s)" >> "$KMSG_LOG"
}
# kmsg_splats [all]: the splat lines logged since the previous scan (or since boot, with
# "all"); the scan position is kept in a file, so parts run in subshells share it.
kmsg_splats() {
    local from=0 to
    kmsg_sync
    to=$(wc -l < "$KMSG_LOG")
    [ "${1:-}" = all ] || from=$(cat "$KMSG_LOG.scanned")
    echo "$to" > "$KMSG_LOG.scanned"
    KMSG_WINDOW="$((from + 1)),${to}p"
    sed -n "$KMSG_WINDOW" "$KMSG_LOG" | grep -E "$DMESG_SPLAT" || true
}
# dmesg_clean LABEL [all]: a TAP check that the kernel log has no splat since the previous
# check (or since boot); prints the offending lines and their context.
dmesg_clean() {
    local bad
    kmsg_splats "${2:-}" > "$KMSG_LOG.bad"; bad=$(cat "$KMSG_LOG.bad")
    if [ -z "$bad" ]; then ok "dmesg clean ($1)"; else
        not_ok "dmesg clean ($1)"; printf '%s\n' "$bad" | head -n 40 | diag
        sed -n "$KMSG_WINDOW" "$KMSG_LOG" | grep -E -B5 -A30 "$DMESG_SPLAT" | head -n 120 | diag
    fi
}
