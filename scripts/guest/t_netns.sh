# shellcheck shell=bash
# plan: 27
# Target namespaces (bind mount, fd, pid) and both lifetime models across `ip netns del`.

# Stats records outlive their netns until a reset, and a new netns may get the inode number of
# an earlier part's dead one (proc_alloc_inum takes the lowest free): drop those records, so that
# blue's stats lines are blue's own.
cmd "reset stats"
check "ip netns add blue, red" sh -c "ip netns add blue && ip netns add red"
blue=$(netns_inode /run/netns/blue); red=$(netns_inode /run/netns/red)
base_exit=$(totals released_netns_exit)

check "create by bind mount: netns=/run/netns/blue" cmd "create inet stream tcp netns=/run/netns/blue"
check "create by bind mount: udp in blue" cmd "create inet dgram udp netns=/run/netns/blue"
# (stdout away from the part's pipe: a part that stops early must not wait for the sleeper)
ip netns exec blue sleep 600 >/dev/null & sleeper=$!
# shellcheck disable=SC2016 # wait_for evaluates the condition itself.
wait_for 5 '[ "$(stat -L -c %i /proc/$sleeper/ns/net 2>/dev/null)" = "$blue" ]'
check "create by pid: pid=$sleeper (in blue)" cmd "create inet6 stream tcp pid=$sleeper"
check "three sockets reported in blue" test "$(socket_lines | grep -c "netns=$blue ")" = 3
# Which netns reference sock_create_kern() gives here, read from the sockets made without hold,
# and whether the build-time probe (probes.mk, rsm_sock_create_kern_counts) says the same: the
# day a kernel's sock_create_kern() counts, this names the change.
probed=$(sed -n 's/^kernel sock_create_kern_netns_ref=//p' "$DEV")
if socket_lines | grep "netns=$blue " | grep -q " hold=no "; then seen=passive; else seen=counted; fi
echo "# sock_create_kern() on this kernel gives a $seen netns reference (build-time probe: ${probed:-none})"
check "sock_create_kern()'s netns reference as a socket shows it ($seen) is the probe's (${probed:-none})" test "$seen" = "$probed"
lid=$(socket_lines | grep "netns=$blue .*family=inet(2) type=stream(1)" | sed 's/^socket id=\([0-9]*\) .*/\1/')
check "the tcp socket in blue listens on port 7000" sh -c "echo 'bind $lid 7000' > $DEV && echo 'listen $lid' > $DEV"
ip netns exec blue ip link set lo up
# The client closes with RST (SO_LINGER 0): an orderly close would leave its user socket in
# FIN_WAIT2 for tcp_fin_timeout (60 s) — and a user socket pins the netns.
check "a client in blue connects to the kernel listener (queued, never accepted)" \
    ip netns exec blue python3 -c 'import socket, struct
s = socket.create_connection(("127.0.0.1", 7000), timeout=5)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()'

check "create with hold in red" cmd "create inet stream tcp netns=/run/netns/red hold"
check "hold socket shown as hold=yes in red" grep -q "netns=$red .*hold=yes" <<<"$(socket_lines)"
exec 8</run/netns/red
check "create by fd (ioctl): userspace_test create --netns /run/netns/red" "$UT" create inet dgram udp --netns /run/netns/red
exec 8<&-

# Default model: the sockets do not pin blue; deleting it dismantles it and the pernet exit hook
# releases them.
kill $sleeper; wait $sleeper 2>/dev/null
check "ip netns del blue (with 3 live default-model kernel sockets)" ip netns del blue
if wait_for 20 "[ \"\$(totals released_netns_exit)\" = $((base_exit + 3)) ]"; then
    ok "blue dismantled: 3 sockets released by netns exit"
else not_ok "blue dismantled: 3 sockets released by netns exit"; head -n 4 "$DEV" | diag; fi
check "no socket of blue left in the report" test "$(socket_lines | grep -c "netns=$blue ")" = 0
check "blue's stats line shows 3 released, 0 live" test "$(grep "^stat netns=$blue " "$DEV" | grep -c "live=0 released=1 ")" = 3

# Hold model: the socket pins red beyond `ip netns del`; the default one there does not (the
# hold socket keeps red alive, so it stays too until release).
check "ip netns del red (hold socket pins it)" ip netns del red
sleep 1
check "red's hold socket is still live after ip netns del" grep -q "netns=$red .*hold=yes" <<<"$(socket_lines)"
check "red's default socket also still live (red cannot die yet)" test "$(socket_lines | grep -c "netns=$red ")" = 2
hold_id=$(socket_lines | grep "netns=$red .*hold=yes" | sed 's/^socket id=\([0-9]*\) .*/\1/')
check "release the hold socket" cmd "release $hold_id"
# shellcheck disable=SC2016 # wait_for evaluates the condition itself.
if wait_for 20 '[ "$(socket_lines | grep -c "netns=$red ")" = 0 ]'; then
    ok "red dismantled after the hold socket's release: its default socket released by netns exit"
else not_ok "red dismantled after the hold socket's release"; socket_lines | diag; fi
check "released_netns_exit counts blue's 3 and red's 1" test "$(totals released_netns_exit)" = $((base_exit + 4))

# A netns made by unshare: the socket dies with it, and only it. A socket in the initial netns
# (init_net is static: its address, the index key, sorts after every allocated netns) stays.
check "a socket in the initial netns beside it" cmd "create inet dgram udp"
init_id=$(socket_lines | tail -n 1 | sed 's/^socket id=\([0-9]*\) .*/\1/')
# The hook's figures of the teardown before (red's): the new ones must replace them (the hook
# stores them after releasing, just after released_netns_exit counts).
exit_ns() { header_field netns exit_last_ns; }
before=$(exit_ns)
check "unshare -n: create in a throwaway netns (caller's own)" unshare -n bash -c "echo 'create inet dgram udp' > $DEV"
if wait_for 20 "[ \"\$(totals released_netns_exit)\" = $((base_exit + 5)) ]"; then
    ok "throwaway netns dismantled, its socket released"; else not_ok "throwaway netns dismantled, its socket released"; fi
wait_for 5 "[ \"\$(exit_ns)\" != '$before' ]" || true
check "the teardown hook released exactly that socket (new exit_last_ns, exit_last_sockets=1), the initial netns's stays live" \
    sh -c "[ '$(exit_ns)' != '$before' ] && grep -q '^netns alive=[0-9]* exit_last_ns=[1-9][0-9]* exit_last_sockets=1\$' $DEV && grep -q '^socket id=$init_id ' $DEV"
check "release it" cmd "release $init_id"
check "live count back to 0" test "$(totals live)" = 0
