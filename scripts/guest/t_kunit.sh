# shellcheck shell=bash
# plan: 2
# plan-kunit: 1
# KUnit: the module's #[kunit_tests] suites (parser, names, statistics, report lines) run each
# time it is loaded, printing KTAP to the kernel log (captured from boot in $KMSG_LOG). One check
# per test case of the source (a case that failed in any load fails), one that each suite
# reported its own result, one that every case of the source ran.

# kunit_cases: "SUITE CASE RESULT" for every case line of every run of a rust_sockmod_* suite,
# RESULT ok, skip or fail; "SUITE - RESULT" for each suite's own line.
kunit_cases() {
    sed -E 's/^\[ *[0-9]+\.[0-9]+\] //' "$KMSG_LOG" | awk '
        /^    # Subtest: rust_sockmod_/ { suite = $3; next }
        suite != "" && /^    (not )?ok [0-9]+ / {
            r = ($1 == "not") ? "fail" : (/# SKIP/ ? "skip" : "ok")
            print suite, ($1 == "not") ? $4 : $3, r; next
        }
        suite != "" && /^(not )?ok [0-9]+ rust_sockmod_/ {
            print suite, "-", ($1 == "not") ? "fail" : "ok"; suite = ""
        }'
}
# A kernel built without KUnit (Debian's own, say): #[kunit_tests] modules are compiled out
# (#[cfg(CONFIG_KUNIT="y")]), so the module carries no suites. Checked that both agree, the rest
# skipped with the reason.
if kconfig_off CONFIG_KUNIT; then
    check "kunit: the kernel has no KUnit, and the module carries no suites either" \
        bash -c "s=\$(readelf -SW '$KO') && ! grep -q '[.]kunit_test_suites' <<<\"\$s\""
    while read -r suite case; do ok "kunit: $suite.$case # SKIP the kernel has no KUnit (CONFIG_KUNIT unset)"; done < <(kunit_declared)
    ok "kunit: the cases of the source ran # SKIP the kernel has no KUnit (CONFIG_KUNIT unset)"
    return 0
fi
results=$(kunit_cases)
declared=$(kunit_declared)
while read -r suite case; do
    got=$(awk -v s="$suite" -v c="$case" '$1 == s && $2 == c { print $3 }' <<<"$results" | sort -u | paste -sd,)
    case $got in
        ok) ok "kunit: $suite.$case" ;;
        skip) ok "kunit: $suite.$case # SKIP skipped by KUnit" ;;
        "") not_ok "kunit: $suite.$case did not run" ;;
        *) not_ok "kunit: $suite.$case ($got over the loads so far)"
           grep -A3 "# $case: " "$KMSG_LOG" | head -n 12 | diag ;;
    esac
done <<<"$declared"
suites=$(awk '{ print $1 }' <<<"$declared" | sort -u)
bad=$(for s in $suites; do
    r=$(awk -v s="$s" '$1 == s && $2 == "-" { print $3 }' <<<"$results" | sort -u | paste -sd,)
    [ "$r" = ok ] || echo "$s:${r:-none}"
done)
if [ -z "$bad" ]; then ok "kunit: each of the $(wc -w <<<"$suites") suites reported ok on every load"
else not_ok "kunit: suites without an ok result: $bad"; fi
ran=$(awk '$2 != "-" { print $1, $2 }' <<<"$results" | sort -u)
check "kunit: the $(wc -l <<<"$declared") cases of the source ran, no other" \
    diff <(sort -u <<<"$declared") <(cat <<<"$ran")
