# shellcheck shell=bash
# plan: 15
# max_sockets: beyond it, ENOSPC; the table and counters stay consistent. Then the spare
# node pairs released sockets leave for the next creations.

check "rmmod before reloading with max_sockets=3" unload
check "insmod max_sockets=3" load max_sockets=3
check "limits line shows max_sockets=3" grep -q "^limits max_sockets=3 " "$DEV"
for _ in 1 2 3; do cmd "create inet dgram udp"; done
check "three sockets live" test "$(totals live)" = 3
expect_fail "the fourth create: ENOSPC" "No space left on device" cmd "create inet dgram udp"
check "ENOSPC counted as rejected, not as an attempt" test "$(totals rejected)-$(totals attempts)" = "1-3"
check "release one, create again" sh -c "echo 'release 2' > $DEV && echo 'create inet dgram udp' > $DEV"
check "the new socket got a fresh id (4)" grep -q "^socket id=4 " "$DEV"
u0=$(kmsg_count "rust_sockmod: released 3 sockets at unload")
check "rmmod with live sockets" unload
check "dmesg reports the sockets released at unload" \
    test "$(kmsg_count "rust_sockmod: released 3 sockets at unload")" -gt "$u0"
check "insmod again (default limits)" load
# Released sockets leave their table and index nodes as spares (at most 64 pairs), which the
# next creations take instead of allocating.
spares() { header_field limits spare_nodes; }
check "a fresh module keeps no spare nodes" test "$(spares)" = 0
for _ in $(seq 70); do cmd "create inet dgram udp"; done
cmd "release all"
check "70 sockets released: 64 node pairs kept as spares (the cap)" test "$(spares)" = 64
for _ in $(seq 10); do cmd "create inet dgram udp"; done
check "10 creations take 10 spare pairs instead of allocating" test "$(spares)" = 54
cmd "release all"
check "released again: back to 64" test "$(spares)" = 64
