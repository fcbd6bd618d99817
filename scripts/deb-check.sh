#!/usr/bin/env bash
# make test KERNEL=debian, host part: the DKMS package installs, builds and removes on a Debian
# 13 root with Debian's image KREL, at native speed (a chroot; loading the module is make
# deb-test's, in a VM). TAP lines "ok - deb: ..." on stdout: 11, and 5 more with KREL2.
#   usage: deb-check.sh KREL [KREL2]
# KREL2 (make deb-test): a second image, in the root's apt cache, installed offline after the
# package: DKMS's kernel hook must build for it.
# The root (deb-root.sh) is used through an overlay, so every run starts from the same root.
source "$(dirname "$0")/lib/lib.sh"
source "$RSM_ROOT/scripts/lib/chroot.sh"
KREL=$1 KREL2=${2:-}
OUT="$RSM_CACHE/runs/deb-check-$KREL${KREL2:+-$KREL2}"
rm -rf "$OUT"; mkdir -p "$OUT"
t() {
    local d=$1; shift
    if "$@" >"$OUT/out" 2>&1; then echo "ok - deb: $d"
    else echo "not ok - deb: $d"; tail -n 15 "$OUT/out" | sed 's/^/# /'; fi
}
if ! debs=$(bash "$RSM_ROOT/scripts/deb.sh" 2>"$OUT/deb.log"); then
    echo "not ok - deb: make deb builds the two packages"; tail -n 15 "$OUT/deb.log" | sed 's/^/# /'; exit 1
fi
read -r dkms_deb tools_deb <<<"$(paste -sd' ' <<<"$debs")"
echo "ok - deb: make deb builds the two packages ($(basename "$dkms_deb") $(basename "$tools_deb"))"
ROOT=$(bash "$RSM_ROOT/scripts/deb-root.sh" "$KREL" "$KREL2") || { echo "not ok - deb: a trixie root with $KREL (deb-root.sh)"; exit 1; }

O="$OUT.overlay"
trap 'rsm_overlay_drop "$O"' EXIT
rsm_overlay_on "$ROOT" "$O" || { echo "not ok - deb: an overlay on the trixie root"; exit 1; }
mkdir -p "$O/merged/root/rsm"; cp "$dkms_deb" "$tools_deb" "$O/merged/root/rsm/"
# inroot COMMAND...: COMMAND inside the root (offline apt: nothing is fetched).
inroot() { rsm_chroot_run "$O/merged" env DEBIAN_FRONTEND=noninteractive "$@"; }
# says PATTERN COMMAND...: COMMAND succeeds and its output has a line matching PATTERN.
says() { local p=$1 o; shift; o=$("$@" 2>&1) || { echo "$o"; return 1; }; echo "$o"; grep -q -- "$p" <<<"$o"; }
fails() { ! "$@"; }
V=$(dpkg-deb -f "$dkms_deb" Version)
M=/lib/modules/$KREL/updates/dkms/rust_sockmod.ko.xz

t0=$(date +%s)
t "apt install ./rust-sockmod-dkms_$V ./rust-sockmod-tools_$V in a trixie root builds for $KREL" \
    inroot apt-get install -y "/root/rsm/$(basename "$dkms_deb")" "/root/rsm/$(basename "$tools_deb")"
cp "$OUT/out" "$OUT/apt-install.log"
echo "# deb: apt install to an installed module: $(( $(date +%s) - t0 )) s (the Rust metadata of $KREL prepared, the module built; native, $(nproc) cores)"
t "dkms status: rust-sockmod/$V installed for $KREL" says "^rust-sockmod/$V, $KREL, x86_64: installed" inroot dkms status
t "its module in /lib/modules/$KREL/updates/dkms carries $KREL's vermagic" \
    sh -c "/sbin/modinfo -F vermagic '$O/merged$M' | grep -q '^$KREL '"
