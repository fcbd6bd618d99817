#!/usr/bin/env bash
# Builds (or reuses) the Rust-enabled test kernel and prints its build directory on stdout
# (the default series also linked as $RSM_CACHE/kernel/FLAVOUR, what a bare `make` builds
# against; a KVER build leaves that link alone).   usage: [KVER=...] build-kernel.sh [normal|debug]
# One build directory per flavour and kernel version, reused (incremental Kbuild) when the
# config fragments or the toolchain change; it counts as built only while it carries the
# .complete mark, which records the inputs and the hash of the resulting .config.
source "$(dirname "$0")/lib/lib.sh"
source "$RSM_ROOT/scripts/lib/apt.sh"

FLAVOUR="${1:-normal}"
# The configuration: `make tinyconfig`, then kconfig/lean.config (what a virtme-ng guest and
# the suite need beyond it), base.config, and for the debug flavour debug.config.
case "$FLAVOUR" in
    normal) FRAGS=("$RSM_ROOT/kconfig/lean.config" "$RSM_ROOT/kconfig/base.config") ;;
    debug)  FRAGS=("$RSM_ROOT/kconfig/lean.config" "$RSM_ROOT/kconfig/base.config" "$RSM_ROOT/kconfig/debug.config") ;;
    *) rsm_die "build-kernel: unknown flavour '$FLAVOUR' (normal|debug)" ;;
esac

SRC_APT="$RSM_CACHE/apt-src"

# Which kernel: KVER (make test KVER=...): empty = the newest linux-source-7.x the archive
# serves; a series ("7.2") = the newest version of it; an exact version ("7.2.13-1") = that one
# (used from the cache without asking the archive when it is there). Prints "PACKAGE VERSION".
series_of() { local v=${1%%-*}; echo "${v%.*}"; }
newest() { local best="" v; while read -r v; do
    if [ -z "$best" ] || dpkg --compare-versions "$v" gt "$best"; then best=$v; fi; done; echo "$best"; }
select_kernel() {
    local want=${KVER:-} served log="$RSM_LOGS/fetch-source.log" p v pick
    if [[ "$want" =~ ^7\.[0-9]+\.[0-9]+- ]] && [ -f "$RSM_CACHE/src/linux-$want/.complete" ]; then
        echo "linux-source-$(series_of "$want") $want"; return
    fi
    rsm_apt_sources "$SRC_APT" sid trixie-backports
    if ! apt_src apt-get update >"$log" 2>&1; then
        # Offline: the newest cached source that matches.
        # shellcheck disable=SC2012 # The names are linux-VERSION directories made by fetch_source.
        pick=$(ls -d "$RSM_CACHE"/src/linux-7.*/.complete 2>/dev/null | sed 's|.*/linux-||; s|/.complete||' \
            | while read -r v; do [ -z "$want" ] || [ "$want" = "$v" ] || [ "$want" = "$(series_of "$v")" ] && echo "$v"; done | newest)
        [ -n "$pick" ] || rsm_die "kernel: the archive cannot be reached and no cached source matches KVER='${want}'" "$log"
        rsm_log "kernel: archive unreachable; using the cached linux-source $pick"
        echo "linux-source-$(series_of "$pick") $pick"; return
    fi
    served=$(for p in $(apt_src apt-cache pkgnames linux-source-7. | grep -E '^linux-source-7\.[0-9]+$'); do
        apt_src apt-cache madison "$p" | awk -v p="$p" '{print p, $3}'; done | sort -u)
    [ -n "$served" ] || rsm_die "kernel: the archive serves no linux-source-7.x package" "$log"
    case $want in
        "") pick=$(awk '{print $2}' <<<"$served" | newest) ;;
        7.[0-9]*-*) pick=$(awk -v w="$want" '$2 == w {print $2}' <<<"$served") ;;
        7.[0-9]*) pick=$(awk -v p="linux-source-$want" '$1 == p {print $2}' <<<"$served" | newest) ;;
        *) rsm_die "kernel: KVER='$want' is neither a series (7.3) nor a version (7.3.4-1~bpo13+1)" ;;
    esac
    if [ -z "$pick" ]; then
        rsm_log "kernel: KVER=$want is not served by the archive; it serves: $(awk '{printf "%s%s", sep, $2; sep=", "}' <<<"$served")"
        exit 1
    fi
    echo "linux-source-$(series_of "$pick") $pick"
}

