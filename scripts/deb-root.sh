#!/usr/bin/env bash
# A Debian 13 (trixie) root file system for the DKMS end-to-end test (make deb-test): what a
# user's machine has before installing rust-sockmod-dkms, so that the guest, which has no
# network, installs the package as a user would (and deb-check.sh's chroot).
#   usage: deb-root.sh KREL [SECOND_KREL]      prints the root's directory, one per arguments
# The root holds: trixie minbase, dkms, udev, the build dependencies the package declares
# (RSM_CHROOT_PKGS + the gcc the image's .config names), Debian's image KREL with its headers
# and linux-source-X.Y (from trixie-backports), and, downloaded into apt's cache but not
# installed, SECOND_KREL's image, headers and source (the guest installs them offline to see
# dkms build for a new kernel). Made once per argument list (marked .complete).
source "$(dirname "$0")/lib/lib.sh"
source "$RSM_ROOT/scripts/lib/apt.sh"
source "$RSM_ROOT/scripts/lib/chroot.sh"

K1=$1; K2=${2:-}
DIR="$RSM_CACHE/debian/trixie-root-$K1${K2:+-$K2}"
log="$RSM_LOGS/deb-root.log"
want="krels=$K1 $K2 pkgs=$RSM_CHROOT_PKGS"
if [ -f "$DIR/.complete" ] && grep -qxF "$want" "$DIR/.complete"; then echo "$DIR"; exit 0; fi
series() { cut -d. -f1,2 <<<"$1"; }
command -v debootstrap >/dev/null || rsm_die "deb-root: debootstrap is missing (run scripts/setup.sh)"
mirror=$(python3 "$RSM_ROOT/scripts/apt_mirrors.py") || rsm_die "deb-root: cannot find the host's Debian mirror"
t0=$(date +%s)
rm -rf --one-file-system "$DIR" "$DIR.tmp"; mkdir -p "$(dirname "$DIR")"
rsm_log "deb-root: debootstrap trixie into $DIR (log: $log)"
unshare -m debootstrap --variant=minbase --include=ca-certificates trixie "$DIR.tmp" "${mirror%% *}" >"$log" 2>&1 \
    || rsm_die "deb-root: debootstrap failed" "$log"
printf 'deb %s trixie main\ndeb %s trixie-backports main\ndeb %s trixie-security main\n' \
    "${mirror%% *}" "${mirror%% *}" "${mirror#* }" > "$DIR.tmp/etc/apt/sources.list"
cp /etc/resolv.conf "$DIR.tmp/etc/resolv.conf"
# No service starts while packages are installed into a directory.
printf '#!/bin/sh\nexit 101\n' > "$DIR.tmp/usr/sbin/policy-rc.d"; chmod 755 "$DIR.tmp/usr/sbin/policy-rc.d"
# What the kernel's .config names as its compiler (gcc-NN), read from the image's headers
# once they are installed; the build dependencies first.
ins() { rsm_chroot_run "$DIR.tmp" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >>"$log" 2>&1; }
rsm_chroot_run "$DIR.tmp" apt-get update >>"$log" 2>&1 || rsm_die "deb-root: apt-get update failed" "$log"
# shellcheck disable=SC2046 # one package per word.
ins dkms udev kmod initramfs-tools binutils sudo $(tr , ' ' <<<"$RSM_CHROOT_PKGS") \
    || rsm_die "deb-root: installing dkms and the build dependencies failed" "$log"
ins -t trixie-backports "linux-image-$K1" "linux-headers-$K1" "linux-source-$(series "$K1")" \
    || rsm_die "deb-root: installing Debian's $K1 failed" "$log"
cc=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\(x86_64-linux-gnu-gcc-[0-9]*\) .*/\1/p' "$DIR.tmp/usr/src/linux-headers-$K1/.config")
[ -n "$cc" ] || rsm_die "deb-root: $K1's .config names no x86_64-linux-gnu-gcc-NN"
ins "${cc#x86_64-linux-gnu-}" || rsm_die "deb-root: installing ${cc#x86_64-linux-gnu-} failed" "$log"
if [ -n "$K2" ]; then
    rsm_chroot_run "$DIR.tmp" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        --download-only -t trixie-backports "linux-image-$K2" "linux-headers-$K2" "linux-source-$(series "$K2")" \
        >>"$log" 2>&1 || rsm_die "deb-root: downloading Debian's $K2 failed" "$log"
fi
rm -f "$DIR.tmp/usr/sbin/policy-rc.d"
echo "rsm-guest" > "$DIR.tmp/etc/hostname"
mv "$DIR.tmp" "$DIR"
echo "$want" > "$DIR/.complete"
rsm_log "deb-root: ready in $(rsm_fmt_secs $(( $(date +%s) - t0 ))), $(du -sh "$DIR" | cut -f1)"
echo "$DIR"
