# shellcheck shell=bash
# plan: 90
# Permissions: the device must not become a way around CAP_NET_ADMIN / CAP_NET_RAW, for a
# create and for every operation on a socket (bind, listen, release, release all) and on the
# statistics (reset).

drop() { local cap=$1; shift; capsh --drop="$cap" -- -c "$*"; }
rej_start=$(totals rejected)
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
check "rejected counter counts the 6 refusals" test "$(( $(totals rejected) - rej_start ))" = 6
# RSM_IOC_BENCH creates sockets too: the same permission model, in every mode (it used to skip
# it in the RAW and STEP modes: kern=1 raw sockets and protocol autoload for anyone).
rej0=$(totals rejected); att0=$(totals attempts)
sleep 0.3; n0=$(kmsg_count "rust_sockmod: create refused: no CAP_NET_ADMIN")
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
check "a refused bench left its dmesg line" test "$(kmsg_count "rust_sockmod: create refused: no CAP_NET_ADMIN")" -gt "$n0"
check "release all" cmd "release all"

# --- Operations on existing sockets: the opener's CAP_NET_ADMIN over the socket's netns (reset:
# over the initial user namespace). Two sockets of the initial netns, owned by full root.
# as_who WHO SCRIPT: runs SCRIPT in bash with the device as fd 9 (`t TEXT` writes a text command
# to it; `$U ARGS` runs userspace_test on it, the ioctl way), as WHO:
#   userns  a user namespace's root in its own netns, which opened the device itself
#   nocap   root without CAP_NET_ADMIN, which opened it itself
#   passed  full root, through a descriptor a process without CAP_NET_ADMIN opened (SCM_RIGHTS)
#   given   root without CAP_NET_ADMIN, through a descriptor full root opened (SCM_RIGHTS)
as_who() {
    local script="t() { echo \"\$1\" >&9; }; U='$UT --device-fd 9'; $2"
    case $1 in
        userns) unshare -Urn bash -c "exec 9<>$DEV; $script" ;;
        nocap) capsh --drop=cap_net_admin -- -c "exec 9<>$DEV; $script" ;;
        passed) "${PASSFD[@]}" pass "$DEV" capsh --drop=cap_net_admin -- :: bash -c "$script" ;;
        given) "${PASSFD[@]}" pass "$DEV" bash :: capsh --drop=cap_net_admin -- -c "$script" ;;
    esac
}
# live ID...: every given socket id is in the report.
live() { local id; for id in "$@"; do socket_lines | grep -q "^socket id=$id " || return 1; done; }
listening() { [ -n "$(ss -ltnH 'sport = :8095')" ]; }
unchanged() { ! listening && live "$a" "$b"; }
cmd "create inet stream tcp"; a=$(socket_lines | tail -n 1 | sed 's/^socket id=\([0-9]*\) .*/\1/')
cmd "create inet dgram udp"; b=$(socket_lines | tail -n 1 | sed 's/^socket id=\([0-9]*\) .*/\1/')
check "two sockets of full root in the initial netns (tcp $a, udp $b)" live "$a" "$b"
sleep 0.3; n0=$(kmsg_count "refused: no CAP_NET_ADMIN over the socket's netns")
r0=$(kmsg_count "reset refused: no CAP_NET_ADMIN over the initial user namespace")
# Every refused operation once, in one run per actor (each start of a process costs seconds
# under TCG): one line "NAME ok|fail: OUTPUT" each.
r_def="r() { local n=\$1 out; shift; if out=\$(\"\$@\" 2>&1); then echo \"\$n ok: \$out\"; else echo \"\$n fail: \$out\"; fi; }"
refused_ops="$r_def
r bind t 'bind $a 8095'; r listen t 'listen $a'; r release t 'release $b'; r reset t 'reset stats'
r ioc-release \$U release $b; r ioc-reset \$U reset; r release-all t 'release all'; r ioc-release-all \$U release all"
for who in userns nocap passed; do
    rej0=$(totals rejected); att0=$(totals attempts)
    res=$(as_who "$who" "$refused_ops" 2>&1)
    check "$who: bind $a refused" grep -q "^bind fail: .*Operation not permitted" <<<"$res"
    check "$who: listen $a refused" grep -q "^listen fail: .*Operation not permitted" <<<"$res"
    check "$who: release $b refused" grep -q "^release fail: .*Operation not permitted" <<<"$res"
    check "$who: reset stats refused" grep -q "^reset fail: .*Operation not permitted" <<<"$res"
    check "$who: RSM_IOC_RELEASE of $b refused (EPERM)" grep -q "^ioc-release fail: .*EPERM" <<<"$res"
    check "$who: RSM_IOC_RESET_STATS refused (EPERM)" grep -q "^ioc-reset fail: .*EPERM" <<<"$res"
    check "$who: release all (text) succeeds" grep -q "^release-all ok: " <<<"$res"
    check "$who: RSM_IOC_RELEASE all releases none of full root's sockets (released=0)" \
        grep -qx "ioc-release-all ok: released=0" <<<"$res"
    check "$who: nothing changed: both sockets live, port 8095 not listening" unchanged
    check "$who: the 6 refusals counted in rejected, the statistics not reset" \
        test "$(( $(totals rejected) - rej0 )):$(totals attempts)" = "6:$att0"
    [ "$TAP_FAIL" = 0 ] || diag <<<"$res"
