#!/usr/bin/env bash
# In-guest demo: load the module and show what /dev/rust_sockmod says.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
run() { echo; echo "\$ $*"; "$@"; }
echo "guest kernel: $(uname -r)"
run insmod "$ROOT/rust_sockmod.ko"
run ls -l /dev/rust_sockmod
run cat /dev/rust_sockmod
run "$ROOT/userspace_test/target/release/userspace_test" status
run rmmod rust_sockmod
echo; echo "\$ dmesg | tail -n 3"; dmesg | tail -n 3
