#!/usr/bin/env bash
# In-guest test suite (runs as root inside the virtme-ng VM). Prints TAP, with the plan first:
# every part declares its number of checks ("# plan: N" at its top; t_hardening.sh adds one
# per test with kmemleak), each part runs in a subshell and is followed by a check that it
# printed exactly that many and exited 0, so a part that stops early fails the run.
# usage: run-tests.sh OUTDIR
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${1:-/tmp}
# RSM_KO: another build of the module (e.g. a deliberately broken scratch copy) under these tests.
KO=${RSM_KO:-$ROOT/rust_sockmod.ko}
# shellcheck disable=SC2034 # Used by the parts (t_*.sh), which are sourced below.
UT="$ROOT/userspace_test/target/release/userspace_test"
KMSG_LOG="$OUT/kmsg.log"
source "$HERE/tap.sh"
source "$HERE/lib.sh"
source "$HERE/dmesg-check.sh"
# rsm_tap_count: the host's TAP counter (the guest sees the project's tree).
source "$ROOT/scripts/lib/tap-count.sh"

# RSM_PARTS selects parts for a developer's run (default: all; "load" first, it loads the module).
PARTS=${RSM_PARTS:-load kunit text trace netns perm census boundaries modproto limits concurrency compare hardening}
# RSM_SHUFFLE=SEED: the parts after "load" in an order drawn from SEED (the same seed, the same
# order): every part sets up what it needs and leaves the module, the protocol modules and the
# counters as it found them, so any order must pass. Except one thing no part can undo: compare
# and hardening create sctp and vsock sockets, and those modules then cannot be unloaded, while
# modproto's checks that a protocol module is loaded after rust_sockmod, by its first create,
# need them not loaded yet (they skip, saying so, when they are: 2 to 4 skips in CI, by seed).
# So modproto runs right after load, and the rest in a drawn order.
if [ -n "${RSM_SHUFFLE:-}" ]; then
    # shellcheck disable=SC2086 # One part name a word.
    PARTS=$(printf '%s\n' $PARTS | awk -v seed="$RSM_SHUFFLE" \
        'BEGIN { srand(seed) } $0 == "load" { print "-2\tload"; next }
         $0 == "modproto" { print "-1\tmodproto"; next } { print rand() "\t" $0 }' \
        | sort -n | cut -f2 | paste -sd' ')
fi
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
# The plan: the boot check, each part's checks and its completion check, the 3 final checks.
plan=4
declare -A PLAN
for part in $PARTS; do
    PLAN[$part]=$(part_plan "$HERE/t_$part.sh") || { echo "Bail out! t_$part.sh declares no plan"; exit 1; }
    plan=$((plan + PLAN[$part] + 1))
done
echo "TAP version 13"
echo "1..$plan"
echo "# guest kernel $(uname -r) (linux-source ${RSM_KVERSION:-?}), $(nproc) cpus, parts: $PARTS${RSM_SHUFFLE:+ (shuffled, RSM_SHUFFLE=$RSM_SHUFFLE)}"
kmsg_start
dmesg_clean "boot, before the module"
dmesg -C
mkdir -p /run/netns

for part in $PARTS; do
    echo "# --- $part"
    part_t0=$SECONDS
    want=${PLAN[$part]}
    # shellcheck source=/dev/null # The parts are checked on their own.
    ( source "$HERE/t_$part.sh" ) | tee "$OUT/part-$part.tap"
    rc=${PIPESTATUS[0]}
    read -r p_pass p_fail p_skip < <(rsm_tap_count "$OUT/part-$part.tap")
    got=$((p_pass + p_fail + p_skip))
    TAP_FAIL=$((TAP_FAIL + p_fail))
    TAP_N=$((TAP_N + got))
    if [ "$rc" = 0 ] && [ "$got" = "$want" ]; then ok "part $part: its $want planned checks ran, exit 0"
    else not_ok "part $part: $got of $want planned checks ran, exit $rc"; fi
    echo "# --- $part took $((SECONDS - part_t0)) s (suite at $SECONDS s)"
done

echo "# --- unload"
check "rmmod at the end" unload
check "device node removed" test ! -e "$DEV"
dmesg_clean "the whole run, from boot" all
dmesg > "$OUT/dmesg.txt"
kmsg_stop
tap_done
[ "$TAP_FAIL" = 0 ] && [ "$TAP_N" = "$plan" ]
