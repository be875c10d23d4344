#!/bin/bash
# Xen: the paper's access figures on a PV and a PVH domU next to a dump of
# each (boots the Xen test bed under QEMU: about 2 minutes; called by
# scripts/bench.sh).  Skipped with the reason where the bed cannot run.
cd "$(dirname "$0")/.."
if ! pkg-config --exists xencontrol xenforeignmemory; then
    echo "skipped: libxen-dev not installed"
    exit 0
fi
/usr/bin/python3 bench/xen_bench.py
