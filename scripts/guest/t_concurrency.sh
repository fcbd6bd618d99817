# shellcheck shell=bash
# plan: 6
# Concurrent openers creating, releasing, reading and issuing text commands at once.

ip netns add c1; ip netns add c2
# One process per iteration (grep): forks are what is slow on the debug kernel.
worker() {
    local ns=$1 n=0 ino line id
    ino=$(stat -L -c %i "/run/netns/$ns")
    while [ $n -lt 100 ]; do
        echo "create inet dgram udp netns=/run/netns/$ns" > "$DEV" 2>/dev/null
        echo "create inet stream tcp netns=/run/netns/$ns hold" > "$DEV" 2>/dev/null
        line=$(grep -m1 "^socket .*netns=$ino " "$DEV"); id=${line#socket id=}; id=${id%% *}
        [ -n "$id" ] && echo "release $id" > "$DEV" 2>/dev/null
        n=$((n + 1))
    done
}
reader() { for _ in $(seq 100); do cat "$DEV" > /dev/null || echo READ-FAILED; done; }
worker c1 & w1=$!; worker c2 & w2=$!
reader > "$OUT/reader.log" & r1=$!
"$UT" devtest --shared > "$OUT/devtest-concurrent.log" 2>&1 & d1=$!
wait $w1 $w2 $r1; wait $d1; devtest_rc=$?
check "concurrent readers never failed" test ! -s "$OUT/reader.log"
check "devtest passes while other openers work" test "$devtest_rc" = 0
live=$(totals live)
check "live counter equals the number of socket lines ($live)" test "$(socket_lines | wc -l)" = "$live"
check "attempts = ok + failed after concurrency" \
    test "$(totals attempts)" = $(( $(totals ok) + $(totals failed) ))
check "release all after concurrency" cmd "release all"
ip netns del c1; ip netns del c2
check "live is 0" test "$(totals live)" = 0