# Every option the fragments set must have survived olddefconfig.
verify_config() {
    local cfg=$1 f line opt val bad=0
    for f in "${FRAGS[@]}"; do
        # shellcheck disable=SC2094 # The loop only reads $f (basename uses its name).
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

# Choosing and fetching a source is one caller at a time (apt's lists and the download
# directory are shared by every version); then one build per tree: a second caller of the same
# flavour and version (make test while make kernel runs, or .ci/run's builds ahead of their
# suites) waits for the first and then finds its build cached, instead of deleting the
# unfinished directory under it (seen here: the rm -rf below raced a running build). Builds of
# different trees run side by side.
mkdir -p "$RSM_CACHE/kernel"
exec 8>"$RSM_CACHE/kernel/.fetch.lock"
flock 8 || rsm_die "kernel ($FLAVOUR): cannot lock $RSM_CACHE/kernel/.fetch.lock"
sel=$(select_kernel) || exit 1
# shellcheck disable=SC2086 # Split into its two words: PACKAGE VERSION.
SRC=$(fetch_source ${sel})
KVERSION=$(cat "$SRC/.complete")
exec 8>&-
exec 9>"$RSM_CACHE/kernel/.build-$FLAVOUR-$KVERSION.lock"
flock 9 || rsm_die "kernel ($FLAVOUR): cannot lock $RSM_CACHE/kernel/.build-$FLAVOUR-$KVERSION.lock"
[ -x "$RSM_BINDGEN" ] || rsm_die "kernel: $RSM_BINDGEN missing: run scripts/setup.sh"
# What decides the kernel: its version, tinyconfig, the fragments' options (not their comments)
# and the toolchain. The tree of a flavour and version is one directory, reused: when the
# inputs change, it is configured afresh from tinyconfig and rebuilt incrementally (Kbuild
# recompiles what the changed options reach). The resulting .config, with the toolchain,
# is the tree's identity: its hash is recorded as config= in .complete.
toolchain() { clang-22 --version | head -1; "$RSM_RUSTC" --version; "$RSM_BINDGEN" --version; }
INPUTS=$( { echo "$KVERSION tinyconfig"; grep -h '^CONFIG_' "${FRAGS[@]}"; toolchain; } | sha256sum | cut -c1-16)
OUT="$RSM_CACHE/kernel/builds/$FLAVOUR-$KVERSION"
LINK=$(rsm_kernel_link "$FLAVOUR")
# link: points kernel/FLAVOUR at this tree, for the default series only: CI builds KVER=7.2
# beside 7.3, and a bare `make` afterwards must not build against whichever finished last.
link() { [ -n "${KVER:-}" ] || ln -sfn "$OUT" "$LINK"; }
# Trees of the earlier layout (one directory per key: FLAVOUR-VERSION-KEY) are superseded.
for d in "$RSM_CACHE/kernel/builds/$FLAVOUR-$KVERSION"-*; do
    [ -d "$d" ] && [ -f "$d/.complete" ] && grep -q '^key=' "$d/.complete" && rm -rf "$d"
done

if [ -f "$OUT/.complete" ] && grep -qxF "inputs=$INPUTS" "$OUT/.complete" && [ -f "$OUT/arch/x86/boot/bzImage" ]; then
    link
    rsm_log "kernel ($FLAVOUR): cached build $OUT"
    echo "$OUT"
    exit 0
fi

# reuse: the tree holds an earlier build (finished for other inputs, or interrupted).
reuse=""
[ -f "$OUT/.config" ] && reuse=1
# From here on the tree is not a finished build of anything until .complete is written again.
rm -f "$OUT/.complete"; mkdir -p "$OUT"
# One log per tree: two versions of a flavour may build side by side.
log="$RSM_LOGS/kernel-$FLAVOUR-$KVERSION-build.log"
mapfile -t KMAKE < <(rsm_kmake_args)
# C objects through ccache (its own directory in the cache): a tree of the other flavour or
# version recompiles only the C files whose preprocessed source changed. Rust objects are not
# cached (Kbuild rebuilds every Rust crate when the configuration changes).
# Depend mode: a miss is hashed from the compiler's own dependency file (Kbuild's -MMD) instead
# of a second, preprocessing run of the compiler.
# This build's hits and misses go to its own statistics log (the cache's counters are shared by
# builds running side by side).
export CCACHE_DIR="$RSM_CACHE/ccache" CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G} CCACHE_BASEDIR="$RSM_CACHE" CCACHE_DEPEND=1
export CCACHE_STATSLOG="$OUT/.ccache-stats.log"
rm -f "$CCACHE_STATSLOG"
KMAKE+=("CC=ccache clang$RSM_LLVM_SUFFIX")
kmake() { make -C "$SRC" O="$OUT" "${KMAKE[@]}" "$@"; }

