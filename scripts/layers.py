#!/usr/bin/env python3
"""The layers of the tree and what each may include, in one place.

Used twice:
  layers.py view SOURCE_ROOT VIEW_ROOT
      make, for each layer, VIEW_ROOT/<layer>/ holding only the headers the
      layer may include (symbolic links under their repository paths); the
      build compiles each layer with -I on its view and not on the source
      root, so including any other header is a compile error;
  tests/layers/check_includes.py
      reads RULES and checks every "..." include (relative ones too, which
      the compiler resolves beside the file and a view cannot stop).
docs/architecture.md explains the rules.
"""
import os
import sys

PUBLIC = ["xenaccess.h", "xenaccess_os.h", "xenaccess_check.h", "xa_errors.h"]

# layer directory -> headers (repository paths, globs) its files may include
RULES = {
    # an architecture sees only itself: the core hands it a read callback
    "arch": ["arch/*"] + PUBLIC,
    # a backend sees the backend contract and the core's helpers for it
    "backends": ["backends/*", "core/error.h", "core/mapguard.h", "core/rangemap.h"] + PUBLIC,
    # an OS layer reads memory through the core's internal API only
    "os": ["os/*", "core/internal.h", "core/error.h", "arch/*"] + PUBLIC,
    # the core sees the contracts of the layers, not their insides
    "core": ["core/*", "arch/*.h", "backends/backend.h", "os/os.h"] + PUBLIC,
    # the disk library and the tap share only the wire protocol and the error codes
    "disk/lib": ["disk/lib/*", "disk/proto.h", "xadisk.h", "xa_errors.h"],
    "disk/tap": ["disk/tap/*", "disk/proto.h", "xa_errors.h"],
}


def make_view(src, view_root, layer):
    """VIEW_ROOT/<layer> with links to what `layer` may include."""
    view = os.path.join(view_root, layer)
    os.makedirs(view, exist_ok=True)
    for pattern in RULES[layer]:
        if "/" not in pattern:
            target, link = os.path.join(src, "include", pattern), os.path.join(view, pattern)
        elif pattern.endswith("/*") or pattern.endswith("/*.h"):
            d = pattern.rsplit("/", 1)[0]  # a whole directory
            target, link = os.path.join(src, d), os.path.join(view, d)
        else:
            target, link = os.path.join(src, pattern), os.path.join(view, pattern)
        if not os.path.exists(target):
            sys.exit("layers.py: %s names %s, which does not exist" % (layer, pattern))
        os.makedirs(os.path.dirname(link), exist_ok=True)
        if os.path.islink(link):
            if os.readlink(link) == target:
                continue
            os.unlink(link)
        os.symlink(target, link)


def main(argv):
    if len(argv) != 4 or argv[1] != "view":
        sys.exit("usage: layers.py view SOURCE_ROOT VIEW_ROOT")
    src, view_root = os.path.abspath(argv[2]), os.path.abspath(argv[3])
    for layer in RULES:
        make_view(src, view_root, layer)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