t "rust-sockmod (the tools) runs and names its subcommands" says compare inroot rust-sockmod --help
# A rustc that is not the one the kernel records: refused with the one line, nothing installed.
inroot dkms remove -m rust-sockmod -v "$V" -k "$KREL" >"$OUT/dkms-remove.log" 2>&1 || true
mv "$O/merged/usr/bin/rustc" "$O/merged/usr/bin/rustc.real"
# shellcheck disable=SC2016 # the script's own $1 and $@.
printf '#!/bin/sh\n[ "$1" = --version ] && { echo "rustc 1.86.0 (05f9846f8 2025-03-31)"; exit 0; }\nexec /usr/bin/rustc.real "$@"\n' \
    > "$O/merged/usr/bin/rustc"; chmod 755 "$O/merged/usr/bin/rustc"
t "dkms install with another rustc fails" fails inroot dkms install -m rust-sockmod -v "$V" -k "$KREL"
t "and says why in one line: rustc, the kernel's version, this system's" grep -qxF \
    "rust-sockmod: $KREL: rustc: the kernel was built with '$(inroot rustc.real --version)', this system has 'rustc 1.86.0 (05f9846f8 2025-03-31)'" \
    "$O/merged/var/lib/dkms/rust-sockmod/$V/build/make.log"
t "no rust_sockmod module is left under /lib/modules/$KREL" sh -c "[ -z \"\$(find '$O/merged/lib/modules/$KREL' -name 'rust_sockmod.ko*')\" ]"
mv "$O/merged/usr/bin/rustc.real" "$O/merged/usr/bin/rustc"
t0=$(date +%s)
# reinstall: dkms install again; its log must not show a new preparation.
reinstall() {
    inroot dkms install -m rust-sockmod -v "$V" -k "$KREL" >/dev/null || return 1
    ! grep -h "preparing the Rust metadata" "$O/merged/var/lib/dkms/rust-sockmod/$V/$KREL/x86_64/log/make.log" || return 1
    inroot dkms status
}
t "with the recorded rustc again, dkms install rebuilds from the prepared metadata" \
    says "^rust-sockmod/$V, $KREL, x86_64: installed" reinstall
echo "# deb: the module rebuilt with the metadata prepared: $(( $(date +%s) - t0 )) s (native)"
if [ -n "$KREL2" ]; then
    t0=$(date +%s)
    t "apt install linux-image-$KREL2 (headers, source) offline: DKMS's kernel hook builds for it" \
        inroot apt-get install -y --no-install-recommends "linux-image-$KREL2" "linux-headers-$KREL2" \
        "linux-source-$(cut -d. -f1,2 <<<"$KREL2")"
    cp "$OUT/out" "$OUT/apt-install-$KREL2.log"
    echo "# deb: installing $KREL2 to its installed module: $(( $(date +%s) - t0 )) s (native)"
    t "dkms status: rust-sockmod/$V installed for $KREL2" says "^rust-sockmod/$V, $KREL2, x86_64: installed" inroot dkms status
    t "its module in /lib/modules/$KREL2/updates/dkms carries $KREL2's vermagic" \
        sh -c "/sbin/modinfo -F vermagic '$O/merged/lib/modules/$KREL2/updates/dkms/rust_sockmod.ko.xz' | grep -q '^$KREL2 '"
    # Two series, the second's source gone and its metadata not prepared: reinstalling the
    # package builds for the first and names, without failing, why the second is not built.
    s2=linux-source-$(cut -d. -f1,2 <<<"$KREL2")
    inroot apt-get remove -y "$s2" >"$OUT/remove-source.log" 2>&1 || true
    rm -rf "$O/merged/var/lib/rust-sockmod/$KREL2"
    t "with $s2 removed, apt reinstall of the package succeeds and says why $KREL2 is not built" \
        says "rust-sockmod: not built for $KREL2: the Rust metadata needs $s2 version" \
        inroot apt-get install -y --reinstall "/root/rsm/$(basename "$dkms_deb")"
    t "and $KREL is still built and installed" says "^rust-sockmod/$V, $KREL, x86_64: installed" inroot dkms status
fi
t "apt remove rust-sockmod-dkms" inroot apt-get remove -y rust-sockmod-dkms
t "nothing left: no module under /lib/modules, no dkms entry, no /var/lib/rust-sockmod" sh -c "
    [ -z \"\$(find '$O/merged/lib/modules' -name 'rust_sockmod.ko*')\" ] && [ ! -e '$O/merged/var/lib/dkms/rust-sockmod' ] && [ ! -e '$O/merged/var/lib/rust-sockmod' ]"
