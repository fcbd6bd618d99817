#!/usr/bin/env bash
# make mutants: checks that the suite can fail. Each mutant below breaks a scratch copy of the
# project on purpose (one replacement in one file); the parts of the VM suite that must see it
# run against that copy on the normal kernel; a mutant whose run passes is MISSED and fails
# this script.
#   usage: mutants.sh [NAME...]   (default: all)
source "$(dirname "$0")/lib/lib.sh"
source "$RSM_ROOT/scripts/lib/target.sh"
# The normal kernel of the selected series (KVER, default the newest), built if missing, with
# the unmutated module and userspace_test built for it (copied into every scratch tree; each
# mutant's own module or userspace_test is built in its copy below, against this kernel).
rsm_target normal
KDIR=$RSM_KDIR
M="$RSM_CACHE/mutants"
mkdir -p "$M"

# NAME | file | guest parts ("lint": scripts/lint.sh on the host instead of the VM) | the
# failing check that must appear (grep -E on "not ok" lines)
# The replacement (old text, new text) follows each row in mutation_text below.
MUTANTS=(
    "netns-ignored|src/ops.rs|load compare|named by fd, path and pid"
    "no-net-raw-check|src/ops.rs|load compare|opened without CAP_NET_RAW"
    "user-socket-elsewhere|userspace_test/src/compare.rs|load compare|observed by SO_NETNS_COOKIE"
    "part-stops-early|scripts/guest/t_limits.sh|load limits|part limits: [0-9]+ of 15 planned"
    "part-exits-nonzero|scripts/guest/t_limits.sh|load limits|part limits: .*exit 3"
    "splat-scrolled-away|scripts/guest/t_limits.sh|load limits|dmesg clean \\(the whole run"
    "histogram-off-by-one|src/stats.rs|load kunit|kunit: rust_sockmod_stats.histogram_buckets"
    "parser-extra-words|src/commands.rs|load kunit|kunit: rust_sockmod_commands.malformed_is_einval"
    "cookie-not-ss-s|src/report.rs|load text|ss -tlne shows the listener with the report's ino and cookie"
    "write-runs-one-command|src/device.rs|load text|returns its whole length"
    "release-cause-lost|src/state.rs|load trace|release: the released socket, cause user"
    "netns-exit-takes-others|src/state.rs|load netns|released exactly that socket"
    "spares-never-taken|src/state.rs|load limits|take 10 spare pairs instead of allocating"
    "spares-never-kept|src/state.rs|load limits|64 node pairs kept as spares"
    "bind-unchecked|src/ops.rs|load perm|userns: bind [0-9]+ refused"
    "listen-unchecked|src/ops.rs|load perm|passed: listen [0-9]+ refused"
    "release-unchecked|src/ops.rs|load perm|userns: RSM_IOC_RELEASE of [0-9]+ refused"
    "release-all-unfiltered|src/ops.rs|load perm|userns: nothing changed: both sockets live"
    "reset-unchecked|src/ops.rs|load perm|nocap: RSM_IOC_RESET_STATS refused"
    "trace-leaves-tracing-off|userspace_test/src/trace/tracefs.rs|load compare|tracefs left as found"
    "sock-create-kern-misprobed|src/ksocket.rs|load netns|sock_create_kern\\(\\)'s netns reference as a socket shows it"
    "census-core-not-skipped|src/census.c|load census|creator outside the socket core"
    "census-rcu-destruct-unprobed|src/census.c|load census|census on$"
    "census-own-miscounted|src/census.c|load census|cross-check: own=1 table=1 result=ok"
    "census-pins-unseen|src/census.rs|load census|auditor: the deleted netns is pinned"
    "census-off-leaves-clone-probe|src/census.c|load census|no probe left registered"
    "census-softirq-destruct-missed|src/census.c|load census|churn: every report after them|vm: the guest crashed"
    "census-removal-gated-on-kern|src/census.c|load census|mptcp: once accepted|vm: the guest crashed"
    "census-memo-ignores-slots|src/census.c|load census|memo: of the bench's"
    "census-unchecked|src/ops.rs|load census|census off from a user-namespace root: EPERM"
    "clippy-needless-return|src/names.rs|lint|lint: clippy on the module"
    "rustfmt-misformatted|src/stats.rs|lint|lint: rustfmt --check \\(module"
    "shellcheck-unquoted|scripts/guest/t_load.sh|lint|lint: shellcheck"
)
# mutation_text NAME: prints OLD, a line "=====", NEW.
mutation_text() {
    case $1 in
    netns-ignored) cat <<'T'
        NetnsSel::Fd(fd) => Net::from_fd(*fd),
        NetnsSel::Path(p) => Net::from_path(p),
        NetnsSel::Pid(pid) => Net::from_pid(*pid),
