# shellcheck shell=bash
# Minimal TAP helpers for the in-guest tests. Source it.
TAP_N=0; TAP_FAIL=0
ok()      { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $*"; }
not_ok()  { TAP_N=$((TAP_N + 1)); TAP_FAIL=$((TAP_FAIL + 1)); echo "not ok $TAP_N - $*"; }
diag()    { sed 's/^/# /'; }
# check DESCRIPTION COMMAND...: ok when the command succeeds; its output is shown on failure.
check() {
    local desc=$1 out; shift
    if out=$("$@" 2>&1); then ok "$desc"; else not_ok "$desc"; printf '%s\n' "$out" | tail -n 20 | diag; fi
}
# expect_fail DESCRIPTION ERRTEXT COMMAND...: ok when the command fails and says ERRTEXT.
expect_fail() {
    local desc=$1 want=$2 out; shift 2
    if out=$("$@" 2>&1); then
        not_ok "$desc (unexpectedly succeeded)"; printf '%s\n' "$out" | tail -n 5 | diag
    elif grep -q -- "$want" <<<"$out"; then ok "$desc"
    else not_ok "$desc (wanted '$want')"; printf '%s\n' "$out" | tail -n 5 | diag; fi
}
tap_done() { echo "# guest: $((TAP_N - TAP_FAIL)) passed, $TAP_FAIL failed, $TAP_N reported"; }
# part_plan FILE: the number of checks a part declares ("# plan: N" in its first lines, plus
# "# plan-kmemleak: M" when this kernel has kmemleak, plus "# plan-kunit: M" per KUnit test case
# of the module's source, $ROOT/src/*.rs).
part_plan() {
    local n k
    n=$(sed -n '1,10s/^# plan: \([0-9]*\)$/\1/p' "$1")
    [ -n "$n" ] || return 1
    k=$(sed -n '1,10s/^# plan-kmemleak: \([0-9]*\)$/\1/p' "$1")
    if [ -n "$k" ] && [ -w /sys/kernel/debug/kmemleak ]; then n=$((n + k)); fi
    k=$(sed -n '1,10s/^# plan-kunit: \([0-9]*\)$/\1/p' "$1")
    [ -z "$k" ] || n=$((n + k * $(kunit_declared | wc -l)))
    echo "$n"
}
# kunit_declared: "SUITE CASE" for every #[test] inside a #[kunit_tests(SUITE)] module of the
# module's source ($ROOT/src/*.rs).
kunit_declared() {
    awk 'FNR == 1 { s = "" }
        /^#\[.*kunit_tests\(/ { s = $0; sub(/.*kunit_tests\(/, "", s); sub(/\).*/, "", s) }
        s != "" && /#\[test\]/ { t = 1; next }
        t && /fn [a-z_0-9]+/ { n = $0; sub(/.*fn /, "", n); sub(/\(.*/, "", n); print s, n; t = 0 }' \
        "$ROOT"/src/*.rs
}
