#!/usr/bin/env bash
# Boots the cached test kernel with virtme-ng and runs one guest command; returns its exit
# status.   usage: vm-run.sh FLAVOUR OUTDIR COMMAND...
# TCG by default (this machine kind's /dev/kvm cannot run ordinary kernels); RSM_KVM=1 opts in
# to KVM. RSM_VM_TIMEOUT bounds the whole VM run (seconds, default 1200).
source "$(dirname "$0")/lib/lib.sh"

FLAVOUR=$1; OUTDIR=$2; shift 2
# RSM_KDIR: the build to boot (build-kernel.sh prints it); else the last one built.
# RSM_KIMG: boot this image instead (Debian's own vmlinuz, in the tree debian-kernel.sh
# extracted: virtme-ng finds its modules beside it, in usr/lib/modules/VERSION).
KDIR=${RSM_KDIR:-$(rsm_kernel_link "$FLAVOUR")}
BZ=${RSM_KIMG:-$KDIR/arch/x86/boot/bzImage}
[ -f "$BZ" ] || rsm_die "vm: no kernel image at $BZ (run scripts/build-kernel.sh $FLAVOUR, or scripts/debian-kernel.sh for RSM_KIMG)"
[ -x "$RSM_VNG" ] || rsm_die "vm: virtme-ng missing at $RSM_VNG (run scripts/setup.sh)"
mkdir -p "$OUTDIR"
# The exact kernel version, for the guest's TAP header and reports.
# shellcheck disable=SC2155 # Empty without .complete; set -e must not stop the run on it.
[ -n "${RSM_KIMG:-}" ] || export RSM_KVERSION=$(sed -n 's/^version=//p' "$KDIR/.complete" 2>/dev/null)

accel=(--disable-kvm)
[ "${RSM_KVM:-0}" = 1 ] && accel=()
mem=${RSM_VM_MEMORY:-2G}
extra=()
# The debug kernel: more memory, and 4-level paging (under TCG with LA57, KASAN reports a
# wild access in handle_edge_irq at 0.003 s of boot, before any module is loaded).
[ "$FLAVOUR" = debug ] && { mem=${RSM_VM_MEMORY:-4G}; extra=(--append no5lvl); }
# RSM_VM_APPEND: more kernel command line (make test passes slub_debug=FZPU to the normal kernel,
# so that a use-after-free hits poisoned memory and oopses instead of passing unseen).
[ -n "${RSM_VM_APPEND:-}" ] && extra+=(--append "$RSM_VM_APPEND")
# RSM_VM_QEMU_OPTS: more QEMU options (make bench's instruction-counted run passes
# "-icount shift=0,sleep=off": the guest's clock then advances one nanosecond per instruction).
[ -n "${RSM_VM_QEMU_OPTS:-}" ] && extra+=(--qemu-opts "$RSM_VM_QEMU_OPTS")

export PATH="$RSM_VENV/bin:$PATH"
log="$OUTDIR/vm-console.log"
start=$(date +%s)
run_vm() {
    timeout --kill-after=15 "${RSM_VM_TIMEOUT:-1200}" \
        "$RSM_VNG" -r "$BZ" --user root "${accel[@]}" "${extra[@]}" --cpus 2 --memory "$mem" \
        --rwdir "$OUTDIR" --cwd "$RSM_ROOT" --exec "$*" </dev/null 2>"$log" | tee "$OUTDIR/vm-stdout.txt"
    return "${PIPESTATUS[0]}"
}
set +e
run_vm "$@"; rc=$?
# QEMU 10.0's TCG has been seen to abort at boot (iotlb_to_section assertion) before the
# guest ran anything; that is the emulator, not the test: retry once, and say so.
if [ $rc != 0 ] && [ ! -s "$OUTDIR/vm-stdout.txt" ] && grep -q "^qemu-system-x86_64: .*Assertion" "$log"; then
    rsm_log "vm: QEMU aborted before the guest started ($(grep -m1 Assertion "$log" | cut -c1-120)); retrying once"
    cp "$log" "$log.1"
    run_vm "$@"; rc=$?
fi
set -e
secs=$(( $(date +%s) - start ))
echo "vm_seconds=$secs" > "$OUTDIR/vm-time"
case $rc in
    0) ;;
    124|137) rsm_die "vm: guest did not finish within ${RSM_VM_TIMEOUT:-1200} s (hung?)" "$log" ;;
    255) rsm_die "vm: the guest died or its exit status was lost (panic? no udev on the host?)" "$log" ;;
esac
exit $rc
