#!/bin/sh
# Install what the arm64 guests need (Debian 12, root). Idempotent, quiet.
# The workload is cross-built with clang and Debian's arm64 cross libc
# (gcc-aarch64-linux-gnu conflicts with gcc-multilib, which i386 builds use).
set -eu
dpkg --print-foreign-architectures | grep -qx arm64 || {
    dpkg --add-architecture arm64
    apt-get update -qq >/dev/null
}
PKGS="qemu-system-arm clang libc6-dev-arm64-cross libgcc-12-dev-arm64-cross binutils-aarch64-linux-gnu"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
