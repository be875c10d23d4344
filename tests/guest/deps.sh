#!/bin/sh
# Install what the real-guest harness needs (Debian 12, root). Idempotent, quiet.
set -eu
PKGS="qemu-system-x86 busybox-static gcc libc6-dev python3 xz-utils zstd file"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
