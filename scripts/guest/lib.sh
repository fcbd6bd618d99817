# shellcheck shell=bash
# Shared helpers for the in-guest tests. Source after tap.sh.
DEV=/dev/rust_sockmod

# totals FIELD: one counter from the report header.
totals() { head -n 3 "$DEV" | sed -n "s/^totals .*\b$1=\([0-9]*\).*/\1/p"; }
# socket_lines: the socket lines of the report.
socket_lines() { grep '^socket ' "$DEV"; }
# cmd TEXT: one text command; prints the shell's error on failure.
cmd() { printf '%s\n' "$1" > "$DEV"; }
# netns_inode PATH: the inode of an nsfs file.
netns_inode() { stat -L -c %i "$1"; }
# wait_for SECONDS 'SHELL CONDITION': poll until the condition holds; it is evaluated anew each
# time (pass it in single quotes, or escape the $(...) that must be re-run).
wait_for() {
    local t=$1; shift
    for _ in $(seq $((t * 10))); do eval "$*" && return 0; sleep 0.1; done
    return 1
}
load()   { insmod "$KO" "$@" && wait_for 5 '[ -c "$DEV" ]'; }
unload() { rmmod rust_sockmod; }
# time_left: seconds before the VM's time limit (RSM_VM_TIMEOUT, counted from boot), less a
# minute for the last checks and the shutdown.
time_left() { local up; up=$(cut -d. -f1 /proc/uptime); echo $(( ${RSM_VM_TIMEOUT:-100000} - 60 - up )); }
# fits LABEL SECONDS: true if a test estimated at SECONDS fits in the time left; otherwise a TAP
# skip line for it (test.sh counts skips apart from passes).
fits() {
    local left; left=$(time_left)
    [ "$left" -ge "$2" ] && return 0
    ok "$1 # SKIP needs about $2 s, $left s left before the VM time limit"
    return 1
}
