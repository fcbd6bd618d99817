# shellcheck shell=bash
# plan: 38
# plan-kmemleak: 1
# Stress, fault and fuzz tests (issue: hardening). Scale: RSM_SCALE=full (make test-debug and
# make hardening) or quick (make test). Every test is bounded in count and time and stops by
# itself; after each: no splat, the module's live count and the kernel's netns count at
# baseline; after the last (debug kernel): kmemleak clean. The kernel socket census is on
# throughout, so its probes fire for every socket the tests make.

SCALE=${RSM_SCALE:-quick}
if [ "$SCALE" = full ]; then
    STRESS_S=60; NETNS_CYCLES=100; MOD_CYCLES=200; FUZZ_ROOT=800000; FUZZ_UNPRIV=200000
    EST_STRESS=200; EST_NETNS=550; EST_MOD=850; EST_FUZZ=900
else
    STRESS_S=10; NETNS_CYCLES=10; MOD_CYCLES=10; FUZZ_ROOT=40000; FUZZ_UNPRIV=10000
    EST_STRESS=200; EST_NETNS=250; EST_MOD=250; EST_FUZZ=250
fi
echo "# hardening scale: $SCALE"
# Splats logged before this part are the run's final check's (it scans from boot): the first
# test's dmesg check must not report an earlier part's.
kmsg_splats > /dev/null
modproto_load
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
KMEMLEAK=/sys/kernel/debug/kmemleak
[ -w "$KMEMLEAK" ] && echo clear > "$KMEMLEAK"

# Network namespaces alive as the kernel's pernet hooks see them (the module counts inits and
# exits: "netns alive=N" in the report), once steady for 1 s (cleanup_net is asynchronous).
netns_count() {
    local prev=-1 now steady=0
    for _ in $(seq 150); do
        now=$(header_field netns alive)
        if [ "$now" = "$prev" ]; then steady=$((steady + 1)); [ $steady -ge 5 ] && break; else steady=0; fi
        prev=$now; sleep 0.2
    done
    echo "$now"
}
# begin: note the netns count before a test (earlier namespaces may still be dying, so each
# test is held to the count it started from: no more namespaces afterwards).
begin() { NETNS_BASE=$(netns_count); TEST_T0=$SECONDS; }

# after LABEL: the invariants every hardening test must leave behind.
after() {
    echo "# $1: test took $((SECONDS - TEST_T0)) s"
    local t1=$SECONDS
    check "$1: live sockets back to 0" test "$(totals live)" = 0
    # shellcheck disable=SC2016 # wait_for evaluates the condition itself.
    wait_for 10 '[ "$(netns_count)" -le "$NETNS_BASE" ]'
    local n; n=$(netns_count)
    check "$1: network namespaces back to at most the $NETNS_BASE before it (now $n)" test "$n" -le "$NETNS_BASE"
    dmesg_clean "$1"
    echo "# $1: checks took $((SECONDS - t1)) s"
}

# kmemleak_clean: one kmemleak check for all the tests (a scan of a debug kernel under TCG takes
# about a minute, and a leak needs two scans to be reported: its allocation backtrace, not the
# test it came after, says where it was made).
kmemleak_clean() {
    local t1=$SECONDS leaks
    # kmemleak reports only objects older than 5 s, unchanged since the scan before.
    sleep 6; echo scan > "$KMEMLEAK"; sleep 1; echo scan > "$KMEMLEAK"
    leaks=$(cat "$KMEMLEAK")
    if [ -z "$leaks" ]; then ok "kmemleak clean after the hardening tests"
    else not_ok "kmemleak clean after the hardening tests"; head -n 40 <<<"$leaks" | diag; echo clear > "$KMEMLEAK"; fi
    echo "# kmemleak: two scans took $((SECONDS - t1)) s"
}

# 1. Concurrent load: 4 threads across 3 netns.
h_stress() {
    ip netns add h1; ip netns add h2; ip netns add h3
    "$UT" stress --threads 4 --seconds "$STRESS_S" --netns /run/netns/h1,/run/netns/h2,/run/netns/h3 > "$OUT/stress.txt" 2>&1
    check "stress: 4 threads x ${STRESS_S} s, no unexpected error" test $? = 0
    diag < "$OUT/stress.txt"
    check "stress: attempts = ok + failed" test "$(totals attempts)" = $(( $(totals ok) + $(totals failed) ))
    check "stress: live equals the socket lines" test "$(socket_lines | wc -l)" = "$(totals live)"
    cmd "release all"; ip netns del h1; ip netns del h2; ip netns del h3
}

