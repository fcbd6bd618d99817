#!/usr/bin/env bash
# Builds (or reuses) the Rust-enabled test kernel.   usage: build-kernel.sh [normal|debug]
# The build directory is keyed by kernel package version, config fragments and toolchain
# versions; a directory counts as built only once it carries the .complete mark.
source "$(dirname "$0")/lib.sh"

FLAVOUR="${1:-normal}"
case "$FLAVOUR" in
    normal) FRAGS=("$RSM_ROOT/kconfig/base.config") ;;
    debug)  FRAGS=("$RSM_ROOT/kconfig/base.config" "$RSM_ROOT/kconfig/debug.config") ;;
    *) rsm_die "build-kernel: unknown flavour '$FLAVOUR' (normal|debug)" ;;
esac

SRC_APT="$RSM_CACHE/apt-src"
apt_src() {
    local cmd=$1; shift
    "$cmd" -o Dir::Etc::SourceList="$SRC_APT/sources.list" -o Dir::Etc::SourceParts=/nonexistent \
        -o Dir::State::Lists="$SRC_APT/lists" -o Dir::Cache="$SRC_APT/cache" \
        -o Dir::State::Status=/dev/null -o Debug::NoLocking=1 "$@"
}

# Fetch and extract linux-source-7.2 once per package version. Prints the source directory.
fetch_source() {
    local v dir
    for v in $RSM_KERNEL_VERSIONS; do
        dir="$RSM_CACHE/src/linux-$v"
        [ -f "$dir/.complete" ] && { echo "$dir"; return; }
    done
    local log="$RSM_LOGS/fetch-source.log"
    mkdir -p "$SRC_APT/lists/partial" "$SRC_APT/cache/archives/partial" "$RSM_CACHE/src"
    cat > "$SRC_APT/sources.list" <<'SRC'
deb http://deb.debian.org/debian sid main
deb http://deb.debian.org/debian trixie-backports main
SRC
    rsm_log "kernel: fetching $RSM_KERNEL_PKG (private apt lists in $SRC_APT)"
    apt_src apt-get update >"$log" 2>&1 || rsm_die "kernel: apt-get update for the source package failed" "$log"
    local got=""
    for v in $RSM_KERNEL_VERSIONS; do
        if (cd "$RSM_CACHE/src" && apt_src apt-get download "$RSM_KERNEL_PKG=$v") >>"$log" 2>&1; then
            got=$v; break
        fi
        rsm_log "kernel: $RSM_KERNEL_PKG=$v not available, trying the next pinned version"
    done
    [ -n "$got" ] || rsm_die "kernel: none of the pinned versions ($RSM_KERNEL_VERSIONS) could be downloaded" "$log"
    dir="$RSM_CACHE/src/linux-$got"
    rm -rf "$dir" "$dir.tmp"; mkdir -p "$dir.tmp"
    local deb
    deb=$(ls "$RSM_CACHE/src/${RSM_KERNEL_PKG}_"*"_all.deb" | head -1)
    rsm_log "kernel: extracting $(basename "$deb")"
    dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/$RSM_KERNEL_PKG.tar.xz" \
        | tar -xJ -C "$dir.tmp" --strip-components=1 >>"$log" 2>&1 \
        || rsm_die "kernel: extracting $deb failed" "$log"
    rm -f "$deb"
    mv "$dir.tmp" "$dir"
    echo "$got" > "$dir/.complete"
    echo "$dir"
}

# Every option the fragments set must have survived olddefconfig.
verify_config() {
    local cfg=$1 f line opt val bad=0
    for f in "${FRAGS[@]}"; do
        while IFS= read -r line; do
            case "$line" in CONFIG_*=*) ;; *) continue ;; esac
            opt=${line%%=*}; val=${line#*=}
            if [ "$val" = n ]; then
                if grep -q "^$opt=" "$cfg"; then
                    rsm_log "kernel config: $opt should be off but is $(grep "^$opt=" "$cfg")"; bad=1
                fi
            elif ! grep -qx "$opt=$val" "$cfg"; then
                rsm_log "kernel config: required $opt=$val is missing after olddefconfig ($(basename "$f"))"; bad=1
            fi
        done < "$f"
    done
    return $bad
}

