#!/bin/bash
# Benchmarks: builds an optimised tree and prints every benchmark's table.
# Each table measures its baseline in the same run (the machine is shared and
# noisy: read ratios, not absolute numbers).
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh
B=${XA_BENCH_BUILD:-build-bench}
[ -f "$B/build.ninja" ] || meson setup "$B" --buildtype=release >/dev/null
ninja -C "$B" >/dev/null
export XA_CACHE=${XA_CACHE:-/var/tmp/xenaccess-cache}
D=$XA_CACHE/dumps
# A 1 GiB guest for the "discovery under a second per GiB" figure, next to the 512 MiB ones.
for spec in "l4 " "l5 --la57" "l4-1g --mem 1024"; do
    set -- $spec
    name=$1; shift
    /usr/bin/python3 tests/guest/harness.py make-dumps --out "$D/$name" "$@" >/dev/null
done

echo "### memory core"
"$B/bench/bench_core"
echo
echo "### Linux layer"
"$B/bench/bench_linux" "$D/l4/raw.img" "$D/l4-1g/raw.img" "$D/l5/core.elf"
# Benchmarks of other parts (live QEMU, disk, Python, Xen) add themselves here.
for extra in bench/run-*.sh; do
    [ -e "$extra" ] || continue
    echo
    echo "### $(basename "$extra" .sh | sed 's/^run-//')"
    XA_BENCH_BUILD=$B bash "$extra"
done
