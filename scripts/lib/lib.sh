# shellcheck shell=bash
# shellcheck disable=SC2034 # The settings are read by the scripts that source this file.
# Common settings for rust_sockmod's scripts. Source it; do not run it.
set -euo pipefail

RSM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RSM_CACHE="${RSM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rust_sockmod}"
RSM_LOGS="$RSM_CACHE/logs"

# Pinned tool versions. The kernel is chosen at set-up time (KVER, scripts/build-kernel.sh):
# by default the newest linux-source-7.x that sid or trixie-backports serves.
RSM_BINDGEN_VERSION="0.72.1"
RSM_VIRTME_NG_VERSION="1.42"
RSM_LLVM_SUFFIX="-22"

# Toolchain used for the kernel and the module (Debian's kernel-matched rustc, not rustup's).
RSM_RUSTC="/usr/bin/rustc"
RSM_BINDGEN="$RSM_CACHE/tools/bin/bindgen"
RSM_VENV="$RSM_CACHE/venv"
RSM_VNG="$RSM_VENV/bin/vng"

mkdir -p "$RSM_LOGS"

rsm_log() { printf '[rust_sockmod] %s\n' "$*" >&2; }
# rsm_die MESSAGE [LOG]: one clear line saying what failed and where the log is.
rsm_die() {
    if [ -n "${2:-}" ]; then
        printf '[rust_sockmod] FAILED: %s (log: %s)\n' "$1" "$2" >&2
        [ -f "$2" ] && { echo "---- last lines of $2 ----" >&2; tail -n 25 "$2" >&2; }
    else
        printf '[rust_sockmod] FAILED: %s\n' "$1" >&2
    fi
    exit 1
}

# Seconds as "Xm Ys".
rsm_fmt_secs() { printf '%dm %02ds' $(( $1 / 60 )) $(( $1 % 60 )); }

# make arguments for the kernel tree and for out-of-tree modules.
rsm_kmake_args() {
    printf '%s\n' "LLVM=$RSM_LLVM_SUFFIX" "RUSTC=$RSM_RUSTC" "BINDGEN=$RSM_BINDGEN"
}

# Kernel flavours: normal, debug. Output directory of a flavour's current build.
rsm_kernel_link() { echo "$RSM_CACHE/kernel/${1:-normal}"; }
