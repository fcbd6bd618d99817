#!/usr/bin/env bash
# Before loading a module on a kernel it was not built with: is it made for that kernel?
#   usage: symcheck.sh MODULE.ko MODULE.SYMVERS VERMAGIC
# Checks that the module's vermagic is VERMAGIC (the kernel's own modules carry it) and that
# every symbol it imports is exported under that exact name in MODULE.SYMVERS (the kernel's
# list: vmlinux and its modules). A Rust symbol embeds its crate's hash, which depends on the
# rustc that built the crate: for a missing one, the export of the same path under another
# hash is named. Exit 0 and one line when all match; else exit 1 and the first mismatch.
set -euo pipefail
ko=$1 symvers=$2 want=$3
have=$(/sbin/modinfo -F vermagic "$ko")
if [ "$have" != "$want" ]; then
    echo "symcheck: $ko: vermagic '$have', the kernel's is '$want'"
    exit 1
fi
n=0
while read -r sym; do
    n=$((n + 1))
    grep -q "^[^[:space:]]*[[:space:]]${sym}[[:space:]]" "$symvers" && continue
    echo "symcheck: $ko needs '$sym', which $symvers does not export ($n imports checked)"
    # _R...C<hash>_<len><crate>...: the same path with any crate hash.
    if [[ $sym == _R* ]]; then
        pat=$(sed -E 's/Cs[0-9A-Za-z]+_/Cs[0-9A-Za-z]+_/g' <<<"$sym")
        other=$(awk -v p="^$pat\$" '$2 ~ p {print $2; exit}' "$symvers")
        [ -z "$other" ] || echo "symcheck: it exports '$other': the same path, other crate hashes (the module was built by another rustc or against other Rust metadata)"
    fi
    exit 1
done < <(nm -u "$ko" | awk '{print $2}')
echo "symcheck: $ko: vermagic '$want', all $n imported symbols exported by name"
