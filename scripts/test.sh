#!/usr/bin/env bash
# make test: set up what is missing, build kernel/module/userspace_test, run the host unit tests
# and the VM suite, and end with "N passed, N failed, N skipped".
#   usage: test.sh [normal|debug|debian]   (debian: Debian's own kernel image, make test KERNEL=debian)
source "$(dirname "$0")/lib/lib.sh"
FLAVOUR=${1:-normal}
t0=$(date +%s)

source "$RSM_ROOT/scripts/lib/target.sh"
source "$RSM_ROOT/scripts/lib/tap-count.sh"

# One suite per source tree at a time: each builds the module and userspace_test in the tree,
# and a second one of the same kernel would also wipe the first one's run directory. (Suites of
# two trees sharing one cache still share that directory: run one at a time.)
mkdir -p "$RSM_CACHE/runs"
exec 7>"$RSM_CACHE/runs/.suite-$(sha256sum <<<"$RSM_ROOT" | cut -c1-12).lock"
flock -n 7 || rsm_die "test ($FLAVOUR): another suite is running on $RSM_ROOT; wait for it"

bash "$RSM_ROOT/scripts/setup.sh" "$([ "$FLAVOUR" = debian ] && echo debian || echo all)"
rsm_target "$FLAVOUR"
KDIR=$RSM_KDIR

# (virtme-ng's --rwdir takes no '~' or '+', which Debian versions have.)
OUT="$RSM_CACHE/runs/$FLAVOUR-$(tr -c 'A-Za-z0-9.\n-' _ <<<"$KVERSION")"
rm -rf "$OUT"; mkdir -p "$OUT"
passed=0; failed=0

if [ "$FLAVOUR" = debian ]; then
    # The sources are make test's own: cargo test and the lints run there. Here: is the module
    # made for this kernel, and does the check say so when one is not.
    echo "# host: checks of the module built for Debian's kernel (cargo test and lints: make test)"
    bash "$RSM_ROOT/scripts/debian-checks.sh" "$RSM_DEBIAN_DIR" "$RSM_KO" | tee "$OUT/debian.tap" || true
    # A skipped check counts in no total (the summary's skips are the VM suite's).
    read -r d_pass d_fail d_skip < <(rsm_tap_count "$OUT/debian.tap")
    [ $((d_pass + d_fail + d_skip)) = 5 ] || { echo "not ok - debian: debian-checks.sh stopped early"; d_fail=$((d_fail + 1)); }
    passed=$((passed + d_pass)); failed=$((failed + d_fail))
    # The DKMS package on a trixie root with this image, natively (loading it: make deb-test).
    echo "# host: the DKMS package in a trixie chroot (scripts/deb-check.sh)"
    # shellcheck disable=SC2016 # expanded by bash -c.
    krel=$(bash -c '. "$1"; echo "$KREL"' sh "$RSM_DEBIAN_DIR/kernel.env")
    bash "$RSM_ROOT/scripts/deb-check.sh" "$krel" | tee "$OUT/deb.tap" || true
    # (deb-check.sh marks no check # SKIP; one so marked would count as passed here.)
    read -r d_pass d_fail d_skip < <(rsm_tap_count "$OUT/deb.tap")
    [ $((d_pass + d_fail + d_skip)) = 11 ] || { echo "not ok - deb: deb-check.sh stopped early"; d_fail=$((d_fail + 1)); }
    passed=$((passed + d_pass + d_skip)); failed=$((failed + d_fail))
else
    # The host checks (cargo test, lints) run beside the VM suite, on the core its guest leaves
    # idle most of the time; their lines print, and count, after the suite. (They build nothing
    # the guest runs: no integration tests, so cargo test does not relink userspace_test, and
    # clippy only checks.)
    host_checks() {
        echo "# host: cargo test (userspace_test)"
        if (cd "$RSM_ROOT/userspace_test" && cargo test --release --locked) >"$OUT/cargo-test.log" 2>&1; then
            echo "ok - host: cargo test"
        else
            echo "not ok - host: cargo test (log: $OUT/cargo-test.log)"; tail -n 30 "$OUT/cargo-test.log" | sed 's/^/# /'
        fi
        echo "# host: lints"
        bash "$RSM_ROOT/scripts/lint.sh" "$KDIR" > "$OUT/lint.tap" || true
    }
    host_checks > "$OUT/host.out" 2>&1 &
    host_pid=$!
fi

# --- VM tests ----------------------------------------------------------------------------------
echo "# vm ($FLAVOUR, linux-source $KVERSION): booting $KDIR"
# RSM_DEADLINE (epoch seconds; .ci/run sets it from its 90 minutes): the VM gets what is left,
# less a minute for the summary. Otherwise a fixed bound, longer for the slow debug kernel.
if [ -n "${RSM_DEADLINE:-}" ]; then
    export RSM_VM_TIMEOUT=$(( RSM_DEADLINE - $(date +%s) - 60 ))
    [ "$RSM_VM_TIMEOUT" -gt 300 ] || RSM_VM_TIMEOUT=300
    # The normal suite takes 3-5 min: a hang there must not eat the debug suite's time.
    [ "$FLAVOUR" != debug ] && [ "$RSM_VM_TIMEOUT" -gt 1200 ] && RSM_VM_TIMEOUT=1200
