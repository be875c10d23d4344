#!/bin/bash
# Issue 13's per-operation rows on the 512 MiB test dump (called by
# scripts/bench.sh with XA_BENCH_BUILD set; the dump is made there).
cd "$(dirname "$0")/.."
exec "${XA_BENCH_BUILD:-build-bench}/bench/bench_ops" \
    "${XA_CACHE:-/var/tmp/xenaccess-cache}/dumps/l4/raw.img" "$@"
