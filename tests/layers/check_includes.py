#!/usr/bin/env python3
"""Fail when a layer of the library includes a header it may not.

Each layer (a directory) may include only the headers its rule allows;
docs/architecture.md explains the rules.  Only the project's own headers
("..." includes) are checked.  A name found next to the including file is
taken as that directory's header.

Usage: check_includes.py SOURCE_ROOT
"""
import fnmatch
import os
import re
import sys

PUBLIC = ["xenaccess.h", "xenaccess_os.h", "xenaccess_check.h", "xa_errors.h"]

# layer directory -> headers (repository paths, globs) its files may include
RULES = {
    # an architecture sees only itself: the core hands it a read callback
    "arch": ["arch/*"] + PUBLIC,
    # a backend sees the backend contract and the core's helpers for it
    "backends": ["backends/*", "core/mapguard.h", "core/rangemap.h"] + PUBLIC,
    # an OS layer reads memory through the core's internal API only
    "os": ["os/*", "core/internal.h", "arch/*"] + PUBLIC,
    # the core sees the contracts of the layers, not their insides
    "core": ["core/*", "arch/*.h", "backends/backend.h", "os/os.h"] + PUBLIC,
    # the disk library and the tap share only the wire protocol and the error codes
    "disk/lib": ["disk/lib/*", "disk/proto.h", "xadisk.h", "xa_errors.h"],
    "disk/tap": ["disk/tap/*", "disk/proto.h", "xa_errors.h"],
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def layer_of(path):
    for layer in sorted(RULES, key=len, reverse=True):
        if path == layer or path.startswith(layer + "/"):
            return layer
    return None


def main():
    root = sys.argv[1]
    bad = checked = 0
    for layer in RULES:
        for dirpath, _, files in os.walk(os.path.join(root, layer)):
            for name in sorted(files):
                if not name.endswith((".c", ".h")):
                    continue
                full = os.path.join(dirpath, name)
                rel = os.path.relpath(full, root)
                if layer_of(rel) != layer:
                    continue
                with open(full, encoding="utf-8", errors="replace") as f:
                    for lineno, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        inc = m.group(1)
                        beside = os.path.join(os.path.dirname(rel), inc)
                        if os.path.exists(os.path.join(root, beside)):
                            inc = os.path.normpath(beside)
                        checked += 1
                        if not any(fnmatch.fnmatchcase(inc, p) for p in RULES[layer]):
                            print("%s:%d: %s may not include %s" % (rel, lineno, layer, inc),
                                  file=sys.stderr)
                            bad += 1
    if checked == 0:
        print("check_includes: no includes found under %s" % root, file=sys.stderr)
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
