# shellcheck shell=bash
# plan: 84
# Socket families built as modules, as a distribution kernel builds them (kconfig/base.config).
# Each protocol module is loaded after rust_sockmod — by the module's own create
# (sock_create_kern -> request_module -> modprobe) where the family has an alias, by modprobe
# where it has none (tipc, rds) — so its pernet ops are registered after ours and its per-netns
# .exit runs before ours would. The kernel sockets of a
# deleted netns must be released before any protocol's .exit (issue 9: tipc use-after-free).

# MODPROTO_FAMILIES (lib.sh): name | create arguments | module that provides the socket.
# modprobe must find the test kernel's modules (virtme-ng links them into /lib/modules).
check "modprobe knows the test kernel's modules (modules.dep for $(uname -r))" \
    test -s "/lib/modules/$(uname -r)/modules.dep"

for spec in "${MODPROTO_FAMILIES[@]}"; do
    IFS='|' read -r name req mod how <<<"$spec"
    modprobe -r "$mod" 2>/dev/null
    ip netns add mp
    exits0=$(totals released_netns_exit)
    check "$name: $mod not loaded before the first create" sh -c "! grep -q '^$mod ' /proc/modules"
    if [ "$how" = modprobe ]; then
        expect_fail "$name: create without $mod: EAFNOSUPPORT (no net-pf alias: nothing loads it)" \
            "Address family not supported" cmd "create $req netns=/run/netns/mp"
        check "$name: modprobe $mod (after rust_sockmod)" modprobe "$mod"
        check "$name: create $req in netns mp" cmd "create $req netns=/run/netns/mp"
    else
        check "$name: create $req in netns mp (the kernel loads $mod on demand)" cmd "create $req netns=/run/netns/mp"
    fi
    check "$name: $mod loaded, after rust_sockmod" grep -q "^$mod " /proc/modules
    check "$name: the socket is live in mp" test "$(socket_lines | grep -c "netns=$(netns_inode /run/netns/mp) ")" = 1
    check "$name: ip netns del mp with the kernel socket live" ip netns del mp
    if wait_for 20 "[ \"\$(totals released_netns_exit)\" = $((exits0 + 1)) ]"; then
        ok "$name: mp dismantled, its $name socket released by the netns exit hook"
    else not_ok "$name: mp dismantled, its $name socket released by the netns exit hook"; head -n 3 "$DEV" | diag; fi
    dmesg_clean "$name: netns teardown with a $mod socket"
done
check "live back to 0 after the family teardowns" test "$(totals live)" = 0

# A protocol module cannot go while the module holds one of its sockets (sock_create_kern took
# a reference on the protocol's owner); after the release it can.
modprobe -r tipc 2>/dev/null; modprobe tipc
check "tipc: create in the caller's netns" cmd "create tipc rdm 0"
tid=$(socket_lines | grep "family=tipc(30)" | sed 's/^socket id=\([0-9]*\) .*/\1/')
expect_fail "rmmod tipc while rust_sockmod holds a tipc socket" "in use" rmmod tipc
check "release the tipc socket" cmd "release $tid"
check "rmmod tipc after the release" rmmod tipc
modproto_load

# The same teardown for every family at once, in one netns, some of them in a second one that
# is deleted in the same cleanup_net batch.
ip netns add mp; ip netns add mq
exits0=$(totals released_netns_exit)
n=0
for spec in "${MODPROTO_FAMILIES[@]}"; do
    IFS='|' read -r name req mod how <<<"$spec"
    cmd "create $req netns=/run/netns/mp" && cmd "create $req netns=/run/netns/mq" && n=$((n + 2))
done
check "every family twice, in mp and mq ($n sockets)" test "$n" = $((2 * ${#MODPROTO_FAMILIES[@]}))
check "ip netns del mp mq" sh -c "ip netns del mp && ip netns del mq"
if wait_for 30 "[ \"\$(totals released_netns_exit)\" = $((exits0 + n)) ]"; then
    ok "mp and mq dismantled: all $n sockets released by the netns exit hook"
else not_ok "mp and mq dismantled: all $n sockets released"; head -n 3 "$DEV" | diag; fi
dmesg_clean "two namespaces of every modular family torn down together"