fi
[ "$FLAVOUR" = debug ] && export RSM_VM_TIMEOUT=${RSM_VM_TIMEOUT:-4800}
export RSM_VM_TIMEOUT=${RSM_VM_TIMEOUT:-1200}
echo "# vm: time limit ${RSM_VM_TIMEOUT} s"
set +e
# The plans. make test (normal, debian): every part but hardening (stress, fuzz, fault
# injection: the debug plan runs them, where KASAN and lockdep watch). make test-debug (the CI
# plan of the debug kernel): every part but compare and trace (timing and tracing measurements,
# which the three normal suites run; on the debug kernel they took 5-7 min of the VM) and perm
# (permission verdicts, which the three normal suites check; 5 min of the debug VM; the refusal
# paths still run there under KASAN, through the hardening's unprivileged and capability-less
# fuzzers), hardening at quick scale. make soak (RSM_PLAN=soak, by hand): every part on the debug
# kernel, hardening at full scale. RSM_PARTS and RSM_SCALE override.
ALL_PARTS="load kunit text trace netns perm census boundaries modproto limits concurrency compare hardening"
if [ "${RSM_PLAN:-}" = soak ]; then
    [ "$FLAVOUR" = debug ] || rsm_die "test: the soak plan runs on the debug kernel (make soak)"
    scale=${RSM_SCALE:-full}; parts=${RSM_PARTS:-$ALL_PARTS}
elif [ "$FLAVOUR" = debug ]; then
    scale=${RSM_SCALE:-quick}; parts=${RSM_PARTS:-$(sed 's/ trace / /; s/ compare / /; s/ perm / /' <<<"$ALL_PARTS")}
else
    scale=${RSM_SCALE:-quick}; parts=${RSM_PARTS:-${ALL_PARTS% hardening}}
fi
echo "# plan: ${RSM_PLAN:-$FLAVOUR}, hardening scale $scale, parts: $parts${RSM_SHUFFLE:+ (shuffled after load, RSM_SHUFFLE=$RSM_SHUFFLE)}"
# The normal kernel has no KASAN: slub_debug=FZPU poisons freed objects (a use-after-free then
# oopses visibly) unless the caller chose otherwise.
[ "$FLAVOUR" != debug ] && export RSM_VM_APPEND=${RSM_VM_APPEND-slub_debug=FZPU}
bash "$RSM_ROOT/scripts/vm-run.sh" "$FLAVOUR" "$OUT" \
    "RSM_KVERSION=$KVERSION RSM_KO=${RSM_KO:-} RSM_SCALE=$scale RSM_VM_TIMEOUT=$RSM_VM_TIMEOUT RSM_PARTS='$parts' RSM_SHUFFLE='${RSM_SHUFFLE:-}' bash $RSM_ROOT/scripts/guest/run-tests.sh $OUT" | tee "$OUT/guest.tap"
vm_rc=${PIPESTATUS[0]}
set -e
read -r g_pass g_fail g_skip < <(rsm_tap_count "$OUT/guest.tap")
[ "$g_skip" = 0 ] || echo "# vm: $g_skip tests skipped (not counted as passed): $(grep '^ok .*# SKIP' "$OUT/guest.tap" | sed 's/^ok [0-9]* - //' | paste -sd';')"
# The guest prints its plan first ("1..N", the sum of every part's declared checks): tests that
# were planned but never reported (a part or the VM that stopped early) count as failed.
g_plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$OUT/guest.tap" | head -n 1)
g_seen=$((g_pass + g_fail + g_skip))
if [ -z "$g_plan" ]; then
    echo "not ok - vm: the guest suite printed no plan (exit $vm_rc; console: $OUT/vm-console.log)"
    tail -n 30 "$OUT/vm-console.log" | sed 's/^/# /'
    g_fail=$((g_fail + 1))
elif [ "$g_seen" != "$g_plan" ]; then
    echo "not ok - vm: $g_seen of $g_plan planned tests reported (exit $vm_rc; console: $OUT/vm-console.log)"
    tail -n 30 "$OUT/vm-console.log" | sed 's/^/# /'
    missing=$((g_plan - g_seen)); [ "$missing" -gt 0 ] || missing=1
    g_fail=$((g_fail + missing))
elif [ "$vm_rc" != 0 ] && [ "$g_fail" = 0 ]; then
    echo "not ok - vm: guest exited $vm_rc with no failing test"; g_fail=$((g_fail + 1))
fi
passed=$((passed + g_pass)); failed=$((failed + g_fail))

if [ -n "${host_pid:-}" ]; then
    wait "$host_pid"
    cat "$OUT/host.out"
    # cargo test: its own counts, and one failure when it did not even build.
    h_pass=$(grep -Eo 'test result: [a-zA-Z]+\. [0-9]+ passed' "$OUT/cargo-test.log" | awk '{s+=$4} END {print s+0}')
    h_fail=$(grep -Eo '[0-9]+ failed;' "$OUT/cargo-test.log" | awk '{s+=$1} END {print s+0}')
    grep -q 'test result:' "$OUT/cargo-test.log" || h_fail=$((h_fail + 1))
    echo "# host: cargo test: $h_pass passed, $h_fail failed"
    passed=$((passed + h_pass)); failed=$((failed + h_fail))
    # The lints (every result line of lint.sh is "ok - lint: ..." or "not ok - lint: ...").
    cat "$OUT/lint.tap"
    read -r l_pass l_fail l_skip < <(rsm_tap_count "$OUT/lint.tap")
    passed=$((passed + l_pass + l_skip)); failed=$((failed + l_fail))
    grep -q '^ok - lint: cargo clippy' "$OUT/lint.tap" || grep -q '^not ok - lint: cargo clippy' "$OUT/lint.tap" \
        || { echo "not ok - lint: lint.sh stopped early"; failed=$((failed + 1)); }
fi
echo "# $(cat "$OUT/vm-time" 2>/dev/null), total $(( $(date +%s) - t0 )) s"
echo "# kernel $FLAVOUR linux-source $KVERSION"
echo "$passed passed, $failed failed, $g_skip skipped"
[ "$failed" = 0 ]
