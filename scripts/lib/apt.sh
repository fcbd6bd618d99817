# shellcheck shell=bash
# Private apt configurations under the cache: the host's sources are never modified, but its
# mirrors are used (apt_mirrors.py reads them from /etc/apt; the host's apt.conf, proxies
# included, still applies). Source it after lib.sh; do not run it.

# rsm_apt DIR CMD ARGS...: apt-get / apt-cache with DIR's sources.list, lists and cache.
rsm_apt() {
    local dir=$1 cmd=$2; shift 2
    "$cmd" -o Dir::Etc::SourceList="$dir/sources.list" -o Dir::Etc::SourceParts=/nonexistent \
        -o Dir::State::Lists="$dir/lists" -o Dir::Cache="$dir/cache" "$@"
}
# rsm_apt_query DIR CMD ARGS...: the same for lookups and downloads only (no dpkg status, no
# lock: it does not install).
rsm_apt_query() { rsm_apt "$@" -o Dir::State::Status=/dev/null -o Debug::NoLocking=1; }

# rsm_apt_sources DIR SUITE...: DIR/sources.list for these suites (main) from the host's
# mirrors; "*-security" suites from its security mirror.
rsm_apt_sources() {
    local dir=$1 mirrors s; shift
    mirrors=$(python3 "$RSM_ROOT/scripts/apt_mirrors.py") || rsm_die "apt: cannot find the host's Debian mirror"
    mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
    for s in "$@"; do
        case $s in
            *-security) echo "deb ${mirrors#* } $s main" ;;
            *) echo "deb ${mirrors%% *} $s main" ;;
        esac
    done > "$dir/sources.list"
}

# apt_src ARGS...: lookups and downloads with the kernel-source lists ($SRC_APT, set by the caller).
apt_src() { rsm_apt_query "$SRC_APT" "$@"; }

# Fetch and extract a linux-source package once per version. Prints the source directory.
fetch_source() {
    local pkg=$1 v=$2 dir="$RSM_CACHE/src/linux-$2" log="$RSM_LOGS/fetch-source.log" deb
    [ -f "$dir/.complete" ] && { echo "$dir"; return; }
    mkdir -p "$RSM_CACHE/src"
    rsm_log "kernel: fetching $pkg $v (private apt lists in $SRC_APT)"
    (cd "$RSM_CACHE/src" && rm -f "${pkg}_"*"_all.deb" && apt_src apt-get download "$pkg=$v") >>"$log" 2>&1 \
        || rsm_die "kernel: downloading $pkg=$v failed" "$log"
    rm -rf "$dir" "$dir.tmp"; mkdir -p "$dir.tmp"
    # shellcheck disable=SC2012 # Debian package file names: no spaces or newlines.
    deb=$(ls "$RSM_CACHE/src/${pkg}_"*"_all.deb" | head -1)
    rsm_log "kernel: extracting $(basename "$deb")"
    dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/$pkg.tar.xz" \
        | tar -xJ -C "$dir.tmp" --strip-components=1 >>"$log" 2>&1 \
        || rsm_die "kernel: extracting $deb failed" "$log"
    rm -f "$deb"
    mv "$dir.tmp" "$dir"
    echo "$v" > "$dir/.complete"
    echo "$dir"
}