done
check "the refusals left their ratelimited dmesg lines" \
    test "$(kmsg_count "refused: no CAP_NET_ADMIN over the socket's netns")" -gt "$n0"
check "dmesg names the refused reset" \
    test "$(kmsg_count "reset refused: no CAP_NET_ADMIN over the initial user namespace")" -gt "$r0"
# Allowed: a user namespace's root on its own netns's sockets (text and ioctl), and its
# release all takes only those.
# shellcheck disable=SC2016 # The script expands its own variables.
check "userns root on its own netns's sockets: create 3, bind + listen + release (text), release (ioctl), release all takes the last" \
    as_who userns 'ns=$(stat -L -c %i /proc/self/ns/net)
        t "create inet stream tcp" && t "create inet dgram udp" && t "create inet dgram udp" || exit 11
        set -- $(grep "^socket .* netns=$ns " /dev/rust_sockmod | sed "s/^socket id=\([0-9]*\) .*/\1/")
        [ $# = 3 ] || exit 12
        t "bind $1 8096" && t "listen $1" && t "release $1" || exit 13
        [ "$($U release "$2")" = released=1 ] || exit 14
        [ "$($U release all)" = released=1 ] || exit 15'
check "full root's two sockets are still live after that release all" live "$a" "$b"
# Allowed: a descriptor full root opened, used without CAP_NET_ADMIN (the opener's credentials).
res=$(as_who given "$r_def
r bind t 'bind $a 8095'; r listen t 'listen $a'; r listening sh -c \"ss -ltnH 'sport = :8095' | grep -q .\"
r ioc-release \$U release $b; r release t 'release $a'; r ioc-reset \$U reset" 2>&1)
check "given: bind $a 8095 and listen allowed" grep -qz "bind ok: .*listen ok: " <<<"$res"
check "given: port 8095 listening" grep -q "^listening ok" <<<"$res"
check "given: RSM_IOC_RELEASE of $b allowed (released=1)" grep -qx "ioc-release ok: released=1" <<<"$res"
check "given: release $a (text) allowed" grep -q "^release ok" <<<"$res"
check "given: RSM_IOC_RESET_STATS allowed" grep -q "^ioc-reset ok" <<<"$res"
check "the reset took effect (attempts=0)" test "$(totals attempts)" = 0
[ "$TAP_FAIL" = 0 ] || diag <<<"$res"
