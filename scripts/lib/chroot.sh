# shellcheck shell=bash
# A chroot of the Debian release a distribution kernel was built on, with the toolchain its
# headers record (debootstrap from the host's own mirror). Used by debian-kernel.sh and
# debian-module.sh. Source it after lib.sh and apt.sh; do not run it.

# The packages a kernel's modules_prepare (Rust included) and a module build need; the compiler
# (gcc-NN) is added by the caller from the headers' CONFIG_CC_VERSION_TEXT. openssl: the .config
# has options that depend on what the host openssl supports (CONFIG_OPENSSL_SUPPORTS_ML_DSA).
RSM_CHROOT_PKGS=rustc,rust-src,rustfmt,bindgen,libclang-dev,make,bc,bison,flex,libelf-dev,libssl-dev,openssl,python3,kmod,cpio,dwarves,xz-utils,perl

# rsm_chroot_dir SUITE: where the chroot of SUITE lives.
rsm_chroot_dir() { echo "$RSM_CACHE/debian/chroot-$1"; }

# rsm_chroot_make SUITE EXTRA_PKGS: debootstrap it once (marked .complete); prints its directory.
rsm_chroot_make() {
    local suite=$1 extra=$2 dir mirror log="$RSM_LOGS/debian-chroot.log"
    dir=$(rsm_chroot_dir "$suite")
    if [ -f "$dir/.complete" ] && grep -qxF "pkgs=$RSM_CHROOT_PKGS,$extra" "$dir/.complete"; then
        echo "$dir"; return
    fi
    command -v debootstrap >/dev/null || rsm_die "debian: debootstrap is missing (run scripts/setup.sh)"
    mirror=$(python3 "$RSM_ROOT/scripts/apt_mirrors.py") || rsm_die "debian: cannot find the host's Debian mirror"
    rm -rf --one-file-system "$dir" "$dir.tmp"; mkdir -p "$(dirname "$dir")"
    rsm_log "debian: debootstrap $suite (minbase + the kernel toolchain) into $dir"
    # In a private mount namespace: the proc/sys mounts debootstrap makes vanish with it, even
    # when it is killed.
    unshare -m debootstrap --variant=minbase --include="$RSM_CHROOT_PKGS,$extra" "$suite" "$dir.tmp" "${mirror%% *}" \
        >"$log" 2>&1 || rsm_die "debian: debootstrap of $suite failed" "$log"
    mv "$dir.tmp" "$dir"
    echo "pkgs=$RSM_CHROOT_PKGS,$extra" > "$dir/.complete"
    echo "$dir"
}

# rsm_overlay_on ROOT DIR: mounts an overlay of ROOT (read-only below, this run's changes in
# DIR/upper) at DIR/merged, after dropping whatever a previous run left in DIR; so every run
# starts from the same root. rsm_overlay_drop DIR unmounts and removes it.
rsm_overlay_on() {
    local root=$1 dir=$2
    rsm_overlay_drop "$dir"
    mkdir -p "$dir/upper" "$dir/work" "$dir/merged"
    mount -t overlay overlay -o "lowerdir=$root,upperdir=$dir/upper,workdir=$dir/work" "$dir/merged"
}
rsm_overlay_drop() { umount "$1/merged" 2>/dev/null || true; rm -rf --one-file-system "$1"; }

# rsm_chroot_run DIR COMMAND...: runs COMMAND in the chroot, in a private mount namespace (the
# mounts go with it) where $RSM_CACHE is bind-mounted at the same path, with a clean
# environment.
rsm_chroot_run() {
    local dir=$1; shift
    mkdir -p "$dir$RSM_CACHE"
    # shellcheck disable=SC2016 # $1 and $@ are expanded by the inner shell.
    unshare -m sh -c 'set -e; d=$1; c=$2; shift 2
        mount --bind "$c" "$d$c"; mount -t proc proc "$d/proc"; mount --bind /dev "$d/dev"
        exec chroot "$d" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"' \
        sh "$dir" "$RSM_CACHE" "$@"
}
