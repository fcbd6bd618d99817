# shellcheck shell=bash
# Shared helpers for the in-guest tests. Source after tap.sh.
DEV=/dev/rust_sockmod

# header_field LINE FIELD: one number from the report header's LINE (totals, limits, netns).
header_field() { head -n 5 "$DEV" | sed -n "s/^$1 .*\b$2=\([0-9]*\).*/\1/p"; }
# totals FIELD: one counter of the header's totals line.
totals() { header_field totals "$1"; }
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
# shellcheck disable=SC2016 # wait_for evaluates the condition itself.
load()   { insmod "$KO" "$@" && wait_for 5 '[ -c "$DEV" ]'; }
unload() { rmmod rust_sockmod; }
# time_left: seconds before the VM's time limit (RSM_VM_TIMEOUT, counted from boot), less a
# minute for the last checks and the shutdown.
time_left() { local up; up=$(cut -d. -f1 /proc/uptime); echo $(( ${RSM_VM_TIMEOUT:-100000} - 60 - up )); }
# fits LABEL SECONDS CHECKS: true if a test estimated at SECONDS fits in the time left;
# otherwise one TAP skip line for each of its CHECKS (test.sh counts skips apart from passes).
fits() {
    local left i; left=$(time_left)
    [ "$left" -ge "$2" ] && return 0
    for i in $(seq "$3"); do ok "$1 ($i/$3) # SKIP needs about $2 s, $left s left before the VM time limit"; done
    return 1
}
# Socket families the test kernels build as modules (kconfig/base.config):
# name | create arguments | module that provides the socket | how it gets loaded.
# "autoload": __sock_create's request_module("net-pf-N") (or inet's "net-pf-2-proto-P-type-T",
# can's "can-proto-P") finds the module's alias. "modprobe": tipc and rds declare no net-pf
# alias in 7.2 (rds has it commented out), so no socket() loads them: someone loads them by
# name, here after rust_sockmod, as on a distribution host.
MODPROTO_FAMILIES=(
    "tipc|tipc rdm 0|tipc|modprobe"
    "sctp|inet stream sctp|sctp|autoload"
    "l2tp|inet dgram l2tp|l2tp_ip|autoload"
    "vsock|vsock stream 0|vsock|autoload"
    "kcm|kcm dgram 0|kcm|autoload"
    "rds|rds seqpacket 0|rds|modprobe"
    "can|can raw 1|can_raw|autoload"
    "alg|alg seqpacket 0|af_alg|autoload"
    "key|key raw 2|af_key|autoload"
    "phonet|phonet dgram 0|phonet|autoload"
)
# modproto_load: load the families nothing autoloads (for tests that run without t_modproto).
modproto_load() {
    local spec name req mod how
    for spec in "${MODPROTO_FAMILIES[@]}"; do
        # shellcheck disable=SC2034 # name and req name the fields; only mod and how are used here.
        IFS='|' read -r name req mod how <<<"$spec"
        [ "$how" = modprobe ] && modprobe "$mod"
    done
    return 0
}

# kconfig_off OPTION: true only when the running kernel's configuration is found (/proc/config.gz,
# or the file a distribution kernel ships in /lib/modules/VERSION or /boot) and OPTION is not
# set in it; with no configuration to read it is false (the test runs).
kconfig_off() {
    local f c
    if [ -r /proc/config.gz ]; then
        c=$(zcat /proc/config.gz) || return 1
        ! grep -q "^$1=[ym]" <<<"$c"; return
    fi
    for f in "/lib/modules/$(uname -r)/config" "/boot/config-$(uname -r)"; do
        [ -r "$f" ] && { ! grep -q "^$1=[ym]" "$f"; return; }
    done
    return 1
}
