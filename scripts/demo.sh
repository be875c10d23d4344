#!/bin/bash
# The demo, from a fresh Debian 12 machine (as root): installs what is
# missing, builds xenaccess, boots the demo guest and watches it from outside.
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh
export XA_BUILD=${XA_BUILD:-$PWD/build}
[ -f "$XA_BUILD/build.ninja" ] || meson setup "$XA_BUILD" >/dev/null
ninja -C "$XA_BUILD" >/dev/null
exec /usr/bin/python3 scripts/demo.py "$@"
