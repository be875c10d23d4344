#!/bin/bash
# Issue 13's whole-run rows: `xa-ps` on the 512 MiB test dump, wall, CPU,
# peak RSS and shared objects, beside `xa-ps --help` (bench/tool_run.py;
# called by scripts/bench.sh with XA_BENCH_BUILD set; the dump is made there).
cd "$(dirname "$0")/.."
exec /usr/bin/python3 bench/tool_run.py --build "${XA_BENCH_BUILD:-build-bench}" \
    "${XA_CACHE:-/var/tmp/xenaccess-cache}/dumps/l4/raw.img" "$@"