=====
        NetnsSel::Fd(fd) => Net::from_fd(*fd).and_then(|_| Net::current()),
        NetnsSel::Path(p) => Net::from_path(p).and_then(|_| Net::current()),
        NetnsSel::Pid(pid) => Net::from_pid(*pid).and_then(|_| Net::current()),
T
    ;;
    bind-unchecked) cat <<'T'
        "bind refused: no CAP_NET_ADMIN over the socket's netns",
    )?;
=====
        "bind refused: no CAP_NET_ADMIN over the socket's netns",
    )
    .or(Ok::<(), Error>(()))?;
T
    ;;
    listen-unchecked) cat <<'T'
        "listen refused: no CAP_NET_ADMIN over the socket's netns",
    )?;
=====
        "listen refused: no CAP_NET_ADMIN over the socket's netns",
    )
    .or(Ok::<(), Error>(()))?;
T
    ;;
    release-unchecked) cat <<'T'
        "release refused: no CAP_NET_ADMIN over the socket's netns",
    )?;
=====
        "release refused: no CAP_NET_ADMIN over the socket's netns",
    )
    .or(Ok::<(), Error>(()))?;
T
    ;;
    release-all-unfiltered) cat <<'T'
                let allowed = net.file_capable(file, CAP_NET_ADMIN);
=====
                let allowed = net.file_capable(file, CAP_NET_ADMIN) | true;
T
    ;;
    reset-unchecked) cat <<'T'
pub(crate) fn reset_stats(file: &LocalFile) -> Result {
    if !shim::file_capable_host(file, CAP_NET_ADMIN) {
=====
pub(crate) fn reset_stats(file: &LocalFile) -> Result {
    if !shim::file_capable_host(file, CAP_NET_ADMIN) && false {
T
    ;;
    census-unchecked) cat <<'T'
pub(crate) fn census(file: &LocalFile, on: bool) -> Result {
    if !shim::file_capable_host(file, CAP_NET_ADMIN) {
=====
pub(crate) fn census(file: &LocalFile, on: bool) -> Result {
    if !shim::file_capable_host(file, CAP_NET_ADMIN) && false {
T
    ;;
    census-core-not-skipped) cat <<'T'
	for (i = 0; i < ARRAY_SIZE(core); i++)
		if (!strcmp(fn, core[i]))
=====
	for (i = 0; i < ARRAY_SIZE(core); i++)
		if (!strcmp(fn, core[i]) && false)
T
    ;;
    census-rcu-destruct-unprobed) cat <<'T'
	err = census_hook(&census_ops_destruct_rcu, "__sk_destruct");
=====
	err = census_hook(&census_ops_destruct_rcu, "sk_destruct");
T
    ;;
    census-own-miscounted) cat <<'T'
				t->own_attached++;
=====
				t->own_attached += 2;
T
    ;;
    census-pins-unseen) cat <<'T'
        self.alive && self.counted > 0 && self.refs as u64 == self.counted
=====
        self.alive && self.counted > 0 && self.refs as u64 == self.counted + 1
T
    ;;
    census-off-leaves-clone-probe) cat <<'T'
		unregister_kretprobe(&census_rp_clone);
		census_unhook(&census_ops_init);
		census_unhook(&census_ops_destruct_rcu);
=====
		census_unhook(&census_ops_init);
		census_unhook(&census_ops_destruct_rcu);
T
    ;;
    census-memo-ignores-slots) cat <<'T'
		if (READ_ONCE_NOCHECK(*m->slots[i]) != m->frames[i])
=====
		if (READ_ONCE_NOCHECK(*m->slots[i]) != m->frames[i] && false)
T
    ;;
    census-removal-gated-on-kern) cat <<'T'
	if (hlist_empty(&census_hash[census_bucket(sk)]))
		return;