# The configuration is made in a scratch directory and copied into the tree only when it
# differs from the tree's: an unchanged .config keeps its time stamp, so Kbuild does not
# regenerate the configuration headers (which would rebuild every Rust crate).
CFG="$RSM_CACHE/kernel/builds/.kconfig-$FLAVOUR-$KVERSION"
mkdir -p "$CFG"
rsm_log "kernel ($FLAVOUR): configuring $KVERSION in $OUT${reuse:+ (reusing the tree of an earlier build)}"
{
    make -C "$SRC" O="$CFG" "${KMAKE[@]}" rustavailable && make -C "$SRC" O="$CFG" "${KMAKE[@]}" tinyconfig \
        && KCONFIG_CONFIG="$CFG/.config" "$SRC/scripts/kconfig/merge_config.sh" -m -O "$CFG" "$CFG/.config" "${FRAGS[@]}" \
        && make -C "$SRC" O="$CFG" "${KMAKE[@]}" olddefconfig
} >"$log" 2>&1 || rsm_die "kernel ($FLAVOUR): configuration failed" "$log"
verify_config "$CFG/.config" || rsm_die "kernel ($FLAVOUR): config lost required options (see lines above; CONFIG_RUST is dropped when the Rust toolchain check fails)" "$log"
if cmp -s "$CFG/.config" "$OUT/.config"; then
    rsm_log "kernel ($FLAVOUR): the tree's .config is the one these inputs give: checking the tree is up to date"
else
    cp "$CFG/.config" "$OUT/.config"
fi
CONFIG=$( { grep '^CONFIG_' "$OUT/.config"; toolchain; } | sha256sum | cut -c1-16)

start=$(date +%s)
# Progress: compiles done against the last from-scratch build of this flavour (its count and
# time, kept per tree in .last-build-FLAVOUR-VERSION); the time left at the pace of this build.
last="$RSM_CACHE/kernel/.last-build-$FLAVOUR-$KVERSION"
rm -f "$RSM_CACHE/kernel/.last-build-$FLAVOUR"   # the earlier file, shared by every version
compiles() { grep -cE '^\s+(CC|CC \[M\]|RUSTC|RUSTC \[M\]|AS|BINDGEN)\s' "$log" || true; }
last_steps=$(sed -n 's/^steps=//p' "$last" 2>/dev/null || true)
[ -z "$reuse" ] || last_steps=""
rsm_log "kernel ($FLAVOUR): building with $(nproc) jobs; progress every 30 s${last_steps:+ (of about $last_steps compiles, as the last $FLAVOUR build from scratch: $(sed -n 's/^what=//p' "$last"))}; log: $log"
kmake -j"$(nproc)" all >>"$log" 2>&1 &
pid=$!
while kill -0 "$pid" 2>/dev/null; do
    sleep 30 &
    wait $! || true
    kill -0 "$pid" 2>/dev/null || break
    n=$(compiles)
    el=$(( $(date +%s) - start )); eta=""
    if [ -n "$last_steps" ] && [ "$n" -gt 0 ]; then
        pct=$(( n * 100 / last_steps )); [ "$pct" -le 99 ] || pct=99
        left=$(( last_steps > n ? el * (last_steps - n) / n : 0 ))
        eta=" ($pct%, about $(rsm_fmt_secs "$left") left)"
    fi
    rsm_log "kernel ($FLAVOUR): $(rsm_fmt_secs "$el") elapsed, $n compiles done$eta, last: $(grep -E '^\s+(CC|RUSTC|LD)' "$log" | tail -1 | tr -s ' ' | cut -c1-60)"
done
wait "$pid" || rsm_die "kernel ($FLAVOUR): build failed" "$log"
secs=$(( $(date +%s) - start ))
n=$(compiles)
ccache_stats=$(awk '$0 == "direct_cache_hit" || $0 == "preprocessed_cache_hit" {h++} $0 == "cache_miss" {m++} END {printf "%d hits, %d misses", h, m}' "$CCACHE_STATSLOG" 2>/dev/null)
# shellcheck disable=SC2015 # rsm_die when any of the files is missing, as meant.
[ -f "$OUT/arch/x86/boot/bzImage" ] && [ -f "$OUT/rust/libkernel.rmeta" ] && [ -f "$OUT/Module.symvers" ] \
    || rsm_die "kernel ($FLAVOUR): build finished without bzImage/libkernel.rmeta/Module.symvers" "$log"
how=$([ -n "$reuse" ] && echo incremental || echo "from scratch")
{ echo "version=$KVERSION"; echo "inputs=$INPUTS"; echo "config=$CONFIG"; echo "build_seconds=$secs"
  echo "build=$how"; echo "compiles=$n"; echo "ccache=$ccache_stats"; } > "$OUT/.complete"
[ -n "$reuse" ] || { echo "steps=$n"; echo "what=$KVERSION in $(rsm_fmt_secs "$secs")"; } > "$last"
link
rsm_log "kernel ($FLAVOUR): built $KVERSION $how in $(rsm_fmt_secs "$secs"): $n compiles (ccache: $ccache_stats) -> $OUT"
echo "$OUT"
