#!/bin/bash
# Live QEMU guest next to a dump of it, shared RAM file and /proc/PID/mem
# paths (called by scripts/bench.sh with XA_BENCH_BUILD set).
cd "$(dirname "$0")/.."
B=${XA_BENCH_BUILD:-build}
/usr/bin/python3 bench/live_bench.py --build "$B"
/usr/bin/python3 bench/live_bench.py --build "$B" --anon
