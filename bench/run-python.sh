#!/bin/bash
# Python bindings next to C (called by scripts/bench.sh with XA_BENCH_BUILD set).
cd "$(dirname "$0")/.."
XA_BUILD=${XA_BENCH_BUILD:-build} exec /usr/bin/python3 bench/bench_python.py "$@"
