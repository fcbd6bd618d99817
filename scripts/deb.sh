#!/usr/bin/env bash
# make deb: the two Debian packages, in dist/ (prints their paths).
#   rust-sockmod-dkms_VERSION_all.deb    the module's source under /usr/src/rust-sockmod-VERSION
#       with dkms.conf and packaging/dkms-build.sh (which prepares the kernel's Rust metadata),
#       the udev rule, a commented modules-load.d file
#   rust-sockmod-tools_VERSION_amd64.deb userspace_test, installed as /usr/bin/rust-sockmod
# VERSION is the module's (rust_sockmod.rs, VERSION; the report's first line): one version for
# the module and its tool. The
# toolchain pins are what every Debian 13 7.x image's .config records (deb-test checks the
# installed images against them): rustc 1.85.1, bindgen 0.71.1, gcc-14 (unversioned: a trixie
# point release of gcc-14 must not be blocked; dkms-build.sh names a mismatch per kernel).
source "$(dirname "$0")/lib/lib.sh"
source "$RSM_ROOT/scripts/lib/chroot.sh"

VERSION=$(sed -n 's/^pub(crate) const VERSION: &str = "\(.*\)";$/\1/p' "$RSM_ROOT/rust_sockmod.rs")
[ -n "$VERSION" ] || rsm_die "deb: no VERSION in rust_sockmod.rs"
TOOLCHAIN="rustc (>= 1.85.1+dfsg), rustc (<< 1.85.2~), rust-src (>= 1.85.1+dfsg), rust-src (<< 1.85.2~), bindgen (>= 0.71.1), bindgen (<< 0.71.2~), gcc-14"
BUILDDEPS=$(tr , '\n' <<<"$RSM_CHROOT_PKGS" | grep -vxE 'rustc|rust-src|bindgen' | paste -sd, | sed 's/,/, /g')
OUT="$RSM_ROOT/dist"
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
mkdir -p "$OUT"
P="$RSM_ROOT/packaging"
# fill TEMPLATE: the template with its @NAME@ fields set.
fill() { sed -e "s/@VERSION@/$VERSION/g" -e "s/@TOOLCHAIN@/$TOOLCHAIN/" -e "s/@BUILDDEPS@/$BUILDDEPS/" \
             -e "s/@GLIBC@/${GLIBC:-}/" "$1"; }

# The DKMS package.
D="$W/dkms"; S="$D/usr/src/rust-sockmod-$VERSION"
mkdir -p "$S/src" "$D/DEBIAN" "$D/usr/lib/udev/rules.d" "$D/etc/modules-load.d" "$D/usr/share/doc/rust-sockmod-dkms"
cp "$RSM_ROOT"/{Kbuild,probes.mk,rust_sockmod.rs} "$S/"
cp "$RSM_ROOT"/src/*.rs "$RSM_ROOT"/src/*.c "$RSM_ROOT"/src/*.h "$S/src/"
cp "$P/dkms-build.sh" "$RSM_ROOT/scripts/symcheck.sh" "$S/"
fill "$P/dkms.conf.in" > "$S/dkms.conf"
cp "$P/60-rust-sockmod.rules" "$D/usr/lib/udev/rules.d/"
cp "$P/modules-load.conf" "$D/etc/modules-load.d/rust-sockmod.conf"
cp "$RSM_ROOT/docs/install.md" "$D/usr/share/doc/rust-sockmod-dkms/"
fill "$P/control.dkms.in" > "$D/DEBIAN/control"
mkdir -p "$D/etc/kernel/postrm.d"
install -m 755 "$P/kernel-postrm" "$D/etc/kernel/postrm.d/rust-sockmod"
printf '%s\n' /etc/modules-load.d/rust-sockmod.conf /etc/kernel/postrm.d/rust-sockmod > "$D/DEBIAN/conffiles"
for s in postinst prerm postrm; do fill "$P/$s.dkms" > "$D/DEBIAN/$s"; chmod 755 "$D/DEBIAN/$s"; done

# The tools package.
bash "$RSM_ROOT/scripts/build-module.sh" --userspace-only
bin="$RSM_ROOT/userspace_test/target/release/userspace_test"
GLIBC=$(objdump -T "$bin" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -n 1 | sed 's/GLIBC_//')
T="$W/tools"
mkdir -p "$T/DEBIAN" "$T/usr/bin" "$T/usr/share/doc/rust-sockmod-tools"
install -m 755 -s "$bin" "$T/usr/bin/rust-sockmod"
cp "$RSM_ROOT/docs/userspace_test.md" "$T/usr/share/doc/rust-sockmod-tools/"
fill "$P/control.tools.in" > "$T/DEBIAN/control"

for d in "$D" "$T"; do
    doc=$(find "$d/usr/share/doc" -mindepth 1 -maxdepth 1 -type d)
    cp "$P/copyright" "$doc/copyright"
    find "$d" -type d -exec chmod 755 {} +
    (cd "$d" && find . -path ./DEBIAN -prune -o -type f -printf '%P\n' | LC_ALL=C sort | xargs md5sum) > "$d/DEBIAN/md5sums"
    dpkg-deb --root-owner-group -Zxz --build "$d" "$OUT" >/dev/null || rsm_die "deb: dpkg-deb failed for $d"
done
ls "$OUT/rust-sockmod-dkms_${VERSION}_all.deb" "$OUT/rust-sockmod-tools_${VERSION}_amd64.deb"