# 2. netns cycles: TCP and UDP kernel sockets of both models, some listening, and a socket of a
# family loaded as a module (a different one each cycle), then ip netns del.
h_netns_cycles() {
    local exits0 fails i ids name req mod
    exits0=$(totals released_netns_exit)
    fails=0
    for i in $(seq "$NETNS_CYCLES"); do
        ip netns add cyc || fails=$((fails + 1))
        cmd "create inet stream tcp netns=/run/netns/cyc" && cmd "create inet dgram udp netns=/run/netns/cyc" \
            && cmd "create inet6 stream tcp netns=/run/netns/cyc hold" && cmd "create inet dgram udp netns=/run/netns/cyc hold" \
            || fails=$((fails + 1))
        IFS='|' read -r name req mod _ <<<"${MODPROTO_FAMILIES[$((i % ${#MODPROTO_FAMILIES[@]}))]}"
        cmd "create $req netns=/run/netns/cyc" || { fails=$((fails + 1)); echo "# cycle $i: create $req failed"; }
        mapfile -t ids < <(socket_lines | grep "netns=$(netns_inode /run/netns/cyc) " | sed 's/^socket id=\([0-9]*\) .*/\1/')
        cmd "bind ${ids[0]} $((20000 + i))" && cmd "listen ${ids[0]}" && cmd "bind ${ids[1]} $((30000 + i))" || fails=$((fails + 1))
        ip netns del cyc || fails=$((fails + 1))
        # The hold sockets pin the netns: release them, then it dies and takes the other two.
        cmd "release ${ids[2]}"; cmd "release ${ids[3]}"
    done
    check "netns cycles: $NETNS_CYCLES cycles without a failed step" test "$fails" = 0
    if wait_for 30 "[ \"\$(totals released_netns_exit)\" = $((exits0 + 3 * NETNS_CYCLES)) ]"; then
        ok "netns cycles: every default socket released by netns exit ($((3 * NETNS_CYCLES)), a third of them of modular families)"
    else not_ok "netns cycles: every default socket released by netns exit"; head -n 3 "$DEV" | diag; fi
}

# 3. Module cycles with live sockets in several namespaces, one of a modular family each cycle
# (released by the unload's pernet unregistration, every protocol still registered).
h_module_cycles() {
    local fails i name req mod
    ip netns add m1; ip netns add m2
    fails=0
    for i in $(seq "$MOD_CYCLES"); do
        # shellcheck disable=SC2015 # Counted and stopped when either step fails, as meant.
        unload && load census=1 || { fails=$((fails + 1)); break; }
        cmd "create inet stream tcp netns=/run/netns/m1" && cmd "create inet dgram udp netns=/run/netns/m2 hold" \
            && cmd "create inet6 dgram udp" || fails=$((fails + 1))
        # shellcheck disable=SC2034 # name and mod name the fields; only req is used here.
        IFS='|' read -r name req mod _ <<<"${MODPROTO_FAMILIES[$((i % ${#MODPROTO_FAMILIES[@]}))]}"
        cmd "create $req netns=/run/netns/m1" || { fails=$((fails + 1)); echo "# cycle $i: create $req failed"; }
    done
    check "module cycles: $MOD_CYCLES insmod/rmmod cycles with 4 live sockets each (one of a modular family)" test "$fails" = 0
    cmd "release all"; ip netns del m1; ip netns del m2
}

