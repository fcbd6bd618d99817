#!/usr/bin/env bash
# Debian's own kernel (make test KERNEL=debian, make demo KERNEL=debian): the newest 7.x amd64
# image the archive serves, unchanged, and what building a module for it needs but its headers
# package lacks (Rust metadata: rust/*.rmeta, the bindings, the proc macros).
#   usage: debian-kernel.sh        prints the prepared directory, $RSM_CACHE/debian/KREL:
#   (RSM_DEBIAN_KREL=KREL, make test KERNEL=debian KREL=...: that image instead of the newest,
#   e.g. 7.2.12+deb13-amd64; refused with one line when the archive does not serve it, it has
#   no CONFIG_RUST, or its toolchain cannot be had)
#     root/      the image and its modules as packaged (usr/lib/modules/KREL/vmlinuz, ...)
#     headers/   linux-headers-KREL: its .config, Module.symvers, BTF vmlinux (scripts/ and
#                tools/ are symlinks into linux-kbuild, not fetched: build/ has its own)
#     build/     the same source and .config, `make modules_prepare` in a chroot of the Debian
#                release with the toolchain the .config records (rustc, bindgen, gcc); the
#                headers' Module.symvers and vmlinux beside it
#     kernel.env KREL, PKGVER, SUITE, CC, KIMG
# The metadata is accepted only if every Rust symbol its build exports has the name Debian's
# Module.symvers lists (the crate hashes depend on the rustc version and the crate flags).
source "$(dirname "$0")/lib/lib.sh"
source "$RSM_ROOT/scripts/lib/apt.sh"
source "$RSM_ROOT/scripts/lib/chroot.sh"

SRC_APT="$RSM_CACHE/apt-debian"
deb_log="$RSM_LOGS/debian-kernel.log"
: >"$deb_log"

# The newest linux-headers-7.*+deb13-amd64 of Debian 13 (trixie and its backports): "PACKAGE
# VERSION"; the newest cached one when the archive cannot be reached. (sid's images are left
# out: sid's toolchain moves daily, so the one an image records is soon no longer served.)
select_image() {
    local best="" bestv="" p v
    rsm_apt_sources "$SRC_APT" trixie trixie-backports
    if ! apt_src apt-get update --error-on=any >>"$deb_log" 2>&1; then
        for p in "$RSM_CACHE"/debian/7.*/kernel.env; do
            [ -f "$(dirname "$p")/.complete" ] || continue
            [ -z "${RSM_DEBIAN_KREL:-}" ] || [ "$(basename "$(dirname "$p")")" = "$RSM_DEBIAN_KREL" ] || continue
            # shellcheck disable=SC1090 # written below.
            v=$(. "$p"; echo "$PKGVER $KREL")
            if [ -z "$bestv" ] || dpkg --compare-versions "${v%% *}" gt "$bestv"; then bestv=${v%% *}; best=${v#* }; fi
        done
        [ -n "$best" ] || rsm_die "debian: the archive cannot be reached and nothing is cached" "$deb_log"
        rsm_log "debian: archive unreachable; using the cached $best ($bestv)"
        echo "linux-headers-$best $bestv"; return
    fi
    if [ -n "${RSM_DEBIAN_KREL:-}" ]; then
        v=$(apt_src apt-cache madison "linux-headers-$RSM_DEBIAN_KREL" 2>/dev/null | awk '{print $3}' | sed -n 1p)
        [ -n "$v" ] || rsm_die "debian: the archive (trixie, trixie-backports) serves no linux-headers-$RSM_DEBIAN_KREL; it serves: $(apt_src apt-cache pkgnames linux-headers-7. | grep -E '^linux-headers-7\.[0-9.]+\+deb13-amd64$' | sed 's/^linux-headers-//' | sort -V | paste -sd' ')"
        echo "linux-headers-$RSM_DEBIAN_KREL $v"; return
    fi
    for p in $(apt_src apt-cache pkgnames linux-headers-7. | grep -E '^linux-headers-7\.[0-9]+\.[0-9]+\+deb13-amd64$'); do
        v=$(apt_src apt-cache madison "$p" | awk '{print $3}' | sed -n 1p)
        if [ -z "$bestv" ] || dpkg --compare-versions "$v" gt "$bestv"; then best=$p; bestv=$v; fi
    done
    [ -n "$best" ] || rsm_die "debian: the archive serves no linux-headers-7.x amd64 package" "$deb_log"
    echo "$best $bestv"
}

# extract DEST PACKAGE...: downloads PACKAGE=$PKGVER each and unpacks them into DEST.
extract() {
    local dest=$1 p f; shift
    mkdir -p "$dest" "$DIR/debs"
    for p in "$@"; do
        (cd "$DIR/debs" && apt_src apt-get download "$p=$PKGVER") >>"$deb_log" 2>&1 \
            || rsm_die "debian: downloading $p=$PKGVER failed" "$deb_log"
        f=("$DIR/debs/${p}_"*.deb)
        dpkg-deb -x "${f[0]}" "$dest" || rsm_die "debian: unpacking ${f[0]} failed"
        rm -f "${f[0]}"
    done
}

# config VALUE from the headers' .config (quotes removed).
kconfig() { sed -n "s/^$1=\"\{0,1\}\([^\"]*\)\"\{0,1\}\$/\1/p" "$DIR/headers/.config"; }

read -r HPKG PKGVER < <(select_image)
KREL=${HPKG#linux-headers-}
SERIES=$(cut -d. -f1,2 <<<"$KREL")
DIR="$RSM_CACHE/debian/$KREL"
# Cached when made by this script for this version (kernel.env records the chroot's tools).
if [ -f "$DIR/.complete" ] && grep -qxF "pkgver=$PKGVER" "$DIR/.complete" && grep -q '^TOOLS=' "$DIR/kernel.env"; then
    rsm_log "debian: cached $KREL ($PKGVER) in $DIR"
    echo "$DIR"; exit 0
fi
# The Debian release the image was built for: its version says (+deb13 = trixie).
case $KREL in
    *+deb13-*) SUITE=trixie ;;
    *) rsm_die "debian: $KREL: no known Debian release for its ABI name" ;;
