#!/usr/bin/env bash
# make test KERNEL=debian, host part: the module built for Debian's own kernel is made for it,
# and symcheck.sh refuses modules that are not (so that its "ok" means something).
#   usage: debian-checks.sh DIR KO      (DIR: debian-kernel.sh's; KO: debian-module.sh's)
# Prints TAP lines "ok - debian: ..." / "not ok - debian: ...".
source "$(dirname "$0")/lib/lib.sh"
DIR=$1 KO=$2
# shellcheck disable=SC1091 # written by debian-kernel.sh.
. "$DIR/kernel.env"
S="$DIR/headers/Module.symvers"
SYMCHECK=(bash "$RSM_ROOT/scripts/symcheck.sh")
ref=$(find "$DIR/root/usr/lib/modules/$KREL/kernel/net" -name 'tipc.ko*' | sed -n 1p)
VERMAGIC=$(/sbin/modinfo -F vermagic "$ref") || { echo "not ok - debian: no vermagic read from $KREL's tipc module"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# t DESCRIPTION COMMAND...: one TAP line; the command's output as diagnostics when it fails.
t() {
    local d=$1; shift
    if "$@" >"$tmp/out" 2>&1; then echo "ok - debian: $d"
    else echo "not ok - debian: $d"; sed 's/^/# /' "$tmp/out"; fi
}
# refused PATTERN COMMAND...: COMMAND fails and says PATTERN.
refused() {
    local p=$1; shift
    if "$@" >"$tmp/why" 2>&1; then echo "accepted:"; cat "$tmp/why"; return 1; fi
    cat "$tmp/why"; grep -q "$p" "$tmp/why"
}

t "rust_sockmod.ko fits $KREL: vermagic '$VERMAGIC', every import exported by name" \
    "${SYMCHECK[@]}" "$KO" "$S" "$VERMAGIC"
t "symcheck refuses the module for a kernel of another vermagic" \
    refused "vermagic" "${SYMCHECK[@]}" "$KO" "$S" "7.3.4 SMP preempt mod_unload "
# Rust metadata of another rustc: the kernel crate's hash differs in every symbol of it.
hash=$(grep -o 'Cs[0-9A-Za-z]*_6kernel' "$S" | sed -n 1p); hash=${hash%_6kernel}
[ -n "$hash" ] || hash=none-found
sed "s/${hash}_6kernel/Cs0rsmother0_6kernel/g" "$S" > "$tmp/other.symvers"
t "symcheck refuses it against a kernel crate of another hash, naming the symbol and the export under the other hash" \
    refused "same path, other crate hashes" "${SYMCHECK[@]}" "$KO" "$tmp/other.symvers" "$VERMAGIC"
# The project's own build (rustc-web 1.96, against its own 7.x tree), when make test built one.
own="$RSM_ROOT/rust_sockmod.ko"
if [ -f "$own" ]; then
    t "the module built for the project's own kernel is refused on $KREL (its crates' hashes)" \
        refused "other crate hashes" "${SYMCHECK[@]}" "$own" "$S" "$(/sbin/modinfo -F vermagic "$own")"
else
    echo "ok - debian: the module built for the project's own kernel is refused # SKIP not built (make test builds it)"
fi
sed -n 's/^EXPORT_SYMBOL_RUST_GPL(\(_R[^)]*\));$/\1/p' "$DIR"/build/rust/exports_*_generated.h | sort -u > "$tmp/ours"
awk '$2 ~ /^_R/ && $3 == "vmlinux" {print $2}' "$S" | sort -u > "$tmp/theirs"
# shellcheck disable=SC2016 # expanded by sh -c.
t "the $(wc -l < "$tmp/ours") Rust exports of the regenerated metadata are $KREL's, name for name" \
    sh -c 'cmp "$1" "$2" && [ "$(wc -l < "$1")" -gt 1000 ]' sh "$tmp/ours" "$tmp/theirs"
