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

# loaded_after_rsm MOD: MOD is loaded, and later than rust_sockmod (/proc/modules: newest first).
loaded_after_rsm() {
    awk -v m="$1" '$1 == "rust_sockmod" { exit } $1 == m { found = 1; exit } END { exit !found }' /proc/modules
}
# Splats logged before this part are the run's final check's (it scans from boot): the first
# family's dmesg check must not report an earlier part's.
kmsg_splats > /dev/null

for spec in "${MODPROTO_FAMILIES[@]}"; do
    IFS='|' read -r name req mod how <<<"$spec"
    # An earlier part (compare, hardening, modproto_load) may have loaded it: unload it, so that
    # the create below finds it missing and it gets loaded after rust_sockmod. A module that
    # cannot go is skipped where its absence is asserted: sctp, once loaded, is held by every
    # netns's control socket (inet_ctl_sock_create -> sk_alloc takes a reference on sctp.ko).
    # shellcheck disable=SC2016 # wait_for evaluates the condition itself.
    wait_for 3 'modprobe -r "$mod" 2>/dev/null; ! grep -q "^$mod " /proc/modules'
    held=
    if grep -q "^$mod " /proc/modules; then
        held="$mod loaded by an earlier part, and it cannot be unloaded (refcnt $(cat "/sys/module/$mod/refcnt" 2>/dev/null))"
    fi
    ip netns add mp
    exits0=$(totals released_netns_exit)
    if [ -n "$held" ]; then ok "$name: $mod not loaded before the first create # SKIP $held"
    else check "$name: $mod not loaded before the first create" sh -c "! grep -q '^$mod ' /proc/modules"; fi
    if [ "$how" = modprobe ]; then
        if [ -n "$held" ]; then
            ok "$name: create without $mod: EAFNOSUPPORT (no net-pf alias: nothing loads it) # SKIP $held"
        else
            expect_fail "$name: create without $mod: EAFNOSUPPORT (no net-pf alias: nothing loads it)" \
                "Address family not supported" cmd "create $req netns=/run/netns/mp"
        fi
        check "$name: modprobe $mod (after rust_sockmod)" modprobe "$mod"
        check "$name: create $req in netns mp" cmd "create $req netns=/run/netns/mp"
    else
        loader="the kernel loads $mod on demand"; [ -z "$held" ] || loader="$mod already loaded"
        check "$name: create $req in netns mp ($loader)" cmd "create $req netns=/run/netns/mp"
    fi
    if [ -n "$held" ] && ! loaded_after_rsm "$mod"; then
        ok "$name: $mod loaded, after rust_sockmod # SKIP $held, before this load of rust_sockmod (an earlier part reloaded it)"
    else
        check "$name: $mod loaded, after rust_sockmod" grep -q "^$mod " /proc/modules
    fi
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
