#!/bin/sh
# Fetch the Debian kernel that linux-image-amd64 (or $XA_KERNEL_META, e.g.
# linux-image-686-pae) depends on into the cache:
#   $XA_CACHE/kernel/<pkg>/boot/vmlinuz-<ver>  and  .../lib/modules/<ver>/
# Idempotent. Prints shell-style lines: KVER=, VMLINUZ=, MODDIR=, PKG=.
# Note: the System.map inside the Debian package is a stub; never use it.
set -eu
CACHE=${XA_CACHE:-/var/tmp/xenaccess-cache}
mkdir -p "$CACHE/kernel"
cd "$CACHE/kernel"

PKG=${XA_KERNEL_PKG:-}
META=${XA_KERNEL_META:-linux-image-amd64}
# apt-cache's answer, kept until apt's package lists change: each call costs
# seconds where apt keeps no package cache (containers), and a test run boots
# a dozen guests. (ctime: apt gives fetched lists the server's mtime.)
MEMO="$CACHE/kernel/.resolved-$META"
LISTS=/var/lib/apt/lists
eval "$(apt-config shell LISTS Dir::State::Lists/d 2>/dev/null)"
if [ -z "$PKG" ] && [ -s "$MEMO" ] && [ -d "$LISTS" ] &&
   [ -z "$(find "$LISTS" -maxdepth 1 -cnewer "$MEMO" 2>/dev/null | head -n 1)" ]; then
    PKG=$(cat "$MEMO")
fi
if [ -z "$PKG" ]; then
    PKG=$(apt-cache depends "$META" 2>/dev/null | awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }')
    if [ -z "$PKG" ]; then
        apt-get update -qq >/dev/null 2>&1 || true
        PKG=$(apt-cache depends "$META" 2>/dev/null | awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }')
    fi
    if [ -n "$PKG" ]; then
        echo "$PKG" >"$MEMO.$$" && mv "$MEMO.$$" "$MEMO"
    fi
    # Offline fallback: reuse whatever is already unpacked.
    if [ -z "$PKG" ]; then
        PKG=$(ls -d linux-image-*-"${META#linux-image-}"/ 2>/dev/null | sed 's#/$##' | sort -V | tail -n 1)
    fi
fi
[ -n "$PKG" ] || { echo "fetch-kernel: cannot resolve $META" >&2; exit 1; }

DEST="$CACHE/kernel/$PKG"
if [ ! -f "$DEST/.done" ]; then
    rm -rf "$DEST" "$DEST.tmp"
    mkdir -p "$DEST.tmp"
    (cd "$DEST.tmp" && apt-get download -q "$PKG" >/dev/null 2>&1) || {
        echo "fetch-kernel: apt-get download $PKG failed" >&2; exit 1; }
    dpkg-deb -x "$DEST.tmp"/*.deb "$DEST.tmp/root"
    mv "$DEST.tmp/root" "$DEST"
    rm -rf "$DEST.tmp"
    touch "$DEST/.done"
fi
KVER=$(ls "$DEST/lib/modules" | head -n 1)
echo "PKG=$PKG"
echo "KVER=$KVER"
echo "VMLINUZ=$DEST/boot/vmlinuz-$KVER"
echo "MODDIR=$DEST/lib/modules/$KVER"
