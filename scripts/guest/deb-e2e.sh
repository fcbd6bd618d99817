#!/bin/bash
# plan: 14
# In the guest of deb-test.sh (Debian's kernel over a trixie root, no network): the DKMS package
# as a user has it after `apt install` (which deb-test.sh ran natively in the root: under TCG the
# build does not finish in an hour). The packages are in /root/rsm; OUT is the host's output
# directory.
set -uo pipefail
cd /root/rsm || exit 1
# shellcheck source=scripts/guest/tap.sh
. ./tap.sh
K=$(uname -r)
PKG=rust-sockmod
PKGV=$(dpkg-deb -f rust-sockmod-dkms_*_all.deb Version)
apt_offline() { DEBIAN_FRONTEND=noninteractive apt-get -o Acquire::http::Timeout=1 -o Acquire::Retries=0 "$@"; }
# mods KREL: rust_sockmod files under /lib/modules/KREL (every kernel without KREL).
mods() { find "/lib/modules/${1:-}" -name 'rust_sockmod.ko*' 2>/dev/null; }
echo "# kernel $K, package $PKGV, root $(. /etc/os-release; echo "$PRETTY_NAME")"

# shellcheck disable=SC2016 # expanded by bash -c.
check "the kernel's .config records the toolchain installed here (rustc, bindgen, gcc)" bash -c '
    c=/lib/modules/$(uname -r)/build/.config
    grep -qxF "CONFIG_RUSTC_VERSION_TEXT=\"$(rustc --version)\"" $c &&
    grep -qxF "CONFIG_BINDGEN_VERSION_TEXT=\"$(bindgen --version)\"" $c &&
    grep -qxF "CONFIG_CC_VERSION_TEXT=\"$(x86_64-linux-gnu-gcc-14 --version | head -1)\"" $c'

check "dkms status: $PKG/$PKGV installed for the running kernel $K" \
    grep -q "^$PKG/$PKGV, $K, x86_64: installed" <(dkms status)
t1=$(date +%s)
check "modprobe rust_sockmod" modprobe rust_sockmod
echo "# time: modprobe $(( $(date +%s) - t1 )) s"
udevadm settle -t 30
check "/dev/rust_sockmod has the udev rule's mode (660, group rust-sockmod)" \
    test "$(stat -c %a:%G /dev/rust_sockmod 2>&1)" = "660:rust-sockmod"
modprobe tipc 2>/dev/null; modprobe rds 2>/dev/null
rust-sockmod compare > "$OUT/compare.txt" 2>&1; rc=$?
check "rust-sockmod compare exits 0 with 0 UNEXPECTED" bash -c "[ $rc = 0 ] && grep -q ' 0 UNEXPECTED\$' '$OUT/compare.txt'"
[ "$rc" = 0 ] || tail -n 5 "$OUT/compare.txt" | diag
check "rust-sockmod --help names the subcommands" bash -c 'rust-sockmod --help | grep -q compare'
check "modprobe -r rust_sockmod" modprobe -r rust_sockmod
check "rust_sockmod is no longer loaded" bash -c '! grep -q "^rust_sockmod " /proc/modules'

# A mismatched rustc: the build for this kernel refuses with the one line and installs nothing.
dkms remove -m "$PKG" -v "$PKGV" -k "$K" > "$OUT/dkms-remove.log" 2>&1
dpkg-divert --quiet --local --rename --divert /usr/bin/rustc.real --add /usr/bin/rustc
# shellcheck disable=SC2016 # the script's own $1 and $@.
printf '#!/bin/sh\n[ "$1" = --version ] && { echo "rustc 1.86.0 (05f9846f8 2025-03-31)"; exit 0; }\nexec /usr/bin/rustc.real "$@"\n' > /usr/bin/rustc
chmod 755 /usr/bin/rustc
dkms install -m "$PKG" -v "$PKGV" -k "$K" > "$OUT/dkms-mismatch.log" 2>&1; rc=$?
check "dkms install with another rustc fails" test "$rc" != 0
check "the build log says why in one line (rustc, both versions)" grep -qxF \
    "rust-sockmod: $K: rustc: the kernel was built with '$(rustc.real --version)', this system has 'rustc 1.86.0 (05f9846f8 2025-03-31)'" \
    "/var/lib/dkms/$PKG/$PKGV/build/make.log"
check "and no rust_sockmod module is left under /lib/modules/$K" test -z "$(mods "$K")"
rm -f /usr/bin/rustc
dpkg-divert --quiet --local --rename --remove /usr/bin/rustc

apt_offline remove -y rust-sockmod-dkms > "$OUT/apt-remove.log" 2>&1; rc=$?
check "apt remove rust-sockmod-dkms succeeds" test "$rc" = 0
check "no rust_sockmod module is left under /lib/modules (every kernel)" test -z "$(mods)"
check "dkms knows no $PKG and /var/lib/rust-sockmod is gone" \
    bash -c "! dkms status | grep -q '^$PKG' && ! test -e /var/lib/rust-sockmod"
tap_done
