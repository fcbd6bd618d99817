#!/usr/bin/env bash
# In-guest demo: load the module, create kernel sockets in two namespaces through both
# interfaces, show the report, watch a netns being dismantled under a kernel socket, then the
# comparison with socket(): the table, the lifetime demo, the bench ratios and the trace.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
UT="$ROOT/userspace_test/target/release/userspace_test"
OUT=${1:-/tmp}
run() { echo; echo "\$ $*"; "$@"; }
sh_run() { echo; echo "\$ $1"; bash -c "$1"; }
echo "guest kernel: $(uname -r)"
# RSM_KO: the module built for another kernel (make demo KERNEL=debian).
run insmod "${RSM_KO:-$ROOT/rust_sockmod.ko}"
for _ in $(seq 50); do [ -c /dev/rust_sockmod ] && break; sleep 0.1; done
run ls -l /dev/rust_sockmod
mkdir -p /run/netns
run ip netns add blue
run ip netns add red
sh_run 'readlink /proc/self/ns/net; stat -L -c "blue: %i" /run/netns/blue; stat -L -c "red: %i" /run/netns/red'
sh_run 'echo "create inet stream tcp" > /dev/rust_sockmod'
sh_run 'echo "create inet6 dgram udp netns=/run/netns/blue" > /dev/rust_sockmod'
sh_run 'echo "create inet stream tcp netns=/run/netns/red hold" > /dev/rust_sockmod'
run "$UT" create packet dgram 0 --netns /run/netns/blue
sh_run 'echo "create inet stream udp" > /dev/rust_sockmod 2>&1 || true'
run cat /dev/rust_sockmod
run ip netns del blue
sleep 1
run ip netns del red
sleep 1
echo; echo "# blue was dismantled and its kernel sockets released by the module's pernet exit hook;"
echo "# red is pinned by its 'hold' socket until that socket is released:"
run cat /dev/rust_sockmod
run "$UT" status
sh_run 'echo "release all" > /dev/rust_sockmod'
run "$UT" compare
run "$UT" lifetime
run "$UT" bench --iterations 2000 --rounds 3 --svg "$OUT/bench.svg"
run "$UT" trace
run rmmod rust_sockmod
echo; echo '$ dmesg | grep "rust_sockmod:"'; dmesg | grep 'rust_sockmod:' || true