=====
	if (!sk->sk_kern_sock)
		return;
T
    ;;
    census-softirq-destruct-missed) cat <<'T'
	if (hlist_empty(&census_hash[census_bucket(sk)]))
		return;
=====
	if (hlist_empty(&census_hash[census_bucket(sk)]) || in_serving_softirq())
		return;
T
    ;;
    trace-leaves-tracing-off) cat <<'T'
        let _ = write("tracing_on", &self.tracing_on);
=====
        let _ = write("tracing_on", "0");
T
    ;;
    sock-create-kern-misprobed) cat <<'T'
pub(crate) const SOCK_CREATE_KERN_NETNS_REF: &str = if cfg!(rsm_sock_create_kern_counts) {
=====
pub(crate) const SOCK_CREATE_KERN_NETNS_REF: &str = if !cfg!(rsm_sock_create_kern_counts) {
T
    ;;
    no-net-raw-check) cat <<'T'
    if raw && !net.file_capable(file, CAP_NET_RAW) {
=====
    if raw && false && !net.file_capable(file, CAP_NET_RAW) {
T
    ;;
    user-socket-elsewhere) cat <<'T'
                sys::in_netns(&fresh.ns, || user_path(req, &kt.sockstat))?
=====
                user_path(req, &own_sockstat)?
T
    ;;
    part-stops-early) cat <<'T'
check "three sockets live" test "$(totals live)" = 3
=====
check "three sockets live" test "$(totals live)" = 3
return 0
T
    ;;
    part-exits-nonzero) cat <<'T'
check "insmod again (default limits)" load
=====
check "insmod again (default limits)" load
exit 3
T
    ;;
    splat-scrolled-away) cat <<'T'
check "insmod again (default limits)" load
=====
check "insmod again (default limits)" load
echo "WARNING: injected by the splat-scrolled-away mutant" > /dev/kmsg
echo on > /proc/sys/kernel/printk_devkmsg
for i in $(seq 3000); do echo "rsm filler $i: $(printf '%0100d' 0)" > /dev/kmsg; done
dmesg -C
T
    ;;
    histogram-off-by-one) cat <<'T'
        let bucket = (63 - ns.max(1).leading_zeros()) as usize;
=====
        let bucket = (64 - ns.max(1).leading_zeros()) as usize;
T
    ;;
    parser-extra-words) cat <<'T'
    words.next();
    if words.next().is_some() {
        return Err(EINVAL);
    }
    Ok(cmd)
=====
    Ok(cmd)
T
    ;;
    cookie-not-ss-s) cat <<'T'
        si.cookie,
    )?;
=====
        si.cookie + 1,
    )?;
T
    ;;
    write-runs-one-command) cat <<'T'
        for line in buf.split_inclusive(|&b| b == b'\n') {
=====
        for line in buf.split_inclusive(|&b| b == b'\n').take(1) {
T
    ;;
    release-cause-lost) cat <<'T'
    crate::trace::release(id, cause as i32);
=====
    crate::trace::release(id, ReleaseCause::NetnsExit as i32);
T
    ;;
    netns-exit-takes-others) cat <<'T'
            if owner != net_id {
                break;
            }
=====
            if owner == 0 {
                break;
            }
