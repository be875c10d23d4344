#!/bin/bash
# AArch64 (issue 18): the Linux-layer table on the arm64 guest's dumps next to
# the amd64 guest's of the same size, in one run (scripts/bench.sh runs it).
set -eu
cd "$(dirname "$0")/.."
B=${XA_BENCH_BUILD:-build-bench}
D=${XA_CACHE:-/var/tmp/xenaccess-cache}/dumps
sh tests/guest/deps-arm64.sh
/usr/bin/python3 tests/guest/arm64.py make-dumps --out "$D/arm64" >/dev/null
/usr/bin/python3 tests/guest/harness.py make-dumps --out "$D/l4" >/dev/null
"$B/bench/bench_linux" "$D/l4/raw.img" "$D/arm64/raw.img" "$D/l4/core.elf" "$D/arm64/core.elf"
