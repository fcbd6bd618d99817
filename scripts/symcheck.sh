#!/usr/bin/env bash
# Before loading a module on a kernel it was not built with: is it made for that kernel?
#   usage: symcheck.sh MODULE.ko MODULE.SYMVERS VERMAGIC
# Checks that the module's vermagic is VERMAGIC (the kernel's own modules carry it) and that
# every symbol it imports is exported under that exact name in MODULE.SYMVERS (the kernel's
# list: vmlinux and its modules). A Rust symbol embeds its crate's hash, which depends on the
# rustc that built the crate: for a missing one, the export of the same path under another
# hash is named. Exit 0 and one line when all match; else exit 1 and the first mismatch (a
# missing Rust symbol first: it says whether the Rust metadata is the cause).
set -euo pipefail
ko=$1 symvers=$2 want=$3
have=$(/sbin/modinfo -F vermagic "$ko")
if [ "$have" != "$want" ]; then
    echo "symcheck: $ko: vermagic '$have', the kernel's is '$want'"
    exit 1
fi
# Sorted in one locale (nm sorts by the caller's), so that "first" is the same everywhere.
imports=$(nm -u "$ko" | awk '{print $2}' | LC_ALL=C sort -u)
[ -n "$imports" ] || { echo "symcheck: $ko: no imported symbols read (nm failed?)"; exit 1; }
exported=$(awk '{print $2}' "$symvers" | LC_ALL=C sort -u)
missing=$(LC_ALL=C comm -23 <(cat <<<"$imports") <(cat <<<"$exported"))
n=$(wc -l <<<"$imports")
if [ -z "$missing" ]; then
    echo "symcheck: $ko: vermagic '$want', all $n imported symbols exported by name"
    exit 0
fi
sym=$(grep -m1 '^_R' <<<"$missing" || sed -n 1p <<<"$missing")
echo "symcheck: $ko needs '$sym', which $symvers does not export ($(wc -l <<<"$missing") of $n imports missing)"
# _R...Cs<hash>_<len><crate>...: the same path with any crate hash.
if [[ $sym == _R* ]]; then
    pat=$(sed -E 's/Cs[0-9A-Za-z]+_/Cs[0-9A-Za-z]+_/g' <<<"$sym")
    other=$(grep -m1 -E "^$pat\$" <<<"$exported" || true)
    [ -z "$other" ] || echo "symcheck: it exports '$other': the same path, other crate hashes (the module was built by another rustc or against other Rust metadata)"
fi
exit 1