T
    ;;
    spares-never-taken) cat <<'T'
        let (socket, by_net) = match with(|s| s.spares.pop()) {
=====
        let (socket, by_net) = match with(|_| None::<(TableNode, IndexNode)>) {
T
    ;;
    spares-never-kept) cat <<'T'
            Some(index) if self.spares.len() < SPARES_MAX => {
=====
            Some(index) if self.spares.len() > SPARES_MAX => {
T
    ;;
    clippy-needless-return) cat <<'T'
    by_value(FAMILIES, v).unwrap_or("?")
=====
    return by_value(FAMILIES, v).unwrap_or("?");
T
    ;;
    rustfmt-misformatted) cat <<'T'
    pub(crate) fn failed(&self) -> u64 {
=====
    pub(crate) fn failed( &self) -> u64 {
T
    ;;
    shellcheck-unquoted) cat <<'T'
check "$DEV is a character device" test -c "$DEV"
=====
check "$DEV is a character device" test -c $DEV
T
    ;;
    esac
}

# The scratch tree: the working tree without build products.
make_copy() {
    local dst=$1
    rm -rf "$dst"; mkdir -p "$dst/userspace_test/target/release"
    (cd "$RSM_ROOT" && tar --exclude=./userspace_test/target --exclude=./.git --exclude='*.o' --exclude='*.ko' \
        --exclude='*.mod' --exclude='*.mod.c' --exclude='.*.cmd' --exclude=Module.symvers --exclude=modules.order -cf - .) \
        | tar -C "$dst" -xf -
    cp "$RSM_ROOT/userspace_test/target/release/userspace_test" "$dst/userspace_test/target/release/"
}

apply_mutation() {
    local file=$1 name=$2
    MUT_FILE=$file MUT_TEXT=$(mutation_text "$name") python3 - <<'PY'
import os, sys
f = os.environ["MUT_FILE"]; old, new = os.environ["MUT_TEXT"].split("\n=====\n")
s = open(f).read()
if s.count(old) != 1:
    sys.exit(f"mutation text not found once in {f} (the code changed: update scripts/mutants.sh)")
open(f, "w").write(s.replace(old, new))
PY
}

export PATH="$RSM_VENV/bin:$PATH"
caught=0; missed=0; t0=$(date +%s)
for spec in "${MUTANTS[@]}"; do
    IFS='|' read -r name file parts want <<<"$spec"
    [ $# -gt 0 ] && [[ " $* " != *" $name "* ]] && continue
    dst="$M/$name"; out="$M/$name.out"
    make_copy "$dst"; rm -f "$M/$name.build.log"
    apply_mutation "$dst/$file" "$name" || rsm_die "mutant $name: cannot apply"
    case $file in
        src/*) make -C "$dst" KDIR="$KDIR" modules >"$M/$name.build.log" 2>&1 || rsm_die "mutant $name: module build failed" "$M/$name.build.log" ;;
        userspace_test/*) (cd "$dst/userspace_test" && CARGO_TARGET_DIR="$M/cargo-target" cargo build --release --locked \
                && cp "$M/cargo-target/release/userspace_test" target/release/) >"$M/$name.build.log" 2>&1 \
                || rsm_die "mutant $name: userspace_test build failed" "$M/$name.build.log" ;;
    esac
    [ -f "$dst/rust_sockmod.ko" ] || cp "$RSM_ROOT/rust_sockmod.ko" "$dst/"
    rm -rf "$out"; mkdir -p "$out"
    set +e
    if [ "$parts" = lint ]; then
        log="$M/$name.build.log"; [ -f "$log" ] || log="$RSM_LOGS/module-build.log"
        CARGO_TARGET_DIR="$M/cargo-target" bash "$dst/scripts/lint.sh" "$KDIR" "$log" >"$out/tap.txt" 2>&1
    else
    # oops=panic: a mutant that oopses the kernel ends the guest at once (instead of leaving a
    # hung guest until the time limit); the crash is then the failure that catches it.
    RSM_VM_APPEND="slub_debug=FZPU oops=panic" RSM_VM_TIMEOUT=900 bash "$dst/scripts/vm-run.sh" normal "$out" \
        "RSM_SCALE=quick RSM_VM_TIMEOUT=900 RSM_PARTS='$parts' bash $dst/scripts/guest/run-tests.sh $out" >"$out/tap.txt" 2>&1
    grep -q '^# guest: ' "$out/tap.txt" || echo "not ok - vm: the guest crashed or hung before its summary ($out/vm-console.log)" >>"$out/tap.txt"
    fi
    set -e
    if grep -qE -- "^not ok .*($want)" "$out/tap.txt"; then
        caught=$((caught + 1)); echo "ok - mutant $name ($file): caught by: $(grep -m1 -E -- "^not ok .*($want)" "$out/tap.txt" | sed 's/^not ok [0-9]* - //')"
    else
        missed=$((missed + 1)); echo "not ok - mutant $name ($file): MISSED (no failing check matching '$want'; TAP: $out/tap.txt)"
    fi
    { grep '^not ok ' "$out/tap.txt" || true; } | sed 's/^/#   /' | cut -c1-160
done
echo "# mutants: $(( $(date +%s) - t0 )) s"
echo "mutants: $caught caught, $missed missed"
[ "$missed" = 0 ]
