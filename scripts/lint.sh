#!/usr/bin/env bash
# The lints of make test, one TAP line each ("ok - lint: ..."): shellcheck on every script,
# rustfmt --check with the kernel's .rustfmt.toml on the module (and on userspace_test, which
# shares src/uapi*.rs and src/names.rs with it), clippy on both. The module's clippy run is its
# ordinary build (build-module.sh builds with CLIPPY=1): its log must hold no warning.
# usage: lint.sh KDIR [MODULE_BUILD_LOG]   (default: the log of the last build-module.sh)
source "$(dirname "$0")/lib/lib.sh"
KDIR=$1
BUILD_LOG=${2:-$RSM_LOGS/module-build.log}
cd "$RSM_ROOT"
# lint DESCRIPTION COMMAND...: ok when the command succeeds and prints nothing.
lint() {
    local desc=$1 out; shift
    if out=$("$@" 2>&1) && [ -z "$out" ]; then echo "ok - lint: $desc"
    else echo "not ok - lint: $desc"; printf '%s\n' "$out" | head -n 30 | sed 's/^/# /'; fi
}
no_warnings() { grep -E -A6 '^(warning|error)' "$1" || true; }
lint "shellcheck scripts/ and .ci/run" shellcheck -x -P SCRIPTDIR scripts/*.sh scripts/lib/*.sh scripts/guest/*.sh .ci/run
lint "rustfmt --check (module, the kernel's .rustfmt.toml)" \
    /usr/bin/rustfmt --check --config-path "$KDIR/source/.rustfmt.toml" rust_sockmod.rs
lint "clippy on the module (make CLIPPY=1): no warning" no_warnings "$BUILD_LOG"
lint "cargo fmt --check (userspace_test)" sh -c 'cd userspace_test && cargo fmt --check'
lint "cargo clippy (userspace_test, all targets): no warning" \
    sh -c 'cd userspace_test && cargo clippy --release --locked --all-targets --quiet -- -D warnings'
