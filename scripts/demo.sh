#!/bin/bash
# The demo, from a fresh Debian 12 machine (as root): installs what is
# missing, builds xenaccess, boots the demo guest and watches it from outside.
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh
export XA_BUILD=${XA_BUILD:-$PWD/build}
# Quiet when it works; when it fails, the why (meson and ninja say it on stdout).
mkdir -p "$XA_BUILD"
LOG=$XA_BUILD/demo-build.log
if [ ! -f "$XA_BUILD/build.ninja" ] && ! meson setup "$XA_BUILD" >"$LOG" 2>&1; then
    tail -n 30 "$LOG" >&2
    echo "demo: meson setup failed (whole log: $LOG)" >&2
    exit 1
fi
if ! ninja -C "$XA_BUILD" >"$LOG" 2>&1; then
    tail -n 40 "$LOG" >&2
    echo "demo: the build failed (whole log: $LOG)" >&2
    exit 1
fi
exec /usr/bin/python3 scripts/demo.py "$@"
