# shellcheck shell=bash
# plan: 49
# Permissions: the device must not become a way around CAP_NET_ADMIN / CAP_NET_RAW.

drop() { local cap=$1; shift; capsh --drop="$cap" -- -c "$*"; }
expect_fail "no CAP_NET_ADMIN: create refused" "Operation not permitted" \
    drop cap_net_admin "echo 'create inet stream tcp' > $DEV"
expect_fail "no CAP_NET_RAW: inet raw icmp refused" "Operation not permitted" \
    drop cap_net_raw "echo 'create inet raw icmp' > $DEV"
expect_fail "no CAP_NET_RAW: packet dgram refused" "Operation not permitted" \
    drop cap_net_raw "echo 'create packet dgram 0' > $DEV"
check "no CAP_NET_RAW: inet dgram udp still allowed" drop cap_net_raw "echo 'create inet dgram udp' > $DEV"
check "root: inet raw icmp allowed" cmd "create inet raw icmp"
# The check uses the opener's credentials: a descriptor opened by root keeps working after the
# process drops the capability, one opened without it does not.
check "fd opened with CAP_NET_ADMIN works after dropping it" \
    sh -c "exec 9>$DEV; capsh --drop=cap_net_admin -- -c 'echo create inet dgram udp >&9'"
# The same over SCM_RIGHTS: a descriptor opened without CAP_NET_ADMIN, written by a process
# that has it, is refused; the same passing with an opener that keeps its capabilities works.
PASSFD=(python3 "$HERE/passfd.py")
check "fd opened with CAP_NET_ADMIN, passed over SCM_RIGHTS: create works" \
    "${PASSFD[@]}" write "$DEV" "create inet dgram udp" -- capsh --
expect_fail "fd opened without CAP_NET_ADMIN, passed to a writer that has it: refused" \
    "Operation not permitted" "${PASSFD[@]}" write "$DEV" "create inet dgram udp" -- capsh --drop=cap_net_admin --
expect_fail "unprivileged user cannot open the 0600 device" "Permission denied" \
    setpriv --reuid=65534 --regid=65534 --clear-groups sh -c "cat $DEV"
# (bash, not dash: dash reports every failed write as "I/O error".)
# A user namespace root has CAP_NET_ADMIN over its own netns only.
check "userns root: create in its own netns" unshare -U -r -n bash -c "echo 'create inet dgram udp' > $DEV"
expect_fail "userns root: create in the initial netns (pid=1) refused" "Operation not permitted" \
    unshare -U -r -n bash -c "echo 'create inet dgram udp pid=1' > $DEV"
expect_fail "userns root: the initial netns by path: its nsfs file cannot even be opened" "Permission denied" \
    unshare -U -r -n bash -c "echo 'create inet dgram udp netns=/proc/1/ns/net' > $DEV"
check "rejected counter counts the 6 refusals" test "$(totals rejected)" = 6
# RSM_IOC_BENCH creates sockets too: the same permission model, in every mode (it used to skip
# it in the RAW and STEP modes: kern=1 raw sockets and protocol autoload for anyone).
rej0=$(totals rejected); att0=$(totals attempts)
sleep 0.3; n0=$(dmesg | grep -c "rust_sockmod: create refused: no CAP_NET_ADMIN" || true)
for mode in $(seq 0 7); do
    expect_fail "bench mode $mode without CAP_NET_ADMIN/CAP_NET_RAW (bounding set): EPERM" "EPERM" \
        setpriv --bounding-set=-net_raw,-net_admin "$UT" probe bench --mode "$mode" inet raw icmp
    expect_fail "bench mode $mode of inet dgram udp without CAP_NET_ADMIN: EPERM" "EPERM" \
        drop cap_net_admin "$UT probe bench --mode $mode inet dgram udp"
    expect_fail "bench mode $mode of inet raw icmp with CAP_NET_ADMIN but no CAP_NET_RAW: EPERM" "EPERM" \
        drop cap_net_raw "$UT probe bench --mode $mode inet raw icmp"
    check "bench mode $mode of inet dgram udp without CAP_NET_RAW: allowed" \
        drop cap_net_raw "$UT probe bench --mode $mode inet dgram udp"
done
check "the 24 refused benches count in rejected" test "$(( $(totals rejected) - rej0 ))" = 24
check "no refused bench created a socket (attempts rose only by the allowed BOOKKEEPING/TABLE runs: 6)" \
    test "$(( $(totals attempts) - att0 ))" = 6
check "a refused bench left its dmesg line" test "$(dmesg | grep -c "rust_sockmod: create refused: no CAP_NET_ADMIN" || true)" -gt "$n0"
check "release all" cmd "release all"
