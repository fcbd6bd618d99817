#!/usr/bin/env bash
# Self-test of rsm_tap_count (scripts/lib/tap-count.sh), run by hand: sample TAP files with
# known counts, each also counted the way test.sh counted before the function (grep), which
# must agree. TAP on stdout; exit 1 when a count is wrong. Boots nothing, builds nothing.
set -euo pipefail
source "$(dirname "$0")/lib/tap-count.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
n=0; bad=0
# expect DESCRIPTION FILE "PASS FAIL SKIP"
expect() {
    local got; n=$((n + 1)); got=$(rsm_tap_count "$2")
    if [ "$got" = "$3" ]; then echo "ok $n - $1: $got"
    else echo "not ok $n - $1: got '$got', want '$3'"; bad=$((bad + 1)); fi
}
# The counts of test.sh before rsm_tap_count, from the same file.
grep_counts() {
    local p f s
    p=$(grep '^ok ' "$1" | grep -vc '# SKIP' || true)
    f=$(grep -c '^not ok ' "$1" || true)
    s=$(grep '^ok ' "$1" | grep -c '# SKIP' || true)
    echo "$p $f $s"
}

# Passes (numbered or not, as the host checks print them), failures (one marked # SKIP: still a
# failure), skips, and lines that are no result: the plan, diagnostics, indented and "okay"
# lines, a Bail out!. The last line has no newline.
printf '%s\n' 'TAP version 13' '1..9' 'ok 1 - a' 'not ok 2 - b' '# not ok 2 - in a diagnostic' \
    'ok 3 - c # SKIP not built' '  ok 4 - indented' 'ok - lint: shellcheck' 'okay' \
    'not ok 5 - e # SKIP on a failure' 'ok - deb: x' 'ok 7 - f # SKIP needs about 300 s' \
    'Bail out! stopped' > "$tmp/sample.tap"
printf 'not ok 8 - g' >> "$tmp/sample.tap"
expect "sample: 3 passed, 3 failed, 2 skipped" "$tmp/sample.tap" "3 3 2"
expect "sample: as grep counted it" "$tmp/sample.tap" "$(grep_counts "$tmp/sample.tap")"
n=$((n + 1)); seen=$(grep -cE '^(not )?ok ' "$tmp/sample.tap")
read -r p f s < <(rsm_tap_count "$tmp/sample.tap")
if [ $((p + f + s)) = "$seen" ]; then echo "ok $n - sample: the sum is the lines reported ($seen)"
else echo "not ok $n - sample: the sum $((p + f + s)) is not the $seen lines reported"; bad=$((bad + 1)); fi
: > "$tmp/empty.tap"
expect "an empty file" "$tmp/empty.tap" "0 0 0"
expect "a missing file" "$tmp/missing.tap" "0 0 0"
printf '%s\n' 'ok 1 - a' 'ok 2 - b' > "$tmp/pass.tap"
expect "passes only" "$tmp/pass.tap" "2 0 0"
expect "passes only: as grep counted them" "$tmp/pass.tap" "$(grep_counts "$tmp/pass.tap")"
echo "# tap-count: $((n - bad)) passed, $bad failed"
[ "$bad" = 0 ]
