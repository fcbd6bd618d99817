# shellcheck shell=bash
# shellcheck disable=SC2034 # KVERSION is read by the scripts that source this file.
# The kernel a run targets, built or fetched, with the module and userspace_test built for it.
# Source it after lib.sh; do not run it.
#   rsm_target FLAVOUR   (normal | debug: the project's own kernel; debian: Debian's own image,
#   debian-kernel.sh). Sets and exports RSM_KDIR (the build tree), KVERSION (for reports), and
#   for Debian's kernel RSM_KIMG (the image vm-run.sh boots), RSM_KO (the module the guest
#   loads) and RSM_DEBIAN_DIR.
rsm_target() {
    if [ "$1" = debian ]; then
        RSM_DEBIAN_DIR=$(bash "$RSM_ROOT/scripts/debian-kernel.sh")
        # Only these two from kernel.env (its CC must not reach the cargo build).
        # shellcheck disable=SC1091,SC2016 # written by debian-kernel.sh; expanded by bash -c.
        RSM_KIMG=$(bash -c '. "$1"; echo "$KIMG"' sh "$RSM_DEBIAN_DIR/kernel.env")
        # shellcheck disable=SC2016 # expanded by bash -c.
        KVERSION="debian-$(bash -c '. "$1"; echo "$PKGVER"' sh "$RSM_DEBIAN_DIR/kernel.env")"
        RSM_KDIR="$RSM_DEBIAN_DIR/build"
        RSM_KO=$(bash "$RSM_ROOT/scripts/debian-module.sh" "$RSM_DEBIAN_DIR")
        bash "$RSM_ROOT/scripts/build-module.sh" --userspace-only
        export RSM_DEBIAN_DIR RSM_KIMG RSM_KDIR RSM_KO
    else
        RSM_KDIR=$(bash "$RSM_ROOT/scripts/build-kernel.sh" "$1")
        bash "$RSM_ROOT/scripts/build-module.sh" "$RSM_KDIR"
        KVERSION=$(sed -n 's/^version=//p' "$RSM_KDIR/.complete")
        export RSM_KDIR
    fi
}
