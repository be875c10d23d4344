#!/bin/sh
# Install everything xenaccess needs to build, test and run its demo on
# Debian 12 (as root). Idempotent and quiet: only missing packages are fetched.
set -eu
cd "$(dirname "$0")/.."

# Build: compiler, Meson/Ninja, pkg-config; libraries (see README "Dependencies").
PKGS="gcc libc6-dev meson ninja-build pkg-config libbpf-dev libelf-dev zlib1g-dev libjson-c-dev"
# Test guests: QEMU (TCG), busybox initramfs, kernel package unpacking, Python tests.
PKGS="$PKGS qemu-system-x86 qemu-utils busybox-static cpio xz-utils zstd file python3 python3-pytest"
# Manual pages: scdoc turns docs/man/*.scd into roff at build time; man-db's
# `man -l` reads them in the tests.
PKGS="$PKGS scdoc man-db"
# Disk monitoring: nbdkit filter API and file plugin, libext2fs, mkfs/e2fsck.
PKGS="$PKGS nbdkit nbdkit-plugin-dev libext2fs-dev e2fsprogs"
# Extra packages other parts of the tree ask for (one per line in scripts/deps.extra).
if [ -f scripts/deps.extra ]; then
    PKGS="$PKGS $(grep -v '^#' scripts/deps.extra | tr '\n' ' ')"
fi

# 32-bit test guests (tests/guest/harness.py Guest32): Debian's i386 kernels
# and busybox are fetched with apt-get download, which needs the architecture.
if ! dpkg --print-foreign-architectures | grep -qx i386; then
    dpkg --add-architecture i386
    apt-get update -qq >/dev/null || true
fi

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "deps: installing$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