esac
t0=$(date +%s)
rm -rf "$DIR"; mkdir -p "$DIR"
rsm_log "debian: $KREL ($PKGVER, built for $SUITE): fetching image, modules and headers"
# The headers first: their .config says whether the image can load a Rust module at all.
extract "$DIR/headers.tmp" "linux-headers-$KREL"
mv "$DIR/headers.tmp/usr/src/linux-headers-$KREL" "$DIR/headers"
[ "$(kconfig CONFIG_RUST)" = y ] || rsm_die "debian: $KREL is built without CONFIG_RUST: no Rust module can load on it"
extract "$DIR/root" "linux-binary-$KREL" "linux-modules-$KREL" "linux-base-$KREL"
KIMG="$DIR/root/usr/lib/modules/$KREL/vmlinuz"
[ -f "$KIMG" ] || rsm_die "debian: no vmlinuz in linux-binary-$KREL"

# The toolchain the .config records, from the chroot of that release.
want_cc=$(kconfig CONFIG_CC_VERSION_TEXT); CC=${want_cc%% *}
gccpkg=$(sed -n 's/^x86_64-linux-gnu-\(gcc-[0-9]*\)$/\1/p' <<<"$CC")
[ -n "$gccpkg" ] || rsm_die "debian: $KREL was compiled by '$want_cc', not a Debian gcc-NN"
# same TOOL RECORDED INSTALLED: the chroot's tool must be the one the .config records.
same() { [ "$2" = "$3" ] || rsm_die "debian: $KREL records $1 '$2', a fresh Debian $SUITE chroot has '$3': the Rust metadata cannot be regenerated with the same toolchain"; }
# tools: the chroot's three version lines.
tools() { rsm_chroot_run "$CHROOT" rustc --version; rsm_chroot_run "$CHROOT" bindgen --version
          rsm_chroot_run "$CHROOT" "$CC" --version | sed -n 1p; }
