# shellcheck shell=bash
# plan: 5
# The module's tracepoints (rust_sockmod:create, :release, :netns_exit), read through tracefs as
# perf, bpftrace or trace-cmd would see them.

T=/sys/kernel/tracing
mountpoint -q "$T" || mount -t tracefs nodev "$T"
check "tracefs lists rust_sockmod:create, :release and :netns_exit" \
    test -d "$T/events/rust_sockmod/create" -a -d "$T/events/rust_sockmod/release" -a -d "$T/events/rust_sockmod/netns_exit"
: > "$T/trace"
# The ring buffer may have been left off (userspace_test trace, in t_compare.sh, ends with
# tracing_on=0): on for this part, back as found at its end.
tr_on=$(cat "$T/tracing_on"); echo 1 > "$T/tracing_on"
echo 1 > "$T/events/rust_sockmod/enable"
ip netns add rsm_trace
tr_ns=$(netns_inode /run/netns/rsm_trace)
cmd "create inet dgram udp netns=/run/netns/rsm_trace"
kept=$(socket_lines | tail -1 | sed 's/^socket id=\([0-9]*\) .*/\1/')
cmd "create inet stream udp" 2>/dev/null
cmd "release $kept"
cmd "create inet6 dgram udp netns=/run/netns/rsm_trace"
gone=$(socket_lines | tail -1 | sed 's/^socket id=\([0-9]*\) .*/\1/')
ip netns del rsm_trace
# cleanup_net runs from a workqueue: wait for the hook's event.
# shellcheck disable=SC2016 # wait_for evaluates the condition itself.
wait_for 20 'grep -q "netns_exit: netns=$tr_ns " "$T/trace"'
echo 0 > "$T/events/rust_sockmod/enable"
echo "$tr_on" > "$T/tracing_on"
trace=$(grep -E ' (create|release|netns_exit): ' "$T/trace")
printf "%s\n" "$trace" > "$OUT/rust_sockmod-trace.txt"   # kept for the docs and debugging
check "create: the kept socket with its netns, family, type, protocol, id, errno 0, a latency" \
    grep -Eq " create: netns=$tr_ns family=2 type=2 protocol=17 id=$kept errno=0 latency_ns=[1-9]" <<<"$trace"
check "create: a failing one with id 0 and -EPROTONOSUPPORT" \
    grep -Eq " create: netns=[0-9]+ family=2 type=1 protocol=17 id=0 errno=-93 latency_ns=" <<<"$trace"
# shellcheck disable=SC2016 # the inner script expands its own arguments.
check "release: the released socket, cause user; the other one, cause netns_exit" \
    bash -c 'grep -q "$1" <<<"$3" && grep -q "$2" <<<"$3"' _ \
    " release: id=$kept cause=user" " release: id=$gone cause=netns_exit" "$trace"
check "netns_exit: the deleted netns, 1 socket released" grep -q " netns_exit: netns=$tr_ns count=1" <<<"$trace"
[ "$TAP_FAIL" = 0 ] || diag <<<"$trace"
