#!/usr/bin/env bash
# Installs everything rust_sockmod needs on a Debian 12 host. Idempotent: when all is present it
# only checks and changes nothing. The host's apt sources are never modified: packages come
# through a private sources list and list directory under the cache.
#   usage: setup.sh [all|debian] [--bench]   (debian: only what runs Debian's own kernel needs —
#   the VM, userspace_test and debootstrap; no kernel toolchain, which the chroot brings;
#   --bench: also bpftrace, the peer make bench measures beside the census)
source "$(dirname "$0")/lib/lib.sh"
source "$RSM_ROOT/scripts/lib/apt.sh"

FOR=all; BENCH=""
for arg in "$@"; do
    case $arg in
        all|debian) FOR=$arg ;;
        --bench) BENCH=1 ;;
        *) rsm_die "setup: unknown argument '$arg' (usage: setup.sh [all|debian] [--bench])" ;;
    esac
done
# What the VM suite and userspace_test need on any kernel.
PKGS=(qemu-system-x86 udev cpio kmod iproute2 make python3-venv xz-utils busybox-static
      libcap2-bin passwd util-linux procps less binutils debootstrap)
# The project's own kernel and module build, and the lints.
[ "$FOR" = debian ] || PKGS+=(rustc-web rust-web-src clang-22 lld-22 llvm-22 libclang-22-dev
      flex bison bc libelf-dev libssl-dev ccache rust-web-clippy rustfmt-web shellcheck)
# debootstrap: the chroot of the Debian release whose toolchain built Debian's own kernel
# (make test KERNEL=debian).
# cargo (for bindgen-cli and userspace_test): the host's if it has one (rustup's here), else
# Debian's, matched to rustc-web.
command -v cargo >/dev/null || PKGS+=(cargo-web)
# bookworm's bpftrace (0.17): what a user would reach for to keep the census's table (make bench).
[ -z "$BENCH" ] || PKGS+=(bpftrace)
# qemu-system-x86 must match the host's qemu-utils (Debian 12 machines here carry the
# bookworm-backports build), so qemu comes from bookworm-backports.
BPO_PKGS=(qemu-system-x86 qemu-utils)

APT_DIR="$RSM_CACHE/apt-host"
apt_private() { rsm_apt "$APT_DIR" "$@"; }

missing_pkgs() {
    local p
    for p in "${PKGS[@]}"; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || echo "$p"
    done
}

install_packages() {
    local missing
    missing=$(missing_pkgs | tr '\n' ' ')
    if [ -z "${missing// /}" ]; then
        rsm_log "setup: Debian packages present"
        return
    fi
    rsm_log "setup: installing Debian packages: $missing"
    [ "$(id -u)" = 0 ] || rsm_die "setup: installing packages needs root (missing: $missing)"
    rsm_apt_sources "$APT_DIR" bookworm bookworm-updates bookworm-security bookworm-backports
    local log="$RSM_LOGS/setup-apt.log"
    apt_private apt-get update >"$log" 2>&1 || rsm_die "setup: apt-get update (private sources) failed" "$log"
    DEBIAN_FRONTEND=noninteractive apt_private apt-get install -y --no-install-recommends \
        -t bookworm-backports "${BPO_PKGS[@]}" >>"$log" 2>&1 \
        || rsm_die "setup: installing ${BPO_PKGS[*]} from bookworm-backports failed" "$log"
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt_private apt-get install -y --no-install-recommends $missing \
        >>"$log" 2>&1 || rsm_die "setup: installing Debian packages failed" "$log"
    missing=$(missing_pkgs | tr '\n' ' ')
    [ -z "${missing// /}" ] || rsm_die "setup: still missing after install: $missing" "$log"
}

install_bindgen() {
    local have=""
    [ -x "$RSM_BINDGEN" ] && have=$("$RSM_BINDGEN" --version 2>/dev/null || true)
    if [ "$have" = "bindgen $RSM_BINDGEN_VERSION" ]; then
        rsm_log "setup: bindgen $RSM_BINDGEN_VERSION present"
        return
    fi
    command -v cargo >/dev/null || rsm_die "setup: cargo not found (needed to install bindgen-cli)"
    local log="$RSM_LOGS/setup-bindgen.log"
    rsm_log "setup: cargo install --locked bindgen-cli $RSM_BINDGEN_VERSION (a few minutes)"
    cargo install --locked --force bindgen-cli --version "$RSM_BINDGEN_VERSION" \
        --root "$RSM_CACHE/tools" >"$log" 2>&1 || rsm_die "setup: cargo install bindgen-cli failed" "$log"
}

install_virtme_ng() {
    local have=""
    [ -x "$RSM_VNG" ] && have=$("$RSM_VENV/bin/python" -c \
        'import importlib.metadata as m; print(m.version("virtme-ng"))' 2>/dev/null || true)
    if [ "$have" = "$RSM_VIRTME_NG_VERSION" ]; then
        rsm_log "setup: virtme-ng $RSM_VIRTME_NG_VERSION present"
        return
    fi
    local log="$RSM_LOGS/setup-venv.log"
    rsm_log "setup: virtme-ng $RSM_VIRTME_NG_VERSION into $RSM_VENV"
    { python3 -m venv "$RSM_VENV" && "$RSM_VENV/bin/pip" install -q "virtme-ng==$RSM_VIRTME_NG_VERSION"; } \
        >"$log" 2>&1 || rsm_die "setup: installing virtme-ng failed" "$log"
}

check_toolchain() {
    local log="$RSM_LOGS/setup-check.log"
    if [ "$FOR" = debian ]; then
        { qemu-system-x86_64 --version | head -1 && "$RSM_VNG" --version && debootstrap --version; } \
            >"$log" 2>&1 || rsm_die "setup: toolchain check failed" "$log"
        return
    fi
    {
        "$RSM_RUSTC" --version && [ -d /usr/lib/rustlib/src/rust/library/core ] \
            && clang-22 --version | head -1 && ld.lld-22 --version && "$RSM_BINDGEN" --version \
            && ccache --version | head -1 \
            && qemu-system-x86_64 --version | head -1 && "$RSM_VNG" --version
    } >"$log" 2>&1 || rsm_die "setup: toolchain check failed" "$log"
}

# The package names and suites are Debian 12's: say so on any other host, then try.
check_host() {
    local id="" version="" pretty=""
    # shellcheck disable=SC1091 # the host's file.
    [ -r /etc/os-release ] && { . /etc/os-release; id=${ID:-}; version=${VERSION_ID:-}; pretty=${PRETTY_NAME:-}; }
    [ "$id $version" = "debian 12" ] \
        || rsm_log "setup: this host is ${pretty:-not identified (no /etc/os-release)}, not Debian 12: the packages and apt suites below are Debian 12's and may not exist here"
}

check_host
install_packages
[ "$FOR" = debian ] || install_bindgen
install_virtme_ng
check_toolchain
rsm_log "setup: ok ($(tr '\n' ';' < "$RSM_LOGS/setup-check.log" | cut -c1-200))"