want=$(printf '%s\n' "$(kconfig CONFIG_RUSTC_VERSION_TEXT)" "$(kconfig CONFIG_BINDGEN_VERSION_TEXT)" "$want_cc")
CHROOT=$(rsm_chroot_make "$SUITE" "$gccpkg")
have=$(tools)
if [ "$have" != "$want" ]; then
    # A chroot made earlier may predate a point release the image was built with: once afresh.
    rsm_log "debian: the cached $SUITE chroot has other tools; debootstrapping it again"
    rm -f "$CHROOT/.complete"; CHROOT=$(rsm_chroot_make "$SUITE" "$gccpkg"); have=$(tools)
fi
same rustc "$(sed -n 1p <<<"$want")" "$(sed -n 1p <<<"$have")"
same bindgen "$(sed -n 2p <<<"$want")" "$(sed -n 2p <<<"$have")"
same "the C compiler" "$want_cc" "$(sed -n 3p <<<"$have")"
rsm_log "debian: $SUITE chroot has the recorded toolchain: $(tr '\n' ';' <<<"$have")"

# The same source (the linux-source package of the same version), the same .config.
SRC=$(fetch_source "linux-source-$SERIES" "$PKGVER")
B="$DIR/build"; mkdir -p "$B"
cp "$DIR/headers/.config" "$B/.config"
kmake=(make -C "$SRC" O="$B" ARCH=x86 KERNELRELEASE="$KREL" CC="$CC")
rsm_log "debian: make modules_prepare with Debian's .config (log: $deb_log)"
rsm_chroot_run "$CHROOT" "${kmake[@]}" olddefconfig >>"$deb_log" 2>&1 || rsm_die "debian: olddefconfig failed" "$deb_log"
diff <(grep '^CONFIG_' "$DIR/headers/.config") <(grep '^CONFIG_' "$B/.config") >>"$deb_log" \
    || rsm_die "debian: olddefconfig changed Debian's .config (diff in the log)" "$deb_log"
rsm_chroot_run "$CHROOT" "${kmake[@]}" -j"$(nproc)" modules_prepare >>"$deb_log" 2>&1 \
    || rsm_die "debian: modules_prepare failed" "$deb_log"
cp "$DIR/headers/Module.symvers" "$DIR/headers/vmlinux" "$B/"

# Every Rust symbol the regenerated crates export must be the one the image exports.
ours=$(cat "$B"/rust/exports_*_generated.h | sed -n 's/^EXPORT_SYMBOL_RUST_GPL(\(_R[^)]*\));$/\1/p' | sort -u)
theirs=$(awk '$2 ~ /^_R/ && $3 == "vmlinux" {print $2}' "$B/Module.symvers" | sort -u)
{ [ -n "$ours" ] && [ -n "$theirs" ]; } || rsm_die "debian: no Rust exports found (regenerated: $(wc -w <<<"$ours"), Module.symvers: $(wc -w <<<"$theirs"))" "$deb_log"
first=$(comm -3 <(cat <<<"$ours") <(cat <<<"$theirs") | sed -n 1p)
[ -z "$first" ] || rsm_die "debian: the regenerated Rust exports differ from $KREL's Module.symvers, first: $(tr -d '\t' <<<"$first") ($(comm -23 <(cat <<<"$ours") <(cat <<<"$theirs") | wc -l) only ours, $(comm -13 <(cat <<<"$ours") <(cat <<<"$theirs") | wc -l) only Debian's)"
rsm_log "debian: the $(wc -l <<<"$ours") Rust exports of the regenerated metadata match Module.symvers name for name"

{ echo "KREL='$KREL'"; echo "PKGVER='$PKGVER'"; echo "SUITE='$SUITE'"; echo "CC='$CC'"; echo "KIMG='$KIMG'"
  echo "CHROOT='$CHROOT'"; echo "RUST_EXPORTS=$(wc -l <<<"$ours")"
  echo "TOOLS='$(tr '\n' ';' <<<"$have")'"; } > "$DIR/kernel.env"
{ echo "pkgver=$PKGVER"; echo "seconds=$(( $(date +%s) - t0 ))"; } > "$DIR/.complete"
rm -rf "$DIR/debs" "$DIR/headers.tmp"
rsm_log "debian: $KREL ready in $(rsm_fmt_secs $(( $(date +%s) - t0 ))) -> $DIR"
echo "$DIR"
