#!/bin/bash
# One libvirt domain through libvirt: (QMP passthrough) next to a plain qemu:
# QMP socket on the same guest (called by scripts/bench.sh with XA_BENCH_BUILD set).
cd "$(dirname "$0")/.."
B=${XA_BENCH_BUILD:-build}
/usr/bin/python3 bench/libvirt_bench.py --build "$B" --backing file