# 4. rmmod while the device is open and while creates are in flight: refused, then clean.
# (rmmod while the device is merely open: t_load.sh.)
# Creators run far longer than the tries take (stopped by us afterwards), so the end of their
# run cannot race with an attempt. A try counts only if the creators were alive before and after
# it and held the module (refcnt > 0).
h_rmmod_in_flight() {
    local busy tries unloaded
    "$UT" stress --threads 2 --seconds 120 > /dev/null 2>&1 & busy=$!
    # Wait until the creators hold the device open (a slow debug kernel takes a while to start them).
    # shellcheck disable=SC2016 # wait_for evaluates the condition itself.
    wait_for 60 '[ "$(cat /sys/module/rust_sockmod/refcnt)" -gt 0 ]'
    tries=0; unloaded=0
    while kill -0 $busy 2>/dev/null && [ $tries -lt 5 ]; do
        if [ "$(cat /sys/module/rust_sockmod/refcnt)" -gt 0 ]; then
            if rmmod rust_sockmod 2>/dev/null; then unloaded=1; break; fi
            kill -0 $busy 2>/dev/null && tries=$((tries + 1))
        fi
        sleep 0.3
    done
    kill $busy 2>/dev/null; wait $busy 2>/dev/null
    # The loop stops at the first rmmod that succeeds, so every counted try was refused.
    check "rmmod during in-flight creates: refused $tries of $tries (at least 3 tries, never unloaded)" \
        test "$tries" -ge 3 -a "$unloaded" = 0
    # The killed creators' sockets stay in the table until rmmod releases them.
    # shellcheck disable=SC2016 # wait_for evaluates the condition itself.
    wait_for 10 '[ "$(cat /sys/module/rust_sockmod/refcnt)" = 0 ]'
    check "rmmod once the creators are gone" unload
    check "reload (census on)" load census=1
}

# 5. Allocation failures (failslab, task filter) during create and read.
h_failslab() {
    local FS FT caches c rc
    FS=/sys/kernel/debug/failslab
    if [ -d "$FS" ]; then
        # Only the marked task (task-filter) and only the socket caches (cache-filter): failing the
        # fuzzer's own page faults would kill it with SIGBUS and can take the 9p root down.
        # ignore-gfp-wait=N: GFP_KERNEL allocations may fail too.
        caches=""
        for c in sock_inode_cache TCP TCPv6 UDP UDPv6; do
            [ -w /sys/kernel/slab/$c/failslab ] && echo 1 > /sys/kernel/slab/$c/failslab && caches="$caches $c"
        done
        echo "# failslab on:$caches"
        echo Y > $FS/task-filter; echo Y > $FS/cache-filter; echo N > $FS/ignore-gfp-wait
        echo 20 > $FS/probability; echo 1 > $FS/interval; echo -1 > $FS/times; echo 0 > $FS/space; echo 0 > $FS/verbose
        # A marked task must not touch the 9p root or output directory (a failed 9p allocation
        # would take the mount down): outputs go to a private tmpfs first.
        FT=/run/rsm-failslab; mkdir -p $FT; mountpoint -q $FT || mount -t tmpfs none $FT
        cp "$UT" $FT/ut
        $FT/ut fuzz --make-it-fail --seed 99 --count 3000 > $FT/failslab.txt 2>&1
        rc=$?
        echo 0 > $FS/probability
        for c in $caches; do echo 0 > "/sys/kernel/slab/$c/failslab"; done
        [ "$rc" = 0 ] || { echo "# failslab fuzz exit $rc"; tail -n 20 $FT/failslab.txt | diag; dmesg | tail -n 30 | diag; }
        cp $FT/failslab.txt "$OUT/"
        check "failslab: every call under injected allocation failures returned a documented errno" test "$rc" = 0
        grep -E "ENOMEM|succeeded" "$OUT/failslab.txt" | diag
        check "failslab: ENOMEM was actually injected and reported" grep -q "ENOMEM" "$OUT/failslab.txt"
        cmd "release all"
        # Systematic (fail-nth): each fault point of each operation failed once in turn, in any
        # cache, the module's own kmalloc included (cache-filter off; GFP_KERNEL counts). The
        # program runs from the tmpfs and locks itself in memory: no armed point meets a page
        # fault on 9p. Silent (verbose 0): an injected failure is not a splat.
        for c in /sys/kernel/debug/fail*/verbose; do echo 0 > "$c"; done
        echo N > $FS/cache-filter
        $FT/ut failnth > $FT/failnth.txt 2>&1; rc=$?
        echo Y > $FS/cache-filter
        cp $FT/failnth.txt "$OUT/"
        check "fail-nth: each allocation of create (ioctl, text), report read, open and release failed in turn: results documented, counters consistent, nothing left live" test "$rc" = 0
        diag < "$OUT/failnth.txt"
        check "fail-nth: the module's own allocation was reached (a report read failed with ENOMEM)" \
            grep -q "^read the report .*ENOMEM" "$OUT/failnth.txt"
        # shellcheck disable=SC2016 # An awk program: awk expands it.
        check "fail-nth: a TCP create reached at least 3 fault points (socket, inode, module), ENOMEM among the results" \
            awk '/^ioctl create inet stream tcp / { for (i = 1; i < NF; i++) if ($(i+1) == "fault") n = $i; if (/ENOMEM/) e = 1 }
                 END { exit !(n >= 3 && e) }' "$OUT/failnth.txt"
        umount $FT
    elif kconfig_off CONFIG_FAILSLAB; then
        for c in "failslab: documented errnos" "failslab: ENOMEM injected" "fail-nth: every fault point" \
                 "fail-nth: the module's own allocation" "fail-nth: a TCP create's fault points"; do
            ok "$c # SKIP the kernel has no fault injection (CONFIG_FAILSLAB unset)"
        done
    else
        not_ok "failslab: $FS missing (CONFIG_FAILSLAB + debugfs)"
    fi
}

