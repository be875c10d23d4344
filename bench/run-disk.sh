#!/bin/bash
# Disk monitoring (issue 5): the tap's cost per write on the host, then the
# guest-side cost of monitoring (one guest boot, five disks; ~6-8 minutes).
# Called by scripts/bench.sh with XA_BENCH_BUILD set; the disk feature must be built.
set -eu
cd "$(dirname "$0")/.."
B=${XA_BENCH_BUILD:-build}
if [ ! -x "$B/tools/xa-disk-monitor" ]; then
    echo "disk monitoring not built in $B (needs nbdkit-plugin-dev, e2fslibs-dev): skipped"
    exit 0
fi
echo "#### tap microbenchmark (host only)"
/usr/bin/python3 bench/disk_micro.py --build "$B" "$@"
echo
echo "#### guest: create N files with and without monitoring"
/usr/bin/python3 bench/disk_guest.py --build "$B" ${XA_DISK_BENCH_REPS:+--reps $XA_DISK_BENCH_REPS}