# One build of a flavour at a time: a second caller (make test while make kernel runs) waits for
# the first and then finds its build cached, instead of deleting the unfinished directory
# under it (seen here: the rm -rf below raced a running build).
mkdir -p "$RSM_CACHE/kernel"
exec 9>"$RSM_CACHE/kernel/.build-$FLAVOUR.lock"
flock 9 || rsm_die "kernel ($FLAVOUR): cannot lock $RSM_CACHE/kernel/.build-$FLAVOUR.lock"

SRC=$(fetch_source)
KVER=$(cat "$SRC/.complete")
[ -x "$RSM_BINDGEN" ] || rsm_die "kernel: $RSM_BINDGEN missing: run scripts/setup.sh"
KEY=$( { echo "$KVER"; cat "${FRAGS[@]}"; clang-22 --version | head -1; "$RSM_RUSTC" --version;
         "$RSM_BINDGEN" --version; } | sha256sum | cut -c1-16)
OUT="$RSM_CACHE/kernel/builds/$FLAVOUR-$KVER-$KEY"
LINK=$(rsm_kernel_link "$FLAVOUR")

if [ -f "$OUT/.complete" ] && [ -f "$OUT/arch/x86/boot/bzImage" ]; then
    ln -sfn "$OUT" "$LINK"
    rsm_log "kernel ($FLAVOUR): cached build $OUT"
    exit 0
fi

# Unfinished builds of this flavour (an interrupted or failed build, any key) are never used:
# remove them so the cache does not grow with them.
for d in "$RSM_CACHE/kernel/builds/$FLAVOUR"-*; do
    [ -d "$d" ] && [ ! -f "$d/.complete" ] && [ "$d" != "$OUT" ] && rm -rf "$d"
done
rm -rf "$OUT"; mkdir -p "$OUT"
log="$RSM_LOGS/kernel-$FLAVOUR-build.log"
mapfile -t KMAKE < <(rsm_kmake_args)
kmake() { make -C "$SRC" O="$OUT" "${KMAKE[@]}" "$@"; }

rsm_log "kernel ($FLAVOUR): configuring $KVER in $OUT"
{
    kmake rustavailable && kmake x86_64_defconfig \
        && KCONFIG_CONFIG="$OUT/.config" "$SRC/scripts/kconfig/merge_config.sh" -m -O "$OUT" "$OUT/.config" "${FRAGS[@]}" \
        && kmake olddefconfig
} >"$log" 2>&1 || rsm_die "kernel ($FLAVOUR): configuration failed" "$log"
verify_config "$OUT/.config" || rsm_die "kernel ($FLAVOUR): config lost required options (see lines above; CONFIG_RUST is dropped when the Rust toolchain check fails)" "$log"

start=$(date +%s)
rsm_log "kernel ($FLAVOUR): building with $(nproc) jobs; progress every 30 s; log: $log"
kmake -j"$(nproc)" all >>"$log" 2>&1 &
pid=$!
while kill -0 "$pid" 2>/dev/null; do
    sleep 30 &
    wait $! || true
    kill -0 "$pid" 2>/dev/null || break
    n=$(grep -cE '^\s+(CC|RUSTC|LD|AR|AS|BINDGEN)' "$log" || true)
    rsm_log "kernel ($FLAVOUR): $(rsm_fmt_secs $(( $(date +%s) - start ))) elapsed, $n build steps done, last: $(grep -E '^\s+(CC|RUSTC|LD)' "$log" | tail -1 | tr -s ' ' | cut -c1-70)"
done
wait "$pid" || rsm_die "kernel ($FLAVOUR): build failed" "$log"
secs=$(( $(date +%s) - start ))
[ -f "$OUT/arch/x86/boot/bzImage" ] && [ -f "$OUT/rust/libkernel.rmeta" ] && [ -f "$OUT/Module.symvers" ] \
    || rsm_die "kernel ($FLAVOUR): build finished without bzImage/libkernel.rmeta/Module.symvers" "$log"
{ echo "version=$KVER"; echo "key=$KEY"; echo "build_seconds=$secs"; } > "$OUT/.complete"
ln -sfn "$OUT" "$LINK"
rsm_log "kernel ($FLAVOUR): built in $(rsm_fmt_secs "$secs") -> $OUT"