# 6. Fuzzing, seeded, as root and through an fd handed to an unprivileged user. Module
# autoloading is off meanwhile: random families would otherwise each spawn modprobe.
h_fuzz() {
    local old_modprobe
    old_modprobe=$(cat /proc/sys/kernel/modprobe); echo > /proc/sys/kernel/modprobe
    "$UT" fuzz --seed 20261124 --count "$FUZZ_ROOT" > "$OUT/fuzz-root.txt" 2>&1
    check "fuzz as root: $FUZZ_ROOT inputs, every result documented" test $? = 0
    diag < "$OUT/fuzz-root.txt"
    bash -c 'exec 9<>/dev/rust_sockmod; exec setpriv --reuid=65534 --regid=65534 --clear-groups "$0" fuzz --fd 9 --seed 7 --count "$1"' "$UT" "$FUZZ_UNPRIV" > "$OUT/fuzz-unpriv.txt" 2>&1
    check "fuzz as uid 65534 through a root-opened fd: $FUZZ_UNPRIV inputs, every result documented" test $? = 0
    capsh --drop=cap_net_admin,cap_net_raw -- -c "'$UT' fuzz --seed 8 --count $FUZZ_UNPRIV" > "$OUT/fuzz-nocap.txt" 2>&1
    check "fuzz without CAP_NET_ADMIN/CAP_NET_RAW: $FUZZ_UNPRIV inputs, every result documented" test $? = 0
    check "fuzz without CAP_NET_ADMIN: creates refused with EPERM" grep -q "EPERM" "$OUT/fuzz-nocap.txt"
    head -n 1 "$OUT/fuzz-unpriv.txt" "$OUT/fuzz-nocap.txt" | diag
    echo "$old_modprobe" > /proc/sys/kernel/modprobe
    cmd "release all"
}

# Each test: LABEL, function, estimated seconds on the debug kernel at this scale (test and
# checks, measured in CI here, rounded up), and the number of checks the test itself makes
# (after() adds 3: the part's plan at the top is their sum, plus the census's two checks). A test
# that would not fit before the VM's time limit is skipped, one SKIP line per planned check,
# rather than have the VM killed and every result lost.
hardening_test() {
    fits "$1" "$3" "$(( $4 + 3 ))" || return 0
    begin
    "$2"
    after "$1"
}
check "census on for the hardening tests" cmd "census on"
hardening_test "stress" h_stress "$EST_STRESS" 3
hardening_test "netns cycles" h_netns_cycles "$EST_NETNS" 2
hardening_test "module cycles" h_module_cycles "$EST_MOD" 1
hardening_test "rmmod in flight" h_rmmod_in_flight 120 3
hardening_test "failslab" h_failslab 120 5
hardening_test "fuzz" h_fuzz "$EST_FUZZ" 4
# The root fuzzer may turn the census off itself (RSM_IOC_CENSUS with a null argument is one of
# its inputs), so "on" is not asserted after it; that the census saw every destruction is.
check "census: the cross-check not MISMATCH after the tests; then off" \
    bash -c '! grep -q "result=MISMATCH" '"$DEV"' && printf "census off\n" > '"$DEV"
if [ -w "$KMEMLEAK" ]; then kmemleak_clean; fi
