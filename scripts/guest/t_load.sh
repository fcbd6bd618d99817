# shellcheck shell=bash
# plan: 15
# Loading, the device node, the report header, rmmod while open, unloading.

check "insmod rust_sockmod.ko" load
check "module listed in /proc/modules" grep -q '^rust_sockmod ' /proc/modules
check "$DEV is a character device" test -c "$DEV"
check "$DEV has mode 0600 owned by root" test "$(stat -c '%a %U' "$DEV")" = "600 root"

report=$(cat "$DEV" 2>&1)
if grep -qx "# rust_sockmod [0-9.]*" <<<"$(head -1 <<<"$report")"; then
    ok "read returns the report header"; else not_ok "read returns the report header"; echo "$report" | diag; fi
check "totals are all zero on a fresh load" grep -qx \
    "totals attempts=0 ok=0 failed=0 rejected=0 live=0 released_user=0 released_netns_exit=0 released_unload=0" <<<"$report"
check "limits line shows the default max_sockets" grep -q "^limits max_sockets=65536 " <<<"$report"
check "userspace_test status parses the report" "$UT" status

# rmmod while the device is open is refused: the fops carry .owner = THIS_MODULE.
exec 7<"$DEV"
check "refcount is 1 while the device is open" test "$(cat /sys/module/rust_sockmod/refcnt)" = 1
expect_fail "rmmod while the device is open is refused" "in use" rmmod rust_sockmod
check "the open device still reads after the refused rmmod" head -c 10 <&7
exec 7<&-
check "refcount back to 0 after close" test "$(cat /sys/module/rust_sockmod/refcnt)" = 0
check "rmmod" unload
check "device node removed after rmmod" test ! -e "$DEV"
check "reload" load
