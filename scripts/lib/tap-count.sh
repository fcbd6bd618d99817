# shellcheck shell=bash
# Counting the results in a file of TAP lines (test.sh, deb-test.sh, guest/run-tests.sh).
# Source it; do not run it.
# It needs nothing else (no lib.sh, no settings, no shell options) and only awk.

# rsm_tap_count FILE: prints "PASS FAIL SKIP": PASS the "ok" lines not marked "# SKIP", FAIL the
# "not ok" lines (marked or not), SKIP the "ok" lines marked "# SKIP". Only lines that begin so
# count: diagnostics ("# ..."), the plan and anything indented do not. Their sum is the number
# of results reported. A file that cannot be read counts "0 0 0" (always one line: the callers
# read it under set -e). Unlike grep, awk counts lines of a file that holds a NUL byte or
# bytes that are not UTF-8 (console noise) too.
rsm_tap_count() {
    awk '/^ok / { if (/# SKIP/) s++; else p++ } /^not ok / { f++ } END { print p + 0, f + 0, s + 0 }' \
        "$1" 2>/dev/null || echo "0 0 0"
}
