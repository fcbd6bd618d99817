# shellcheck shell=bash
# Private apt configurations under the cache: the host's sources are never modified, but its
# mirrors are used (apt_mirrors.py reads them from /etc/apt; the host's apt.conf, proxies
# included, still applies). Source after lib.sh.

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
