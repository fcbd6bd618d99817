#!/usr/bin/env bash
# make deb-test: the DKMS package end to end, as a user installs it, on a Debian 13 root
# (deb-root.sh; the host's Debian 12 is not involved). First natively, in a chroot
# (deb-check.sh with a second image: apt install, a mismatched rustc refused, a second kernel
# image installed and built for by DKMS's hook, apt remove). Then `apt install` of both
# packages into the root (natively, in a chroot: the DKMS build), and a VM booting Debian's own
# kernel over that root (scripts/guest/deb-e2e.sh: dkms status, modprobe, the udev rule's mode,
# compare, modprobe -r, the mismatched rustc, apt remove). The build runs natively because
# under TCG, this machine kind's only accelerator, it does not finish in an hour (extracting the
# kernel source alone took 19 min). TAP on stdout, the summary line last. The root is used
# through an overlay: each run starts from the same root.
#   usage: deb-test.sh            (RSM_DEB_KREL, RSM_DEB_KREL2: the two images; default the
#                                  newest 7.3 and 7.2 the project knows to build)
source "$(dirname "$0")/lib/lib.sh"
source "$RSM_ROOT/scripts/lib/tap-count.sh"
source "$RSM_ROOT/scripts/lib/chroot.sh"

K1=${RSM_DEB_KREL:-7.3.4+deb13-amd64}
K2=${RSM_DEB_KREL2:-7.2.12+deb13-amd64}
OUT="$RSM_CACHE/runs/deb-test"
rm -rf "$OUT"; mkdir -p "$OUT"
t0=$(date +%s)
bash "$RSM_ROOT/scripts/deb-check.sh" "$K1" "$K2" | tee "$OUT/native.tap"
read -r deb_dkms deb_tools < <(bash "$RSM_ROOT/scripts/deb.sh" | paste -sd' ')
ROOT=$(bash "$RSM_ROOT/scripts/deb-root.sh" "$K1")
[ -x "$RSM_VNG" ] || rsm_die "deb-test: virtme-ng missing at $RSM_VNG (run scripts/setup.sh)"

# The overlay: the cached root below, this run's changes above, merged where the VM boots it.
O="$RSM_CACHE/runs/deb-test-overlay"
trap 'rsm_overlay_drop "$O"' EXIT
rsm_overlay_on "$ROOT" "$O" || rsm_die "deb-test: cannot mount an overlay on $ROOT"
mkdir -p "$O/merged/root/rsm"
cp "$deb_dkms" "$deb_tools" "$RSM_ROOT/scripts/guest/tap.sh" "$RSM_ROOT/scripts/guest/deb-e2e.sh" "$O/merged/root/rsm/"
ti=$(date +%s)
# (The package's postinst builds for every kernel with headers: here K1 only.)
if rsm_chroot_run "$O/merged" env DEBIAN_FRONTEND=noninteractive apt-get install -y \
        "/root/rsm/$(basename "$deb_dkms")" "/root/rsm/$(basename "$deb_tools")" >"$OUT/apt-install.log" 2>&1; then
    echo "ok - deb-test: apt install of both packages into the root builds for $K1 ($(( $(date +%s) - ti )) s, native)"
    inst=1
else
    echo "not ok - deb-test: apt install of both packages into the root"; tail -n 15 "$OUT/apt-install.log" | sed 's/^/# /'
    inst=0
fi

rsm_log "deb-test: booting Debian's $K1 over the trixie root (TCG; log: $OUT/vm-console.log)"
set +e
PATH="$RSM_VENV/bin:$PATH" timeout --kill-after=15 "${RSM_VM_TIMEOUT:-3600}" \
    "$RSM_VNG" -r "$ROOT/boot/vmlinuz-$K1" --root "$O/merged" --rw --user root --disable-kvm \
    --cpus 2 --memory 4G --rwdir "/rsm-out=$OUT" \
    --exec "OUT=/rsm-out bash /root/rsm/deb-e2e.sh" </dev/null 2>"$OUT/vm-console.log" \
    | tee "$OUT/vm-stdout.txt"
rc=${PIPESTATUS[0]}
set -e
# (deb-e2e.sh marks no check # SKIP; one so marked would count as passed here.)
read -r passed failed skipped < <(rsm_tap_count "$OUT/vm-stdout.txt")
passed=$((passed + skipped))
want=$(sed -n 's/^# plan: \([0-9]*\)$/\1/p' "$RSM_ROOT/scripts/guest/deb-e2e.sh")
if [ $((passed + failed)) != "$want" ]; then
    echo "not ok - deb-test: $((passed + failed)) checks reported, $want planned (vm exit $rc)"
    failed=$((failed + 1))
fi
if [ "$inst" = 1 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
read -r n_pass n_fail n_skip < <(rsm_tap_count "$OUT/native.tap")
passed=$((passed + n_pass + n_skip)); failed=$((failed + n_fail))
if [ $((n_pass + n_fail + n_skip)) != 16 ]; then
    echo "not ok - deb-test: deb-check.sh reported $((n_pass + n_fail + n_skip)) of its 16 checks"
    failed=$((failed + 1))
fi
rsm_log "deb-test: $(rsm_fmt_secs $(( $(date +%s) - t0 ))) in all"
echo "$passed passed, $failed failed, 0 skipped"
[ "$failed" = 0 ]
