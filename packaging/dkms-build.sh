#!/bin/bash
# Builds rust_sockmod.ko for the Debian kernel release KREL; run by DKMS in its build directory
# (MAKE in dkms.conf), as root.
#   usage: dkms-build.sh KREL | dkms-build.sh --clean
# Debian's linux-headers package has no Rust metadata (the kernel crate's .rmeta, the bindings,
# the proc macros), so this prepares it once per KREL under /var/lib/rust-sockmod/KREL from the
# same source (linux-source-X.Y of the headers' exact version) and the headers' .config, with
# the toolchain that .config records. It refuses, with one line naming the tool and both
# versions, when the installed rustc, bindgen or C compiler is not that one: rustc cannot use
# metadata of another rustc, and a crate built by another rustc has other symbol hashes. The
# module is accepted only if every symbol it imports is exported by KREL (symcheck.sh).
set -euo pipefail

CACHE_ROOT=/var/lib/rust-sockmod
if [ "${1:-}" = --clean ]; then
    rm -rf ./*.o ./*.ko ./*.mod ./*.mod.c ./.*.cmd src/*.o src/.*.cmd Module.symvers modules.order
    exit 0
fi
KREL=${1:?usage: dkms-build.sh KREL}
HDR=/lib/modules/$KREL/build
CACHE=$CACHE_ROOT/$KREL

# fail MESSAGE: the one line, in DKMS's make.log and on the terminal when there is one.
fail() {
    echo "rust-sockmod: $KREL: $*" >&2
    { echo "rust-sockmod: $KREL: $*" > /dev/tty; } 2>/dev/null || true
    exit 1
}
# kconfig NAME: its value in the headers' .config, quotes removed.
kconfig() { sed -n "s/^$1=\"\{0,1\}\([^\"]*\)\"\{0,1\}\$/\1/p" "$HDR/.config"; }
# same TOOL RECORDED INSTALLED
same() { [ "$2" = "$3" ] || fail "$1: the kernel was built with '$2', this system has '$3'"; }

[ -f "$HDR/.config" ] || fail "no kernel headers in $HDR (apt install linux-headers-$KREL)"
[ "$(kconfig CONFIG_RUST)" = y ] || fail "the kernel is built without CONFIG_RUST: no Rust module can load on it"

want_cc=$(kconfig CONFIG_CC_VERSION_TEXT); CC=${want_cc%% *}
command -v "$CC" >/dev/null || fail "the kernel was built with '$want_cc', and $CC is not installed"
command -v rustc >/dev/null || fail "rustc: the kernel was built with '$(kconfig CONFIG_RUSTC_VERSION_TEXT)', and rustc is not installed"
command -v bindgen >/dev/null || fail "bindgen: the kernel was built with '$(kconfig CONFIG_BINDGEN_VERSION_TEXT)', and bindgen is not installed"
have_rustc=$(rustc --version); have_bindgen=$(bindgen --version); have_cc=$("$CC" --version | sed -n 1p)
same rustc "$(kconfig CONFIG_RUSTC_VERSION_TEXT)" "$have_rustc"
same bindgen "$(kconfig CONFIG_BINDGEN_VERSION_TEXT)" "$have_bindgen"
same "the C compiler" "$want_cc" "$have_cc"
tools="$have_rustc;$have_bindgen;$have_cc"

# The metadata, once per KREL: kept as long as the headers' package version, the Rust
# toolchain and this script's cache format stay the same (not the source package: backports
# keeps one linux-source-X.Y, and a newer one must not invalidate an older kernel's metadata).
CACHE_FORMAT=1
hver=$(dpkg-query -W -f '${Version}' "linux-headers-$KREL" 2>/dev/null) \
    || fail "the headers in $HDR are not Debian's linux-headers-$KREL package"
stamp="format=$CACHE_FORMAT headers=$hver tools=$tools"
mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.lock-$KREL"
flock 9
fresh=0
if ! { [ -f "$CACHE/.complete" ] && grep -qxF "$stamp" "$CACHE/.complete"; }; then
    fresh=1
    # The source: linux-source-X.Y of exactly the headers' package version.
    series=$(cut -d. -f1,2 <<<"$KREL")
    sver=$(dpkg-query -W -f '${Version}' "linux-source-$series" 2>/dev/null || true)
    [ "$sver" = "$hver" ] || fail "the Rust metadata needs linux-source-$series version $hver, installed: ${sver:-none} (apt install linux-source-$series=$hver)"
    tarball=/usr/src/linux-source-$series.tar.xz
    [ -f "$tarball" ] || fail "$tarball is missing (reinstall linux-source-$series)"
    t0=$(date +%s)
    echo "rust-sockmod: preparing the Rust metadata of $KREL in $CACHE (once per kernel)"
    rm -rf "$CACHE"; mkdir -p "$CACHE/src" "$CACHE/build"
    # A preparation that stops half-way leaves nothing behind (several GB).
    trap '[ -f "$CACHE/.complete" ] || rm -rf "$CACHE"' EXIT
    tar -xJf "$tarball" -C "$CACHE/src" --strip-components=1
    cp "$HDR/.config" "$CACHE/build/.config"
    kmake=(make -C "$CACHE/src" O="$CACHE/build" ARCH=x86 KERNELRELEASE="$KREL" CC="$CC")
    "${kmake[@]}" -s olddefconfig
    diff <(grep '^CONFIG_' "$HDR/.config") <(grep '^CONFIG_' "$CACHE/build/.config") \
        || fail "olddefconfig changed the headers' .config with this source (the lines above)"
    "${kmake[@]}" -j"$(nproc)" modules_prepare
    cp "$HDR/Module.symvers" "$CACHE/build/"
    if [ -f "$HDR/vmlinux" ]; then cp "$HDR/vmlinux" "$CACHE/build/"; fi
    # Every Rust symbol the regenerated crates export must be the one the kernel exports.
    exports=("$CACHE"/build/rust/exports_*_generated.h)
    [ -f "${exports[0]}" ] || fail "modules_prepare made no rust/exports_*_generated.h (no Rust metadata)"
    ours=$(sed -n 's/^EXPORT_SYMBOL_RUST_GPL(\(_R[^)]*\));$/\1/p' "${exports[@]}" | sort -u)
    theirs=$(awk '$2 ~ /^_R/ && $3 == "vmlinux" {print $2}' "$HDR/Module.symvers" | sort -u)
    { [ -n "$ours" ] && [ -n "$theirs" ]; } || fail "no Rust exports found (regenerated: $(wc -w <<<"$ours"), Module.symvers: $(wc -w <<<"$theirs"))"
    [ "$ours" = "$theirs" ] || fail "the regenerated Rust exports differ from Module.symvers ($(comm -23 <(cat <<<"$ours") <(cat <<<"$theirs") | wc -l) only ours, $(comm -13 <(cat <<<"$ours") <(cat <<<"$theirs") | wc -l) only the kernel's)"
    # What an external module build does not read: the drivers', file systems' and other
    # subsystems' sources (rust/, include/, scripts/, arch/x86/ and the Makefiles stay).
    (cd "$CACHE/src" && rm -rf Documentation drivers fs sound net block crypto lib mm kernel \
        samples tools/testing virt io_uring ipc security certs init usr LICENSES)
    echo "rust-sockmod: metadata of $KREL ready in $(( $(date +%s) - t0 )) s ($(wc -l <<<"$ours") Rust exports match Module.symvers), $(du -sh "$CACHE" | cut -f1)"
fi

make -C "$CACHE/build" M="$PWD" KERNELRELEASE="$KREL" CC="$CC" modules
# The vermagic KREL's own modules carry (headers installed without their image: the one the
# prepared tree gives its modules).
ref=$(find "/lib/modules/$KREL/kernel" -name '*.ko*' -print -quit 2>/dev/null || true)
if [ -n "$ref" ]; then vermagic=$(modinfo -F vermagic "$ref"); else vermagic=$(modinfo -F vermagic rust_sockmod.ko); fi
bash ./symcheck.sh rust_sockmod.ko "$HDR/Module.symvers" "$vermagic" \
    || { rm -f rust_sockmod.ko; fail "rust_sockmod.ko does not fit the kernel (the line above)"; }
# The metadata is trusted from now on: it built a module that fits the kernel.
if [ "$fresh" = 1 ]; then echo "$stamp" > "$CACHE/.complete"; fi
