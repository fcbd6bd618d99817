#!/usr/bin/env bash
# Builds rust_sockmod.ko for Debian's own kernel (prepared by debian-kernel.sh) with the
# toolchain that kernel was built with, in its release's chroot, and checks it against the
# kernel before anything loads it (symcheck.sh). Prints the module's path.
#   usage: debian-module.sh DIR      (DIR: what debian-kernel.sh printed)
source "$(dirname "$0")/lib/lib.sh"
source "$RSM_ROOT/scripts/lib/apt.sh"
source "$RSM_ROOT/scripts/lib/chroot.sh"
DIR=$1
# shellcheck disable=SC1091 # written by debian-kernel.sh.
. "$DIR/kernel.env"
M="$DIR/module"; log="$RSM_LOGS/debian-module-build.log"
# The chroot must still hold the toolchain the metadata was made with (rustc refuses .rmeta of
# another rustc): when it changed, the prepared tree is stale.
now="$(rsm_chroot_run "$CHROOT" rustc --version);$(rsm_chroot_run "$CHROOT" bindgen --version);$(rsm_chroot_run "$CHROOT" "$CC" --version | sed -n 1p);"
[ "$now" = "${TOOLS:-}" ] || rsm_die "debian: $CHROOT now has '$now', $DIR was prepared with '${TOOLS:-?}': remove $DIR and run again"
# A copy of the module's sources (the chroot sees only the cache; the project's own build of
# rust_sockmod.ko, for the project's kernel, stays where it is).
rm -rf "$M"; mkdir -p "$M/src"
cp "$RSM_ROOT"/{Kbuild,probes.mk,rust_sockmod.rs} "$M/"
cp "$RSM_ROOT"/src/*.rs "$RSM_ROOT"/src/*.c "$RSM_ROOT"/src/*.h "$M/src/"
rsm_chroot_run "$CHROOT" make -C "$DIR/build" M="$M" KERNELRELEASE="$KREL" CC="$CC" modules >"$log" 2>&1 \
    || rsm_die "debian: building rust_sockmod.ko for $KREL failed" "$log"
grep -E '^(warning|error)' "$log" | head -n 20 >&2 || true
# The vermagic the kernel's own modules carry.
ref=$(find "$DIR/root/usr/lib/modules/$KREL/kernel/net" -name 'tipc.ko*' | sed -n 1p)
[ -n "$ref" ] || rsm_die "debian: no tipc module in $KREL's modules to read the vermagic from"
bash "$RSM_ROOT/scripts/symcheck.sh" "$M/rust_sockmod.ko" "$DIR/headers/Module.symvers" \
    "$(/sbin/modinfo -F vermagic "$ref")" >&2 || rsm_die "debian: rust_sockmod.ko does not fit $KREL (lines above)"
echo "$M/rust_sockmod.ko"
